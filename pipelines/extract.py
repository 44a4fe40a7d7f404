"""Stage 2: article text and metadata from the decoded page."""
from __future__ import annotations

import logging
from typing import Any

from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector

from crawler.items import PageCapture
from pipelines.extraction import extract_document
from pipelines.extraction.document import ExtractionError

logger = logging.getLogger(__name__)


class ExtractPipeline:
    """A page that yields no text is still archived (raw bytes and the error), never dropped."""

    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        assert crawler.stats is not None
        return cls(crawler.stats)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, PageCapture) or item.html is None:
            return item
        try:
            item.document = extract_document(item.html, item.url, item.overrides)
            self.stats.inc_value("extract/ok")
        except ExtractionError as exc:
            self._failed(item, "empty", exc)
        except Exception as exc:  # a parser crash on hostile input must not lose the page
            self._failed(item, type(exc).__name__, exc)
        return item

    def _failed(self, item: PageCapture, reason: str, exc: Exception) -> None:
        logger.warning("extraction failed for %s: %s", item.url, exc)
        self.stats.inc_value(f"extract/failed/{reason}")
        item.errors.append(f"extract: {exc}")
