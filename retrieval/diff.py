"""Compare two versions of a page's clean text: paragraph by paragraph, as a reader would.

Pure functions over strings (difflib). Clean text holds one paragraph a line, so a line diff is a
paragraph diff; a changed paragraph shows as the old line removed and the new one added.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

#: Document fields compared besides the text, in display order.
COMPARED_FIELDS = ("title", "published_at", "source", "author", "editor", "status", "kind",
                   "text_fingerprint")


@dataclass(frozen=True)
class Line:
    op: str  # "=" unchanged, "-" only in the older version, "+" only in the newer one
    text: str

    def as_dict(self) -> dict[str, str]:
        return {"op": self.op, "text": self.text}


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def text_diff(old: str | None, new: str | None) -> list[Line]:
    """The paragraphs of both texts in order, each marked unchanged, removed or added."""
    a, b = _lines(old), _lines(new)
    out: list[Line] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            out.extend(Line("=", line) for line in a[i1:i2])
        else:
            out.extend(Line("-", line) for line in a[i1:i2])
            out.extend(Line("+", line) for line in b[j1:j2])
    return out


def unified(old: str | None, new: str | None, old_label: str, new_label: str) -> str:
    """The same comparison as a unified diff (for tools and for `patch`)."""
    return "".join(difflib.unified_diff([line + "\n" for line in _lines(old)],
                                        [line + "\n" for line in _lines(new)],
                                        fromfile=old_label, tofile=new_label))


def field_changes(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    """Metadata fields whose value differs between two documents."""
    return [{"field": name, "old": old.get(name), "new": new.get(name)}
            for name in COMPARED_FIELDS if old.get(name) != new.get(name)]


def counts(lines: list[Line]) -> dict[str, int]:
    return {"added": sum(line.op == "+" for line in lines),
            "removed": sum(line.op == "-" for line in lines),
            "unchanged": sum(line.op == "=" for line in lines)}
