"""`scrapy sites`: list the site files and validate them all (exit 1 on any error)."""
from __future__ import annotations

import argparse
import sys

from scrapy.commands import ScrapyCommand

from settings.sites import load_all


class Command(ScrapyCommand):
    requires_project = True
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "[--enabled]"

    def short_desc(self) -> str:
        return "List the portals in settings/sites/ and validate every site file"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--enabled", action="store_true", help="only the enabled sites")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        sites, errors = load_all(self.settings.get("SITES_DIR"))
        print(f"{'slug':<14} {'enabled':<8} {'verified':<9} {'cms':<10} name / start URL")
        for site in sites:
            if opts.enabled and not site.enabled:
                continue
            print(f"{site.slug:<14} {'yes' if site.enabled else 'no':<8} "
                  f"{'yes' if site.verified else 'no':<9} {site.cms:<10} {site.name}  "
                  f"{site.start_urls[0]}")
        for error in errors:
            print(f"error: {error}", file=sys.stderr)
        print(f"{len(sites)} valid site file(s), {len(errors)} with errors", file=sys.stderr)
        if errors:
            self.exitcode = 1
