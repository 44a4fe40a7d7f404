"""A per-site run report at the end of every crawl: what was fetched, archived and what failed.

The report goes to the archive as `runs/<site>/<RUN_ID>.json` (RUN_REPORTS, on by default; RUN_ID
defaults to the run's start stamp) and, when RUN_SUMMARY_FILE is set, to that local file too. The
nightly runner (`scrapy nightly`) reads them to give each night its verdict.
"""
from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from pipelines.archive import store_from_settings
from pipelines.storage.base import ArchiveError
from pipelines.storage.keys import stamp

logger = logging.getLogger(__name__)


def summarize(stats: dict[str, Any], site: str) -> dict[str, Any]:
    """The run's counters in the shape of a run report."""
    def total(prefix: str) -> int:
        return sum(v for k, v in stats.items() if k.startswith(prefix) and isinstance(v, int))

    def by_reason(prefix: str) -> dict[str, int]:
        return {k[len(prefix):]: v for k, v in stats.items() if k.startswith(prefix)
                and isinstance(v, int)}

    started = stats.get("start_time")
    finished = stats.get("finish_time") or datetime.now(UTC)
    duration = round((finished - started).total_seconds(), 3) if started else None
    failed_reasons = by_reason("portal/failed/")
    if total("archive/failed"):  # `archive/failed` or `archive/failed/<reason>`
        failed_reasons["archive"] = total("archive/failed")
    return {
        "site": site,
        "started_at": started.isoformat() if started else None,
        "duration": duration,
        "duration_s": duration,
        "finish_reason": stats.get("finish_reason"),
        "requests": stats.get("downloader/request_count", 0),
        "new": stats.get("archive/outcome/new", 0),
        "changed": stats.get("archive/outcome/changed", 0),
        "unchanged": stats.get("archive/outcome/unchanged", 0),
        "removed": stats.get("archive/outcome/removed", 0),
        "failed": sum(failed_reasons.values()),
        "failed_reasons": failed_reasons,
        "blocked": total("portal/blocked/"),
        "blocked_statuses": by_reason("portal/blocked/"),
        "articles_seen": stats.get("portal/articles/seen", 0),
        "articles_known": stats.get("portal/articles/known", 0),
        "rechecks": stats.get("portal/recheck/scheduled", 0),
        "list_failed": stats.get("portal/list/failed", 0),
        "responses": by_reason("downloader/response_status_count/"),
        "list_pages": stats.get("portal/list/pages", 0),
        "articles_fetched": stats.get("portal/articles/fetched", 0),
        "archived": stats.get("archive/stored", 0),
        "archive_failed": total("archive/failed"),  # `archive/failed` and `archive/failed/<reason>`
        "extract_failed": total("extract/failed/"),
        "http_errors": total("downloader/response_status_count/4") +
        total("downloader/response_status_count/5"),
        "download_errors": stats.get("downloader/exception_count", 0),
        "bytes": stats.get("archive/bytes", 0),
        "encoding_rules": {k.rpartition("/")[2]: v for k, v in stats.items()  # final rules (see
                           if k.startswith("encoding/rule/") and v},   # ExtractPipeline._apply)
        "encoding": {"undecodable_pages": stats.get("encoding/undecodable_pages", 0),
                     "mojibake_repairs": stats.get("repair/mojibake", 0),
                     "glosses_removed": stats.get("repair/glosses", 0)},
        "extraction": {"ok": stats.get("extract/ok", 0), "failed": by_reason("extract/failed/")},
        # pipelines/attachments.py: archived, unchanged, skipped/<reason>, failed/<reason>, …
        "attachments": by_reason("attachments/"),
        # The failure ledger (crawler/failures.py): final failures by reason (`failed/ledger` is
        # the list, `failed/total` their sum: neither is a reason), and the first URLs.
        "failures": {k: v for k, v in by_reason("failed/").items() if k != "total"},
        "failures_total": stats.get("failed/total", 0),
        "failed_urls": list(stats.get("failed/ledger") or [])[:50],
    }


def report_key(site: str, run_id: str) -> str:
    return f"runs/{site}/{run_id}.json"


class RunSummary:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.path = crawler.settings.get("RUN_SUMMARY_FILE")
        self.to_archive = crawler.settings.getbool("RUN_REPORTS", True)
        self.run_id = crawler.settings.get("RUN_ID") or stamp(datetime.now(UTC))

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
        report["run_id"] = self.run_id
        report["mode"] = getattr(spider, "mode", None)
        if report["mode"] == "recrawl":
            report["range"] = {k: str(v) if v else None for k, v in
                               (("since", getattr(spider, "since", None)),
                                ("until", getattr(spider, "until", None)))}
            report["full"] = getattr(spider, "full", False)
        data = json.dumps(report, ensure_ascii=False, indent=1)
        if self.path:
            Path(self.path).write_text(data)
        if self.to_archive and hasattr(spider, "site"):
            key = report_key(report["site"], self.run_id)
            try:
                store_from_settings(self.crawler.settings).put(key, data.encode(), "application/json")
                logger.info("run report: %s", key)
            except (ArchiveError, NotConfigured) as exc:
                logger.error("could not write the run report %s: %s", key, exc)
