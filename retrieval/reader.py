"""Listing and reading captures for the service, on top of `pipelines.storage.archive.Archive`.

Every method here blocks (disk or S3): the web layer calls them in a worker thread. A listing page
reads the documents of the captures it shows (for status, title and fingerprint) concurrently, so a
page costs one key listing plus `limit` small reads.
"""
from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pipelines.storage.archive import Archive, Capture
from pipelines.storage.base import NotFound
from pipelines.storage.keys import parse_key
from retrieval.query import Cursor

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Query:
    """A validated captures query: the key prefix to list, and the filters."""

    url: str
    match: str
    prefix: str
    since: str | None = None  # 20-digit stamp, inclusive
    until: str | None = None  # 20-digit stamp, inclusive
    limit: int = 100
    cursor: Cursor | None = None


@dataclass(frozen=True)
class Listed:
    """One capture as listed: its name and the fields of its document a listing shows."""

    capture: Capture
    url: str | None
    status: int | None
    title: str | None
    text_fingerprint: str | None
    content_type: str | None

    def as_dict(self) -> dict[str, Any]:
        name = self.capture.name
        return {"url": self.url, "timestamp": name.stamp,
                "captured_at": self.capture.captured_at.isoformat(), "kind": name.kind,
                "status": self.status, "title": self.title, "text_fingerprint": self.text_fingerprint,
                "digest": name.digest, "content_type": self.content_type}


@dataclass(frozen=True)
class Page:
    items: list[Listed]
    next_cursor: Cursor | None
    total: int | None  # known for an exact-URL listing, None for a prefix listing


def _newest_first_by_url(keyed: Iterable[tuple[str, Capture]]) -> Iterator[Capture]:
    """Key-ordered (URL prefix, capture) pairs → URL by URL, newest capture first within each."""
    for _, group in itertools.groupby(keyed, key=lambda pair: pair[0]):
        yield from sorted((c for _, c in group), key=lambda c: c.timestamp, reverse=True)


def _after(captures: Iterable[Capture], cursor: Cursor | None) -> Iterator[Capture]:
    """Captures that come after the cursor in listing order (URL ascending, time descending)."""
    for capture in captures:
        name = capture.name
        if cursor is None or name.prefix > cursor.prefix or (
                name.prefix == cursor.prefix and name.stamp < cursor.stamp):
            yield capture


def _in_range(capture: Capture, query: Query) -> bool:
    return (query.since is None or capture.timestamp >= query.since) and (
        query.until is None or capture.timestamp <= query.until)


class Reader:
    """Read side of the archive for the service. Thread-safe: stores are, and this keeps no state."""

    def __init__(self, archive: Archive, workers: int = 16) -> None:
        self.archive = archive
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="retrieval-read")

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    # -- listings ----------------------------------------------------------------------------------
    def captures(self, url: str) -> list[Capture]:
        """All captures of one URL (mirror URLs resolve to the Simplified page's), newest first."""
        return self.archive.captures(url)

    def page(self, query: Query) -> Page:
        """One page of a captures listing, with a cursor to the next page when there is more."""
        total: int | None = None
        if query.match == "exact":
            every = [c for c in self.archive.captures(query.url) if _in_range(c, query)]
            total = len(every)
            candidates: Iterator[Capture] = _after(every, query.cursor)
        else:
            keyed = ((name.prefix, Capture(name)) for key in self.archive.store.list(query.prefix)
                     if key.endswith(".json.gz") and (name := parse_key(key)) is not None)
            candidates = (c for c in _after(_newest_first_by_url(keyed), query.cursor)
                          if _in_range(c, query))
        chosen = list(itertools.islice(candidates, query.limit + 1))
        more = len(chosen) > query.limit
        chosen = chosen[:query.limit]
        listed = [item for item in self._pool.map(self._listed, chosen) if item is not None]
        cursor = Cursor(chosen[-1].name.prefix, chosen[-1].timestamp) if more and chosen else None
        return Page(listed, cursor, total)

    def _listed(self, capture: Capture) -> Listed | None:
        try:
            doc = self.archive.document(capture)
        except NotFound:  # removed between the listing and the read
            logger.warning("listed capture has no document any more: %s", capture.name.doc_key)
            return None
        return summarize(capture, doc)

    # -- one capture -------------------------------------------------------------------------------
    def pick(self, url: str, at: datetime | None) -> Capture:
        """The latest capture of a URL, or the one closest to `at`. NotFound when none."""
        return self.archive.pick(url, at)

    def document(self, capture: Capture) -> dict[str, Any]:
        return self.archive.document(capture)

    def raw_warc(self, capture: Capture) -> bytes:
        return self.archive.raw_warc(capture)

    def raw_response(self, capture: Capture) -> tuple[int, list[tuple[str, str]], bytes]:
        """(status, headers, body) as served. ValueError when the record holds no payload."""
        return self.archive.raw_response(capture)


def summarize(capture: Capture, doc: dict[str, Any]) -> Listed:
    """The listing fields of a capture from its document."""
    status = doc.get("status")
    return Listed(capture=capture, url=_text(doc.get("url")),
                  status=status if isinstance(status, int) else None, title=_text(doc.get("title")),
                  text_fingerprint=_text(doc.get("text_fingerprint")),
                  content_type=_text(doc.get("content_type")))


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
