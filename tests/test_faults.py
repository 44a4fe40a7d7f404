"""Faults and bad input, end to end: one crawl of the hostile portal (tests/fault_server.py).

Each case checks the three promises: the crawl goes on (it finishes, every good article around the
fault is archived), the faulty page is recorded as failed with its reason (the failure ledger,
crawler/failures.py, or the archived document's errors), and nothing else is lost.
"""
from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pipelines.storage import open_store
from pipelines.storage.archive import Archive
from tests.conftest import run_scrapy
from tests.fault_server import ESCAPE_PATHS, SITE_TOML, STATUS_STORM, FaultPortal, serve

pytestmark = pytest.mark.e2e

# case → the reason the ledger must give for each of its URLs
EXPECTED = {
    **{name: f"http_{code}" for name, code in STATUS_STORM.items()},
    "slow": "timeout",
    "reset": "connection_lost",
    "loop": "redirect_loop",
    "self": "redirect_loop",
    "chain": "redirect_max",
    "bomb": "decompression_bomb",
    "big-cl": "too_large",
    "big-stream": "too_large",
    "offsite": "redirect_offsite",
    "loopback": "redirect_private",
    "private": "redirect_private",
    "localhost": "redirect_private",
    "metadata": "redirect_private",
}


@dataclass
class FaultCrawl:
    portal: FaultPortal
    base: str
    root: Path
    returncode: int
    stderr: str
    summary: dict[str, Any]
    failures: list[dict[str, str]]
    archive: Archive

    def reasons(self, url: str) -> list[str]:
        return [f["reason"] for f in self.failures if f["url"] == url]


@pytest.fixture(scope="module")
def fault_crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultCrawl]:
    portal = FaultPortal()
    server, base = serve(portal)
    tmp = tmp_path_factory.mktemp("faults")
    sites = tmp / "sites"
    sites.mkdir()
    (sites / "faults.toml").write_text(SITE_TOML.format(base=base), encoding="utf-8")
    root = tmp / "archive"
    summary, failures = tmp / "summary.json", tmp / "failures.jsonl"
    try:
        proc = run_scrapy(
            ["crawl", "portal", "-a", "site=faults", "-s", f"RUN_SUMMARY_FILE={summary}",
             "-s", f"FAILURES_FILE={failures}", "-s", "DOWNLOAD_TIMEOUT=1.5", "-s", "RETRY_TIMES=1",
             "-s", "REDIRECT_MAX_TIMES=5", "-s", "AUTOTHROTTLE_ENABLED=False"],
            {"SITES_DIR": str(sites), "ARCHIVE_URI": root.as_uri()}, timeout=240)
    finally:
        server.shutdown()
        server.server_close()
    assert summary.exists(), proc.stderr[-3000:]
    yield FaultCrawl(
        portal, base, root, proc.returncode, proc.stderr, json.loads(summary.read_text()),
        [json.loads(line) for line in failures.read_text().splitlines()],
        Archive(open_store(root.as_uri())))


def test_the_crawl_goes_on(fault_crawl: FaultCrawl) -> None:
    """The run finishes normally, with no traceback, whatever the portal threw at it."""
    assert fault_crawl.returncode == 0
    assert fault_crawl.summary["finish_reason"] == "finished"
    assert "Traceback" not in fault_crawl.stderr


def test_nothing_else_is_lost(fault_crawl: FaultCrawl) -> None:
    """Every good article interleaved with the faults is archived with its text."""
    for path in fault_crawl.portal.good_paths():
        capture = fault_crawl.archive.pick(fault_crawl.base + path)
        doc = fault_crawl.archive.document(capture)
        assert doc["text"], path


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_fault_is_recorded_with_its_reason(fault_crawl: FaultCrawl, case: str) -> None:
    """5xx storms (after the retries), timeouts, resets, redirect loops and chains, a gzip bomb,
    100 MB pages, redirects off the site or to private addresses: each URL is in the ledger once,
    with its reason, and counted in `failed/<reason>`; nothing is archived for it."""
    expected = EXPECTED[case]
    for path in fault_crawl.portal.fault_paths()[case]:
        url = fault_crawl.base + path
        assert fault_crawl.reasons(url) == [expected], (url, fault_crawl.failures)
        assert fault_crawl.archive.captures(url) == []
    assert fault_crawl.summary["failures"][expected] >= len(fault_crawl.portal.fault_paths()[case])


def test_retried_5xx_is_not_a_failure(fault_crawl: FaultCrawl) -> None:
    """A 503 that a retry recovers is archived and not in the ledger."""
    url = fault_crawl.base + "/f/flaky/0.html"
    assert fault_crawl.reasons(url) == []
    assert fault_crawl.archive.document(fault_crawl.archive.pick(url))["title"]


def test_refused_redirects_never_left_loopback(fault_crawl: FaultCrawl) -> None:
    """A refused redirect is refused before any request: the refused targets were never fetched."""
    hits = fault_crawl.portal.hits
    assert hits.get("/f/ok/0.html") == 1 and hits.get("/f/ok/1.html") == 1  # only via the list page
    assert hits.get("/f/loop/a.html") == 1 and hits.get("/f/self.html") == 1


