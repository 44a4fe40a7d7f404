"""`scrapy recrawl`: re-walk one site's history (or a date range) and re-capture what changed.

    scrapy recrawl SLUG [--full] [--since DATE] [--until DATE]

Every list page is walked (no stop after known articles; a `--since` walk stops at the first list
page older than the range) and every article in the range — found on the list pages or already in
the archive — is fetched again. Unchanged pages become small revisit records, changed ones a new
version, vanished ones (404/410) a removal record. An article's date is its published date, else the
date in its URL; articles with no date are included. Without `--full` the re-fetches are conditional
GETs (a 304 is a revisit); `--full` asks for every page in full and compares its clean text.
"""
from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawler.extensions import report_key, summarize
from crawler.spiders.portal import parse_day
from pipelines.archive import store_from_settings
from pipelines.storage import ArchiveError
from pipelines.storage.keys import stamp
from settings.sites import SiteFileError, load_site


class Command(ScrapyCommand):
    requires_project = True

    def syntax(self) -> str:
        return "SLUG [--full] [--since DATE] [--until DATE]"

    def short_desc(self) -> str:
        return "Re-crawl one site's whole history or a date range, re-capturing what changed"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--full", action="store_true",
                            help="fetch every page in full (no If-None-Match/If-Modified-Since)")
        parser.add_argument("--since", metavar="DATE", help="articles dated on or after (YYYY-MM-DD)")
        parser.add_argument("--until", metavar="DATE", help="articles dated on or before (YYYY-MM-DD)")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None and self.crawler_process is not None
        if len(args) != 1:
            raise UsageError("expected: recrawl SLUG [--full] [--since DATE] [--until DATE]",
                             print_help=True)
        slug = args[0]
        since, until = parse_day(opts.since, "--since"), parse_day(opts.until, "--until")
        if since and until and since > until:
            raise UsageError(f"--since {since} is after --until {until}")
        try:
            load_site(slug, self.settings.get("SITES_DIR"))
            store_from_settings(self.settings).check()
        except (SiteFileError, ArchiveError) as exc:
            print(f"recrawl not started: {exc}", file=sys.stderr)
            self.exitcode = 1
            return
        spargs = {"site": slug, "mode": "recrawl", "full": "1" if opts.full else ""}
        if since:
            spargs["since"] = since.isoformat()
        if until:
            spargs["until"] = until.isoformat()
        crawler = self.crawler_process.create_crawler("portal")
        run_id = stamp(datetime.now(UTC))
        crawler.settings.set("RUN_ID", run_id, priority="cmdline")
        self.crawler_process.crawl(crawler, **spargs)
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed or crawler.stats is None:
            self.exitcode = 1
            return
        r = summarize(dict(crawler.stats.get_stats()), slug)
        span = f"{since or 'the beginning'} to {until or 'today'}"
        checked = r["new"] + r["changed"] + r["unchanged"] + r["removed"]
        print(f"recrawl {slug} ({span}{', full fetches' if opts.full else ''}): "
              f"{r['list_pages']} list pages, {checked} articles checked: {r['new']} new, "
              f"{r['changed']} changed, {r['unchanged']} unchanged, "
              f"{r['removed']} removed, {r['failed']} failed; "
              f"{crawler.stats.get_value('portal/articles/out_of_range', 0)} list links out of range; "
              f"{r['requests']} requests in {r['duration']}s")
        if crawler.settings.getbool("RUN_REPORTS", True):
            print(f"report: {self.settings.get('ARCHIVE_URI').rstrip('/')}/{report_key(slug, run_id)}")
        if r["list_pages"] == 0 or r["failed"]:
            self.exitcode = 1
