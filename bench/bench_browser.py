"""Benchmark: a 500-page crawl through the browser, peak memory of crawler + Chromium, and pages per
second through the browser beside plain HTTP on the same test portal (tests/challenge_portal.py).

    .venv/bin/python -m bench.bench_browser [--pages 500] [--limit-mb 1500] [--only browser]
                                            [--set NAME=VALUE ...]

Both crawls fetch the same pages (a 普通 column: list pages of 50 + articles) at the same concurrency
(2), no delays. The browser run is `render = "browser"` with the default context recycling. RSS is
the sum over the crawl's whole process tree (scrapy, its extraction workers, Playwright's driver,
every chromium process), sampled every 0.2 s from /proc; PSS beside it. Each run also reports, at
its peak, the count, RSS and PSS per kind of process (`at_peak_mb`), the most processes of each kind
seen at once, and the summed RSS over time. Exit status 1 when the browser peak passes the limit,
or when the plain-HTTP crawl had any Chromium or Playwright process in its tree.

Pages/s depend on what else the machine runs (2 cores shared); RSS does not.
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
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from tests.challenge_portal import ChallengePortal, serve, site_toml  # noqa: E402

PAGE = os.sysconf("SC_PAGE_SIZE")


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rpartition(")")[2].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def _pss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def kind_of(pid: int) -> str:
    """What a process of the crawl's tree is, from its command line."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "gone"
    line = b" ".join(argv)
    if b"--type=" in line:
        return "chromium-" + line.split(b"--type=", 1)[1].split()[0].decode()
    if b"chrom" in argv[0]:
        return "chromium-browser"
    if b"playwright" in line or argv[0].endswith(b"node"):
        return "playwright-driver"
    if b"resource_tracker" in line:
        return "mp-resource-tracker"
    if b"multiprocessing" in line:
        return "extract-worker"
    return "scrapy" if b"scrapy" in line else argv[0].decode(errors="replace")


def tree_rss(root: int, by_kind: dict[str, list[int]] | None = None) -> tuple[int, int, int]:
    """(bytes of RSS summed, bytes of PSS summed, number of processes) over the tree under `root`.
    The RSS sum counts pages shared between Chromium's processes once per process (an upper bound);
    PSS shares them out (what the tree really costs). With `by_kind`, also [count, rss, pss] per
    kind of process (`kind_of`)."""
    tree, total, pss, count, todo = _children(), 0, 0, 0, [root]
    while todo:
        pid = todo.pop()
        try:
            pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
        rss, this_pss = pages * PAGE, _pss(pid)
        total, count = total + rss, count + 1
        pss += this_pss
        if by_kind is not None:
            row = by_kind.setdefault(kind_of(pid), [0, 0, 0])
            row[0], row[1], row[2] = row[0] + 1, row[1] + rss, row[2] + this_pss
        todo.extend(tree.get(pid, []))
    return total, pss, count


def run(slug: str, sites: Path, archive: Path, summary: Path, timeout: float,
        settings: Sequence[str] = ()) -> dict[str, Any]:
    env = {**os.environ, "SITES_DIR": str(sites), "ARCHIVE_URI": archive.as_uri()}
    extra = [a for kv in settings for a in ("-s", kv)]
    args = [str(Path(sys.executable).parent / "scrapy"), "crawl", "portal", "-a", f"site={slug}",
            "-s", f"RUN_SUMMARY_FILE={summary}", "-s", "LOG_LEVEL=WARNING", "-s", "ROBOTSTXT_OBEY=False",
            "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0", *extra]
    peak, peak_pss, procs, stop = [0], [0], [0], threading.Event()
    at_peak: dict[str, list[int]] = {}
    max_kind: Counter[str] = Counter()
    timeline: list[tuple[float, int, int]] = []
    started = time.monotonic()
    proc = subprocess.Popen(args, cwd=PROJECT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)

    def sample() -> None:
        while not stop.is_set():
            kinds: dict[str, list[int]] = {}
            rss, pss, n = tree_rss(proc.pid, kinds)
            if rss > peak[0]:
                at_peak.clear()
                at_peak.update(kinds)
            for kind, row in kinds.items():
                max_kind[kind] = max(max_kind[kind], row[0])
            timeline.append((round(time.monotonic() - started, 1), rss, n))
            peak[0], procs[0] = max(peak[0], rss), max(procs[0], n)
            peak_pss[0] = max(peak_pss[0], pss)
            stop.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        _, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    finally:
        stop.set()
        sampler.join()
    elapsed = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit(f"crawl {slug} failed ({proc.returncode}): {stderr[-2000:]}")
    report = json.loads(summary.read_text())
    pages = report["list_pages"] + report["articles_fetched"]
    return {"pages": pages, "archived": report["archived"], "seconds": round(elapsed, 1),
            "pages_per_s": round(pages / elapsed, 2), "peak_rss_mb": round(peak[0] / 2**20, 1),
            "peak_pss_mb": round(peak_pss[0] / 2**20, 1),
            "max_processes": procs[0],
            "at_peak_mb": {k: {"n": v[0], "rss": round(v[1] / 2**20), "pss": round(v[2] / 2**20)}
                           for k, v in sorted(at_peak.items())},
            "max_per_kind": dict(sorted(max_kind.items())),
            "rss_mb_over_time": [(t, round(r / 2**20), n) for t, r, n in timeline[::25]]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument("--limit-mb", type=float, default=1500)
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--only", choices=("plainhttp", "browser"), help="run one crawl only")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a Scrapy setting for the crawls (repeatable)")
    args = parser.parse_args()
    per_page = 50
    articles = args.pages - -(-args.pages // (per_page + 1))
    portal = ChallengePortal(per_column=articles, per_page=per_page)
    server, base = serve(portal)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-browser-") as tmp:
            root = Path(tmp)
            sites = root / "sites"
            sites.mkdir()
            politeness = "concurrency = 2"
            for slug, render in (("plainhttp", "http"), ("browser", "browser")):
                text = site_toml(base, columns=["plain"], render=render).replace(
                    "max_pages = 20", "max_pages = 1000")
                assert politeness in text
                (sites / f"{slug}.toml").write_text(text, encoding="utf-8")
            results = {}
            for slug in ("plainhttp", "browser"):
                if args.only and slug != args.only:
                    continue
                results[slug] = run(slug, sites, root / f"archive-{slug}", root / f"{slug}.json",
                                    args.timeout, args.set)
                print(f"{slug:10s} {json.dumps(results[slug])}", flush=True)
    finally:
        server.shutdown()
        server.server_close()
    plain_browsers = {k for k in results.get("plainhttp", {}).get("max_per_kind", {})
                      if k.startswith(("chromium", "playwright"))}
    if plain_browsers:
        print(f"FAIL: the plain-HTTP crawl started a browser: {sorted(plain_browsers)}")
        return 1
    if args.only:
        return 0
    browser, plain = results["browser"], results["plainhttp"]
    print(f"browser: {browser['pages']} pages at {browser['pages_per_s']} p/s, peak RSS "
          f"{browser['peak_rss_mb']} MB, PSS {browser['peak_pss_mb']} MB (crawler + "
          f"{browser['max_processes'] - 1} browser processes); "
          f"plain HTTP: {plain['pages_per_s']} p/s, peak RSS {plain['peak_rss_mb']} MB, processes "
          f"{plain['max_per_kind']}")
    if browser["peak_rss_mb"] > args.limit_mb:
        print(f"FAIL: peak RSS {browser['peak_rss_mb']} MB > {args.limit_mb} MB")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
