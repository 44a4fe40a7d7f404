"""Repair of text that was decoded with the wrong codec before we fetched it.

Two families of damage, found and repaired separately (Latin first):

* **Latin runs**: GBK, Big5 or UTF-8 bytes read as cp1252 or Latin-1 (``ÖÐ»ª`` for 中华). A run of
  Latin-1/cp1252 characters (with the single ASCII characters a GBK trail byte turns into) is turned
  back into its bytes and decoded strictly as UTF-8, GB18030 and Big5-HKSCS.
* **CJK runs**: Big5 read as GBK, GBK read as Big5, UTF-8 read as GBK, and a GBK stream decoded one
  byte out of step (``ㄗ澹盒煊馈`` for ``（撰稿：徐``). Inside a run of non-ASCII text the stretch of
  implausible characters is located, re-encoded with the codec that misread it and decoded with the
  right one; for a stream out of step (or damaged by lost bytes) the GBK bytes are re-segmented at the
  alignment that reads best (``_resync_gbk``), lost bytes showing as U+FFFD.

A candidate replaces the original only when it is clearly more plausible Chinese (``_scoring``: mean
common-character score at least ``ACCEPT`` and ``MARGIN`` above the original's). Clean text never gets
that far: runs without at least two implausible characters are not looked at. Every repair is recorded
with its span in the text as it stood before that repair, the text before and after, and the codec pair
``"<true codec>><codec that misread it>"``.
"""
from __future__ import annotations

import bisect
import functools
import logging
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from itertools import accumulate

from pipelines.decoding._scoring import char_score, suspect_pattern
from pipelines.decoding._scoring import scores as _scores

logger = logging.getLogger(__name__)

#: A candidate must average at least this (clean Chinese averages about 8, mojibake 1-3) ...
ACCEPT = 5.0
#: A candidate of one character must score at least this (a common character or punctuation).
SINGLE_ACCEPT = 6.0
#: Latin runs are strong evidence by themselves (real Chinese text holds no ``ÖÐ``): a lower bar.
LATIN_ACCEPT = 3.5
#: Once a text has shown one kind of damage, its other runs are tried for that kind with these bars.
CONTEXT_ACCEPT = 2.5
CONTEXT_SINGLE_ACCEPT = 2.0
#: When repairs already cover this share of a text's non-ASCII characters, the damage dominates: the
#: remaining runs (single characters between digits, say) need only read about as well as before.
DOMINANT_SHARE = 0.85
DOMINANT_SLACK = 1.0
#: ... and beat the text it replaces by this much.
MARGIN = 2.0
#: Characters scoring below this are implausible ("bad").
BAD = 3.0
#: A repair needs two characters scoring below this in what it replaces: rare or impossible ones.
EVIDENCE = 1.0
#: Locating damage: each character weighs ``DAMAGE_PIVOT - score``; the heaviest stretch is the suspect.
DAMAGE_PIVOT = 5.0
#: ... and must weigh at least this.
DAMAGE_WEIGHT = 8.0
#: Re-segmenting bytes may widen the suspect stretch only over characters scoring below this.
GOOD = 6.0
#: A re-segmentation pays this for each byte it drops.
SKIP_PENALTY = 4.0
#: Score of an ASCII character in a re-segmented byte string.
ASCII_SCORE = 3.0

