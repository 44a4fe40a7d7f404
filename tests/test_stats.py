"""crawler/stats.py: Scrapy's memory stats collector, counting the same without its attribute hook."""
from __future__ import annotations

from datetime import UTC, datetime

from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

import settings.base as base
from crawler.stats import StatsCollector


def _drive(stats: MemoryStatsCollector) -> dict[str, object]:
    stats.open_spider()
    stats.set_value("start_time", datetime(2026, 11, 30, tzinfo=UTC))
    for key in ("a/b", "a/b", "a/c"):
        stats.inc_value(key)
    stats.inc_value("bytes", 500, start=10)
    stats.max_value("max", 3)
    stats.max_value("max", 2)
    stats.min_value("min", 3)
    stats.min_value("min", 1)
    assert stats.get_value("a/b") == 2 and stats.get_value("none", "x") == "x"
    return dict(stats.get_stats())


def test_the_project_stats_count_as_scrapys() -> None:
    crawler = get_crawler(settings_dict={"STATS_CLASS": base.STATS_CLASS})
    assert type(crawler.stats) is StatsCollector
    assert _drive(crawler.stats) == _drive(MemoryStatsCollector(get_crawler())) == {
        "start_time": datetime(2026, 11, 30, tzinfo=UTC), "a/b": 2, "a/c": 1, "bytes": 510,
        "max": 3, "min": 1}
