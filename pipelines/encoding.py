"""Stage 1: bytes to text, with the encoding decision recorded.

`decode_page` is the pure function; it runs inside stage 2's `process_page` (pipelines/extract.py),
in the extraction worker pool, so decoding costs the crawler's own core nothing. The pipeline class
only counts what it sees: the decision itself travels with the item (`item.decoding`, made by
crawler/middlewares.py from the body) and is completed by stage 2.
"""
from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector

from crawler.items import PageCapture
from pipelines.decoding.charset import EncodingDecision, decide_encoding, decode_body


def decode_page(body: bytes, content_type: str | None,
                decided: dict[str, Any] | None = None) -> tuple[str, EncodingDecision]:
    """Decode a page; reuse a decision already made by the downloader middleware.

    That decision may be provisional (``decide_encoding(..., provisional=True)``): the body is
    decoded strictly with it, and decided again in full if a byte does not decode.
    """
    if decided:
        decision = EncodingDecision(**decided)
        if decision.rule == "fallback":
            return decode_body(body, decision), decision
        try:
            return body.decode(decision.encoding), decision
        except (UnicodeDecodeError, LookupError):
            pass
    decision = decide_encoding(body, content_type)
    return decode_body(body, decision), decision


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
