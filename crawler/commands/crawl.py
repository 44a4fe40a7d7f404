"""`scrapy crawl`, with the start-up checks a cron job needs said plainly.

Before Scrapy starts, a portal crawl's site file is validated, its archive is reached and the archive
settings are checked; any of them failing stops the run with one clear line and exit 1, before any
request is sent.
"""
from __future__ import annotations

import argparse
import logging
import sys

from scrapy.commands.crawl import Command as ScrapyCrawl

from pipelines.archive import store_from_settings, warc_gzip_level, write_inline
from pipelines.extract import extract_nice
from pipelines.storage import ArchiveError
from settings.sites import SiteFileError, load_site


class Command(ScrapyCrawl):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        if args and args[0] == "portal":
            try:
                load_site(opts.spargs.get("site") or "", self.settings.get("SITES_DIR"))
                store_from_settings(self.settings).check()
                warc_gzip_level(self.settings)
                write_inline(self.settings)
                extract_nice(self.settings)
            except (SiteFileError, ArchiveError, ValueError) as exc:
                print(f"crawl not started: {exc}", file=sys.stderr)
                self.exitcode = 1
                return
        refuse_unseen_records(self.settings.get("LOG_LEVEL"))
        super().run(args, opts)


def refuse_unseen_records(log_level: str | int) -> None:
    """Make the root and `scrapy` loggers refuse records that no handler would emit.

    Scrapy leaves the root logger at NOTSET (its own `scrapy` logger at DEBUG) and filters at its
    handler, so every `logger.debug` of a page (Scrapy's "Crawled", "Scraped from", ours) builds a
    LogRecord that is then thrown away. The loggers are raised to the lowest level of any handler
    there (NullHandlers aside) and LOG_LEVEL (the level Scrapy's log counter will count at): with
    LOG_LEVEL=DEBUG, or any handler that wants DEBUG, nothing changes."""
    floor = logging.getLevelName(log_level) if isinstance(log_level, str) else log_level
    if not isinstance(floor, int):
        return  # not a level name: Scrapy will say so
    loggers = [logging.root, *(lg for lg in logging.root.manager.loggerDict.values()
                               if isinstance(lg, logging.Logger))]
    for handler in (h for lg in loggers for h in lg.handlers):
        if not isinstance(handler, logging.NullHandler):
            floor = min(floor, handler.level)
    for logger in (logging.root, logging.getLogger("scrapy")):
        if logger.level < floor:
            logger.setLevel(floor)
