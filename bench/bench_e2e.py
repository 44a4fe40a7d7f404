"""End-to-end benchmark on this machine: throughput, CPU, memory, storage cost, S3 writes, retrieval.

    .venv/bin/python -m bench.bench_e2e [--articles 5000] [--scale 1000,5000,20000]
                                        [--demo-articles 5000] [--quick] [--no-floor]
    .venv/bin/python -m bench.bench_e2e --e2e-only 3 --articles 3000   # noop / floor / full only
    make bench                                  # the same, writes bench/results/latest.json

Every figure is printed beside a baseline measured in the same run. The portal (bench/portal_server.py,
its own process on 127.0.0.1) is the demo portal with realistic article pages: each carries ~46 KB
of menus, link lists, styles and scripts as varied as real portals' (`_chrome`), so pages weigh
~50 KB and gzip to ~14.5 KB, the medians of the real municipal pages in ../shared/eval/zh-dev
(49 KB, 14.5 KB). The demo's own ~3 KB pages are measured too, as a secondary row.

1. Throughput on `--articles` articles: the full crawl (fetch, decode, extract, repair, archive to a
   local folder) against (a) the same crawl in plain Scrapy doing nothing with the pages and (b) plain
   Scrapy calling trafilatura in the callback and writing JSON lines (bench/baseline.py), and (c) the
   floor: the full crawl without its archive stage (`FLOOR_PIPELINES`), how close any archive stage
   could bring the crawl to plain Scrapy on this machine. Pages/s
   (articles over the spider's open-to-close time), CPU seconds per page (the crawl's process tree:
   crawler + extraction workers), peak RSS (the process tree, summed, sampled every 0.2 s).
   The noop and the full crawl run `--pairs` times (3), alternated: the machine's speed drifts from
   minute to minute (the noop by +-10%), so `e2e_vs_noop` is the median pair's ratio, each pair's is
   kept (`e2e.pairs`), and the other figures are the median pair's runs.
   The same three crawls again on `--demo-articles` of the demo's own ~3 KB pages (`e2e_demo_pages`).
2. Storage cost of both archives: bytes per article (raw WARC + document), the split (raw, text,
   metadata), against the page gzip-compressed alone.
3. Scale: the full crawl at each `--scale` size (realistic pages): pages/s, CPU per page, peak RSS.
4. S3: archive writes to moto's S3 server (its own process on 127.0.0.1) against the same writes to
   a local folder, objects/s.
5. Retrieval by URL (`Archive.pick` + `Archive.document`), p50/p95, on the largest scale run's
   archive (local) and on 10,000 of its captures copied to S3.

Politeness is off for the loopback portal in all three crawls alike (`-s DOWNLOAD_DELAY=0
-s AUTOTHROTTLE_ENABLED=False -s CONCURRENT_REQUESTS_PER_DOMAIN=16`: command-line settings outrank
the site file's), ROBOTSTXT_OBEY on in all three, CONCURRENT_ITEMS=4 in all three. The machine's
load average is recorded with the results: other work on the two cores lowers every figure.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from pipelines.storage import open_store  # noqa: E402
from pipelines.storage.archive import Archive  # noqa: E402

PY = str(Path(sys.executable))
SCRAPY = str(Path(sys.executable).parent / "scrapy")
RESULTS = PROJECT / "bench" / "results"
CONCURRENCY = 16
# The same settings for the three crawls. CONCURRENT_ITEMS: Scrapy 2.19 starts that many asyncio
# tasks for every response's output; a portal page yields one item (or a list page ~50 requests),
# and the default 100 costs about 1 ms of CPU per page in every crawl alike.
POLITENESS_OFF = ["DOWNLOAD_DELAY=0", "AUTOTHROTTLE_ENABLED=False", f"CONCURRENT_REQUESTS={CONCURRENCY}",
                  f"CONCURRENT_REQUESTS_PER_DOMAIN={CONCURRENCY}", "ROBOTSTXT_OBEY=True",
                  "CONCURRENT_ITEMS=4", "LOG_LEVEL=INFO", "LOGSTATS_INTERVAL=600"]


# -- processes -----------------------------------------------------------------------------------------
class Portal:
    """bench/portal_server.py in its own process."""

    def __init__(self, articles: int, chrome: bool = False) -> None:
        self.proc = subprocess.Popen([PY, "-m", "bench.portal_server", "--articles", str(articles),
                                      *(["--chrome"] if chrome else [])],
                                     cwd=PROJECT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().split()
        self.base, self.articles = line[0], int(line[1])

    def cpu(self) -> float:
        return _proc_cpu(self.proc.pid)

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _proc_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _tree(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


@dataclass
class Run:
    name: str
    articles: int
    seconds: float = 0.0
    wall: float = 0.0
    cpu: float = 0.0
    peak_rss_mb: float = 0.0
    peak_main_rss_mb: float = 0.0
    portal_cpu: float = 0.0
    main_cpu: float = 0.0  # the crawler's own process (the reactor's), last sampled; workers excluded
    fetched: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def pages_per_s(self) -> float:
        return self.articles / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms_per_page(self) -> float:
        return 1000 * self.cpu / self.articles

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "pages_per_s": round(self.pages_per_s, 1),
                "cpu_ms_per_page": round(self.cpu_ms_per_page, 2),
                "main_cpu_ms_per_page": round(1000 * self.main_cpu / self.articles, 2)}


def measure(name: str, articles: int, cmd: list[str], env: dict[str, str], portal: Portal,
            timeout: float = 900) -> tuple[Run, str, str]:
    """Run one crawl; CPU of its whole process tree, peak RSS sampled, the portal's CPU apart."""
    run = Run(name, articles)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    portal_before = portal.cpu()
    started = time.monotonic()
    full_env = {**os.environ, **env}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, cwd=PROJECT, env=full_env, stdout=out, stderr=err, text=True)
        peak, peak_main = 0, 0
        while proc.poll() is None:
            pids = _tree(proc.pid)
            peak = max(peak, sum(_rss_kb(p) for p in pids))
            peak_main = max(peak_main, _rss_kb(proc.pid))
            try:
                run.main_cpu = _proc_cpu(proc.pid)
            except (OSError, IndexError, ValueError):
                pass
            if time.monotonic() - started > timeout:
                proc.kill()
            time.sleep(0.2)
        proc.wait()
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    run.wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    run.cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    run.portal_cpu = portal.cpu() - portal_before
    run.peak_rss_mb, run.peak_main_rss_mb = peak / 1024, peak_main / 1024
    if proc.returncode != 0:
        raise RuntimeError(f"{name} exited {proc.returncode}:\n{stderr[-4000:]}")
    return run, stdout, stderr


