"""Mojibake repair: recovery per damage type on generated sentences, clean text untouched, real seed."""
from __future__ import annotations

import difflib
import functools
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.decoding.mojibake import Repair, repair_mojibake
from tests.encoding_corpus import clean_sentences, round_trips, simplified_sentences, traditional_sentences

# The tail of a real district page (a GBK stream decoded one byte out of step): test datum.
YIXIU_TAIL = "努力打贏經濟運行翻身仗。ㄗ澹盒煊馈徍耍哄X凱)"


def _web_cp1252(data: bytes) -> str:
    """cp1252 as browsers decode it: the five undefined bytes become C1 controls, nothing is lost."""
    return "".join(chr(b) if b in (0x81, 0x8D, 0x8F, 0x90, 0x9D) else bytes((b,)).decode("cp1252")
                   for b in data)


def _decoder(codec: str) -> Callable[[bytes], str]:
    return lambda data: data.decode(codec, errors="replace")


# damage type -> (true codec, how the bytes were misread). "Read as GBK" uses the GB18030 decoder and
# "read as Big5" the Big5-HKSCS one, as browsers (WHATWG Encoding) do.
DAMAGE: dict[str, tuple[str, Callable[[bytes], str]]] = {
    "gbk>cp1252": ("gbk", _web_cp1252),
    "big5>gbk": ("big5hkscs", _decoder("gb18030")),
    "utf-8>latin-1": ("utf-8", _decoder("latin-1")),
    "gbk>big5": ("gbk", _decoder("big5hkscs")),
    "utf-8>gbk": ("utf-8", _decoder("gb18030")),
    "gbk out of step": ("gbk", lambda data: data[1:].decode("gb18030", errors="replace")),
}
FLOORS = {"gbk>cp1252": 0.95, "big5>gbk": 0.95, "utf-8>latin-1": 0.95, "gbk>big5": 0.40}


@functools.cache
def _outcomes(kind: str) -> tuple[int, int, int, float, float]:
    """(sentences damaged, lossless ones, exactly recovered lossless ones, mean similarity of the
    repaired lossy ones before, after) for one damage type over the 1,000 generated sentences."""
    true, misread = DAMAGE[kind]
    damaged = lossless = exact = 0
    before = after = 0.0
    for sentence in clean_sentences(1000):
        try:
            data = sentence.encode(true)
        except UnicodeEncodeError:
            continue
        text = misread(data)
        damaged += 1
        repaired, _ = repair_mojibake(text)
        if "\ufffd" not in text and kind != "gbk out of step":
            lossless += 1
            exact += repaired == sentence
        else:
            before += difflib.SequenceMatcher(None, text, sentence).ratio()
            after += difflib.SequenceMatcher(None, repaired, sentence).ratio()
    lossy = max(damaged - lossless, 1)
    return damaged, lossless, exact, before / lossy, after / lossy


@pytest.mark.parametrize("kind", list(FLOORS))
def test_exact_recovery_of_lossless_damage(kind: str) -> None:
    damaged, lossless, exact, _, _ = _outcomes(kind)
    assert damaged >= 400
    print(f"{kind}: {exact}/{lossless} lossless sentences recovered exactly")
    assert exact / lossless >= FLOORS[kind]


@pytest.mark.parametrize("kind", ["gbk>big5", "utf-8>gbk", "gbk out of step"])
def test_lossy_damage_is_made_more_similar(kind: str) -> None:
    damaged, lossless, _, before, after = _outcomes(kind)
    print(f"{kind}: {damaged - lossless} lossy sentences, similarity {before:.2f} -> {after:.2f}")
    assert after > before


def test_thousand_clean_sentences_do_not_change() -> None:
    sentences = clean_sentences(1000)
    assert len(sentences) == 1000
    assert any(s in traditional_sentences() for s in sentences)
    assert [s for s in sentences if repair_mojibake(s) != (s, [])] == []


def test_clean_text_next_to_damage_survives() -> None:
    clean = list(simplified_sentences()[:60]) + list(traditional_sentences()[:60])
    damage = [traditional_sentences()[i + 60].encode("big5hkscs", errors="ignore").decode("gb18030")
              for i in range(len(clean))]
    for prefix, damaged in zip(clean, damage, strict=True):
        repaired, _ = repair_mojibake(prefix + damaged)
        assert repaired.startswith(prefix)


def test_yixiu_tail_gives_back_what_the_bytes_still_hold() -> None:
    repaired, repairs = repair_mojibake(YIXIU_TAIL)
    assert repaired.startswith("努力打贏經濟運行翻身仗。")
    assert "徐永" in repaired
    assert "核：錢凱)" in repaired
    assert [r.codecs for r in repairs] == ["gbk>gbk (out of step)"]
    assert repairs[0].before == "ㄗ澹盒煊馈徍耍哄X凱"


