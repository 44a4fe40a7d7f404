"""Kill test: a crawl of the demo portal killed with SIGKILL three times at random points, then run to
completion, ends with every article archived exactly once (no duplicate, none missing, no stray WARC).

What makes it hold: the archive stage journals every write in the local spool before it starts
and the next run replays what a killed run left (same keys: idempotent), before it crawls; the
incremental spider does not fetch again an article the archive already lists. A page fetched but
not yet handed to the archive stage when the process died is simply fetched again.

The kill points are random but seeded and bounded: each run is killed once the portal has served it
a random number of requests, plus a random fraction of a second, so that kills land mid-crawl in
every stage (fetching, extracting, writing the WARC, writing the document).
"""
from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from demo.portal import DemoPortal, serve
from pipelines.storage.keys import canonical_url, url_prefix
from tests.conftest import PROJECT, SCRAPY, Portal, run_scrapy, write_demo_site

pytestmark = pytest.mark.e2e

SEED = 20261122
KILLS = 3


@pytest.fixture
def slow_portal(tmp_path: Path) -> Iterator[Portal]:
    portal = DemoPortal(delay=0.05)
    server, base = serve(portal)
    sites_dir = tmp_path / "sites"
    write_demo_site(sites_dir, base)
    yield Portal(portal, base, sites_dir)
    server.shutdown()
    server.server_close()


def _env(portal: Portal, tmp_path: Path) -> dict[str, str]:
    return {"SITES_DIR": str(portal.sites_dir), "ARCHIVE_URI": (tmp_path / "archive").as_uri(),
            "ARCHIVE_SPOOL_DIR": str(tmp_path / "spool")}


ARGS = ["crawl", "portal", "-a", "site=demo", "-s", "DOWNLOAD_DELAY=0.15",
        "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "LOG_LEVEL=INFO"]


def _killed_run(portal: Portal, tmp_path: Path, after_requests: int, then: float, n: int) -> int:
    """Start a crawl, SIGKILL it once the portal served it `after_requests` requests and `then`
    seconds more; returns how many requests it got served."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(_env(portal, tmp_path))
    before = len(portal.portal.requests)
    with open(tmp_path / f"killed-{n}.log", "wb") as log:
        proc = subprocess.Popen([SCRAPY, *ARGS], cwd=PROJECT, env=env, stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + 60
            while len(portal.portal.requests) - before < after_requests and proc.poll() is None \
                    and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(then)
            alive = proc.poll() is None
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)
    assert alive, f"run {n} ended before its kill point (see {tmp_path}/killed-{n}.log)"
    return len(portal.portal.requests) - before


def _archive_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                  if p.is_file() and p.parts[len(root.parts)] == "captures")


def test_three_sigkills_then_a_full_run_archive_every_article_exactly_once(
        slow_portal: Portal, tmp_path: Path) -> None:
    rng = random.Random(SEED)
    served = []
    for n in range(KILLS):
        served.append(_killed_run(slow_portal, tmp_path, rng.randint(3, 12), rng.uniform(0, 0.6), n))
    archive_dir = tmp_path / "archive"
    killed_docs = len([k for k in _archive_files(archive_dir) if k.endswith(".json.gz")])
    left_in_spool = len(list((tmp_path / "spool").rglob("*.rec")))

    final = run_scrapy(ARGS, _env(slow_portal, tmp_path), timeout=120)
    assert final.returncode == 0, final.stderr[-3000:]
    print(f"served before each kill: {served}; captures after the kills: {killed_docs}; "
          f"records left in the spool by the killed runs: {left_in_spool}")

    files = _archive_files(archive_dir)
    docs = [k for k in files if k.endswith(".json.gz")]
    warcs = [k for k in files if k.endswith(".warc.gz")]
    assert sorted(k.replace(".warc.gz", ".json.gz") for k in warcs) == docs, \
        "every raw WARC has its document and every document its WARC"
    per_url = Counter(k.rpartition("/")[0] + "/" for k in docs)
    articles = slow_portal.portal.all_articles()
    expected = {url_prefix(canonical_url(slow_portal.url(a.path))[0]) for a in articles}
    assert set(per_url) == expected, "every article archived, nothing else"
    assert [p for p, n in per_url.items() if n != 1] == [], "no article archived twice"
    assert all("_capture_" in k for k in docs)
    assert killed_docs < len(articles), "the kills landed before the crawl was done"
    assert list((tmp_path / "spool").rglob("*.rec")) == [], "the spool is empty after the full run"
