"""Benchmark: a 500-page crawl through the browser, peak memory of crawler + Chromium, and pages per
second through the browser beside plain HTTP on the same test portal (tests/challenge_portal.py).

    .venv/bin/python -m bench.bench_browser [--pages 500] [--limit-mb 1500]

Both crawls fetch the same pages (a 普通 column: list pages of 50 + articles) at the same concurrency
(2), no delays. The browser run is `render = "browser"` with the default context recycling. RSS is
the sum over the crawl's whole process tree (scrapy, Playwright's driver, every chromium process),
sampled every 0.2 s from /proc. Exit status 1 when the peak passes the limit.
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


def tree_rss(root: int) -> tuple[int, int, int]:
    """(bytes of RSS summed, bytes of PSS summed, number of processes) over the tree under `root`.
    The RSS sum counts pages shared between Chromium's processes once per process (an upper bound);
    PSS shares them out (what the tree really costs)."""
    tree, total, pss, count, todo = _children(), 0, 0, 0, [root]
    while todo:
        pid = todo.pop()
        try:
            pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
        total, count = total + pages * PAGE, count + 1
        pss += _pss(pid)
        todo.extend(tree.get(pid, []))
    return total, pss, count


def run(slug: str, sites: Path, archive: Path, summary: Path, timeout: float) -> dict[str, float]:
    env = {**os.environ, "SITES_DIR": str(sites), "ARCHIVE_URI": archive.as_uri()}
    args = [str(Path(sys.executable).parent / "scrapy"), "crawl", "portal", "-a", f"site={slug}",
            "-s", f"RUN_SUMMARY_FILE={summary}", "-s", "LOG_LEVEL=WARNING", "-s", "ROBOTSTXT_OBEY=False",
            "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0"]
    peak, peak_pss, procs, stop = [0], [0], [0], threading.Event()
    started = time.monotonic()
    proc = subprocess.Popen(args, cwd=PROJECT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)

    def sample() -> None:
        while not stop.is_set():
            rss, pss, n = tree_rss(proc.pid)
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
            "max_processes": procs[0]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument("--limit-mb", type=float, default=1500)
    parser.add_argument("--timeout", type=float, default=1800)
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
                results[slug] = run(slug, sites, root / f"archive-{slug}", root / f"{slug}.json",
                                    args.timeout)
                print(f"{slug:10s} {json.dumps(results[slug])}", flush=True)
    finally:
        server.shutdown()
        server.server_close()
    browser, plain = results["browser"], results["plainhttp"]
    print(f"browser: {browser['pages']} pages at {browser['pages_per_s']} p/s, peak RSS "
          f"{browser['peak_rss_mb']} MB, PSS {browser['peak_pss_mb']} MB (crawler + "
          f"{browser['max_processes'] - 1} browser processes); "
          f"plain HTTP: {plain['pages_per_s']} p/s, peak RSS {plain['peak_rss_mb']} MB")
    if browser["peak_rss_mb"] > args.limit_mb:
        print(f"FAIL: peak RSS {browser['peak_rss_mb']} MB > {args.limit_mb} MB")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
