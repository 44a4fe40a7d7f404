"""The one generic spider: walks a portal's list pages and hands article pages, raw, to the pipelines.

    scrapy crawl portal -a site=SLUG

Everything site-specific comes from `settings/sites/SLUG.toml`.
"""
from __future__ import annotations


from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import scrapy
from scrapy.crawler import Crawler
from scrapy.exceptions import UsageError
from scrapy.http import Response, TextResponse
from scrapy.linkextractors import LinkExtractor

from crawler.items import PageCapture
from crawler.pagination import trs_next_page
from settings.sites import Site, SiteFileError, load_site

def _headers(headers: Any) -> list[tuple[str, str]]:
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, vs in headers.items() for v in vs]

class PortalSpider(scrapy.Spider):
    name = "portal"
    site: Site

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> PortalSpider:
        slug = kwargs.get("site")
        if not slug:
            raise UsageError("portal spider needs a site: scrapy crawl portal -a site=SLUG")
        try:
            site = load_site(slug, crawler.settings.get("SITES_DIR"))
        except SiteFileError as exc:
            raise UsageError(str(exc)) from None
        # Per-site politeness, applied before the crawler freezes its settings.
        crawler.settings.set("DOWNLOAD_DELAY", site.politeness.download_delay, priority="spider")
        crawler.settings.set("CONCURRENT_REQUESTS_PER_DOMAIN", site.politeness.concurrency,
                             priority="spider")
        spider: PortalSpider = super().from_crawler(crawler, *args, **kwargs)
        spider.site = site
        spider.allowed_domains = list(site.allowed_domains)
        spider.articles = LinkExtractor(allow=site.article.url_pattern,
                                        restrict_xpaths=site.listing.link_area or (), unique=True)
        spider.column_of = {str(c.url): c.name for c in site.columns}
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        urls = [str(u) for u in self.site.start_urls] + [u for u in self.column_of if u not in
                                                          {str(s) for s in self.site.start_urls}]
        for url in urls:
            yield scrapy.Request(url, self.parse_list, meta={"column": self.column_of.get(url),
                                                             "list_page": 1})

    def parse_list(self, response: Response) -> Iterator[scrapy.Request]:
        if not isinstance(response, TextResponse):
            self.crawler.stats.inc_value("portal/list/not_text")
            return
        self.crawler.stats.inc_value("portal/list/pages")
        column = response.meta.get("column")
        for link in self.articles.extract_links(response):
            yield response.follow(link.url, self.parse_article, meta={"column": column})
        page = response.meta.get("list_page", 1)
        if page >= self.site.listing.max_pages:
            return
        next_url = self._next_page(response)
        if next_url:
            yield response.follow(next_url, self.parse_list,
                                  meta={"column": column, "list_page": page + 1})

    def _next_page(self, response: TextResponse) -> str | None:
        rule = self.site.listing.pagination
        if rule in ("trs", "auto"):
            found = trs_next_page(response.text, response.url)
            if found or rule == "trs":
                return found
        if rule in ("next_link", "auto"):
            href = response.xpath(self.site.listing.next_page).get()
            return response.urljoin(href.strip()) if href and not href.startswith("javascript") else None
        return None

    def parse_article(self, response: Response) -> Iterator[PageCapture]:
        self.crawler.stats.inc_value("portal/articles/fetched")
        yield PageCapture(
            url=response.url, site=self.site.slug, status=response.status,
            headers=_headers(response.headers), body=response.body,
            fetched_at=datetime.now(UTC),
            request_headers=_headers(response.request.headers) if response.request else [],
            column=response.meta.get("column"), overrides=self.site.article.overrides(),
            decoding=response.meta.get("decoding"),
        )

