"""A per-site summary at the end of every crawl: what was fetched, archived and what failed."""
from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


def summarize(stats: dict[str, Any], site: str) -> dict[str, Any]:
    """The run's counters in the shape of a run report."""
    def total(prefix: str) -> int:
        return sum(v for k, v in stats.items() if k.startswith(prefix) and isinstance(v, int))

    started = stats.get("start_time")
    finished = stats.get("finish_time") or datetime.now(UTC)
    return {
        "site": site,
        "started_at": started.isoformat() if started else None,
        "duration_s": round((finished - started).total_seconds(), 3) if started else None,
        "finish_reason": stats.get("finish_reason"),
        "requests": stats.get("downloader/request_count", 0),
        "list_pages": stats.get("portal/list/pages", 0),
        "articles_fetched": stats.get("portal/articles/fetched", 0),
        "archived": stats.get("archive/stored", 0),
        "archive_failed": stats.get("archive/failed", 0),
        "extract_failed": total("extract/failed/"),
        "http_errors": total("downloader/response_status_count/4") +
        total("downloader/response_status_count/5"),
        "download_errors": stats.get("downloader/exception_count", 0),
        "bytes": stats.get("archive/bytes", 0),
        "encoding_rules": {k.rpartition("/")[2]: v for k, v in stats.items()
                           if k.startswith("encoding/rule/")},
    }


class RunSummary:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.path = crawler.settings.get("RUN_SUMMARY_FILE")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunSummary:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_closed(self, spider: Spider, reason: str) -> None:
        assert self.crawler.stats is not None
        stats = dict(self.crawler.stats.get_stats())
        stats.setdefault("finish_reason", reason)
        report = summarize(stats, getattr(getattr(spider, "site", None), "slug", spider.name))
        logger.info("summary %s: %d list pages, %d articles fetched, %d archived, %d failed "
                    "(extract %d, archive %d, http %d, download %d) in %ss",
                    report["site"], report["list_pages"], report["articles_fetched"],
                    report["archived"], report["extract_failed"] + report["archive_failed"] +
                    report["http_errors"] + report["download_errors"], report["extract_failed"],
                    report["archive_failed"], report["http_errors"], report["download_errors"],
                    report["duration_s"])
        if self.path:
            Path(self.path).write_text(json.dumps(report, ensure_ascii=False, indent=1))
