"""Pages that need a browser: per-site `render = "browser"`, and per-request fallback on challenges.

Three parts, all on top of scrapy-playwright:

* `LazyPlaywrightDownloadHandler` — scrapy-playwright's handler, installed for http/https, that starts
  Playwright and Chromium on the first request that asks for the browser (not at engine start), and
  always launches Debian's chromium with the no-background-networking flags.
* `BrowserMiddleware` — sends `render = "browser"` sites, and any response recognised as a challenge
  or a JavaScript-only shell (`crawler.challenges`), or a list page with no article links, through the
  browser at the site's slower browser rate; then turns the browser's result into an honest response:
  the final main document's status and headers, the rendered DOM as the body, and the server's own
  bytes in `meta["rendering"]`. A page still challenged after the browser is dropped and counted
  as `blocked/<kind>`; it never reaches the spider. Pages are closed here and contexts recycled after
  `BROWSER_CONTEXT_MAX_PAGES` pages, so memory stays bounded.
* `CookieRedirectMiddleware` — a 302 back to the same URL that sets a cookie, retried once with the
  cookie (it would otherwise be dropped as a duplicate), then through the browser.

Stats: `browser/challenge/<kind>`, `browser/shell/<kind>`, `browser/requests`, `browser/passed/<kind>`,
`blocked/<kind>`, `browser/pages`, `browser/contexts/recycled`, `browser/raw_body/missing`.
"""
from __future__ import annotations

import asyncio
import logging
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import suppress
from importlib.metadata import version
from time import monotonic
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from playwright.async_api import Error as PlaywrightError
from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Headers, Response, TextResponse
from scrapy.linkextractors import LinkExtractor
from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler
from scrapy_playwright.page import PageMethod
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding

from crawler.challenges import Detection, detect, detect_in_dom

if TYPE_CHECKING:
    from playwright.async_api import Page, Route
    from playwright.async_api import Request as PlaywrightRequest
    from playwright.async_api import Response as PlaywrightResponse

logger = logging.getLogger(__name__)

_ABORT_TYPES: frozenset[str] = frozenset({"image", "font", "media"})


def abort_heavy_request(request: PlaywrightRequest) -> bool:
    """PLAYWRIGHT_ABORT_REQUEST: the browser never fetches images, fonts or media."""
    return request.resource_type in _ABORT_TYPES


class LazyPlaywrightDownloadHandler(ScrapyPlaywrightDownloadHandler):  # type: ignore[misc]
    """scrapy-playwright's handler, started on the first browser request instead of at engine start.

    Plain requests go through Scrapy's HTTP/1.1 handler exactly as without it; a crawl that never
    asks for the browser never starts Playwright's driver nor Chromium.
    """

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        global _ABORT_TYPES
        settings = crawler.settings
        _ABORT_TYPES = frozenset(settings.getlist("BROWSER_ABORT_RESOURCE_TYPES"))
        options = self.config.launch_options
        if not (self.config.cdp_url or self.config.connect_url):
            options.setdefault("executable_path", settings.get("BROWSER_EXECUTABLE"))
            args = list(options.get("args") or [])
            options["args"] = args + [a for a in settings.getlist("BROWSER_REQUIRED_ARGS")
                                      if a not in args]
        self._started = False
        self._start_lock = asyncio.Lock()

    async def _maybe_launch_in_thread(self) -> None:
        """Engine started: do nothing; the first browser request starts Playwright."""

    def _engine_started(self) -> None:
        """Same, for Scrapy versions before the async download-handler API."""

    async def _download_request(self, request: Request, spider: Spider | None = None) -> Response:
        if not self._started:
            async with self._start_lock:
                if not self._started:
                    logger.info("first browser request (%s): starting Playwright", request.url)
                    await self._launch()
                    self._started = True
                    self.stats.inc_value("browser/started")
        response: Response = await super()._download_request(request, spider)
        return response


# -- what runs inside the browser page ----------------------------------------------------------
# Headers the fulfilled response must not carry: the body handed back to Chromium is already
# de-chunked and decompressed.
_HOP_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


