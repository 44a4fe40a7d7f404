"""Pinyin-gloss removal, on literal snippets of real mirrored pages and made-up edge cases."""
from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipelines.decoding.glosses import readings, strip_pinyin_glosses
from tests.encoding_corpus import clean_sentences

# Snippets copied from Traditional gateway mirrors of municipal pages (test data).
XIAOLAN = ("7月19日下午,小欖鎮(zhèn)舉行2024年上半年經(jīng)濟形勢分析會。今年上半年,各部門、各村(社區(qū))"
           "圍繞經(jīng)濟穩增長全面發力。鎮(zhèn)黨委副書記、鎮(zhèn)長(zhǎng)賴文盛出席會議。")
XIAOLAN_CLEAN = ("7月19日下午,小欖鎮舉行2024年上半年經濟形勢分析會。今年上半年,各部門、各村(社區)"
                 "圍繞經濟穩增長全面發力。鎮黨委副書記、鎮長賴文盛出席會議。")
ZHENJIANG = ("鎮(zhèn)江市項(xiàng)目攻堅(jiān)暨產(chǎn)業(yè)強(qiáng)市大會(huì)召開(kāi)。"
             "各地相關(guān)負(fù)責(zé)同志和企業(yè)代表在分會(huì)場(chǎng)參加會(huì)議。(記者 陳志奎)")
ZHENJIANG_CLEAN = ("鎮江市項目攻堅暨產業強市大會召開。"
                   "各地相關負責同志和企業代表在分會場參加會議。(記者 陳志奎)")
YIXIU = "各鄉(xiāng)鎮(zhèn)(街道)主要負(fù)責(zé)同志等參加會(huì)議。"
YIXIU_CLEAN = "各鄉鎮(街道)主要負責同志等參加會議。"
# The mirror lost a character together with its opening bracket: only "?" and the gloss tail remain.
ORPHANED = "一串串?dāng)?shù)字,系統(tǒng)回顧了過(guò)去一年"


@pytest.mark.parametrize(("raw", "clean", "count"), [
    (XIAOLAN, XIAOLAN_CLEAN, 7),
    (ZHENJIANG, ZHENJIANG_CLEAN, 15),
    (YIXIU, YIXIU_CLEAN, 5),
    (ORPHANED, "一串串??字,系統回顧了過去一年", 4),
])
def test_seed_snippets_lose_every_gloss_and_keep_every_real_parenthesis(raw: str, clean: str,
                                                                         count: int) -> None:
    assert strip_pinyin_glosses(raw) == (clean, count)


@pytest.mark.parametrize(("raw", "clean"), [
    ("鎮(zhèn)", "鎮"),
    ("經（jīng）濟", "經濟"),
    ("我的(de)家", "我的家"),
    ("鎮(zhen4)", "鎮"),
    ("綠(lv4)地", "綠地"),
    ("鎮(zhèn)(zhen4)", "鎮"),
    ("镇江(zhèn jiāng)市", "镇江市"),
    ("鎮 (zhen)", "鎮"),
    ("長(zhǎng)", "長"),
    ("長(cháng)", "長"),
])
def test_glosses_are_removed(raw: str, clean: str) -> None:
    assert strip_pinyin_glosses(raw)[0] == clean


@pytest.mark.parametrize("text", [
    "各村(社區)", "(2021)", "增長(GDP)", "下載(pdf)", "(記者 陳志奎)", "第一條(a)", "鎮(zhāng)",
    "行(go)", "大會(Conference)", "地址(zhongshan road)", "附件(doc)", "鎮(ZHEN)", "(zhèn)開頭",
    "?(2)", "是否?yes)",
])
def test_legitimate_parentheses_stay(text: str) -> None:
    assert strip_pinyin_glosses(text) == (text, 0)


def test_readings_cover_heteronyms_and_traditional_forms() -> None:
    assert {"zhǎng", "cháng", "zhang3", "chang2", "zhang", "chang"} <= readings("長")
    assert {"de", "de5", "dì"} <= readings("的")


def test_clean_sentences_are_untouched() -> None:
    for sentence in clean_sentences(1000):
        assert strip_pinyin_glosses(sentence) == (sentence, 0)


@given(st.text(alphabet=st.sampled_from("鎮經的長區社(（)）zhènjīngde123 GDP?"), max_size=40))
def test_only_bracketed_syllables_after_characters_are_removed(text: str) -> None:
    result, count = strip_pinyin_glosses(text)
    assert len(result) <= len(text)
    assert (result == text) == (count == 0)
    assert re.sub(r"[^\u4e00-\u9fff]", "", result) == re.sub(r"[^\u4e00-\u9fff]", "", text)


def _plain_strip(text: str) -> tuple[str, int]:
    """The glosses removed by a plain left-to-right scan: each group checked against the last characters
    kept before it (the definition ``strip_pinyin_glosses`` implements faster)."""
    from pipelines.decoding.glosses import _GROUP, _ORPHAN, _all_syllables, _is_gloss, _normalise

    kept, removed, position = "", 0, 0
    for match in _GROUP.finditer(text):
        kept += text[position:match.start()]
        position = match.end()
        count = len(match.group(1).split())
        if count <= 8 and _is_gloss(kept[-8:][-count:], match.group(1)):
            removed += 1
        else:
            kept += match.group(0)
    kept += text[position:]
    orphans = [m for m in _ORPHAN.finditer(kept) if _normalise(m.group(1)) in _all_syllables()]
    for m in reversed(orphans):
        kept = kept[:m.start()] + kept[m.end():]
    return kept, removed + len(orphans)


@given(st.lists(st.sampled_from(["鎮", "經", "的", "中國", "人", "(zhèn)", "(zhen4)", "（zhèn）", "(de)", "(guó)",
                                 " (guó)", "\n(zhōng guó)", "(zhōng  guó)", "(rén)(ren2)", "?dāng)", "?", " ",
                                 "(社區)", "(2021)", "(pdf)", "(a b c d e f g h i)", "a"]), max_size=25))
def test_glosses_removed_are_those_of_a_plain_scan(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert strip_pinyin_glosses(text) == _plain_strip(text)


def test_a_long_group_after_a_chain_of_removed_glosses_reads_the_characters_kept_before_them() -> None:
    # Nine removed groups, one of them after a character: the four syllables of the last group are read
    # against the four characters kept (the window of eight groups before it holds only one of them).
    text = "我們中(zhōng)" + "(zhong1)" * 3 + "中(zhōng)" + "(zhong1)" * 4 + "(wǒ men zhōng zhōng)"
    assert strip_pinyin_glosses(text) == ("我們中中", 10) == _plain_strip(text)


def test_glosses_after_either_kind_of_bracket_in_one_text() -> None:
    text = "鎮(zhèn)江（jiāng） (社區)經（jīng） 人 (rén)?dāng)"
    assert strip_pinyin_glosses(text) == ("鎮江 (社區)經 人?", 5) == _plain_strip(text)
