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
_GROUP = re.compile(rf"\s?[(（]\s*({_SYLLABLE}(?:\s+{_SYLLABLE})*)\s*[)）]")
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


@functools.lru_cache(maxsize=4096)
def _is_gloss(preceding: str, group: str) -> bool:
    """Whether the syllables of *group* are readings of the characters *preceding* it, one each
    (*preceding*: the last characters before the group, as many as it has syllables)."""
    syllables = group.split()
    return (len(preceding) == len(syllables) and all(_HAN.fullmatch(c) for c in preceding)
            and all(_normalise(s) in readings(c) for c, s in zip(preceding, syllables, strict=True)))


def strip_pinyin_glosses(text: str) -> tuple[str, int]:
    """Return the text without glosses and how many gloss groups were removed."""
    if not _CANDIDATE.search(text):
        return text, 0
    kept: list[str] = []
    tail = ""  # the last few characters kept, to check a group against
    removed = 0
    position = 0
    for match in _GROUP.finditer(text):
        piece = text[position:match.start()]
        kept.append(piece)
        tail = (tail + piece)[-8:]
        position = match.end()
        group = match.group(1)
        if _is_gloss(tail[-len(group.split()):], group):
            removed += 1
        else:
            kept.append(match.group(0))
            tail = (tail + match.group(0))[-8:]
    kept.append(text[position:])

    def orphan(match: re.Match[str]) -> str:
        nonlocal removed
        if _normalise(match.group(1)) in _all_syllables():
            removed += 1
            return ""
        return match.group(0)

    result = _ORPHAN.sub(orphan, "".join(kept))
    if removed:
        logger.debug("removed %d pinyin glosses", removed)
    return result, removed