_CP1252_SPECIALS = bytes(range(0x80, 0xA0)).decode("cp1252", errors="ignore")
#: Latin-1 letters, C1 controls and the cp1252 characters in 0x80-0x9F, back to their bytes.
_LATIN_BYTES: dict[str, int] = {chr(b): b for b in range(0x80, 0x100)}
_LATIN_BYTES.update({c: c.encode("cp1252")[0] for c in _CP1252_SPECIALS})
_L = re.escape("".join(sorted(_LATIN_BYTES)))
_LATIN_RUN = re.compile(rf"[{_L}]+(?:[\x40-\x7e]?[{_L}]+)*[\x40-\x7e]?")
#: The same runs, only those holding two Latin characters or more (a first pass needs two).
_LATIN_RUN_2 = re.compile(rf"[{_L}](?:[\x40-\x7e]?[{_L}])+[\x40-\x7e]?")
#: The Latin-1 bytes (C1 controls included) and the cp1252 bytes of the Latin characters that count
#: towards a Latin run's first repair (``char_score`` at most 1.0): a text holding fewer than two of them
#: has no run to repair, which two encodes in C tell sooner than a scan with ``_LATIN_RUN_2``.
_LOW_LATIN = frozenset(c for c in _LATIN_BYTES if char_score(c) <= 1.0)
_NOT_LOW_LATIN1 = bytes(b for b in range(0x100) if chr(b) not in _LOW_LATIN)
_NOT_LOW_CP1252 = bytes(b for b in range(0x100)
                        if not (0x80 <= b < 0xA0 and bytes((b,)).decode("cp1252", "ignore") in _LOW_LATIN))
#: Non-ASCII text, with the single ASCII characters a trail byte can become.
_CJK_RUN = re.compile(r"[^\x00-\x7f\s]+(?:[\x21-\x7e][^\x00-\x7f\s]+)*[\x40-\x7e]?")


@dataclass(frozen=True)
class Repair:
    start: int          # span in the text before this repair
    end: int
    before: str
    after: str
    codecs: str         # "<true codec> read as <wrong codec>", e.g. "gbk>cp1252"

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class _Candidate:
    text: str
    codecs: str
    mean: float


def _mean(text: str) -> tuple[float, int]:
    """Mean score of the non-ASCII characters other than U+FFFD, their count, for a candidate."""
    values = _scores(text.replace("\ufffd", ""))
    return (sum(values) / len(values), len(values)) if values else (0.0, 0)


def _lost(text: str) -> int:
    return text.count("\ufffd")


@dataclass(frozen=True)
class _Bars:
    accept: float = ACCEPT
    single: float = SINGLE_ACCEPT
    margin: float = MARGIN
    evidence: int = 2  # characters scoring below EVIDENCE the replaced text must hold
    length: int = 3  # non-ASCII characters the replaced text must hold


_STRICT_BARS = _Bars()
_LATIN_BARS = _Bars(LATIN_ACCEPT, float("inf"), MARGIN, 0, 2)  # one character alone: too weak
_CONTEXT_BARS = _Bars(CONTEXT_ACCEPT, CONTEXT_SINGLE_ACCEPT, MARGIN, 0, 1)
_DOMINANT_BARS = _Bars(CONTEXT_ACCEPT, CONTEXT_SINGLE_ACCEPT, -DOMINANT_SLACK, 0, 1)


def _acceptable(candidate: str, original: str, bars: _Bars = _STRICT_BARS) -> tuple[float, float] | None:
    """(candidate mean, gain) when *candidate* clearly reads better than *original*, else None.

    The mean leaves out U+FFFD (bytes the damage had already lost), as long as they are few; the gain,
    which ranks candidates, counts them as implausible characters.
    """
    if sum(1 for c in original if c > "\x7f") < bars.length:
        return None
    if bars.evidence and sum(1 for c in original if c > "\x7f" and char_score(c) < EVIDENCE) < bars.evidence:
        return None
    return _better(candidate, *_mean(original), bars)


def _better(candidate: str, base: float, base_count: int, bars: _Bars) -> tuple[float, float] | None:
    """``_acceptable`` past its checks on the original, whose ``_mean`` is (*base*, *base_count*)."""
    mean, count = _mean(candidate)
    lost = _lost(candidate)
    if count == 0 or lost * 3 > count or mean - base < bars.margin:
        return None
    if mean < (bars.single if count == 1 else bars.accept):
        return None
    ranked = (mean * count - 3.0 * lost) / (count + lost)
    return mean, (ranked - base) * max(base_count, 1)


# --------------------------------------------------------------------------------- Latin runs