def site_dir(root: Path, base: str) -> Path:
    """The demo site file, pointed at the bench portal, every list page walked."""
    text = (PROJECT / "settings/sites/demo.toml").read_text(encoding="utf-8")
    text = text.replace("http://127.0.0.1:8765", base)
    text = re.sub(r"^max_pages = \d+", "max_pages = 10000", text, flags=re.M)
    sites = root / "sites"
    sites.mkdir(parents=True, exist_ok=True)
    (sites / "bench.toml").write_text(text, encoding="utf-8")
    return sites


def _settings(pairs: list[str]) -> list[str]:
    return [a for pair in pairs for a in ("-s", pair)]


def crawl_full(portal: Portal, work: Path, name: str) -> tuple[Run, Path]:
    sites = site_dir(work, portal.base)
    archive = work / f"archive-{name}"
    summary = work / f"summary-{name}.json"
    cmd = [SCRAPY, "crawl", "portal", "-a", "site=bench", *_settings(POLITENESS_OFF),
           "-s", f"RUN_SUMMARY_FILE={summary}", "-s", "RUN_REPORTS=False"]
    run, _, stderr = measure(name, portal.articles, cmd,
                             {"SITES_DIR": str(sites), "ARCHIVE_URI": archive.as_uri()}, portal)
    report = json.loads(summary.read_text())
    run.seconds = float(report["duration_s"])
    run.fetched = int(report["articles_fetched"])
    run.extra = {"archived": report["archived"], "failures": report.get("failures", {}),
                 "extract_failed": report["extract_failed"]}
    if report["articles_fetched"] != portal.articles or report["archived"] < portal.articles:
        raise RuntimeError(f"{name}: archived {report['archived']} of {portal.articles}\n{stderr[-3000:]}")
    return run, archive


