"""The plausibility score read from the byte table agrees with the scores character by character."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.decoding._scoring import _BYTE_OFFSET, _score_bytes, char_score, plausibility


def _one_by_one(text: str) -> tuple[float, int]:
    values = [char_score(c) for c in text if c > "\x7f"]
    return (sum(values) / len(values), len(values)) if values else (0.0, 0)


def test_the_byte_table_holds_every_bmp_characters_score() -> None:
    table = _score_bytes()
    assert len(table) == 0x10000
    assert table[:0x80] == bytes(0x80)
    wrong = [hex(code) for code in range(0x80, 0x10000) if table[code] - _BYTE_OFFSET != char_score(chr(code))]
    assert wrong == []


# Common and rare Han, an extension-B character, punctuation, Latin-1, kana, private use, a lone
# surrogate (an undecodable byte kept by surrogateescape), U+FFFD, ASCII.
_ALPHABET = "中国的鎮镕堃𠀀𪚥，。（ÖÐ»ªéㄗ澹盒の\ue004\udc81\ufffdab 1\n"


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from(_ALPHABET), max_size=80))
def test_plausibility_is_the_mean_of_the_characters_scores(text: str) -> None:
    assert plausibility(text) == _one_by_one(text)


def test_plausibility_of_text_beyond_the_table() -> None:
    text = "《𪚥》字考证" + "\U0002a6d6" * 3
    assert plausibility(text) == _one_by_one(text)
    assert plausibility("abc") == (0.0, 0)


def test_a_score_table_with_a_fraction_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from pipelines.decoding import _scoring

    monkeypatch.setattr(_scoring, "char_scores", lambda: {"中": 8.5})
    _scoring._score_bytes.cache_clear()
    try:
        with pytest.raises(ValueError, match="not a whole number"):
            _scoring._score_bytes()
    finally:
        _scoring._score_bytes.cache_clear()
