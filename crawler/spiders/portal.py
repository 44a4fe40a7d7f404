"""The one generic spider: walks a portal's list pages and hands article pages, raw, to the pipelines.

    scrapy crawl portal -a site=SLUG                                     incremental (the nightly run)
    scrapy crawl portal -a site=SLUG -a mode=recrawl [-a since=DATE] [-a until=DATE] [-a full=1]

Everything site-specific comes from `settings/sites/SLUG.toml`.

Incremental runs read the site's index (`index/SLUG.json.gz`, pipelines/storage/index.py) when they
open and write it when they close. List pages are always fetched (`dont_filter`, no JOBDIR); a
column's pagination stops after `[list].stop_after_known` already-archived articles in a row;
archived articles are not fetched again unless due for a re-check (RECHECK_DAYS, RECHECK_EVERY_DAYS),
which is a conditional GET: 304 → a revisit record, 404/410 → a removal record, 200 → the archive
stage keeps a new version only when the clean text changed. A recrawl walks every list page in the
date range and re-checks every archived article in it.
"""
from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, UsageError
from scrapy.http import Response, TextResponse
from scrapy.linkextractors import LinkExtractor
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.threads import deferToThread
from twisted.python.failure import Failure

from crawler import hanweb, multipage
from crawler.items import PageCapture, StatusRecord
from crawler.pagination import trs_next_page
from pipelines.archive import store_from_settings
from pipelines.storage.archive import Archive
from pipelines.storage.base import ArchiveError
from pipelines.storage.index import Entry, SiteIndex, entry_date, url_date
from pipelines.storage.keys import BadURL, stamp
from settings.sites import Site, SiteFileError, load_site

logger = logging.getLogger(__name__)

# Statuses a re-check must see in its callback (Scrapy's HttpErrorMiddleware drops them otherwise).
RECHECK_STATUSES = [304, 404, 410]
REMOVED_STATUSES = (404, 410)
# Anti-bot answers (RESEARCH.md §6): counted as `blocked`, not as ordinary failures.
BLOCKED_STATUSES = (403, 412, 429, 521)


def _headers(headers: Any) -> list[tuple[str, str]]:
    # dict.items: Scrapy's Headers keeps its names normalised; its own items() normalises each again.
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, vs in dict.items(headers) for v in vs]


