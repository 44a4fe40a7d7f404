"""WARC records (gzipped, written with warcio) for one HTTP exchange."""
from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import UTC, datetime
from http import HTTPStatus

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

# Scrapy hands us bodies already de-chunked and decompressed; headers that would no longer describe
# the stored body keep their value under the replay tools' `X-Archive-Orig-` convention.
_REWRITTEN = {"content-encoding", "transfer-encoding", "content-length"}


def _status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


def build_warc(url: str, status: int, headers: Iterable[tuple[str, str]], body: bytes,
               fetched_at: datetime, request_headers: Iterable[tuple[str, str]] = (),
               method: str = "GET", extra: dict[str, str] | None = None) -> bytes:
    """A gzipped WARC holding the request and response records of one fetch."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
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
    path = url.split("://", 1)[-1].partition("/")[2]
    request = writer.create_warc_record(
        url, "request", payload=io.BytesIO(b""), length=0,
        http_headers=StatusAndHeaders(f"{method} /{path} HTTP/1.1", list(request_headers),
                                      is_http_request=True),
        warc_headers_dict={"WARC-Date": date})
    writer.write_request_response_pair(request, response)
    return out.getvalue()


def read_response(data: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
    """(status, headers, body) of the first response record in a WARC."""
    for record in ArchiveIterator(io.BytesIO(data)):
        if record.rec_type == "response":
            http = record.http_headers
            return int(http.get_statuscode()), list(http.headers), record.content_stream().read()
    raise ValueError("no response record in WARC")
