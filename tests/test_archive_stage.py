"""Where the archive stage writes (pipelines/archive.py, ARCHIVE_WRITE_INLINE).

A local-folder archive is written on the reactor thread itself; any other store (S3) in a thread. A
write that fails on the reactor thread is retried in a thread with backoff, as before, and loses
nothing. Crawls of the demo portal run as subprocesses, with a store that logs the thread of each
write and fails the first write of every third document.
"""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from scrapy.crawler import Crawler
from scrapy.settings import Settings

from pipelines.archive import ArchivePipeline, write_inline
from pipelines.storage import ArchiveError, open_store
from pipelines.storage.archive import Archive
from pipelines.storage.spool import Spool
from tests.test_pool import _crawl_demo, _pipelines

LOG_ENV = "GOVARCHIVE_TEST_WRITE_LOG"
STALL_ENV = "GOVARCHIVE_TEST_WRITE_STALL"  # seconds the first raw write of the run takes
NO_SPOOL_ENV = "GOVARCHIVE_TEST_NO_SPOOL"  # the spool refuses the first record (a full local disk)


class _LoggingFlakyStore:
    """A store that appends `<main|thread> <first|again> <key>` per put to a log file, and fails the
    first put of every third document key."""

    def __init__(self, store: Any, log: str) -> None:
        self._store = store
        self._log = log
        self._seen: set[str] = set()
        self._documents = 0
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        with self._lock:
            again = key in self._seen
            self._seen.add(key)
            fail = False
            if key.endswith(".json.gz") and key.startswith("captures/") and not again:
                self._documents += 1
                fail = self._documents % 3 == 0
            where = "main" if threading.current_thread() is threading.main_thread() else "thread"
            with open(self._log, "a", encoding="utf-8") as log:
                log.write(f"{where} {'again' if again else 'first'} {'fail' if fail else 'ok'} {key}\n")
        if fail:
            raise ArchiveError(f"injected failure writing {key}")
        if os.environ.get(STALL_ENV) and key.endswith(".warc.gz") and len(self._seen) == 1:
            time.sleep(float(os.environ[STALL_ENV]))
        self._store.put(key, data, content_type)


class LoggingArchivePipeline(ArchivePipeline):
    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivePipeline:
        pipeline = super().from_crawler(crawler)
        pipeline.archive.store = _LoggingFlakyStore(pipeline.archive.store, os.environ[LOG_ENV])
        if os.environ.get(NO_SPOOL_ENV):
            put, refused = pipeline.spool.put, []

            def refuse_first(record: Any, path: Any = None) -> Any:
                if not refused:
                    refused.append(record.url)
                    raise ArchiveError(f"cannot spool {record.url}: injected: no space left on device")
                return put(record, path)

            pipeline.spool.put = refuse_first  # type: ignore[method-assign]
        return pipeline


def _writes(tmp_path: Path, name: str, settings: dict[str, str], env: dict[str, str] | None = None,
            ) -> tuple[list[list[str]], Any, Any]:
    log = tmp_path / f"writes-{name}.log"
    pipelines = _pipelines("pipelines.extract.ExtractPipeline").replace(
        "pipelines.archive.ArchivePipeline", "tests.test_archive_stage.LoggingArchivePipeline")
    portal, docs, result = _crawl_demo(
        tmp_path, name, {"ITEM_PIPELINES": pipelines, "ARCHIVE_RETRY_BACKOFF": "0.05", **settings},
        {LOG_ENV: str(log), **(env or {})})
    assert len(docs) == len(portal.all_articles()), "every article archived"
    assert all(doc["text"] for doc in docs.values())
    return [line.split() for line in log.read_text("utf-8").splitlines()], result, docs


@pytest.mark.e2e
def test_local_writes_run_on_the_reactor_thread_and_failures_are_retried_in_a_thread(
        tmp_path: Path) -> None:
    writes, result, _ = _writes(tmp_path, "inline", {})
    failed = [w for w in writes if w[2] == "fail"]
    assert failed, "some writes were made to fail"
    assert all(w[0] == "main" for w in writes if w[1] == "first"), "first attempts on the reactor"
    retried = [w for w in writes if w[1] == "again"]
    assert {w[3] for w in retried} >= {w[3] for w in failed}, "every failed write was made again"
    assert all(w[0] == "thread" for w in retried), "retries wait in a thread, not on the reactor"
    assert result.summary is not None
    assert f"'archive/retried': {len(failed)}," in result.stderr  # Scrapy's stats dump
    assert not result.summary.get("archive_failed"), result.summary


@pytest.mark.e2e
def test_write_inline_false_keeps_every_write_off_the_reactor_thread(tmp_path: Path) -> None:
    writes, result, _ = _writes(tmp_path, "threaded", {"ARCHIVE_WRITE_INLINE": "False"},
                                {STALL_ENV: "1.2"})
    assert writes and all(w[0] == "thread" for w in writes)
    assert "held the crawl" not in result.stderr  # a slow write in a thread holds nothing


@pytest.mark.e2e
def test_a_slow_inline_write_is_counted_and_said_once(tmp_path: Path) -> None:
    """An inline write that stalls (a slow or network disk) holds every fetch: the run says so once,
    names the setting that moves writes to a thread, and counts it."""
    _, result, _ = _writes(tmp_path, "stall", {}, {STALL_ENV: "1.2"})
    assert result.stderr.count("held the crawl for 1.") == 1
    assert "ARCHIVE_WRITE_INLINE=False" in result.stderr
    assert "'archive/slow_inline_writes': 1," in result.stderr


def test_the_store_decides_unless_the_setting_does(tmp_path: Path) -> None:
    assert write_inline(Settings()) is None
    assert write_inline(Settings({"ARCHIVE_WRITE_INLINE": "auto"})) is None
    assert write_inline(Settings({"ARCHIVE_WRITE_INLINE": "False"})) is False
    assert write_inline(Settings({"ARCHIVE_WRITE_INLINE": True})) is True
    with pytest.raises(ValueError, match="ARCHIVE_WRITE_INLINE must be auto, true or false, not 'sometimes'"):
        write_inline(Settings({"ARCHIVE_WRITE_INLINE": "sometimes"}))
    spool = Spool(tmp_path / "spool", "x")
    local = open_store((tmp_path / "archive").as_uri())
    s3 = open_store("s3://bucket/prefix", endpoint_url="http://127.0.0.1:9", region_name="us-east-1",
                    access_key_id="k", secret_access_key="s")
    stats: Any = None
    assert ArchivePipeline(Archive(local), spool, stats).inline is True
    assert ArchivePipeline(Archive(s3), spool, stats).inline is False
    assert ArchivePipeline(Archive(local), spool, stats, inline=False).inline is False
    assert ArchivePipeline(Archive(s3), spool, stats, inline=True).inline is True


@pytest.mark.e2e
def test_a_record_the_spool_refuses_inline_is_still_written(tmp_path: Path) -> None:
    """The spool refusing a record (a full local disk) on the reactor thread: the error names the
    page, the record is written to the archive without its journal (from a thread), and counted."""
    writes, result, _ = _writes(tmp_path, "nospool", {}, {NO_SPOOL_ENV: "1"})
    assert "writing it to the archive without a spool record" in result.stderr
    assert "'archive/unjournaled': 1," in result.stderr
    assert any(w[0] == "thread" for w in writes), "the unjournaled write went to a thread"
    assert result.summary is not None and not result.summary.get("archive_failed")