def _header(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    return next((v for k, v in headers if k.lower() == name), None)


def parse_day(text: str | None, arg: str) -> date | None:
    """A `since`/`until` spider argument: 2026-11-20 or 20261120."""
    if not text:
        return None
    try:
        return date.fromisoformat(text) if "-" in text else datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        raise UsageError(f"portal spider: {arg}={text!r} is not a date (YYYY-MM-DD)") from None


def conditional_headers(entry: Entry) -> dict[str, str]:
    """If-None-Match / If-Modified-Since from what the last fetch of the URL answered."""
    headers = {}
    if entry.get("etag"):
        headers["If-None-Match"] = entry["etag"]
    if entry.get("last_modified"):
        headers["If-Modified-Since"] = entry["last_modified"]
    return headers


def next_page(site: Site, response: TextResponse) -> str | None:
    """The next list page by the site's pagination rule, or None."""
    rule = site.listing.pagination
    if rule in ("trs", "auto"):
        found = trs_next_page(response.text, response.url)
        if found or rule == "trs":
            return found
    if rule in ("next_link", "auto"):
        href = response.xpath(site.listing.next_page).get()
        return response.urljoin(href.strip()) if href and not href.startswith("javascript") else None
    return None


class PortalSpider(scrapy.Spider):
    name = "portal"
    site: Site
    index: SiteIndex
    archive: Archive
    allowed_domains: list[str]
    articles: LinkExtractor
    column_of: dict[str, str]
    mode: str = "incremental"
    full: bool = False
    since: date | None = None
    until: date | None = None
    settled_before: str | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> PortalSpider:
        slug = kwargs.get("site")
        if not slug:
            raise UsageError("portal spider needs a site: scrapy crawl portal -a site=SLUG")
        try:
            site = load_site(slug, crawler.settings.get("SITES_DIR"))
        except SiteFileError as exc:
            raise UsageError(str(exc)) from None
        mode = kwargs.get("mode", "incremental")
        if mode not in ("incremental", "recrawl"):
            raise UsageError(f"portal spider: mode={mode!r}: expected incremental or recrawl")
        # Per-site politeness, applied before the crawler freezes its settings.
        crawler.settings.set("DOWNLOAD_DELAY", site.politeness.download_delay, priority="spider")
        crawler.settings.set("CONCURRENT_REQUESTS_PER_DOMAIN", site.politeness.concurrency,
                             priority="spider")
        spider: PortalSpider = super().from_crawler(crawler, *args, **kwargs)
        spider.site = site
        spider.mode = mode
        spider.full = str(kwargs.get("full", "")).lower() in ("1", "true", "yes")
        spider.since = parse_day(kwargs.get("since"), "since")
        spider.until = parse_day(kwargs.get("until"), "until")
        spider.allowed_domains = list(site.allowed_domains)
        spider.articles = LinkExtractor(allow=site.article.url_pattern,
                                        restrict_xpaths=site.listing.link_area or (), unique=True)
        spider.column_of = {str(c.url): c.name for c in site.columns}
        spider.archive = Archive(store_from_settings(crawler.settings))
        crawler.signals.connect(spider.item_scraped, signal=signals.item_scraped)
        return spider

    # -- start: the index, the list pages, the re-checks ------------------------------------------
    def _start_urls(self) -> list[str]:
        starts = [str(u) for u in self.site.start_urls]
        return starts + [u for u in self.column_of if u not in starts]

    async def start(self) -> AsyncIterator[scrapy.Request]:
        settings = self.crawler.settings
        urls = self._start_urls()
        max_age = settings.getfloat("INDEX_MAX_AGE_DAYS", 30)
        self.index = await maybe_deferred_to_future(deferToThread(
            SiteIndex.load, self.archive, self.site.slug, urls, urls[0].split(":", 1)[0],
            timedelta(days=max_age) if max_age > 0 else None))
        self.crawler.stats.set_value("portal/index/entries", len(self.index.entries))
        # Crash safety (issue 5, part 2): see _settled.
        finished = await maybe_deferred_to_future(deferToThread(self._last_finished_run))
        self.settled_before = finished or self.index.saved_at
        if self.index.rebuilt:
            self.crawler.stats.set_value("portal/index/rebuilt", 1)
        for url in urls:
            # List pages are fetched every run, whatever a dupefilter or an old JOBDIR remembers.
            yield scrapy.Request(url, self.parse_list, errback=self.failed, dont_filter=True,
                                 priority=10, meta={"column": self.column_of.get(url),
                                                    "list_page": 1, "known_run": 0})
        for entry in self._rechecks():
            self.crawler.stats.inc_value("portal/recheck/scheduled")
            yield self._article(entry["url"], entry.get("column"), entry)

    def _rechecks(self) -> list[Entry]:
        settings = self.crawler.settings
        if self.mode == "recrawl":  # later pages of multi-page articles come with their first page
            return [e for e in self.index.in_range(self.since, self.until) if not e.get("part_of")]
        due = [e for e in self.index.due(datetime.now(UTC), settings.getint("RECHECK_DAYS", 30),
                                         settings.getfloat("RECHECK_EVERY_DAYS", 7))
               if not e.get("part_of")]
        limit = settings.getint("RECHECK_MAX", 0)
        return due[:limit] if limit > 0 else due

    def _article(self, url: str, column: str | None, entry: Entry | None) -> scrapy.Request:
        meta, headers = self.recheck_of(entry)
        # The first page of a multi-page article is fetched whole: its other pages are re-checked
        # (crawler/multipage.py) only when it is, and a 304 would stop them there.
        if entry is not None and entry.get("pages"):
            headers = {}
        return scrapy.Request(url, self.parse_article, errback=self.failed,
                              meta={"column": column, **meta}, headers=headers)

    def recheck_of(self, entry: Entry | None) -> tuple[dict[str, Any], dict[str, str]]:
        """Request meta and headers that make a fetch of an archived URL a re-check."""
        if entry is None:
            return {}, {}
        meta = {"previous": entry, "handle_httpstatus_list": RECHECK_STATUSES}
        return meta, ({} if self.full else conditional_headers(entry))

    # -- list pages --------------------------------------------------------------------------------
    async def parse_list(self, response: Response) -> AsyncIterator[scrapy.Request]:
        stats = self.crawler.stats
        if not isinstance(response, TextResponse):
            stats.inc_value("portal/list/not_text")
            return
        stats.inc_value("portal/list/pages")
        if self.site.hanweb is not None:  # Hanweb lists from dataproxy.jsp, no browser (issue 6)
            for request in hanweb.walk(self, response):
                yield request
            return
        column = response.meta.get("column")
        links = [link.url for link in self.articles.extract_links(response)]
        stats.inc_value("portal/articles/seen", len(links))
        entries = await maybe_deferred_to_future(deferToThread(self._lookup, links))
        known_run = response.meta.get("known_run", 0)
        dates: list[date] = []
        for url, entry in zip(links, entries, strict=True):
            known = entry is not None and entry.get("kind") != "removed"
            day = (entry_date(entry) if entry else None) or url_date(url)
            if day is not None:
                dates.append(day)
            # Crash safety (issue 5, part 2): only articles archived before the last finished run
            # ended count towards stop_after_known; see _settled.
            known_run = known_run + 1 if known and self._settled(entry) else 0
            if self.mode == "recrawl":
                if day is not None and ((self.since and day < self.since) or
                                        (self.until and day > self.until)):
                    stats.inc_value("portal/articles/out_of_range")
                    continue
                yield self._article(url, column, entry)
            elif known:
                stats.inc_value("portal/articles/known")
            else:
                stats.inc_value("portal/articles/new_links")
                yield self._article(url, column, entry)
        page = response.meta.get("list_page", 1)
        if page >= self.site.listing.max_pages:
            return
        if self.mode == "incremental":
            limit = self.site.listing.stop_after_known
            if limit and known_run >= limit:
                stats.inc_value("portal/list/stopped_known")
                return
        elif self.since and dates and max(dates) < self.since:
            stats.inc_value("portal/list/stopped_since")
            return
        next_url = self._next_page(response)
        if next_url:
            yield response.follow(next_url, self.parse_list, errback=self.failed, dont_filter=True,
                                  priority=-10, meta={"column": column, "list_page": page + 1,
                                                     "known_run": known_run})

    def _settled(self, entry: Entry | None) -> bool:
        """An article archived before the last run that walked to its end had finished.

        Crash safety (issue 5, part 2): a run killed (or cut by its time budget) mid-walk archives
        the newest articles of a column and never reaches the older ones; its captures must not
        stop the next walk before those. Only captures older than the end of the newest run whose
        report says `finished` count (else older than the index's last save, when no report is
        there); with neither, the walk goes to max_pages."""
        done = (entry or {}).get("captured") or (entry or {}).get("stamp")
        return bool(self.settled_before and done and str(done) < self.settled_before)

    def _last_finished_run(self) -> str | None:
        """The stamp at which the newest `finished` run of this site ended (from runs/<site>/)."""
        try:
            keys = sorted(self.archive.store.list(f"runs/{self.site.slug}/"), reverse=True)
            for key in keys[:20]:
                report = json.loads(self.archive.store.get(key))
                if report.get("finish_reason") == "finished" and report.get("started_at"):
                    end = datetime.fromisoformat(report["started_at"]) + timedelta(
                        seconds=float(report.get("duration") or 0))
                    return stamp(end)
        except (ArchiveError, ValueError, TypeError) as exc:
            logger.warning("cannot read the run reports of %s: %s", self.site.slug, exc)
        return None

    def _lookup(self, urls: list[str]) -> list[Entry | None]:
        """Index entries of article URLs (runs in a thread: a miss may list the archive)."""
        out: list[Entry | None] = []
        for url in urls:
            try:
                out.append(self.index.lookup(self.archive, url))
            except BadURL:
                out.append(None)
        return out

    def _next_page(self, response: TextResponse) -> str | None:
        return next_page(self.site, response)

    # -- articles ----------------------------------------------------------------------------------
    async def parse_article(self, response: Response) -> AsyncIterator[PageCapture | StatusRecord
                                                                       | scrapy.Request]:
        stats = self.crawler.stats
        if response.meta.get("previous") is not None:
            stats.inc_value(f"portal/recheck/status/{response.status}")
        record = self._record(response)
        if isinstance(record, StatusRecord):
            yield record
            return
        stats.inc_value("portal/articles/fetched")
        async for out in multipage.article(self, response, record):  # itself, or its other pages
            yield out

    async def parse_article_part(self, response: Response) -> AsyncIterator[Any]:
        """A later page of a multi-page article (crawler/multipage.py)."""
        async for out in multipage.part(self, response, self._record(response)):
            yield out

    async def article_part_failed(self, failure: Failure) -> AsyncIterator[Any]:
        self.failed(failure)
        async for out in multipage.part_failed(self, failure):
            yield out

    def _record(self, response: Response) -> PageCapture | StatusRecord:
        """The page as fetched, or what a re-check found (304: revisit; 404/410: removed)."""
        previous = response.meta.get("previous")
        column = response.meta.get("column")
        request_headers = _headers(response.request.headers) if response.request else []
        if previous is not None and (response.status == 304 or response.status in REMOVED_STATUSES):
            return StatusRecord(
                url=response.url, site=self.site.slug,
                kind="revisit" if response.status == 304 else "removed", status=response.status,
                headers=_headers(response.headers), body=response.body,
                fetched_at=datetime.now(UTC), previous=previous, request_headers=request_headers,
                column=column)
        return PageCapture(
            url=response.url, site=self.site.slug, status=response.status,
            headers=_headers(response.headers), body=response.body,
            fetched_at=datetime.now(UTC), request_headers=request_headers,
            column=column, overrides=self.site.article.overrides(),
            decoding=response.meta.get("decoding"), previous=previous,
            rendering=response.meta.get("rendering"),  # browser captures (crawler/browser.py)
        )

    def failed(self, failure: Failure) -> None:
        """Errback of every request: count the failure by reason; the run report reads the counts."""
        stats = self.crawler.stats
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        if isinstance(failure.value, HttpError):
            status = failure.value.response.status
            if status in BLOCKED_STATUSES:
                stats.inc_value(f"portal/blocked/{status}")
            else:
                stats.inc_value(f"portal/failed/http_{status}")
            logger.warning("HTTP %s for %s", status, url)
        elif isinstance(failure.value, IgnoreRequest):
            stats.inc_value("portal/skipped/ignored")
        else:
            stats.inc_value(f"portal/failed/{failure.type.__name__ if failure.type else 'error'}")
            logger.warning("could not fetch %s: %s", url, failure.getErrorMessage())
        if request is not None and request.callback == self.parse_list:
            stats.inc_value("portal/list/failed")

    # -- the index follows what the archive stage wrote ---------------------------------------------
    def item_scraped(self, item: Any, response: Response, spider: scrapy.Spider) -> None:
        if not isinstance(item, PageCapture | StatusRecord) or not item.archived:
            return
        done = item.archived
        update: Entry = {"stamp": done["stamp"], "kind": done["kind"], "checked": done["stamp"],
                         "column": item.column}
        if done["outcome"] in ("new", "changed"):
            update.update(captured=done["stamp"], digest=done["digest"],
                          fingerprint=done.get("fingerprint"))
        if isinstance(item, PageCapture):
            if item.part_of is not None:  # a later page of a multi-page article: never re-checked alone
                update["part_of"] = item.part_of["url"]
            elif item.parts or item.missing_parts:
                update["pages"] = 1 + len(item.parts) + len(item.missing_parts)
            update.update(etag=_header(item.headers, "etag"),
                          last_modified=_header(item.headers, "last-modified"))
            published = (item.document or {}).get("published_at")
            if published:
                update["published"] = str(published)[:10]
        elif item.kind == "revisit":
            update["etag"] = _header(item.headers, "etag")
        try:
            self.index.record(item.url, update)
        except BadURL:
            pass

    def closed(self, reason: str) -> None:
        if getattr(self, "index", None) is None or (not self.index.changed and not self.index.rebuilt):
            return
        try:
            self.index.save(self.archive)
            self.crawler.stats.set_value("portal/index/saved", len(self.index.entries))
        except Exception as exc:  # the index is a cache: the next run rebuilds what it lacks
            logger.error("could not save the index of %s: %s", self.site.slug, exc)