# The floor: the full crawl without its archive stage (nor attachments): fetch, decode, extract and
# repair in the worker pool, raw WARC made there too, nothing written. How close any archive stage
# could bring the full crawl to plain Scrapy on this machine.
FLOOR_PIPELINES = json.dumps({"pipelines.encoding.EncodingPipeline": 100,
                              "pipelines.extract.ExtractPipeline": 200,
                              "pipelines.repair.RepairPipeline": 300})


def crawl_floor(portal: Portal, work: Path) -> Run:
    sites = site_dir(work, portal.base)
    summary = work / "summary-floor.json"
    cmd = [SCRAPY, "crawl", "portal", "-a", "site=bench", *_settings(POLITENESS_OFF),
           "-s", f"ITEM_PIPELINES={FLOOR_PIPELINES}", "-s", f"RUN_SUMMARY_FILE={summary}",
           "-s", "RUN_REPORTS=False"]
    run, _, stderr = measure("floor", portal.articles, cmd,
                             {"SITES_DIR": str(sites), "ARCHIVE_URI": (work / "archive").as_uri()}, portal)
    report = json.loads(summary.read_text())
    run.seconds = float(report["duration_s"])
    run.fetched = int(report["articles_fetched"])
    if run.fetched != portal.articles:
        raise RuntimeError(f"floor: fetched {run.fetched} of {portal.articles}\n{stderr[-3000:]}")
    return run


def crawl_baseline(portal: Portal, work: Path, mode: str) -> Run:
    sites = site_dir(work, portal.base)
    out = work / f"{mode}.jsonl"
    cmd = [PY, "-m", "bench.baseline", "--mode", mode, "--site", "bench", "--sites-dir", str(sites),
           "--out", str(out), *_settings(POLITENESS_OFF)]
    run, stdout, _ = measure(mode, portal.articles, cmd, {}, portal)
    stats = json.loads(stdout.strip().splitlines()[-1])
    run.seconds = float(stats["elapsed_time_seconds"])
    if mode == "naive":
        run.fetched = int(stats.get("item_scraped_count", 0))
        if run.fetched != portal.articles:
            raise RuntimeError(f"naive: {run.fetched} items of {portal.articles}")
    else:
        run.fetched = int(stats.get("response_received_count", 0))
    return run


# -- storage cost -----------------------------------------------------------------------------------------
def storage_cost(archive: Path) -> dict[str, Any]:
    """Bytes per archived article and the split, against the raw page gzip-compressed alone."""
    store = Archive(open_store(archive.as_uri()))
    raw = doc_total = gzip_raw = page = n = 0
    text = meta = 0.0
    for doc_path in (archive / "captures").rglob("*.json.gz"):
        doc_bytes = doc_path.read_bytes()
        doc = json.loads(gzip.decompress(doc_bytes))
        warc = doc_path.with_name(doc_path.name.replace(".json.gz", ".warc.gz"))
        raw += warc.stat().st_size
        doc_total += len(doc_bytes)
        # The document's share of text vs metadata: each part compressed alone, scaled to the whole.
        text_part = {k: doc.get(k) for k in ("text", "text_simplified")}
        meta_part = {k: v for k, v in doc.items() if k not in text_part}
        t = len(gzip.compress(json.dumps(text_part, ensure_ascii=False).encode()))
        m = len(gzip.compress(json.dumps(meta_part, ensure_ascii=False).encode()))
        text += len(doc_bytes) * t / (t + m)
        meta += len(doc_bytes) * m / (t + m)
        capture = store.pick(doc["url"])
        _, _, body = store.raw_response(capture)
        gzip_raw += len(gzip.compress(body, 6))
        page += len(body)
        n += 1
    per = (raw + doc_total) / n
    return {"articles": n, "page_bytes": round(page / n), "bytes_per_article": round(per), "raw_warc_gz": round(raw / n),
            "document_json_gz": round(doc_total / n), "text": round(text / n), "metadata": round(meta / n),
            "gzip_raw_page": round(gzip_raw / n),
            "bytes_per_article_vs_gzip_raw": round(per / (gzip_raw / n), 3)}


