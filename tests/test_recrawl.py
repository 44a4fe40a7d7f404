"""`scrapy recrawl`: re-walk a site's history or a date range and re-capture only what changed."""
from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.storage import open_store
from pipelines.storage.archive import Archive
from tests.conftest import Portal, crawl, run_scrapy

pytestmark = pytest.mark.e2e
FAST = ["-s", "AUTOTHROTTLE_START_DELAY=0.1"]


def test_recrawl_since_recaptures_only_that_range(demo_portal: Portal, tmp_path: Path) -> None:
    uri = (tmp_path / "archive").as_uri()
    env = {"SITES_DIR": str(demo_portal.sites_dir), "ARCHIVE_URI": uri}
    assert crawl("demo", demo_portal.sites_dir, uri, tmp_path).returncode == 0
    portal = demo_portal.portal
    # Articles dated 2026-11-14 … 2026-11-20 in each column; change one inside the range, one outside.
    inside, outside = portal.articles["yw"][1], portal.articles["gzdt"][5]
    assert inside.published.date().isoformat() == "2026-11-19"
    assert outside.published.date().isoformat() == "2026-11-15"
    for article in (inside, outside):
        portal.change(article, "更正：本文第二段数据有误，现予更正。")
    before = len(portal.requests)
    proc = run_scrapy(["recrawl", *FAST, "demo", "--since", "2026-11-18"], env)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    assert ("9 articles checked: 0 new, 1 changed, 8 unchanged, 0 removed, 0 failed" in proc.stdout)
    fetched = {p for p in portal.requests[before:] if "/t2026" in p}
    in_range = {a.path for a in portal.all_articles() if a.published.date().isoformat() >= "2026-11-18"}
    assert fetched == in_range
    archive = Archive(open_store(uri))
    assert [c.kind for c in archive.captures(demo_portal.url(inside.path))] == ["capture", "capture"]
    assert [c.kind for c in archive.captures(demo_portal.url(outside.path))] == ["capture"]

    # A whole-history recrawl with full fetches then finds the other change, and nothing else.
    proc = run_scrapy(["recrawl", *FAST, "demo", "--full"], env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "21 articles checked: 0 new, 1 changed, 20 unchanged, 0 removed" in proc.stdout
    assert [c.kind for c in archive.captures(demo_portal.url(outside.path))] == ["capture", "capture"]


def test_recrawl_until_and_removed(demo_portal: Portal, tmp_path: Path) -> None:
    uri = (tmp_path / "archive").as_uri()
    env = {"SITES_DIR": str(demo_portal.sites_dir), "ARCHIVE_URI": uri}
    assert crawl("demo", demo_portal.sites_dir, uri, tmp_path).returncode == 0
    gone = demo_portal.portal.articles["tzgg"][6]  # 2026-11-14, on the last list page
    demo_portal.portal.remove(gone)
    proc = run_scrapy(["recrawl", *FAST, "demo", "--until", "2026-11-14"], env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "3 articles checked: 0 new, 0 changed, 2 unchanged, 1 removed" in proc.stdout
    archive = Archive(open_store(uri))
    assert archive.pick(demo_portal.url(gone.path)).kind == "removed"
