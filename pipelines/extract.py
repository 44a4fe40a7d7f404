"""Stage 2: decode, extract and repair a page, on the second core.

`process_page` (pipelines/page.py) is the whole CPU-bound part of a page as one picklable pure
function, so this stage runs it in EXTRACT_WORKERS worker processes (pipelines/workers.py: started
when the spider opens, shut down when it closes, driven by the reactor over pipes) while the reactor
keeps fetching. `EXTRACT_WORKERS = 0` runs it in-process.

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
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred, DeferredList, DeferredSemaphore

from crawler.failures import record_failure
from crawler.items import PageCapture
from pipelines.archive import bounded_int, warc_gzip_level
from pipelines.page import PageResult, process_page
from pipelines.workers import BrokenProcessPool, WorkerPool, WorkerTimeout

logger = logging.getLogger(__name__)


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
            except Exception as exc:  # a crash, a timeout, or an error the page code raised there
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
        """No result from the workers: the page goes on to be archived raw, with the reason."""
        if isinstance(exc, WorkerTimeout):
            reason, why = "timeout", str(exc)
        elif isinstance(exc, BrokenProcessPool):
            reason, why = "worker_crashed", str(exc) or type(exc).__name__
        else:
            reason, why = "worker_error", f"{type(exc).__name__}: {exc}"
        self._failed(item, reason, f"extract: {reason}: {why}")
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

