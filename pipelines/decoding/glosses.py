"""Removal of pinyin glosses left by machine Traditional mirrors: `鎮(zhèn)` -> `鎮` (stub: issue 3)."""
from __future__ import annotations


def strip_pinyin_glosses(text: str) -> tuple[str, int]:
    """Return the text without glosses and how many were removed."""
    return text, 0
