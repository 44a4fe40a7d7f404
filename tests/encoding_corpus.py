"""Generator of the decoding test corpus: Chinese sentences and HTML pages in every encoding x label case.

Sentences are ``tests/data/decoding/sentences_zh.txt`` (Simplified, written for these tests) and their
Traditional forms (OpenCC ``s2t``). Pages wrap them in HTML, encode them as UTF-8, GB2312, GBK, GB18030,
Big5 or Big5-HKSCS, and label them correctly, with the wrong family, not at all, only after the first
4 KB of the head, or with header and meta disagreeing. Each page knows the exact text it must decode to
and the rule that must win. Deterministic: the same corpus on every run.
"""
from __future__ import annotations

import functools
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import opencc

DATA = Path(__file__).parent / "data" / "decoding"

#: Characters beyond GB2312 that GBK (and so GB18030) holds, and GB18030 four-byte characters.
GBK_ONLY = "镕堃喆昇"
FOUR_BYTE = "𠀀𪚥𠮷"
#: Cantonese sentences with Big5-HKSCS-only characters (not in plain Big5).
HKSCS_SENTENCES = [
    "呢度嘅服務真係好好，市民都話冇問題。",
    "佢哋喺灣仔碼頭等緊巴士，啲人好多。",
    "食完飯先至去睇啲文件啦，唔使急㗎。",
    "街坊話呢條路嘅燈壞咗好耐，希望盡快整返。",
]


@functools.cache
def _s2t() -> opencc.OpenCC:
    return opencc.OpenCC("s2t")


def traditional(text: str) -> str:
    """The Traditional form of a Simplified text (OpenCC s2t)."""
    return str(_s2t().convert(text))


@functools.cache
def simplified_sentences() -> tuple[str, ...]:
    lines = (DATA / "sentences_zh.txt").read_text("utf-8").splitlines()
    return tuple(line.strip() for line in lines if line.strip() and not line.startswith("#"))


@functools.cache
def traditional_sentences() -> tuple[str, ...]:
    return tuple(traditional(s) for s in simplified_sentences())


def round_trips(text: str, codec: str, decoder: str) -> bool:
    """True when *text* encodes strictly with *codec* and the bytes decode back to it with *decoder*."""
    try:
        return text.encode(codec).decode(decoder) == text
    except (UnicodeEncodeError, UnicodeDecodeError):
        return False


def clean_sentences(count: int = 1000) -> list[str]:
    """Clean Simplified and Traditional sentences: single ones, pairs, and mixed-content variants."""
    simp, trad = simplified_sentences(), traditional_sentences()
    rng = random.Random(1000)
    out: list[str] = [*simp, *trad]
    decorations = ["{} (2021)", "1. {}", "{} 详见附件。", "据新华社报道，{}", "{}（完）", "【通知】{}",
                   "{} 联系邮箱：office@example.gov.cn", "第3条 {}", "{} ——摘自《人民日报》"]
    while len(out) < count:
        pool = simp if rng.random() < 0.5 else trad
        first, second = rng.sample(pool, 2)
        kind = rng.random()
        if kind < 0.5:
            out.append(first + second)
        else:
            decoration = rng.choice(decorations)
            text = decoration.format(first)
            out.append(traditional(text) if pool is trad else text)
    return out[:count]


# ---------------------------------------------------------------------------------------- pages

#: encoding -> (label declared for it, label of the other family, text kinds it can hold)
ENCODINGS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "utf-8": ("utf-8", "gb2312", ("simp", "trad", "rare")),
    "gb2312": ("gb2312", "big5", ("simp",)),
    "gbk": ("gbk", "big5", ("simp-gbk", "trad")),
    "gb18030": ("gb18030", "big5", ("simp-4byte", "trad")),
    "big5": ("big5", "gb2312", ("trad",)),
    "big5hkscs": ("big5-hkscs", "gbk", ("trad-hkscs",)),
}
#: The codec a correct decision must use to get the exact text back, per encoding.
DECODER = {"utf-8": "utf-8", "gb2312": "gb18030", "gbk": "gb18030", "gb18030": "gb18030",
           "big5": "big5hkscs", "big5hkscs": "big5hkscs"}
#: Codecs a label of each family is tried with (to know whether a wrong label decodes strictly).
_FAMILY_CODECS = {"gb2312": ("gb18030",), "gbk": ("gb18030",), "big5": ("big5hkscs", "cp950"),
                  "utf-8": ("utf-8",)}

CASES = ("correct-both", "header-only", "meta-only", "meta-late", "meta-commented", "unlabelled",
         "wrong-family-header", "wrong-family-meta", "disagree-header-wrong", "disagree-meta-wrong",
         "header-utf8-lie", "header-latin1")

_META_FORMS = (
    '<meta charset="{}">',
    '<meta http-equiv="Content-Type" content="text/html; charset={}" />',
    "<META CONTENT='text/html;charset={}' HTTP-EQUIV='content-type'>",
)
_PADDING = (
    "<script type=\"text/javascript\">\n"
    + "".join(f"var countPage{i} = {i * 7};  // paging state kept by the CMS template\n" for i in range(80))
    + "</script>\n<style>\n"
    + "".join(f".col{i} {{ margin: {i}px; padding: 0 {i}px; }}\n" for i in range(40))
    + "</style>\n"
)


@dataclass(frozen=True)
class Page:
    """One generated page: bytes as served, header, the exact text it must decode to, the rule to win."""

    id: str
    body: bytes
    content_type: str | None
    text: str
    encoding: str
    case: str
    expected_rule: str
    expected_encoding: str
    undecodable_bytes: int = 0