def _latin_candidates(run: str) -> list[_Candidate]:
    data = bytes(_LATIN_BYTES.get(c, ord(c)) for c in run)
    wrong = "cp1252" if any(c in _CP1252_SPECIALS for c in run) else "latin-1"
    found = []
    for true, codec in (("utf-8", "utf-8"), ("gbk", "gb18030"), ("big5", "big5hkscs")):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        found.append(_Candidate(text, f"{true}>{wrong}", _mean(text)[0]))
    return found


def _low_latin(text: str, enough: int | None = None) -> int:
    """How many characters of *text* are Latin characters a first pass counts (``_LOW_LATIN``): the
    Latin-1 ones (an encode keeps them and ASCII, a translate drops all but them) and the cp1252 ones
    beyond Latin-1 (the only characters cp1252 encodes as 0x80-0x9F). With *enough*, the cp1252 ones
    are not counted once the Latin-1 ones reach it (that encode is the slower: 18 of 25 us on a mirror
    text of 5,000 characters with hundreds of pinyin tone marks)."""
    count = len(text.encode("latin-1", "ignore").translate(None, _NOT_LOW_LATIN1))
    if enough is not None and count >= enough:
        return count
    return count + len(text.encode("cp1252", "ignore").translate(None, _NOT_LOW_CP1252))


def _repair_latin(text: str, repairs: list[Repair], only: set[str] | None = None) -> str:
    """One pass over the Latin runs; with *only*, a second pass trying just those codec pairs."""
    if only is None and _low_latin(text, 2) < 2:  # no run could hold the two a first pass needs
        return text
    bars = _LATIN_BARS if only is None else _CONTEXT_BARS
    minimum = 2 if only is None else 1
    out: list[str] = []
    position = 0
    shift = 0
    for match in (_LATIN_RUN_2 if only is None else _LATIN_RUN).finditer(text):
        run = match.group(0)
        # Alone, signs Chinese text uses (middle dot, degree, plus-minus, quotes, dashes) are no evidence
        # of damage; next to repaired damage they may be part of it.
        if sum(1 for c in run if c > "\x7f" and (only is not None or char_score(c) <= 1.0)) < minimum:
            continue
        variants = [run] + ([run[:-1]] if run[-1] < "\x80" else [])
        best: tuple[float, str, _Candidate] | None = None
        for variant in variants:
            for candidate in _latin_candidates(variant):
                if only is not None and candidate.codecs.split(">")[0] not in only:
                    continue
                verdict = _acceptable(candidate.text, variant, bars)
                if verdict and (best is None or verdict[0] > best[0]):
                    best = (verdict[0], variant, candidate)
        if best is None:
            continue
        _, variant, candidate = best
        start = match.start()
        out.append(text[position:start])
        out.append(candidate.text)
        position = start + len(variant)
        repairs.append(Repair(start + shift, position + shift, variant, candidate.text, candidate.codecs))
        shift += len(candidate.text) - len(variant)
    if not out:
        return text
    out.append(text[position:])
    return "".join(out)


# ---------------------------------------------------------------------------------- CJK runs

@functools.cache
def _gbk_pair(lead: int, trail: int) -> str | None:
    """The GBK character of two bytes; None for invalid pairs and the user-defined (private) areas."""
    try:
        char = bytes((lead, trail)).decode("gb18030")
    except UnicodeDecodeError:
        return None
    return None if "\ue000" <= char <= "\uf8ff" else char


@functools.cache
def _gbk_pair_scored(lead: int, trail: int) -> tuple[str, float] | None:
    """``_gbk_pair`` with the character's score."""
    char = _gbk_pair(lead, trail)
    return None if char is None else (char, char_score(char))


class _Pairs(dict[int, "tuple[str, float] | None"]):
    """``_gbk_pair_scored`` by ``lead << 8 | trail`` (filled on first use)."""

    def __missing__(self, key: int) -> tuple[str, float] | None:
        pair = self[key] = _gbk_pair_scored(key >> 8, key & 0xFF)
        return pair


