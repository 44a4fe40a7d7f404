"""Stage 3: repair the extracted text (mojibake, pinyin glosses) and add its Simplified form.

The repair itself is pipelines/decoding/repair.py (`repair_document`); it runs inside `process_page`
(pipelines/page.py), in the extraction workers. This pipeline repairs only documents that did not
come through them (no `repairs` field), so a document is never repaired twice.
"""
from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector

from crawler.items import PageCapture
from pipelines.decoding.repair import repair_document


class RepairPipeline:
    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RepairPipeline:
        assert crawler.stats is not None
        return cls(crawler.stats)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, PageCapture) or not item.document or "repairs" in item.document:
            return item
        repairs, glosses = repair_document(item.document, item.url, (item.decoding or {}).get("encoding"))
        self.stats.inc_value("repair/mojibake", repairs)
        self.stats.inc_value("repair/glosses", glosses)
        return item
