"""Encoding decision: the generated corpus (every encoding x label case), label parsing, properties."""
from __future__ import annotations

import codecs

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.decoding import charset
from pipelines.decoding.charset import EncodingDecision, decide_encoding, decode_body, decode_page
from tests.encoding_corpus import Page, pages, round_trips, simplified_sentences, traditional_sentences

CORPUS = list(pages())


def test_corpus_is_big_enough_and_covers_every_case() -> None:
    assert len(CORPUS) >= 500
    assert {p.encoding for p in CORPUS} == {"utf-8", "gb2312", "gbk", "gb18030", "big5", "big5hkscs"}
    assert {p.expected_rule for p in CORPUS} == set(charset.RULES)


@pytest.mark.parametrize("page", CORPUS, ids=lambda p: p.id)
def test_corpus_page_decodes_exactly_by_the_expected_rule(page: Page) -> None:
    decision = decide_encoding(page.body, page.content_type)
    assert decode_body(page.body, decision) == page.text
    assert (decision.rule, decision.encoding) == (page.expected_rule, page.expected_encoding)
    assert decision.undecodable_bytes == page.undecodable_bytes


def test_provisional_decisions_decode_every_corpus_page_the_same_way_in_the_worker() -> None:
    """The middleware decides provisionally (no full decoding for a plausible label); the worker's
    `decode_page` ends with the same text and decision as a full decision, broken pages included."""
    for page in CORPUS:
        provisional = decide_encoding(page.body, page.content_type, provisional=True)
        text, decision = decode_page(page.body, page.content_type, provisional.as_dict())
        assert (text, decision) == (page.text, decide_encoding(page.body, page.content_type)), page.id


def test_a_bad_byte_beyond_the_sample_is_caught_by_the_worker() -> None:
    sentences = "".join(f"<p>{s}</p>\n" for s in simplified_sentences()[:40])
    html = f'<html><head><meta charset="gbk"></head><body>{sentences}</body></html>'
    body = html.encode("gbk")
    cut = body.rindex(b"</p>")
    body = body[:cut] + b"\xff" + body[cut:]
    provisional = decide_encoding(body, None, provisional=True)
    assert (provisional.encoding, provisional.rule) == ("gb18030", "meta")  # the sample reads cleanly
    text, decision = decode_page(body, None, provisional.as_dict())
    assert decision == decide_encoding(body) and decision.rule == "fallback" and decision.undecodable_bytes == 1
    assert text == html[:html.rindex("</p>")] + "\ufffd" + html[html.rindex("</p>"):]


def test_counting_undecodable_bytes_with_a_limit_is_exact_up_to_it() -> None:
    """The last resort counts a rival only until it is out of the running: below the limit the count
    is the whole one (characters cut by the 4 KB steps included), above it the count says so."""
    html = "".join(f"<p>{s}</p>\n" for s in simplified_sentences() * 3)
    body = html.encode("gb18030")
    assert len(body) > 4 * charset._COUNT_BYTES
    first, second = body.index(b"\n", 5000) + 1, body.index(b"\n", 9000) + 1  # between characters
    bad = body[:first] + b"\xff" + body[first:second] + b"\x80" + body[second:]
    for codec in ("gb18030", "utf-8", "big5hkscs", "cp950"):
        total = charset._undecodable(bad, codec)
        assert charset._undecodable(bad, codec, total) == total
        assert charset._undecodable(bad, codec, 10**9) == total
        if total > 3:
            assert 3 < charset._undecodable(bad, codec, 3) <= total
    assert charset._undecodable(bad, "gb18030", 2) == 2
    decision = decide_encoding(bad, "text/html; charset=big5")
    assert (decision.encoding, decision.rule, decision.undecodable_bytes) == ("gb18030", "fallback", 2)


def test_decision_records_both_labels() -> None:
    body = '<html><head><meta charset="GB2312"></head><body>中文</body></html>'.encode("gbk")
    decision = decide_encoding(body, "text/html; charset=UTF-8")
    assert decision == EncodingDecision("gb18030", "meta", "utf-8", "gb2312", 0)
    assert decision.as_dict() == {"encoding": "gb18030", "rule": "meta", "header_charset": "utf-8",
                                  "meta_charset": "gb2312", "undecodable_bytes": 0}


