"""How plausible a piece of text is as Chinese: the one judgement behind encoding detection and repair.

Each character gets a commonness score (``char_scores.txt``, built by ``_build_char_scores``: roughly
``log2`` of how many common words use it, plus 2 for GB2312 level-1 characters; Traditional characters
score as their Simplified forms). Common CJK punctuation scores like a common character; characters
that real Chinese text almost never holds but wrong-codec text is full of (C1 controls and Latin-1
signs, kana, bopomofo, box drawing, Cyrillic, private-use, U+FFFD) score negative; Latin letters
(names, pinyin) score low but not negative. ASCII is neutral
and not counted.

Clean Chinese sentences average about 8; text decoded with the wrong CJK codec averages 1-3.
The table is loaded once, on first use.
"""
from __future__ import annotations

import functools
import re
from collections import Counter
from importlib import resources

#: Punctuation and signs that are everyday in Chinese text.
_COMMON_PUNCT = "，。、；：？！“”‘’（）《》〈〉【】「」『』—…·　～％＋－＝．／"  # noqa: RUF001
#: Signs seen in clean text now and then (units, list markers, maths).
_OCCASIONAL = "°±×÷§№℃‰′″→←↑↓■□●○◆◇★☆▲△①②③④⑤⑥⑦⑧⑨⑩ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩ〇※〔〕［］｛｝＜＞｜＿"  # noqa: RUF001
PUNCT_SCORE = 6.0
OCCASIONAL_SCORE = 2.0
FULLWIDTH_SCORE = 2.0
RARE_HAN_SCORE = 0.0
SUSPICIOUS_SCORE = -3.0
OTHER_SCORE = 1.0

#: Blocks that wrong-codec text produces and clean Chinese text does not hold.
_SUSPICIOUS_RANGES = (
    (0x0080, 0x00BF),  # C1 controls and Latin-1 signs (Latin letters, found in names and pinyin, are not)
    (0x0370, 0x052F),  # Greek, Cyrillic
    (0x2500, 0x257F),  # box drawing
    (0x2E80, 0x2FDF),  # CJK and Kangxi radicals
    (0x3040, 0x30FF),  # kana
    (0x3100, 0x312F),  # bopomofo
    (0x31A0, 0x31BF),  # bopomofo extended
    (0xAC00, 0xD7AF),  # Hangul
    (0xD800, 0xDFFF),  # surrogates (undecodable bytes)
    (0xE000, 0xF8FF),  # private use (GBK/Big5 user-defined areas)
    (0xFE30, 0xFE4F),  # vertical CJK compatibility forms (Big5 A1xx read as such)
    (0xFF61, 0xFF9F),  # half-width katakana
    (0xFFFD, 0xFFFD),  # replacement character
)


def _is_han(code: int) -> bool:
    return (0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0xF900 <= code <= 0xFAFF
            or 0x20000 <= code <= 0x3134F)


def _fallback_score(char: str) -> float:
    code = ord(char)
    if _is_han(code):
        return RARE_HAN_SCORE
    for low, high in _SUSPICIOUS_RANGES:
        if low <= code <= high:
            return SUSPICIOUS_SCORE
    if 0xFF01 <= code <= 0xFF5E:
        return FULLWIDTH_SCORE
    return OTHER_SCORE


@functools.cache
def char_scores() -> dict[str, float]:
    """The score of every character that has one (loaded and cached on first call)."""
    table: dict[str, float] = {}
    text = resources.files(__package__).joinpath("char_scores.txt").read_text("utf-8")
    for line in text.splitlines():
        score, _, chars = line.partition("\t")
        value = float(score)
        for char in chars:
            table[char] = value
    for char in _OCCASIONAL:
        table[char] = OCCASIONAL_SCORE
    for char in _COMMON_PUNCT:
        table[char] = PUNCT_SCORE
    return table


#: Blocks outside the table whose characters' fallback scores the screens know in advance: Latin
#: letters with diacritics (pinyin tone marks), full-width forms.
_FALLBACK_BLOCKS = ((0x00C0, 0x024F), (0x1E00, 0x1EFF), (0xFF01, 0xFF5E))