def _texts(kind: str, codec: str, rng: random.Random) -> list[str]:
    """Page texts of one kind that *codec* can hold exactly: short (one sentence) and long ones."""
    decoder = DECODER[codec]
    simp, trad = list(simplified_sentences()), list(traditional_sentences())
    if kind.startswith("simp"):
        pool = simp
    else:
        pool = trad
    if kind == "trad-hkscs":
        pool = pool + HKSCS_SENTENCES * 4
    pool = [s for s in pool if round_trips(s, codec, decoder)]
    special = {"simp-gbk": GBK_ONLY, "simp-4byte": FOUR_BYTE, "rare": GBK_ONLY + FOUR_BYTE}.get(kind)
    texts: list[str] = []
    for size in (1, 1, 3, 8, 20):
        sentences = rng.sample(pool, size)
        if special and not any(c in "".join(sentences) for c in special):
            sentences[0] = sentences[0] + f"（{special}）"
        if kind == "trad-hkscs" and not any(s in HKSCS_SENTENCES for s in sentences):
            sentences[-1] = rng.choice(HKSCS_SENTENCES)
        texts.append("\n".join(sentences))
    assert all(round_trips(t, codec, decoder) for t in texts), (kind, codec)
    return texts


def _html(text: str, title: str, meta: str | None, *, late: bool = False,
          commented: str | None = None) -> str:
    paragraphs = "".join(f"<p>{line}</p>\n" for line in text.split("\n"))
    early = "" if late or meta is None else meta + "\n"
    tail = meta + "\n" if late and meta is not None else ""
    comment = f"<!-- old template: {commented} -->\n" if commented else ""
    padding = _PADDING if late else ""
    return (f"<!DOCTYPE html>\n<html>\n<head>\n{comment}{early}<title>{title}</title>\n{padding}{tail}"
            f"</head>\n<body>\n<div class=\"content\">\n{paragraphs}</div>\n</body>\n</html>\n")


def _strictly(body: bytes, label: str) -> bool:
    for codec in _FAMILY_CODECS[label]:
        try:
            body.decode(codec)
        except UnicodeDecodeError:
            continue
        return True
    return False


def _case(case: str, codec: str, text: str, rng: random.Random) -> tuple[bytes, str | None, str, str]:
    """(body, content_type, html, expected rule) for one label case."""
    right, wrong, _ = ENCODINGS[codec]
    form = rng.choice(_META_FORMS)
    title = text.split("\n")[0][:30]

    def ct(label: str | None) -> str | None:
        return None if label is None else f"text/html; charset={label}"

    header: str | None
    meta: str | None
    late = False
    commented = None
    if case == "correct-both":
        header, meta, rule = right, right, "header"
    elif case == "header-only":
        header, meta, rule = right, None, "header"
    elif case == "meta-only":
        header, meta, rule = None, right, "meta"
    elif case == "meta-late":
        header, meta, rule, late = None, right, "meta", True
    elif case == "meta-commented":
        header, meta, rule, commented = None, right, "meta", form.format(wrong)
    elif case == "unlabelled":
        header, meta, rule = None, None, "chardet"
    elif case == "wrong-family-header":
        header, meta, rule = wrong, None, "chardet"
    elif case == "wrong-family-meta":
        header, meta, rule = None, wrong, "chardet"
    elif case == "disagree-header-wrong":
        header, meta, rule = wrong, right, "meta"
    elif case == "disagree-meta-wrong":
        header, meta, rule = right, wrong, "header"
    elif case == "header-utf8-lie":
        header, meta, rule = "utf-8", None, "chardet"
    elif case == "header-latin1":
        header, meta, rule = "iso-8859-1", None, "chardet"
    else:
        raise ValueError(case)
    html = _html(text, title, None if meta is None else form.format(meta), late=late, commented=commented)
    body = html.encode(codec)
    if codec == "utf-8":
        rule = "utf-8"
    elif case.startswith("disagree") and _strictly(body, wrong):
        rule = "chardet"  # both labels decode: only detection can tell which one lies
    return body, ct(header), html, rule


def pages() -> Iterator[Page]:
    """The whole corpus (about 600 pages), deterministic."""
    rng = random.Random(20240719)
    for codec, (_, _, kinds) in ENCODINGS.items():
        for kind in kinds:
            for n, text in enumerate(_texts(kind, codec, rng)):
                for case in CASES:
                    body, content_type, html, rule = _case(case, codec, text, rng)
                    yield Page(f"{codec}-{kind}-{n}-{case}", body, content_type, html, codec, case, rule,
                               DECODER[codec])
    yield from _special_pages(rng)


def _special_pages(rng: random.Random) -> Iterator[Page]:
    """A BOM page, and broken pages that only the fallback can decode (undecodable bytes counted)."""
    text = "\n".join(rng.sample(list(simplified_sentences()), 5))
    html = _html(text, "BOM", None)
    yield Page("utf-8-bom", b"\xef\xbb\xbf" + html.encode("utf-8"), None, html, "utf-8", "bom", "bom",
               "utf-8-sig")
    for n, broken in enumerate((1, 3, 12)):
        html = _html(text, "broken", '<meta charset="gbk">')
        body = html.encode("gbk")
        cut = body.index(b"</p>")
        damaged = body[:cut] + b"\xff" * broken + body[cut:]
        shown = html[: html.index("</p>")] + "\ufffd" * broken + html[html.index("</p>"):]
        yield Page(f"gbk-broken-{n}", damaged, None, shown, "gbk", "broken", "fallback", "gb18030", broken)