@pytest.mark.parametrize(("content_type", "expected"), [
    ("text/html; charset=GBK", "gbk"),
    ('text/html; charset="gb2312"', "gb2312"),
    ("text/html;charset=big5", "big5"),
    ("text/html", None),
    (None, None),
])
def test_header_charset(content_type: str | None, expected: str | None) -> None:
    assert charset.header_charset(content_type) == expected


@pytest.mark.parametrize(("head", "expected"), [
    (b'<meta charset="gbk">', "gbk"),
    (b"<meta http-equiv='Content-Type' content='text/html; charset=GB2312'>", "gb2312"),
    (b'<META CONTENT="text/html;charset=big5" HTTP-EQUIV="content-type">', "big5"),
    (b'<!-- <meta charset="big5"> --><meta charset="utf-8">', "utf-8"),
    (b"<script>" + b"x" * 9000 + b'</script><meta charset="gbk">', "gbk"),
    (b"<title>t</title>", None),
])
def test_meta_charset_anywhere_in_the_head(head: bytes, expected: str | None) -> None:
    assert charset.meta_charset(b"<html><head>" + head + b"</head><body></body></html>") == expected


def test_meta_in_the_body_is_not_a_declaration() -> None:
    body = b'<html><head></head><body><pre>&lt;<meta charset="big5"></pre></body></html>'
    assert charset.meta_charset(body) is None


def test_xml_declaration_counts_as_meta() -> None:
    assert charset.meta_charset(b'<?xml version="1.0" encoding="GBK"?><rss></rss>') == "gbk"


@pytest.mark.parametrize(("label", "expected"), [
    ("GB2312", "gb2312"), ("x-gbk", "gbk"), ("cp936", "gbk"), ("Big5-HKSCS", "big5hkscs"),
    ("utf8", "utf-8"), ("ISO-8859-1", "iso8859-1"), ("no-such-charset", None), (None, None),
])
def test_normalise_label(label: str | None, expected: str | None) -> None:
    assert charset.normalise_label(label) == expected


def test_unknown_label_is_ignored() -> None:
    body = "<p>市政府召开常务会议，研究部署下半年重点工作。</p>".encode("gbk")
    decision = decide_encoding(body, "text/html; charset=x-unknown")
    assert (decision.encoding, decision.rule) == ("gb18030", "chardet")


def test_short_big5_page_that_is_also_valid_gb18030_is_read_as_big5() -> None:
    text = "人社局舉辦春風行動專場招聘會。"
    body = text.encode("big5")
    body.decode("gb18030")  # the trap: the wrong family decodes strictly too
    for content_type in (None, "text/html; charset=gb2312"):
        decision = decide_encoding(body, content_type)
        assert decode_body(body, decision) == text
        assert decision.rule == "chardet"


def test_gbk_body_behind_a_western_label_is_read_as_gbk() -> None:
    body = "<p>全市地区生产总值突破5000亿元。</p>".encode("gbk")
    decision = decide_encoding(body, "text/html; charset=ISO-8859-1")
    assert decision.encoding == "gb18030"


def test_western_page_keeps_its_western_label() -> None:
    body = "<p>Café crème, déjà vu, naïve façade.</p>".encode("latin-1")
    decision = decide_encoding(body, "text/html; charset=iso-8859-1")
    assert (decision.encoding, decision.rule) == ("iso8859-1", "header")