@pytest.mark.parametrize(("damaged", "repaired", "codecs"), [
    ("ÖÐ»ªÈËÃñ¹²ºÍ¹ú", "中华人民共和国", "gbk>latin-1"),
    ("中华人民共和国".encode().decode("latin-1"), "中华人民共和国", "utf-8>latin-1"),
    ("¹ú¼Ò¡°Ê®ËÄÎå¡±¹æ»®", "国家“十四五”规划", "gbk>latin-1"),
    (_web_cp1252("鎮江市人民政府".encode("gbk")), "鎮江市人民政府", "gbk>cp1252"),
])
def test_latin_runs(damaged: str, repaired: str, codecs: str) -> None:
    text, repairs = repair_mojibake(damaged)
    assert text == repaired
    assert repairs == [Repair(0, len(damaged), damaged, repaired, codecs)]


def _apply(text: str, repairs: list[Repair]) -> str:
    for repair in repairs:
        assert text[repair.start:repair.end] == repair.before
        text = text[:repair.start] + repair.after + text[repair.end:]
    return text


def test_repairs_replay_from_input_to_output() -> None:
    sentences = [s for s in traditional_sentences() if round_trips(s, "big5hkscs", "big5hkscs")][:40]
    for sentence in sentences:
        damaged = "前言：" + sentence.encode("big5hkscs").decode("gb18030") + " 2021年 " + (
            sentence.encode("gbk").decode("latin-1"))
        repaired, repairs = repair_mojibake(damaged)
        assert _apply(damaged, repairs) == repaired
        assert all(r.as_dict()["codecs"] for r in repairs)


# ---------------------------------------------------------------------------------------- properties

_PIECES = st.one_of(st.sampled_from(simplified_sentences()), st.sampled_from(traditional_sentences()),
                    st.sampled_from(["2021", "GDP", " ", "（", "）", "：", "PM2.5", "《通知》", "王堃", "朱镕基",
                                     "·", "——", "……", "\uff05", "°C", "3\u00d74米", "Café", "\u00b1"]))
# Latin-1 symbols come in the words they stand in: a bare run like `\u00d7é\u00d7é` *is* GBK `组组` read as
# Latin-1, and the repair rightly takes it so (tests above); clean text does not hold such runs.


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, min_size=1, max_size=8))
def test_clean_text_never_changes(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert repair_mojibake(text) == (text, [])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from([s for s in simplified_sentences() if round_trips(s, "gbk", "gbk")]),
                min_size=1, max_size=4))
def test_gbk_read_as_latin1_round_trips(pieces: list[str]) -> None:
    text = "".join(pieces)
    damaged = text.encode("gbk").decode("latin-1")
    repaired, repairs = repair_mojibake(damaged)
    assert repaired == text
    assert _apply(damaged, repairs) == repaired


@pytest.mark.parametrize("text", [
    "他引用了一句日语：「私はあなたのことを愛していると言ったのを聞きました」，大家都笑了。",
    "宫里的老嬤嬤说，这件事要问皇后。",
    "元代的《𪚥》字考证，以及朱镕基、王堃的题词。",
])
def test_clean_text_that_looks_odd_stays(text: str) -> None:
    assert repair_mojibake(text) == (text, [])


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from("中文國镕堃𠀀ÖÐ»ªéèㄗ澹盒 a!@b~\n\t\u3000（）"), max_size=60))
def test_runs_looked_at_are_exactly_the_runs_with_two_suspects(text: str) -> None:
    from pipelines.decoding._scoring import suspect_pattern
    from pipelines.decoding.mojibake import _CJK_RUN, EVIDENCE, _runs_with_suspects

    plain = [m.span() for m in _CJK_RUN.finditer(text) if len(suspect_pattern(EVIDENCE).findall(m.group())) >= 2]
    assert [m.span() for m in _runs_with_suspects(text)] == plain


@given(st.text(alphabet=st.sampled_from("中文國镕堃𠀀ÖÐ»ªéㄗ澹盒\ufffd\ue004a!~（）。"), min_size=1, max_size=30))
def test_span_means_from_prefix_sums_are_the_spans_own(run: str) -> None:
    """The candidates' comparison reads each span's mean from the run's prefix sums: the same numbers
    as scoring the span alone (the scores are whole numbers, so the sums are exact)."""
    from pipelines.decoding.mojibake import _RUN_SCORES, _Counts, _mean

    counts = _Counts(run, [_RUN_SCORES[c] for c in run])
    for start in range(len(run)):
        for end in range(start + 1, len(run) + 1):
            assert counts.mean(start, end) == _mean(run[start:end])


_LATIN_ALPHABET = ("".join(map(chr, range(0x7C, 0x180))) + "€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ"  # noqa: RUF001
                   + "中國镕𠀀\ufffd\ue004")


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from(_LATIN_ALPHABET), max_size=40))
def test_latin_screen_counts_the_characters_a_first_pass_counts(text: str) -> None:
    """The screen before the Latin runs (two encodes) counts what ``_repair_latin``'s first pass counts
    in a run: Latin-1 and cp1252 characters scoring at most 1.0."""
    from pipelines.decoding._scoring import char_score
    from pipelines.decoding.mojibake import _LATIN_BYTES, _low_latin

    assert _low_latin(text) == sum(1 for c in text if c in _LATIN_BYTES and char_score(c) <= 1.0)
    assert (_low_latin(text, 2) >= 2) == (_low_latin(text) >= 2)
