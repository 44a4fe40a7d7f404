"""The extraction worker pool (pipelines/extract.py): same documents as in-process, and crash safety.

Crawls of the demo portal run as subprocesses with a pipeline whose page function kills its worker
(or hangs) on one marked page: that page is archived raw with the error, every other page is
archived, the crawl finishes.
"""
from __future__ import annotations

import gzip
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from demo.portal import DemoPortal, serve
from pipelines.extract import ExtractPipeline, PageResult, process_page
from pipelines.storage import open_store
from pipelines.storage.archive import Archive
from tests.conftest import crawl, write_demo_site
from tests.fault_server import article_html

MARKER_ENV = "GOVARCHIVE_TEST_POOL_MARKER"


def crash_on_marker(body: bytes, content_type: str | None, decided: dict[str, Any] | None, url: str,
                    overrides: dict[str, str] | None, exchange: dict[str, Any] | None = None) -> PageResult:
    """process_page, except that the worker dies (as on a segfault) on the marked URL."""
    if url.endswith(os.environ.get(MARKER_ENV, "\0")):
        os._exit(70)
    return process_page(body, content_type, decided, url, overrides, exchange)


def hang_on_marker(body: bytes, content_type: str | None, decided: dict[str, Any] | None, url: str,
                   overrides: dict[str, str] | None, exchange: dict[str, Any] | None = None) -> PageResult:
    """process_page, except that the worker hangs (bounded: 60 s) on the marked URL."""
    if url.endswith(os.environ.get(MARKER_ENV, "\0")):
        time.sleep(60)
    return process_page(body, content_type, decided, url, overrides, exchange)


def slow_everywhere(body: bytes, content_type: str | None, decided: dict[str, Any] | None, url: str,
                    overrides: dict[str, str] | None, exchange: dict[str, Any] | None = None) -> PageResult:
    """process_page, slowly (0.4 s a page): pages queued behind each other in the pool."""
    time.sleep(0.4)
    return process_page(body, content_type, decided, url, overrides, exchange)


def raise_on_marker(body: bytes, content_type: str | None, decided: dict[str, Any] | None, url: str,
                    overrides: dict[str, str] | None, exchange: dict[str, Any] | None = None) -> PageResult:
    """process_page, except that it raises (a bug, or a result the worker cannot send back) on the
    marked URL."""
    if url.endswith(os.environ.get(MARKER_ENV, "\0")):
        raise ValueError("a bug in the page code")
    return process_page(body, content_type, decided, url, overrides, exchange)


class RaisingExtractPipeline(ExtractPipeline):
    page_function = staticmethod(raise_on_marker)


class SlowExtractPipeline(ExtractPipeline):
    page_function = staticmethod(slow_everywhere)


class CrashingExtractPipeline(ExtractPipeline):
    page_function = staticmethod(crash_on_marker)


class HangingExtractPipeline(ExtractPipeline):
    page_function = staticmethod(hang_on_marker)


def _pipelines(extract: str) -> str:
    return json.dumps({"pipelines.encoding.EncodingPipeline": 100, extract: 200,
                       "pipelines.repair.RepairPipeline": 300, "pipelines.archive.ArchivePipeline": 900})


def _documents(root: Path) -> dict[str, dict[str, Any]]:
    out = {}
    for path in (root / "captures").rglob("*.json.gz"):
        doc = json.loads(gzip.decompress(path.read_bytes()))
        if doc["kind"] != "attachment":  # the files the demo's notices link to (issue 4)
            out[doc["url"]] = doc
    return out


def _crawl_demo(tmp_path: Path, name: str, settings: dict[str, str],
                env: dict[str, str] | None = None) -> tuple[DemoPortal, dict[str, dict[str, Any]], Any]:
    portal = DemoPortal(per_column=5, per_page=5)
    server, base = serve(portal)
    try:
        sites = tmp_path / f"sites-{name}"
        write_demo_site(sites, base)
        root = tmp_path / f"archive-{name}"
        result = crawl("demo", sites, root.as_uri(), tmp_path,
                       settings={"AUTOTHROTTLE_ENABLED": "False", **settings}, extra_env=env)
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 0, result.stderr[-3000:]
    docs = {url.split("/", 3)[3]: doc for url, doc in _documents(root).items()}
    return portal, docs, result