def test_chardet_breaks_ties(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(charset, "DETECT_MARGIN", 1000.0)
    text = "\n".join([s for s in traditional_sentences() if round_trips(s, "big5", "big5hkscs")][:10])
    body = text.encode("big5")
    decision = decide_encoding(body)
    assert decision.rule == "chardet"
    assert decode_body(body, decision) == text


def test_utf16_bom() -> None:
    body = codecs.BOM_UTF16_LE + "<p>政府</p>".encode("utf-16-le")
    decision = decide_encoding(body)
    assert decision.rule == "bom"
    assert decode_body(body, decision) == "<p>政府</p>"


def test_tiny_utf8_page_with_stale_gbk_label_stays_utf8() -> None:
    body = '<meta charset="gbk"><p>政府网站</p>'.encode()
    assert decide_encoding(body).encoding == "utf-8"


# ---------------------------------------------------------------------------------------- properties

_SENTENCES = st.sampled_from(simplified_sentences())
_TRAD = st.sampled_from(traditional_sentences())


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
def test_any_utf8_text_round_trips(text: str) -> None:
    try:
        body = text.encode("utf-8")
    except UnicodeEncodeError:
        return  # lone surrogates have no UTF-8 form
    decision = decide_encoding(body)
    expected = text.removeprefix("\ufeff") if decision.rule == "bom" else text
    assert decode_body(body, decision) == expected


@settings(max_examples=150)
@given(st.lists(st.one_of(_SENTENCES, st.sampled_from(["2023", "GDP", " ", "\n", "<br>"])), min_size=1,
                max_size=12).filter(lambda parts: any(len(p) > 5 for p in parts)),
       st.sampled_from(["gb2312", "gbk", "gb18030"]), st.sampled_from([None, "gbk", "big5", "utf-8"]))
def test_gb_text_round_trips_whatever_the_label(parts: list[str], codec: str, label: str | None) -> None:
    text = "".join(parts)
    try:
        body = text.encode(codec)
    except UnicodeEncodeError:
        return
    if body.decode("gb18030") != text:
        return  # GB2312's own mapping of two dashes
    decision = decide_encoding(body, None if label is None else f"text/html; charset={label}")
    assert decode_body(body, decision) == text or decision.rule == "utf-8"


@settings(max_examples=150)
@given(st.lists(_TRAD, min_size=1, max_size=8), st.sampled_from([None, "big5", "gb2312"]))
def test_big5_text_round_trips_whatever_the_label(parts: list[str], label: str | None) -> None:
    text = "".join(parts)
    try:
        body = text.encode("big5hkscs")
    except UnicodeEncodeError:
        return
    decision = decide_encoding(body, None if label is None else f"text/html; charset={label}")
    assert decode_body(body, decision) == text


@settings(max_examples=300)
@given(st.binary(max_size=400), st.one_of(st.none(), st.text(max_size=40)))
def test_never_raises_and_names_a_codec_that_decodes(body: bytes, content_type: str | None) -> None:
    decision = decide_encoding(body, content_type)
    assert decision.rule in charset.RULES
    if decision.rule == "fallback":
        assert decision.undecodable_bytes > 0
    else:
        body.decode(decision.encoding)  # strict
    decode_body(body, decision)


# ------------------------------------------------- the sample windows against their plain definition

def _plain_windows(body: bytes) -> tuple[list[tuple[int, int]], int]:
    """``_windows`` by its docstring, byte by byte."""
    def outside(byte: int) -> bool:
        return byte < 0x30 or 0x3A <= byte < 0x40

    start = max(body.find(b"<body"), 0)
    found: list[tuple[int, int]] = []
    wanted = 2 * charset._SAMPLE_NON_ASCII
    for low, high in ((start, len(body)), (0, start)):
        at = low
        while wanted > 0:
            first = next((i for i in range(at, high) if body[i] >= 0x80), -1)
            if first < 0:
                break
            at = next((i for i in range(min(first + charset._SAMPLE_BYTES, high), high) if outside(body[i])), high)
            found.append((first, at))
            wanted -= sum(1 for byte in body[first:at] if byte >= 0x80)
    return found, 2 * charset._SAMPLE_NON_ASCII - wanted


_PIECES = st.one_of(
    st.sampled_from([b"<body>", b"<p>", b"\n", b"1234", b"abc@[]{}"]),
    st.integers(1, 5000).map(lambda n: b"x" * n),  # ASCII stretches, some longer than a scan step
    st.binary(min_size=1, max_size=40).map(lambda data: bytes(b | 0x80 for b in data)),
    st.sampled_from([*("镇江市人民政府".encode(codec) for codec in ("gb18030", "utf-8")),
                     *("鎮江經濟".encode(codec) for codec in ("gb18030", "big5", "utf-8"))]),
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_PIECES, max_size=60).map(b"".join))
def test_windows_are_those_of_their_plain_definition(body: bytes) -> None:
    assert charset._windows(body) == _plain_windows(body)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_PIECES, max_size=60).map(b"".join), st.sampled_from(charset.CANDIDATES), st.booleans())
def test_a_sample_reads_each_window_as_if_alone(body: bytes, codec: str, strict: bool) -> None:
    windows = charset._windows(body)[0]
    pieces = []
    for low, high in windows:
        try:
            pieces.append(body[low:high].decode(codec))
        except UnicodeDecodeError:
            if strict:
                assert charset._sample(body, windows, codec, strict) is None
                return
            pieces.append(body[low:high].decode(codec, errors="replace"))
    assert charset._sample(body, windows, codec, strict) == "\n".join(pieces)
