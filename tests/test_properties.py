"""Property-based tests (hypothesis) for the three places hostile input lands first: the decoder,
the cleaner and the archive key derivation. Public functions only; bounded example counts, no
deadlines (timings belong to bench/)."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from lxml.html import HtmlElement

from crawler.pagination import article_pages
from demo import content
from pipelines.decoding.charset import decide_encoding, decode_body
from pipelines.extraction import extract_document, gkml, layers
from pipelines.extraction.document import ExtractionError
from pipelines.extraction.layers import parse_html
from pipelines.storage.base import ArchiveError, check_key
from pipelines.storage.keys import BadURL, canonical_url, capture_name, parse_key, url_prefix

PROPS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text as portals write it: CJK (common and rare), full-width punctuation, ASCII, some Latin-1.
CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
PORTAL_CHARS = st.one_of(CJK, st.sampled_from("，。：；（）《》“”、！？　"),
                         st.characters(min_codepoint=0x20, max_codepoint=0x7E),
                         st.characters(min_codepoint=0xA0, max_codepoint=0xFF))
# Realistic portal text: runs cut from the demo portal's articles and titles (plausibility scoring
# rightly distrusts uniformly random rare characters, so those are not what round-trips promise).
_CORPUS = "".join(content.PARAGRAPHS + content.TITLES)
PORTAL_TEXT = st.builds(lambda start, size, ascii_: _CORPUS[start:start + size] + ascii_,
                        st.integers(0, len(_CORPUS) - 40), st.integers(8, 300),
                        st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20))
LABELS = st.one_of(st.none(), st.sampled_from(
    ["text/html", "text/html; charset=utf-8", "text/html; charset=gbk", "text/html; charset=GB2312",
     "text/html; charset=big5", "text/html; charset=iso-8859-1", "text/html; charset=bogus-42",
     "text/html; charset=", "text/html;charset=\"utf-16\"", "application/octet-stream"]),
    st.text(max_size=60))


# -- the decoder ------------------------------------------------------------------------------------
@PROPS
@given(body=st.binary(max_size=4000), content_type=LABELS)
@example(body=b"\xd6", content_type="text/html; charset=gbk")
@example(body=b"\xef\xbb\xbf\xff\xfe", content_type=None)
@example(body=b'<meta charset="gbk">\xa1', content_type="text/html; charset=utf-8")
def test_decoder_never_raises(body: bytes, content_type: str | None) -> None:
    """Any bytes under any Content-Type: a decision with a real codec, and a decoding of the body.
    (UTF-16/32 labels on bytes that are not UTF-16/32: see the test below.)"""
    assume(not any(w in (content_type or "").lower() for w in ("utf-16", "utf-32", "utf16", "utf32")))
    decision = decide_encoding(body, content_type)
    text = decode_body(body, decision)
    assert isinstance(text, str)
    assert decision.undecodable_bytes >= 0
    assert decision.rule == "fallback" or decision.undecodable_bytes == 0


@pytest.mark.parametrize("label", ["utf-16", "utf-16le", "utf-32"])
def test_decoder_never_raises_on_mislabelled_utf16_utf32(label: str) -> None:
    body = b"\xff\xfe\xd8\x00" + b"a" * 17
    decision = decide_encoding(body, f"text/html; charset={label}")
    assert isinstance(decode_body(body, decision), str)


@PROPS
@given(text=PORTAL_TEXT,
       codec=st.sampled_from(["utf-8", "gbk", "gb18030", "big5"]),
       declared=st.sampled_from(["header", "meta", "both"]))
def test_decoder_round_trips_declared_pages(text: str, codec: str, declared: str) -> None:
    """A page encoded in a codec and declared as such (header, meta or both) decodes back exactly."""
    try:
        encoded_text = text.encode(codec)
    except UnicodeEncodeError:
        assume(False)
    meta = f'<meta charset="{codec}">'.encode() if declared in ("meta", "both") else b""
    body = b"<html><head>" + meta + b"</head><body><p>" + encoded_text + b"</p></body></html>"
    header = f"text/html; charset={codec}" if declared in ("header", "both") else "text/html"
    decision = decide_encoding(body, header)
    assert decode_body(body, decision) == body.decode(codec), decision


@PROPS
@given(text=PORTAL_TEXT, content_type=LABELS)
def test_decoder_round_trips_utf8_whatever_the_label(text: str, content_type: str | None) -> None:
    """Valid UTF-8 portal text comes back exactly, whatever the page claims."""
    body = ("<html><body><p>" + text + "</p></body></html>").encode("utf-8")
    assert decode_body(body, decide_encoding(body, content_type)) == body.decode("utf-8")


# -- the cleaner --------------------------------------------------------------------------------------
TAGS = st.sampled_from(["div", "p", "span", "table", "tr", "td", "ul", "li", "a", "script", "style",
                        "h1", "title", "meta", "br", "iframe", "form", "!--", "![CDATA["])
FRAGMENT = st.one_of(
    st.text(PORTAL_CHARS, max_size=80),
    st.builds(lambda t, body: f"<{t}>{body}</{t}>", TAGS, st.text(PORTAL_CHARS, max_size=60)),
    st.builds(lambda t: f"<{t}", TAGS),
    st.sampled_from(["</div>", "<p>", "&amp;", "&#0;", "&#x110000;", "&nbsp;", "\x00", "\ufeff",
                     "<html>", "</html>", "<?xml version='1.0'?>", "<!DOCTYPE html>", "\r\n",
                     "<!-- c -->", "<?pi x?>", "<td>索引号：</td>", "<td>发布日期：</td>"]))


@PROPS
@given(parts=st.lists(FRAGMENT, max_size=40),
       url=st.sampled_from(["http://127.0.0.1/a/t20261120_1.html", "https://www.zs.gov.cn/", "", "x"]))
@example(parts=["<div>" * 3000, "正文" * 200], url="http://127.0.0.1/")
@example(parts=[""], url="")
@example(parts=["<table><tr><td>索引号：</td><!-- c --><td>1</td></tr></table><p>", "正文" * 200],
         url="http://127.0.0.1/")
def test_cleaner_returns_text_or_extraction_error(parts: list[str], url: str) -> None:
    """Any markup soup: a dict whose text is a str, or ExtractionError; never another exception."""
    try:
        doc = extract_document("".join(parts), url)
    except ExtractionError:
        return
    assert isinstance(doc, dict) and isinstance(doc.get("text"), str)


# Cells of the labelled-metadata reader: text of each cell read in one walk over the page, and the
# quick test that passes a cell by; both must agree with reading each cell alone.
CELL_SOUP = st.lists(st.one_of(
    st.sampled_from(["<td>", "</td>", "<span>", "</span>", "<li>", "</li>", "<b>", "</b>", "<p>", "</p>",
                     "<div>", "</div>", "<!-- 来源：x -->", "<?pi a:b?>", "<script>v:1</script>", "：", ":",
                     " ", "\u3000", "\xa0", "\x0b", "\x1c", "(", "（", "2026-01-05", "鎮(zhèn)", "標　　題",
                     "索 引 号", "\ufdd0", "\ufdd1", "&#xfdd1;", "<o:p>", "</o:p>", "</html><html>", *gkml.LABELS]),
    st.text(PORTAL_CHARS, max_size=30)), max_size=40)


@PROPS
@given(parts=CELL_SOUP, limit=st.sampled_from([0, 12, 80]))
@example(parts=["<td>", "发文字号：\ufdd0", "</td><td><b>", "\ufdd1", "</b>1号</td>"], limit=12)  # marks in the text
def test_cell_texts_are_each_cells_own_text(parts: list[str], limit: int) -> None:
    tree = parse_html("<html><body>" + "".join(parts) + "</body></html>")
    alone = [(el, "".join(el.itertext())) for el in tree.iter(*gkml._CELL_TAGS)]
    assert list(gkml._cell_texts(tree, limit)) == [(el, t) for el, t in alone if len(t) <= limit]


@PROPS
@given(raw=st.one_of(st.text(PORTAL_CHARS, max_size=80), CELL_SOUP.map("".join)))
@example(raw="標\x0b\x0b題(biāo)")
@example(raw="发文字号　　　　　　　　　　　　　")
def test_a_cell_passed_by_holds_no_label(raw: str) -> None:
    if gkml._no_label(raw):
        head = gkml._tidy(raw).replace("：", ":").partition(":")[0]
        assert len(head) > 12 or gkml.normalise_label(head) not in gkml._CELL_LABELS


def _walked_text(node: HtmlElement) -> str:
    """node_text's definition, walked in Python: the reference for the XSLT that computes it."""
    parts: list[str] = []

    def walk(el: HtmlElement) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag in layers._SKIP:
            parts.append(el.tail or "")
            return
        parts.append("\n" if tag in layers._BLOCK else "")
        parts.append(el.text or "" if tag else "")
        for child in el:
            walk(child)
        parts.append(" " if tag in ("td", "th") else "")
        parts.append("\n" if tag in layers._BLOCK else "")
        parts.append(el.tail or "")

    walk(node)
    lines = (layers._WS.sub(" ", line).strip(" \u3000") for line in "".join(parts).split("\n"))
    return "\n".join(line for line in lines if line)