def _chrome(n: int) -> str:
    """About 46 KB of the chrome real portals wrap around an article, as varied as theirs: the pages
    gzip about 3.4 to 1 (the zh-dev corpus: median 49 KB, 14.5 KB gzipped; ~9% inline script, ~2%
    style, ~80 links). Deterministic per article `n`; GBK-encodable."""
    import random

    from demo import content

    rng = random.Random(n)
    words = [p[i:i + 2] for p in content.PARAGRAPHS + content.TITLES for i in range(0, len(p) - 1, 2)
             if all("\u4e00" <= ch <= "\u9fff" for ch in p[i:i + 2])]

    def phrase(lo: int, hi: int) -> str:
        return "".join(rng.choice(words) for _ in range(rng.randint(lo, hi)))

    def link(depth: str) -> str:
        day = f"2026{rng.randint(1, 11):02d}{rng.randint(1, 28):02d}"
        title = phrase(6, 16)
        return (f'{depth}<li class="item-{rng.randint(1, 9)}"><a href="/{rng.choice(("zwgk", "xxgk", "bmdt", "zcjd"))}'
                f'/{day[:6]}/t{day}_{rng.randint(100000, 9999999)}.html" target="_blank" title="{title}">'
                f'{title[:rng.randint(10, 24)]}</a><span class="date">{day[:4]}-{day[4:6]}-{day[6:]}</span></li>\n')

    style = "<style type=\"text/css\">\n" + "".join(
        f"  .{cls}-{i} {{ margin:{rng.randint(0, 20)}px {rng.randint(0, 20)}px; padding:{rng.randint(0, 12)}px;"
        f" color:#{rng.randint(0, 0xFFFFFF):06x}; font-size:{rng.randint(12, 18)}px; }}\n"
        for i, cls in enumerate(("header", "nav", "menu", "list", "footer", "side", "banner") * 2)) + "</style>\n"
    header = ('<div class="header"><div class="search"><form action="/search/" method="get" target="_blank">'
              '<input type="text" name="q" placeholder="请输入关键词" class="search-input"/>'
              '<input type="submit" value="搜索" class="search-btn"/></form></div>\n'
              + "".join(f'  <a href="/{s}/" class="hd-link">{phrase(2, 4)}</a>\n' for s in
                        ("zwgk", "hdjl", "zwfw", "sjfb", "zmhd", "ztzl")) + "</div>\n")
    menus = "".join(
        f'<div class="menu menu-{m}" id="menu{m}">\n <div class="menu-title"><h3>{phrase(2, 4)}</h3>'
        f'<a href="/col{m}/" class="more">更多&gt;&gt;</a></div>\n <ul class="list">\n'
        + "".join(link("  ") for _ in range(rng.randint(13, 17))) + " </ul>\n</div>\n"
        for m in range(10))
    banners = "".join(
        f'<div class="banner"><a href="http://www.{rng.choice(("gd", "gz", "sz", "fs"))}.gov.cn/zt/{rng.randint(1000, 99999)}/"'
        f' target="_blank"><img src="/images/{rng.getrandbits(64):016x}.jpg" alt="{phrase(4, 8)}"'
        f' width="{rng.randint(200, 400)}" height="{rng.randint(60, 120)}"/></a></div>\n' for _ in range(6))
    script = "<script type=\"text/javascript\">\n" + "".join(
        f"  var _{rng.getrandbits(32):08x} = {{id: {rng.randint(1, 10 ** 9)}, col: '{rng.getrandbits(40):010x}', "
        f"ts: {1700000000 + rng.randint(0, 10 ** 7)}, title: '{phrase(3, 8)}'}};\n" for _ in range(60)) \
        + "  (function(){var s=document.createElement('script');s.src='/js/stat.js?'+Math.random();" \
          "document.body.appendChild(s);})();\n</script>\n"
    links = '<div class="links"><span>友情链接：</span><select onchange="window.open(this.value)">\n' + "".join(
        f'  <option value="http://www.{rng.getrandbits(24):06x}.gov.cn/">{phrase(3, 6)}人民政府网</option>\n'
        for _ in range(45)) + "</select></div>\n"
    return style + header + '<div class="sidebar">\n' + menus + banners + "</div>\n" + script + links


