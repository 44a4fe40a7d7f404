"""The nightly runner: one crawl process per site, run reports in the archive, a verdict for cron."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from demo.portal import DemoPortal, serve
from pipelines.storage import open_store
from tests.conftest import Portal, run_scrapy, write_demo_site

pytestmark = pytest.mark.e2e
FAST = ["-s", "AUTOTHROTTLE_START_DELAY=0.1"]

REPORT_FIELDS = {"site", "started_at", "requests", "new", "changed", "unchanged", "removed", "failed",
                 "blocked", "bytes", "duration", "encoding_rules", "extraction", "verdict"}


def test_broken_site_fails_the_night_and_is_named(demo_portal: Portal, tmp_path: Path) -> None:
    broken = DemoPortal()
    broken.fail_with = 500
    server, base = serve(broken)
    try:
        sites = demo_portal.sites_dir
        write_demo_site(sites, demo_portal.base, **{r"^enabled = false": "enabled = true"})
        (sites / "broken.toml").write_text(
            (sites / "demo.toml").read_text(encoding="utf-8").replace(demo_portal.base, base),
            encoding="utf-8")
        uri = (tmp_path / "archive").as_uri()
        env = {"SITES_DIR": str(sites), "ARCHIVE_URI": uri}
        out = tmp_path / "night.json"
        proc = run_scrapy(["nightly", *FAST, "-s", "RETRY_TIMES=0", "--json", str(out)], env)
    finally:
        server.shutdown()
        server.server_close()
    assert proc.returncode == 1, proc.stdout + proc.stderr[-2000:]
    assert "broken: FAILED: no list page could be read (3 x http_500)" in proc.stdout
    reports = {r["site"]: r for r in json.loads(out.read_text())}
    assert reports.keys() == {"demo", "broken"}
    assert reports["demo"]["verdict"] == "ok" and reports["demo"]["new"] == 21
    assert reports["broken"]["verdict"] == "failed" and reports["broken"]["failed"] == 3
    # Both reports are in the archive under runs/<site>/, with at least the documented fields.
    store = open_store(uri)
    for site in ("demo", "broken"):
        keys = list(store.list(f"runs/{site}/"))
        assert len(keys) == 1
        stored = json.loads(store.get(keys[0]))
        assert REPORT_FIELDS <= stored.keys()
        assert stored["site"] == site
    assert json.loads(store.get(next(store.list("runs/broken/"))))["reasons"] == [
        "no list page could be read (3 x http_500)"]


def test_a_site_that_stops_listing_articles_fails_against_its_history(
        demo_portal: Portal, tmp_path: Path) -> None:
    uri = (tmp_path / "archive").as_uri()
    env = {"SITES_DIR": str(demo_portal.sites_dir), "ARCHIVE_URI": uri}
    assert run_scrapy(["nightly", *FAST, "--site", "demo"], env).returncode == 0
    # The portal is redesigned: its list pages no longer match [article].url_pattern.
    write_demo_site(demo_portal.sites_dir, demo_portal.base,
                    **{r"^url_pattern = .*$": "url_pattern = '/nothing-matches/'"})
    # (Slow: crawler/browser.py renders each list page with no article link in Chromium first.)
    proc = run_scrapy(["nightly", *FAST, "--site", "demo"], env)
    assert proc.returncode == 1
    assert "demo: EMPTY: no article link on the list pages; the last 1 runs found 21" in proc.stdout


def test_a_crawl_over_budget_is_stopped_and_reported(tmp_path: Path) -> None:
    slow = DemoPortal()
    slow.delay = 0.5  # type: ignore[attr-defined]  (the slow-portal mode; absent → test still bounded)
    server, base = serve(slow)
    try:
        sites = tmp_path / "sites"
        write_demo_site(sites, base)
        uri = (tmp_path / "archive").as_uri()
        out = tmp_path / "night.json"
        proc = run_scrapy(["nightly", "--site", "demo", "--budget", "1", "--json", str(out)],
                          {"SITES_DIR": str(sites), "ARCHIVE_URI": uri})
    finally:
        server.shutdown()
        server.server_close()
    report = json.loads(out.read_text())[0]
    assert report["finish_reason"] == "closespider_timeout", proc.stdout
    assert report["verdict"] in ("partial", "failed")
    assert report["new"] < 21


def test_nightly_refuses_unknown_sites(demo_portal: Portal, tmp_path: Path) -> None:
    proc = run_scrapy(["nightly", "--site", "nosuch"],
                      {"SITES_DIR": str(demo_portal.sites_dir), "ARCHIVE_URI": tmp_path.as_uri()})
    assert proc.returncode == 2 and "unknown site(s): nosuch" in proc.stderr


def test_sites_check_shows_what_the_spider_would_follow(demo_portal: Portal) -> None:
    proc = run_scrapy(["sites", "check", "demo"], {"SITES_DIR": str(demo_portal.sites_dir)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("3 article link(s) match") == 3
    assert f"next page (auto): {demo_portal.url('/yw/index_1.html')}" in proc.stdout
    assert "title:     市政府召开第三十二次常务会议" in proc.stdout
    assert "decoded as gb18030 (meta)" in proc.stdout
    assert "demo: looks usable" in proc.stdout


@pytest.mark.live
@pytest.mark.parametrize("slug", ["ankang", "xiaolan"])
def test_sites_check_live(slug: str) -> None:
    proc = run_scrapy(["sites", "check", slug], timeout=300)
    print(proc.stdout)
    assert "article link(s) match" in proc.stdout
