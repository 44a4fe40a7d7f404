"""Folding a line for matching only: NFKC (full-width forms, ideographic space), and the Traditional
characters that occur in portal labels and chrome mapped to Simplified, one character for one, so that a
match position in the folded line is the same position in the original."""
from __future__ import annotations

import re
import unicodedata

_CJK = "\u3400-\u9fff\uf900-\ufaff"
_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
# `鎮(zhèn)`: a pinyin gloss after a character, left by machine Traditional mirrors (needs a tone mark,
# so `(pdf)` or `(GDP)` never match)
GLOSS = re.compile(rf"(?<=[{_CJK}])(?:[(（][a-zü]*[{_TONED}][a-zü{_TONED}]*[)）])+")

_TRAD = ("來發佈機關號題類時間編輯責記攝審點擊瀏覽標圖網單據務開稱寫訊頁條閉碼維掃"
         "機體當頁備辦識聯繫欄縮擴閱讀載導頂權護術廣態級員們區這說應處後參關務")
_SIMP = ("来发布机关号题类时间编辑责记摄审点击浏览标图网单据务开称写讯页条闭码维扫"
         "机体当页备办识联系栏缩扩阅读载导顶权护术广态级员们区这说应处后参关务")
assert len(_TRAD) == len(_SIMP)
_TABLE = str.maketrans(_TRAD, _SIMP)
_ANY_TRAD = re.compile(f"[{_TRAD}]")  # most lines hold none: finding that is cheaper than translating


def fold(text: str) -> str:
    """Same length as `text` whenever NFKC keeps the length (true for CJK text and ASCII)."""
    text = unicodedata.normalize("NFKC", text)
    return text.translate(_TABLE) if _ANY_TRAD.search(text) else text


def degloss(text: str) -> tuple[str, list[int]]:
    """The text without pinyin glosses, and for each kept character its index in `text`."""
    kept: list[int] = []
    last = 0
    for m in GLOSS.finditer(text):
        kept.extend(range(last, m.start()))
        last = m.end()
    kept.extend(range(last, len(text)))
    return "".join(text[i] for i in kept), kept


def fold_label(text: str) -> str:
    return "".join(fold(text).split())
