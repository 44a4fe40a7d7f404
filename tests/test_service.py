"""The retrieval service (issue 7) on 127.0.0.1, port 0: every endpoint, its errors and its headers.

Two archives: a synthetic one written with `Archive.write_capture` (paging, kinds, mirrors, input
validation), and the demo portal crawled twice (local folder and moto's S3), checked end to end.
The OpenAPI description is validated against the answers with schemathesis.
"""
from __future__ import annotations

import io
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from warcio.archiveiterator import ArchiveIterator

from pipelines.storage import open_store
from pipelines.storage.archive import Archive
from retrieval.app import Background
from tests.conftest import PROJECT as PROJECT_DIR
from tests.conftest import DemoArchive, run_scrapy

HTML = [("Content-Type", "text/html; charset=utf-8")]
T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
PAGE = "http://www.zs.gov.cn/zwgk/202611/t20261101_1.html"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


def fetch(base: str, path: str, method: str = "GET", **params: str) -> Answer:
    """GET (or another method) on the service; error statuses come back as answers too."""
    url = base + path + ("?" + urlencode(params) if params else "")
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return Answer(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, dict(exc.headers), exc.read())


def assert_secure(answer: Answer) -> None:
    csp = answer.headers.get("Content-Security-Policy", "")
    assert "default-src 'none'" in csp, answer.headers
    assert answer.headers.get("X-Content-Type-Options") == "nosniff"


def _doc(i: int, text: str) -> dict[str, Any]:
    return {"title": f"标题{i}", "text": text, "source": "市政府办公室", "site": "zhongshan",
            "published_at": "2026-11-01T08:00:00+08:00", "content_type": "text/html; charset=utf-8",
            "gkml": {"doc_number": f"中府〔2026〕{i}号"}}  # noqa: RUF001


# -- a synthetic archive: 7 captures of one page (three kinds), and 5 other pages -----------------
@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("synthetic")
    archive = Archive(open_store((root / "archive").as_uri()))
    kinds = ["capture", "capture", "revisit", "capture", "capture", "removed", "capture"]
    for i, kind in enumerate(kinds):
        archive.write_capture(url=PAGE, status=404 if kind == "removed" else 200, headers=HTML,
                              body=f"<p>v{i}</p>".encode(), fetched_at=T0 + timedelta(days=i),
                              document=_doc(i, f"第一段。\n第{i}版的第二段。"), kind=kind)
    for j in range(5):
        archive.write_capture(url=f"http://www.zs.gov.cn/zwgk/202611/t2026110{j}_x{j}.html", status=200,
                              headers=HTML, body=f"<p>x{j}</p>".encode(), fetched_at=T0,
                              document=_doc(j, "正文。"))
    evil = b"<html><body><script>document.title='PWNED'</script><p>evil</p></body></html>"
    archive.write_capture(url="http://www.zs.gov.cn/evil.html", status=200, headers=HTML, body=evil,
                          fetched_at=T0, document=_doc(9, "evil"))
    with Background(archive) as service:
        yield service.base


def test_captures_newest_first_with_every_field(synthetic: str) -> None:
    answer = fetch(synthetic, "/api/v1/captures", url=PAGE)
    assert answer.status == 200
    assert_secure(answer)
    data = answer.json()
    assert data["total"] == data["count"] == 7 and data["next_cursor"] is None
    stamps = [c["timestamp"] for c in data["captures"]]
    assert stamps == sorted(stamps, reverse=True)
    assert [c["kind"] for c in data["captures"]] == \
        ["capture", "removed", "capture", "capture", "revisit", "capture", "capture"]
    first = data["captures"][0]
    assert first["status"] == 200 and first["title"] == "标题6" and len(first["text_fingerprint"]) == 40
    assert data["captures"][1]["status"] == 404
    assert first["links"]["document"].startswith("/api/v1/document?url=")


def test_captures_are_paged_with_a_cursor(synthetic: str) -> None:
    seen: list[str] = []
    params = {"url": PAGE, "limit": "3"}
    for _ in range(5):  # bounded: 7 captures, 3 a page
        data = fetch(synthetic, "/api/v1/captures", **params).json()
        seen += [c["timestamp"] for c in data["captures"]]
        if not data["next_cursor"]:
            break
        assert data["next"].startswith("/api/v1/captures?") and "cursor=" in data["next"]
        params["cursor"] = data["next_cursor"]
    assert len(seen) == len(set(seen)) == 7 and seen == sorted(seen, reverse=True)


