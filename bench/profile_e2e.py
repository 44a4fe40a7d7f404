"""Where the crawler's own process spends a page: CPU by thread, and what its reactor thread does.

    .venv/bin/python -m bench.profile_e2e [--articles 3000] [--floor]

Crawls the bench portal (bench/portal_server.py, ~50 KB pages) once with the full pipeline (or,
with --floor, without its archive stage) and prints, per article page, from the spider's opening
to its closing: the CPU of each kind of
thread of the crawler's process (the reactor's; the reactor's thread pool, where the archive
stage's retries and spool replays run, and its writes when they are not inline, as for S3 or with
ARCHIVE_WRITE_INLINE=False; the extraction pool's feeder and result threads), and how the
reactor thread's time divides between waiting for events (epoll), running, and neither: runnable
but waiting for the GIL or for a core. The extraction workers are separate processes (see
`bench_e2e` for the process tree's CPU).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from twisted.internet.task import LoopingCall

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))


class ReactorClock:
    """Extension (enabled by this script only): thread CPU clocks sampled every 0.5 s, and the
    reactor thread's time in epoll, written as JSON to PROFILE_E2E_OUT when the spider closes."""

    def __init__(self, crawler: Crawler) -> None:
        self.out = crawler.settings.get("PROFILE_E2E_OUT")
        self.threads: dict[tuple[str, int], float] = {}
        self.before: dict[tuple[str, int], float] = {}
        self.in_select = 0.0
        self.loop = LoopingCall(self.sample)
        crawler.signals.connect(self.opened, signal=signals.spider_opened)
        crawler.signals.connect(self.closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ReactorClock:
        return cls(crawler)

    def opened(self) -> None:
        import asyncio

        selector: Any = asyncio.get_event_loop()._selector  # type: ignore[attr-defined]
        select = selector.select

        def timed(timeout: float | None = None) -> Any:
            started = time.perf_counter()
            try:
                return select(timeout)
            finally:
                self.in_select += time.perf_counter() - started

        selector.select = timed
        self.started, self.cpu_started = time.perf_counter(), time.thread_time()
        self.sample()
        self.before = dict(self.threads)  # start-up (imports, the site file) is not the pages'
        self.loop.start(0.5)

    def sample(self) -> None:
        for thread in threading.enumerate():
            if thread.ident is not None:
                try:
                    self.threads[(thread.name, thread.ident)] = time.clock_gettime(
                        time.pthread_getcpuclockid(thread.ident))
                except OSError:  # ended between enumerate and the clock
                    pass

    def closed(self) -> None:
        self.sample()
        wall, cpu = time.perf_counter() - self.started, time.thread_time() - self.cpu_started
        kinds: dict[str, float] = {}
        for (name, ident), seconds in self.threads.items():
            seconds -= self.before.get((name, ident), 0.0)
            kind = ("reactor thread pool" if name.startswith("PoolThread") else
                    "reactor (main thread)" if name == "MainThread" else
                    "extraction pool feeder" if name.startswith("QueueFeeder") else
                    "extraction pool results" if name.startswith("Thread-") else name)
            kinds[kind] = kinds.get(kind, 0.0) + seconds
        Path(self.out).write_text(json.dumps({"wall": wall, "reactor_cpu": cpu,
                                              "reactor_in_epoll": self.in_select, "threads": kinds}))


def main() -> None:
    from bench.bench_e2e import FLOOR_PIPELINES, POLITENESS_OFF, SCRAPY, Portal, _settings, site_dir

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=3000)
    parser.add_argument("--floor", action="store_true", help="without the archive stage")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="govarchive-profile-"))
    portal = Portal(args.articles, chrome=True)
    try:
        out, summary = work / "profile.json", work / "summary.json"
        extensions = json.dumps({"crawler.extensions.RunSummary": 500, "bench.profile_e2e.ReactorClock": 0})
        cmd = [SCRAPY, "crawl", "portal", "-a", "site=bench", *_settings(POLITENESS_OFF),
               "-s", f"EXTENSIONS={extensions}", "-s", f"PROFILE_E2E_OUT={out}",
               "-s", f"RUN_SUMMARY_FILE={summary}", "-s", "RUN_REPORTS=False",
               *(["-s", f"ITEM_PIPELINES={FLOOR_PIPELINES}"] if args.floor else [])]
        env = {**os.environ, "SITES_DIR": str(site_dir(work, portal.base)),
               "ARCHIVE_URI": (work / "archive").as_uri()}
        subprocess.run(cmd, cwd=PROJECT, env=env, check=True, capture_output=True)
        found, report = json.loads(out.read_text()), json.loads(summary.read_text())
    finally:
        portal.close()
    pages = int(report["articles_fetched"])
    wall = found["wall"]
    print(f"{'floor' if args.floor else 'full'} crawl, {pages} articles, {pages / report['duration_s']:.1f} "
          f"pages/s, load average {os.getloadavg()[0]:.1f}")
    for kind, seconds in sorted(found["threads"].items(), key=lambda kv: -kv[1]):
        print(f"  {kind:28s} {1000 * seconds / pages:5.2f} ms CPU/page")
    epoll, cpu = found["reactor_in_epoll"], found["reactor_cpu"]
    print(f"  reactor thread: {100 * epoll / wall:.0f}% waiting for events, {100 * cpu / wall:.0f}% "
          f"running, {100 * (wall - epoll - cpu) / wall:.0f}% runnable but waiting (GIL or a core)")


if __name__ == "__main__":
    main()