# -- S3 and retrieval ------------------------------------------------------------------------------------------
class MotoServer:
    """moto's S3 server in its own process on 127.0.0.1, port 0."""

    CODE = ("from moto.server import ThreadedMotoServer; import sys, time;"
            "s = ThreadedMotoServer(ip_address='127.0.0.1', port=0, verbose=False); s.start();"
            "print('http://%s:%d' % s.get_host_and_port(), flush=True); sys.stdin.read(); s.stop()")

    def __init__(self) -> None:
        self.proc = subprocess.Popen([PY, "-c", self.CODE], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, stderr=subprocess.DEVNULL)
        assert self.proc.stdout is not None
        self.endpoint = self.proc.stdout.readline().strip()
        self.options = {"endpoint_url": self.endpoint, "region_name": "us-east-1",
                        "access_key_id": "bench", "secret_access_key": "bench"}
        import boto3

        boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                     aws_access_key_id="bench", aws_secret_access_key="bench").create_bucket(Bucket="bench")

    def store(self, prefix: str) -> Any:
        return open_store(f"s3://bench/{prefix}", **self.options)

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _sample_capture(n: int) -> dict[str, Any]:
    from demo.portal import DemoPortal

    portal = DemoPortal(per_column=4, per_page=50)
    art = portal.all_articles()[n % 12]
    _, ctype, body, _ = portal.respond(art.path)
    return {"url": f"http://www.bench.gov.cn/zwgk/t20261120_{n}.html", "status": 200,
            "headers": [("Content-Type", ctype)], "body": body,
            "fetched_at": datetime(2026, 11, 20, tzinfo=UTC) + timedelta(seconds=n),
            "document": {"title": art.title, "text": art.body_text, "site": "bench"}}


def write_rate(archive: Archive, count: int, threads: int = 10) -> float:
    """Captures written per second through Archive.write_capture (2 objects each), `threads` at once
    (Scrapy's deferToThread pool has 10)."""
    samples = [_sample_capture(i) for i in range(count)]
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda s: archive.write_capture(**s), samples))
    return 2 * count / (time.perf_counter() - started)


def copy_to(store: Any, archive: Path, limit: int, threads: int = 16) -> list[str]:
    """Copy `limit` captures (WARC + document) of a local archive into `store`; returns their URLs."""
    docs = sorted((archive / "captures").rglob("*.json.gz"))[:limit]
    urls = []

    def put(doc: Path) -> str:
        warc = doc.with_name(doc.name.replace(".json.gz", ".warc.gz"))
        store.put(str(warc.relative_to(archive)), warc.read_bytes(), "application/warc")
        data = doc.read_bytes()
        store.put(str(doc.relative_to(archive)), data, "application/json")
        return str(json.loads(gzip.decompress(data))["url"])

    with ThreadPoolExecutor(threads) as pool:
        urls = list(pool.map(put, docs))
    return urls


def retrieval(archive: Archive, urls: list[str], samples: int = 400) -> dict[str, float]:
    """p50/p95 of one retrieval by URL: the URL's captures listed, the latest picked, its document read."""
    rng = random.Random(8)
    times = []
    for url in rng.sample(urls, min(samples, len(urls))):
        started = time.perf_counter()
        doc = archive.document(archive.pick(url))
        times.append(1000 * (time.perf_counter() - started))
        assert doc["url"] == url
    times.sort()
    return {"p50_ms": round(statistics.median(times), 2),
            "p95_ms": round(times[int(0.95 * (len(times) - 1))], 2), "samples": len(times)}