def test_prefix_listing_pages_through_every_url(synthetic: str) -> None:
    seen: list[tuple[str, str]] = []
    params = {"url": "http://www.zs.gov.cn/zwgk/", "match": "prefix", "limit": "4"}
    for _ in range(5):
        data = fetch(synthetic, "/api/v1/captures", **params).json()
        assert data["total"] is None
        seen += [(c["url"], c["timestamp"]) for c in data["captures"]]
        if not data["next_cursor"]:
            break
        params["cursor"] = data["next_cursor"]
    assert len(seen) == len(set(seen)) == 12  # 7 of PAGE + 5 others; evil.html is outside the prefix
    assert {u for u, _ in seen} == {PAGE} | {f"http://www.zs.gov.cn/zwgk/202611/t2026110{j}_x{j}.html"
                                             for j in range(5)}


def test_from_and_to_bound_the_listing(synthetic: str) -> None:
    data = fetch(synthetic, "/api/v1/captures", url=PAGE, **{"from": "20261103", "to": "20261105"}).json()
    days = [c["captured_at"][:10] for c in data["captures"]]
    assert days == ["2026-11-05", "2026-11-04", "2026-11-03"]
    whole_month = fetch(synthetic, "/api/v1/captures", url=PAGE, to="202611").json()
    assert whole_month["total"] == 7
    assert fetch(synthetic, "/api/v1/captures", url=PAGE, to="202610").json()["total"] == 0


def test_document_latest_and_closest(synthetic: str) -> None:
    latest = fetch(synthetic, "/api/v1/document", url=PAGE)
    assert latest.status == 200 and latest.json()["title"] == "标题6"
    assert latest.headers["Memento-Datetime"] == "Sat, 07 Nov 2026 08:00:00 GMT"
    closest = fetch(synthetic, "/api/v1/document", url=PAGE, at="2026110414").json()
    assert closest["text"] == "第一段。\n第3版的第二段。" and closest["gkml"]["doc_number"] == "中府〔2026〕3号"  # noqa: RUF001
    iso = fetch(synthetic, "/api/v1/document", url=PAGE, at="2026-11-02T07:00:00Z").json()
    assert iso["title"] == "标题1"


def test_mirror_urls_resolve_to_the_same_captures(synthetic: str) -> None:
    gateway = "http://www.gd.gov.cn/gate/big5/www.zs.gov.cn/zwgk/202611/t20261101_1.html"
    direct = fetch(synthetic, "/api/v1/captures", url=PAGE).json()["captures"]
    mirrored = fetch(synthetic, "/api/v1/captures", url=gateway).json()["captures"]
    assert [c["timestamp"] for c in mirrored] == [c["timestamp"] for c in direct]
    assert fetch(synthetic, "/api/v1/document", url=gateway).json()["title"] == "标题6"
    host_mirror = "http://big5.www.zs.gov.cn/zwgk/202611/t20261101_1.html"
    assert fetch(synthetic, "/api/v1/captures", url=host_mirror).json()["total"] == 7


def test_raw_downloads(synthetic: str) -> None:
    body = fetch(synthetic, "/api/v1/raw", url=PAGE, at="20261103")
    assert body.status == 200 and body.body == b"<p>v2</p>"
    assert body.headers["Content-Type"] == "text/html; charset=utf-8"
    assert body.headers["Content-Disposition"].startswith("attachment; filename=")
    assert body.headers["Content-Security-Policy"].startswith("sandbox")
    assert body.headers["X-Content-Type-Options"] == "nosniff"
    warc = fetch(synthetic, "/api/v1/raw", url=PAGE, at="20261103", format="warc")
    assert warc.status == 200 and warc.headers["Content-Disposition"].endswith('.warc.gz"')
    records = [r.rec_type for r in ArchiveIterator(io.BytesIO(warc.body))]
    assert "response" in records or "revisit" in records


