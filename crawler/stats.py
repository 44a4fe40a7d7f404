"""The stats collector: Scrapy's MemoryStatsCollector without its per-attribute hook.

Scrapy 2.19's StatsCollector overrides `__getattribute__` (in Python) to wrap its methods with a
warning about the deprecated `spider` argument. Every attribute read then runs Python code, even
`self._stats` inside `inc_value`, which first fails to find a `_cached__stats` (an AttributeError
raised and caught): about 1.5 µs per `inc_value` instead of 0.1, some twenty times per page on the
reactor thread. Same methods, same values; a caller passing `spider=` is no longer warned.
"""
from __future__ import annotations

from scrapy.statscollectors import MemoryStatsCollector


class StatsCollector(MemoryStatsCollector):
    __getattribute__ = object.__getattribute__
