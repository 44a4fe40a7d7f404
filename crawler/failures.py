"""The failure ledger: every URL the crawl gave up on, with the reason, in stats and in a list.

A downloader middleware placed just above RedirectMiddleware (600), so it sees each response before
Scrapy's redirect, decompression and retry middlewares act on it, and each download exception before
RetryMiddleware (550). It records a failure only when it is final — a 5xx or a timeout that
RetryMiddleware will retry is not one — and refuses, itself, what must not be followed:

    failed/http_<status>           a final non-2xx answer the request does not handle itself
    failed/timeout                 DOWNLOAD_TIMEOUT, after the retries
    failed/connection_lost         connection reset or closed mid-response, after the retries
    failed/connection_refused      nothing listening, after the retries
    failed/dns                     host not found
    failed/too_large               body over DOWNLOAD_MAXSIZE (the download is cancelled)
    failed/decompression_bomb      gzip/deflate body that inflates past DOWNLOAD_MAXSIZE (refused)
    failed/redirect_loop           a redirect back to a URL of its own chain (refused)
    failed/redirect_max            more than REDIRECT_MAX_TIMES redirects (refused)
    failed/redirect_offsite        a redirect off the site's allowed_domains (refused)
    failed/redirect_private        a redirect to a private/loopback/link-local address (refused)
    failed/offsite                 any other off-scope request (refused by OffsiteMiddleware)
    failed/robots                  forbidden by robots.txt
    failed/extract_<reason>        fetched and archived raw, but no text (pipelines/extract.py)
    failed/<ExceptionName>         anything else

Attachments (pipelines/attachments.py) are not pages: their failures are counted by that stage
(`attachments/failed/<reason>`, `attachments/skipped/too_large`), not here; unsafe redirects are
refused for them too.

`failed/total` counts them all; `failed/ledger` is the list of ``{"url", "reason", "detail"}``
(first FAILURES_MAX_LISTED of them) for the run report; FAILURES_FILE, when set, receives the whole
list as JSON lines when the spider closes. Pipelines add to it with `record_failure`. robots.txt
fetches are not pages and are never recorded.
"""
from __future__ import annotations

import ipaddress
import json
import logging
import zlib
from typing import Any
from urllib.parse import urljoin, urlsplit

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.http import Response
from scrapy.utils.misc import load_object
from twisted.internet import error as neterror
from twisted.web._newclient import ResponseFailed

logger = logging.getLogger(__name__)

_LEDGER_ATTR = "_govarchive_failure_ledger"
# DEFLATE cannot inflate more than 1032:1, so a smaller compressed body cannot be a bomb.
_MAX_DEFLATE_RATIO = 1032
_REDIRECTS = (301, 302, 303, 307, 308)


def record_failure(crawler: Crawler, url: str, reason: str, detail: str = "") -> None:
    """Add a failure to the crawl's ledger (counted in stats even when the ledger is not installed)."""
    ledger: FailureLedger | None = getattr(crawler, _LEDGER_ATTR, None)
    if ledger is not None:
        ledger.record(url, reason, detail)
    elif crawler.stats is not None:
        crawler.stats.inc_value(f"failed/{reason}")
        crawler.stats.inc_value("failed/total")


def _exception_reason(exc: BaseException) -> str:
    if isinstance(exc, DownloadTimeoutError | neterror.TimeoutError | TimeoutError):
        return "timeout"
    if isinstance(exc, DownloadCancelledError):
        # Scrapy cancels a download that passes DOWNLOAD_MAXSIZE: with a message when the
        # Content-Length announced it, without one when the streamed bytes passed it.
        return "too_large" if "max size" in str(exc) or not str(exc) else "cancelled"
    if isinstance(exc, ResponseDataLossError | DownloadFailedError | ResponseFailed
                  | neterror.ConnectionLost | neterror.ConnectionDone | ConnectionResetError):
        return "connection_lost"
    if isinstance(exc, DownloadConnectionRefusedError | neterror.ConnectionRefusedError
                  | ConnectionRefusedError):
        return "connection_refused"
    if isinstance(exc, CannotResolveHostError | neterror.DNSLookupError):
        return "dns"
    if isinstance(exc, IgnoreRequest):
        text = str(exc).lower()
        return "offsite" if "offsite" in text else "robots" if "robots.txt" in text else "ignored"
    return type(exc).__name__


