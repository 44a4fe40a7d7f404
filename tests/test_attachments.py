"""Attachments (issue 4): the files an article's body links to are fetched once, archived raw under their
own URLs beside the article, and the article's document says what became of each.

Crawls of the demo portal (two notices link a PDF-like and a shared XLS-like file) as subprocesses,
into a local folder, and into moto's S3 server behind a proxy that goes down mid-crawl.
"""
from __future__ import annotations

import hashlib
import html
import json
import re
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from demo.portal import DemoPortal, demo_file, serve
from pipelines.attachments import failure_reason, in_scope
from pipelines.storage import open_store
from pipelines.storage.archive import Archive
from pipelines.storage.spool import loads
from retrieval.app import Background
from retrieval.web import link
from tests.conftest import S3, Portal, crawl, run_scrapy, write_demo_site
from tests.fault_server import FaultPortal
from tests.fault_server import serve as serve_faults

pytestmark = pytest.mark.e2e

CAP = 10_000  # ATTACHMENT_MAX_BYTES in these crawls; the demo's own files are 6,000 and 3,000 bytes
OFF_SCOPE = "http://files.example.org/upload/guide.pdf"
#: A 加速乐 challenge answered 200 in place of a file.
GUARDED = (b"<html><body><script>document.cookie=('__jsl_clearance=1|a1b2;max-age=3600;path=/');"
           b"location.href=location.pathname</script></body></html>")


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[Portal]:
    """The demo portal, with a third notice linking a missing file, one over the cap (announced), one
    over the cap streamed without a Content-Length (by the fault portal), one off-site."""
    faults, fault_base = serve_faults(FaultPortal())
    demo = DemoPortal()
    notice = demo.articles["tzgg"][2]
    demo.attach(notice, "缺失附件.pdf", "/attach/202611/missing.pdf")
    demo.attach(notice, "大文件.zip", demo.add_file("/attach/202611/big.zip", demo_file("zip", 3, 3 * CAP)))
    demo.attach(notice, "流式大文件.pdf", f"{fault_base}/f/big-stream/report.pdf")
    demo.attach(notice, "外站附件.pdf", OFF_SCOPE)
    demo.attach(notice, "受保护附件.pdf", demo.add_file("/attach/202611/guarded.pdf", GUARDED, "text/html"))
    server, base = serve(demo)
    sites_dir = tmp_path / "sites"
    write_demo_site(sites_dir, base)
    yield Portal(demo, base, sites_dir)
    for running in (server, faults):
        running.shutdown()
        running.server_close()


def _attachments(archive: Archive, url: str) -> dict[str, dict[str, Any]]:
    doc = archive.document(archive.pick(url))
    return {a["url"]: a for a in doc["attachments"]}


def _stats(text: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r"'(attachments/[a-z/_0-9]+)': (\d+)", text)}


