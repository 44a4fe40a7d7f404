"""Removal of pinyin glosses left by machine Traditional mirrors: ``鎮(zhèn)`` -> ``鎮``.

A gloss is a bracketed group of pinyin syllables right after CJK characters, one syllable per
character, ASCII or full-width brackets, tone marks, tone digits (``zhen4``, ``ü`` as ``v``) or no
tone at all, possibly several groups in a row (``鎮(zhèn)(zhen4)``). It is removed only when every
syllable is a real reading of the character it follows, according to pypinyin (all heteronym
readings, of the character and of its Simplified form). So ``(社區)``, ``(2021)``, ``(GDP)``,
``(pdf)``, ``(記者 陳志奎)`` and an English word that happens to follow a character stay.

Some mirrors also lost the character and the opening bracket together, leaving ``?dāng)``: a ``?``
followed by a valid pinyin syllable and ``)``. The syllable and bracket go; the ``?`` stays, marking
the lost character.

pypinyin's data is loaded on the first text that holds a candidate gloss, then cached.
"""
from __future__ import annotations

import functools
import logging
import operator
import re
import unicodedata
from itertools import compress

logger = logging.getLogger(__name__)

_LETTERS = "a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ"
_SYLLABLE = rf"[{_LETTERS}]+[0-5]?"
_BRACKETED = rf"[(（]\s*({_SYLLABLE}(?:\s+{_SYLLABLE})*)\s*[)）]"
#: A gloss group with the space before it (what the plain scan finds; see ``_GROUP_SPLIT``).
_GROUP = re.compile(rf"\s?{_BRACKETED}")
_ORPHAN = re.compile(rf"(?<=\?)({_SYLLABLE})\)")
#: ``_ORPHAN`` with its ``?`` (a pattern starting with a literal is found by a fast scan; a lookbehind is
#: tried at every character): the same matches, as a match never ends with ``?``.
_ORPHAN_MARKED = re.compile(rf"\?({_SYLLABLE})\)")
#: What every gloss (and every orphan) starts with, one pattern per first character: a pattern starting
#: with a literal is found by a fast scan, an alternation or a class is tried at every character.
_CANDIDATES = (("(", re.compile(rf"\(\s*{_SYLLABLE}")), ("（", re.compile(rf"（\s*{_SYLLABLE}")),
               ("?", re.compile(rf"\?{_SYLLABLE}\)")))
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")


@functools.cache
def _converter() -> object:
    import opencc  # loaded on first use

    return opencc.OpenCC("t2s")


def _normalise(syllable: str) -> str:
    syllable = unicodedata.normalize("NFC", syllable.lower()).replace("u:", "ü")
    if syllable[-1:].isdigit():
        syllable = syllable.replace("v", "ü")
    return syllable


@functools.cache
def readings(char: str) -> frozenset[str]:
    """Every way a gloss may spell a reading of *char*: tone marks, tone digits, toneless."""
    from pypinyin import Style, pinyin  # loaded on first use

    forms: set[str] = set()
    chars = {char, str(_converter().convert(char))}  # type: ignore[attr-defined]
    for each in chars:
        for style in (Style.TONE, Style.TONE3, Style.NORMAL):
            groups = pinyin(each, style=style, heteronym=True, neutral_tone_with_five=True, errors="ignore")
            for group in groups:
                forms.update(_normalise(r) for r in group)
    forms.update(f[:-1] for f in list(forms) if f.endswith("5"))  # neutral tone without its digit
    return frozenset(forms)


@functools.cache
def _all_syllables() -> frozenset[str]:
    from pypinyin.pinyin_dict import pinyin_dict  # loaded on first use

    found: set[str] = set()
    for value in pinyin_dict.values():
        found.update(_normalise(s) for s in value.split(","))
    return frozenset(found)


def _is_gloss(preceding: str, group: str) -> bool:
    """Whether the syllables of *group* are readings of the characters *preceding* it, one each
    (*preceding*: the last characters before the group, as many as it has syllables)."""
    syllables = group.split()
    return (len(preceding) == len(syllables) and all(_HAN.fullmatch(c) for c in preceding)
            and all(_normalise(s) in readings(c) for c, s in zip(preceding, syllables, strict=True)))


