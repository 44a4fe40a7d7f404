"""Benchmark: what the attachments stage costs a crawl (issue 4).

    .venv/bin/python -m bench.bench_attachments [--per-column 100] [--file-kb 50] [--rounds 3]

Serves the demo portal on 127.0.0.1 and crawls it into a fresh local archive three ways, in
alternation, politeness off for loopback (`DOWNLOAD_DELAY=0`, AutoThrottle off, 16 per domain):

- `off`: ATTACHMENTS_ENABLED=False (files only listed);
- `demo`: attachments on, the demo's own files (2 files linked from 2 of the notices);
- `every`: attachments on, every article links a file of its own (`--file-kb` KB).

Prints the median crawl duration of each (the run summary's, engine start to close) and the crawl
process's CPU time (user + system, with its extraction workers), their ratios to `off`, and what one
attachment fetched and archived adds in `every`.
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from demo.portal import DemoPortal, demo_file, serve

PROJECT = Path(__file__).resolve().parent.parent
FAST = {"DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False", "CONCURRENT_REQUESTS_PER_DOMAIN": "16",
        "LOG_LEVEL": "WARNING"}


def _portal(per_column: int, every: int | None) -> DemoPortal:
    portal = DemoPortal(per_column=per_column, per_page=10)
    if every:
        for article in portal.all_articles():
            path = portal.add_file(f"/attach/bench/{article.id}.pdf", demo_file("pdf", article.id, every))
            article.attachments.append((f"附件{article.id}.pdf", path))
    return portal


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _crawl(portal: DemoPortal, enabled: bool, tmp: Path) -> tuple[float, float]:
    server, base = serve(portal)
    try:
        sites = tmp / "sites"
        sites.mkdir(parents=True, exist_ok=True)
        text = (PROJECT / "settings/sites/demo.toml").read_text(encoding="utf-8")
        (sites / "demo.toml").write_text(text.replace("http://127.0.0.1:8765", base), encoding="utf-8")
        archive = Path(tempfile.mkdtemp(dir=tmp))
        summary = tmp / "summary.json"
        args = [sys.executable, "-m", "scrapy", "crawl", "portal", "-a", "site=demo",
                "-s", f"ATTACHMENTS_ENABLED={enabled}", "-s", f"RUN_SUMMARY_FILE={summary}"]
        for key, value in FAST.items():
            args += ["-s", f"{key}={value}"]
        env = {"SITES_DIR": str(sites), "ARCHIVE_URI": archive.as_uri(),
               "ARCHIVE_SPOOL_DIR": str(tmp / "spool"), "PATH": "/usr/bin:/bin"}
        cpu = _cpu()
        subprocess.run(args, cwd=PROJECT, env=env, check=True, capture_output=True)
        return float(json.loads(summary.read_text())["duration"]), _cpu() - cpu
    finally:
        server.shutdown()
        server.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-column", type=int, default=100)
    parser.add_argument("--file-kb", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    times: dict[str, list[tuple[float, float]]] = {"off": [], "demo": [], "every": []}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.rounds):
            times["off"].append(_crawl(_portal(args.per_column, None), False, Path(tmp)))
            times["demo"].append(_crawl(_portal(args.per_column, None), True, Path(tmp)))
            times["every"].append(_crawl(_portal(args.per_column, args.file_kb * 1024), True, Path(tmp)))
    n = args.per_column * 3
    med = {name: (statistics.median(v[0] for v in values), statistics.median(v[1] for v in values))
           for name, values in times.items()}
    off = med["off"]
    for name, values in times.items():
        wall, cpu = med[name]
        print(f"{name:>6}: crawl {wall:6.2f} s ({wall / off[0]:.2f}x off), CPU {cpu:6.2f} s "
              f"({cpu / off[1]:.2f}x off); rounds: {', '.join(f'{w:.2f}/{c:.2f}' for w, c in values)}")
    print(f"{n} articles; every article with a {args.file_kb} KB file: "
          f"{(med['every'][0] - off[0]) / n * 1000:.1f} ms crawl time and "
          f"{(med['every'][1] - off[1]) / n * 1000:.1f} ms CPU more per attachment (medians of "
          f"{args.rounds} rounds)")

if __name__ == "__main__":
    main()