def test_diff_of_two_versions(synthetic: str) -> None:
    data = fetch(synthetic, "/api/v1/diff", url=PAGE, a="20261101", b="20261104").json()
    assert data["counts"] == {"added": 1, "removed": 1, "unchanged": 1}
    assert {"op": "+", "text": "第3版的第二段。"} in data["lines"]
    assert {f["field"] for f in data["fields"]} >= {"title", "text_fingerprint"}
    assert data["unified"].startswith("--- ")


# Malformed input: (path, params, status, text in the message).
BAD = [
    ("/api/v1/captures", {}, 400, "url: missing"),
    ("/api/v1/captures", {"url": "ftp://www.zs.gov.cn/x"}, 400, "not an absolute http(s) URL"),
    ("/api/v1/captures", {"url": "www.zs.gov.cn/x"}, 400, "not an absolute http(s) URL"),
    ("/api/v1/captures", {"url": "http://../etc/passwd"}, 400, "not a valid host name"),
    ("/api/v1/captures", {"url": "http://www.zs.gov.cn/a\x00b"}, 400, "control characters"),
    ("/api/v1/captures", {"url": "http://a/" + "x" * 5000}, 400, "longer than"),
    ("/api/v1/captures", {"url": PAGE, "limit": "0"}, 400, "limit:"),
    ("/api/v1/captures", {"url": PAGE, "limit": "abc"}, 400, "limit:"),
    ("/api/v1/captures", {"url": PAGE, "limit": "1001"}, 400, "limit:"),
    ("/api/v1/captures", {"url": PAGE, "match": "regex"}, 400, "match:"),
    ("/api/v1/captures", {"url": PAGE, "from": "2026-13-40"}, 400, "from: not a timestamp"),
    ("/api/v1/captures", {"url": PAGE, "from": "20261105", "to": "20261101"}, 400, "later than"),
    ("/api/v1/captures", {"url": PAGE, "cursor": "not-a-cursor"}, 400, "cursor:"),
    ("/api/v1/captures", {"url": PAGE, "cursor": "WyJjYXB0dXJlcy9ldmlsLyIsIjIwMjYxMTAxMDgwMDAwMDAwMDAwIl0"},
     400, "cursor:"),
    ("/api/v1/document", {"url": PAGE, "at": "2026111"}, 400, "at: not a timestamp"),
    ("/api/v1/document", {"url": PAGE, "at": "yesterday"}, 400, "at: not a timestamp"),
    ("/api/v1/document", {"url": "http://www.zs.gov.cn/never.html"}, 404, "no capture of"),
    ("/api/v1/raw", {"url": PAGE, "format": "zip"}, 400, "format:"),
    ("/api/v1/raw", {"url": "http://www.zs.gov.cn/never.html"}, 404, "no capture of"),
    ("/api/v1/diff", {"url": PAGE, "a": "20261101"}, 400, "a, b: both required"),
    ("/api/v1/nothing", {}, 404, "no such page"),
    ("/text", {"url": "javascript:alert(1)"}, 400, "not an absolute http(s) URL"),
    ("/text", {"url": "http://www.zs.gov.cn/never.html"}, 404, "no capture of"),
    ("/page", {"url": PAGE, "at": "99999999999999999999"}, 400, "at: not a timestamp"),
    ("/frame", {"url": "http://%2e%2e/x"}, 400, "url:"),
    ("/static/../retrieval/app.py", {}, 404, ""),
]


@pytest.mark.parametrize(("path", "params", "status", "message"), BAD,
                         ids=[f"{p}-{i}" for i, (p, *_) in enumerate(BAD)])
def test_malformed_input_is_refused_with_a_message(synthetic: str, path: str, params: dict[str, str],
                                                   status: int, message: str) -> None:
    answer = fetch(synthetic, path, **params)
    assert answer.status == status, answer.body[:300]
    assert_secure(answer)
    if path.startswith("/api/"):
        assert message in answer.json()["error"]
        assert "file://" not in answer.json()["error"]  # the archive's location is not disclosed
    else:
        assert answer.headers["Content-Type"].startswith("text/html")
        assert message.replace("'", "&#x27;") in answer.text


def test_only_get_is_allowed(synthetic: str) -> None:
    answer = fetch(synthetic, "/api/v1/captures?url=" + PAGE, method="POST")
    assert answer.status == 405 and "GET" in answer.headers.get("Allow", "")
    assert "error" in answer.json()


