"""Stage 4: write the capture (raw WARC, then the document) to the archive named by ARCHIVE_URI."""
from __future__ import annotations

import logging
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.settings import BaseSettings
from scrapy.statscollectors import StatsCollector
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.threads import deferToThread

from crawler.items import PageCapture, StatusRecord
from pipelines.extraction import EXTRACTOR_NAME, EXTRACTOR_VERSION
from pipelines.storage import ArchiveError, ArchiveStore, open_store
from pipelines.storage.archive import Archive

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


def document_for(item: PageCapture) -> dict[str, Any]:
    """The JSON document archived beside the raw capture."""
    doc: dict[str, Any] = {"site": item.site, "column": item.column,
                           "content_type": item.content_type, "encoding": item.decoding,
                           "errors": item.errors or None}
    doc.update(item.document or {"text": None, "title": None})
    doc["extractor"] = {"name": EXTRACTOR_NAME, "version": EXTRACTOR_VERSION,
                        "layers": doc.pop("extracted_by", None)}
    return doc


class ArchivePipeline:
    def __init__(self, archive: Archive, stats: StatsCollector) -> None:
        self.archive = archive
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivePipeline:
        store = store_from_settings(crawler.settings)
        # Refuse to start a crawl whose captures would have nowhere to go.
        store.check()
        logger.info("archiving to %s", store.uri)
        assert crawler.stats is not None
        return cls(Archive(store), crawler.stats)

    async def process_item(self, item: Any) -> Any:
        if isinstance(item, StatusRecord):  # a re-check's 304/404/410 (issue 5)
            return await maybe_deferred_to_future(deferToThread(self._write_status, item))
        if not isinstance(item, PageCapture):
            return item
        # boto3 and disk writes block: keep them off the reactor thread.
        return await maybe_deferred_to_future(deferToThread(self._write, item))

    def _write(self, item: PageCapture) -> PageCapture:
        try:
            written = self.archive.write_fetched(
                url=item.url, status=item.status, headers=item.headers, body=item.body,
                fetched_at=item.fetched_at, request_headers=item.request_headers,
                document=document_for(item), previous=item.previous, rendering=item.rendering)
        except ArchiveError as exc:
            self.stats.inc_value("archive/failed")
            logger.error("could not archive %s: %s", item.url, exc)
            raise
        item.archived = written.as_dict()
        self.stats.inc_value(f"archive/outcome/{written.outcome}")
        if written.outcome != "unchanged":
            self.stats.inc_value("archive/stored")
        self.stats.inc_value("archive/bytes", len(item.body))
        logger.debug("archived %s as %s (%s)", item.url, written.name.stem, written.outcome)
        return item

    def _write_status(self, item: StatusRecord) -> StatusRecord:
        """A re-check's 304 (a revisit of the latest capture) or 404/410 (a removal record)."""
        doc = {"site": item.site, "column": item.column}
        try:
            original = self.archive.latest_content(item.url) if item.kind == "revisit" else None
            if item.kind == "revisit" and original is not None:
                name = self.archive.write_revisit(
                    url=item.url, status=item.status, headers=item.headers,
                    fetched_at=item.fetched_at, request_headers=item.request_headers,
                    refers_to=original.name, document=doc,
                    fingerprint=item.previous.get("fingerprint"))
                outcome = "unchanged"
            elif item.kind == "revisit":  # a 304 for a URL with no content capture: nothing to refer to
                self.stats.inc_value("archive/failed/no_original")
                logger.warning("304 for %s, which has no capture to refer to", item.url)
                return item
            else:
                name = self.archive.write_removed(
                    url=item.url, status=item.status, headers=item.headers, body=item.body,
                    fetched_at=item.fetched_at, request_headers=item.request_headers, document=doc)
                outcome = "removed"
        except ArchiveError as exc:
            self.stats.inc_value("archive/failed")
            logger.error("could not archive %s of %s: %s", item.kind, item.url, exc)
            raise
        item.archived = {"outcome": outcome, "key": name.doc_key, "stamp": name.stamp,
                         "kind": name.kind, "digest": name.digest, "fingerprint": None}
        self.stats.inc_value(f"archive/outcome/{outcome}")
        self.stats.inc_value("archive/bytes", len(item.body))
        return item