_PAIRS = _Pairs()
_LOST_STRETCH = re.compile("\ufffd+")


def _resync_gbk(data: bytes) -> str:
    """The best-reading segmentation of GBK bytes that may be out of step or have lost bytes.

    Dynamic programming over byte positions: take an ASCII byte, take a two-byte GBK character, or drop
    a byte (``SKIP_PENALTY``); maximise the total character score. Dropped bytes become one U+FFFD per
    stretch.
    """
    size = len(data)
    lost = float("-inf")
    best = [lost] * (size + 1)
    step: list[tuple[int, str]] = [(0, "")] * (size + 1)
    best[0] = 0.0
    pairs, skip, ascii_score, dropped, ascii_steps = _PAIRS, SKIP_PENALTY, ASCII_SCORE, _DROPPED, _ASCII_STEPS
    last = size - 1
    for i, byte in enumerate(data):
        here = best[i]  # never lost: every position is reached from the one before by a drop
        # The moves in order (a later one must do strictly better): drop the byte, then take it as
        # ASCII, or take it and the next as one GBK character.
        score = here - skip
        if score > best[i + 1]:
            best[i + 1] = score
            step[i + 1] = dropped
        if byte < 0x80:
            score = here + ascii_score
            if score > best[i + 1]:
                best[i + 1] = score
                step[i + 1] = ascii_steps[byte]
        elif i < last:
            pair = pairs[byte << 8 | data[i + 1]]
            if pair is not None:
                score = here + pair[1]
                if score > best[i + 2]:
                    best[i + 2] = score
                    step[i + 2] = (2, pair[0])
    chars: list[str] = []
    i = size
    while i > 0:
        width, char = step[i]
        chars.append(char)
        i -= width
    return _LOST_STRETCH.sub("\ufffd", "".join(reversed(chars)))


_DROPPED = (1, "\ufffd")
_ASCII_STEPS = [(1, chr(byte)) for byte in range(0x80)]


def _strict(encodes: tuple[str, ...], decodes: tuple[str, ...]) -> Callable[[str], str | None]:
    """Re-encode and decode strictly; the first codec pair that works wins (the others are fallbacks
    for characters a codec lacks, not alternatives: Big5 variants disagree on a few rows)."""
    def transform(text: str) -> str | None:
        for encode in encodes:
            try:
                data = text.encode(encode)
            except UnicodeEncodeError:
                continue
            for decode in decodes:
                try:
                    return data.decode(decode)
                except UnicodeDecodeError:
                    continue
        return None
    return transform


@functools.cache
def _big5_from_gbk_char(char: str) -> str | None:
    return _strict(("gb18030",), ("big5hkscs", "cp950"))(char)


@functools.cache
def _gbk_from_big5_char(char: str) -> str | None:
    return _strict(("big5hkscs", "cp950", "big5"), ("gb18030",))(char)


class _Gains(dict[str, "float | None"]):
    """What a per-character transform gains in score, character by character: 0.0 for ASCII, None for
    a character it cannot turn into one character. Filled on first use (one entry per character
    seen, at most the few tens of thousands a codec holds)."""

    def __init__(self, per_char: Callable[[str], str | None]) -> None:
        super().__init__()
        self.per_char = per_char

    def __missing__(self, char: str) -> float | None:
        gain: float | None = 0.0
        if char >= "\x80":
            changed = self.per_char(char)
            gain = None if changed is None or len(changed) != 1 else char_score(changed) - char_score(char)
        self[char] = gain
        return gain


def _best_gain_span(run: str, gains: _Gains) -> tuple[int, int] | None:
    """For a transform that works character by character (GBK <-> Big5: two bytes each way), the
    stretch where transforming gains most in total (max-sum subarray of per-character *gains*)."""
    best, best_span = 0.0, None
    total, start = 0.0, 0
    for i, gain in enumerate(map(gains.__getitem__, run)):
        if gain is None:
            total = 0.0
            start = i + 1
            continue
        if total <= 0:
            total, start = 0.0, i
        total += gain
        if total > best:
            best, best_span = total, (start, i + 1)
    return best_span


