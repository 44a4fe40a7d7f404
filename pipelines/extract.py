"""Stage 2: decode, extract and repair a page, on the second core.

`process_page` is the whole CPU-bound part of a page (stage 1's `decode_page`, the extractor, stage
3's `repair_document`, and stage 4's raw WARC with its gzip and digests, `capture_warc`) as one
picklable pure function, so the pipeline can run it in a process pool (EXTRACT_WORKERS processes,
created when the spider opens, shut down when it closes) while the reactor keeps fetching; the
archive stage then only spools and writes bytes. `EXTRACT_WORKERS = 0` runs it in-process.

Each item still goes through the stages in order (Scrapy awaits this stage before the next); items
were never ordered among themselves. A page whose extraction fails, or whose worker dies or hangs
(EXTRACT_TIMEOUT), is archived raw with the error, never dropped: a broken pool is replaced, and the
pages that were in it get one more try each, alone, in a one-worker quarantine pool, so a page that
kills workers takes no other page with it.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred, DeferredList, DeferredSemaphore

from crawler.failures import record_failure
from crawler.items import PageCapture
from pipelines.archive import bounded_int, warc_gzip_level
from pipelines.encoding import decode_page
from pipelines.extraction import extract_document
from pipelines.extraction.document import ExtractionError
from pipelines.extraction.multipage import merge_documents
from pipelines.repair import repair_document
from pipelines.storage.warc import GZIP_LEVEL, capture_warc
from pipelines.workers import BrokenProcessPool, WorkerPool, WorkerTimeout

logger = logging.getLogger(__name__)


@dataclass
class PageResult:
    """What `process_page` sends back: small, picklable, no HTML."""

    decoding: dict[str, Any]
    undecodable: bool
    document: dict[str, Any] | None = None
    failure: str | None = None  # stats reason when extraction failed
    error: str | None = None
    repairs: int = 0
    glosses: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    prepared: dict[str, Any] | None = None  # the raw WARC, when `exchange` was given


def process_page(body: bytes, content_type: str | None, decided: dict[str, Any] | None, url: str,
                 overrides: dict[str, str] | None,
                 exchange: dict[str, Any] | None = None,
                 parts: list[dict[str, Any]] | None = None) -> PageResult:
    """Decode, extract and repair one page. Never raises for what the page holds.

    `exchange` (`status`, `headers`, `fetched_at`, `request_headers`, `gzip_level`): also make the
    page's raw WARC for the archive stage (`result.prepared`), so that CPU is spent here, not on the
    reactor's core.
    `parts`: the other pages of a multi-page article this page is the first of (`url`, `body`,
    `content_type`, `decoding` each); each is extracted too and the document is the merged article
    (pipelines/extraction/multipage.py). A page that gives no text is named in `extra["part_errors"]`.
    """
    result = _process_one(body, content_type, decided, url, overrides)
    if exchange is not None:
        try:
            warc, sha1 = capture_warc(url, exchange["status"], exchange["headers"], body,
                                      exchange["fetched_at"], exchange["request_headers"],
                                      gzip_level=exchange.get("gzip_level", GZIP_LEVEL))
        except Exception:  # the archive stage makes it again, and reports what goes wrong
            logger.debug("no WARC prepared for %s", url, exc_info=True)
        else:
            result.prepared = {"warc": warc, "sha1": sha1, "raw_bytes": len(body)}
    if not parts:
        return result
    results = [result] + [_process_one(p["body"], p.get("content_type"), p.get("decoding"), p["url"],
                                       overrides) for p in parts]
    urls = [url] + [p["url"] for p in parts]
    result.document = merge_documents([r.document for r in results])
    result.repairs, result.glosses = sum(r.repairs for r in results), sum(r.glosses for r in results)
    result.extra["part_errors"] = [f"page {i + 1} ({u}): {r.failure}: {r.error}"
                                   for i, (u, r) in enumerate(zip(urls, results, strict=True))
                                   if r.document is None]
    if result.document is not None:  # the first page's failure is then one part error among others
        result.failure = result.error = None
    return result


def _process_one(body: bytes, content_type: str | None, decided: dict[str, Any] | None, url: str,
                 overrides: dict[str, str] | None) -> PageResult:
    html, decision = decode_page(body, content_type, decided)
    result = PageResult(decision.as_dict(), bool(decision.undecodable_bytes))
    try:
        document = extract_document(html, url, overrides)
    except ExtractionError as exc:
        result.failure, result.error = "empty", str(exc)
        return result
    except Exception as exc:  # a parser crash on hostile input must not lose the page
        result.failure, result.error = type(exc).__name__, f"{type(exc).__name__}: {exc}"
        return result
    result.repairs, result.glosses = repair_document(document, url, decision.encoding)
    result.document = document
    return result


def _ready() -> bool:
    """Warm-up task: a worker that ran it has imported this module and the extractor."""
    return True


def _pairs(headers: Any) -> list[tuple[str, str]]:
    return [(str(k), str(v)) for k, v in headers]


def extract_nice(settings: Any) -> int:
    """EXTRACT_NICE, a niceness to add (0-19); ValueError naming the setting otherwise."""
    return bounded_int(settings, "EXTRACT_NICE", DEFAULT_NICE, 0, 19, "a niceness to add")


#: EXTRACT_NICE when the settings have none (settings/base.py sets the same).
DEFAULT_NICE = 10


class ExtractPipeline:
    """Decode + extract + repair each page in the worker pool; failures are archived, never dropped."""

    #: The function run per page: module-level and picklable (tests swap in one that crashes a worker).
    page_function: Callable[..., PageResult] = staticmethod(process_page)

    def __init__(self, crawler: Crawler, workers: int, timeout: float, queue: int = 16,
                 nice: int = 0) -> None:
        assert crawler.stats is not None
        self.crawler = crawler
        self.gzip_level = warc_gzip_level(crawler.settings)
        self.stats: StatsCollector = crawler.stats
        self.workers = workers
        self.timeout = timeout
        # The workers' niceness (EXTRACT_NICE): the reactor is the crawl's one serial stage, so when
        # the cores are all busy it goes first and the workers take what it leaves; they never wait
        # on it for more than the pages already queued to them.
        self.nice = nice
        self.pool: WorkerPool | None = None
        # Pages handed to the pool at once (EXTRACT_QUEUE per worker): bounded, so bodies do not pile
        # up (16 x 2 x 50 KB), and enough that a worker always has the next page in its pipe while
        # the reactor reads the last result. A page's EXTRACT_TIMEOUT starts only when its worker
        # starts it (pipelines/workers.py).
        self.slots = DeferredSemaphore(max(1, workers) * max(1, queue))
        self.quarantine: WorkerPool | None = None
        self.quarantine_slot = DeferredSemaphore(1)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        workers = crawler.settings.getint("EXTRACT_WORKERS", min(2, os.cpu_count() or 1))
        pipeline = cls(crawler, max(0, workers), crawler.settings.getfloat("EXTRACT_TIMEOUT", 60),
                       crawler.settings.getint("EXTRACT_QUEUE", 16),
                       extract_nice(crawler.settings))
        crawler.signals.connect(pipeline.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def spider_opened(self) -> None:
        if self.workers:
            self.pool = WorkerPool(self.workers, self.nice)
            logger.info("extraction runs in %d worker processes", self.workers)

    def spider_closed(self) -> Deferred[Any]:
        """The workers finish and exit (the spider is closed once every page is done)."""
        pools = [pool for pool in (self.pool, self.quarantine) if pool is not None]
        self.pool = self.quarantine = None
        return DeferredList([pool.shutdown() for pool in pools])

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, PageCapture):
            return item
        # The exchange, for the raw WARC (a browser capture's is made by the archive stage).
        exchange = None if item.rendering is not None else {
            "status": item.status, "headers": _pairs(item.headers), "fetched_at": item.fetched_at,
            "request_headers": _pairs(item.request_headers), "gzip_level": self.gzip_level}
        args: tuple[Any, ...] = (item.body, item.content_type, item.decoding, item.url, item.overrides,
                                 exchange)
        if item.parts:  # the first page of a multi-page article: its other pages are merged in
            args += ([{k: p.get(k) for k in ("url", "body", "content_type", "decoding")}
                      for p in item.parts if p.get("body") is not None],)
        if self.pool is None:
            result = self.page_function(*args)
        else:
            await maybe_deferred_to_future(self.slots.acquire())
            try:
                result = await self._in_pool_once_retried(args)
            except (BrokenProcessPool, WorkerTimeout) as exc:
                return self._lost_worker(item, exc)
            finally:
                self.slots.release()
        self._apply(item, result)
        return item

    async def _in_pool_once_retried(self, args: tuple[Any, ...]) -> PageResult:
        pool = self.pool
        if pool is None:  # closed under us (the spider is closing): do it here
            return self.page_function(*args)
        try:
            return await self._run(pool, args)
        except BrokenProcessPool:
            self._discard(pool)
        # A worker of the pool died with this page in it, maybe because of another page: one more
        # try, alone in a one-worker quarantine pool, so that only the page that kills a worker
        # twice is lost to extraction (and still archived raw).
        self.stats.inc_value("extract/pool/retried")
        await maybe_deferred_to_future(self.quarantine_slot.acquire())
        try:
            if self.quarantine is None:
                self.quarantine = WorkerPool(1, self.nice)
            quarantine = self.quarantine
            try:
                return await self._run(quarantine, args)
            except BrokenProcessPool:
                self._discard(quarantine)
                raise
        finally:
            self.quarantine_slot.release()

    async def _run(self, pool: WorkerPool, args: tuple[Any, ...]) -> PageResult:
        """The page function in `pool`; BrokenProcessPool when a worker died, WorkerTimeout (the
        pool is then broken: its other pages get BrokenProcessPool, and one more try)."""
        try:
            return await maybe_deferred_to_future(
                pool.submit(self.page_function, *args, timeout=self.timeout))
        except WorkerTimeout:
            self.stats.inc_value("extract/pool/timeout")
            self._discard(pool)
            raise

    def _discard(self, broken: WorkerPool) -> None:
        """Replace a broken pool (the quarantine pool is made again when next needed)."""
        if self.pool is broken:
            self.stats.inc_value("extract/pool/restarted")
            logger.warning("extraction worker pool broke (%s); starting a new one", broken.broken)
            broken.shutdown()
            self.pool = WorkerPool(self.workers, self.nice)
        elif self.quarantine is broken:
            broken.shutdown()
            self.quarantine = None

    def _lost_worker(self, item: PageCapture, exc: Exception) -> PageCapture:
        reason = "timeout" if isinstance(exc, WorkerTimeout) else "worker_crashed"
        self._failed(item, reason, f"extract: {reason}: {exc or type(exc).__name__}")
        return item

    def _apply(self, item: PageCapture, result: PageResult) -> None:
        provisional = (item.decoding or {}).get("rule")
        final = (result.decoding or {}).get("rule")
        if provisional and final and provisional != final:  # the run report counts final rules
            self.stats.inc_value(f"encoding/rule/{provisional}", -1)
            self.stats.inc_value(f"encoding/rule/{final}")
        item.decoding = result.decoding
        item.prepared = result.prepared
        if result.undecodable:
            self.stats.inc_value("encoding/undecodable_pages")
        if result.document is None:
            self._failed(item, result.failure or "error", f"extract: {result.error}")
            return
        item.document = result.document
        self.stats.inc_value("extract/ok")
        for error in result.extra.get("part_errors", []):  # pages of a multi-page article
            self.stats.inc_value("extract/failed/part")
            item.errors.append(f"extract: {error}")
        if result.repairs:
            self.stats.inc_value("repair/mojibake", result.repairs)
        if result.glosses:
            self.stats.inc_value("repair/glosses", result.glosses)

    def _failed(self, item: PageCapture, reason: str, error: str) -> None:
        logger.warning("extraction failed for %s: %s", item.url, error)
        self.stats.inc_value(f"extract/failed/{reason}")
        record_failure(self.crawler, item.url, f"extract_{reason}")
        item.errors.append(error)

