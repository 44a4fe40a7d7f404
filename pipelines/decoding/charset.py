"""Encoding decision on raw bytes, before anything parses them.

First version (walking skeleton): BOM, strict UTF-8, declared charset (header, then meta) upgraded to
its superset codec, chardet over a restricted candidate list, last-resort decode counting bad bytes.
"""
from __future__ import annotations

import codecs
import re
from dataclasses import asdict, dataclass

import chardet

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "gb18030": "gb18030", "big5": "big5hkscs",
              "big5hkscs": "big5hkscs", "cp950": "big5hkscs"}
_CANDIDATES = ["utf-8", "gb18030", "big5hkscs", "cp950", "ascii"]


@dataclass(frozen=True)
class EncodingDecision:
    encoding: str
    rule: str
    header_charset: str | None
    meta_charset: str | None
    undecodable_bytes: int

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return _SUPERSETS.get(name, name)


def header_charset(content_type: str | None) -> str | None:
    m = _HEADER_CHARSET.search(content_type or "")
    return m.group(1).lower() if m else None


def meta_charset(body: bytes) -> str | None:
    head = body[: body.find(b"</head") if b"</head" in body[:65536] else 65536]
    m = _META_CHARSET.search(head)
    return m.group(1).decode("ascii").lower() if m else None


def _strict(body: bytes, codec: str) -> bool:
    try:
        body.decode(codec)
    except UnicodeDecodeError:
        return False
    return True


def decide_encoding(body: bytes, content_type: str | None = None) -> EncodingDecision:
    hdr, meta = header_charset(content_type), meta_charset(body)

    def made(encoding: str, rule: str, bad: int = 0) -> EncodingDecision:
        return EncodingDecision(encoding, rule, hdr, meta, bad)

    for bom, name in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                      (codecs.BOM_UTF16_BE, "utf-16")):
        if body.startswith(bom):
            return made(name, "bom")
    if _strict(body, "utf-8"):
        return made("utf-8", "utf-8")
    for rule, label in (("header", hdr), ("meta", meta)):
        codec = _codec(label)
        if codec and codec != "utf-8" and _strict(body, codec):
            return made(codec, rule)
    for candidate in (r["encoding"] for r in chardet.detect_all(body) if r["encoding"]):
        codec = _codec(candidate)
        if codec in _CANDIDATES and _strict(body, codec):
            return made(codec, "chardet")
    codec = _codec(hdr) or _codec(meta) or "gb18030"
    bad = len(body) - len(body.decode(codec, errors="ignore").encode(codec, errors="ignore"))
    return made(codec, "fallback", max(bad, 0))


def decode_body(body: bytes, decision: EncodingDecision) -> str:
    """Decode with the decided codec; only the fallback rule may replace bytes."""
    return body.decode(decision.encoding, errors="replace")
