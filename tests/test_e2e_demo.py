"""End to end: crawl the demo portal into both backends, get every article back by its URL."""
from __future__ import annotations

import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from demo.content import COLUMNS
from pipelines.storage import open_store
from pipelines.storage.archive import Archive
from pipelines.storage.warc import read_response
from tests.conftest import PROJECT, S3, Portal, crawl, run_scrapy

pytestmark = pytest.mark.e2e

# Characters that only appear when Chinese text went through the wrong codec.
MOJIBAKE = re.compile(r"[\ufffd\u00c0-\u00ff\u0100-\u024f\u2500-\u257f\u3105-\u312f\ue000-\uf8ff]")


def _norm(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def _check_archive(archive: Archive, demo: Portal) -> None:
    for article in demo.portal.all_articles():
        url = demo.url(article.path)
        captures = archive.captures(url)
        assert len(captures) == 1, url
        doc = archive.document(captures[0])
        assert doc["title"] == article.title
        assert (doc["source"], doc["editor"], doc["column"]) == (article.source, article.editor,
                                                                dict((c[0], c[1]) for c in COLUMNS)[article.column])
        assert doc["published_at"] == article.published.strftime("%Y-%m-%dT%H:%M:00+08:00")
        assert _norm(doc["text"]) == _norm(article.body_text), url
        assert not MOJIBAKE.search(doc["text"] + doc["title"]), url
        status, _headers, body = archive.raw_response(captures[0])
        served = demo.portal.respond(article.path)
        assert (status, body) == (200, served[2]), "raw bytes are archived exactly as served"
        assert doc["encoding"]["encoding"] in ("utf-8", "gb18030")


def test_crawl_demo_into_local_folder(demo_portal: Portal, tmp_path: Path) -> None:
    uri = (tmp_path / "archive").as_uri()
    result = crawl("demo", demo_portal.sites_dir, uri, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.summary is not None
    n = len(demo_portal.portal.all_articles())
    assert (result.summary["articles_fetched"], result.summary["archived"]) == (n, n)
    assert result.summary["list_pages"] == 9
    assert result.summary["encoding_rules"].keys() >= {"utf-8", "header", "meta"}
    _check_archive(Archive(open_store(uri)), demo_portal)

    # The CLI gets a page back by URL, and says so plainly when a URL was never archived.
    article = demo_portal.portal.articles["tzgg"][0]
    got = run_scrapy(["archive", "get", demo_portal.url(article.path)], {"ARCHIVE_URI": uri})
    assert got.returncode == 0, got.stderr
    assert article.title in got.stdout and article.paragraphs[0] in got.stdout
    raw = run_scrapy(["archive", "get", demo_portal.url(article.path), "--format", "raw"],
                     {"ARCHIVE_URI": uri}, text=False)
    assert raw.returncode == 0 and raw.stdout == demo_portal.portal.respond(article.path)[2]
    missing = run_scrapy(["archive", "get", demo_portal.url("/yw/none.html")], {"ARCHIVE_URI": uri})
    assert missing.returncode == 1 and "not archived" in missing.stderr


@pytest.mark.s3
def test_debug_log_level_still_logs_every_page(demo_portal: Portal, tmp_path: Path) -> None:
    # `scrapy crawl` raises the loggers to the lowest level a handler wants (crawler/commands/
    # crawl.py): at LOG_LEVEL=DEBUG that is DEBUG, so the per-page debug lines are all there.
    result = crawl("demo", demo_portal.sites_dir, (tmp_path / "archive").as_uri(), tmp_path,
                   settings={"LOG_LEVEL": "DEBUG"})
    assert result.returncode == 0, result.stderr[-3000:]
    n = len(demo_portal.portal.all_articles())
    assert len(re.findall(r"\[pipelines\.archive\] DEBUG: archived ", result.stderr)) == n
    assert len(re.findall(r"\[scrapy\.core\.scraper\] DEBUG: Scraped from <200 ", result.stderr)) == n
    assert "[scrapy.core.engine] DEBUG: Crawled (200)" in result.stderr


@pytest.mark.parametrize(("level", "debug_handler", "debug_enabled"), [
    ("INFO", False, False), ("DEBUG", False, True), ("INFO", True, True)])
def test_loggers_refuse_only_records_no_handler_wants(level: str, debug_handler: bool,
                                                      debug_enabled: bool) -> None:
    # In a fresh process, as `scrapy crawl` does it: Scrapy's logging, then the floor.
    code = "\n".join([
        "import logging, sys",
        "from scrapy.utils.log import configure_logging",
        "from crawler.commands.crawl import refuse_unseen_records",
        f"configure_logging({{'LOG_LEVEL': {level!r}}})",
        *(["logging.getLogger('crawler').addHandler(logging.StreamHandler(sys.stdout))"]
          if debug_handler else []),
        f"refuse_unseen_records({level!r})",
        "for name in ('scrapy.core.engine', 'pipelines.archive', 'crawler.multipage'):",
        "    print(name, logging.getLogger(name).isEnabledFor(logging.DEBUG),",
        "          logging.getLogger(name).isEnabledFor(logging.INFO))",
    ])
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT, capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == [w for name in ("scrapy.core.engine", "pipelines.archive", "crawler.multipage")
                   for w in (name, str(debug_enabled), "True")]


def test_crawl_demo_into_s3(demo_portal: Portal, s3: S3, tmp_path: Path) -> None:
    result = crawl("demo", demo_portal.sites_dir, s3.uri(), tmp_path, extra_env=s3.env())
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.summary and result.summary["archived"] == len(demo_portal.portal.all_articles())
    archive = Archive(open_store(s3.uri(), endpoint_url=s3.endpoint))
    _check_archive(archive, demo_portal)
    listed = run_scrapy(["archive", "list", demo_portal.url("/gzdt/"), "--prefix"],
                        {"ARCHIVE_URI": s3.uri(), **s3.env()})
    assert listed.returncode == 0, listed.stderr
    assert len(listed.stdout.splitlines()) == len(demo_portal.portal.articles["gzdt"])


def test_unreachable_archive_stops_before_any_request(demo_portal: Portal, tmp_path: Path) -> None:
    env = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_ACCESS_KEY_ID": "x",
           "AWS_SECRET_ACCESS_KEY": "y"}
    result = crawl("demo", demo_portal.sites_dir, "s3://bucket/arch", tmp_path, extra_env=env)
    assert result.returncode == 1
    assert "crawl not started: cannot reach" in result.stderr
    assert demo_portal.portal.requests == []


@pytest.mark.parametrize("level", ["12", "x"])
def test_a_bad_warc_gzip_level_stops_before_any_request(demo_portal: Portal, tmp_path: Path,
                                                        level: str) -> None:
    result = crawl("demo", demo_portal.sites_dir, (tmp_path / "a").as_uri(), tmp_path,
                   settings={"ARCHIVE_WARC_GZIP_LEVEL": level})
    assert result.returncode == 1
    assert f"crawl not started: ARCHIVE_WARC_GZIP_LEVEL must be a zlib level, 0 to 9, not '{level}'" \
        in result.stderr
    assert demo_portal.portal.requests == []


@pytest.mark.parametrize(("name", "value", "says"), [
    ("ARCHIVE_WRITE_INLINE", "sometimes", "must be auto, true or false"),
    ("EXTRACT_NICE", "25", "must be a niceness to add, 0 to 19"),
])
def test_a_bad_write_or_worker_setting_stops_before_any_request(
        demo_portal: Portal, tmp_path: Path, name: str, value: str, says: str) -> None:
    result = crawl("demo", demo_portal.sites_dir, (tmp_path / "a").as_uri(), tmp_path,
                   settings={name: value})
    assert result.returncode == 1
    assert f"crawl not started: {name} {says}, not '{value}'" in result.stderr
    assert demo_portal.portal.requests == []


def test_raw_warc_is_readable_by_warcio(demo_portal: Portal, tmp_path: Path) -> None:
    uri = (tmp_path / "a").as_uri()
    assert crawl("demo", demo_portal.sites_dir, uri, tmp_path).returncode == 0
    archive = Archive(open_store(uri))
    url = demo_portal.url(demo_portal.portal.articles["gzdt"][1].path)
    status, headers, body = read_response(archive.raw_warc(archive.pick(url)))
    assert status == 200
    assert ("Content-Type", "text/html; charset=GBK") in headers
    assert body.decode("gbk").count("<p>\u3000\u3000") == 3
