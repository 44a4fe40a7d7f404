"""What the raw WARC's gzip costs: zlib's levels against ISA-L's (python-isal), CPU and bytes per page.

    .venv/bin/python -m bench.bench_gzip [--pages 300]

Pages: the bench portal's ~50 KB article pages (bench/portal_server.py, realistic chrome), and the
real pages of ../shared/eval/zh-dev when that folder is present. Each page is made into its raw WARC
(`build_warc`, as the extraction workers do) at every level, the fastest of three passes over the
pages; bytes are against the page gzipped alone by `gzip -9` (zlib 9). The baseline is zlib's level
3, the default until ISA-L made the gzip (pipelines/storage/gz.py); ratios are against it, same run.
"""
from __future__ import annotations

import argparse
import gzip
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipelines.storage import gz  # noqa: E402
from pipelines.storage.warc import build_warc  # noqa: E402

ZH_DEV = ROOT.parent / "shared" / "eval" / "zh-dev"
BASELINE = ("zlib", 3)
WHEN = datetime(2026, 11, 30, tzinfo=UTC)


def bench_pages(count: int) -> list[bytes]:
    from bench.portal_server import build

    portal = build(count, 50, chrome=True)
    return [portal.respond(a.path)[2] for a in portal.all_articles()[:count]]


def zh_dev_pages() -> list[bytes]:
    return [p.read_bytes() for p in sorted(ZH_DEV.glob("*.*html"))] if ZH_DEV.is_dir() else []


def measure(pages: list[bytes], level: int, lib: str) -> tuple[float, float]:
    """(ms per page, bytes per page) of the raw WARC at `level`, gzipped by `lib` (zlib or isal)."""
    gz.ISAL_LEVELS = range(1, 4) if lib == "isal" else range(0)  # whom pipelines/storage/gz.py asks
    headers = [("Content-Type", "text/html; charset=utf-8")]
    best = float("inf")
    size = 0
    for _ in range(3):
        start = time.process_time()
        size = sum(len(build_warc("http://example.gov.cn/a.html", 200, headers, page, WHEN, request=False,
                                  gzip_level=level)) for page in pages)
        best = min(best, time.process_time() - start)
    return best / len(pages) * 1e3, size / len(pages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=300, help="bench portal pages")
    args = parser.parse_args()
    for name, pages in (("bench pages", bench_pages(args.pages)), ("zh-dev", zh_dev_pages())):
        if not pages:
            print(f"{name}: none (../shared/eval/zh-dev is not here)")
            continue
        gzip9 = sum(len(gzip.compress(p, 9)) for p in pages) / len(pages)
        print(f"{name}: {len(pages)} pages, {sum(map(len, pages)) / len(pages) / 1e3:.1f} KB each, "
              f"{gzip9 / 1e3:.1f} KB by gzip -9")
        rows = {("zlib", level): measure(pages, level, "zlib") for level in range(10)}
        rows.update({("isal", level): measure(pages, level, "isal") for level in range(1, 4)})
        base_ms = rows[BASELINE][0]
        print(f"  {'gzip':4} {'level':>5} {'ms/page':>8} {'x zlib 3':>8} {'bytes':>8} {'x gzip -9':>9}")
        for (lib, level), (ms, size) in sorted(rows.items(), key=lambda r: (r[0][0] == "zlib", r[0][1])):
            print(f"  {lib:4} {level:5} {ms:8.3f} {ms / base_ms:8.2f} {size:8.0f} {size / gzip9:9.3f}")


if __name__ == "__main__":
    main()