# -- the pure function ------------------------------------------------------------------------------
def test_process_page_decodes_extracts_and_repairs() -> None:
    body = article_html(3, "一篇文章").encode("gbk").replace(b"utf-8", b"gbk")
    result = process_page(body, "text/html; charset=gbk", None, "http://127.0.0.1/a/t20261120_1.html", {})
    assert result.decoding["encoding"] in ("gbk", "gb18030") and not result.undecodable
    assert result.document is not None and result.document["title"] == "一篇文章"
    assert "repairs" in result.document and result.failure is None


def test_process_page_never_raises_on_garbage() -> None:
    result = process_page(bytes(range(256)) * 50, "text/html", None, "http://127.0.0.1/x.html", {})
    if result.document is None:
        assert result.failure and result.error
    else:
        assert isinstance(result.document.get("text"), str) and result.failure is None


def test_pipeline_defaults_to_two_workers_and_zero_disables() -> None:
    from scrapy.utils.test import get_crawler

    assert ExtractPipeline.from_crawler(get_crawler()).workers == min(2, os.cpu_count() or 1)
    assert ExtractPipeline.from_crawler(get_crawler(settings_dict={"EXTRACT_WORKERS": 0})).workers == 0


# -- crawls ---------------------------------------------------------------------------------------
@pytest.mark.e2e
def test_pool_and_in_process_archive_the_same_documents(tmp_path: Path) -> None:
    """EXTRACT_WORKERS=2 and EXTRACT_WORKERS=0 archive the same text, title, date and repairs."""
    portal, pooled, result = _crawl_demo(tmp_path, "pool", {"EXTRACT_WORKERS": "2"})
    _, inline, _ = _crawl_demo(tmp_path, "inline", {"EXTRACT_WORKERS": "0"})
    assert len(pooled) == len(portal.all_articles()) == len(inline)
    fields = ("title", "text", "published_at", "encoding", "repairs", "text_simplified", "errors")
    for path, doc in pooled.items():
        assert {f: doc.get(f) for f in fields} == {f: inline[path].get(f) for f in fields}, path
    assert "extraction runs in 2 worker processes" in result.stderr


def _crawl_with_a_marked_page(tmp_path: Path, name: str, pipeline: str, marked: str
                              ) -> tuple[dict[str, Any], Any]:
    """Crawl the demo with `pipeline`, whose page function misbehaves on `marked`: every page is
    archived, the marked one raw (its bytes as served) and without text, every other with its text.
    The marked page's document and the crawl's result."""
    portal, docs, result = _crawl_demo(tmp_path, name, {"ITEM_PIPELINES": _pipelines(pipeline)},
                                       {MARKER_ENV: marked})
    assert len(docs) == len(portal.all_articles())
    doc = docs[marked.lstrip("/")]
    assert doc["text"] is None
    archive = Archive(open_store((tmp_path / f"archive-{name}").as_uri()))
    status, _, body = archive.raw_response(archive.pick(doc["url"]))  # its raw bytes are kept
    assert status == 200 and body == portal.respond(marked)[2]
    for path, other in docs.items():
        assert other["text"] or path == marked.lstrip("/"), path
    return doc, result


@pytest.mark.e2e
def test_worker_crash_archives_the_page_raw_and_loses_nothing(tmp_path: Path) -> None:
    """A worker dying on one page: that page is archived raw with `extract: worker_crashed`, and in
    the ledger; the pool is replaced; every other page is archived with its text (pages caught in the
    broken pool are retried alone in a quarantine worker)."""
    marked = DemoPortal(per_column=5, per_page=5).articles["gzdt"][2].path
    crashed, result = _crawl_with_a_marked_page(tmp_path, "crash", "tests.test_pool.CrashingExtractPipeline",
                                                marked)
    assert any("worker_crashed" in e for e in crashed["errors"])
    assert result.summary and result.summary["failures"].get("extract_worker_crashed") == 1
    assert "worker pool broke" in result.stderr


@pytest.mark.e2e
def test_a_page_function_that_raises_in_a_worker_archives_the_page_raw(tmp_path: Path) -> None:
    """An error raised by the page code in a worker (not a crash): that page is archived raw with
    `extract: worker_error` and the error, and in the ledger; the workers go on with the others."""
    marked = DemoPortal(per_column=5, per_page=5).articles["gzdt"][1].path
    failed, result = _crawl_with_a_marked_page(tmp_path, "raise", "tests.test_pool.RaisingExtractPipeline",
                                               marked)
    assert any("worker_error" in e and "ValueError: a bug in the page code" in e for e in failed["errors"])
    assert result.summary and result.summary["failures"].get("extract_worker_error") == 1
    assert "worker pool broke" not in result.stderr


