"""Stage 4: write the capture (raw WARC, then the document) to the archive named by ARCHIVE_URI.

Nothing fetched is dropped silently. Every write goes through the local spool
(pipelines/storage/spool.py) first: the record is kept on disk before the archive write starts and
forgotten once it is complete, so a process killed at any moment leaves it for the next run to
replay. A write that fails is retried with backoff (ARCHIVE_WRITE_ATTEMPTS, ARCHIVE_RETRY_BACKOFF);
when the archive stays unreachable the record stays spooled, later items go straight to the spool,
and the run retries the spool every ARCHIVE_SPOOL_RETRY_INTERVAL seconds and once more at the end
(for up to ARCHIVE_SPOOL_CLOSE_WAIT seconds). What is still spooled then is flushed by the next run
against the same archive, before it crawls.

Replays are idempotent: a record's fetch time fixes its capture keys, and a replay first looks
whether a record with that fetch time is already listed. The pure part (records, writes, replays)
is pipelines/records.py; this file is the Scrapy glue, the spool and the retries.

Stats: `archive/stored`, `archive/outcome/<new|changed|unchanged|removed>`, `archive/bytes`,
`archive/retried`, `archive/spooled` (records left in the spool after their attempts),
`archive/flushed` (spooled records written later), `archive/failed/<reason>` (not in the archive
when the run ended: `unreachable` = still spooled for the next run, `no_original`, or the error's
class for a record set aside in the spool's quarantine folder), `archive/slow_inline_writes` (inline
writes that held the reactor longer than SLOW_INLINE_WRITE; the first is also a warning).
"""
from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.settings import BaseSettings
from scrapy.statscollectors import StatsCollector
from scrapy.utils.defer import deferred_from_coro, maybe_deferred_to_future
from twisted.internet.defer import Deferred
from twisted.internet.task import LoopingCall, deferLater
from twisted.internet.threads import deferToThread

from pipelines.records import (  # noqa: F401 - re-exported: the stage's pure part
    PERMANENT,
    WRITERS,
    NotArchivable,
    Result,
    already_written,
    attachment_records,
    document_for,
    permanent,
    record_for,
    record_size,
    write_record,
)
from pipelines.storage import ArchiveError, ArchiveStore, open_store
from pipelines.storage.archive import Archive
from pipelines.storage.spool import Spool, SpoolRecord
from pipelines.storage.warc import GZIP_LEVEL

logger = logging.getLogger(__name__)

def store_from_settings(settings: BaseSettings) -> ArchiveStore:
    """The store named by ARCHIVE_URI, with Scrapy's own AWS_* settings for S3."""
    uri = settings.get("ARCHIVE_URI")
    if not uri:
        raise NotConfigured("ARCHIVE_URI is not set")
    return open_store(
        uri, endpoint_url=settings.get("AWS_ENDPOINT_URL"), region_name=settings.get("AWS_REGION_NAME"),
        access_key_id=settings.get("AWS_ACCESS_KEY_ID"),
        secret_access_key=settings.get("AWS_SECRET_ACCESS_KEY"),
        session_token=settings.get("AWS_SESSION_TOKEN"),
        max_attempts=settings.getint("ARCHIVE_S3_MAX_ATTEMPTS", 3))


def bounded_int(settings: BaseSettings, name: str, default: int, low: int, high: int, what: str) -> int:
    """Setting `name`, a whole number from `low` to `high`; ValueError naming the setting and `what`
    it must be otherwise."""
    value = settings.get(name, default)
    number = int(value) if str(value).strip().isdigit() else low - 1
    if not low <= number <= high:
        raise ValueError(f"{name} must be {what}, {low} to {high}, not {value!r}")
    return number


def warc_gzip_level(settings: BaseSettings) -> int:
    """ARCHIVE_WARC_GZIP_LEVEL, a zlib level (0-9); ValueError naming the setting otherwise."""
    return bounded_int(settings, "ARCHIVE_WARC_GZIP_LEVEL", GZIP_LEVEL, 0, 9, "a zlib level")