#: ``_GROUP`` without its leading space, as split patterns: the whole group and its syllables are
#: captured; the space is handled with the piece before. A pattern starting with one literal bracket is
#: found by a fast scan, where a class of two is tested at every character (1 against 14 us on 2,500
#: characters): a text holding one kind of opening bracket is split on that one. The quantifiers are
#: possessive: what each can be followed by never matches what it repeats, so no match changes.
_POSSESSIVE = rf"\s*+([{_LETTERS}]++[0-5]?(?:\s++[{_LETTERS}]++[0-5]?)*+)\s*+[)）]"
_GROUP_SPLIT = re.compile(rf"([(（]{_POSSESSIVE})")
_GROUP_SPLIT_ASCII = re.compile(rf"(\({_POSSESSIVE})")
_GROUP_SPLIT_WIDE = re.compile(rf"(（{_POSSESSIVE})")
#: How many kept characters before a group may be checked against it (a longer group is no gloss).
_MOST_SYLLABLES = 8
#: Verdicts of ``_is_gloss`` by (preceding characters, group), kept up to this many ...
_VERDICTS: dict[tuple[str, str], bool] = {}
#: ... and those of one syllable right after a character other than a space, the common case, looked up
#: all at once (a key there always means that character; one of ``_VERDICTS`` may end with a space).
_SINGLE: dict[tuple[str, str], bool] = {}
_MOST_VERDICTS = 200_000
_LAST = operator.itemgetter(slice(-1, None))


def _verdict(key: tuple[str, str], verdicts: dict[tuple[str, str], bool] = _VERDICTS) -> bool:
    verdict = verdicts.get(key)
    if verdict is None:
        if len(verdicts) >= _MOST_VERDICTS:
            verdicts.clear()
        verdict = verdicts[key] = _is_gloss(*key)
    return verdict


def strip_pinyin_glosses(text: str) -> tuple[str, int]:
    """Return the text without glosses and how many gloss groups were removed.

    Each group is checked against the last characters kept before it (after removed groups:
    ``鎮(zhèn)(zhen4)`` loses both); a space right before a group goes with it.

    One split (in C) gives the pieces of text between groups. A group of one syllable right after a
    character (nearly all of them) is judged by that character alone, whatever came before: those
    verdicts are looked up all at once (in C). The others (a group right after another, after a space,
    of several syllables) are then checked in order against the text kept before them.
    """
    if not any(first in text and pattern.search(text) for first, pattern in _CANDIDATES):
        return text, 0
    ascii_bracket, wide_bracket = "(" in text, "（" in text
    split = (_GROUP_SPLIT if ascii_bracket and wide_bracket else _GROUP_SPLIT_ASCII if ascii_bracket
             else _GROUP_SPLIT_WIDE)
    parts = split.split(text)  # piece, group, syllables, piece, group, syllables, ..., piece
    groups = parts[2::3]
    del parts[2::3]  # piece, group, piece, group, ..., piece: group k at 2k + 1, the piece before it at 2k
    lasts = list(map(_LAST, parts[:-1:2]))
    verdicts: list[bool | None] = list(map(_SINGLE.get, zip(lasts, groups, strict=True)))
    others: list[int] = []
    for k in [k for k, verdict in enumerate(verdicts) if verdict is None]:
        last = lasts[k]
        if last and not last.isspace() and groups[k].isalnum():
            verdicts[k] = _verdict((last, groups[k]), _SINGLE)
        else:
            others.append(k)
    removed = 0
    for k in compress(range(len(verdicts)), verdicts):
        parts[2 * k + 1] = ""
        removed += 1
    for k in others:  # in order: what is kept before each depends on the verdicts before it
        group = groups[k]
        piece = parts[2 * k]
        spaced = piece[-1:].isspace()
        before = piece[:-1] if spaced else piece
        count = len(group.split())
        if count > _MOST_SYLLABLES:
            continue
        if len(before) < count:  # earlier groups (kept or removed) are among the characters to check
            first = max(0, 2 * k - 2 * _MOST_SYLLABLES)
            before = "".join(parts[first:2 * k]) + before
            if len(before) < count and first:
                before = "".join(parts[:first]) + before
        if _verdict((before[-count:], group)):
            parts[2 * k + 1] = ""
            if spaced:
                parts[2 * k] = piece[:-1]
            removed += 1
    kept = "".join(parts)

    def orphan(match: re.Match[str]) -> str:
        nonlocal removed
        if _normalise(match.group(1)) in _all_syllables():
            removed += 1
            return "?"
        return match.group(0)

    result = _ORPHAN_MARKED.sub(orphan, kept) if "?" in kept else kept
    if removed:
        logger.debug("removed %d pinyin glosses", removed)
    return result, removed
