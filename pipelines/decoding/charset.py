"""Encoding decision on raw bytes, before anything parses them.

Municipal portals lie about their encodings: a GBK body behind ``charset=utf-8`` or ``ISO-8859-1``, a
UTF-8 body keeping a stale ``gb2312`` meta, a Big5 mirror labelled ``gb2312``, a meta tag 6 KB down a
head full of scripts. The decision, in order (``EncodingDecision.rule`` names the step that decided):

``bom``
    a UTF-8/UTF-16 byte-order mark.
``utf-8``
    the body decodes strictly as UTF-8 (pure ASCII included). With very little non-ASCII, a GB/Big5
    decoding that is far more plausible Chinese still wins (UTF-8 validity proves little on 10 bytes).
``header`` / ``meta``
    the charset of the HTTP ``Content-Type`` / of ``<meta charset>``, ``<meta http-equiv>`` or the XML
    declaration anywhere in the head (comments ignored), upgraded to its superset codec (GB2312/GBK ->
    GB18030, Big5 -> Big5-HKSCS, then cp950) and decoding strictly, when the labels agree and no other
    CJK family is clearly more plausible Chinese. A single-byte Western label (``ISO-8859-1`` and the
    like) wins only when no CJK codec gives plausible Chinese.
``chardet``
    statistical detection, used when the labels disagree, are missing, fail to decode or lose the
    plausibility contest: among the codecs that decode strictly (UTF-8, GB18030, Big5-HKSCS, cp950) the
    one whose text is clearly the most plausible Chinese (common-character score, ``_scoring``);
    chardet, restricted to those codecs, breaks ties. Every Big5 byte string is also valid GB18030, so
    "decodes strictly" alone cannot choose.
``fallback``
    nothing decodes strictly: the candidate losing the fewest bytes (ties: labels first, then the more
    plausible text); ``undecodable_bytes`` counts the bytes that become U+FFFD.
"""
from __future__ import annotations

import codecs
import logging
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass

from pipelines.decoding._scoring import plausibility

logger = logging.getLogger(__name__)

RULES = ("bom", "utf-8", "header", "meta", "chardet", "fallback")

_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_META_CHARSET = re.compile(rb"""<meta\b[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']\s*([A-Za-z0-9_.:-]+)""", re.I)
_HEAD_END = re.compile(rb"</head\s*>|<body[\s>]", re.I)
_COMMENT = re.compile(rb"<!--.*?-->", re.S)
_NON_ASCII_RUNS = re.compile(r"[^\x00-\x7f]+")
_SURROGATE = re.compile("[\udc80-\udcff]")

#: Labels browsers and portals use that Python does not know, or knows under a subset codec.
_ALIASES = {
    "x-gbk": "gbk", "gb_2312-80": "gb2312", "csgb2312": "gb2312", "x-euc-cn": "gb2312", "euc-cn": "gb2312",
    "ms936": "gbk", "windows-936": "gbk", "cp936": "gbk", "x-big5": "big5", "cn-big5": "big5",
    "csbig5": "big5", "big5-hkscs": "big5hkscs", "ms950": "cp950", "windows-950": "cp950",
    "unicode": "utf-8", "utf8": "utf-8", "unicode-1-1-utf-8": "utf-8",
}
#: Declared family -> codecs to try, superset first.
_UPGRADES = {
    "gb2312": ("gb18030",), "gbk": ("gb18030",), "gb18030": ("gb18030",), "hz": ("gb18030",),
    "big5": ("big5hkscs", "cp950"), "big5hkscs": ("big5hkscs", "cp950"), "cp950": ("cp950", "big5hkscs"),
    "utf-8": ("utf-8",),
}
#: The codecs detection chooses among, in tie order.
CANDIDATES = ("utf-8", "gb18030", "big5hkscs", "cp950")
_FAMILY = {"utf-8": "utf", "gb18030": "gb", "big5hkscs": "big5", "cp950": "big5"}

#: Detection overrides a label only when the other reading is this much more plausible (score units:
#: clean Chinese averages about 8, wrong-codec text 1-3).
LABEL_MARGIN = 2.0
#: ... and detection alone needs this lead to choose without asking chardet.
DETECT_MARGIN = 1.0
#: A CJK reading must score at least this to beat a Western single-byte label.
MIN_CJK_PLAUSIBILITY = 4.5
#: UTF-8 validity is weak evidence below this many non-ASCII bytes.
SHORT_UTF8 = 48
_ASCII = bytes(range(0x80))
#: How much decoded text (characters, markup included) the plausibility judgement looks at.
_SAMPLE_CHARS = 8000
#: ... and at most this many of its non-ASCII characters (plenty to tell GB from Big5).
_SAMPLE_NON_ASCII = 800


