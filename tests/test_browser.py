"""Browser pages end to end: real Chromium (Debian's), the challenge portal on 127.0.0.1, crawls as
subprocesses. A JS-built list, a 412 瑞数 and a 521 加速乐 challenge are crawled through; a permanent
block is reported with its kind; no challenge page is ever archived; a plain site starts no browser.
"""
from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from pipelines.storage import open_store
from pipelines.storage.archive import Archive
from pipelines.storage.warc import read_rendered
from tests.challenge_portal import ChallengePortal, serve, site_toml
from tests.conftest import PROJECT, SCRAPY, CrawlResult, Portal, crawl, run_scrapy

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"


@dataclass
class Served:
    portal: ChallengePortal
    base: str


@pytest.fixture
def challenge_portal() -> Iterator[Served]:
    portal = ChallengePortal(per_column=4, per_page=3)
    server, base = serve(portal)
    yield Served(portal, base)
    server.shutdown()
    server.server_close()


def _stats(result: CrawlResult) -> dict[str, int]:
    """The integer stats Scrapy dumps at the end of the crawl log."""
    dump = result.stderr.rpartition("Dumping Scrapy stats:")[2]
    return {k: int(v) for k, v in re.findall(r"'([\w/.\-]+)': (\d+)[,}]", dump)}


def _write_site(tmp_path: Path, text: str, slug: str = "challenges") -> Path:
    sites = tmp_path / "sites"
    sites.mkdir(exist_ok=True)
    (sites / f"{slug}.toml").write_text(text, encoding="utf-8")
    return sites


def _need_chromium() -> None:
    if not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed (make test installs it as root)")


FAST = {"BROWSER_CHALLENGE_TIMEOUT": "4", "BROWSER_LIST_WAIT": "3", "LOG_LEVEL": "INFO",
        "ROBOTSTXT_OBEY": "False"}


