"""Kill test: a crawl of the demo portal killed with SIGKILL three times at random points, then run to
completion, ends with every article archived exactly once (no duplicate, none missing, no stray WARC).

What makes it hold: the archive stage journals every write in the local spool before it starts
and the next run replays what a killed run left (same keys: idempotent), before it crawls; the
incremental spider does not fetch again an article the archive already lists. A page fetched but
not yet handed to the archive stage when the process died is simply fetched again.

The kill points are random but seeded and bounded: each run is killed once it has archived a random
number of captures (1-3), plus a random fraction of a second, so that kills land mid-crawl with pages
in every stage (being fetched, extracted, their WARC or document being written).
"""
from __future__ import annotations

import random
import re
import signal
import time
from collections import Counter
from pathlib import Path

import pytest

from pipelines.storage.keys import canonical_url, url_prefix
from tests.conftest import Portal, run_scrapy, scrapy_in_background

pytestmark = pytest.mark.e2e

SEED = 20261122
KILLS = 3
ARTICLE = re.compile(r"/t\d{8}_\d+\.html$")


def _env(portal: Portal, tmp_path: Path) -> dict[str, str]:
    return {"SITES_DIR": str(portal.sites_dir), "ARCHIVE_URI": (tmp_path / "archive").as_uri(),
            "ARCHIVE_SPOOL_DIR": str(tmp_path / "spool")}


ARGS = ["crawl", "portal", "-a", "site=demo", "-s", "DOWNLOAD_DELAY=0.4",
        "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "LOG_LEVEL=INFO"]


def _articles_served(portal: Portal, since: int) -> int:
    return len([p for p in portal.portal.requests[since:] if ARTICLE.search(p)])


def _documents(tmp_path: Path) -> int:
    return len(list((tmp_path / "archive" / "captures").rglob("*.json.gz")))


def _writing(tmp_path: Path) -> bool:
    """A spool record exists: an archive write is under way right now."""
    return any((tmp_path / "spool").rglob("*.rec"))


def _killed_run(portal: Portal, tmp_path: Path, after_captures: int, then: float, n: int,
                mid_write: bool = False) -> tuple[int, int]:
    """Start a crawl, SIGKILL it once it archived `after_captures` captures and `then` seconds
    more (pages are being fetched, extracted and written meanwhile), or with `mid_write` as soon
    as it is seen writing once it archived one. Returns the article pages the portal served it and
    the spool records it left (writes it had not finished)."""
    before = len(portal.portal.requests)
    archived = _documents(tmp_path)
    with scrapy_in_background(ARGS, _env(portal, tmp_path), tmp_path / f"killed-{n}.log") as proc:
        deadline = time.monotonic() + 60

        def due() -> bool:
            done = _documents(tmp_path) - archived
            if mid_write:  # caught writing; else give up waiting a little later
                return (done >= 1 and _writing(tmp_path)) or done >= after_captures + 3
            return done >= after_captures

        while not due() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002 if mid_write else 0.01)
        if not mid_write:
            time.sleep(then)
        alive = proc.poll() is None
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert alive, f"run {n} ended before its kill point (see {tmp_path}/killed-{n}.log)"
    return _articles_served(portal, before), len(list((tmp_path / "spool").rglob("*.rec")))


def _archive_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                  if p.is_file() and p.parts[len(root.parts)] == "captures")


def test_three_sigkills_then_a_full_run_archive_every_article_exactly_once(
        slow_portal: Portal, tmp_path: Path) -> None:
    rng = random.Random(SEED)
    served = []
    for n in range(KILLS):
        # 1-3 captures, then up to 0.4 s (one more fetch at most): three kills leave work.
        served.append(_killed_run(slow_portal, tmp_path, rng.randint(1, 3), rng.uniform(0, 0.4), n,
                                  mid_write=n == 1))
    archive_dir = tmp_path / "archive"
    killed_docs = len([k for k in _archive_files(archive_dir) if k.endswith(".json.gz")])

    final = run_scrapy(ARGS, _env(slow_portal, tmp_path), timeout=120)
    assert final.returncode == 0, final.stderr[-3000:]
    print(f"(article pages served, spool records left) per killed run: {served}; "
          f"captures after the kills: {killed_docs}")

    files = _archive_files(archive_dir)
    docs = [k for k in files if k.endswith(".json.gz")]
    warcs = [k for k in files if k.endswith(".warc.gz")]
    assert sorted(k.replace(".warc.gz", ".json.gz") for k in warcs) == docs, \
        "every raw WARC has its document and every document its WARC"
    per_url = Counter(k.rpartition("/")[0] + "/" for k in docs)
    articles = slow_portal.portal.all_articles()
    expected = {url_prefix(canonical_url(slow_portal.url(a.path))[0]) for a in articles}
    # and the files the demo's notices link to (issue 4), each archived once too
    files = {url_prefix(canonical_url(slow_portal.url(path))[0]) for path in slow_portal.portal.files}
    assert set(per_url) == expected | files, "every article and attachment archived, nothing else"
    assert [p for p, n in per_url.items() if n != 1] == [], "no article or attachment archived twice"
    assert all(("_attachment_" if k.rpartition("/")[0] + "/" in files else "_capture_") in k
               for k in docs)
    assert 0 < killed_docs < len(articles), "the kills landed mid-crawl"
    assert list((tmp_path / "spool").rglob("*.rec")) == [], "the spool is empty after the full run"
