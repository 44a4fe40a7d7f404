"""Developer tool: rebuild ``char_scores.txt``, the commonness table behind every plausibility judgement.

Run from the project root: ``.venv/bin/python -m pipelines.decoding._build_char_scores``.
Never imported at run time (it needs pypinyin's phrase list and OpenCC, both slow to load).

How a character is scored, from data that ships with the installed libraries and the codecs:

* ``log2(1 + n)`` where *n* is the number of pypinyin phrases (about 47,000 common words and idioms)
  containing the character's Simplified form: common characters occur in many words, rare ones in few;
* ``+ 2`` when that Simplified form is in GB2312 level 1 (bytes B0A1-D7F9), the 3,755 characters the
  standard classes as most frequent.

Traditional characters take the score of their Simplified form (OpenCC ``t2s``), so ``錢`` scores like
``钱``. Every character of GBK and Big5-HKSCS is considered; characters scoring 0 are left out.
The file holds one line per integer score: ``<score><TAB><characters>``.
"""
from __future__ import annotations

import collections
import json
import math
from importlib import resources
from pathlib import Path

OUTPUT = Path(__file__).with_name("char_scores.txt")


def _double_byte_chars(codec: str, leads: range, trails: list[int]) -> set[str]:
    chars: set[str] = set()
    for lead in leads:
        for trail in trails:
            try:
                char = bytes((lead, trail)).decode(codec)
            except UnicodeDecodeError:
                continue
            if len(char) == 1 and ord(char) > 0x2E7F:
                chars.add(char)
    return chars


def build() -> dict[str, int]:
    import opencc

    phrases = json.loads(resources.files("pypinyin").joinpath("phrases_dict.json").read_text("utf-8"))
    counts: collections.Counter[str] = collections.Counter()
    for phrase in phrases:
        counts.update(set(phrase))
    level1 = _double_byte_chars("gb2312", range(0xB0, 0xD8), list(range(0xA1, 0xFF)))
    trails = list(range(0x40, 0x7F)) + list(range(0x80, 0xFF))
    universe = (_double_byte_chars("gb18030", range(0x81, 0xFF), trails)
                | _double_byte_chars("big5hkscs", range(0x81, 0xFF), trails) | set(counts))
    t2s = opencc.OpenCC("t2s")
    scores: dict[str, int] = {}
    for char in universe:
        if not ("\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff"):
            continue
        simplified = t2s.convert(char)
        simplified = simplified if len(simplified) == 1 else char
        score = math.log2(1 + counts[simplified]) + (2 if simplified in level1 else 0)
        if round(score) > 0:
            scores[char] = round(score)
    return scores


def main() -> None:
    by_score: dict[int, list[str]] = collections.defaultdict(list)
    for char, score in build().items():
        by_score[score].append(char)
    lines = [f"{score}\t{''.join(sorted(chars))}" for score, chars in sorted(by_score.items(), reverse=True)]
    OUTPUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{OUTPUT}: {sum(len(c) for c in by_score.values())} characters")


if __name__ == "__main__":
    main()
