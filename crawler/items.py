"""What the spider hands to the pipelines: one fetched page, raw, with where it came from."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class PageCapture:
    url: str
    site: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    fetched_at: datetime
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    column: str | None = None
    overrides: dict[str, str] = field(default_factory=dict)
    # Set when the page came through a browser (crawler/browser.py): `body` is then the rendered DOM,
    # and this holds the server's own bytes and headers of the main document (`server_body`, None
    # when the browser did not expose them), `by`, `reason`, `encoding`, `navigations`.
    rendering: dict[str, Any] | None = None
    # Multi-page articles (crawler/multipage.py). On the first page: its other pages as fetched, in
    # order (`url`, `page`, `status`, `stamp`, `raw_sha1`, `body`, `content_type`, `decoding`), merged
    # into its document, and the pages that could not be had (`url`, `page`, `reason`). On any
    # other page: the first page's URL and this page's number (`url`, `page`).
    parts: list[dict[str, Any]] = field(default_factory=list)
    missing_parts: list[dict[str, Any]] = field(default_factory=list)
    part_of: dict[str, Any] | None = None
    # Filled in by the pipelines, stage by stage.
    decoding: dict[str, Any] | None = None
    html: str | None = None
    document: dict[str, Any] | None = None
    errors: list[str] = field(default_factory=list)
    # The raw WARC made by the extraction worker (`warc`, `sha1`, `raw_bytes`), so that the archive
    # stage only writes it; None when it was not made there (a browser capture, a lost worker).
    prepared: dict[str, Any] | None = None
    # A re-check of an archived URL: its site-index entry (None for a URL never archived). The
    # archive stage then stores a new version only when the page changed.
    previous: dict[str, Any] | None = None
    # Set by the archive stage: what the write became (outcome new/changed/unchanged, key, stamp…).
    archived: dict[str, Any] | None = None
    # Set by the attachments stage (pipelines/attachments.py): the files fetched for this article,
    # each the fields of one archive write (url, status, headers, body, fetched_at, …).
    attachment_files: list[dict[str, Any]] = field(default_factory=list)

    @property
    def content_type(self) -> str | None:
        for name, value in self.headers:
            if name.lower() == "content-type":
                return value
        return None


@dataclass
class StatusRecord:
    """A re-check that brought no page to extract: `revisit` (HTTP 304 Not Modified) or `removed`
    (404/410). The encoding and extraction stages pass it by; the archive stage writes a small record.
    """

    url: str
    site: str
    kind: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    fetched_at: datetime
    previous: dict[str, Any]
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    column: str | None = None
    archived: dict[str, Any] | None = None
