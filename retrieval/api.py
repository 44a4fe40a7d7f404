"""The JSON API, after the Wayback CDX server: captures of a URL, one capture, its raw bytes, a diff.

    GET /api/v1/captures?url=…[&match=exact|prefix][&from=…][&to=…][&limit=…][&cursor=…]
    GET /api/v1/document?url=…[&at=…]
    GET /api/v1/raw?url=…[&at=…][&format=body|warc]
    GET /api/v1/diff?url=…&a=…&b=…

Errors answer `{"error": "<message>"}` with 400 (bad input), 404 (nothing archived) or 503 (archive
unreachable); see retrieval/app.py.
"""
from __future__ import annotations

import json
from email.utils import format_datetime
from typing import Any

from aiohttp import web

from pipelines.storage.archive import Capture
from pipelines.storage.base import NotFound
from retrieval import diff, query
from retrieval.reader import Query, Reader, summarize
from retrieval.web import (
    READER,
    attachment_name,
    blocking,
    capture_links,
    download_headers,
    link,
    safe_content_type,
)

RAW_FORMATS = ("body", "warc")


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(data, status=status, headers=headers, dumps=_dumps)


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _memento(capture: Capture) -> dict[str, str]:
    return {"Memento-Datetime": format_datetime(capture.captured_at, usegmt=True)}


def captures_query(params: Any) -> Query:
    """A captures listing's parameters, validated (shared by the API and the reader's index page)."""
    url = query.target_url(params.get("url"))
    match = query.match_type(params.get("match"))
    prefix = query.key_prefix(url, match)
    since = query.stamp_bound(params.get("from"), "from", upper=False)
    until = query.stamp_bound(params.get("to"), "to", upper=True)
    if since and until and since > until:
        raise query.BadRequest("from: later than `to`")
    return Query(url=url, match=match, prefix=prefix, since=since, until=until,
                 limit=query.limit(params.get("limit")),
                 cursor=query.Cursor.decode(params.get("cursor"), prefix))


async def captures(request: web.Request) -> web.Response:
    """Captures of a URL (or of every URL under a prefix), newest first, one page at a time."""
    q = captures_query(request.query)
    reader = request.app[READER]
    page = await blocking(reader.page, q)
    items = []
    for listed in page.items:
        item = listed.as_dict()
        item["links"] = capture_links(listed.url or q.url, listed.capture.timestamp)
        items.append(item)
    cursor = page.next_cursor.encode() if page.next_cursor else None
    following = None
    if cursor:
        following = link("/api/v1/captures", url=q.url, match=q.match, limit=str(q.limit),
                         cursor=cursor, **{"from": request.query.get("from"),
                                           "to": request.query.get("to")})
    return _json({"url": q.url, "match": q.match, "total": page.total, "count": len(items),
                  "captures": items, "next_cursor": cursor, "next": following})


async def _picked(request: web.Request, name: str = "at") -> tuple[Reader, str, Capture]:
    url = query.target_url(request.query.get("url"))
    at = query.timestamp(request.query.get(name), name)
    reader = request.app[READER]
    return reader, url, await blocking(reader.pick, url, at)


async def document(request: web.Request) -> web.Response:
    """One capture's document (clean text and metadata): the latest, or the closest to `at`."""
    reader, url, capture = await _picked(request)
    doc = await blocking(reader.document, capture)
    body = {**doc, "timestamp": capture.timestamp,
            "links": capture_links(doc.get("url") or url, capture.timestamp)}
    return _json(body, headers=_memento(capture))


async def raw(request: web.Request) -> web.Response:
    """The raw capture as a download: the original body with its content type, or the WARC records."""
    fmt = request.query.get("format") or "body"
    if fmt not in RAW_FORMATS:
        raise query.BadRequest(f"format: expected one of {', '.join(RAW_FORMATS)}, got {fmt[:40]!r}")
    reader, url, capture = await _picked(request)
    if fmt == "warc":
        data = await blocking(reader.raw_warc, capture)
        name = attachment_name(url, capture.timestamp, ".warc.gz")
        return web.Response(body=data, headers={**download_headers(name, "application/warc"),
                                                **_memento(capture)})
    try:
        status, headers, body = await blocking(reader.raw_response, capture)
    except ValueError as exc:  # a record with no payload (e.g. a revisit of an unknown original)
        raise NotFound(f"capture {capture.timestamp} of {url} holds no response body: {exc}") from None
    ctype = safe_content_type(headers)
    name = attachment_name(url, capture.timestamp)
    extra = {"X-Archive-Status": str(status), **_memento(capture)}
    return web.Response(body=body, headers={**download_headers(name, ctype), **extra})


async def compare(request: web.Request) -> web.Response:
    """Two captures of a URL compared: changed metadata fields and a paragraph diff of the text."""
    result = await diff_of(request)
    return _json(result)


async def diff_of(request: web.Request) -> dict[str, Any]:
    """Both sides picked (closest to `a` and `b`), read and compared; shared with the diff page."""
    url = query.target_url(request.query.get("url"))
    when_a = query.timestamp(request.query.get("a"), "a")
    when_b = query.timestamp(request.query.get("b"), "b")
    if when_a is None or when_b is None:
        raise query.BadRequest("a, b: both required (timestamps of the two captures to compare)")
    reader = request.app[READER]
    side_a = await blocking(reader.pick, url, when_a)
    side_b = await blocking(reader.pick, url, when_b)
    doc_a = await blocking(reader.document, side_a)
    doc_b = await blocking(reader.document, side_b)
    lines = diff.text_diff(doc_a.get("text"), doc_b.get("text"))
    summary_a, summary_b = summarize(side_a, doc_a).as_dict(), summarize(side_b, doc_b).as_dict()
    return {"url": url, "a": summary_a, "b": summary_b, "counts": diff.counts(lines),
            "fields": diff.field_changes(doc_a, doc_b), "lines": [line.as_dict() for line in lines],
            "unified": diff.unified(doc_a.get("text"), doc_b.get("text"), side_a.timestamp,
                                    side_b.timestamp)}