@functools.cache
def suspect_pattern(threshold: float) -> re.Pattern[str]:
    """A regex matching any character that may score below *threshold*: not ASCII, not in the table
    with a score at or above it, nor in ``_FALLBACK_BLOCKS`` with a fallback score at or above it.
    A fast screen; score what it finds to be sure."""
    table = char_scores()
    good = {c for c, score in table.items() if score >= threshold and c > "\x7f"}
    for low, high in _FALLBACK_BLOCKS:
        good.update(c for c in map(chr, range(low, high + 1))
                    if c not in table and _fallback_score(c) >= threshold)
    return re.compile("[^\x00-\x7f" + re.escape("".join(sorted(good))) + "]")


def char_score(char: str) -> float:
    """Commonness of one non-ASCII character in Chinese text (see the module docstring)."""
    table = char_scores()
    score = table.get(char)
    if score is None:
        score = table[char] = _fallback_score(char)
    return score


def scores(text: str) -> list[float]:
    """Scores of the non-ASCII characters of *text*, in order."""
    table = char_scores()
    out: list[float] = []
    for char in text:
        if char > "\x7f":
            score = table.get(char)
            if score is None:
                score = table[char] = _fallback_score(char)
            out.append(score)
    return out


#: ``plausibility`` reads its scores from a table of bytes indexed by code point (the Basic
#: Multilingual Plane), each score plus this offset (the scores are whole numbers from -3 up), ASCII 0.
_BYTE_OFFSET = 4
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


@functools.cache
def _score_bytes() -> bytes:
    """Every BMP character's score as one byte (``_BYTE_OFFSET``), ASCII 0: 64 KB, where a dictionary
    of scores spreads over megabytes of hash entries and key strings. A judgement runs right after an
    extraction in a crawl, with the caches full of the extraction's data: each lookup in the dictionary
    was then a few cache misses (200 characters: 50 -> 16 µs). ``_build_char_scores`` writes whole
    scores; a table holding another is refused."""
    scores = {char: score for char, score in char_scores().items() if "\x7f" < char <= "\uffff"}
    for value in {*scores.values(), RARE_HAN_SCORE, SUSPICIOUS_SCORE, FULLWIDTH_SCORE, OTHER_SCORE}:
        if value != int(value) or not 0 < value + _BYTE_OFFSET < 256:
            raise ValueError(f"char_scores.txt: score {value} is not a whole number from {1 - _BYTE_OFFSET} "
                             f"to {255 - _BYTE_OFFSET}; rebuild it with _build_char_scores")
    table = bytearray([int(OTHER_SCORE) + _BYTE_OFFSET]) * 0x10000
    table[:0x80] = bytes(0x80)

    def fill(low: int, high: int, score: float) -> None:
        table[low:high + 1] = bytes([int(score) + _BYTE_OFFSET]) * (high + 1 - low)

    # As ``_fallback_score`` (the ranges do not overlap), then the table.
    fill(0xFF01, 0xFF5E, FULLWIDTH_SCORE)
    for low, high in _SUSPICIOUS_RANGES:
        fill(low, high, SUSPICIOUS_SCORE)
    for low, high in ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF)):
        fill(low, high, RARE_HAN_SCORE)
    for char, score in scores.items():
        table[ord(char)] = int(score) + _BYTE_OFFSET
    return bytes(table)


def plausibility(text: str) -> tuple[float, int]:
    """Mean score of the non-ASCII characters of *text* and how many there are (0.0, 0 when none).

    In C: ``str.translate`` turns each character into its score (``_score_bytes``), summed as bytes.
    Characters beyond the BMP (CJK extension B and up, rare) are scored one by one.
    """
    count = len(text) - len(text.encode("ascii", "ignore"))
    if not count:
        return 0.0, 0
    mapped = text.translate(_score_bytes())  # a character beyond the table (IndexError) stays as it is
    try:
        total: float = sum(mapped.encode("latin-1")) - _BYTE_OFFSET * count
    except UnicodeEncodeError:
        astral = _ASTRAL.findall(mapped)
        total = (sum(mapped.encode("latin-1", "ignore")) - _BYTE_OFFSET * (count - len(astral))
                 + sum(map(char_score, astral)))
    return total / count, count


def count_below(text: str, threshold: float) -> int:
    """How many non-ASCII characters of *text* score below *threshold*."""
    table = char_scores()
    found = 0
    for char, times in Counter(text).items():
        if char > "\x7f":
            score = table.get(char)
            if score is None:
                score = table[char] = _fallback_score(char)
            if score < threshold:
                found += times
    return found