def _utf8_from_gbk(text: str) -> str | None:
    try:
        data = text.encode("gb18030")
    except UnicodeEncodeError:
        return None
    decoded = data.decode("utf-8", errors="replace")
    return decoded if decoded.count("\ufffd") <= 2 else None


def _utf8_strict(text: str) -> str | None:
    try:
        return text.encode("gb18030").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return None


def _resync(encode: str) -> Callable[[str], str | None]:
    def transform(text: str) -> str | None:
        try:
            return _resync_gbk(text.encode(encode))
        except UnicodeEncodeError:
            return None
    return transform


#: Transforms that work character by character, so the best span can be computed exactly: their gains.
_PER_CHAR: dict[str, _Gains] = {"big5>gbk": _Gains(_big5_from_gbk_char),
                                 "gbk>big5": _Gains(_gbk_from_big5_char)}
#: (true codec > codec that misread it, transform of the misread text, whether it re-segments bytes)
_TRANSFORMS: tuple[tuple[str, Callable[[str], str | None], bool], ...] = (
    ("big5>gbk", _strict(("gb18030",), ("big5hkscs", "cp950")), False),
    ("gbk>big5", _strict(("big5hkscs", "cp950", "big5"), ("gb18030",)), False),
    ("utf-8>gbk", _utf8_from_gbk, False),
    ("gbk>gbk (out of step)", _resync("gb18030"), True),
    ("gbk>big5 (out of step)", _resync("big5hkscs"), True),
)


def _damage_span(scores: list[float | None]) -> tuple[int, int] | None:
    """The heaviest stretch of implausible characters (max-sum subarray of ``DAMAGE_PIVOT - score``)."""
    best, best_span = 0.0, None
    total, start = 0.0, 0
    for i, score in enumerate(scores):
        weight = 0.0 if score is None else DAMAGE_PIVOT - score
        if total <= 0:
            total, start = 0.0, i
        total += weight
        if total > best:
            best, best_span = total, (start, i + 1)
    return best_span if best >= DAMAGE_WEIGHT else None


_Spans = set[tuple[int, int]]
#: How far the strict spans' ends move from the suspect stretch's.
_SHIFTS = (-2, -1, 0, 1, 2)


def _spans(scores: list[float | None], span: tuple[int, int]) -> tuple[_Spans, _Spans]:
    """Spans to try with strict transforms (the suspect stretch give or take two characters at each end,
    and the whole run) and with re-segmentation (widened only over characters that are not clearly
    good, so a good neighbour is never eaten)."""
    size = len(scores)
    starts = [max(0, span[0] - left) for left in _SHIFTS]
    ends = [min(size, span[1] + right) for right in _SHIFTS]
    strict = {(0, size)}
    strict.update([(start, end) for start in starts for end in ends if end - start >= 2])

    def weak(i: int) -> bool:
        score = scores[i]
        return score is None or score < GOOD

    lefts, rights = [span[0]], [span[1]]
    while len(lefts) < 3 and lefts[-1] > 0 and weak(lefts[-1] - 1):
        lefts.append(lefts[-1] - 1)
    while len(rights) < 3 and rights[-1] < size and weak(rights[-1]):
        rights.append(rights[-1] + 1)
    # Out of step, a stream stays out of step to the end of the run: let the re-segmentation have it
    # (it realigns, at a cost, where the text reads well again).
    rights.append(size)
    return strict, {(a, b) for a in lefts for b in rights}


#: A wider span whose candidate reads nearly as well (mean within this) is preferred to a narrower one:
#: damage rarely stops one character short of a run's end, and a mojibake character can be common...
WIDER_TOLERANCE = 1.0
#: ... provided the characters it adds, transformed alone, stay plausible and lose at most this much.
WIDER_SLACK = 2.5