async def watch_documents(page: Page, request: Request) -> None:
    """playwright_page_init_callback: keep the page's main-frame document responses, in order, and
    the server's own bytes of each main-frame document.

    Chromium hands a text document's body back re-encoded as UTF-8 (a GBK page's `response.body()`
    is not what the server sent). So main-frame document requests are fetched here
    (`route.fetch()`, through the context's cookies, redirects not followed) and the page is
    fulfilled with exactly those bytes: what the browser renders and what is archived are the same
    bytes, as the server sent them. Anything else falls back to scrapy-playwright's route (which
    aborts images, fonts and media).
    """
    documents: list[PlaywrightResponse] = []
    raw: list[dict[str, Any]] = []
    request.meta["_browser_documents"] = documents
    request.meta["_browser_raw"] = raw

    def _on_response(response: PlaywrightResponse) -> None:
        with suppress(PlaywrightError):
            if (response.request.resource_type == "document"
                    and response.frame.parent_frame is None):
                documents.append(response)

    async def _capture(route: Route, pw_request: PlaywrightRequest) -> None:
        try:
            main_document = (pw_request.resource_type == "document"
                             and pw_request.is_navigation_request()
                             and pw_request.frame.parent_frame is None
                             and pw_request.method == "GET" and request.method == "GET")
        except PlaywrightError:
            main_document = False
        if not main_document:
            await route.fallback()
            return
        try:
            fetched = await route.fetch(max_redirects=0)
            body = await fetched.body()
            headers = [(h["name"], h["value"]) for h in fetched.headers_array]
        except PlaywrightError as exc:  # let the browser try (and fail) on its own
            logger.debug("raw capture of %s failed: %s", pw_request.url, exc)
            await route.fallback()
            return
        raw.append({"url": fetched.url, "status": fetched.status, "headers": headers,
                    "body": body})
        await route.fulfill(status=fetched.status, headers=_joined(headers), body=body)
        with suppress(PlaywrightError):  # else the driver keeps the body until the context closes
            await fetched.dispose()

    page.on("response", _on_response)
    await page.route("**/*", _capture)


def _joined(headers: list[tuple[str, str]]) -> dict[str, str]:
    """Header pairs as Playwright's fulfill() takes them (Set-Cookie lines joined by newlines)."""
    out: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        if key in _HOP_HEADERS:
            continue
        sep = "\n" if key == "set-cookie" else ", "
        out[key] = f"{out[key]}{sep}{value}" if key in out else value
    return out


async def settle(page: Page, challenge_timeout: float, list_pattern: str | None,
                 list_wait: float) -> None:
    """A PageMethod: wait while the page is a challenge that clears itself (its script sets a cookie
    and reloads), then, on a list page, until an article link appears. Bounded by both timeouts."""
    deadline = monotonic() + challenge_timeout
    while True:
        remaining = deadline - monotonic()
        try:
            await page.wait_for_load_state("load", timeout=max(remaining, 0.1) * 1000)
            html = await page.content()
        except PlaywrightError:  # navigating: the challenge reloads the page
            if remaining <= 0:
                return
            await asyncio.sleep(0.1)
            continue
        if detect_in_dom(html) is None or remaining <= 0:
            break
        with suppress(PlaywrightError):
            await page.wait_for_event("framenavigated", timeout=min(remaining, 2.0) * 1000)
    if list_pattern:
        try:
            await page.wait_for_function(
                "re => Array.from(document.links).some(a => new RegExp(re).test(a.href))",
                arg=list_pattern, timeout=list_wait * 1000)
        except PlaywrightError:  # no link came (or the pattern is not a JS regex): take the DOM
            with suppress(PlaywrightError):
                await page.wait_for_load_state("networkidle", timeout=list_wait * 1000)


# -- the middleware -------------------------------------------------------------------------------
def _pairs(headers: Headers) -> list[tuple[str, str]]:
    return list(_iter_pairs(headers))


def _iter_pairs(headers: Headers) -> Iterator[tuple[str, str]]:
    # dict.items: Headers keeps its names normalised already; its own items() normalises each again.
    return ((k.decode("latin-1"), v.decode("latin-1")) for k, vs in dict.items(headers) for v in vs)


def _encode_dom(text: str, headers: list[tuple[str, str]]) -> tuple[bytes, str]:
    """The DOM in the charset the page declares (header, then <meta>), as a browser would save it."""
    content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
    for encoding in (http_content_type_encoding(content_type), html_body_declared_encoding(text)):
        if encoding:
            with suppress(UnicodeEncodeError, LookupError):
                return text.encode(encoding), encoding
    return text.encode("utf-8"), "utf-8"


