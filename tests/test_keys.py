"""Keys come from the canonical URL alone, stay inside the key space and sort by time."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipelines.storage.base import check_key
from pipelines.storage.keys import (
    BadURL,
    canonical_url,
    capture_name,
    parse_key,
    url_from_prefix,
    url_prefix,
    url_prefix_query,
)


@pytest.mark.parametrize(("url", "canonical"), [
    ("http://WWW.ZS.gov.cn:80/zwgk/index.html?b=2&a=1#top", "http://www.zs.gov.cn/zwgk/index.html?a=1&b=2"),
    ("https://x.gov.cn:443/a/b.html", "https://x.gov.cn/a/b.html"),
    ("http://x.gov.cn", "http://x.gov.cn/"),
    ("http://127.0.0.1:8765/yw/index.html", "http://127.0.0.1:8765/yw/index.html"),
    ("http://x.gov.cn/新闻/一.html", "http://x.gov.cn/%E6%96%B0%E9%97%BB/%E4%B8%80.html"),
])
def test_canonical_url(url: str, canonical: str) -> None:
    assert canonical_url(url)[0] == canonical


@pytest.mark.parametrize("url", ["ftp://x/y", "javascript:alert(1)", "/relative/path", "", "http://"])
def test_non_http_urls_are_refused(url: str) -> None:
    with pytest.raises(BadURL):
        canonical_url(url)


def test_http_and_https_share_a_prefix_and_prefix_queries_cover_children() -> None:
    a = url_prefix(canonical_url("http://x.gov.cn/col/t1.html")[0])
    b = url_prefix(canonical_url("https://x.gov.cn/col/t1.html")[0])
    assert a == b
    assert a.startswith(url_prefix_query("http://x.gov.cn/col/"))
    assert not url_prefix(canonical_url("http://x.gov.cn/other/t1.html")[0]).startswith(
        url_prefix_query("http://x.gov.cn/col/"))
    assert url_from_prefix(a) == "http://x.gov.cn/col/t1.html"


@pytest.mark.parametrize("path", ["/../../etc/passwd", "/a/%2e%2e/%2e%2e/b", "/..", "/./x",
                                  "/a\\..\\b", "/" + "长" * 400, "/a?q=" + "../" * 50])
def test_hostile_urls_stay_inside_the_key_space(path: str) -> None:
    prefix = url_prefix(canonical_url("http://x.gov.cn" + path)[0])
    key = capture_name(prefix, datetime.now(UTC), "capture", "0" * 40).doc_key
    assert check_key(key) == key
    assert key.startswith("captures/x.gov.cn/") and key.count("/") == 3
    assert max(len(seg.encode()) for seg in key.split("/")) <= 200


def test_capture_names_sort_by_time_and_parse_back() -> None:
    prefix = url_prefix(canonical_url("http://x.gov.cn/a.html")[0])
    early = capture_name(prefix, datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC), "capture", "ab" * 20)
    late = capture_name(prefix, datetime(2026, 11, 2, 3, 4, 5, tzinfo=UTC), "revisit", "cd" * 20)
    assert early.doc_key < late.doc_key
    parsed = parse_key(late.raw_key)
    assert parsed == late and parsed.kind == "revisit"
    assert parsed.captured_at == datetime(2026, 11, 2, 3, 4, 5, tzinfo=UTC)
    assert parse_key("captures/x/y/not-a-capture.txt") is None
