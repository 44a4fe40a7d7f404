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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from demo.portal import DemoPortal, serve

PROJECT = Path(__file__).resolve().parent.parent
SCRAPY = str(Path(sys.executable).parent / "scrapy")


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


@pytest.fixture
def demo_portal(tmp_path: Path) -> Iterator[Portal]:
    portal = DemoPortal()
    server, base = serve(portal)
    sites_dir = tmp_path / "sites"
    write_demo_site(sites_dir, base)
    yield Portal(portal, base, sites_dir)
    server.shutdown()
    server.server_close()


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


def run_scrapy(args: list[str], env: dict[str, str] | None = None, timeout: float = 180,
               text: bool = True) -> subprocess.CompletedProcess[Any]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    full_env.update(env or {})
    return subprocess.run([SCRAPY, *args], cwd=PROJECT, env=full_env, capture_output=True, text=text,
                          timeout=timeout)


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