@dataclass(frozen=True)
class _Found:
    gain: float
    start: int
    end: int
    candidate: _Candidate
    transform: Callable[[str], str | None]


def _extension_ok(piece: str, transform: Callable[[str], str | None], at_edge: bool) -> bool:
    """Whether characters added by widening a span were plausibly damaged too.

    Transformed alone they must give plausible characters; unless the widening reaches the edge of the
    run (damage usually runs to an ASCII break), they must also read nearly as well as before.
    """
    if not piece or all(c < "\x80" for c in piece):
        return True
    changed = transform(piece)
    if changed is None:
        return False
    after, before = _mean(changed), _mean(piece)
    if after[1] == 0 or min(char_score(c) for c in changed if c > "\x7f") < BAD:
        return False
    return (at_edge and len(piece) <= 2) or after[0] >= before[0] - WIDER_SLACK


def _choose(run: str, found: list[_Found]) -> tuple[int, int, _Candidate] | None:
    """The best-gaining candidate, or the widest candidate covering it that reads nearly as well and
    whose extra characters were damaged too."""
    if not found:
        return None
    best = max(found, key=lambda f: f.gain)
    wider = [f for f in found
             if f.start <= best.start and f.end >= best.end and f.candidate.mean >= best.candidate.mean
             - WIDER_TOLERANCE and f.candidate.codecs == best.candidate.codecs
             and _extension_ok(run[f.start:best.start], f.transform, f.start == 0)
             and _extension_ok(run[best.end:f.end], f.transform, f.end == len(run))]
    chosen = max(wider, key=lambda f: (f.end - f.start, f.gain))
    return chosen.start, chosen.end, chosen.candidate


class _Counts:
    """Prefix counts and sums over a run's scores, so whether a span can be accepted at all
    (``_acceptable``'s checks on the text it replaces: enough non-ASCII characters, enough scoring
    below EVIDENCE) costs two subtractions, and so does its ``_mean``. (The scores are whole numbers,
    as ``_scoring`` requires: the sums are exact, a difference of two is the span's own sum.)"""

    def __init__(self, run: str, scores: list[float | None]) -> None:
        self.text = list(accumulate([score is not None for score in scores], initial=0))
        self.evidence = list(accumulate([score is not None and score < EVIDENCE for score in scores],
                                        initial=0))
        # What _mean counts: the characters neither ASCII nor U+FFFD.
        counted = [0.0 if score is None or char == "\ufffd" else score
                   for char, score in zip(run, scores, strict=True)]
        self.total = list(accumulate(counted, initial=0.0))
        self.scored = list(accumulate([score is not None and char != "\ufffd"
                                       for char, score in zip(run, scores, strict=True)], initial=0))

    def eligible(self, start: int, end: int, bars: _Bars) -> bool:
        return (self.text[end] - self.text[start] >= bars.length
                and self.evidence[end] - self.evidence[start] >= bars.evidence)

    def mean(self, start: int, end: int) -> tuple[float, int]:
        """``_mean`` of the span."""
        count = self.scored[end] - self.scored[start]
        return ((self.total[end] - self.total[start]) / count, count) if count else (0.0, 0)


def _try(run: str, spans: set[tuple[int, int]], codecs: str, transform: Callable[[str], str | None],
         bars: _Bars, found: list[_Found], counts: _Counts | None = None) -> None:
    """Transform each span of *run* and keep the candidates ``_acceptable`` accepts. With *counts*, a
    span that cannot be accepted is not transformed."""
    for start, end in spans:
        if counts is not None and not counts.eligible(start, end, bars):
            continue
        original = run[start:end]
        text = transform(original)
        if text is None or text == original:
            continue
        verdict = (_acceptable(text, original, bars) if counts is None
                   else _better(text, *counts.mean(start, end), bars))  # counts: eligible, as checked
        if verdict:
            found.append(_Found(verdict[1], start, end, _Candidate(text, codecs, verdict[0]), transform))


