"""`scrapy extract-eval DIR`: score our extraction and plain trafilatura on the same labelled pages.

Prints bigram F1, date accuracy, chrome-leak rate and ms/page for both, lists metadata mismatches
against the fixtures' `expected` fields, and exits 1 when a given floor is not met (the CI quality gate).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, ClassVar

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from pipelines.extraction.evaluate import Score, compare


class Command(ScrapyCommand):
    requires_project = True
    default_settings: ClassVar[dict[str, Any]] = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "DIR"

    def short_desc(self) -> str:
        return "Score article extraction against labelled pages, beside plain trafilatura"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--json", metavar="OUT", help="write both scores and all failures as JSON to OUT")
        parser.add_argument("--min-f1", type=float, metavar="F", help="fail below this mean bigram F1")
        parser.add_argument("--max-chrome", type=float, metavar="C",
                            help="fail above this share of pages with chrome left in")
        parser.add_argument("--min-date", type=float, metavar="D", help="fail below this date accuracy")
        parser.add_argument("--min-margin", type=float, metavar="M",
                            help="fail unless our F1 beats plain trafilatura's by at least M")
        parser.add_argument("--ignore-fields", action="store_true",
                            help="do not fail on metadata mismatches against the fixtures' expected fields")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError("give exactly one folder of <id>.html + <id>.json pages")
        folder = Path(args[0])
        if not folder.is_dir():
            raise UsageError(f"not a folder: {folder}")
        mine, base = compare(folder)
        if not mine.f1:
            print(f"no labelled pages in {folder}")
            self.exitcode = 1
            return
        print(f"{'extractor':12} {'pages':>5} {'F1':>6} {'date':>6} {'chrome':>7} {'ms/page':>8}")
        for row in (mine, base):
            date = "-" if row.date_accuracy is None else f"{row.date_accuracy:.3f}"
            print(f"{row.name:12} {len(row.f1):5d} {row.mean_f1:6.3f} {date:>6} {row.chrome_rate:7.1%} "
                  f"{row.ms_per_page:8.1f}")
        print(f"margin F1 {mine.mean_f1 - base.mean_f1:+.3f}; time ratio {_ratio(mine, base):.2f}x")
        if mine.chrome:
            print("chrome left in: " + ", ".join(mine.chrome))
        for failure in mine.failures:
            print(f"MISMATCH {failure}")
        problems = self._problems(mine, base, opts)
        for problem in problems:
            print(f"FAIL {problem}")
        if opts.json:
            Path(opts.json).write_text(json.dumps({"ours": mine.as_dict(), "baseline": base.as_dict(),
                                                   "problems": problems}, ensure_ascii=False, indent=1),
                                       encoding="utf-8")
        self.exitcode = 1 if problems else 0

    @staticmethod
    def _problems(mine: Score, base: Score, opts: argparse.Namespace) -> list[str]:
        problems = []
        if opts.min_f1 is not None and mine.mean_f1 < opts.min_f1:
            problems.append(f"F1 {mine.mean_f1:.3f} < {opts.min_f1}")
        if opts.max_chrome is not None and mine.chrome_rate > opts.max_chrome:
            problems.append(f"chrome {mine.chrome_rate:.3f} > {opts.max_chrome}")
        if opts.min_date is not None and (mine.date_accuracy or 0.0) < opts.min_date:
            problems.append(f"date {mine.date_accuracy} < {opts.min_date}")
        if opts.min_margin is not None and mine.mean_f1 - base.mean_f1 < opts.min_margin:
            problems.append(f"margin {mine.mean_f1 - base.mean_f1:.3f} < {opts.min_margin}")
        if mine.failures and not opts.ignore_fields:
            problems.append(f"{len(mine.failures)} metadata/snippet mismatches")
        return problems


def _ratio(mine: Score, base: Score) -> float:
    return mine.ms_per_page / base.ms_per_page if base.ms_per_page else 0.0
