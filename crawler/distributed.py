"""Scale-out on scrapy-redis: N workers crawl one site sharing one request queue and one dupefilter.

    scrapy crawl portal -a site=SLUG -s DISTRIBUTED=redis://HOST:6379/0 \
        [-s DISTRIBUTED_RUN=20261122] [-s DISTRIBUTED_WORKERS=N]
    (or -s DISTRIBUTED=true with REDIS_URL set, as deploy/ does)

A Scrapy add-on (ADDONS in settings/operations.py), inert unless DISTRIBUTED names a Redis server.
It runs after the spider has applied its site file, so it sees the site's politeness, and it:

- swaps in scrapy-redis's scheduler and dupefilter, keyed `govarchive:<site>:<run>:requests|dupefilter`:
  every worker started with the same site and DISTRIBUTED_RUN (default: today's UTC date) shares
  them, and the keys are kept (SCHEDULER_PERSIST) so one worker ending does not wipe the others'
  queue; they expire DISTRIBUTED_KEEP_DAYS after the last worker used them;
- fetches each list page once per run across workers (the spider marks list requests
  `dont_filter` so that a single process always re-reads them; here the per-run dupefilter does);
- keeps the site's politeness for the whole fleet: download delay and AutoThrottle are per process,
  so each worker waits DISTRIBUTED_WORKERS times the site's delay, gets its share of the site's
  concurrency (at least 1), and pulls from the queue only what it can fetch now;
- keeps an idle worker open while the shared queue has requests, and for DISTRIBUTED_IDLE_CLOSE
  seconds after it was last seen non-empty (another worker may still be adding to it).
"""
from __future__ import annotations

import logging
import re
import time
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response
from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

KEY_ROOT = "govarchive"


def run_id(value: str | None, now: datetime | None = None) -> str:
    """The shared run's id: DISTRIBUTED_RUN, else the UTC date (one run a day). Safe for a key."""
    text = value or (now or datetime.now(UTC)).strftime("%Y%m%d")
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", text):
        raise ValueError(f"DISTRIBUTED_RUN={text!r}: letters, digits, '_', '.', '-' only")
    return text


def redis_url(value: Any, redis_url_setting: str | None) -> str | None:
    """The Redis URL a DISTRIBUTED value asks for: a `redis://`/`rediss://`/`unix://` URL itself, or
    true (`True`, `1`, `yes`) for REDIS_URL; None when off (unset, `False`, `0`, `no`)."""
    text = str(value).strip() if value is not None else ""
    if text.lower() in ("", "false", "0", "no", "off", "none"):
        return None
    if re.match(r"(rediss?|unix)://", text):
        return text
    if text.lower() in ("true", "1", "yes", "on"):
        if not redis_url_setting:
            raise ValueError("DISTRIBUTED is on but names no Redis server: set DISTRIBUTED=redis://"
                             "HOST:6379/0 or REDIS_URL")
        return redis_url_setting
    raise ValueError(f"DISTRIBUTED={text!r}: expected a redis:// URL, or true with REDIS_URL set")


class DistributedError(RuntimeError):
    """A distributed run that cannot start (bad DISTRIBUTED value, Redis unreachable)."""


def check_redis(url: str, timeout: float = 5.0) -> None:
    """Raise DistributedError naming the server unless Redis answers PING."""
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout).ping()
    except redis.RedisError as exc:
        raise DistributedError(f"DISTRIBUTED: cannot reach Redis at {url}: {exc}") from None


def check_settings(settings: BaseSettings) -> None:
    """The start-up check for `scrapy crawl`: a distributed run's Redis answers. DistributedError."""
    try:
        url = redis_url(settings.get("DISTRIBUTED"), settings.get("REDIS_URL"))
        if url is not None:
            run_id(settings.get("DISTRIBUTED_RUN"))
    except ValueError as exc:
        raise DistributedError(str(exc)) from None
    if url is not None:
        check_redis(url)


def queue_keys(site: str, run: str) -> tuple[str, str]:
    """(request queue key, dupefilter key) of one site's run."""
    prefix = f"{KEY_ROOT}:{site}:{run}"
    return f"{prefix}:requests", f"{prefix}:dupefilter"