#: The commonest Japanese particles and endings: a large share of a run's hiragana in real Japanese,
#: about an eighth in GBK-read Big5, where kana come from whole rows of codes.
_PARTICLES = frozenset("のにはをたがでてとしもなかるいう")
_HIRAGANA = re.compile("[\u3041-\u309f]")


def _looks_japanese(run: str) -> bool:
    """Real Japanese (quoted in Chinese pages) is no mojibake: enough hiragana, mostly particles."""
    kana = _HIRAGANA.findall(run)
    return len(kana) >= 6 and sum(1 for k in kana if k in _PARTICLES) >= 0.3 * len(kana)


class _RunScores(dict[str, "float | None"]):
    """``char_score`` of each non-ASCII character, None for ASCII (filled on first use)."""

    def __missing__(self, char: str) -> float | None:
        score = self[char] = None if char < "\x80" else char_score(char)
        return score


_RUN_SCORES = _RunScores()


@functools.lru_cache(maxsize=256)
def _repair_cjk_run(run: str) -> tuple[int, int, _Candidate] | None:
    """The repair of one CJK run (first pass), if any. Cached: a title repeats its text's first line,
    and a footer or a name repeats over a site's pages."""
    scores: list[float | None] = list(map(_RUN_SCORES.__getitem__, run))
    # Every candidate of this first pass must replace two characters scoring below EVIDENCE
    # (``_STRICT_BARS``): a run without two such characters has none to find.
    evidence = sum(1 for s in scores if s is not None and s < EVIDENCE)
    if evidence < _STRICT_BARS.evidence or _looks_japanese(run):
        return None
    found: list[_Found] = []
    span = _damage_span(scores)
    if span is None:
        # UTF-8 read as GBK often looks like fairly common characters; that its GBK bytes are valid
        # UTF-8 is evidence enough to try the whole run.
        _try(run, {(0, len(run))}, "utf-8>gbk", _utf8_strict, _STRICT_BARS, found)
        return _choose(run, found)
    strict_spans, resync_spans = _spans(scores, span)
    counts = _Counts(run, scores)
    for codecs, transform, resyncs in _TRANSFORMS:
        spans = resync_spans if resyncs else strict_spans
        if codecs in _PER_CHAR:
            exact = _best_gain_span(run, _PER_CHAR[codecs])
            if exact is None:
                continue
            spans = {exact, (0, len(run)), (0, exact[1]), (exact[0], len(run))}
        _try(run, spans, codecs, transform, _STRICT_BARS, found, counts)
    return _choose(run, found)


def _repair_cjk_run_in_context(run: str, only: set[str],
                               dominant: bool) -> tuple[int, int, _Candidate] | None:
    """Second pass: a run in a text with repaired damage, tried whole for the same codec pairs, with
    lower bars (and, where the damage dominates the text, no margin)."""
    if (not dominant and not suspect_pattern(GOOD).search(run)) or _looks_japanese(run):
        return None
    bars = _DOMINANT_BARS if dominant else _CONTEXT_BARS
    spans = {(0, len(run))} | ({(0, len(run) - 1)} if run[-1] < "\x80" else set())
    found: list[_Found] = []
    for codecs, transform, resyncs in _TRANSFORMS:
        if not resyncs and codecs in only:
            _try(run, spans, codecs, transform, bars, found)
    return _choose(run, found)


def _repair_cjk(text: str, repairs: list[Repair], only: set[str] | None = None,
                dominant: bool = False) -> str:
    """One pass over the CJK runs; with *only*, a second pass trying just those codec pairs."""
    out: list[str] = []
    position = 0
    shift = 0  # how much earlier repairs changed the length, to report spans in the text as it stood
    runs = _CJK_RUN.finditer(text) if only is not None else _runs_with_suspects(text)
    for match in runs:
        run = match.group(0)
        found = _repair_cjk_run(run) if only is None else _repair_cjk_run_in_context(run, only, dominant)
        if found is None:
            continue
        start, end, candidate = found
        start += match.start()
        end += match.start()
        out.append(text[position:start])
        out.append(candidate.text)
        repairs.append(Repair(start + shift, end + shift, text[start:end], candidate.text, candidate.codecs))
        shift += len(candidate.text) - (end - start)
        position = end
    if not out:
        return text
    out.append(text[position:])
    return "".join(out)