# -- the whole run --------------------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--scale", default="1000,5000,20000")
    parser.add_argument("--s3-captures", type=int, default=10000)
    parser.add_argument("--demo-articles", type=int, default=5000,
                        help="the three crawls again on the demo's own ~3 KB pages (0: skip)")
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the harness")
    parser.add_argument("--pairs", type=int, default=3,
                        help="noop and full crawls alternated this many times on --articles (median pair)")
    parser.add_argument("--no-floor", dest="floor", action="store_false",
                        help="leave out the floor crawl (the full crawl without its archive stage)")
    parser.add_argument("--e2e-only", type=int, default=0, metavar="REPEATS",
                        help="only noop, floor and the full crawl on --articles, REPEATS times "
                             "alternated, their ratios and medians (to iterate; writes nothing)")
    parser.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a Scrapy setting for all three crawls alike")
    parser.add_argument("--out", default=str(RESULTS / "latest.json"))
    args = parser.parse_args()
    if args.quick:
        args.articles, args.scale, args.s3_captures, args.demo_articles = 600, "300,600", 500, 300
        args.pairs = 1
    POLITENESS_OFF.extend(args.set)
    if args.e2e_only:
        e2e_only(args.articles, args.e2e_only)
        return
    sizes = sorted({int(s) for s in args.scale.split(",")} | {args.articles})
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="govarchive-bench-"))
    results: dict[str, Any] = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0],
                                           "loadavg_before": os.getloadavg()},
                               "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
                               "command": "make bench", "settings": POLITENESS_OFF}
    try:
        scale: dict[int, dict[str, Any]] = {}
        largest_archive: Path | None = None
        for size in sizes:
            portal = Portal(size, chrome=True)
            try:
                print(f"== {portal.articles} articles of ~50 KB on {portal.base}", flush=True)
                if size == args.articles:
                    # noop and full alternated, `--pairs` times: the machine's speed drifts from one
                    # minute to the next (the noop by +-10%), so the ratio is the median pair's.
                    pairs: list[tuple[Run, Run, Path]] = []
                    for n in range(max(1, args.pairs)):
                        noop = crawl_baseline(portal, work / f"noop-{n}", "noop")
                        _show(noop)
                        full, archive = crawl_full(portal, work / f"full-{size}-{n}", f"full-{size}")
                        _show(full)
                        pairs.append((noop, full, archive))
                    pairs.sort(key=lambda p: p[1].pages_per_s / p[0].pages_per_s)
                    noop, full, archive = pairs[len(pairs) // 2]
                    for _, _, other in pairs:
                        if other != archive:
                            shutil.rmtree(other)
                    print(f"  full/noop per pair: {[round(f.pages_per_s / n.pages_per_s, 3) for n, f, _ in pairs]}"
                          f", median {full.pages_per_s / noop.pages_per_s:.3f}", flush=True)
                    naive = crawl_baseline(portal, work / "naive", "naive")
                    _show(naive)
                    floor = crawl_floor(portal, work / "floor") if args.floor else None
                    if floor is not None:
                        _show(floor)
                else:
                    full, archive = crawl_full(portal, work / f"full-{size}", f"full-{size}")
                    _show(full)
                if size == max(sizes) and size != args.articles:  # is memory growth ours or Scrapy's?
                    noop_big = crawl_baseline(portal, work / "noop-big", "noop")
                    _show(noop_big)
                    results["noop_at_largest"] = noop_big.as_dict()
            finally:
                portal.close()
            scale[size] = full.as_dict()
            if size == args.articles:
                results["e2e"] = {"full": full.as_dict(), "noop": noop.as_dict(), "naive": naive.as_dict(),
                                  **({"floor": floor.as_dict()} if floor is not None else {}),
                                  "pairs": [{"noop_pages_per_s": n.pages_per_s, "full_pages_per_s": f.pages_per_s,
                                             "full_vs_noop": round(f.pages_per_s / n.pages_per_s, 3)}
                                            for n, f, _ in pairs]}
                results["storage"] = storage_cost(archive)
                print("storage:", results["storage"], flush=True)
            if size == max(sizes):
                largest_archive = archive
            elif size != args.articles:
                shutil.rmtree(archive)
        if args.demo_articles:
            portal = Portal(args.demo_articles)
            try:
                print(f"== {portal.articles} demo articles of ~3 KB on {portal.base}", flush=True)
                demo = {mode: crawl_baseline(portal, work / f"demo-{mode}", mode) for mode in ("noop", "naive")}
                demo["full"], demo_archive = crawl_full(portal, work / "demo-full", "demo-full")
                for run in demo.values():
                    _show(run)
            finally:
                portal.close()
            results["storage_demo_pages"] = storage_cost(demo_archive)
            print("storage, demo pages:", results["storage_demo_pages"], flush=True)
            shutil.rmtree(demo_archive)
            results["e2e_demo_pages"] = {k: v.as_dict() for k, v in demo.items()}
            results["e2e_demo_pages"]["full_vs_naive"] = round(
                demo["full"].pages_per_s / demo["naive"].pages_per_s, 3)
            results["e2e_demo_pages"]["full_vs_noop"] = round(
                demo["full"].pages_per_s / demo["noop"].pages_per_s, 3)
        results["scale"] = {str(k): {f: v[f] for f in ("articles", "pages_per_s", "cpu_ms_per_page",
                                                        "peak_rss_mb", "peak_main_rss_mb", "seconds")}
                            for k, v in scale.items()}
        assert largest_archive is not None
        local = Archive(open_store(largest_archive.as_uri()))
        local_urls = [json.loads(gzip.decompress(p.read_bytes()))["url"]
                      for p in (largest_archive / "captures").rglob("*.json.gz")]
        results["retrieval_local"] = {"captures": len(local_urls), **retrieval(local, local_urls)}
        print("retrieval local:", results["retrieval_local"], flush=True)
        moto = MotoServer()
        try:
            s3_rate = write_rate(Archive(moto.store("writes")), 1000 if not args.quick else 200)
            local_rate = write_rate(Archive(open_store((work / "writes").as_uri())),
                                    1000 if not args.quick else 200)
            results["s3_writes"] = {"s3_objects_per_s": round(s3_rate, 1),
                                    "local_objects_per_s": round(local_rate, 1),
                                    "s3_vs_local": round(s3_rate / local_rate, 3)}
            print("writes:", results["s3_writes"], flush=True)
            s3_store = moto.store("read")
            urls = copy_to(s3_store, largest_archive, args.s3_captures)
            results["retrieval_s3"] = {"captures": len(urls), **retrieval(Archive(s3_store), urls)}
            print("retrieval s3:", results["retrieval_s3"], flush=True)
        finally:
            moto.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    e2e = results["e2e"]
    small, big = results["scale"][str(min(s for s in sizes if s >= args.articles))], \
        results["scale"][str(max(sizes))]
    results.update({
        "e2e_pages_per_s": e2e["full"]["pages_per_s"],
        "e2e_vs_naive": round(e2e["full"]["pages_per_s"] / e2e["naive"]["pages_per_s"], 3),
        "e2e_vs_noop": round(e2e["full"]["pages_per_s"] / e2e["noop"]["pages_per_s"], 3),
        **({"floor_vs_noop": round(e2e["floor"]["pages_per_s"] / e2e["noop"]["pages_per_s"], 3),
            "e2e_vs_floor": round(e2e["full"]["pages_per_s"] / e2e["floor"]["pages_per_s"], 3)}
           if "floor" in e2e else {}),
        "naive_pages_per_s": e2e["naive"]["pages_per_s"],
        "noop_pages_per_s": e2e["noop"]["pages_per_s"],
        "cpu_ms_per_page": e2e["full"]["cpu_ms_per_page"],
        "cpu_vs_naive": round(e2e["full"]["cpu_ms_per_page"] / e2e["naive"]["cpu_ms_per_page"], 3),
        "peak_rss_mb": round(max(v["peak_rss_mb"] for v in results["scale"].values()), 1),
        "rss_growth_5k_to_20k": round(big["peak_rss_mb"] / small["peak_rss_mb"], 3),
        "main_rss_growth_5k_to_20k": round(big["peak_main_rss_mb"] / small["peak_main_rss_mb"], 3),
        **({"noop_rss_growth_5k_to_20k": round(results["noop_at_largest"]["peak_rss_mb"]
                                                / e2e["noop"]["peak_rss_mb"], 3)}
           if "noop_at_largest" in results else {}),
        "bytes_per_article": results["storage"]["bytes_per_article"],
        "bytes_per_article_vs_gzip_raw": results["storage"]["bytes_per_article_vs_gzip_raw"],
        "page_bytes": results["storage"]["page_bytes"],
        **({"bytes_per_article_demo_pages": results["storage_demo_pages"]["bytes_per_article"],
            "bytes_per_article_vs_gzip_raw_demo_pages":
                results["storage_demo_pages"]["bytes_per_article_vs_gzip_raw"]}
           if "storage_demo_pages" in results else {}),
        "retrieval_p50_ms": results["retrieval_local"]["p50_ms"],
        "retrieval_p95_ms": results["retrieval_local"]["p95_ms"],
        "retrieval_s3_p50_ms": results["retrieval_s3"]["p50_ms"],
        "retrieval_s3_p95_ms": results["retrieval_s3"]["p95_ms"],
        "s3_objects_per_s": results["s3_writes"]["s3_objects_per_s"],
        **({"e2e_demo_pages_vs_naive": results["e2e_demo_pages"]["full_vs_naive"],
            "e2e_demo_pages_vs_noop": results["e2e_demo_pages"]["full_vs_noop"]}
           if "e2e_demo_pages" in results else {}),
        "bench_seconds": round(time.monotonic() - started, 1),
        "loadavg_after": os.getloadavg(),
    })
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1, ensure_ascii=False))
    print(json.dumps({k: v for k, v in results.items() if not isinstance(v, dict | list)}, indent=1))
    print(f"written to {out}")