def test_challenges_and_js_lists_are_crawled_through_and_blocks_reported(
        challenge_portal: Served, tmp_path: Path) -> None:
    _need_chromium()
    portal, base = challenge_portal.portal, challenge_portal.base
    sites = _write_site(tmp_path, site_toml(base))
    uri = (tmp_path / "archive").as_uri()
    result = crawl("challenges", sites, uri, tmp_path, settings=FAST)
    assert result.returncode == 0, result.stderr[-4000:]
    stats = _stats(result)
    archive = Archive(open_store(uri))

    # Every article behind the JS list, the 412 and the 521 is archived, right.
    expected = [a for c in ("js", "rs", "jsl") for a in portal.articles[c]]
    for article in expected:
        captures = archive.captures(base + article.path)
        assert len(captures) == 1, article.path
        doc = archive.document(captures[0])
        assert doc["title"] == article.title, article.path
        assert all(p in doc["text"] for p in article.paragraphs), article.path
        assert doc["status"] == 200
    # Nothing else is archived: no challenge page, nothing from the blocked column.
    listed = list(archive.captures_by_prefix(base + "/"))
    assert len(listed) == len(expected)
    for _prefix, capture in listed:
        warc = archive.raw_warc(capture)
        assert b"$_ts" not in warc and b"__jsl_clearance" not in warc
        assert archive.document(capture)["status"] == 200

    # Browser captures are archived honestly: the server's bytes of the main document as the
    # response record, the DOM as a conversion record referring to it. The 412 column is GBK:
    # Chromium's own `response.body()` would be the page re-encoded as UTF-8, so the bytes are
    # captured as the browser fetches them (a route) and must be exactly what the server sent.
    for column in ("rs", "jsl"):
        for article in portal.articles[column]:
            capture = archive.captures(base + article.path)[0]
            doc = archive.document(capture)
            assert doc["rendered"]["server_body"] is True, article.path
            assert doc["rendered"]["by"].startswith("Chromium")
            status, headers, body = archive.raw_response(capture)
            assert (status, body) == (200, portal.served(article)), "server bytes, not the DOM"
            assert ("Content-Type", f"text/html; charset={article.encoding}") in [
                (k.title(), v) for k, v in headers]
            warc = archive.raw_warc(capture)
            records = list(ArchiveIterator(io.BytesIO(warc)))
            assert [r.rec_type for r in records] == ["response", "request", "conversion"]
            assert records[2].rec_headers.get_header("WARC-Refers-To") == \
                records[0].rec_headers.get_header("WARC-Record-ID")
            assert records[2].rec_headers.get_header("X-Govarchive-Capture") == \
                "browser-rendered-dom"
            dom = read_rendered(warc)
            assert dom is not None and article.title.encode(article.encoding) in dom
    rs_bytes = portal.served(portal.articles["rs"][0])
    assert rs_bytes.decode("gbk").encode("utf-8") != rs_bytes, "the GBK page is not UTF-8-clean"
    raw = run_scrapy(["archive", "get", base + portal.articles["rs"][0].path, "--format", "raw"],
                     {"ARCHIVE_URI": uri}, text=False)
    assert raw.returncode == 0 and raw.stdout == rs_bytes, raw.stderr[-2000:]
    assert stats.get("browser/raw_body/missing", 0) == 0, stats

    # Challenges counted by kind; the permanent block reported as blocked, with its kind.
    assert stats.get("browser/challenge/ruishu", 0) >= 2
    assert stats.get("browser/challenge/jsl", 0) >= 1 or stats.get("browser/passed/sticky", 0) >= 1
    assert stats.get("blocked/ruishu") == 1, stats
    assert not {k for k in stats if k.startswith("blocked/") and k != "blocked/ruishu"}
    assert f"blocked by ruishu after the browser retry: 1 request(s), e.g. {base}/wall/index.html" \
        in result.stderr
    # Pages were closed as they went.
    assert stats["browser/pages"] == stats["playwright/page_count"]
    assert stats.get("playwright/page_count/closed", 0) + stats["browser/pages"] >= \
        stats["playwright/page_count"]


def test_js_list_alone_goes_through_the_browser_for_its_list_only(
        challenge_portal: Served, tmp_path: Path) -> None:
    _need_chromium()
    portal, base = challenge_portal.portal, challenge_portal.base
    sites = _write_site(tmp_path, site_toml(base, columns=["js"]))
    uri = (tmp_path / "archive").as_uri()
    result = crawl("challenges", sites, uri, tmp_path, settings=FAST)
    assert result.returncode == 0, result.stderr[-4000:]
    stats = _stats(result)
    # Recognised by its body (<noscript> asks for JS, no text) before the empty-list check.
    assert stats.get("browser/shell/js_shell", 0) + stats.get("browser/shell/empty_list", 0) == 1
    assert stats["browser/requests"] == 1, "articles are plain HTTP"
    archive = Archive(open_store(uri))
    for article in portal.articles["js"]:
        capture = archive.captures(base + article.path)[0]
        assert "rendered" not in archive.document(capture)
        assert archive.raw_response(capture)[2] == portal.served(article)


def test_render_browser_site_and_context_recycling(challenge_portal: Served, tmp_path: Path) -> None:
    _need_chromium()
    portal, base = challenge_portal.portal, challenge_portal.base
    sites = _write_site(tmp_path, site_toml(base, columns=["jsl"], render="browser"))
    uri = (tmp_path / "archive").as_uri()
    result = crawl("challenges", sites, uri, tmp_path,
                   settings={**FAST, "BROWSER_CONTEXT_MAX_PAGES": "2"})
    assert result.returncode == 0, result.stderr[-4000:]
    stats = _stats(result)
    n = len(portal.articles["jsl"])
    assert stats["browser/requests/render"] == stats["browser/pages"] >= n + 1
    assert stats["browser/contexts/recycled"] >= 1
    assert stats["playwright/context_count/max_concurrent"] == 1, "one context at a time"
    archive = Archive(open_store(uri))
    for article in portal.articles["jsl"]:
        capture = archive.captures(base + article.path)[0]
        doc = archive.document(capture)
        assert doc["rendered"]["reason"] == "render" and doc["title"] == article.title
        assert archive.raw_response(capture)[2] == portal.served(article)