#: Read backwards (on the reversed text) from a character of a CJK run, what belongs to the same run:
#: non-ASCII characters, and single joining ASCII characters with a non-ASCII one before them.
_RUN_BACKWARDS = re.compile(r"(?:[^\x00-\x7f\s]|[\x21-\x7e](?=[^\x00-\x7f\s]))*")


def _runs_with_suspects(text: str) -> Iterator[re.Match[str]]:
    """The CJK runs (``_CJK_RUN``, as found from the start of the text) that hold two characters that
    may score below EVIDENCE (``suspect_pattern(EVIDENCE)``), the only runs ``_repair_cjk_run`` can
    repair.

    One regex pass (in C) finds those characters; the run holding one is found by reading back to
    where the run starts (a non-ASCII character not continuing another, or another and one joining
    ASCII character), so a long text of clean runs is never walked run by run."""
    suspects = [match.start() for match in suspect_pattern(EVIDENCE).finditer(text)]
    if len(suspects) < 2:
        return
    backwards = text[::-1]
    end = 0  # where the last run looked at ends
    i = 0
    while i < len(suspects) - 1:
        at = suspects[i]
        if at < end or text[at].isspace():  # in a run already looked at, or in no run
            i += 1
            continue
        start = len(text) - _RUN_BACKWARDS.match(backwards, len(text) - at).end()  # type: ignore[union-attr]
        run = _CJK_RUN.match(text, start)
        assert run is not None  # text[start] is a non-ASCII character (text[at], or one before it)
        end = run.end()
        following = bisect.bisect_left(suspects, end, i)
        if following - i >= 2:  # the suspects from *at* to the run's end are all in it (no spaces)
            yield run
        i = following


#: What a first pass needs two of: a Latin run two characters scoring at most 1.0 (``_repair_latin``),
#: a CJK run two below EVIDENCE (``_repair_cjk_run``).
_SCREEN = math.nextafter(max(1.0, EVIDENCE), math.inf)


def _has_suspects(text: str) -> bool:
    """Cheap screen: at least two characters scoring at most 1.0 (rare, impossible or Latin-1), without
    which neither first pass can repair anything (and the second passes follow a first-pass repair)."""
    found = 0
    for match in suspect_pattern(_SCREEN).finditer(text):
        if char_score(match.group()) < _SCREEN:
            found += 1
            if found == 2:
                return True
    return False


def repair_mojibake(text: str) -> tuple[str, list[Repair]]:
    """Return the repaired text and the repairs made. Clean text comes back unchanged.

    Spans of the repairs refer to the text as it stood before each repair, in order: apply them one
    after the other to go from the input to the output.
    """
    if not _has_suspects(text):
        return text, []
    repairs: list[Repair] = []
    repaired = _repair_latin(text, repairs)
    if repairs:
        repaired = _repair_latin(repaired, repairs, {r.codecs.split(">")[0] for r in repairs})
    found = len(repairs)
    repaired = _repair_cjk(repaired, repairs)
    seen = {r.codecs for r in repairs[found:]}
    # The second pass tries only codec pairs that do not re-segment bytes: none to try, no pass.
    if any(not resyncs and codecs in seen for codecs, _, resyncs in _TRANSFORMS):
        covered = sum(len(r.after) for r in repairs[found:])
        dominant = covered >= DOMINANT_SHARE * (len(repaired) - len(repaired.encode("ascii", "ignore")))
        repaired = _repair_cjk(repaired, repairs, seen, dominant)
    if repairs:
        logger.debug("repaired %d mojibake runs", len(repairs))
    return repaired, repairs
