"""Stage 3: repair the extracted text (mojibake, pinyin glosses) and add its Simplified form."""
from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector

from crawler.items import PageCapture
from pipelines.decoding.glosses import strip_pinyin_glosses
from pipelines.decoding.mojibake import repair_mojibake
from pipelines.decoding.mirrors import to_simplified


def repair_text(text: str) -> tuple[str, dict[str, Any]]:
    """The repaired text and what was done to it (for the archived metadata)."""
    repaired, repairs = repair_mojibake(text)
    cleaned, glosses = strip_pinyin_glosses(repaired)
    simplified = to_simplified(cleaned)
    return cleaned, {"repairs": [r.as_dict() for r in repairs], "glosses_removed": glosses,
                     "text_simplified": simplified if simplified != cleaned else None}


class RepairPipeline:
    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RepairPipeline:
        assert crawler.stats is not None
        return cls(crawler.stats)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, PageCapture) or not item.document:
            return item
        for field in ("title", "text"):
            if item.document.get(field):
                fixed, report = repair_text(item.document[field])
                item.document[field] = fixed
                if field == "text":
                    item.document.update(report)
                    self.stats.inc_value("repair/mojibake", len(report["repairs"]))
                    self.stats.inc_value("repair/glosses", report["glosses_removed"])
        return item
