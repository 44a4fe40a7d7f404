"""The whole CPU-bound work of a page, as one picklable pure function: `process_page`.

Stage 1's decoding (`decode_page`), the extractor, stage 3's repair (`repair_document`) and stage 4's
raw WARC with its gzip and digests (`capture_warc`). The extraction stage (pipelines/extract.py) runs
it in its worker processes (pipelines/workers.py) while the reactor keeps fetching; the archive stage
then only spools and writes bytes. No Scrapy here: a worker imports this module, not the crawler's.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from pipelines.decoding.charset import decode_page
from pipelines.decoding.repair import repair_document
from pipelines.extraction import extract_document
from pipelines.extraction.document import ExtractionError
from pipelines.extraction.multipage import merge_documents
from pipelines.storage.warc import GZIP_LEVEL, capture_warc

logger = logging.getLogger(__name__)


@dataclass
class PageResult:
    """What `process_page` sends back: small, picklable, no HTML."""

    decoding: dict[str, Any]
    undecodable: bool
    document: dict[str, Any] | None = None
    failure: str | None = None  # stats reason when extraction failed
    error: str | None = None
    repairs: int = 0
    glosses: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    prepared: dict[str, Any] | None = None  # the raw WARC, when `exchange` was given


def process_page(body: bytes, content_type: str | None, decided: dict[str, Any] | None, url: str,
                 overrides: dict[str, str] | None,
                 exchange: dict[str, Any] | None = None,
                 parts: list[dict[str, Any]] | None = None) -> PageResult:
    """Decode, extract and repair one page. Never raises for what the page holds.

    `exchange` (`status`, `headers`, `fetched_at`, `request_headers`, `gzip_level`): also make the
    page's raw WARC for the archive stage (`result.prepared`), so that CPU is spent here, not on the
    reactor's core.
    `parts`: the other pages of a multi-page article this page is the first of (`url`, `body`,
    `content_type`, `decoding` each); each is extracted too and the document is the merged article
    (pipelines/extraction/multipage.py). A page that gives no text is named in `extra["part_errors"]`.
    """
    result = _process_one(body, content_type, decided, url, overrides)
    if exchange is not None:
        try:
            warc, sha1 = capture_warc(url, exchange["status"], exchange["headers"], body,
                                      exchange["fetched_at"], exchange["request_headers"],
                                      gzip_level=exchange.get("gzip_level", GZIP_LEVEL))
        except Exception:  # the archive stage makes it again, and reports what goes wrong
            logger.debug("no WARC prepared for %s", url, exc_info=True)
        else:
            result.prepared = {"warc": warc, "sha1": sha1, "raw_bytes": len(body)}
    if not parts:
        return result
    results = [result] + [_process_one(p["body"], p.get("content_type"), p.get("decoding"), p["url"],
                                       overrides) for p in parts]
    urls = [url] + [p["url"] for p in parts]
    result.document = merge_documents([r.document for r in results])
    result.repairs, result.glosses = sum(r.repairs for r in results), sum(r.glosses for r in results)
    result.extra["part_errors"] = [f"page {i + 1} ({u}): {r.failure}: {r.error}"
                                   for i, (u, r) in enumerate(zip(urls, results, strict=True))
                                   if r.document is None]
    if result.document is not None:  # the first page's failure is then one part error among others
        result.failure = result.error = None
    return result


def _process_one(body: bytes, content_type: str | None, decided: dict[str, Any] | None, url: str,
                 overrides: dict[str, str] | None) -> PageResult:
    html, decision = decode_page(body, content_type, decided)
    result = PageResult(decision.as_dict(), bool(decision.undecodable_bytes))
    try:
        document = extract_document(html, url, overrides)
    except ExtractionError as exc:
        result.failure, result.error = "empty", str(exc)
        return result
    except Exception as exc:  # a parser crash on hostile input must not lose the page
        result.failure, result.error = type(exc).__name__, f"{type(exc).__name__}: {exc}"
        return result
    result.repairs, result.glosses = repair_document(document, url, decision.encoding)
    result.document = document
    return result