def test_attachments_archived_raw_and_recorded(portal: Portal, tmp_path: Path) -> None:
    uri = (tmp_path / "archive").as_uri()
    result = crawl("demo", portal.sites_dir, uri, tmp_path, settings={"ATTACHMENT_MAX_BYTES": str(CAP)})
    assert result.returncode == 0, result.stderr[-3000:]
    archive = Archive(open_store(uri))
    demo = portal.portal
    first, second, third = demo.articles["tzgg"][:3]

    # Archived raw, byte-exact, under their own URLs; the documents name the key, digest and size.
    for path in ("/attach/202611/P020261120001.pdf", "/attach/202611/P020261120002.xls"):
        url = portal.url(path)
        served = demo.files[path][1]
        captures = archive.captures(url)
        assert [c.kind for c in captures] == ["attachment"], url
        status, headers, body = archive.raw_response(captures[0])
        assert (status, body) == (200, served)
        assert ("Content-Type", demo.files[path][0]) in headers
        entry = _attachments(archive, portal.url(first.path))[url]
        assert entry["status"] == "archived"
        assert (entry["sha1"], entry["bytes"]) == (hashlib.sha1(served).hexdigest(), len(served))
        assert entry["key"] == captures[0].name.raw_key
        assert entry["content_type"] == demo.files[path][0]
    pdf = portal.url("/attach/202611/P020261120001.pdf")
    got = run_scrapy(["archive", "get", pdf, "--format", "raw"], {"ARCHIVE_URI": uri}, text=False)
    assert got.returncode == 0 and got.stdout == demo.files["/attach/202611/P020261120001.pdf"][1]
    with Background(archive) as service:  # the retrieval service gives it back by its URL too
        with urllib.request.urlopen(f"{service.base}/api/v1/raw?{urlencode({'url': pdf})}") as answer:
            assert (answer.status, answer.read()) == (200, demo.files["/attach/202611/P020261120001.pdf"][1])
            assert answer.headers["Content-Type"] == "application/pdf"
        # the notice's reader page names its files, with what became of them, and links the archived ones
        with urllib.request.urlopen(f"{service.base}/text?{urlencode({'url': portal.url(first.path)})}") as answer:
            page = answer.read().decode()
        assert html.escape(link("/api/v1/raw", url=pdf)) in page
        assert "申报指南.pdf (archived, 6000 bytes)" in page

    # The XLS linked from two notices: fetched once, both documents point at the one capture.
    shared = portal.url("/attach/202611/P020261120002.xls")
    assert Counter(demo.requests)["/attach/202611/P020261120002.xls"] == 1
    assert _attachments(archive, portal.url(second.path))[shared]["key"] == \
        _attachments(archive, portal.url(first.path))[shared]["key"]

    # A 404, a file over the cap, an off-site file: recorded, not archived; the notice is archived.
    listed = _attachments(archive, portal.url(third.path))
    missing = listed[portal.url("/attach/202611/missing.pdf")]
    assert (missing["status"], missing["reason"], missing["http_status"]) == ("failed", "http_404", 404)
    big = listed[portal.url("/attach/202611/big.zip")]
    assert (big["status"], big["reason"], big["bytes"], big["max_bytes"]) == ("skipped", "too_large",
                                                                              3 * CAP, CAP)
    streamed = next(a for a in listed.values() if a["name"] == "流式大文件.pdf")
    assert (streamed["status"], streamed["reason"], streamed["bytes"]) == ("skipped", "too_large", None)
    off = listed[OFF_SCOPE]
    assert (off["status"], off["reason"]) == ("skipped", "off_scope")
    guarded = listed[portal.url("/attach/202611/guarded.pdf")]
    assert (guarded["status"], guarded["reason"]) == ("failed", "challenge_jsl")
    for url in (portal.url("/attach/202611/missing.pdf"), portal.url("/attach/202611/big.zip"), OFF_SCOPE,
                streamed["url"], guarded["url"]):
        assert archive.captures(url) == []
    assert archive.document(archive.pick(portal.url(third.path)))["text"].startswith(third.paragraphs[0][:10])
    assert [a["name"] for a in listed.values()] == ["缺失附件.pdf", "大文件.zip", "流式大文件.pdf", "外站附件.pdf",
                                                   "受保护附件.pdf"]

    stats = _stats(result.stderr)
    assert stats["attachments/archived"] == 2
    assert stats["attachments/duplicate"] == 1
    assert stats["attachments/failed/http_404"] == 1
    assert stats["attachments/failed/challenge_jsl"] == 1
    assert stats["attachments/skipped/too_large"] == 2
    assert stats["attachments/skipped/off_scope"] == 1
    # Attachments are not pages: the page counts and the failure ledger leave them out.
    assert result.summary is not None
    assert result.summary["archived"] == len(demo.all_articles())
    assert "http_404" not in result.summary["failures"]

    # The first two notices are re-checked (recrawl) after the PDF changed on the server: the XLS is
    # asked for once with its validators and the 304 says unchanged; the new PDF is a new capture.
    demo.add_file("/attach/202611/P020261120001.pdf", demo_file("pdf", 9, 7000))
    before = len(demo.requests)
    again = run_scrapy(["crawl", "portal", "-a", "site=demo", "-a", "mode=recrawl",
                        "-a", f"since={second.published:%Y-%m-%d}", "-a", f"until={first.published:%Y-%m-%d}",
                        "-a", "full=1"], {"ARCHIVE_URI": uri, "SITES_DIR": str(portal.sites_dir)})
    assert again.returncode == 0, again.stderr[-3000:]
    assert Counter(demo.requests[before:])["/attach/202611/P020261120002.xls"] == 1
    assert [c.kind for c in archive.captures(shared)] == ["attachment"]
    now = _attachments(archive, portal.url(first.path))
    assert now[shared]["status"] == "unchanged"
    assert now[shared]["key"] == archive.captures(shared)[0].name.raw_key
    assert (now[pdf]["status"], now[pdf]["bytes"]) == ("archived", 7000)
    newest, oldest = archive.captures(pdf)
    assert now[pdf]["key"] == newest.name.raw_key
    assert archive.raw_response(newest)[2] == demo_file("pdf", 9, 7000)
    assert archive.raw_response(oldest)[2] == demo_file("pdf", 1, 6000)
    stats = _stats(again.stderr)
    assert (stats["attachments/unchanged"], stats["attachments/archived"]) == (1, 1)


