"""S3 outage: the S3 server goes away for 30 s in the middle of a crawl; every article still ends up in
S3 exactly once, written by the same run (spool retried during the run and at its end) or, when the
archive is still down as the run ends, by the next run before it crawls.

The outage is real: the crawl talks to moto's S3 server through a TCP proxy on loopback that is
stopped (listening socket closed, open connections cut: connection refused) and started again on
the same port. moto keeps its buckets meanwhile.
"""
from __future__ import annotations

import os
import re
import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipelines.storage.keys import canonical_url, url_prefix
from tests.conftest import PROJECT, S3, SCRAPY, Portal, run_scrapy

pytestmark = [pytest.mark.e2e, pytest.mark.s3]

OUTAGE_S = 30.0


class Proxy:
    """A TCP proxy on 127.0.0.1 that can be stopped (refusing and cutting connections) and
    started again on the same port."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = 0
        self._listener: socket.socket | None = None
        self._lock = threading.Lock()
        self._conns: set[socket.socket] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        if self._listener is not None:
            try:
                self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() below
            except OSError:
                pass
            self._listener.close()
            self._listener = None
        with self._lock:
            conns, self._conns = self._conns, set()
        for conn in conns:
            self._close(conn)

    @staticmethod
    def _close(conn: socket.socket) -> None:
        try:
            conn.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        conn.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.upstream, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns |= {client, upstream}
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._conns -= {src, dst}
            self._close(src)
            self._close(dst)


@pytest.fixture
def proxy(s3: S3) -> Iterator[Proxy]:
    host, port = s3.endpoint.removeprefix("http://").split(":")
    proxy = Proxy((host, int(port)))
    proxy.start()
    yield proxy
    proxy.stop()


def _s3_keys(s3: S3) -> list[str]:
    import boto3

    client = boto3.client("s3", endpoint_url=s3.endpoint, region_name="us-east-1")
    keys: list[str] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=s3.bucket, Prefix="arch/"):
        keys += [o["Key"] for o in page.get("Contents", [])]
    return keys


def _captures(s3: S3) -> list[str]:
    return [k for k in _s3_keys(s3) if k.startswith("arch/captures/") and k.endswith(".json.gz")]


def _check_exactly_once(s3: S3, portal: Portal) -> None:
    keys = [k.removeprefix("arch/") for k in _s3_keys(s3) if k.startswith("arch/captures/")]
    docs = sorted(k for k in keys if k.endswith(".json.gz"))
    warcs = sorted(k.replace(".warc.gz", ".json.gz") for k in keys if k.endswith(".warc.gz"))
    assert warcs == docs, "every WARC has its document, every document its WARC"
    per_url = Counter(k.rpartition("/")[0] + "/" for k in docs)
    expected = {url_prefix(canonical_url(portal.url(a.path))[0]) for a in portal.portal.all_articles()}
    # and the files the demo's notices link to (issue 4, attachments), archived beside them
    expected |= {url_prefix(canonical_url(portal.url(path))[0]) for path in portal.portal.files}
    assert set(per_url) == expected, "every article and attachment is in S3"
    assert [p for p, n in per_url.items() if n != 1] == [], "no article is in S3 twice"


def _stats(log: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r"'(archive/[a-z/_A-Z]+)': (\d+)", log)}


def _start(portal: Portal, s3: S3, proxy: Proxy, tmp_path: Path, log: Any,
           settings: dict[str, str]) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(s3.env())
    env.update({"AWS_ENDPOINT_URL": proxy.url, "SITES_DIR": str(portal.sites_dir),
                "ARCHIVE_URI": s3.uri(), "ARCHIVE_SPOOL_DIR": str(tmp_path / "spool")})
    args = ["crawl", "portal", "-a", "site=demo", "-s", "AUTOTHROTTLE_ENABLED=False",
            "-s", "ARCHIVE_S3_MAX_ATTEMPTS=2", "-s", "ARCHIVE_RETRY_BACKOFF=0.5",
            "-s", "ARCHIVE_SPOOL_RETRY_INTERVAL=2"]
    for key, value in settings.items():
        args += ["-s", f"{key}={value}"]
    return subprocess.Popen([SCRAPY, *args], cwd=PROJECT, env=env, stdout=log, stderr=log)


def _wait(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_outage_mid_crawl_is_ridden_out_by_the_same_run(
        slow_portal: Portal, s3: S3, proxy: Proxy, tmp_path: Path) -> None:
    log_path = tmp_path / "crawl.log"
    with open(log_path, "wb") as log:
        proc = _start(slow_portal, s3, proxy, tmp_path, log,
                      {"DOWNLOAD_DELAY": "0.5", "ARCHIVE_SPOOL_CLOSE_WAIT": "90"})
        try:
            _wait(lambda: len(_captures(s3)) >= 4 or proc.poll() is not None, 90, "first captures")
            assert proc.poll() is None, "the crawl ended before the outage"
            proxy.stop()
            before = len(_captures(s3))
            served_at_stop = len(slow_portal.portal.requests)
            time.sleep(OUTAGE_S)
            served_in_outage = len(slow_portal.portal.requests) - served_at_stop
            proxy.start()
            proc.wait(timeout=150)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)
    text = log_path.read_text(errors="replace")
    assert proc.returncode == 0, text[-3000:]
    stats = _stats(text)
    print(f"captures before the outage: {before}; requests served during it: {served_in_outage}; "
          f"stats: {stats}")
    assert stats.get("archive/spooled", 0) >= 1, "captures were made during the outage"
    assert stats.get("archive/flushed", 0) == stats["archive/spooled"]
    assert not [k for k in stats if k.startswith("archive/failed/")]
    _check_exactly_once(s3, slow_portal)
    assert list((tmp_path / "spool").rglob("*.rec")) == []


def test_spool_left_by_a_run_ending_in_an_outage_is_flushed_by_the_next_run(
        slow_portal: Portal, s3: S3, proxy: Proxy, tmp_path: Path) -> None:
    log_path = tmp_path / "crawl.log"
    with open(log_path, "wb") as log:
        proc = _start(slow_portal, s3, proxy, tmp_path, log,
                      {"DOWNLOAD_DELAY": "0.2", "ARCHIVE_SPOOL_CLOSE_WAIT": "0"})
        try:
            _wait(lambda: len(_captures(s3)) >= 4 or proc.poll() is not None, 90, "first captures")
            assert proc.poll() is None, "the crawl ended before the outage"
            proxy.stop()
            proc.wait(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)
    text = log_path.read_text(errors="replace")
    assert proc.returncode == 0, text[-3000:]
    left = _stats(text).get("archive/failed/unreachable", 0)
    spooled = list((tmp_path / "spool").rglob("*.rec"))
    assert left >= 1 and len(spooled) == left, text[-3000:]
    assert "the next run against this archive writes them before it crawls" in text

    proxy.start()
    env = {**s3.env(), "AWS_ENDPOINT_URL": proxy.url, "SITES_DIR": str(slow_portal.sites_dir),
           "ARCHIVE_URI": s3.uri(), "ARCHIVE_SPOOL_DIR": str(tmp_path / "spool")}
    second = run_scrapy(["crawl", "portal", "-a", "site=demo", "-s", "AUTOTHROTTLE_ENABLED=False",
                         "-s", "DOWNLOAD_DELAY=0"], env, timeout=120)
    assert second.returncode == 0, second.stderr[-3000:]
    stats = _stats(second.stderr)
    print(f"left in the spool by the first run: {left}; second run stats: {stats}")
    assert stats.get("archive/flushed") == left
    # the spool's pages are new captures, its attachments (issue 4) are counted apart
    attachments = int((re.search(r"'attachments/archived': (\d+)", second.stderr) or [0, 0])[1])
    assert stats.get("archive/outcome/new", 0) + attachments == left, \
        "the second run archived only the spool"
    _check_exactly_once(s3, slow_portal)
    assert list((tmp_path / "spool").rglob("*.rec")) == []
