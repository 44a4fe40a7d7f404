"""Shared fixtures: the demo portal on loopback, moto's S3 server, crawls run as subprocesses.

Real parts only: a real HTTP server, moto's S3 server speaking HTTP, real subprocess crawls. A test
that needs a missing part skips with the reason; under CI (CI=true) any skip fails the run.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings

from demo.portal import DemoPortal, serve

PROJECT = Path(__file__).resolve().parent.parent
SCRAPY = str(Path(sys.executable).parent / "scrapy")


# -- hypothesis: CI draws the same examples every run (a failure there is reproducible, not luck) --
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


# -- CI refuses skips ---------------------------------------------------------------------------
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if os.environ.get("CI") and skipped and session.exitstatus == 0:
        reporter.write_line(f"CI: {len(skipped)} test(s) skipped; CI must run them all", red=True)
        session.exitstatus = 1


# -- the demo portal ----------------------------------------------------------------------------
@dataclass
class Portal:
    portal: DemoPortal
    base: str
    sites_dir: Path

    def url(self, path: str) -> str:
        return self.base + path


def write_demo_site(sites_dir: Path, base: str, **replace: str) -> Path:
    """A copy of settings/sites/demo.toml pointing at a portal served on another port."""
    text = (PROJECT / "settings/sites/demo.toml").read_text(encoding="utf-8")
    text = text.replace("http://127.0.0.1:8765", base)
    for old, new in replace.items():
        text = re.sub(old, new, text, flags=re.M)
    sites_dir.mkdir(parents=True, exist_ok=True)
    path = sites_dir / "demo.toml"
    path.write_text(text, encoding="utf-8")
    return path


@contextmanager
def served_portal(tmp_path: Path, **options: Any) -> Iterator[Portal]:
    """A DemoPortal(**options) served on loopback, with its site file in tmp_path/sites."""
    portal = DemoPortal(**options)
    server, base = serve(portal)
    sites_dir = tmp_path / "sites"
    write_demo_site(sites_dir, base)
    try:
        yield Portal(portal, base, sites_dir)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def demo_portal(tmp_path: Path) -> Iterator[Portal]:
    with served_portal(tmp_path) as portal:
        yield portal


@pytest.fixture
def slow_portal(tmp_path: Path) -> Iterator[Portal]:
    """The demo portal answering each request after 50 ms: crawls last long enough to interrupt."""
    with served_portal(tmp_path, delay=0.05) as portal:
        yield portal


# -- moto's S3 server on loopback ---------------------------------------------------------------
@dataclass
class S3:
    endpoint: str
    bucket: str

    def env(self) -> dict[str, str]:
        return {"AWS_ENDPOINT_URL": self.endpoint, "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}

    def uri(self, prefix: str = "arch") -> str:
        return f"s3://{self.bucket}/{prefix}"


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as exc:  # pragma: no cover - the dev lock installs moto[server]
        pytest.skip(f"moto[server] is not installed: {exc}")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(s3_server: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> S3:
    import boto3

    bucket = "t-" + re.sub(r"[^a-z0-9-]", "-", request.node.name.lower())[:50].strip("-")
    for key, value in S3(s3_server, bucket).env().items():
        monkeypatch.setenv(key, value)
    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    client.create_bucket(Bucket=bucket)
    return S3(s3_server, bucket)


# -- crawls as subprocesses ---------------------------------------------------------------------
@dataclass
class CrawlResult:
    returncode: int
    stdout: str
    stderr: str
    summary: dict[str, object] | None


def _scrapy_env(env: dict[str, str] | None) -> dict[str, str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    full_env.update(env or {})
    return full_env


def run_scrapy(args: list[str], env: dict[str, str] | None = None, timeout: float = 180,
               text: bool = True) -> subprocess.CompletedProcess[Any]:
    return subprocess.run([SCRAPY, *args], cwd=PROJECT, env=_scrapy_env(env), capture_output=True,
                          text=text, timeout=timeout)


@contextmanager
def scrapy_in_background(args: list[str], env: dict[str, str], log_path: Path
                         ) -> Iterator[subprocess.Popen[bytes]]:
    """A scrapy command running while the block runs (its output in *log_path*), to be killed or
    waited for there; killed on the way out if it still runs."""
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([SCRAPY, *args], cwd=PROJECT, env=_scrapy_env(env), stdout=log, stderr=log)
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)


def crawl(site: str, sites_dir: Path, archive_uri: str, tmp_path: Path,
          extra_env: dict[str, str] | None = None, settings: dict[str, str] | None = None,
          ) -> CrawlResult:
    summary = tmp_path / f"summary-{site}-{len(list(tmp_path.glob('summary-*')))}.json"
    args = ["crawl", "portal", "-a", f"site={site}", "-s", f"RUN_SUMMARY_FILE={summary}",
            "-s", "AUTOTHROTTLE_START_DELAY=0.1"]
    for key, value in (settings or {}).items():
        args += ["-s", f"{key}={value}"]
    env = {"SITES_DIR": str(sites_dir), "ARCHIVE_URI": archive_uri, **(extra_env or {})}
    proc = run_scrapy(args, env)
    data = json.loads(summary.read_text()) if summary.exists() else None
    return CrawlResult(proc.returncode, proc.stdout, proc.stderr, data)


# -- retrieval service (issue 7): a demo archive with two versions of every page ----------------
# Added by the retrieval work; additive only. One archive per test module and backend: crawl the
# demo portal into a fresh archive, change one article, crawl again into a second fresh archive and
# copy its captures over, so every article has two captures and the changed one two texts (whatever
# an incremental crawl would skip).
@dataclass
class DemoArchive:
    uri: str
    env: dict[str, str]
    store_options: dict[str, str]
    portal: DemoPortal
    base: str
    changed_path: str
    added: str

    def url(self, path: str) -> str:
        return self.base + path

    def open(self) -> Any:
        from pipelines.storage import open_store
        from pipelines.storage.archive import Archive

        return Archive(open_store(self.uri, **self.store_options))


def build_demo_archive(tmp: Path, uri: str, second_uri: str, env: dict[str, str],
                       store_options: dict[str, str]) -> tuple[DemoArchive, Any]:
    """Crawl twice (see above); returns the archive description and the portal's server."""
    from pipelines.storage import open_store

    portal = DemoPortal()
    server, base = serve(portal)
    sites_dir = tmp / "sites"
    write_demo_site(sites_dir, base)
    first = crawl("demo", sites_dir, uri, tmp, extra_env=env)
    assert first.returncode == 0, first.stderr[-3000:]
    article = portal.articles["yw"][0]
    added = "新增段落：本次会议还研究了其他事项。"
    portal.change(article, added)
    second = crawl("demo", sites_dir, second_uri, tmp, extra_env=env)
    assert second.returncode == 0, second.stderr[-3000:]
    source, target = open_store(second_uri, **store_options), open_store(uri, **store_options)
    for key in source.list("captures/"):
        target.put(key, source.get(key))
    return DemoArchive(uri, env, store_options, portal, base, article.path, added), server


