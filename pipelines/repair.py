"""Stage 3: repair the extracted text (mojibake, pinyin glosses) and add its Simplified form.

`repair_document` runs inside stage 2's `process_page` (pipelines/extract.py), in the extraction
worker pool. The pipeline class repairs only documents that did not come through it (no `repairs`
field), so a document is never repaired twice.
"""
from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector

from crawler.items import PageCapture
from pipelines.decoding.glosses import strip_pinyin_glosses
from pipelines.decoding.mirrors import to_simplified
from pipelines.decoding.mojibake import repair_mojibake


def repair_text(text: str) -> tuple[str, dict[str, Any]]:
    """The repaired text and what was done to it (for the archived metadata)."""
    repaired, repairs = repair_mojibake(text)
    cleaned, glosses = strip_pinyin_glosses(repaired)
    simplified = to_simplified(cleaned)
    return cleaned, {"repairs": [r.as_dict() for r in repairs], "glosses_removed": glosses,
                     "text_simplified": simplified if simplified != cleaned else None}


def repair_document(document: dict[str, Any]) -> tuple[int, int]:
    """Repair a document's title and text in place; (mojibake repairs, glosses removed) in the text."""
    counts = (0, 0)
    for name in ("title", "text"):
        if document.get(name):
            fixed, report = repair_text(document[name])
            document[name] = fixed
            if name == "text":
                document.update(report)
                counts = (len(report["repairs"]), report["glosses_removed"])
    document.setdefault("repairs", [])
    return counts


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
        repairs, glosses = repair_document(item.document)
        self.stats.inc_value("repair/mojibake", repairs)
        self.stats.inc_value("repair/glosses", glosses)
        return item
