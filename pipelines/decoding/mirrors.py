"""Traditional-Chinese gateway mirrors and Simplified forms (stub: issue 3)."""
from __future__ import annotations


def canonical_mirror_url(url: str) -> tuple[str, str | None]:
    """Map a gateway mirror URL to the Simplified page's URL.

    Returns (canonical_url, variant); variant is None for a URL that is not a mirror.
    """
    return url, None


def to_simplified(text: str) -> str:
    """The Simplified form of a text (OpenCC t2s); Simplified text is returned unchanged."""
    return text