def test_pages_escape_what_they_show(synthetic: str) -> None:
    probe = 'http://www.zs.gov.cn/"><script>alert(1)</script>'
    answer = fetch(synthetic, "/", url=probe)
    assert answer.status in (400, 404)
    assert "<script>" not in answer.text and "&lt;script&gt;" in answer.text


def test_archived_html_is_never_active_on_the_service_origin(synthetic: str) -> None:
    url = "http://www.zs.gov.cn/evil.html"
    framed = fetch(synthetic, "/frame", url=url)
    assert framed.status == 200 and b"<script>" in framed.body  # served as archived, but…
    assert framed.headers["Content-Security-Policy"].startswith("sandbox;")  # …in a sandbox, no scripts
    assert "frame-ancestors 'self'" in framed.headers["Content-Security-Policy"]
    page = fetch(synthetic, "/page", url=url)
    assert '<iframe class="archived" sandbox=""' in page.text and "<script>" not in page.text
    text = fetch(synthetic, "/text", url=url)
    assert "<script>" not in text.text
    raw = fetch(synthetic, "/api/v1/raw", url=url)
    assert raw.headers["Content-Disposition"].startswith("attachment")


def test_openapi_is_served(synthetic: str) -> None:
    spec = fetch(synthetic, "/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    captures = next(p for p in spec["paths"] if "captures" in p)
    names = {p["name"] for p in spec["paths"][captures]["get"]["parameters"]}
    assert names >= {"url", "match", "from", "to", "limit", "cursor"}
    assert {"/api/v1/document", "/api/v1/raw", "/api/v1/diff"} <= spec["paths"].keys()


# -- the demo portal, crawled twice, on both backends ----------------------------------------------
@pytest.fixture(scope="module")
def demo_service(demo_archive: DemoArchive) -> Iterator[tuple[DemoArchive, str]]:
    with Background(demo_archive.open()) as service:
        yield demo_archive, service.base


@pytest.mark.e2e
def test_demo_archive_every_endpoint(demo_service: tuple[DemoArchive, str]) -> None:
    demo, base = demo_service
    portal = demo.portal
    # captures: two of every article, newest first, with the article's title
    for article in portal.all_articles():
        data = fetch(base, "/api/v1/captures", url=demo.url(article.path)).json()
        assert data["total"] == 2, article.path
        assert {c["title"] for c in data["captures"]} == {article.title}
        assert all(c["status"] == 200 and c["kind"] == "capture" for c in data["captures"])
    # prefix: the whole column, paged
    column = portal.articles["gzdt"]
    seen: list[str] = []
    params = {"url": demo.url("/gzdt/"), "match": "prefix", "limit": "5"}
    for _ in range(10):
        data = fetch(base, "/api/v1/captures", **params).json()
        seen += [c["timestamp"] for c in data["captures"]]
        if not data["next_cursor"]:
            break
        params["cursor"] = data["next_cursor"]
    assert len(set(seen)) == 2 * len(column)

    # the changed article: two texts, the newer with the added paragraph
    url = demo.url(demo.changed_path)
    older, newer = reversed(fetch(base, "/api/v1/captures", url=url).json()["captures"])
    latest = fetch(base, "/api/v1/document", url=url).json()
    assert demo.added in latest["text"] and latest["timestamp"] == newer["timestamp"]
    first = fetch(base, "/api/v1/document", url=url, at=older["timestamp"]).json()
    assert demo.added not in first["text"] and first["source"]
    assert older["text_fingerprint"] != newer["text_fingerprint"]
    diff = fetch(base, "/api/v1/diff", url=url, a=older["timestamp"], b=newer["timestamp"]).json()
    assert diff["counts"]["added"] == 1 and {"op": "+", "text": demo.added} in diff["lines"]

    # raw: the bytes as served, with their content type; and the WARC records
    served = portal.respond(demo.changed_path)
    raw = fetch(base, "/api/v1/raw", url=url)
    assert raw.body == served[2] and raw.headers["Content-Type"].startswith("text/html")
    assert raw.headers["X-Archive-Status"] == "200"
    gbk = portal.articles["gzdt"][0]
    raw_gbk = fetch(base, "/api/v1/raw", url=demo.url(gbk.path))
    assert raw_gbk.body == portal.respond(gbk.path)[2]
    assert raw_gbk.headers["Content-Type"].lower() == "text/html; charset=gbk"
    warc = fetch(base, "/api/v1/raw", url=url, at=older["timestamp"], format="warc")
    response = next(r for r in ArchiveIterator(io.BytesIO(warc.body)) if r.rec_type == "response")
    assert response.rec_headers.get_header("WARC-Target-URI") == url

    # the pages
    index = fetch(base, "/", url=url)
    assert index.status == 200 and index.text.count('class="capture"') == 2 and "<svg" in index.text
    text = fetch(base, "/text", url=url, at=older["timestamp"])
    assert text.status == 200 and portal.articles["yw"][0].title in text.text
    assert "信息来源" in text.text and "compare with the previous version" not in text.text
    diff_page = fetch(base, "/diff", url=url, a=older["timestamp"], b=newer["timestamp"])
    assert diff_page.status == 200 and demo.added in diff_page.text and 'class="ins"' in diff_page.text
    assert fetch(base, "/page", url=url).status == 200
    assert fetch(base, "/frame", url=url).body == served[2]
    css = fetch(base, "/static/style.css")
    assert css.status == 200 and css.headers["Content-Type"].startswith("text/css")
    for answer in (index, text, diff_page, css, raw, warc):
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["Content-Security-Policy"]

    # errors on this archive
    assert fetch(base, "/api/v1/document", url=demo.url("/yw/none.html")).status == 404
    assert fetch(base, "/api/v1/document", url=url, at="20261").status == 400


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance]


