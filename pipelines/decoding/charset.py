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

Cost: plausibility is judged on a sample (``_windows``: the first few hundred non-ASCII characters
from the ``<body`` on, read with each codec), not on full decodings; a codec that cannot read the
sample is out without decoding the body; a label whose reading is clean Chinese is taken without
reading its rivals; a family too far behind the leader is never decoded in full. The downloader
middleware decides *provisionally* (UTF-8, GB and Big5 strictness judged on the sample; the worker
decodes the body strictly and decides again in full if that fails), so a page is decoded in full once.
"""
from __future__ import annotations

import codecs
import logging
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from pipelines.decoding._scoring import plausibility

logger = logging.getLogger(__name__)

RULES = ("bom", "utf-8", "header", "meta", "chardet", "fallback")

_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_META_CHARSET = re.compile(rb"""<meta\b[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']\s*([A-Za-z0-9_.:-]+)""", re.I)
_HEAD_END = re.compile(rb"</head\s*>|<body[\s>]", re.I)
_COMMENT = re.compile(rb"<!--.*?-->", re.S)
_ASCII_RUNS = re.compile(r"[\x00-\x7f]+")
#: The bytes no CJK encoding uses inside a character (trail bytes are 0x40 and up, GB18030's four-byte
#: digits 0x30-0x39), before which a sample window may end without cutting a character.
_OUTSIDE_BYTE = re.compile(rb"[\x00-\x2f\x3a-\x3f]")
_ASCII_BYTES = bytes(range(0x80))
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
_FAMILY_CODECS = {"utf": ("utf-8",), "gb": ("gb18030",), "big5": ("big5hkscs", "cp950")}
#: The families left once UTF-8 has failed.
_CJK_FAMILIES = ("gb", "big5")

#: Detection overrides a label only when the other reading is this much more plausible (score units:
#: clean Chinese averages about 8, wrong-codec text 1-3).
LABEL_MARGIN = 2.0
#: ... and detection alone needs this lead to choose without asking chardet.
DETECT_MARGIN = 1.0
#: A CJK reading must score at least this to beat a Western single-byte label.
MIN_CJK_PLAUSIBILITY = 4.5
#: A label whose strict decoding reads at least this well, on at least ``TRUSTED_SAMPLE`` non-ASCII
#: characters, is taken without decoding its rivals: clean Chinese scores about 8, the wrong family's
#: reading of it 1-3, so no rival could beat it by ``LABEL_MARGIN``.
TRUSTED_LABEL = 5.5
TRUSTED_SAMPLE = 32
#: UTF-8 validity is weak evidence below this many non-ASCII bytes.
SHORT_UTF8 = 48
#: The plausibility judgement reads the body this many bytes at a time (from a non-ASCII byte) ...
_SAMPLE_BYTES = 512
#: ... until it has this many non-ASCII characters (plenty to tell GB from Big5).
_SAMPLE_NON_ASCII = 200
#: The windows are looked for this many bytes at a time (marking a whole 60 KB page by kind cost more
#: than the rest of a decision).
_SCAN_BYTES = 4096
#: The last-resort decision counts a rival codec's undecodable bytes this many bytes at a time, and stops
#: once the rival is out of the running.
_COUNT_BYTES = 4096


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


def _windows(body: bytes) -> tuple[list[tuple[int, int]], int]:
    """The byte ranges plausibility is judged on, and how many non-ASCII bytes they hold: from the
    ``<body`` on (then the head), stretches starting at a non-ASCII byte (ASCII markup and scripts
    skipped, however long) and ending before a byte no CJK encoding uses inside a character, until they
    hold ``2 * _SAMPLE_NON_ASCII`` non-ASCII bytes. Every codec reads the same stretches, each starting
    in step (and every window holds whole UTF-8 characters: it starts after an ASCII byte and ends
    before one). When they hold fewer, they hold every non-ASCII byte of the body.

    Only the bytes the windows need are looked at: ASCII is skipped ``_SCAN_BYTES`` at a time
    (``bytes.isascii``, a word at a time), and a chunk that is not all ASCII, like the bytes after a
    window's first 512, is searched by a regex of one character class (a loop in C, no copy)."""
    start = max(body.find(b"<body"), 0)
    found: list[tuple[int, int]] = []
    wanted = 2 * _SAMPLE_NON_ASCII
    for low, high in ((start, len(body)), (0, start)):
        at = low
        while wanted > 0:
            first = _first_non_ascii(body, at, high)
            if first < 0:
                break
            safe = _OUTSIDE_BYTE.search(body, min(first + _SAMPLE_BYTES, high), high)
            at = high if safe is None else safe.start()
            found.append((first, at))
            wanted -= len(body[first:at].translate(None, _ASCII_BYTES))
    return found, 2 * _SAMPLE_NON_ASCII - wanted


def _first_non_ascii(body: bytes, at: int, high: int) -> int:
    """The first non-ASCII byte of *body* between *at* and *high*, or -1; ``_SCAN_BYTES`` at a time.

    In a chunk that is not all ASCII, a one-class regex (tried at every byte, ~3.6 ns each) looks at the
    first ``_NEAR_BYTES``; past them, every non-ASCII byte is turned into 0x80 (``bytes.translate``) and
    the first one found by ``bytes.find`` (2.3 us for 4 KB, where the regex took 15)."""
    while at < high:
        stop = min(at + _SCAN_BYTES, high)
        chunk = body[at:stop]
        if not chunk.isascii():
            near = _NON_ASCII_BYTE.search(body, at, min(at + _NEAR_BYTES, stop))
            if near is not None:
                return near.start()
            return at + chunk.translate(_MARK_NON_ASCII).find(0x80)
        at = stop
    return -1


_NON_ASCII_BYTE = re.compile(rb"[\x80-\xff]")
_NEAR_BYTES = 256
#: ASCII bytes as they are, the others as 0x80.
_MARK_NON_ASCII = bytes(range(0x80)) + b"\x80" * 0x80


def _sample(body: bytes, windows: list[tuple[int, int]], codec: str, strict: bool) -> str | None:
    """*windows* read with *codec*, ASCII and all (``_judge`` keeps the first ``_SAMPLE_NON_ASCII``
    non-ASCII characters; strictness needs none removed). *strict*: None as soon as a window does not
    decode; else bytes it cannot read become U+FFFD (which scores as implausible)."""
    # The windows are read as one string, a line break between two: no codec reads it as part of a
    # character, so each window is read as if alone (a character cut at a window's end stays invalid).
    data = b"\n".join([body[low:high] for low, high in windows])
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        if strict:
            return None
        return data.decode(codec, errors="replace")


class _Readings:
    """Strict decodings of one body and their plausibility, computed on demand and cached.

    Plausibility is judged on a sample of the body read with the codec (``_windows``), so ranking the
    codecs costs no full decoding; only the codecs whose strictness matters are decoded in full, and
    a GB or Big5 codec that cannot read the sample is known not to decode the body (each window starts
    and ends in step).
    """

    def __init__(self, body: bytes, provisional: bool = False) -> None:
        self.body = body
        self.provisional = provisional
        self._text: dict[str, str | None] = {}
        self._samples: dict[str, str | None] = {}  # strict readings of the sample, None: it fails
        self._judged: dict[str, tuple[float, int]] = {}
        self._windows: list[tuple[int, int]] | None = None
        self._non_ascii = 0

    def windows(self) -> list[tuple[int, int]]:
        if self._windows is None:
            self._windows, self._non_ascii = _windows(self.body)
        return self._windows

    def _sample(self, codec: str, strict: bool = True) -> str | None:
        if not strict:
            return _sample(self.body, self.windows(), codec, False)
        if codec not in self._samples:
            self._samples[codec] = _sample(self.body, self.windows(), codec, True)
        return self._samples[codec]

    def non_ascii(self) -> int:
        """How many non-ASCII bytes the sample holds: all of the body's when fewer than
        ``2 * _SAMPLE_NON_ASCII``."""
        self.windows()
        return self._non_ascii

    def text(self, codec: str) -> str | None:
        if codec not in self._text:
            if codec in _FAMILY and not self.sample_strict(codec):
                self._text[codec] = None
            else:
                self._text[codec] = _strict(self.body, codec)
        return self._text[codec]

    def _judge(self, codec: str) -> tuple[float, int]:
        if codec not in self._judged:
            sample = self._sample(codec)
            if sample is None:
                sample = self._sample(codec, False) or ""
            self._judged[codec] = plausibility(_ASCII_RUNS.sub("", sample)[:_SAMPLE_NON_ASCII])
        return self._judged[codec]

    def score(self, codec: str) -> float:
        """Mean commonness of the sample read with *codec* (whether or not the whole body decodes)."""
        return self._judge(codec)[0]

    def trusted(self, codec: str) -> bool:
        """Whether *codec* reads the body as clean Chinese, on a fair sample."""
        score, size = self._judge(codec)
        return score >= TRUSTED_LABEL and size >= TRUSTED_SAMPLE

    def sample_strict(self, codec: str) -> bool:
        """Whether *codec* reads the sample strictly (the whole body may still hold a bad byte)."""
        return self._sample(codec) is not None

    def known(self, codec: str) -> str | None:
        """The strict decoding with *codec* if it was already made."""
        return self._text.get(codec)

    def strict(self, codec: str) -> bool:
        """Whether *codec* decodes the body strictly; when provisional, a candidate codec (UTF-8, GB,
        Big5) need only read the sample strictly (the worker checks the rest)."""
        if self.provisional and codec in _FAMILY:
            return self.sample_strict(codec)
        return self.text(codec) is not None

    def first_strict(self, codecs_: tuple[str, ...]) -> str | None:
        return next((c for c in codecs_ if self.strict(c)), None)

    def best_strict(self, families: list[str], above: float = float("-inf")) -> list[str]:
        """The strictly decoding codecs of *families* (one per family: Big5-HKSCS before cp950), most
        plausible first, leaving out those scoring below *above*. A family that cannot read the sample,
        or (full decisions) whose sample scores below *above*, is not decoded in full."""
        found = []
        for family in families:
            codecs_ = _FAMILY_CODECS[family]
            first = next((n for n, c in enumerate(codecs_) if self.sample_strict(c)), None)
            if first is None or (not self.provisional and self.score(codecs_[first]) < above):
                continue
            codec = self.first_strict(codecs_[first:])
            if codec is not None and self.score(codec) >= above:
                found.append(codec)
        return sorted(found, key=self.score, reverse=True)


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


def _detect(readings: _Readings, families: list[str]) -> str | None:
    """The most plausible strict decoding among *families*; chardet decides when none is clearly ahead.
    None when no family decodes strictly. A family too far behind the leader is not decoded."""
    leader = readings.best_strict(families)[:1]
    if not leader:
        return None
    others = [f for f in families if f != _FAMILY[leader[0]]]
    close = leader + readings.best_strict(others, readings.score(leader[0]) - DETECT_MARGIN + 1e-9)
    if len(close) == 1:
        return close[0]
    return _chardet_pick(readings.body, close) or close[0]


def _undecodable(body: bytes, codec: str, limit: int | None = None) -> int:
    """How many bytes of *body* *codec* cannot decode. With *limit*, a candidate codec may stop
    counting once it has found more: the count is then above *limit*, and may be short of the total."""
    if limit is not None and codec in _FAMILY:
        decoder = codecs.getincrementaldecoder(codec)("surrogateescape")
        lost = 0
        for at in range(0, len(body), _COUNT_BYTES):
            lost += _escapes(decoder.decode(body[at:at + _COUNT_BYTES], at + _COUNT_BYTES >= len(body)))
            if lost > limit:
                break
        return lost
    try:
        escaped = body.decode(codec, errors="surrogateescape")
    except LookupError:
        return len(body)
    except UnicodeDecodeError:
        # UTF-16/32 decoders refuse surrogateescape for some errors; count replacements instead.
        return body.decode(codec, errors="replace").count("\ufffd")
    return _escapes(escaped)


def _escapes(escaped: str) -> int:
    """How many bytes a decoding with ``surrogateescape`` could not decode.

    Each became one escape (U+DC80-U+DCFF), which UTF-8 with surrogateescape encodes as one byte and
    with ignore as none: two encodes in C, where a regex over the text took 0.4 ms on a 40 KB page."""
    try:
        return len(escaped.encode("utf-8", "surrogateescape")) - len(escaped.encode("utf-8", "ignore"))
    except UnicodeEncodeError:  # another surrogate: the codec itself made one
        return len(_SURROGATE.findall(escaped))


def decide_encoding(body: bytes, content_type: str | None = None, *,
                    provisional: bool = False) -> EncodingDecision:
    """Decide how to decode *body*; *content_type* is the HTTP ``Content-Type`` header, if any.

    See the module docstring for the rules. Never raises on any bytes or labels.

    *provisional*: a UTF-8, GB or Big5 codec counts as decoding strictly when it reads the sample
    strictly, so the decision decodes no body in full. Whoever decodes the body next must do
    so strictly and decide again when that fails (``decode_page`` does): the
    downloader middleware decides provisionally, so a page is decoded in full once, in the worker.
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

    readings = _Readings(body, provisional)
    labels = [(rule, _label_codecs(label)) for rule, label in (("header", hdr), ("meta", meta))]
    labels = [(rule, codecs_) for rule, codecs_ in labels if codecs_]
    cjk_labels = [(rule, c) for rule, c in labels if c[0] in _FAMILY]

    if readings.strict("utf-8"):
        return _short_utf8_check(body, readings, cjk_labels, made)
    if len({_FAMILY[c[0]] for _, c in cjk_labels}) == 1:
        # One CJK family declared: when its first label that decodes reads as clean Chinese, the rivals
        # need not be decoded and scored (the common case, and the cheap one).
        for rule, codecs_ in cjk_labels:
            codec = readings.first_strict(codecs_)
            if codec is not None:
                if readings.trusted(codec):
                    return made(codec, rule)
                break

    strict_labels = [(rule, codec) for rule, codecs_ in cjk_labels
                     if (codec := readings.first_strict(codecs_)) is not None]
    if len({_FAMILY[codec] for _, codec in strict_labels}) == 1:
        # The labels that decode agree on a family (or only one label decodes): another family wins
        # only when it decodes and reads far better.
        rule, codec = strict_labels[0]
        others = [f for f in _CJK_FAMILIES if f != _FAMILY[codec]]
        better = readings.best_strict(others, readings.score(codec) + LABEL_MARGIN)
        return made(better[0], "chardet") if better else made(codec, rule)
    choice = _detect(readings, list(_CJK_FAMILIES))
    if choice is not None:
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
    return _fallback(body, readings, labels, made)


def _short_utf8_check(body: bytes, readings: _Readings, cjk_labels: list[tuple[str, tuple[str, ...]]],
                      made: Callable[[str, str], EncodingDecision]) -> EncodingDecision:
    """UTF-8 decodes: keep it, unless the non-ASCII part is tiny and a label's codec reads far better."""
    text = readings.known("utf-8")
    # A character of n bytes makes n non-ASCII bytes and n - 1 of the difference: enough of it, and
    # the body holds enough non-ASCII bytes without counting them.
    if (text is not None and len(body) - len(text) >= SHORT_UTF8) or readings.non_ascii() >= SHORT_UTF8:
        return made("utf-8", "utf-8")
    for rule, codecs_ in cjk_labels:
        codec = readings.first_strict(codecs_)
        if codec and codec != "utf-8" and readings.score(codec) - readings.score("utf-8") >= LABEL_MARGIN:
            return made(codec, rule)
    return made("utf-8", "utf-8")


def _fallback(body: bytes, readings: _Readings, labels: list[tuple[str, tuple[str, ...]]],
              made: Callable[[str, str, int], EncodingDecision]) -> EncodingDecision:
    order: list[str] = []
    for _, codecs_ in labels:
        order.extend(c for c in codecs_ if c not in order)
    order.extend(c for c in CANDIDATES if c not in order)
    # A codec is counted only until it is out of reach of the fewest lost so far (on a 38 KB GB page
    # with 12 bad bytes, Big5 and UTF-8 stop after a few KB: 1.2 -> 0.3 ms for the four counts).
    losses: dict[str, int] = {}
    for codec in order:
        losses[codec] = _undecodable(body, codec, _within(min(losses.values())) if losses else None)
    fewest = min(losses.values())
    close = [c for c in order if losses[c] <= _within(fewest)]

    best = close[0] if len(close) == 1 else max(close, key=lambda c: (readings.score(c), -order.index(c)))
    logger.info("no codec decodes the body strictly; %s loses %d bytes", best, losses[best])
    return made(best, "fallback", losses[best])


def _within(fewest: int) -> int:
    """The most bytes a fallback candidate may lose and still count as close to the fewest lost: a
    bound that only grows with *fewest*, so a codec out of reach of one candidate is out of reach of
    the best."""
    return fewest + max(2, fewest // 10)


#: The last strict decoding made while deciding, so ``decode_body`` right after ``decide_encoding`` on
#: the same body does not decode it twice: (body, codec, text).
_last_reading: tuple[bytes, str, str] | None = None


def decode_body(body: bytes, decision: EncodingDecision) -> str:
    """Decode with the decided codec. Only a ``fallback`` decision has bytes to replace (U+FFFD)."""
    last = _last_reading
    if last is not None and last[0] is body and last[1] == decision.encoding:
        return last[2]
    return body.decode(decision.encoding, errors="replace")


def decode_page(body: bytes, content_type: str | None,
                decided: dict[str, Any] | None = None) -> tuple[str, EncodingDecision]:
    """Decode a page; reuse a decision already made by the downloader middleware.

    That decision may be provisional (``decide_encoding(..., provisional=True)``): the body is
    decoded strictly with it, and decided again in full if a byte does not decode.
    """
    if decided:
        decision = EncodingDecision(**decided)
        if decision.rule == "fallback":
            return decode_body(body, decision), decision
        try:
            return body.decode(decision.encoding), decision
        except (UnicodeDecodeError, LookupError):
            pass
    decision = decide_encoding(body, content_type)
    return decode_body(body, decision), decision
