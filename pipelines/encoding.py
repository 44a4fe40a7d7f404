"""Stage 1: bytes to text, with the encoding decision recorded."""
from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector

from crawler.items import PageCapture
from pipelines.decoding.charset import EncodingDecision, decide_encoding, decode_body


def decode_page(body: bytes, content_type: str | None,
                decided: dict[str, Any] | None = None) -> tuple[str, EncodingDecision]:
    """Decode a page; reuse a decision already made by the downloader middleware."""
    decision = EncodingDecision(**decided) if decided else decide_encoding(body, content_type)
    return decode_body(body, decision), decision


class EncodingPipeline:
    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> EncodingPipeline:
        assert crawler.stats is not None
        return cls(crawler.stats)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, PageCapture):
            return item
        item.html, decision = decode_page(item.body, item.content_type, item.decoding)
        item.decoding = decision.as_dict()
        if decision.undecodable_bytes:
            self.stats.inc_value("encoding/undecodable_pages")
        return item
