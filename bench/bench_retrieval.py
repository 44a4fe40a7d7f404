"""Benchmark: retrieval of one capture by URL, over HTTP and through the Archive API (issue 7).

    .venv/bin/python -m bench.bench_retrieval [--captures 10000] [--per-url 5] [--samples 500] [--s3]

Builds a synthetic archive with `Archive.write_capture` (`--captures` captures, `--per-url` per URL,
all on one host: the worst case for a per-host folder), starts the service on 127.0.0.1 (port 0), and
times, for random URLs:

- archive API: `pick(url)` (the URL's listing) + `document(capture)` = one retrieval; listing alone;
- HTTP: GET /api/v1/document?url=… (latest), …&at=… (closest), GET /api/v1/captures?url=…

Prints p50/p95 in ms, and writes them to bench/results/retrieval.json. With `--s3` the same on moto's
S3 server on loopback (a smaller archive: `--s3-captures`).
"""
from __future__ import annotations

import argparse
import http.client
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from pipelines.storage import open_store  # noqa: E402
from pipelines.storage.archive import Archive  # noqa: E402
from retrieval.app import Background  # noqa: E402

HOST = "http://www.bench.gov.cn"
T0 = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
PARAGRAPH = "为深入贯彻落实市委市政府决策部署，进一步优化营商环境，现将有关事项通知如下。"


def _url(i: int) -> str:
    return f"{HOST}/zwgk/2026{i % 12 + 1:02d}/t2026{i % 12 + 1:02d}01_{100000 + i}.html"


def build(archive: Archive, captures: int, per_url: int, workers: int = 8) -> list[str]:
    """Write `captures` synthetic captures; returns the URLs."""
    urls = [_url(i) for i in range(max(1, captures // per_url))]

    def write(n: int) -> None:
        url, version = urls[n // per_url], n % per_url
        text = "\n".join([PARAGRAPH] * 8 + [f"第{version}版。"])
        body = f"<html><head><title>通知{n}</title></head><body><p>{text}</p></body></html>".encode()
        archive.write_capture(
            url=url, status=200, headers=[("Content-Type", "text/html; charset=utf-8")], body=body,
            fetched_at=T0 + timedelta(days=version, seconds=n),
            document={"title": f"关于优化营商环境的通知（{n}）", "text": text, "source": "市政府办公室",
                      "published_at": "2026-01-01T08:00:00+08:00", "site": "bench",
                      "content_type": "text/html; charset=utf-8"})

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(write, range(len(urls) * per_url)))
    return urls


def _stats(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {"p50_ms": round(statistics.median(ordered) * 1000, 2),
            "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 2),
            "n": len(ordered)}


def _time(func: Callable[[str], Any], urls: list[str]) -> dict[str, float]:
    samples = []
    for url in urls:
        start = time.perf_counter()
        func(url)
        samples.append(time.perf_counter() - start)
    return _stats(samples)


def measure(archive: Archive, urls: list[str], samples: int, seed: int = 7) -> dict[str, Any]:
    rng = random.Random(seed)
    picked = [rng.choice(urls) for _ in range(samples)]
    for url in picked[:20]:  # warm the OS cache and the connection pool a little
        archive.document(archive.pick(url))
    out: dict[str, Any] = {
        "api_list": _time(archive.captures, picked),
        "api_pick_and_document": _time(lambda u: archive.document(archive.pick(u)), picked),
    }
    with Background(archive) as service:
        parts = urlsplit(service.base)
        conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)

        def get(path: str, **params: str) -> bytes:
            conn.request("GET", f"{path}?{urlencode(params)}")
            response = conn.getresponse()
            body = response.read()
            if response.status != 200:
                raise RuntimeError(f"{path} {params}: {response.status} {body[:200]!r}")
            return body

        for url in picked[:20]:
            get("/api/v1/document", url=url)
        out["http_document_latest"] = _time(lambda u: get("/api/v1/document", url=u), picked)
        out["http_document_closest"] = _time(
            lambda u: get("/api/v1/document", url=u, at="20260103"), picked)
        out["http_captures"] = _time(lambda u: get("/api/v1/captures", url=u), picked)
        conn.close()
    return out


def _print(label: str, results: dict[str, Any]) -> None:
    print(f"\n{label}")
    for name, row in results.items():
        if isinstance(row, dict) and "p50_ms" in row:
            print(f"  {name:<24} p50 {row['p50_ms']:>7.2f} ms   p95 {row['p95_ms']:>7.2f} ms   (n={row['n']})")


def _s3(captures: int, per_url: int, samples: int) -> dict[str, Any]:
    import logging
    import os

    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request log lines
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        creds = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **creds).create_bucket(
            Bucket="bench")
        archive = Archive(open_store("s3://bench/arch", endpoint_url=endpoint, access_key_id="testing",
                                     secret_access_key="testing"))
        start = time.perf_counter()
        urls = build(archive, captures, per_url)
        built = time.perf_counter() - start
        return {"captures": len(urls) * per_url, "urls": len(urls), "build_seconds": round(built, 1),
                **measure(archive, urls, samples)}
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--captures", type=int, default=10_000)
    parser.add_argument("--per-url", type=int, default=5)
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--archive", help="reuse (or create) the local archive in this folder")
    parser.add_argument("--s3", action="store_true", help="also on moto's S3 server on loopback")
    parser.add_argument("--s3-captures", type=int, default=2_000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-retrieval-") as tmp:
        folder = Path(args.archive) if args.archive else Path(tmp) / "archive"
        archive = Archive(open_store(folder.resolve().as_uri()))
        count = max(1, args.captures // args.per_url)
        start = time.perf_counter()
        if args.archive and any(archive.captures(_url(count - 1))):
            urls = [_url(i) for i in range(count)]
        else:
            urls = build(archive, args.captures, args.per_url)
        built = time.perf_counter() - start
        size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
        local = {"captures": len(urls) * args.per_url, "urls": len(urls),
                 "build_seconds": round(built, 1), "archive_bytes": size,
                 **measure(archive, urls, args.samples)}
    results: dict[str, Any] = {"local": local}
    _print(f"local folder: {local['captures']} captures of {local['urls']} URLs, "
           f"{size / 1e6:.1f} MB, built in {built:.1f} s", local)
    if args.s3:
        results["s3_moto"] = _s3(args.s3_captures, args.per_url, min(args.samples, 200))
        s3 = results["s3_moto"]
        _print(f"S3 (moto on loopback): {s3['captures']} captures of {s3['urls']} URLs", s3)
    out = PROJECT / "bench/results/retrieval.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(f"\nwritten to {out.relative_to(PROJECT)}")


if __name__ == "__main__":
    main()