@pytest.fixture(scope="module", params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def demo_archive(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[DemoArchive]:
    """The demo portal crawled twice into one archive, on the local backend or on moto's S3."""
    tmp = tmp_path_factory.mktemp(f"demo-archive-{request.param}")
    if request.param == "local":
        env: dict[str, str] = {}
        options: dict[str, str] = {}
        uri, second = (tmp / "archive").as_uri(), (tmp / "second").as_uri()
    else:
        import boto3

        endpoint = request.getfixturevalue("s3_server")
        bucket = "t-demo-archive-" + re.sub(r"[^a-z0-9-]", "-", request.module.__name__.lower())[-30:]
        env = S3(endpoint, bucket).env()
        options = {"endpoint_url": endpoint, "access_key_id": "testing",
                   "secret_access_key": "testing", "region_name": "us-east-1"}
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
                     aws_secret_access_key="testing").create_bucket(Bucket=bucket)
        uri, second = f"s3://{bucket}/arch", f"s3://{bucket}/second"
    built, server = build_demo_archive(tmp, uri, second, env, options)
    yield built
    server.shutdown()
    server.server_close()


# -- [redis_server] a real redis-server on loopback (issue 5, part 2: scale-out tests) ------------
@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[str]:
    """redis://127.0.0.1:PORT/0 of a throw-away redis-server (no persistence), stopped after."""
    import shutil
    import socket
    import time

    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (Debian package redis-server)")
    with socket.socket() as probe:  # a free port; redis-server cannot bind port 0
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    folder = tmp_path / "redis"
    folder.mkdir()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(folder)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on 127.0.0.1:{port}")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
# -- [/redis_server]
