"""Stage 1: bytes to text, with the encoding decision recorded.

`decode_page` (pipelines/decoding/charset.py) is the pure function; it runs inside `process_page`
(pipelines/page.py), in the extraction workers, so decoding costs the crawler's own core nothing.
The pipeline class only counts what it sees: the decision itself travels with the item
(`item.decoding`, made by crawler/middlewares.py from the body) and is completed by stage 2.
"""
from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector

from crawler.items import PageCapture


class EncodingPipeline:
    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> EncodingPipeline:
        assert crawler.stats is not None
        return cls(crawler.stats)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, PageCapture):
            self.stats.inc_value("encoding/decided_by_middleware" if item.decoding
                                 else "encoding/decided_in_worker")
        return item