def _private_host(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return host.lower() == "localhost" or host.lower().endswith(".localhost")
    return address.is_private or address.is_loopback or address.is_link_local or address.is_reserved


def _is_robots(request: Request) -> bool:
    return bool(request.meta.get("dont_obey_robotstxt")) and urlsplit(request.url).path == "/robots.txt"


class FailureLedger:
    """Downloader middleware (order 610): records final failures and refuses unsafe redirects."""

    def __init__(self, crawler: Crawler) -> None:
        assert crawler.stats is not None
        settings = crawler.settings
        self.crawler = crawler
        self.stats = crawler.stats
        self.entries: list[dict[str, str]] = []
        self.max_listed = settings.getint("FAILURES_MAX_LISTED", 1000)
        self.max_size = settings.getint("DOWNLOAD_MAXSIZE")
        self.max_redirects = settings.getint("REDIRECT_MAX_TIMES")
        self.retry_enabled = settings.getbool("RETRY_ENABLED")
        self.retry_times = settings.getint("RETRY_TIMES")
        self.retry_codes = {int(x) for x in settings.getlist("RETRY_HTTP_CODES")}
        self.retry_exceptions = tuple(load_object(x) if isinstance(x, str) else x
                                      for x in settings.getlist("RETRY_EXCEPTIONS"))
        self.path = settings.get("FAILURES_FILE")
        self.all_entries: list[dict[str, str]] = []
        setattr(crawler, _LEDGER_ATTR, self)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FailureLedger:
        ledger = cls(crawler)
        crawler.signals.connect(ledger.spider_closed, signal=signals.spider_closed)
        return ledger

    def spider_closed(self) -> None:
        if self.path:
            with open(self.path, "w", encoding="utf-8") as out:
                for entry in self.all_entries:
                    out.write(json.dumps(entry, ensure_ascii=False) + "\n")

    # -- the ledger ------------------------------------------------------------------------------
    def record(self, url: str, reason: str, detail: str = "") -> None:
        self.stats.inc_value(f"failed/{reason}")
        self.stats.inc_value("failed/total")
        entry = {"url": url, "reason": reason, "detail": detail[:300]}
        if len(self.entries) < self.max_listed:
            if not self.entries:  # the stats value is this list, filled as the crawl goes
                self.stats.set_value("failed/ledger", self.entries)
            self.entries.append(entry)
        if self.path:
            self.all_entries.append(entry)
        logger.info("failed: %s (%s) %s", url, reason, detail[:300])

    def _will_retry(self, request: Request, status: int | None = None,
                    exception: BaseException | None = None) -> bool:
        """What RetryMiddleware is about to decide (mirrors its rules)."""
        if not self.retry_enabled or request.meta.get("dont_retry", False):
            return False
        if status is not None and status not in self.retry_codes:
            return False
        if exception is not None and not isinstance(exception, self.retry_exceptions):
            return False
        limit = request.meta.get("max_retry_times", self.retry_times)
        return bool(request.meta.get("retry_times", 0) + 1 <= limit)

    @staticmethod
    def _handles(request: Request, spider: Spider | None, status: int) -> bool:
        meta = request.meta
        if meta.get("handle_httpstatus_all") or status in meta.get("handle_httpstatus_list", ()):
            return True
        return status in getattr(spider, "handle_httpstatus_list", ())

    # -- downloader middleware -----------------------------------------------------------------------
    def process_response(self, request: Request, response: Response,
                         spider: Spider | None = None) -> Response:
        if _is_robots(request):
            return response
        status = response.status
        spider = spider or self.crawler.spider
        if status in _REDIRECTS and b"Location" in response.headers \
                and not request.meta.get("dont_redirect") and not self._handles(request, spider, status):
            self._check_redirect(request, response, spider)
        elif status >= 400 and not self._handles(request, spider, status) \
                and not self._will_retry(request, status=status) and "attachment" not in request.meta:
            origin = (request.meta.get("redirect_urls") or [request.url])[0]
            self.record(origin, f"http_{status}", request.url if origin != request.url else "")
        self._check_bomb(request, response)
        return response

    def process_exception(self, request: Request, exception: BaseException,
                          spider: Spider | None = None) -> None:
        if _is_robots(request) or self._will_retry(request, exception=exception):
            return
        if "attachment" in request.meta:  # counted by the attachments stage (attachments/failed/*)
            return
        reason = _exception_reason(exception)
        if reason == "offsite" and request.meta.get("redirect_urls"):
            reason = "redirect_offsite"
        origin = (request.meta.get("redirect_urls") or [request.url])[0]
        self.record(origin, reason, str(exception))

    def _refuse(self, request: Request, reason: str, detail: str) -> None:
        origin = (request.meta.get("redirect_urls") or [request.url])[0]
        self.record(origin, reason, f"{request.url} {detail}")
        raise IgnoreRequest(f"{reason}: {detail}")

    def _check_redirect(self, request: Request, response: Response, spider: Spider | None) -> None:
        location = (response.headers.get(b"Location") or b"").decode("latin-1").strip()
        target = urljoin(request.url, location)
        chain = [*request.meta.get("redirect_urls", ()), request.url]
        if target in chain:
            self._refuse(request, "redirect_loop", f"→ {target}")
        if request.meta.get("redirect_times", 0) + 1 > self.max_redirects:
            self._refuse(request, "redirect_max", f"more than {self.max_redirects} redirects")
        host = (urlsplit(target).hostname or "").lower()
        allowed = [d.lower() for d in getattr(spider, "allowed_domains", None) or []]
        in_scope = any(host == d or host.endswith("." + d) for d in allowed)
        source_host = (urlsplit(request.url).hostname or "").lower()
        if _private_host(host) and host != source_host and not in_scope:
            self._refuse(request, "redirect_private", f"→ {target}")
        if allowed and not in_scope:
            self._refuse(request, "redirect_offsite", f"→ {target}")

    def _check_bomb(self, request: Request, response: Response) -> None:
        encoding = (response.headers.get(b"Content-Encoding") or b"").lower().strip()
        max_size = int(request.meta.get("download_maxsize", self.max_size) or 0)
        body = response.body
        if encoding not in (b"gzip", b"x-gzip", b"deflate") or not max_size \
                or len(body) * _MAX_DEFLATE_RATIO <= max_size:
            return
        inflater = zlib.decompressobj(wbits=47 if encoding != b"deflate" else 15)
        try:
            size = len(inflater.decompress(body, max_size + 1))
        except zlib.error:
            return  # HttpCompressionMiddleware decides what to do with a broken body
        if size > max_size:
            self._refuse(request, "decompression_bomb",
                         f"{len(body)} bytes inflate past DOWNLOAD_MAXSIZE={max_size}")


def ledger_entries(crawler: Crawler) -> list[dict[str, Any]]:
    """The failures recorded so far in this crawl (empty when the ledger is not installed)."""
    ledger: FailureLedger | None = getattr(crawler, _LEDGER_ATTR, None)
    return list(ledger.entries) if ledger is not None else []
