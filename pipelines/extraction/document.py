"""The extraction entry point (walking-skeleton version: trafilatura alone; issue 4 layers it).

`extract_document(html, url, overrides)` returns a plain dict (JSON-ready) with at least:
title, published_at (ISO 8601 with +08:00 or None), source, text, extracted_by (list of layer names),
attachments (list of {name, url}), meta (other typed metadata fields). It raises ExtractionError
when a page has no text at all.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import trafilatura

EXTRACTOR_NAME = "govarchive"
EXTRACTOR_VERSION = "0.1.0"


class ExtractionError(ValueError):
    """The page holds nothing we can call article text."""


def extract_document(html: str, url: str, overrides: Mapping[str, str] | None = None) -> dict[str, Any]:
    doc = trafilatura.bare_extraction(html, url=url, with_metadata=True, include_comments=False,
                                      as_dict=True)
    if not doc or not doc.get("text"):
        raise ExtractionError("no article text found")
    date = doc.get("date")
    return {
        "title": doc.get("title"),
        "published_at": f"{date}T00:00:00+08:00" if date else None,
        "source": None,
        "text": doc["text"],
        "extracted_by": ["trafilatura"],
        "attachments": [],
        "meta": {},
    }
