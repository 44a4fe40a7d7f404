"""`scrapy nightly`: crawl every enabled site, one `scrapy crawl` process each, and give the night a verdict.

    scrapy nightly [--site SLUG ...] [--budget SECONDS] [--json PATH]

Each site is crawled incrementally in its own process with a time budget (CLOSESPIDER_TIMEOUT, then
a hard kill NIGHTLY_KILL_GRACE seconds later). The crawl writes its run report to the archive
(`runs/<site>/<run id>.json`); the runner adds the verdict — judged against the site's previous
reports — writes it back, prints a table, and exits 1 when any site failed, so cron mails someone.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawler.extensions import report_key
from pipelines.archive import store_from_settings
from pipelines.storage import ArchiveError, ArchiveStore
from pipelines.storage.keys import stamp
from settings.sites import Site, load_all

PROJECT = Path(__file__).resolve().parents[2]
Report = dict[str, Any]
FAILING = ("failed", "blocked", "empty")


def judge(report: Report | None, history: list[Report], exit_code: int | None,
          killed: bool) -> tuple[str, list[str], list[str]]:
    """(verdict, reasons, warnings) of one site's night. Verdicts: ok, partial (stopped at its
    budget), failed, blocked, empty (no article link where earlier runs found some)."""
    reasons: list[str] = []
    warnings: list[str] = []
    if killed:
        reasons.append("killed: still running after its budget and the grace period")
    if report is None:
        reasons.append(f"the crawl left no report (exit status {exit_code})")
        return "failed", reasons, warnings
    if exit_code:
        reasons.append(f"scrapy exited with status {exit_code}")
    seen_before = [int(h.get("articles_seen") or 0) for h in history]
    baseline = statistics.median(seen_before) if seen_before else None
    failures = ", ".join(f"{n} x {r}" for r, n in sorted((report.get("failed_reasons") or {}).items()))
    if report.get("list_pages", 0) == 0:
        if report.get("blocked"):
            reasons.append(f"blocked: no list page could be read ({report['blocked_statuses']})")
            return "blocked", reasons, warnings
        reasons.append("no list page could be read" + (f" ({failures})" if failures else ""))
    elif report.get("articles_seen", 0) == 0:
        if baseline:
            reasons.append(f"no article link on the list pages; the last {len(seen_before)} runs "
                           f"found {baseline:g} (median)")
            return "empty", reasons, warnings
        if not history:
            reasons.append("no article link on the list pages of a first run: check the site file")
            return "empty", reasons, warnings
    requests = int(report.get("requests") or 0)
    if reasons and report.get("list_pages", 0) == 0:
        pass  # already said: nothing could be read
    elif requests and report.get("failed", 0) * 2 > requests:
        reasons.append(f"{report['failed']} of {requests} requests failed ({failures})")
    elif report.get("failed"):
        warnings.append(f"{report['failed']} failure(s): {failures}")
    if report.get("blocked") and report.get("list_pages", 0):
        warnings.append(f"blocked responses: {report['blocked_statuses']}")
    if baseline and 0 < report.get("articles_seen", 0) < baseline / 5:
        warnings.append(f"only {report['articles_seen']} article links seen (median {baseline:g})")
    if reasons:
        return "failed", reasons, warnings
    if report.get("finish_reason") == "closespider_timeout":
        warnings.append("stopped at its time budget: the rest waits for the next run")
        return "partial", reasons, warnings
    return "ok", reasons, warnings


def _scrapy() -> list[str]:
    return [sys.executable, "-m", "scrapy"]


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "[--site SLUG ...] [--budget SECONDS] [--json PATH]"

    def short_desc(self) -> str:
        return "Crawl every enabled site incrementally, write run reports, exit 1 if a site failed"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--site", action="append", default=[], metavar="SLUG",
                            help="crawl this site (repeatable; disabled sites too); default: every "
                                 "enabled site")
        parser.add_argument("--budget", type=float, default=None, metavar="SECONDS",
                            help="time budget per site (default: NIGHTLY_BUDGET)")
        parser.add_argument("--json", metavar="PATH", help="also write the night's reports there")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        if args:
            raise UsageError("nightly takes no arguments; use --site SLUG", print_help=True)
        sites, errors = load_all(self.settings.get("SITES_DIR"))
        by_slug = {s.slug: s for s in sites}
        unknown = [s for s in opts.site if s not in by_slug]
        if unknown:
            raise UsageError(f"unknown site(s): {', '.join(unknown)} (known: {', '.join(by_slug)})")
        chosen = [by_slug[s] for s in opts.site] if opts.site else [s for s in sites if s.enabled]
        budget = opts.budget or self.settings.getfloat("NIGHTLY_BUDGET", 3600)
        self.overrides: list[str] = list(getattr(opts, "set", None) or [])
        try:
            store = store_from_settings(self.settings)
            store.check()
        except ArchiveError as exc:
            print(f"nightly not started: {exc}", file=sys.stderr)
            self.exitcode = 1
            return
        reports = [self._night(site, store, budget) for site in chosen]
        self._table(reports)
        for error in errors if not opts.site else []:
            print(f"site file error: {error}", file=sys.stderr)
        if opts.json:
            Path(opts.json).write_text(json.dumps(reports, ensure_ascii=False, indent=1))
        if (errors and not opts.site) or any(r["verdict"] in FAILING for r in reports):
            self.exitcode = 1

    # -- one site ----------------------------------------------------------------------------------
    def _night(self, site: Site, store: ArchiveStore, budget: float) -> Report:
        assert self.settings is not None
        run_id = stamp(datetime.now(UTC))
        grace = self.settings.getfloat("NIGHTLY_KILL_GRACE", 120)
        history = self._history(store, site.slug, run_id)
        with tempfile.TemporaryDirectory(prefix=f"nightly-{site.slug}-") as tmp:
            summary, log = Path(tmp) / "report.json", Path(tmp) / "crawl.log"
            cmd = [*_scrapy(), "crawl", "portal", "-a", f"site={site.slug}",
                   "-s", f"CLOSESPIDER_TIMEOUT={budget:g}", "-s", f"RUN_ID={run_id}",
                   "-s", f"RUN_SUMMARY_FILE={summary}", "-s", f"LOG_FILE={log}",
                   "-s", f"LOG_LEVEL={self.settings.get('NIGHTLY_LOG_LEVEL', 'INFO')}"]
            for setting in self.overrides:  # the runner's own -s NAME=VALUE reach every crawl
                cmd += ["-s", setting]
            env = {**os.environ, "ARCHIVE_URI": self.settings.get("ARCHIVE_URI"),
                   "SITES_DIR": str(self.settings.get("SITES_DIR"))}
            started = time.monotonic()
            killed = False
            with open(Path(tmp) / "stderr", "wb") as err:
                proc = subprocess.Popen(cmd, cwd=PROJECT, env=env, stdout=subprocess.DEVNULL,
                                        stderr=err)
                try:
                    code: int | None = proc.wait(timeout=budget + grace)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    code, killed = proc.wait(timeout=60), True
            report = json.loads(summary.read_text()) if summary.exists() else None
            tail = [line for line in self._tail(log) + self._tail(Path(tmp) / "stderr")
                    if "] ERROR:" in line or "] CRITICAL:" in line or line.startswith("Traceback")
                    ][-10:]
            if report is None:  # a crawl that died before its report: keep how it died
                tail += self._tail(Path(tmp) / "stderr")[-5:]
        verdict, reasons, warnings = judge(report, history, code, killed)
        final: Report = {"site": site.slug, "started_at": None, "requests": 0, "new": 0, "changed": 0,
                         "unchanged": 0, "removed": 0, "failed": 0, "blocked": 0, "bytes": 0,
                         "duration": round(time.monotonic() - started, 3), **(report or {}),
                         "run_id": run_id, "verdict": verdict, "reasons": reasons,
                         "warnings": warnings, "exit_code": code, "killed": killed,
                         "budget": budget, "site_name": site.name, "log_errors": tail,
                         "baseline_runs": len(history)}
        try:
            store.put(report_key(site.slug, run_id),
                      json.dumps(final, ensure_ascii=False, indent=1).encode(), "application/json")
            final["report_key"] = report_key(site.slug, run_id)
        except ArchiveError as exc:
            final["warnings"].append(f"run report not written: {exc}")
        return final

    def _history(self, store: ArchiveStore, slug: str, run_id: str) -> list[Report]:
        """The site's previous run reports, newest last (NIGHTLY_HISTORY of them)."""
        assert self.settings is not None
        keep = self.settings.getint("NIGHTLY_HISTORY", 7)
        try:
            keys = [k for k in store.list(f"runs/{slug}/") if k.endswith(".json")
                    and k != report_key(slug, run_id)]
            out = []
            for key in keys[-keep:]:
                try:
                    out.append(json.loads(store.get(key)))
                except (ArchiveError, ValueError):
                    continue
            return out
        except ArchiveError:
            return []

    @staticmethod
    def _tail(path: Path) -> list[str]:
        try:
            return path.read_text(errors="replace").splitlines()[-400:]
        except OSError:
            return []

    # -- the table ---------------------------------------------------------------------------------
    def _table(self, reports: list[Report]) -> None:
        cols = ("requests", "new", "changed", "unchanged", "removed", "failed", "blocked", "bytes")
        print(f"{'site':<14} {'verdict':<8} " + " ".join(f"{c:>9}" for c in cols) + f" {'seconds':>8}")
        for r in reports:
            print(f"{r['site']:<14} {r['verdict']:<8} " + " ".join(f"{r.get(c) or 0:>9}" for c in cols)
                  + f" {r.get('duration') or 0:>8}")
        for r in reports:
            for reason in r["reasons"]:
                print(f"{r['site']}: {r['verdict'].upper()}: {reason}")
            for warning in r["warnings"]:
                print(f"{r['site']}: warning: {warning}")
        uri = self.settings.get("ARCHIVE_URI") if self.settings else ""
        for r in reports:
            if r.get("report_key"):
                print(f"report: {uri.rstrip('/')}/{r['report_key']}")
