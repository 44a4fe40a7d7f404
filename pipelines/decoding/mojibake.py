"""Repair of text that was decoded with the wrong codec before we fetched it (stub: issue 3)."""
from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Repair:
    start: int          # span in the text before this repair
    end: int
    before: str
    after: str
    codecs: str         # "<true codec> read as <wrong codec>", e.g. "gbk>cp1252"

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def repair_mojibake(text: str) -> tuple[str, list[Repair]]:
    """Return the repaired text and the repairs made. Clean text comes back unchanged."""
    return text, []
