"""Stage 3b: fetch the files an article's body links to, and say in its document what became of each.

The extractor lists the body's links to pdf/doc/docx/xls/xlsx/wps/ofd/zip/rar files in the document's
`attachments` (name, URL). This stage fetches each through Scrapy's engine (downloader middlewares:
robots.txt, retries, redirects, politeness and the per-request `download_maxsize` =
ATTACHMENT_MAX_BYTES) and puts the raw response on the item (`attachment_files`); the archive stage
writes each as a WARC capture of kind `attachment` under the file's own URL, through the same spool as
pages, before the article. Every listed attachment's entry in the document gets a `status`:

    archived     fetched now: `key` (its WARC), `sha1`, `bytes`, `content_type`
    unchanged    already archived and not changed (a 304 to a conditional GET, the same bytes, or no
                 validator to ask with): the archived capture's `key`, `sha1`, `bytes`
    skipped      not fetched or not kept, with a `reason`: `off_scope` (host not in the site's
                 allowed_domains), `too_large` (over ATTACHMENT_MAX_BYTES; `bytes` when announced)
    failed       with a `reason`: `http_<status>`, `timeout`, `robots`, `challenge_<kind>` (a 200
                 challenge page in place of the file, crawler/challenges.py), … (`http_status` when
                 answered)

A URL is fetched once per run: an attachment linked from several articles is fetched for the first
and its outcome repeated for the others. Stats: `attachments/listed`, `attachments/fetched`,
`attachments/archived` (written, by the archive stage), `attachments/unchanged`,
`attachments/duplicate`, `attachments/skipped/<reason>`, `attachments/failed/<reason>`.
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DownloadCancelledError, DownloadTimeoutError, IgnoreRequest, NotConfigured
from scrapy.http import Headers, Response
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred
from twisted.internet.error import TimeoutError as TxTimeoutError
from twisted.internet.threads import deferToThread

from crawler.challenges import detect
from crawler.items import PageCapture
from pipelines.archive import store_from_settings
from pipelines.storage import ArchiveError
from pipelines.storage.archive import Archive
from pipelines.storage.keys import BadURL, canonical_url, capture_name, url_prefix

logger = logging.getLogger(__name__)

Entry = dict[str, Any]  # one attachment in the article's document


def in_scope(url: str, allowed_domains: Iterable[str]) -> bool:
    """True when the URL's host is one of the site's allowed domains or under one (ports ignored);
    False for a URL that does not parse (`http://[::1`)."""
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return False
    return bool(host) and any(host == d or host.endswith("." + d)
                              for d in (d.lower().strip(".") for d in allowed_domains))


def failure_reason(exc: BaseException) -> tuple[str, str]:
    """(`skipped`|`failed`, reason) for a download that raised."""
    if isinstance(exc, DownloadCancelledError):  # Scrapy cancels a download past download_maxsize
        return "skipped", "too_large"
    if isinstance(exc, IgnoreRequest):
        text = str(exc).lower()
        return "failed", ("robots" if "robots.txt" in text else "offsite" if "offsite" in text
                          else "ignored")
    if isinstance(exc, DownloadTimeoutError | TxTimeoutError | TimeoutError):
        return "failed", "timeout"
    return "failed", type(exc).__name__


def _pairs(headers: Headers) -> list[tuple[str, str]]:
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, vs in headers.items() for v in vs]


def _header(headers: Headers, name: str) -> str | None:
    value = headers.get(name)
    return value.decode("latin-1") if value else None


class AttachmentsPipeline:
    def __init__(self, crawler: Crawler, archive: Archive, max_bytes: int) -> None:
        assert crawler.stats is not None
        self.crawler = crawler
        self.stats = crawler.stats
        self.archive = archive
        self.max_bytes = max_bytes
        self._done: dict[str, Entry] = {}  # URL → its outcome this run
        self._waiting: dict[str, list[Deferred[Entry]]] = {}  # URL being fetched → who waits for it

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AttachmentsPipeline:
        settings = crawler.settings
        if not settings.getbool("ATTACHMENTS_ENABLED", True):
            raise NotConfigured("ATTACHMENTS_ENABLED is off")
        pipeline = cls(crawler, Archive(store_from_settings(settings)),
                       settings.getint("ATTACHMENT_MAX_BYTES", 50 * 1024 * 1024))
        crawler.signals.connect(pipeline.headers_received, signal=signals.headers_received)
        return pipeline

    def headers_received(self, headers: Headers, body_length: int, request: Request) -> None:
        """Remember the size an attachment announced, to say it when the download is cancelled. The
        holder dict in `meta["attachment"]` is shared by the retried and redirected copies."""
        holder = request.meta.get("attachment")
        if isinstance(holder, dict) and isinstance(body_length, int) and body_length >= 0:
            holder["announced"] = body_length

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, PageCapture) or not (item.document or {}).get("attachments"):
            return item
        assert item.document is not None
        listed = item.document["attachments"]
        self.stats.inc_value("attachments/listed", len(listed))
        item.document["attachments"] = [await self._guarded(dict(entry), item) for entry in listed]
        return item

    async def _guarded(self, entry: Entry, item: PageCapture) -> Entry:
        """One attachment; whatever it raises is its own failure, never its article's (the article
        still goes on to be archived)."""
        try:
            return await self._one(entry, item)
        except Exception as exc:
            logger.warning("attachment %r of %s: %s: %s", entry.get("url"), item.url,
                           type(exc).__name__, exc)
            return self._outcome(entry, {"status": "failed", "reason": type(exc).__name__})

    async def _one(self, entry: Entry, item: PageCapture) -> Entry:
        url = entry.get("url") or ""
        spider = self.crawler.spider
        if not in_scope(url, getattr(spider, "allowed_domains", None) or ()):
            return self._outcome(entry, {"status": "skipped", "reason": "off_scope"})
        if url in self._done:
            self.stats.inc_value("attachments/duplicate")
            return {**entry, **self._done[url]}
        if url in self._waiting:  # another article is fetching it right now
            self.stats.inc_value("attachments/duplicate")
            waiter: Deferred[Entry] = Deferred()
            self._waiting[url].append(waiter)
            shared: Entry = await maybe_deferred_to_future(waiter)
            return {**entry, **shared}
        self._waiting[url] = []
        outcome: Entry = {"status": "failed", "reason": "error"}
        try:
            outcome = await self._fetch(url, entry.get("name"), item)
        finally:
            self._done[url] = outcome
            for waiter in self._waiting.pop(url):
                waiter.callback(outcome)
        return self._outcome(entry, outcome)

    def _outcome(self, entry: Entry, outcome: Entry) -> Entry:
        status, reason = outcome["status"], outcome.get("reason")
        if status != "archived":  # `attachments/archived` is counted by the archive stage, once written
            self.stats.inc_value(f"attachments/{status}/{reason}" if reason else f"attachments/{status}")
        if status in ("skipped", "failed"):
            logger.info("attachment %s %s: %s", entry.get("url"), status, reason)
        return {**entry, **outcome}

    async def _fetch(self, url: str, name: str | None, item: PageCapture) -> Entry:
        known = await maybe_deferred_to_future(deferToThread(self._known, url))
        headers = {}
        if known is not None:
            if known.get("etag"):
                headers["If-None-Match"] = known["etag"]
            if known.get("last_modified"):
                headers["If-Modified-Since"] = known["last_modified"]
            if not headers:  # archived, and nothing to ask the server whether it changed with
                return self._unchanged(known)
        holder: dict[str, int] = {}
        # raw_only: no encoding decision for a file (crawler/middlewares.py).
        request = Request(url, headers=headers, dont_filter=True, meta={
            "attachment": holder, "raw_only": True, "download_maxsize": self.max_bytes})
        assert self.crawler.engine is not None
        try:
            response = await self.crawler.engine.download_async(request)
        except Exception as exc:
            status, reason = failure_reason(exc)
            outcome: Entry = {"status": status, "reason": reason}
            if reason == "too_large":
                outcome.update(bytes=holder.get("announced"), max_bytes=self.max_bytes)
            return outcome
        self.stats.inc_value("attachments/fetched")
        if response.status == 304 and known is not None:
            return self._unchanged(known)
        if response.status != 200:
            return {"status": "failed", "reason": f"http_{response.status}",
                    "http_status": response.status}
        # A 200 challenge (瑞数, 加速乐…) in place of the file is no file: files go by plain HTTP (the
        # browser middleware leaves them alone), so it is recorded, not archived as the attachment.
        found = detect(response.status, _pairs(response.headers), response.body, url)
        if found is not None and found.is_challenge:
            return {"status": "failed", "reason": f"challenge_{found.kind}", "http_status": 200}
        sha1 = hashlib.sha1(response.body).hexdigest()
        if known is not None and known.get("sha1") == sha1:
            return self._unchanged(known)
        return self._keep(url, name, response, sha1, item)

    def _keep(self, url: str, name: str | None, response: Response, sha1: str,
              item: PageCapture) -> Entry:
        """Hand the file to the archive stage (on the item); its key is known now: the fetch time
        and the bytes fix it."""
        fetched_at = datetime.now(UTC)
        content_type = _header(response.headers, "Content-Type")
        document = {"site": item.site, "column": item.column, "title": name, "text": None,
                    "content_type": content_type, "attachment_of": item.url,
                    # the whole digest, kept: lean documents leave out raw_sha1 (the key has 12
                    # digits of it), and a re-fetch compares it with the bytes it gets
                    "sha1": sha1,
                    "final_url": response.url if response.url != url else None,
                    "etag": _header(response.headers, "ETag"),
                    "last_modified": _header(response.headers, "Last-Modified")}
        request = response.request
        item.attachment_files.append({
            "url": url, "status": response.status, "headers": _pairs(response.headers),
            "body": response.body, "fetched_at": fetched_at,
            "request_headers": _pairs(request.headers) if request is not None else [],
            "document": document, "previous": None})
        key = capture_name(url_prefix(canonical_url(url)[0]), fetched_at, "attachment", sha1).raw_key
        return {"status": "archived", "key": key, "sha1": sha1, "bytes": len(response.body),
                "content_type": content_type}

    def _unchanged(self, known: Entry) -> Entry:
        return {"status": "unchanged", **{k: known.get(k) for k in ("key", "sha1", "bytes",
                                                                     "content_type")}}

    def _known(self, url: str) -> Entry | None:
        """What the archive holds of this URL as an attachment (runs in a thread): the newest
        capture's key, sha1, size and validators; None when never archived or unreadable."""
        try:
            capture = next((c for c in self.archive.captures(url) if c.kind == "attachment"), None)
            if capture is None:
                return None
            doc = self.archive.document(capture, resolve=False)
        except (ArchiveError, BadURL, ValueError) as exc:
            logger.warning("cannot check attachment %s in the archive (%s): fetching it", url, exc)
            return None
        return {"key": capture.name.raw_key, "sha1": doc.get("sha1") or doc.get("raw_sha1"),
                "bytes": doc.get("raw_bytes"),
                "content_type": doc.get("content_type"), "etag": doc.get("etag"),
                "last_modified": doc.get("last_modified")}