def _faithful(body: bytes, headers: list[tuple[str, str]]) -> bytes | None:
    """The browser's body of a document when it is the server's bytes, else None.

    Chromium hands text documents back decoded and re-encoded as UTF-8: a GBK page's "body" is not
    what the server sent. Only a document declared UTF-8 (header or <meta>) comes back byte-exact.
    """
    content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
    declared = http_content_type_encoding(content_type) or html_body_declared_encoding(body)
    if declared != "utf-8":
        return None
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return body


class BrowserMiddleware:
    """Route requests through the browser when the site or the response calls for it (see module)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        assert crawler.stats is not None
        self.stats = crawler.stats
        self.fallback = settings.getbool("BROWSER_FALLBACK", True)
        self.render = "http"
        self.sticky = True
        self.delay = settings.getfloat("BROWSER_DOWNLOAD_DELAY", 3.0)
        self.concurrency = 1
        self.context_max_pages = max(1, settings.getint("BROWSER_CONTEXT_MAX_PAGES", 40))
        self.challenge_timeout = settings.getfloat("BROWSER_CHALLENGE_TIMEOUT", 15.0)
        self.list_wait = settings.getfloat("BROWSER_LIST_WAIT", 5.0)
        self.user_agent = settings.get("BROWSER_USER_AGENT")
        self.articles: LinkExtractor | None = None
        self.hanweb = False
        self.article_pattern: str | None = None
        self.site = "?"
        self.browser_hosts: set[str] = set()  # hosts that challenged: the rest goes through the browser
        self.blocked: dict[str, list[str]] = defaultdict(list)
        # context recycling: pages handed to each context, pages still open in each
        self._generation = 0
        self._assigned: Counter[str] = Counter()
        self._open: Counter[str] = Counter()
        self.renderer = f"Chromium via scrapy-playwright {version('scrapy-playwright')}"

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BrowserMiddleware:
        mw = cls(crawler)
        crawler.signals.connect(mw.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(mw.spider_closed, signal=signals.spider_closed)
        return mw

    def spider_opened(self, spider: Spider) -> None:
        site = getattr(spider, "site", None)
        if site is None:
            return
        self.site = site.slug
        fetch = site.fetch
        self.render, self.fallback, self.sticky = fetch.render, fetch.fallback, fetch.sticky
        if fetch.browser_delay is not None:
            self.delay = fetch.browser_delay
        self.concurrency = site.politeness.concurrency
        self.article_pattern = site.article.url_pattern
        self.hanweb = site.hanweb is not None  # its lists are read by crawler/hanweb.py
        self.articles = LinkExtractor(allow=site.article.url_pattern,
                                      restrict_xpaths=site.listing.link_area or ())

    def spider_closed(self, spider: Spider) -> None:
        for kind, urls in sorted(self.blocked.items()):
            logger.warning("site %s blocked by %s after the browser retry: %d request(s), e.g. %s",
                           self.site, kind, len(urls), ", ".join(urls[:3]))

    # -- requests ---------------------------------------------------------------------------------
    def process_request(self, request: Request) -> None:
        meta = request.meta
        if _is_robots(request) or "attachment" in meta:  # files (pipelines/attachments.py): plain HTTP
            return
        host = urlsplit(request.url).netloc
        reason = meta.get("browser")
        if meta.get("playwright") and reason is None:
            return  # someone else's browser request
        # (a browser request retried after an exception is prepared again: a fresh context slot)
        if reason is None and (self.render == "browser" or host in self.browser_hosts):
            reason = "render" if self.render == "browser" else "sticky"
        if reason is None:
            return
        self._prepare(request, reason, host)

    def _prepare(self, request: Request, reason: str, host: str) -> None:
        """Fill the scrapy-playwright meta of a request about to be downloaded by the browser."""
        if self._assigned[f"browser-{self._generation}"] >= self.context_max_pages:
            self._generation += 1
        context = f"browser-{self._generation}"
        self._assigned[context] += 1
        self._open[context] += 1
        request.meta["_browser_counted"] = context
        is_list = "list_page" in request.meta and not self.hanweb
        slot = f"browser:{host}"
        assert self.crawler.engine is not None
        self.crawler.engine.downloader.per_slot_settings.setdefault(
            slot, {"concurrency": self.concurrency, "delay": self.delay})
        request.meta.update({
            "browser": reason, "playwright": True, "playwright_include_page": True,
            "playwright_context": context,
            "playwright_context_kwargs": {"user_agent": self.user_agent, "service_workers": "block"},
            "playwright_page_init_callback": "crawler.browser.watch_documents",
            "playwright_page_methods": [PageMethod(
                settle, self.challenge_timeout, self.article_pattern if is_list else None,
                self.list_wait)],
            "download_slot": slot, "autothrottle_dont_adjust_delay": True,
        })
        self.stats.inc_value("browser/requests")
        self.stats.inc_value(f"browser/requests/{reason}")

    def _to_browser(self, request: Request, reason: str) -> Request:
        meta = {k: v for k, v in request.meta.items() if k != "download_slot"}
        meta["browser"] = reason
        return request.replace(meta=meta, dont_filter=True)

    # -- responses --------------------------------------------------------------------------------
    async def process_response(self, request: Request, response: Response) -> Response | Request:
        if request.meta.get("playwright"):
            return await self._browser_response(request, response)
        if _is_robots(request) or not self.fallback or "attachment" in request.meta:
            return response
        # The headers as a generator: detect() reads them only for a redirect.
        found = detect(response.status, _iter_pairs(response.headers), response.body, response.url,
                       (request.headers.get(b"User-Agent") or b"").decode("latin-1"))
        if found is not None and found.kind == "cookie_redirect":
            return response  # CookieRedirectMiddleware's
        if found is not None and found.is_challenge:
            self.stats.inc_value(f"browser/challenge/{found.kind}")
            logger.info("%s challenge (%s) at %s: retrying through the browser", found.kind,
                        found.reason, request.url)
            if self.sticky:
                self.browser_hosts.add(urlsplit(request.url).netloc)
            return self._to_browser(request, found.kind)
        if found is None and self._empty_list(request, response):
            found = Detection("empty_list", "no article link on a list page")
        if found is not None:
            self.stats.inc_value(f"browser/shell/{found.kind}")
            logger.info("%s (%s) at %s: retrying through the browser", found.kind, found.reason,
                        request.url)
            return self._to_browser(request, found.kind)
        return response

    def _empty_list(self, request: Request, response: Response) -> bool:
        """A column's first list page with no article link, and scripts that could build one.

        A later page (the end of a list) or a page without any script is an empty list, not a
        JavaScript shell: it never starts a browser."""
        if (request.meta.get("list_page") != 1 or self.hanweb or self.articles is None
                or response.status != 200 or not isinstance(response, TextResponse)
                or not _SCRIPT.search(response.body[:256 * 1024])):
            return False
        return not self.articles.extract_links(response)

    async def _browser_response(self, request: Request, response: Response) -> Response:
        page: Page | None = request.meta.pop("playwright_page", None)
        documents: list[PlaywrightResponse] = request.meta.pop("_browser_documents", [])
        raw: list[dict[str, Any]] = request.meta.pop("_browser_raw", [])
        reason = request.meta.get("browser", "render")
        try:
            status, headers, server_body = response.status, _pairs(response.headers), None
            if documents:
                final = documents[-1]
                status = final.status
                captured = next((r for r in reversed(raw)
                                 if r["url"] == final.url and r["status"] == status), None)
                if captured is not None:  # the server's bytes, as fetched by watch_documents
                    headers, server_body = captured["headers"], captured["body"]
                    self.stats.inc_value("browser/raw_body/captured")
                else:
                    with suppress(PlaywrightError):
                        headers = [(h["name"], h["value"]) for h in await final.headers_array()]
                    try:
                        server_body = _faithful(await final.body(), headers)
                    except PlaywrightError:
                        server_body = None
                if server_body is None:
                    self.stats.inc_value("browser/raw_body/missing")
            navigations = [{"url": d.url, "status": d.status} for d in documents]
        finally:
            await self._release(request, page)
        self.stats.inc_value("browser/pages")
        text = response.text if isinstance(response, TextResponse) else response.body.decode(
            "utf-8", "replace")
        body, encoding = _encode_dom(text, headers)
        found = detect(status, headers, body, response.url, self.user_agent) or detect_in_dom(text)
        if found is not None and found.is_challenge:
            self.stats.inc_value(f"blocked/{found.kind}")
            self.blocked[found.kind].append(request.url)
            logger.warning("%s still challenged (%s) after the browser: not archived", request.url,
                           found.reason)
            raise IgnoreRequest(f"blocked by {found.kind} challenge: {request.url}")
        if reason not in ("render", "sticky") or len(navigations) > 1:
            self.stats.inc_value(f"browser/passed/{reason}")
        if self._empty_list(request, response):
            self.stats.inc_value("browser/shell/still_empty")
        request.meta["rendering"] = {
            "by": self.renderer, "reason": reason, "encoding": encoding,
            "server_body": server_body, "server_headers": headers, "navigations": navigations,
        }
        # The Scrapy response keeps no Content-Encoding: the DOM is not compressed.
        scrapy_headers = Headers()
        for name, value in headers:
            if name.lower() not in ("content-encoding", "content-length", "transfer-encoding"):
                scrapy_headers.appendlist(name, value)
        return response.replace(status=status, headers=scrapy_headers, body=body, encoding=encoding)

    async def process_exception(self, request: Request, exception: BaseException) -> None:
        if request.meta.get("playwright"):
            request.meta.pop("_browser_documents", None)
            request.meta.pop("_browser_raw", None)
            await self._release(request, request.meta.pop("playwright_page", None))

    async def _release(self, request: Request, page: Page | None) -> None:
        """Close the page; close its context once it has served its pages and none is open.

        Also for a request that failed before it had a page: with PLAYWRIGHT_MAX_CONTEXTS = 1 a
        context left counting a page that never comes would stop every later browser request."""
        browser_context = page.context if page is not None else None
        if page is not None:
            with suppress(PlaywrightError):
                await page.close()
        context = request.meta.pop("_browser_counted", None)
        if context is None or context not in self._open:
            return
        self._open[context] -= 1
        if context != f"browser-{self._generation}" and self._open[context] <= 0:
            del self._open[context]
            if browser_context is None:
                handler = self._handler()
                wrapper = getattr(handler, "context_wrappers", {}).get(context)
                browser_context = getattr(wrapper, "context", None)
            if browser_context is not None:
                with suppress(PlaywrightError):
                    await browser_context.close()
            self.stats.inc_value("browser/contexts/recycled")

    def _handler(self) -> object | None:
        assert self.crawler.engine is not None
        handlers = self.crawler.engine.downloader.handlers
        return handlers._handlers.get("http") if hasattr(handlers, "_handlers") else None


class CookieRedirectMiddleware:
    """A 30x back to the same URL that sets a cookie: retried once with the cookie, then in the browser.

    Runs above RedirectMiddleware, which would re-issue the same URL and have it dropped as a duplicate.
    """

    def __init__(self, crawler: Crawler) -> None:
        assert crawler.stats is not None
        self.stats = crawler.stats
        self.fallback = crawler.settings.getbool("BROWSER_FALLBACK", True)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CookieRedirectMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response | Request:
        if not (300 <= response.status < 400) or request.meta.get("playwright"):
            return response
        found = detect(response.status, _pairs(response.headers), b"", response.url)
        if found is None or found.kind != "cookie_redirect":
            return response
        self.stats.inc_value("browser/challenge/cookie_redirect")
        tries = request.meta.get("cookie_redirect_tries", 0)
        meta = {**request.meta, "cookie_redirect_tries": tries + 1}
        if tries == 0:
            return request.replace(meta=meta, dont_filter=True)
        if not self.fallback or tries > 1:
            self.stats.inc_value("blocked/cookie_redirect")
            raise IgnoreRequest(f"blocked by cookie_redirect: {request.url}")
        meta["browser"] = "cookie_redirect"
        return request.replace(meta=meta, dont_filter=True)


_ROBOTS = re.compile(r"^/robots\.txt$")
_SCRIPT = re.compile(rb"<script\b", re.I)


def _is_robots(request: Request) -> bool:
    return bool(request.meta.get("dont_obey_robotstxt")) and bool(
        _ROBOTS.match(urlsplit(request.url).path))