TEXT_SOUP = st.lists(st.one_of(
    st.sampled_from([f"<{tag}>" for tag in ("p", "div", "br", "td", "th", "tr", "table", "span", "a", "o:p",
                                            "script", "style", "select", "li", "h1", "body", "html")]
                    + [f"</{tag}>" for tag in ("p", "div", "td", "th", "tr", "table", "span", "a", "script",
                                               "select", "li", "body", "html")]
                    + ["<!-- 注释 -->", "<?pi a?>", "<html>second</html>", "&nbsp;", "&#12288;", "&#11;",
                       " ", "\u3000", "\xa0", "\t", "\r", "\n", "\x0b", "\x0c", "\x1c", "\x85", "正文"]),
    st.text(PORTAL_CHARS, max_size=20)), max_size=50)


@PROPS
@given(parts=TEXT_SOUP)
@example(parts=["<p>a</p>", "</html>", "<html>b</html>", "tail"])
def test_node_text_is_the_walked_text_of_every_element(parts: list[str]) -> None:
    tree = parse_html("".join(parts))
    for el in tree.iter():
        if isinstance(el.tag, str):
            assert layers.node_text(el) == _walked_text(el)


# -- the key derivation ---------------------------------------------------------------------------------
SEGMENTS = st.one_of(st.sampled_from([".", "..", "%2e%2e", "%2E%2e", "..%2f", "%2f", "%5c", "\\", "%00",
                                      "%252e%252e", "~", "", "a b", "中文", "%E4%B8%AD", "?", "#", ";",
                                      "//", "@", ":", "%"]),
                     st.text(st.characters(min_codepoint=0x21, max_codepoint=0x2FFF), max_size=30))