def distributed_settings(redis_url: str, site: str, run: str, workers: int, delay: float,
                         concurrency: int, target_concurrency: float, hosts: int = 1,
                         ) -> dict[str, Any]:
    """The settings that make one worker of `workers` (pure: tested directly)."""
    queue, dupefilter = queue_keys(site, run)
    workers = max(1, workers)
    per_worker = max(1, concurrency // workers)
    return {
        "SCHEDULER": "scrapy_redis.scheduler.Scheduler",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.PriorityQueue",
        "SCHEDULER_QUEUE_KEY": queue,
        "SCHEDULER_DUPEFILTER_KEY": dupefilter,
        "SCHEDULER_PERSIST": True,
        "SCHEDULER_FLUSH_ON_START": False,
        "REDIS_URL": redis_url,
        "DOWNLOAD_DELAY": delay * workers,
        "CONCURRENT_REQUESTS_PER_DOMAIN": per_worker,
        # Pull from the shared queue only what this worker can fetch now, not a backlog.
        "CONCURRENT_REQUESTS": per_worker * max(1, hosts),
        "AUTOTHROTTLE_TARGET_CONCURRENCY": max(0.1, target_concurrency / workers),
    }


class Distributed:
    """The add-on (see the module docstring). Also the spider middleware and idle guard it installs."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.enabled = False
        self.queue_key = ""
        self.dupefilter_key = ""
        self.idle_close = 30.0
        self.keep_days = 2.0
        self.last_busy = time.monotonic()
        self.server: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Distributed:
        return cls(crawler)

    # -- the add-on -------------------------------------------------------------------------------
    def update_settings(self, settings: BaseSettings) -> None:
        check_settings(settings)  # a worker that cannot share the queue must not crawl alone
        url = redis_url(settings.get("DISTRIBUTED"), settings.get("REDIS_URL"))
        if url is None:
            return
        spider = self.crawler.spider
        site = getattr(spider, "site", None)
        slug = getattr(site, "slug", None) or (spider.name if spider else "spider")
        hosts = len(getattr(spider, "allowed_domains", None) or [None])
        run = run_id(settings.get("DISTRIBUTED_RUN"))
        workers = settings.getint("DISTRIBUTED_WORKERS", 1)
        values = distributed_settings(
            url, slug, run, workers, delay=settings.getfloat("DOWNLOAD_DELAY"),
            concurrency=settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN"),
            target_concurrency=settings.getfloat("AUTOTHROTTLE_TARGET_CONCURRENCY", 1.0), hosts=hosts)
        for name, value in values.items():
            # At least the priority the value has now (the spider's, or -s on the command line).
            settings.set(name, value, priority=max(settings.getpriority(name) or 0, 15))
        settings["SPIDER_MIDDLEWARES"] = {**settings.getdict("SPIDER_MIDDLEWARES"),
                                          "crawler.distributed.ListPagesOncePerRun": 50}
        self.enabled = True
        self.queue_key = values["SCHEDULER_QUEUE_KEY"]
        self.dupefilter_key = values["SCHEDULER_DUPEFILTER_KEY"]
        self.idle_close = settings.getfloat("DISTRIBUTED_IDLE_CLOSE", 30.0)
        self.keep_days = settings.getfloat("DISTRIBUTED_KEEP_DAYS", 2.0)
        self.crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        self.crawler.signals.connect(self.spider_idle, signal=signals.spider_idle)
        self.crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)
        logger.info("distributed run %s of %s on %s: queue %s, %d worker(s) share the site's "
                    "politeness (delay %.2fs, %d concurrent request(s) each)", run, slug, url,
                    self.queue_key, workers, values["DOWNLOAD_DELAY"],
                    values["CONCURRENT_REQUESTS_PER_DOMAIN"])

    # -- the idle guard ---------------------------------------------------------------------------
    def spider_opened(self, spider: Spider) -> None:
        from scrapy_redis.connection import from_settings

        self.server = from_settings(self.crawler.settings)
        self.last_busy = time.monotonic()

    def _queued(self) -> int:
        # scrapy-redis's PriorityQueue is a sorted set.
        return int(self.server.zcard(self.queue_key)) if self.server is not None else 0

    def spider_idle(self, spider: Spider) -> None:
        if self._queued():
            self.last_busy = time.monotonic()
            raise DontCloseSpider
        if time.monotonic() - self.last_busy < self.idle_close:
            raise DontCloseSpider

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.server is None:
            return
        for key in (self.queue_key, self.dupefilter_key):
            self.server.expire(key, int(self.keep_days * 86400))


class ListPagesOncePerRun:
    """Spider middleware (distributed runs only): list requests go through the shared dupefilter,
    so N workers fetch each list page once per run, not N times."""

    @staticmethod
    def _filtered(request: Any) -> Any:
        if isinstance(request, Request) and request.dont_filter and request.meta.get("list_page"):
            return request.replace(dont_filter=False)
        return request

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for item_or_request in start:
            yield self._filtered(item_or_request)

    def process_spider_output(self, response: Response, result: Iterable[Any]) -> Iterable[Any]:
        for item_or_request in result:
            yield self._filtered(item_or_request)

    async def process_spider_output_async(self, response: Response, result: AsyncIterator[Any],
                                          ) -> AsyncIterator[Any]:
        async for item_or_request in result:
            yield self._filtered(item_or_request)
