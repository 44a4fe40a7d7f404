"""The capture layout on top of an ArchiveStore: write a capture, list and read captures by URL."""
from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pipelines.storage.base import ArchiveStore, NotFound
from pipelines.storage.keys import (
    CaptureName,
    canonical_url,
    capture_name,
    parse_key,
    parse_stamp,
    url_prefix,
    url_prefix_query,
)
from pipelines.storage.warc import build_warc, read_response

SCHEMA = 1


def _gz(obj: dict[str, Any]) -> bytes:
    raw = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()
    return gzip.compress(raw, compresslevel=6, mtime=0)


def text_fingerprint(text: str | None) -> str | None:
    """A fingerprint of clean text insensitive to whitespace: equal texts, equal fingerprints."""
    if text is None:
        return None
    return hashlib.sha1("".join(text.split()).encode()).hexdigest()


@dataclass(frozen=True)
class Capture:
    """One listed capture, known from its key alone."""

    name: CaptureName

    @property
    def captured_at(self) -> datetime:
        return self.name.captured_at

    @property
    def kind(self) -> str:
        return self.name.kind

    @property
    def timestamp(self) -> str:
        return self.name.stamp


def parse_timestamp(text: str) -> datetime:
    """A Wayback-style timestamp prefix (`2026`, `20261122`, `20261122043000`…) or ISO 8601."""
    digits = text.strip()
    if digits.isdigit() and 4 <= len(digits) <= 20 and len(digits) % 2 == 0:
        return parse_stamp(digits + "00000101000000000000"[len(digits):])
    value = datetime.fromisoformat(digits.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class Archive:
    def __init__(self, store: ArchiveStore) -> None:
        self.store = store

    # -- writing -------------------------------------------------------------------------------
    def write_capture(self, *, url: str, status: int, headers: Iterable[tuple[str, str]], body: bytes,
                      fetched_at: datetime, document: dict[str, Any],
                      request_headers: Iterable[tuple[str, str]] = (), kind: str = "capture",
                      warc_extra: dict[str, str] | None = None) -> CaptureName:
        """Archive the raw exchange, then the document. The document is written last: a capture
        is listed once its document exists, so a crash between the two leaves raw bytes and no
        half record."""
        canonical, variant = canonical_url(url)
        digest = hashlib.sha1(body).hexdigest()
        name = capture_name(url_prefix(canonical), fetched_at, kind, digest)
        raw = build_warc(url, status, headers, body, fetched_at, request_headers, extra=warc_extra)
        self.store.put(name.raw_key, raw, "application/warc")
        doc = {"schema": SCHEMA, "url": url, "canonical_url": canonical, "variant": variant,
               "captured_at": fetched_at.astimezone(UTC).isoformat(), "kind": kind,
               "status": status, "raw_key": name.raw_key, "raw_sha1": digest, "raw_bytes": len(body),
               **document}
        doc.setdefault("text_fingerprint", text_fingerprint(doc.get("text")))
        self.store.put(name.doc_key, _gz(doc), "application/json")
        return name

    # -- reading -------------------------------------------------------------------------------
    def captures(self, url: str) -> list[Capture]:
        """The captures of one URL (or its mirror), newest first."""
        canonical, _ = canonical_url(url)
        return self._listed(url_prefix(canonical))

    def captures_by_prefix(self, url_prefix_text: str) -> Iterator[tuple[str, Capture]]:
        """(key prefix, capture) for every URL under a URL prefix, in key order."""
        for key in self.store.list(url_prefix_query(url_prefix_text)):
            name = parse_key(key)
            if name and key.endswith(".json.gz"):
                yield name.prefix, Capture(name)

    def _listed(self, prefix: str) -> list[Capture]:
        found = [Capture(n) for k in self.store.list(prefix)
                 if k.endswith(".json.gz") and (n := parse_key(k))]
        return sorted(found, key=lambda c: c.timestamp, reverse=True)

    def pick(self, url: str, at: datetime | None = None) -> Capture:
        """The latest capture, or the one closest in time to `at`. NotFound when none."""
        found = self.captures(url)
        if not found:
            raise NotFound(f"no capture of {url} in {self.store.uri}")
        if at is None:
            return found[0]
        return min(found, key=lambda c: abs((c.captured_at - at).total_seconds()))

    def document(self, capture: Capture) -> dict[str, Any]:
        return json.loads(gzip.decompress(self.store.get(capture.name.doc_key)))  # type: ignore[no-any-return]

    def raw_warc(self, capture: Capture) -> bytes:
        return self.store.get(capture.name.raw_key)

    def raw_response(self, capture: Capture) -> tuple[int, list[tuple[str, str]], bytes]:
        return read_response(self.raw_warc(capture))
