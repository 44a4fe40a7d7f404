"""One document from the pages of a multi-page article (TRS `t…_1.html`, pager `…_2.html`).

Each page is extracted on its own (the pager and the page chrome go with the rest of the chrome);
`merge_documents` then joins them in page order: the text, the Simplified text of Traditional pages,
attachments (by URL) and repairs of every page, every other field (title, date, source, 信息公开
table…) from the first page. Pure: used by the extraction stage and by the evaluation corpus.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def merge_documents(documents: Sequence[dict[str, Any] | None]) -> dict[str, Any] | None:
    """The article's document from its pages' documents, first page first; None for a page that
    gave no text. Metadata comes from the first page (from the first page that has any when the
    first gave nothing); None when no page gave text."""
    found = [d for d in documents if d and d.get("text")]
    if not found:
        return None
    merged = dict(documents[0] or found[0])
    merged["text"] = "\n".join(d["text"] for d in found)
    if any(d.get("text_simplified") for d in found):
        merged["text_simplified"] = "\n".join(d.get("text_simplified") or d["text"] for d in found)
    seen: set[str] = set()
    attachments = []
    for d in found:
        for attachment in d.get("attachments") or []:
            if attachment.get("url") not in seen:
                seen.add(attachment.get("url"))
                attachments.append(attachment)
    if "attachments" in merged or attachments:
        merged["attachments"] = attachments
    if any("repairs" in d for d in found):
        merged["repairs"] = [r for d in found for r in d.get("repairs") or []]
    if any("glosses_removed" in d for d in found):
        merged["glosses_removed"] = sum(d.get("glosses_removed") or 0 for d in found)
    return merged