def e2e_only(articles: int, repeats: int) -> None:
    """noop, floor and full, alternated `repeats` times on one portal; each ratio and the medians."""
    work = Path(tempfile.mkdtemp(prefix="govarchive-bench-"))
    ratios: dict[str, list[float]] = {"floor_vs_noop": [], "full_vs_noop": [], "full_vs_floor": []}
    cpu: dict[str, list[float]] = {"noop": [], "floor": [], "full": []}
    portal = Portal(articles, chrome=True)
    try:
        print(f"== {portal.articles} articles of ~50 KB on {portal.base}, load {os.getloadavg()}", flush=True)
        for n in range(repeats):
            noop = crawl_baseline(portal, work / f"noop-{n}", "noop")
            floor = crawl_floor(portal, work / f"floor-{n}")
            full, archive = crawl_full(portal, work / f"full-{n}", f"full-{n}")
            shutil.rmtree(archive)
            for run in (noop, floor, full):
                _show(run)
                cpu[run.name.split("-")[0]].append(run.cpu_ms_per_page)
            ratios["floor_vs_noop"].append(floor.pages_per_s / noop.pages_per_s)
            ratios["full_vs_noop"].append(full.pages_per_s / noop.pages_per_s)
            ratios["full_vs_floor"].append(full.pages_per_s / floor.pages_per_s)
            print("  ratios:", {k: round(v[-1], 3) for k, v in ratios.items()}, flush=True)
    finally:
        portal.close()
        shutil.rmtree(work, ignore_errors=True)
    print("medians:", {k: round(statistics.median(v), 3) for k, v in ratios.items()},
          "CPU ms/page:", {k: round(statistics.median(v), 2) for k, v in cpu.items()})


def _show(run: Run) -> None:
    print(f"  {run.name:>12}: {run.pages_per_s:7.1f} pages/s  {run.cpu_ms_per_page:6.2f} ms CPU/page "
          f"(main {1000 * run.main_cpu / run.articles:.2f})  "
          f"peak RSS {run.peak_rss_mb:6.1f} MB (main {run.peak_main_rss_mb:.1f})  "
          f"portal CPU {run.portal_cpu:.1f}s  [{run.seconds:.1f}s]", flush=True)


if __name__ == "__main__":
    main()
