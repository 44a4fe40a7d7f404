"""The repair of a document's text: mojibake, pinyin glosses, the Simplified form (stage 3's pure part;
pipelines/repair.py is the pipeline).

`repair_document` runs inside `process_page` (pipelines/page.py), in the extraction workers.

Pinyin glosses (``鎮(zhèn)``) are what machine Traditional mirrors add, so they are removed only from
a Traditional or mirror page; on a Simplified page a bracketed reading is the author's own note
(``莘(shēn)庄``) and stays. The evidence (``traditional_evidence``) is archived as ``gloss_removal``.
"""
from __future__ import annotations

from typing import Any

from pipelines.decoding.glosses import strip_pinyin_glosses
from pipelines.decoding.mirrors import is_big5_mirror, is_traditional, simplified_form, to_simplified
from pipelines.decoding.mojibake import Repair, repair_mojibake

#: Codecs whose use says the page was served in Big5, i.e. in Traditional characters.
_BIG5_CODECS = frozenset({"big5", "big5hkscs", "cp950"})


def _outside_evidence(url: str | None, encoding: str | None) -> list[str]:
    """The evidence that does not read the text: ``mirror-url``, ``big5-decoding``."""
    evidence = []
    if is_big5_mirror(url):
        evidence.append("mirror-url")
    if encoding in _BIG5_CODECS:
        evidence.append("big5-decoding")
    return evidence


def traditional_evidence(text: str, url: str | None = None, encoding: str | None = None) -> list[str]:
    """Why a page counts as Traditional or a mirror: ``mirror-url`` (a Big5 gateway or ``big5.`` host),
    ``big5-decoding`` (the page was decoded as Big5), ``traditional-text`` (OpenCC t2s changes its
    text, ``is_traditional``). Empty for an ordinary Simplified page."""
    evidence = _outside_evidence(url, encoding)
    if text and is_traditional(text):
        evidence.append("traditional-text")
    return evidence


def repair_text(text: str, evidence: list[str] | None = None) -> tuple[str, dict[str, Any]]:
    """The repaired text and what was done to it (for the archived metadata).

    *evidence* is the page's ``traditional_evidence``; by default it is judged from *text* alone.
    Glosses are removed only when there is some.
    """
    repaired, repairs = repair_mojibake(text)
    return _finish(repaired, repairs, traditional_evidence(repaired) if evidence is None else evidence)


def _finish(repaired: str, repairs: list[Repair], evidence: list[str],
            simplify: bool = True) -> tuple[str, dict[str, Any]]:
    cleaned, glosses = strip_pinyin_glosses(repaired) if evidence else (repaired, 0)
    simplified = to_simplified(cleaned, "traditional-text" in evidence) if simplify else cleaned
    return cleaned, _report(repairs, glosses, evidence, cleaned, simplified)


def _report(repairs: list[Repair], glosses: int, evidence: list[str], cleaned: str,
            simplified: str) -> dict[str, Any]:
    return {"repairs": [r.as_dict() for r in repairs], "glosses_removed": glosses,
            "gloss_removal": {"applied": bool(evidence), "evidence": evidence},
            "text_simplified": simplified if simplified != cleaned else None}


def repair_document(document: dict[str, Any], url: str | None = None,
                    encoding: str | None = None) -> tuple[int, int]:
    """Repair a document's title and text in place; (mojibake repairs, glosses removed) in the text.

    *url* and *encoding* (the codec the page was decoded with) are evidence that the page is a
    Traditional mirror, with its text (its title when it has no text). On a page the URL or the
    encoding already marks, the glosses go first and one OpenCC conversion of the text that remains
    both judges it Traditional and gives its Simplified form.
    """
    repaired = {name: repair_mojibake(document[name]) for name in ("text", "title") if document.get(name)}
    evidence = _outside_evidence(url, encoding)
    report: dict[str, Any] | None = None
    if evidence and "text" in repaired:
        text, repairs = repaired.pop("text")
        cleaned, glosses = strip_pinyin_glosses(text)
        traditional, simplified = simplified_form(cleaned)
        if traditional:
            evidence.append("traditional-text")
        document["text"] = cleaned
        report = _report(repairs, glosses, evidence, cleaned, simplified)
    else:
        basis = repaired.get("text") or repaired.get("title")
        if basis and is_traditional(basis[0]):
            evidence.append("traditional-text")
    for name, (text, repairs) in repaired.items():
        fixed, finished = _finish(text, repairs, evidence, simplify=name == "text")  # only the text's is kept
        document[name] = fixed
        if name == "text":
            report = finished
    if report is not None:
        document.update(report)
    document.setdefault("repairs", [])
    document.setdefault("gloss_removal", {"applied": bool(evidence), "evidence": evidence})
    return (len(report["repairs"]), report["glosses_removed"]) if report is not None else (0, 0)