@pytest.mark.s3
def test_attachments_are_spooled_while_the_archive_is_down(s3: S3, tmp_path: Path) -> None:
    from tests.test_s3_outage import Proxy

    demo = DemoPortal(delay=0.05)
    server, base = serve(demo)
    sites_dir = tmp_path / "sites"
    write_demo_site(sites_dir, base)
    host, port = s3.endpoint.removeprefix("http://").split(":")
    proxy = Proxy((host, int(port)))
    proxy.start()
    env = {**s3.env(), "AWS_ENDPOINT_URL": proxy.url, "ARCHIVE_SPOOL_DIR": str(tmp_path / "spool")}
    settings = {"ARCHIVE_WRITE_ATTEMPTS": "1", "ARCHIVE_S3_MAX_ATTEMPTS": "1",
                "ARCHIVE_SPOOL_CLOSE_WAIT": "0", "ARCHIVE_SPOOL_RETRY_INTERVAL": "600"}

    def stop_at_first_request() -> None:  # the archive goes away once the crawl has started
        deadline = time.monotonic() + 60
        while not demo.requests and time.monotonic() < deadline:
            time.sleep(0.01)
        proxy.stop()

    watcher = threading.Thread(target=stop_at_first_request, daemon=True)
    watcher.start()
    try:
        down = crawl("demo", sites_dir, s3.uri(), tmp_path, extra_env=env, settings=settings)
        watcher.join()
        spooled = [loads(p.read_bytes()) for p in (tmp_path / "spool").rglob("*.rec")]
        files = {r.url: r.fields["body"] for r in spooled if r.op == "attachment"}
        assert files == {base + p: demo.files[p][1] for p in demo.files}, down.stderr[-3000:]

        proxy.start()
        up = crawl("demo", sites_dir, s3.uri(), tmp_path, extra_env=env, settings=settings)
        assert up.returncode == 0, up.stderr[-3000:]
    finally:
        proxy.stop()
        server.shutdown()
        server.server_close()
    archive = Archive(open_store(s3.uri(), endpoint_url=s3.endpoint))
    for path, (_ctype, body) in demo.files.items():
        captures = archive.captures(base + path)
        assert [c.kind for c in captures] == ["attachment"]
        assert archive.raw_response(captures[0])[2] == body
    entry = _attachments(archive, base + demo.articles["tzgg"][0].path)[base + "/attach/202611/P020261120001.pdf"]
    assert entry["key"] == archive.captures(base + "/attach/202611/P020261120001.pdf")[0].name.raw_key


