"""Traditional gateway mirrors: canonical Simplified URLs, and the Simplified form of a text."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipelines.decoding.mirrors import canonical_mirror_url, is_traditional, to_simplified


@pytest.mark.parametrize(("url", "canonical", "variant"), [
    ("http://www.gd.gov.cn/gate/big5/www.zs.gov.cn/zwgk/index.html?p=2",
     "http://www.zs.gov.cn/zwgk/index.html?p=2", "big5-gateway"),
    ("https://www.anqing.gov.cn/gate/big5/www.yixiu.gov.cn/content/detail/612.html",
     "http://www.yixiu.gov.cn/content/detail/612.html", "big5-gateway"),
    ("http://www.zs.gov.cn/gate/big5/WWW.XIAOLAN.GOV.CN", "http://www.xiaolan.gov.cn/", "big5-gateway"),
    ("http://portal.gov.cn/gate/gb/www.zj.gov.cn:8080/a/b.shtml", "http://www.zj.gov.cn:8080/a/b.shtml",
     "gb-gateway"),
    ("https://big5.zs.gov.cn/zwgk/t20221214_1.html?x=1#top", "https://zs.gov.cn/zwgk/t20221214_1.html?x=1",
     "big5-host"),
    ("http://big5.www.gov.cn:8080/zhengce/", "http://www.gov.cn:8080/zhengce/", "big5-host"),
])
def test_mirror_urls_map_to_the_simplified_page(url: str, canonical: str, variant: str) -> None:
    assert canonical_mirror_url(url) == (canonical, variant)


@pytest.mark.parametrize("url", [
    "http://www.zs.gov.cn/zwgk/index.html",
    "http://www.zs.gov.cn/gate/big5/",  # no host after the gateway prefix
    "http://www.zs.gov.cn/gates/big5/www.x.gov.cn/",
    "http://big5.cn/",  # a bare two-label host is not a mirror of anything
    "not a url",
    "http://[::1/broken",
])
def test_other_urls_come_back_unchanged(url: str) -> None:
    assert canonical_mirror_url(url) == (url, None)


def test_traditional_text_gets_a_simplified_form() -> None:
    assert to_simplified("鎮江市項目攻堅暨產業強市大會召開") == "镇江市项目攻坚暨产业强市大会召开"
    assert is_traditional("鎮江市項目攻堅")


@pytest.mark.parametrize("text", ["镇江市项目攻坚暨产业强市大会召开", "乾隆年间的干部", "GDP 2021", ""])
def test_simplified_text_is_returned_unchanged(text: str) -> None:
    assert to_simplified(text) == text


# ------------------------------------------------------- the fast paths agree with plain OpenCC

def _opencc_t2s(text: str) -> str:
    import opencc

    return str(opencc.OpenCC("t2s").convert(text))


def test_the_table_of_changeable_characters_matches_the_installed_opencc() -> None:
    from pipelines.decoding import _build_t2s_chars

    table = (Path(_build_t2s_chars.__file__).with_name("t2s_chars.txt")).read_text("utf-8").strip()
    assert set(table) == _build_t2s_chars.changing_chars(_build_t2s_chars.entries())


def test_every_character_opencc_changes_alone_or_in_a_phrase_is_in_the_table() -> None:
    from pipelines.decoding.mirrors import _changeable

    chars = [chr(c) for c in [*range(0x3400, 0xA000), *range(0xF900, 0xFB00), *range(0x20000, 0x20400)]]
    converted = _opencc_t2s("\n".join(chars)).split("\n")  # one per line: no phrase spans two
    changed = [c for c, s in zip(chars, converted, strict=True) if c != s]
    assert len(changed) > 4000 and all(_changeable(c) == 1 for c in changed)
    for phrase in ("沈思", "反覆", "明瞭", "藉口"):  # characters only phrases change
        assert _opencc_t2s(phrase) != phrase and _changeable(phrase) >= 1


_MIXED = st.text(alphabet=st.sampled_from(
    "镇江市项目攻坚产业强市大会召开沈思反覆明瞭乾隆乾燥於鎮經長區業產會開發展國際的了一是在𠀀𪚥 ,。\n"), max_size=300)


def _reference_is_traditional(text: str) -> bool:
    from pipelines.decoding.mirrors import _SAMPLE, _changed_enough

    sample = text[:_SAMPLE]
    return _changed_enough(sample, _opencc_t2s(sample))


@given(_MIXED)
def test_is_traditional_skips_opencc_only_when_opencc_would_say_no(text: str) -> None:
    assert is_traditional(text) == _reference_is_traditional(text)


@given(_MIXED)
def test_one_conversion_gives_the_judgement_and_the_simplified_form(text: str) -> None:
    from pipelines.decoding.mirrors import simplified_form

    traditional, simplified = simplified_form(text)
    assert traditional == _reference_is_traditional(text)  # texts under 2,000 characters: same sample
    assert simplified == (_opencc_t2s(text) if traditional else text)


@given(st.text(alphabet=st.characters(min_codepoint=0x3300, max_codepoint=0xFB10) | st.characters(), max_size=60))
def test_the_cjk_count_reads_the_ranges_the_share_is_of(text: str) -> None:
    import re

    from pipelines.decoding.mirrors import _han_count

    assert _han_count(text) == len(re.findall("[\u3400-\u9fff\uf900-\ufaff]", text))


@pytest.mark.parametrize("changeable", [4, 5, 6])
def test_a_simplified_text_with_few_changeable_characters_is_judged_without_opencc(
        changeable: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """100 CJK characters, a few of which t2s changes: Traditional only from 5 on, and OpenCC is not
    run for a count that cannot reach 5%."""
    from pipelines.decoding import mirrors

    text = "鎮" * changeable + "的" * (100 - changeable) + "，。 2021 GDP" * 20
    expected = _reference_is_traditional(text)
    assert expected == (changeable >= 5)
    calls: list[str] = []
    convert = mirrors._convert.__wrapped__
    monkeypatch.setattr(mirrors, "_convert", lambda config, t: calls.append(t) or convert(config, t))
    assert is_traditional(text) == expected
    assert bool(calls) == (changeable >= 5)


def test_a_lone_surrogate_in_a_callers_text_stays_and_the_rest_is_converted() -> None:
    assert to_simplified("\ud800鎮江經濟\udc00項目") == "\ud800镇江经济\udc00项目"
    assert is_traditional("鎮江經濟\ud800")


@given(st.text(alphabet=st.sampled_from(["a", "中", "\ufffd", "\uffff", "\ud800", "\udfff", "𠀀", "\U0010ffff"]),
               max_size=20))
def test_astral_check_by_utf16_length_is_the_regex_one(text: str) -> None:
    import re

    from pipelines.decoding.mirrors import _has_astral

    assert _has_astral(text) == (re.search("[\U00010000-\U0010ffff]", text) is not None)