def write_inline(settings: BaseSettings) -> bool | None:
    """ARCHIVE_WRITE_INLINE: None (unset or `auto`: the store decides), else a bool; ValueError
    naming the setting for anything else."""
    value = settings.get("ARCHIVE_WRITE_INLINE")
    if isinstance(value, bool):
        return value
    word = "" if value is None else str(value).strip().lower()
    if word in ("", "auto"):
        return None
    if word in ("true", "1", "yes", "on"):
        return True
    if word in ("false", "0", "no", "off"):
        return False
    raise ValueError(f"ARCHIVE_WRITE_INLINE must be auto, true or false, not {value!r}")


async def _sleep(seconds: float) -> None:
    # The reactor is imported here, not at module level: the spider module imports this one before
    # Scrapy installs its reactor.
    from twisted.internet import reactor

    await maybe_deferred_to_future(deferLater(reactor, seconds, lambda: None))


#: An inline write (ARCHIVE_WRITE_INLINE) longer than this, in seconds, is counted and warned about.
SLOW_INLINE_WRITE = 1.0


# -- the pipeline ------------------------------------------------------------------------------------
class ArchivePipeline:
    def __init__(self, archive: Archive, spool: Spool, stats: StatsCollector, *, attempts: int = 3,
                 backoff: float = 1.0, retry_interval: float = 10.0, close_wait: float = 60.0,
                 inline: bool | None = None) -> None:
        self.archive = archive
        # Spool and first write on the reactor thread itself (ARCHIVE_WRITE_INLINE; default: when the
        # store is a local folder). A thread per write costs the crawler's process more than the
        # write: the hand-over, and the thread then contending with the reactor for the GIL.
        self.inline = bool(getattr(archive.store, "local", False)) if inline is None else inline
        self.spool = spool
        self.stats = stats
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.retry_interval = retry_interval
        self.close_wait = close_wait
        self._inflight: set[Path] = set()  # spooled records an item is writing right now
        self._outage = False  # the archive failed every attempt: spool without trying until it is back
        self._flushing = False
        self._loop: LoopingCall | None = None
        self._warned_slow = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivePipeline:
        settings = crawler.settings
        store = store_from_settings(settings)
        # Refuse to start a crawl whose captures would have nowhere to go.
        store.check()
        spool = Spool(settings.get("ARCHIVE_SPOOL_DIR") or Path("var", "spool").resolve(), store.uri)
        spool.open()
        logger.info("archiving to %s (spool %s)", store.uri, spool.dir)
        assert crawler.stats is not None
        return cls(Archive(store, warc_gzip_level=warc_gzip_level(settings)), spool, crawler.stats,
                   attempts=settings.getint("ARCHIVE_WRITE_ATTEMPTS", 3),
                   backoff=settings.getfloat("ARCHIVE_RETRY_BACKOFF", 1.0),
                   retry_interval=settings.getfloat("ARCHIVE_SPOOL_RETRY_INTERVAL", 10.0),
                   close_wait=settings.getfloat("ARCHIVE_SPOOL_CLOSE_WAIT", 60.0),
                   inline=write_inline(settings))

    async def open_spider(self) -> None:
        """Flush what earlier runs left in the spool (killed, or ended with the archive down) before
        the crawl starts, so the spider sees those captures as archived."""
        adopted = await maybe_deferred_to_future(deferToThread(self.spool.adopt))
        if adopted:
            await self._flush()
        self._loop = LoopingCall(self._retry_spooled)
        self._loop.start(self.retry_interval, now=False)

    async def process_item(self, item: Any) -> Any:
        record = record_for(item)
        if record is None:
            return item
        # An article's attachments first, each a record of its own (spooled, retried, replayed like
        # pages); one that cannot be written never costs the article its capture.
        for attachment in attachment_records(item):
            try:
                await self._archive(attachment)
            except DropItem as exc:
                logger.error("attachment of %s not archived: %s", item.url, exc)
        item.attachment_files = []  # the bytes are in the spool or the archive now
        result = await self._archive(record)
        if result is not None:
            item.archived = result
            logger.debug("archived %s as %s (%s)", item.url, result["key"], result["outcome"])
        return item

    async def _archive(self, record: SpoolRecord) -> Result | None:
        """Spool one record, then write it; None when it stays spooled (or was not archivable)."""
        # The record is spooled and its first write attempted in one step: on the reactor thread for
        # a local store (`inline`: ~0.3 ms of disk), else in one trip to a thread, since boto3 blocks
        # for a network round trip. It is in flight from before it is spooled, so no spool retry
        # replays it. Retries and spool replays always run in threads (they may wait on the store).
        path = self.spool.path_for(record)
        self._inflight.add(path)
        try:
            try:
                if self.inline:
                    started = time.monotonic()
                    first = self._journal_and_write(record, path, not self._outage)
                    self._took(time.monotonic() - started)
                else:
                    first = await maybe_deferred_to_future(
                        deferToThread(self._journal_and_write, record, path, not self._outage))
            except ArchiveError as exc:  # no journal (local disk full?): still try the archive itself
                self.stats.inc_value("archive/unjournaled")
                logger.error("%s; writing it to the archive without a spool record", exc)
                return await self._write_unjournaled(record)
            result = await self._write_with_retries(record, path, first)
        finally:
            self._inflight.discard(path)
        if result is not None:
            self._count(result, record_size(record))
        return result

    def _took(self, seconds: float) -> None:
        """An inline write that held the reactor for longer than SLOW_INLINE_WRITE: counted, and said
        once per run (every fetch waited for it)."""
        if seconds < SLOW_INLINE_WRITE:
            return
        self.stats.inc_value("archive/slow_inline_writes")
        if not self._warned_slow:
            self._warned_slow = True
            logger.warning("an archive write to %s held the crawl for %.1fs; if that folder is on a "
                           "slow or network disk, set ARCHIVE_WRITE_INLINE=False to write from a thread",
                           self.archive.store.uri, seconds)

    async def _write_unjournaled(self, record: SpoolRecord) -> Result | None:
        for attempt in range(self.attempts):
            try:
                result = await maybe_deferred_to_future(
                    deferToThread(write_record, self.archive, record, attempt > 0))
            except NotArchivable as exc:
                self.stats.inc_value(f"archive/failed/{exc.reason}")
                logger.warning("not archived: %s", exc)
                return None
            except Exception as exc:
                if permanent(exc) or attempt + 1 == self.attempts:
                    reason = type(exc).__name__ if permanent(exc) else "unspoolable"
                    self.stats.inc_value(f"archive/failed/{reason}")
                    raise DropItem(f"could not archive {record.url} nor spool it: {exc}") from exc
                await _sleep(self.backoff * 2 ** attempt)
            else:
                self._count(result, record_size(record))
                return result
        return None  # pragma: no cover - the loop returns or raises

    def _journal_and_write(self, record: SpoolRecord, path: Path,
                           write: bool) -> tuple[Result | None, Exception | None] | None:
        """Spool the record (ArchiveError when the spool cannot take it), then, when `write`, make
        the first write attempt: (result, None) or (None, the error). None when not attempted."""
        self.spool.put(record, path)
        if not write:
            return None
        try:
            return self._write_and_forget(record, path, False), None
        except Exception as exc:
            return None, exc

    async def _write_with_retries(self, record: SpoolRecord, path: Path,
                                  first: tuple[Result | None, Exception | None] | None = None
                                  ) -> Result | None:
        """Result once written; None when the record stays spooled (or was not archivable).
        `first`: the outcome of a first attempt already made (`_journal_and_write`)."""
        for attempt in range(self.attempts):
            if self._outage and not (attempt == 0 and first is not None):
                break
            try:
                if attempt == 0 and first is not None:
                    result, error = first
                    if error is not None:
                        raise error
                    assert result is not None
                    return result
                return await maybe_deferred_to_future(
                    deferToThread(self._write_and_forget, record, path, attempt > 0))
            except NotArchivable as exc:
                self._not_archivable(path, exc)
                return None
            except Exception as exc:
                if permanent(exc):  # a record that can never be written: keep it aside, loudly
                    target = self._quarantine(path, exc)
                    raise DropItem(f"could not archive {record.url}: {exc} (kept in {target})") \
                        from exc
                if attempt + 1 < self.attempts:  # the store (ArchiveError) or else: try again
                    self.stats.inc_value("archive/retried")
                    delay = self.backoff * 2 ** attempt
                    logger.warning("archive write of %s failed (%s); retrying in %.1fs", record.url,
                                   exc, delay)
                    await _sleep(delay)
                else:
                    self._outage = True
                    logger.error("archive unreachable (%s): spooling captures to %s and retrying "
                                 "every %.0fs", exc, self.spool.dir, self.retry_interval)
        self.stats.inc_value("archive/spooled")
        logger.info("kept %s in the spool until the archive is back", record.url)
        return None

    def _write_and_forget(self, record: SpoolRecord, path: Path, check_done: bool) -> Result:
        result = write_record(self.archive, record, check_done)
        self.spool.remove(path)
        return result

    def _count(self, result: Result, size: int) -> None:
        if result["outcome"] == "attachment":  # not a page: counted apart from the page outcomes
            self.stats.inc_value("attachments/archived")
            self.stats.inc_value("attachments/bytes", size)
            return
        self.stats.inc_value(f"archive/outcome/{result['outcome']}")
        if result["outcome"] != "unchanged":
            self.stats.inc_value("archive/stored")
        self.stats.inc_value("archive/bytes", size)

    def _not_archivable(self, path: Path, exc: NotArchivable) -> None:
        self.spool.remove(path)
        self.stats.inc_value(f"archive/failed/{exc.reason}")
        logger.warning("not archived: %s", exc)

    def _quarantine(self, path: Path, exc: Exception) -> Path:
        reason = type(exc).__name__
        self.stats.inc_value(f"archive/failed/{reason}")
        target = self.spool.quarantine(path, f"{reason}: {exc}")
        logger.error("could not archive the record %s (%s: %s); kept in %s", path.name, reason, exc,
                     target)
        return target

    # -- the spool: retried during the run, at its end, and by the next run -----------------------
    def _retry_spooled(self) -> Deferred[bool] | None:
        """The periodic retry (a LoopingCall): flush when records wait that no item is writing."""
        if self._flushing or not [p for p in self.spool.pending() if p not in self._inflight]:
            return None
        return deferred_from_coro(self._flush())

    async def _flush(self) -> bool:
        """Write every spooled record not in flight. True when none is left."""
        if self._flushing:
            return False
        self._flushing = True
        try:
            for path in self.spool.pending():
                if path in self._inflight:
                    continue
                try:
                    result = await maybe_deferred_to_future(deferToThread(self._replay, path))
                except NotArchivable as exc:
                    self._not_archivable(path, exc)
                    continue
                except Exception as exc:
                    if permanent(exc):
                        self._quarantine(path, exc)
                        continue
                    if not self._outage:
                        logger.warning("archive still unreachable (%s); %d record(s) spooled",
                                       exc, len(self.spool.pending()))
                    self._outage = True
                    return False
                if self._outage:
                    logger.info("archive reachable again: flushing the spool")
                    self._outage = False
                self.stats.inc_value("archive/flushed")
                self._count(result, result.pop("size", 0))
            return True
        finally:
            self._flushing = False

    def _replay(self, path: Path) -> Result:
        record = self.spool.load(path)
        result = write_record(self.archive, record, check_done=True)
        self.spool.remove(path)
        return {**result, "size": record_size(record)}

    async def close_spider(self) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        while self._flushing:  # a periodic retry under way: let it finish (its writes are bounded)
            await _sleep(0.1)
        deadline = time.monotonic() + self.close_wait
        while not await self._flush() and time.monotonic() < deadline:
            await _sleep(min(self.retry_interval, max(0.1, deadline - time.monotonic())))
        left = self.spool.pending()
        if left:
            self.stats.inc_value("archive/failed/unreachable", len(left))
            logger.error("%d capture(s) could not reach %s and are kept in %s; the next run against "
                         "this archive writes them before it crawls", len(left),
                         self.archive.store.uri, self.spool.dir)
        self.spool.close()