def test_binary_garbage_is_archived_raw_and_recorded(fault_crawl: FaultCrawl) -> None:
    """Random bytes served as text/html: the exact bytes are archived, the page is recorded failed."""
    url = fault_crawl.base + "/f/garbage.html"
    capture = fault_crawl.archive.pick(url)
    _, _, body = fault_crawl.archive.raw_response(capture)
    assert len(body) == 40_000
    doc = fault_crawl.archive.document(capture)
    assert doc["text"] is None and any(e.startswith("extract:") for e in doc["errors"])
    assert fault_crawl.reasons(url) == ["extract_empty"]


def test_truncated_multibyte_sequences_are_decoded_and_counted(fault_crawl: FaultCrawl) -> None:
    """A GBK page with a lone lead byte and a character cut off at the end: decoded as GBK with the
    bad bytes counted, the article text intact, raw bytes archived unchanged."""
    url = fault_crawl.base + "/f/truncated.html"
    capture = fault_crawl.archive.pick(url)
    doc = fault_crawl.archive.document(capture)
    assert doc["encoding"]["encoding"] in ("gbk", "gb18030")
    assert doc["encoding"]["undecodable_bytes"] >= 1
    assert fault_crawl.summary["encoding_rules"].get(doc["encoding"]["rule"], 0) >= 1  # the final rule
    assert doc["title"] == "截断的多字节序列"
    assert doc["text"] and "\ufffd" not in doc["title"]
    _, _, body = fault_crawl.archive.raw_response(capture)
    assert body.endswith("未完".encode("gbk")[:3])


def test_deeply_nested_html_is_archived(fault_crawl: FaultCrawl) -> None:
    """50,000 nested elements: no crash, no hang; the raw page is archived, and either text was
    found or the page is recorded failed with the extractor's reason."""
    url = fault_crawl.base + "/f/nested.html"
    capture = fault_crawl.archive.pick(url)
    doc = fault_crawl.archive.document(capture)
    if doc["text"] is None:
        assert fault_crawl.reasons(url) and fault_crawl.reasons(url)[0].startswith("extract_")
    else:
        assert fault_crawl.reasons(url) == []


def test_urls_cannot_escape_the_key_space(fault_crawl: FaultCrawl) -> None:
    """Dot segments (plain, percent-encoded, double-encoded), backslashes, NUL, a 400-character path,
    traversal in the query: each page is archived under captures/<host>/<one segment>/ and comes
    back by its URL; nothing is written outside the archive's captures/ tree."""
    root = fault_crawl.root
    host = fault_crawl.base.split("//", 1)[1]
    for path in ESCAPE_PATHS:
        url = fault_crawl.base + path
        capture = fault_crawl.archive.pick(url)
        key = capture.name.doc_key
        assert key.startswith(f"captures/{host}/") and key.count("/") == 3, key
        assert (root / key).resolve().is_relative_to(root.resolve())
    for dirpath, _, files in os.walk(root):
        for name in files:
            rel = (Path(dirpath) / name).resolve().relative_to(root.resolve())
            assert rel.parts[0] in ("captures", "index", "runs"), rel
    for entry in root.parent.iterdir():
        assert entry.name in ("archive", "sites", "summary.json", "failures.jsonl"), entry


def test_failure_stats_and_report(fault_crawl: FaultCrawl) -> None:
    """`failed/total` counts every ledger entry; the run report carries the ledger's first URLs."""
    assert fault_crawl.summary["failures_total"] == len(fault_crawl.failures)
    assert "total" not in fault_crawl.summary["failures"]
    assert sum(fault_crawl.summary["failures"].values()) == len(fault_crawl.failures)
    listed = {f["url"] for f in fault_crawl.summary["failed_urls"]}
    assert listed <= {f["url"] for f in fault_crawl.failures} and listed


def test_every_archived_document_is_complete(fault_crawl: FaultCrawl) -> None:
    """Every document the crawl wrote is a valid gzip JSON with its raw WARC beside it."""
    docs = list((fault_crawl.root / "captures").rglob("*.json.gz"))
    assert len(docs) == fault_crawl.summary["archived"]
    for doc in docs:
        data = json.loads(gzip.decompress(doc.read_bytes()))
        assert data["url"]
        assert doc.with_name(doc.name.replace(".json.gz", ".warc.gz")).exists()


def test_summary_totals_archive_failures_and_keeps_the_ledger_total_apart() -> None:
    """`archive_failed` sums every `archive/failed/<reason>`; `failed/total` and `failed/ledger` are
    not failure reasons."""
    from crawler.extensions import summarize

    stats = {"archive/failed/unreachable": 2, "archive/failed/OSError": 1, "failed/timeout": 2,
             "failed/http_500": 1, "failed/total": 3, "failed/ledger": [{"url": "u", "reason": "timeout"}]}
    report = summarize(stats, "demo")
    assert report["archive_failed"] == 3 and report["failed_reasons"]["archive"] == 3
    assert report["failures"] == {"timeout": 2, "http_500": 1} and report["failures_total"] == 3