@dataclass(frozen=True)
class EncodingDecision:
    """How a body was (to be) decoded, kept in the archived metadata.

    ``encoding`` is a Python codec name that decodes the body (strictly, unless ``rule`` is
    ``"fallback"``); ``header_charset`` and ``meta_charset`` are the labels as declared (lower-cased).
    """

    encoding: str
    rule: str
    header_charset: str | None
    meta_charset: str | None
    undecodable_bytes: int

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def header_charset(content_type: str | None) -> str | None:
    """The charset label of an HTTP ``Content-Type`` value, lower-cased, or None."""
    match = _HEADER_CHARSET.search(content_type or "")
    return match.group(1).lower() if match else None


def meta_charset(body: bytes) -> str | None:
    """The first charset declared in the head (meta tags, XML declaration), lower-cased, or None.

    The whole head is searched (up to ``</head>`` or ``<body>``; the whole document when neither is
    found), not only its first 4 KB; commented-out declarations are ignored.
    """
    match = _XML_DECL.match(body, 0, 512)
    if match:
        return match.group(1).decode("ascii").lower()
    end = _HEAD_END.search(body)
    head = body[: end.start()] if end else body
    if b"<!--" in head:
        head = _COMMENT.sub(b"", head)
    match = _META_CHARSET.search(head)
    return match.group(1).decode("ascii").lower() if match else None


def normalise_label(label: str | None) -> str | None:
    """A declared charset as a Python codec name (``gb2312``, ``big5``, ``latin-1``...), or None."""
    if not label:
        return None
    label = _ALIASES.get(label.lower(), label.lower())
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return _ALIASES.get(name, name)


def _label_codecs(label: str | None) -> tuple[str, ...]:
    name = normalise_label(label)
    if name is None:
        return ()
    return _UPGRADES.get(name, (name,))


def _strict(body: bytes, codec: str) -> str | None:
    try:
        return body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _sample(text: str) -> str:
    """What plausibility is judged on: the non-ASCII text of a slice of the decoding, from its
    ``<body`` on (from its start when the body slice holds none)."""
    start = max(text.find("<body"), 0)
    runs = _NON_ASCII_RUNS.findall(text, start, start + _SAMPLE_CHARS)
    if start and not runs:
        runs = _NON_ASCII_RUNS.findall(text, 0, _SAMPLE_CHARS)
    return "".join(runs)[:_SAMPLE_NON_ASCII]


