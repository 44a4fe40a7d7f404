"""What the API and the pages share: the application keys, running blocking reads, links, headers."""
from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import unquote, urlencode, urlsplit

from aiohttp import web

from retrieval.reader import Reader

T = TypeVar("T")

READER: web.AppKey[Reader] = web.AppKey("reader", Reader)

#: Every page and JSON answer: nothing but our own stylesheet, frames from our origin, no scripts.
PAGE_CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; frame-src 'self'; "
            "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
#: Archived bytes: a sandbox (opaque origin, no scripts, no forms, no plugins), no requests out.
RAW_CSP = ("sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
           "font-src data:; form-action 'none'; base-uri 'none'")
#: Archived bytes shown in the reader's frame: the same sandbox, framable by our own pages only.
FRAMED_CSP = RAW_CSP + "; frame-ancestors 'self'"

_MEDIA_TYPE = re.compile(r"^[A-Za-z0-9][\w.+-]*/[A-Za-z0-9][\w.+-]*$")
_CHARSET = re.compile(r"charset\s*=\s*\"?([A-Za-z0-9._:-]{1,40})\"?", re.I)


async def blocking(func: Callable[..., T], *args: object) -> T:
    """Run a storage call in a worker thread so the event loop keeps serving."""
    return await asyncio.get_running_loop().run_in_executor(None, functools.partial(func, *args))


def link(path: str, **params: str | None) -> str:
    """A path on this service with its query string (None values left out)."""
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"{path}?{query}" if query else path


def capture_links(url: str, stamp: str) -> dict[str, str]:
    """Where one capture can be read: API document, raw body, WARC, and the reader's pages."""
    return {"document": link("/api/v1/document", url=url, at=stamp),
            "raw": link("/api/v1/raw", url=url, at=stamp),
            "warc": link("/api/v1/raw", url=url, at=stamp, format="warc"),
            "text_page": link("/text", url=url, at=stamp),
            "raw_page": link("/page", url=url, at=stamp)}


def safe_content_type(headers: list[tuple[str, str]]) -> str:
    """The archived response's media type (and charset), rebuilt from safe parts only."""
    value = next((v for k, v in headers if k.lower() == "content-type"), "")
    media = value.split(";", 1)[0].strip().lower()
    if not _MEDIA_TYPE.match(media):
        return "application/octet-stream"
    charset = _CHARSET.search(value)
    return f"{media}; charset={charset.group(1)}" if charset else media


def attachment_name(url: str, stamp: str, suffix: str = "") -> str:
    """A plain ASCII file name for a download: `<stamp>_<last path segment><suffix>`."""
    segment = unquote(urlsplit(url).path.rstrip("/").rpartition("/")[2]) or "index"
    segment = re.sub(r"[^A-Za-z0-9._-]+", "_", segment).strip("._") or "page"
    return f"{stamp}_{segment[:80]}{suffix}"


def download_headers(filename: str, content_type: str, csp: str = RAW_CSP) -> dict[str, str]:
    return {"Content-Type": content_type, "Content-Disposition": f'attachment; filename="{filename}"',
            "Content-Security-Policy": csp, "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, max-age=3600"}
