"""WARC records (gzipped, written with warcio) for one HTTP exchange.

A page fetched through a browser is archived honestly: the server's own bytes of the main document
as the `response` record (when the browser exposed them), and the browser's serialized DOM as a
`conversion` record that refers to it (a `resource` record when there are no server bytes), marked
`X-Govarchive-Capture: browser-rendered-dom`. Retrieval's `read_response` never returns the DOM.
"""
from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipelines.storage.gz import compressor

# Scrapy hands us bodies already de-chunked and decompressed; headers that would no longer describe
# the stored body keep their value under the replay tools' `X-Archive-Orig-` convention.
_REWRITTEN = {"content-encoding", "transfer-encoding", "content-length"}


def _status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


RENDERED_MARK = "browser-rendered-dom"

# Level of the WARCs' gzip (ARCHIVE_WARC_GZIP_LEVEL; 1-3 by ISA-L, pipelines/storage/gz.py). warcio's
# own is zlib's 9: on 50 KB portal pages the gzip at ISA-L's 2 costs ~0.03 ms a page, against zlib's 3
# at 0.35 ms and 9 at 0.87, for 8% more bytes than 9 (bench/bench_gzip.py).
GZIP_LEVEL = 2


class _GzipMembers:
    """What warcio writes a WARC to, gzipped at `level`: one gzip member per record, as warcio's
    own gzip writes them (a record ends with `flush`)."""

    def __init__(self, out: io.BytesIO, level: int) -> None:
        self.out, self.level = out, level
        self.compressor = compressor(level)

    def write(self, data: bytes) -> None:
        self.out.write(self.compressor.compress(data))

    def flush(self) -> None:
        self.out.write(self.compressor.flush())
        self.compressor = compressor(self.level)


def gzip_writer(out: io.BytesIO, level: int = GZIP_LEVEL) -> WARCWriter:
    """A warcio writer of gzipped records (at `level`) to `out`."""
    return WARCWriter(_GzipMembers(out, level), gzip=False)


def describe_rendering(rendering: Mapping[str, Any], dom: bytes) -> dict[str, Any]:
    """What the JSON document says of a browser capture (`rendered`)."""
    server_body = rendering.get("server_body")
    return {"by": rendering.get("by"), "reason": rendering.get("reason"),
            "dom_bytes": len(dom), "dom_sha1": hashlib.sha1(dom).hexdigest(),
            "server_body": server_body is not None,
            "server_sha1": hashlib.sha1(server_body).hexdigest() if server_body is not None else None,
            "navigations": list(rendering.get("navigations") or [])}


def build_warc(url: str, status: int, headers: Iterable[tuple[str, str]], body: bytes,
               fetched_at: datetime, request_headers: Iterable[tuple[str, str]] = (),
               method: str = "GET", extra: dict[str, str] | None = None,
               rendering: Mapping[str, Any] | None = None, request: bool = True,
               gzip_level: int = GZIP_LEVEL) -> bytes:
    """A gzipped WARC holding the request and response records of one fetch (`request=False`: the
    response record alone; the request headers are then kept in the capture's document).

    With `rendering` (a browser capture: `body` is then the rendered DOM), the response record holds
    `rendering["server_body"]` and `rendering["server_headers"]`, and the DOM follows as its own
    record (see the module docstring)."""
    if rendering is not None:
        return _build_rendered(url, status, headers, body, fetched_at, request_headers, method,
                               extra, rendering, gzip_level)
    out = io.BytesIO()
    writer = gzip_writer(out, gzip_level)
    date = fetched_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    resp_headers = []
    for name, value in headers:
        if name.lower() in _REWRITTEN:
            resp_headers.append((f"X-Archive-Orig-{name}", value))
        else:
            resp_headers.append((name, value))
    resp_headers.append(("Content-Length", str(len(body))))
    warc_headers = {"WARC-Date": date, **(extra or {})}
    response = writer.create_warc_record(
        url, "response", payload=io.BytesIO(body), length=len(body),
        http_headers=StatusAndHeaders(_status_line(status), resp_headers, protocol="HTTP/1.1"),
        warc_headers_dict=warc_headers)
    if not request:
        writer.write_record(response)
        return out.getvalue()
    path = url.split("://", 1)[-1].partition("/")[2]
    request_record = writer.create_warc_record(
        url, "request", payload=io.BytesIO(b""), length=0,
        http_headers=StatusAndHeaders(f"{method} /{path} HTTP/1.1", list(request_headers),
                                      is_http_request=True),
        warc_headers_dict={"WARC-Date": date})
    writer.write_request_response_pair(request_record, response)
    return out.getvalue()


