"""Browser pages end to end: real Chromium (Debian's), the challenge portal on 127.0.0.1, crawls as
subprocesses. A JS-built list, a 412 瑞数 and a 521 加速乐 challenge are crawled through; a permanent
block is reported with its kind; no challenge page is ever archived; a plain site starts no browser.
"""
from __future__ import annotations

import io
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from pipelines.storage import open_store
from pipelines.storage.archive import Archive
from pipelines.storage.warc import read_rendered
from tests.challenge_portal import ChallengePortal, serve, site_toml
from tests.conftest import CrawlResult, crawl

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

    # Browser captures are archived honestly: the server's bytes as the response record, the DOM
    # as a conversion record referring to it.
    # The 412 column is GBK: Chromium re-encodes text documents as UTF-8, so its "body" is not the
    # server's bytes and is not stored as such; the DOM is a resource record, marked.
    rs_article = portal.articles["rs"][0]
    capture = archive.captures(base + rs_article.path)[0]
    doc = archive.document(capture)
    assert doc["rendered"]["server_body"] is False
    assert doc["rendered"]["by"].startswith("Chromium")
    records = list(ArchiveIterator(io.BytesIO(archive.raw_warc(capture))))
    assert [r.rec_type for r in records] == ["request", "resource"]
    assert records[1].rec_headers.get_header("X-Govarchive-Capture") == "browser-rendered-dom"
    assert records[1].rec_headers.get_header("WARC-Concurrent-To") == \
        records[0].rec_headers.get_header("WARC-Record-ID")
    dom = read_rendered(archive.raw_warc(capture))
    assert dom is not None and rs_article.title.encode("gbk") in dom
    # The 521 column is UTF-8: the server's bytes are the response record, the DOM a conversion.
    jsl_article = portal.articles["jsl"][0]
    capture = archive.captures(base + jsl_article.path)[0]
    if "rendered" in archive.document(capture):
        status, _headers, body = archive.raw_response(capture)
        assert (status, body) == (200, portal.served(jsl_article)), "server bytes, not the DOM"
        records = list(ArchiveIterator(io.BytesIO(archive.raw_warc(capture))))
        assert [r.rec_type for r in records] == ["response", "request", "conversion"]
        assert records[2].rec_headers.get_header("WARC-Refers-To") == \
            records[0].rec_headers.get_header("WARC-Record-ID")

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
    assert stats["playwright/context_count/max_concurrent"] <= 2
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