@pytest.mark.e2e
def test_openapi_description_matches_the_answers(demo_service: tuple[DemoArchive, str]) -> None:
    """Schemathesis over the served description: generated requests (few, loopback only) and the
    explicit examples (the demo's changed article); every answer must conform.

    Driven operation by operation with Hypothesis (schemathesis' lazy pytest loader does not run
    under pytest 9)."""
    demo, base = demo_service
    spec = fetch(base, "/openapi.json").json()
    for path in spec["paths"].values():
        for param in path["get"]["parameters"]:
            if param["name"] == "url":
                param["schema"]["example"] = demo.url(demo.changed_path)
    schema = schemathesis.openapi.from_dict(spec)
    calls: list[int] = []

    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 4
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=6, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def check(case: Any) -> None:
            response = case.call_and_validate(base_url=base, checks=CHECKS, timeout=30)
            calls.append(response.status_code)

        check()
    assert 200 in calls and len(calls) >= 8, calls


def test_serve_command_refuses_an_unreachable_archive(tmp_path: Path) -> None:
    env = {"ARCHIVE_URI": "s3://bucket/arch", "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
           "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y", "ARCHIVE_S3_MAX_ATTEMPTS": "1"}
    proc = run_scrapy(["archive", "serve", "--port", "0", "-s", "ARCHIVE_S3_MAX_ATTEMPTS=1"], env,
                      timeout=120)
    assert proc.returncode == 1 and "archive error" in proc.stderr


def test_serve_command_serves_the_archive(synthetic: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    """`scrapy archive serve --port 0` announces its address and answers there; stopped by SIGTERM."""
    import os
    import re
    import select
    import subprocess

    from tests.conftest import SCRAPY

    root = next(tmp_path_factory.getbasetemp().glob("synthetic*")) / "archive"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env["ARCHIVE_URI"] = root.as_uri()
    proc = subprocess.Popen([SCRAPY, "archive", "serve", "--port", "0"], cwd=PROJECT_DIR, env=env,
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    try:
        assert proc.stderr is not None
        ready, _, _ = select.select([proc.stderr], [], [], 60)
        assert ready, "no announcement within 60 s"
        line = proc.stderr.readline()
        found = re.search(r"http://127\.0\.0\.1:\d+", line)
        assert found, line
        answer = fetch(found.group(0), "/api/v1/captures", url=PAGE)
        assert answer.status == 200 and answer.json()["total"] == 7
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if proc.stderr is not None:
            proc.stderr.close()