def capture_warc(url: str, status: int, headers: Iterable[tuple[str, str]], body: bytes,
                 fetched_at: datetime, request_headers: Iterable[tuple[str, str]] = (),
                 extra: dict[str, str] | None = None,
                 rendering: Mapping[str, Any] | None = None,
                 gzip_level: int = GZIP_LEVEL) -> tuple[bytes, str]:
    """The raw WARC of a capture as the archive stores it, and the sha1 of `body` (hex).

    A plain capture is its response record alone (its request headers go to the document); a
    browser capture keeps the request record beside the server's response and the DOM. Pure and
    picklable: the extraction workers prepare it (pipelines/page.py), off the reactor's core."""
    raw = build_warc(url, status, headers, body, fetched_at, request_headers, extra=extra,
                     rendering=rendering, request=rendering is not None, gzip_level=gzip_level)
    return raw, hashlib.sha1(body).hexdigest()


def _build_rendered(url: str, status: int, headers: Iterable[tuple[str, str]], dom: bytes,
                    fetched_at: datetime, request_headers: Iterable[tuple[str, str]], method: str,
                    extra: dict[str, str] | None, rendering: Mapping[str, Any],
                    gzip_level: int = GZIP_LEVEL) -> bytes:
    server_body: bytes | None = rendering.get("server_body")
    server_headers = list(rendering.get("server_headers") or headers)
    date = fetched_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    out = io.BytesIO()
    if server_body is not None:
        out.write(build_warc(url, status, server_headers, server_body, fetched_at, request_headers,
                             method, extra, gzip_level=gzip_level))
    writer = gzip_writer(out, gzip_level)
    records = list(ArchiveIterator(io.BytesIO(out.getvalue()))) if server_body is not None else []
    response_id = next((r.rec_headers.get_header("WARC-Record-ID") for r in records
                        if r.rec_type == "response"), None)
    encoding = rendering.get("encoding") or "utf-8"
    warc_headers = {"WARC-Date": date, "X-Govarchive-Capture": RENDERED_MARK,
                    "X-Govarchive-Rendered-By": str(rendering.get("by") or "a browser")}
    if response_id:
        warc_headers["WARC-Refers-To"] = response_id
    else:  # no server bytes: the request record goes first and the DOM is concurrent to it
        path = url.split("://", 1)[-1].partition("/")[2]
        request = writer.create_warc_record(
            url, "request", payload=io.BytesIO(b""), length=0,
            http_headers=StatusAndHeaders(f"{method} /{path} HTTP/1.1", list(request_headers),
                                          is_http_request=True),
            warc_headers_dict={"WARC-Date": date})
        writer.write_record(request)
        warc_headers["WARC-Concurrent-To"] = request.rec_headers.get_header("WARC-Record-ID")
    record = writer.create_warc_record(
        url, "conversion" if response_id else "resource", payload=io.BytesIO(dom), length=len(dom),
        warc_content_type=f"text/html; charset={encoding}", warc_headers_dict=warc_headers)
    writer.write_record(record)
    return out.getvalue()


def read_rendered(data: bytes) -> bytes | None:
    """The browser-rendered DOM stored in a WARC, or None for a plain HTTP capture."""
    for record in ArchiveIterator(io.BytesIO(data)):
        if record.rec_headers.get_header("X-Govarchive-Capture") == RENDERED_MARK:
            return bytes(record.content_stream().read())
    return None


def read_response(data: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
    """(status, headers, body) of the first response record in a WARC."""
    for record in ArchiveIterator(io.BytesIO(data)):
        if record.rec_type == "response":
            http = record.http_headers
            return int(http.get_statuscode()), list(http.headers), record.content_stream().read()
    raise ValueError("no response record in WARC")