class _Readings:
    """Strict decodings of one body and their plausibility, computed on demand and cached."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self._text: dict[str, str | None] = {}
        self._score: dict[str, float] = {}

    def text(self, codec: str) -> str | None:
        if codec not in self._text:
            self._text[codec] = _strict(self.body, codec)
        return self._text[codec]

    def score(self, codec: str) -> float:
        if codec not in self._score:
            text = self.text(codec)
            self._score[codec] = -99.0 if text is None else plausibility(_sample(text))[0]
        return self._score[codec]

    def known(self, codec: str) -> str | None:
        """The strict decoding with *codec* if it was already made."""
        return self._text.get(codec)

    def first_strict(self, codecs_: tuple[str, ...]) -> str | None:
        return next((c for c in codecs_ if self.text(c) is not None), None)

    def strict_candidates(self) -> list[str]:
        """One strictly decoding codec per family (Big5: Big5-HKSCS before cp950)."""
        found: dict[str, str] = {}
        for codec in CANDIDATES:
            family = _FAMILY[codec]
            if family not in found and self.text(codec) is not None:
                found[family] = codec
        return list(found.values())


def _chardet_pick(body: bytes, candidates: list[str]) -> str | None:
    import chardet  # heavy import: only when detection must break a tie

    result = chardet.detect(body, include_encodings=candidates, compat_names=False, max_bytes=65536,
                            no_match_encoding=candidates[0])
    name = normalise_label(result.get("encoding"))
    if name is None:
        return None
    for codec in _UPGRADES.get(name, (name,)):
        if codec in candidates:
            return codec
    return None


def _detect(readings: _Readings, candidates: list[str]) -> str:
    """The most plausible of several strict decodings; chardet decides when none is clearly ahead."""
    ranked = sorted(candidates, key=readings.score, reverse=True)
    if len(ranked) == 1 or readings.score(ranked[0]) - readings.score(ranked[1]) >= DETECT_MARGIN:
        return ranked[0]
    close = [c for c in ranked if readings.score(ranked[0]) - readings.score(c) < DETECT_MARGIN]
    return _chardet_pick(readings.body, close) or ranked[0]


def _undecodable(body: bytes, codec: str) -> int:
    try:
        text = body.decode(codec, errors="surrogateescape")
    except LookupError:
        return len(body)
    except UnicodeDecodeError:
        # UTF-16/32 decoders refuse surrogateescape for some errors; count replacements instead.
        return body.decode(codec, errors="replace").count("\ufffd")
    return len(_SURROGATE.findall(text))


def decide_encoding(body: bytes, content_type: str | None = None) -> EncodingDecision:
    """Decide how to decode *body*; *content_type* is the HTTP ``Content-Type`` header, if any.

    See the module docstring for the rules. Never raises on any bytes or labels.
    """
    hdr, meta = header_charset(content_type), meta_charset(body)

    readings: _Readings | None = None

    def made(encoding: str, rule: str, bad: int = 0) -> EncodingDecision:
        global _last_reading
        logger.debug("encoding %s by %s (header %s, meta %s)", encoding, rule, hdr, meta)
        text = readings.known(encoding) if readings is not None else None
        _last_reading = None if text is None else (body, encoding, text)
        return EncodingDecision(encoding, rule, hdr, meta, bad)

    if body.startswith(codecs.BOM_UTF8):
        return made("utf-8-sig", "bom")
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and _strict(body, "utf-16") is not None:
        return made("utf-16", "bom")
    if body.isascii():
        return made("utf-8", "utf-8")

    readings = _Readings(body)
    labels = [(rule, _label_codecs(label)) for rule, label in (("header", hdr), ("meta", meta))]
    labels = [(rule, codecs_) for rule, codecs_ in labels if codecs_]
    cjk_labels = [(rule, c) for rule, c in labels if c[0] in _FAMILY]

    if readings.text("utf-8") is not None:
        return _short_utf8_check(body, readings, cjk_labels, made)

    candidates = readings.strict_candidates()
    strict_labels = [(rule, codec) for rule, codecs_ in cjk_labels
                     if (codec := readings.first_strict(codecs_)) is not None]
    if len({_FAMILY[codec] for _, codec in strict_labels}) == 1:
        # The labels that decode agree on a family (or only one label decodes).
        rule, codec = strict_labels[0]
        others = [c for c in candidates if _FAMILY[c] != _FAMILY[codec]]
        best = max(others, key=readings.score, default=None)
        if best is None or readings.score(best) - readings.score(codec) < LABEL_MARGIN:
            return made(codec, rule)
        return made(best, "chardet")
    if candidates:
        choice = _detect(readings, candidates)
        western = [(rule, c) for rule, c in labels if c[0] not in _FAMILY]
        if western and readings.score(choice) < MIN_CJK_PLAUSIBILITY:
            for rule, codecs_ in western:
                codec = readings.first_strict(codecs_)
                if codec is not None:
                    return made(codec, rule)
        return made(choice, "chardet")
    for rule, codecs_ in labels:
        codec = readings.first_strict(codecs_)
        if codec is not None and codecs_[0] not in _FAMILY:
            return made(codec, rule)
    return _fallback(body, labels, made)


def _short_utf8_check(body: bytes, readings: _Readings, cjk_labels: list[tuple[str, tuple[str, ...]]],
                      made: Callable[[str, str], EncodingDecision]) -> EncodingDecision:
    """UTF-8 decodes: keep it, unless the non-ASCII part is tiny and a label's codec reads far better."""
    if len(body) - len(body.translate(None, _ASCII)) >= SHORT_UTF8:  # non-ASCII bytes, counted in C
        return made("utf-8", "utf-8")
    for rule, codecs_ in cjk_labels:
        codec = readings.first_strict(codecs_)
        if codec and codec != "utf-8" and readings.score(codec) - readings.score("utf-8") >= LABEL_MARGIN:
            return made(codec, rule)
    return made("utf-8", "utf-8")


def _fallback(body: bytes, labels: list[tuple[str, tuple[str, ...]]],
              made: Callable[[str, str, int], EncodingDecision]) -> EncodingDecision:
    order: list[str] = []
    for _, codecs_ in labels:
        order.extend(c for c in codecs_ if c not in order)
    order.extend(c for c in CANDIDATES if c not in order)
    losses = {codec: _undecodable(body, codec) for codec in order}
    fewest = min(losses.values())
    close = [c for c in order if losses[c] <= fewest + max(2, fewest // 10)]

    def lossy_score(codec: str) -> float:
        return plausibility(_sample(body.decode(codec, errors="replace")))[0]

    best = close[0] if len(close) == 1 else max(close, key=lambda c: (lossy_score(c), -order.index(c)))
    logger.info("no codec decodes the body strictly; %s loses %d bytes", best, losses[best])
    return made(best, "fallback", losses[best])


#: The last strict decoding made while deciding, so ``decode_body`` right after ``decide_encoding`` on
#: the same body does not decode it twice: (body, codec, text).
_last_reading: tuple[bytes, str, str] | None = None


def decode_body(body: bytes, decision: EncodingDecision) -> str:
    """Decode with the decided codec. Only a ``fallback`` decision has bytes to replace (U+FFFD)."""
    last = _last_reading
    if last is not None and last[0] is body and last[1] == decision.encoding:
        return last[2]
    return body.decode(decision.encoding, errors="replace")