def test_plain_site_never_starts_a_browser(challenge_portal: Served, tmp_path: Path) -> None:
    """A site without render = "browser" that sees no challenge: no Playwright, no Chromium."""
    portal, base = challenge_portal.portal, challenge_portal.base
    sites = _write_site(tmp_path, site_toml(base, columns=["hw"]))
    uri = (tmp_path / "archive").as_uri()
    result = crawl("challenges", sites, uri, tmp_path, settings=FAST)
    assert result.returncode == 0, result.stderr[-4000:]
    stats = _stats(result)
    assert not {k for k in stats if k.startswith(("playwright/", "browser/"))}, stats
    assert "Starting download handler" not in result.stderr
    assert "Launching browser" not in result.stderr
    # …and the Hanweb list was read from dataproxy.jsp directly.
    assert stats["hanweb/dataproxy/requests"] >= 2
    archive = Archive(open_store(uri))
    for article in portal.articles["hw"]:
        assert len(archive.captures(base + article.path)) == 1, article.path
    assert any(m == "POST" and p.startswith("/module/web/jpage/dataproxy.jsp")
               for m, p, _ in portal.log)


def _tree_commands(root: int) -> list[str]:
    """Command lines of every process under `root` (itself included), read from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with suppress(OSError, IndexError, ValueError):
                stat = Path(f"/proc/{entry}/stat").read_text()
                children.setdefault(int(stat.rpartition(")")[2].split()[1]), []).append(int(entry))
    commands, todo = [], [root]
    while todo:
        pid = todo.pop()
        with suppress(OSError):
            commands.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
                            .decode("utf-8", "replace"))
        todo.extend(children.get(pid, []))
    return commands


def test_plain_demo_crawl_starts_no_chromium(demo_portal: Portal, tmp_path: Path) -> None:
    """The demo portal (no render = "browser", no challenge): while it is crawled, no process of the
    crawl's tree is Chromium or Playwright's driver, and no browser/playwright stat is counted.
    (The crawl's other children are the extraction pool's workers.)"""
    summary = tmp_path / "summary.json"
    args = [SCRAPY, "crawl", "portal", "-a", "site=demo", "-s", f"RUN_SUMMARY_FILE={summary}",
            "-s", "LOG_LEVEL=INFO", "-s", "AUTOTHROTTLE_START_DELAY=0.1"]
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PYTEST")},
           "SITES_DIR": str(demo_portal.sites_dir), "ARCHIVE_URI": (tmp_path / "arch").as_uri()}
    seen: set[str] = set()
    with subprocess.Popen(args, cwd=PROJECT, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True) as proc:
        stderr: list[str] = []
        reader = threading.Thread(target=lambda: stderr.extend(proc.stderr or []), daemon=True)
        reader.start()
        try:
            while proc.poll() is None:
                seen.update(_tree_commands(proc.pid))
                time.sleep(0.05)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=60)
            reader.join(timeout=60)
    log = "".join(stderr)
    assert proc.returncode == 0, log[-4000:]
    assert json.loads(summary.read_text())["archived"] > 0
    browsers = [c for c in seen if "chrom" in c.lower() or "playwright" in c.lower()
                or "--type=" in c]
    assert not browsers, browsers
    assert any("scrapy" in c for c in seen), seen
    stats = _stats(CrawlResult(proc.returncode, "", log, None))
    assert stats, "the stats dump is in the log"
    assert not {k for k in stats if k.startswith(("playwright/", "browser/"))}, stats
    assert "Starting download handler" not in log and "first browser request" not in log
