"""`scrapy crawl`, with the start-up checks a cron job needs said plainly.

Before Scrapy starts, a portal crawl's site file is validated, its archive is reached and the archive
settings are checked; any of them failing stops the run with one clear line and exit 1, before any
request is sent.
"""
from __future__ import annotations

import argparse
import sys

from scrapy.commands.crawl import Command as ScrapyCrawl

from pipelines.archive import store_from_settings, warc_gzip_level
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
            except (SiteFileError, ArchiveError, ValueError) as exc:
                print(f"crawl not started: {exc}", file=sys.stderr)
                self.exitcode = 1
                return
        super().run(args, opts)
