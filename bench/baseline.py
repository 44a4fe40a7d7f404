"""The two baselines of the end-to-end benchmark: the same crawl of the same site file, in plain Scrapy.

    .venv/bin/python -m bench.baseline --mode noop|naive --site SLUG --sites-dir DIR [--out FILE]
                     [-s NAME=VALUE ...]

`noop` walks the list pages and fetches every article, doing nothing with the pages. `naive` calls
plain `trafilatura.extract` in the callback and writes one JSON line per article (Scrapy's own feed
export), the way a first Scrapy + trafilatura archiver is written. Same link rules as the portal
spider (the site file's url_pattern, link_area, TRS/下一页 pagination, max_pages), Scrapy's default
middlewares and none of ours. Prints the Scrapy stats as one JSON line at the end.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import scrapy
from scrapy.crawler import CrawlerProcess
from scrapy.http import Response, TextResponse
from scrapy.linkextractors import LinkExtractor

from crawler.pagination import trs_next_page
from settings.sites import Site, load_site


class BaselineSpider(scrapy.Spider):
    name = "baseline"

    def __init__(self, site: Site, mode: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.site = site
        self.mode = mode
        self.allowed_domains = list(site.allowed_domains)
        self.articles = LinkExtractor(allow=site.article.url_pattern,
                                      restrict_xpaths=site.listing.link_area or (), unique=True)
        if mode == "naive":
            import trafilatura

            self.extract = trafilatura.extract

    async def start(self) -> Any:
        starts = [str(u) for u in self.site.start_urls]
        for url in starts + [str(c.url) for c in self.site.columns if str(c.url) not in starts]:
            yield scrapy.Request(url, self.parse_list, dont_filter=True, priority=10, meta={"page": 1})

    def parse_list(self, response: Response) -> Iterator[scrapy.Request]:
        assert isinstance(response, TextResponse)  # the portal's list pages are HTML
        for link in self.articles.extract_links(response):
            yield scrapy.Request(link.url, self.parse_article)
        page = response.meta["page"]
        if page >= self.site.listing.max_pages:
            return
        next_url = trs_next_page(response.text, response.url)
        if not next_url:
            href = response.xpath(self.site.listing.next_page).get()
            next_url = response.urljoin(href.strip()) if href else None
        if next_url:
            yield response.follow(next_url, self.parse_list, dont_filter=True, priority=-10,
                                  meta={"page": page + 1})

    def parse_article(self, response: Response) -> Iterator[dict[str, Any]]:
        if self.mode == "naive":
            yield {"url": response.url, "text": self.extract(response.text, url=response.url)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("noop", "naive"), required=True)
    parser.add_argument("--site", required=True)
    parser.add_argument("--sites-dir", required=True)
    parser.add_argument("--out", help="JSON lines file (naive)")
    parser.add_argument("-s", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args()
    settings: dict[str, Any] = {"LOG_LEVEL": "INFO", "TELNETCONSOLE_ENABLED": False}
    for pair in args.s:
        name, _, value = pair.partition("=")
        settings[name] = value
    if args.mode == "naive" and args.out:
        settings["FEEDS"] = {args.out: {"format": "jsonlines", "encoding": "utf-8"}}
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(BaselineSpider)
    process.crawl(crawler, site=load_site(args.site, args.sites_dir), mode=args.mode)
    process.start()
    assert crawler.stats is not None
    print(json.dumps(crawler.stats.get_stats(), default=str), flush=True)


if __name__ == "__main__":
    main()