HOSTS = st.sampled_from(["127.0.0.1", "www.zs.gov.cn", "XN--fiqs8s.cn", "[::1]", "localhost:8080",
                         "www.gd.gov.cn", "a.b", "例子.中国", "127.0.0.1:80"])


@PROPS
@given(scheme=st.sampled_from(["http", "https", "HTTP"]), host=HOSTS,
       segments=st.lists(SEGMENTS, max_size=12), query=st.one_of(st.none(), st.text(max_size=60)))
@example(scheme="http", host="127.0.0.1", segments=["..", "..", "etc", "passwd"], query=None)
@example(scheme="http", host="www.gd.gov.cn", segments=["gate", "big5", "www.zs.gov.cn", ".."], query="a=/../")
def test_keys_stay_inside_the_key_space(scheme: str, host: str, segments: list[str],
                                        query: str | None) -> None:
    """Whatever the URL: BadURL, or a prefix `captures/<host>/<one segment>/` that check_key accepts,
    derived the same way every time, under which capture keys parse back."""
    url = f"{scheme}://{host}/" + "/".join(segments) + (f"?{query}" if query is not None else "")
    try:
        canonical, _ = canonical_url(url)
    except BadURL:
        return
    prefix = url_prefix(canonical)
    assert prefix == url_prefix(canonical_url(url)[0])
    assert prefix.startswith("captures/") and prefix.endswith("/") and prefix.count("/") == 3, prefix
    _, host_part, segment, _ = prefix.split("/")
    assert segment not in ("", ".", "..") and host_part not in ("", ".", "..")
    name = capture_name(prefix, datetime(2026, 11, 22, tzinfo=UTC), "capture", "0" * 40)
    for key in (name.raw_key, name.doc_key):
        assert check_key(key) == key
        assert parse_key(key) == name


@PROPS
@given(parts=st.lists(st.one_of(st.sampled_from(["..", ".", "", "a", "captures", "\\", "\x00", "b\\c"]),
                                st.text(max_size=8)), min_size=1, max_size=6),
       lead=st.sampled_from(["", "/"]))
def test_check_key_refuses_every_escape(parts: list[str], lead: str) -> None:
    """check_key accepts exactly the plain relative keys: no leading '/', no empty, '.' or '..'
    segment, no backslash, no NUL."""
    key = lead + "/".join(parts)
    plain = bool(key) and not key.startswith("/") and all(p not in ("", ".", "..") for p in key.split("/")) \
        and "\\" not in key and "\x00" not in key
    if plain:
        assert check_key(key) == key
    else:
        with pytest.raises(ArchiveError):
            check_key(key)


# -- multi-page discovery (crawler/pagination.py): hostile article pages ----------------------------
_SCRIPT = st.sampled_from(['createPageHTML(', '3', ',', '0', '"t2024_1"', '"html"', ')', '_', '.html',
                           'createPageHTML(99999999999,0,"t2024_1","html")', 'http://[::1', '下一页',
                           'createPageHTML(-1, 5, "t2024_1", "shtml")', 'createPageHTML(999, 998, "t2024_1", "html")'])
_HREF = st.one_of(st.sampled_from(["t2024_1_2.html", "http://[::1/t2024_1_2.html", "../t2024_1_3.html",
                                   "javascript:;", "t2024_1_999.html", "t2024_1.html"]), st.text(max_size=10))


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(_SCRIPT, max_size=12),
       st.sampled_from(["http://a.gov.cn/c/t2024_1.html", "http://a.gov.cn/c/t2024_1_2.html", "http://a.gov.cn/"]),
       st.lists(st.tuples(_HREF, st.sampled_from(["2", "下一页", "尾页", "首页", "x", ""])), max_size=6))
def test_article_pages_never_raises_and_stays_bounded(parts: list[str], url: str,
                                                     links: list[tuple[str, str]]) -> None:
    found = article_pages("".join(parts), url, links)
    assert found is None or (2 <= len(found.urls) <= 1000 and 0 <= found.current < len(found.urls))
