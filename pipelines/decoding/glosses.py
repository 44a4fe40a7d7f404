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
import re
import unicodedata

logger = logging.getLogger(__name__)

_LETTERS = "a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ"
_SYLLABLE = rf"[{_LETTERS}]+[0-5]?"
_BRACKETED = rf"[(（]\s*({_SYLLABLE}(?:\s+{_SYLLABLE})*)\s*[)）]"
#: A gloss group with the space before it (what the plain scan finds; see ``_GROUP_SPLIT``).
_GROUP = re.compile(rf"\s?{_BRACKETED}")
_ORPHAN = re.compile(rf"(?<=\?)({_SYLLABLE})\)")
_CANDIDATE = re.compile(rf"[(（]\s*{_SYLLABLE}|\?{_SYLLABLE}\)")
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


#: ``_GROUP`` without its leading space (a pattern starting with a bracket is found faster), as a split
#: pattern: the whole group and its syllables are captured. The space is handled with the piece before.
_GROUP_SPLIT = re.compile(rf"({_BRACKETED})")
#: How many kept characters before a group may be checked against it (a longer group is no gloss).
_MOST_SYLLABLES = 8
#: Verdicts of ``_is_gloss`` by (preceding characters, group), kept up to this many.
_VERDICTS: dict[tuple[str, str], bool] = {}
_MOST_VERDICTS = 200_000


def _verdict(key: tuple[str, str]) -> bool:
    verdict = _VERDICTS.get(key)
    if verdict is None:
        if len(_VERDICTS) >= _MOST_VERDICTS:
            _VERDICTS.clear()
        verdict = _VERDICTS[key] = _is_gloss(*key)
    return verdict


def strip_pinyin_glosses(text: str) -> tuple[str, int]:
    """Return the text without glosses and how many gloss groups were removed.

    One split (in C) gives the pieces of text between groups; each group is checked against the last
    characters kept before it (after removed groups: ``鎮(zhèn)(zhen4)`` loses both). A space right
    before a group goes with it.
    """
    if not _CANDIDATE.search(text):
        return text, 0
    parts = _GROUP_SPLIT.split(text)  # piece, group, syllables, piece, group, syllables, ..., piece
    groups = parts[2::3]
    del parts[2::3]  # piece, group, piece, group, ..., piece: group k at 2k + 1
    removed = 0
    verdicts = _VERDICTS
    at = -1
    for group in groups:
        at += 2
        piece = parts[at - 1]
        spaced = piece[-1:].isspace()
        before = piece[:-1] if spaced else piece
        if before and group.isalnum():  # one syllable after some text: the common case
            key = (before[-1], group)
            verdict = verdicts.get(key)
            if verdict is None:
                verdict = _verdict(key)
        else:
            count = len(group.split())
            if count > _MOST_SYLLABLES:
                continue
            if len(before) < count:  # earlier groups (kept or removed) are among the characters to check
                before = "".join(parts[max(0, at - 1 - 2 * _MOST_SYLLABLES):at - 1]) + before
                if len(before) < count:
                    before = "".join(parts[:at - 1]) + before
            verdict = _verdict((before[-count:], group))
        if verdict:
            parts[at] = ""
            if spaced:
                parts[at - 1] = piece[:-1]
            removed += 1
    kept = "".join(parts)

    def orphan(match: re.Match[str]) -> str:
        nonlocal removed
        if _normalise(match.group(1)) in _all_syllables():
            removed += 1
            return ""
        return match.group(0)

    result = _ORPHAN.sub(orphan, kept)
    if removed:
        logger.debug("removed %d pinyin glosses", removed)
    return result, removed
