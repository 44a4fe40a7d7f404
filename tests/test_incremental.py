"""Incremental nightly crawls of the demo portal: a repeat run fetches list first pages only and
archives nothing; a re-check after changes finds exactly the changed and removed articles."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from demo.portal import DemoPortal, serve
from pipelines.storage import open_store
from pipelines.storage.archive import Archive
from pipelines.storage.index import SiteIndex, index_key, url_date
from tests.conftest import S3, Portal, crawl, run_scrapy, write_demo_site

pytestmark = pytest.mark.e2e
# The demo portal is local: no need for AutoThrottle's polite 1 s start.
FAST = {"AUTOTHROTTLE_START_DELAY": "0.1"}


def _kinds(archive: Archive, demo: Portal) -> dict[str, list[str]]:
    """Per article path, the kinds of its records, oldest first."""
    return {a.path: [c.kind for c in reversed(archive.captures(demo.url(a.path)))]
            for a in demo.portal.all_articles()}


def _nightly(demo: Portal, uri: str, env: dict[str, str] | None = None,
             settings: dict[str, str] | None = None) -> tuple[dict[str, object], int]:
    before = len(demo.portal.requests)
    args = ["nightly", "--site", "demo"]
    for key, value in {**FAST, **(settings or {})}.items():
        args[1:1] = ["-s", f"{key}={value}"]
    out = Path(demo.sites_dir.parent) / f"night-{before}.json"
    proc = run_scrapy([*args, "--json", str(out)],
                      {"SITES_DIR": str(demo.sites_dir), "ARCHIVE_URI": uri, **(env or {})})
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    return json.loads(out.read_text())[0], len(demo.portal.requests) - before


def test_second_nightly_run_fetches_list_first_pages_only(demo_portal: Portal, tmp_path: Path) -> None:
    uri = (tmp_path / "archive").as_uri()
    first, served1 = _nightly(demo_portal, uri)
    second, served2 = _nightly(demo_portal, uri)
    n = len(demo_portal.portal.all_articles())
    # robots.txt, 9 list pages, 21 articles, the 2 files two notices link to (issue 4)
    assert (first["new"], first["requests"], served1) == (n, 33, 33)
    # robots.txt + the first list page of each of the 3 columns; nothing archived again.
    assert (second["requests"], served2) == (4, 4)
    assert second["new"] == second["changed"] == second["unchanged"] == second["removed"] == 0
    assert demo_portal.portal.requests[-3:] and all(
        p.endswith("/index.html") for p in demo_portal.portal.requests[-3:])
    archive = Archive(open_store(uri))
    assert all(kinds == ["capture"] for kinds in _kinds(archive, demo_portal).values())
    print(f"\nrequests: first run {first['requests']}, second run {second['requests']} "
          f"({second['requests'] / first['requests']:.1%})")


def test_demo_sized_portal_second_night_is_under_5_percent(tmp_path: Path) -> None:
    """The portal `make demo` serves (90 articles, 10 per list page): run 2 issues ≤ 5% of run 1."""
    portal = DemoPortal(per_column=30, per_page=10)
    server, base = serve(portal)
    try:
        demo = Portal(portal, base, tmp_path / "sites")
        write_demo_site(demo.sites_dir, base)
        uri = (tmp_path / "archive").as_uri()
        first, _ = _nightly(demo, uri)
        second, _ = _nightly(demo, uri)
    finally:
        server.shutdown()
        server.server_close()
    # robots + 9 list pages + 90 articles + 2 attachments
    assert first["new"] == 90 and first["requests"] == 102
    assert second["new"] == second["changed"] == 0
    assert second["requests"] <= 0.05 * first["requests"]
    print(f"\nrequests: first run {first['requests']}, second run {second['requests']} "
          f"({second['requests'] / first['requests']:.1%})")


def test_recheck_finds_three_changes_and_one_removal(demo_portal: Portal, tmp_path: Path) -> None:
    uri = (tmp_path / "archive").as_uri()
    _nightly(demo_portal, uri)
    portal = demo_portal.portal
    changed = [portal.articles["yw"][0], portal.articles["gzdt"][3], portal.articles["tzgg"][6]]
    removed = portal.articles["gzdt"][1]
    for article in changed:
        portal.change(article, "根据群众反映，本文补充说明如下。")
    portal.remove(removed)
    # Everything is due: re-check every article archived, whatever its age.
    night, _ = _nightly(demo_portal, uri, settings={"RECHECK_EVERY_DAYS": "0", "RECHECK_DAYS": "3650"})
    n = len(portal.all_articles())
    assert (night["new"], night["changed"], night["removed"], night["unchanged"]) == (0, 3, 1, n - 4)
    archive = Archive(open_store(uri))
    kinds = _kinds(archive, demo_portal)
    for article in changed:
        assert kinds[article.path] == ["capture", "capture"]
        doc = archive.document(archive.pick(demo_portal.url(article.path)))
        assert "本文补充说明" in doc["text"]
    assert kinds[removed.path] == ["capture", "removed"]
    assert archive.document(archive.pick(demo_portal.url(removed.path)))["status"] == 404
    others = [a for a in portal.all_articles() if a not in changed and a is not removed]
    assert all(kinds[a.path] == ["capture", "revisit"] for a in others)
    # A revisit reads back as the content it refers to (text and the raw bytes served).
    url = demo_portal.url(others[0].path)
    latest = archive.pick(url)
    assert latest.kind == "revisit"
    assert archive.document(latest)["text"] == archive.document(archive.captures(url)[1])["text"]
    assert archive.raw_response(latest)[2] == portal.respond(others[0].path)[2]
    # The next night re-checks nothing (just checked) and archives nothing.
    again, served = _nightly(demo_portal, uri)
    assert (again["changed"], again["unchanged"], again["removed"], served) == (0, 0, 0, 4)


def test_index_is_rebuilt_from_the_captures_when_missing(demo_portal: Portal, tmp_path: Path) -> None:
    uri = (tmp_path / "archive").as_uri()
    assert crawl("demo", demo_portal.sites_dir, uri, tmp_path).returncode == 0
    store = open_store(uri)
    saved = json.loads(gzip.decompress(store.get(index_key("demo"))))
    assert len(saved["entries"]) == len(demo_portal.portal.all_articles())
    (tmp_path / "archive" / index_key("demo")).unlink()
    result = crawl("demo", demo_portal.sites_dir, uri, tmp_path)
    assert result.returncode == 0 and result.summary is not None
    assert (result.summary["requests"], result.summary["new"]) == (4, 0)
    rebuilt = json.loads(gzip.decompress(store.get(index_key("demo"))))
    assert rebuilt["entries"].keys() == saved["entries"].keys()


def test_stale_index_is_checked_against_the_archive(demo_portal: Portal, tmp_path: Path) -> None:
    """An index that misses captures (a run killed before it saved) does not cause re-captures."""
    uri = (tmp_path / "archive").as_uri()
    assert crawl("demo", demo_portal.sites_dir, uri, tmp_path).returncode == 0
    store = open_store(uri)
    data = json.loads(gzip.decompress(store.get(index_key("demo"))))
    data["entries"] = dict(list(data["entries"].items())[:5])
    store.put(index_key("demo"), gzip.compress(json.dumps(data).encode()))
    result = crawl("demo", demo_portal.sites_dir, uri, tmp_path)
    assert result.summary is not None and (result.summary["new"], result.summary["requests"]) == (0, 4)
    archive = Archive(store)
    assert all(kinds == ["capture"] for kinds in _kinds(archive, demo_portal).values())


@pytest.mark.s3
def test_incremental_runs_on_s3(demo_portal: Portal, s3: S3, tmp_path: Path) -> None:
    first, _ = _nightly(demo_portal, s3.uri(), env=s3.env())
    second, served = _nightly(demo_portal, s3.uri(), env=s3.env())
    assert (first["new"], second["new"], second["requests"], served) == (21, 0, 4, 4)
    store = open_store(s3.uri(), endpoint_url=s3.endpoint)
    assert len([k for k in store.list("runs/demo/")]) == 2
    assert store.exists(index_key("demo"))


def test_conditional_get_sends_validators(demo_portal: Portal, tmp_path: Path) -> None:
    uri = (tmp_path / "archive").as_uri()
    assert crawl("demo", demo_portal.sites_dir, uri, tmp_path).returncode == 0
    index = SiteIndex.load(Archive(open_store(uri)), "demo", [demo_portal.url("/yw/index.html")])
    entry = index.get(demo_portal.url(demo_portal.portal.articles["yw"][0].path))
    assert entry and entry["etag"] and entry["last_modified"] and entry["published"] == "2026-11-20"
    assert entry["fingerprint"] and entry["kind"] == "capture"


@pytest.mark.parametrize(("url", "day"), [
    ("http://x.gov.cn/yw/202611/t20261120_1000.html", "2026-11-20"),
    ("http://x.gov.cn/art/2026/11/20/art_1_2.html", None),
    ("http://x.gov.cn/zwgk/2025-03-07/123.html", "2025-03-07"),
    ("http://x.gov.cn/xxgk/202503/abc.html", "2025-03-01"),
    ("http://x.gov.cn/news/123.html", None),
])
def test_url_date(url: str, day: str | None) -> None:
    found = url_date(url)
    assert (found.isoformat() if found else None) == day


def test_recrawl_rejects_bad_dates(demo_portal: Portal, tmp_path: Path) -> None:
    env = {"SITES_DIR": str(demo_portal.sites_dir), "ARCHIVE_URI": (tmp_path / "a").as_uri()}
    proc = run_scrapy(["recrawl", "demo", "--since", "yesterday"], env)
    assert proc.returncode != 0 and "not a date" in proc.stderr
    assert demo_portal.portal.requests == []