@pytest.mark.e2e
def test_hung_worker_is_killed_after_the_timeout(tmp_path: Path) -> None:
    """A page that hangs its worker: after EXTRACT_TIMEOUT it is archived raw with `extract: timeout`,
    the worker is killed and replaced, and the crawl finishes with every page archived."""
    marked = DemoPortal(per_column=5, per_page=5).articles["tzgg"][1].path
    portal, docs, result = _crawl_demo(
        tmp_path, "hang", {"ITEM_PIPELINES": _pipelines("tests.test_pool.HangingExtractPipeline"),
                           "EXTRACT_TIMEOUT": "3"}, {MARKER_ENV: marked})
    assert len(docs) == len(portal.all_articles())
    hung = docs[marked.lstrip("/")]
    assert hung["text"] is None and any("timeout" in e for e in hung["errors"])
    assert result.summary and result.summary["failures"].get("extract_timeout") == 1
    for path, doc in docs.items():
        assert doc["text"] or path == marked.lstrip("/"), path


def test_waiting_in_the_pool_queue_does_not_count_towards_the_timeout(tmp_path: Path) -> None:
    """EXTRACT_TIMEOUT is per page in a worker: pages handed over together (EXTRACT_QUEUE) and waiting
    behind one another longer than the timeout, each well within it, are all extracted."""
    portal, docs, result = _crawl_demo(
        tmp_path, "slow", {"ITEM_PIPELINES": _pipelines("tests.test_pool.SlowExtractPipeline"),
                           "EXTRACT_WORKERS": "1", "EXTRACT_QUEUE": "16", "EXTRACT_TIMEOUT": "2"})
    assert len(docs) == len(portal.all_articles()) > 2 * 2 / 0.4  # more than the timeout's worth queued
    assert all(doc["text"] for doc in docs.values())
    assert result.summary and "extract_timeout" not in result.summary["failures"]


def test_a_page_the_worker_decides_again_counts_under_its_final_rule() -> None:
    """The middleware counts its provisional rule; when the worker's strict decode overrules it (a bad
    byte past the sample), the run report's `encoding_rules` count the page under the final rule."""
    import asyncio
    from datetime import UTC, datetime

    from scrapy.utils.test import get_crawler

    from crawler.items import PageCapture
    from pipelines.decoding.charset import decide_encoding
    from tests.encoding_corpus import simplified_sentences

    html = "<html><head><meta charset=\"gbk\"></head><body>" + "".join(
        f"<p>{s}</p>\n" for s in simplified_sentences()[:40]) + "</body></html>"
    body = html.encode("gbk")
    cut = body.rindex(b"</p>")
    body = body[:cut] + b"\xff" + body[cut:]
    provisional = decide_encoding(body, None, provisional=True).as_dict()
    crawler = get_crawler(settings_dict={"EXTRACT_WORKERS": 0})
    assert crawler.stats is not None
    crawler.stats.inc_value(f"encoding/rule/{provisional['rule']}")  # as the middleware did
    item = PageCapture(url="http://example.gov.cn/a.html", site="t", status=200, headers=[], body=body,
                       fetched_at=datetime.now(UTC), decoding=provisional)
    asyncio.run(ExtractPipeline.from_crawler(crawler).process_item(item))
    assert provisional["rule"] == "meta" and item.decoding and item.decoding["rule"] == "fallback"
    assert crawler.stats.get_value("encoding/rule/meta") == 0
    assert crawler.stats.get_value("encoding/rule/fallback") == 1


def test_extract_nice_is_read_and_checked() -> None:
    """EXTRACT_NICE reaches the pool (tests/test_workers.py checks what the workers then run at); a
    value out of range is refused, naming the setting."""
    from scrapy.utils.test import get_crawler

    assert ExtractPipeline.from_crawler(get_crawler(settings_dict={"EXTRACT_NICE": 3})).nice == 3
    for bad in (40, -1, "low"):  # no silent clamping: the setting is named
        with pytest.raises(ValueError, match="EXTRACT_NICE must be a niceness to add, 0 to 19"):
            ExtractPipeline.from_crawler(get_crawler(settings_dict={"EXTRACT_NICE": bad}))