@pytest.mark.parametrize(("url", "domains", "expected"), [
    ("http://www.zs.gov.cn/a.pdf", ["zs.gov.cn"], True),
    ("https://ZS.gov.cn:8443/a.pdf", ["zs.gov.cn"], True),
    ("http://127.0.0.1:8765/a.pdf", ["127.0.0.1"], True),
    ("http://evilzs.gov.cn/a.pdf", ["zs.gov.cn"], False),
    ("http://files.example.org/a.pdf", ["zs.gov.cn"], False),
    ("http://[::1/a.pdf", ["zs.gov.cn"], False),  # does not parse: listed, never fetched
    ("javascript:download('a.pdf')", ["zs.gov.cn"], False),
])
def test_in_scope(url: str, domains: list[str], expected: bool) -> None:
    assert in_scope(url, domains) is expected


def test_failure_reason() -> None:
    from scrapy.exceptions import DownloadCancelledError, IgnoreRequest

    assert failure_reason(DownloadCancelledError("Expected to receive 9 bytes which is larger than "
                                                 "download max size (5)")) == ("skipped", "too_large")
    assert failure_reason(IgnoreRequest("Forbidden by robots.txt")) == ("failed", "robots")
    assert failure_reason(ConnectionRefusedError()) == ("failed", "ConnectionRefusedError")
    json.dumps(failure_reason(ValueError()))


def test_known_attachment_keeps_its_whole_sha1_in_a_lean_document(tmp_path: Path) -> None:
    """A re-fetch tells same bytes by the archived sha1: lean documents drop raw_sha1, so the
    attachment's document keeps its own (written here through the archive stage's writer)."""
    from datetime import UTC, datetime
    from types import SimpleNamespace

    from pipelines.attachments import AttachmentsPipeline
    from pipelines.records import WRITERS

    archive = Archive(open_store((tmp_path / "archive").as_uri()))
    url, body = "http://www.example.gov.cn/attach/P1.pdf", demo_file("pdf", 7, 4000)
    sha1 = hashlib.sha1(body).hexdigest()
    WRITERS["attachment"](archive, {
        "url": url, "status": 200, "headers": [("Content-Type", "application/pdf"), ("ETag", '"v1"')],
        "body": body, "fetched_at": datetime(2026, 11, 30, 8, tzinfo=UTC), "request_headers": [],
        "document": {"site": "demo", "title": "P1.pdf", "text": None, "sha1": sha1, "etag": '"v1"'}})
    known = AttachmentsPipeline._known(SimpleNamespace(archive=archive), url)  # type: ignore[arg-type]
    assert known is not None
    assert known["sha1"] == sha1 and known["bytes"] == len(body) and known["etag"] == '"v1"'


def test_an_attachment_that_raises_fails_alone_and_its_article_goes_on() -> None:
    import asyncio
    from collections import Counter as Counts
    from datetime import UTC, datetime
    from types import SimpleNamespace

    from crawler.items import PageCapture
    from pipelines.attachments import AttachmentsPipeline

    class Broken(AttachmentsPipeline):
        async def _one(self, entry: dict[str, Any], item: PageCapture) -> dict[str, Any]:
            if entry["url"].endswith("bad.pdf"):
                raise RuntimeError("unexpected")
            return {**entry, "status": "skipped", "reason": "off_scope"}

    counts: Counts[str] = Counts()
    stage = Broken.__new__(Broken)
    stage.stats = SimpleNamespace(inc_value=lambda key, n=1: counts.update({key: n}))  # type: ignore[assignment]
    item = PageCapture(url="http://www.zs.gov.cn/a.html", site="zs", status=200, headers=[], body=b"<p>x</p>",
                       fetched_at=datetime(2026, 11, 30, tzinfo=UTC),
                       document={"text": "x", "attachments": [{"name": "坏.pdf", "url": "http://www.zs.gov.cn/bad.pdf"},
                                                              {"name": "好.pdf", "url": "http://x.org/ok.pdf"}]})
    out = asyncio.run(stage.process_item(item))
    assert out is item
    bad, other = item.document["attachments"]  # type: ignore[index]
    assert (bad["status"], bad["reason"], bad["name"]) == ("failed", "RuntimeError", "坏.pdf")
    assert other["status"] == "skipped"
    assert counts["attachments/failed/RuntimeError"] == 1
