"""The capture layout on top of an ArchiveStore: write a capture, list and read captures by URL."""
from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipelines.storage.base import ArchiveStore, NotFound
from pipelines.storage.gz import gzip_member
from pipelines.storage.keys import (
    CaptureName,
    canonical_url,
    capture_name,
    parse_key,
    parse_stamp,
    url_prefix,
    url_prefix_query,
)
from pipelines.storage.warc import GZIP_LEVEL, build_warc, capture_warc, describe_rendering, read_response

SCHEMA = 2
# Schema 2 documents leave out what their key and URL already say, and empty fields: `raw_key`,
# `captured_at` (the key's stamp), `canonical_url` (kept when it differs from `url`), `variant`,
# `raw_sha1` (the WARC's payload digest has it; the key its first 12 digits), and null or empty
# values of fields other than `_ALWAYS`. `Archive.document` puts the derived ones back (a missing
# optional field reads as absent), so readers see schema-1 and schema-2 documents alike.
_ALWAYS = frozenset({"title", "text", "text_fingerprint", "published_at", "source", "editor", "errors",
                     "site", "column", "keywords", "gkml"})
# WARC 1.1 revisit profiles (section 6.7): same payload as the capture referred to, or a 304.
PROFILE_IDENTICAL = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
PROFILE_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"


#: Gzip level of the JSON documents (ISA-L's 2: a document of a few KB costs ~15 µs, where zlib's 6
#: costs ~40, most of it setting up its 256 KB of state, for ~1% more bytes).
DOC_GZIP_LEVEL = 2


def _gz(obj: dict[str, Any]) -> bytes:
    return gzip_member(json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode(), DOC_GZIP_LEVEL)


def _compact(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k in _ALWAYS or (v is not None and v != [] and v != {})}


def _completed(doc: dict[str, Any], name: CaptureName) -> dict[str, Any]:
    """A stored document with the fields schema 2 derives from the key and the URL put back."""
    doc.setdefault("raw_key", name.raw_key)
    doc.setdefault("captured_at", name.captured_at.isoformat())
    doc.setdefault("kind", name.kind)
    if "url" in doc:
        doc.setdefault("canonical_url", doc["url"])
    doc.setdefault("variant", None)
    if "pages" in doc:  # a multi-page article: no page missing is `incomplete: []`, said explicitly
        doc.setdefault("incomplete", [])
    return doc


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


@dataclass(frozen=True)
class Written:
    """What a re-fetch became: `new`, `changed` (a new capture), `unchanged` (a revisit), `removed`."""

    name: CaptureName
    outcome: str
    fingerprint: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "key": self.name.doc_key, "stamp": self.name.stamp,
                "kind": self.name.kind, "digest": self.name.digest, "fingerprint": self.fingerprint}


def _status(code: int) -> str:
    try:
        return f"{code} {HTTPStatus(code).phrase}"
    except ValueError:
        return f"{code} Unknown"


def _warc_date(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _revisit_warc(url: str, status_line: str, headers: Iterable[tuple[str, str]], fetched_at: datetime,
                  request_headers: Iterable[tuple[str, str]], profile: str, refers_to: CaptureName,
                  payload_sha1: str | None) -> bytes:
    """A gzipped WARC with the request and a `revisit` record (headers only, no payload)."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
    date = _warc_date(fetched_at)
    warc_headers = {"WARC-Date": date, "WARC-Profile": profile,
                    "WARC-Refers-To-Target-URI": url,
                    "WARC-Refers-To-Date": _warc_date(refers_to.captured_at)}
    if payload_sha1:
        warc_headers["WARC-Payload-Digest"] = "sha1:" + base64.b32encode(
            bytes.fromhex(payload_sha1)).decode()
    revisit = writer.create_warc_record(
        url, "revisit", http_headers=StatusAndHeaders(status_line, list(headers), protocol="HTTP/1.1"),
        warc_headers_dict=warc_headers)
    path = url.split("://", 1)[-1].partition("/")[2]
    request = writer.create_warc_record(
        url, "request", payload=io.BytesIO(b""), length=0,
        http_headers=StatusAndHeaders(f"GET /{path} HTTP/1.1", list(request_headers),
                                      is_http_request=True),
        warc_headers_dict={"WARC-Date": date})
    writer.write_request_response_pair(request, revisit)
    return out.getvalue()


class Archive:
    def __init__(self, store: ArchiveStore, warc_gzip_level: int = GZIP_LEVEL) -> None:
        self.store = store
        self.warc_gzip_level = warc_gzip_level  # the WARCs made here (ARCHIVE_WARC_GZIP_LEVEL)

    # -- writing -------------------------------------------------------------------------------
    def write_capture(self, *, url: str, status: int, headers: Iterable[tuple[str, str]],
                      body: bytes | None, fetched_at: datetime, document: dict[str, Any],
                      request_headers: Iterable[tuple[str, str]] = (), kind: str = "capture",
                      warc_extra: dict[str, str] | None = None,
                      rendering: Mapping[str, Any] | None = None,
                      prepared: Mapping[str, Any] | None = None) -> CaptureName:
        """Archive the raw exchange, then the document. The document is written last: a capture
        is listed once its document exists, so a crash between the two leaves raw bytes and no
        half record.

        `prepared` is the raw WARC made beforehand by `capture_warc` (`warc`, `sha1`, `raw_bytes`:
        the extraction workers make it), and `body` may then be None."""
        canonical, variant = canonical_url(url)
        request_headers = list(request_headers)
        if prepared is not None:
            raw, digest, size = prepared["warc"], prepared["sha1"], int(prepared["raw_bytes"])
        elif body is not None:
            # A browser capture (issue 6): `body` is the rendered DOM, the server's bytes are in
            # `rendering`.
            raw, digest = capture_warc(url, status, headers, body, fetched_at, request_headers,
                                       extra=warc_extra, rendering=rendering,
                                       gzip_level=self.warc_gzip_level)
            size = len(body)
        else:
            raise ValueError(f"capture of {url} with neither a body nor a prepared WARC")
        name = capture_name(url_prefix(canonical), fetched_at, kind, digest)
        self.store.put(name.raw_key, raw, "application/warc")
        doc = {"schema": SCHEMA, "url": url, "canonical_url": canonical if canonical != url else None,
               "variant": variant, "kind": kind, "status": status, "raw_bytes": size, **document}
        if rendering is not None:
            if body is not None:
                doc["rendered"] = describe_rendering(rendering, body)
        else:  # the WARC has no request record: what was sent is kept here
            doc["request_headers"] = [list(pair) for pair in request_headers]
        doc.setdefault("text_fingerprint", text_fingerprint(doc.get("text")))
        self.store.put(name.doc_key, _gz(_compact(doc)), "application/json")
        return name

    def write_fetched(self, *, url: str, status: int, headers: Iterable[tuple[str, str]],
                      body: bytes | None, fetched_at: datetime, document: dict[str, Any],
                      request_headers: Iterable[tuple[str, str]] = (),
                      previous: Mapping[str, Any] | None = None,
                      warc_extra: dict[str, str] | None = None,
                      rendering: Mapping[str, Any] | None = None,
                      prepared: Mapping[str, Any] | None = None) -> Written:
        """Archive a page fetched with status 200, as a new version only when it changed.

        `previous` is what the site index knows of the URL (`stamp`/`captured`, `digest`,
        `fingerprint`), None for a URL never archived. Same bytes as the latest capture, or same
        clean-text fingerprint: a `revisit` (outcome `unchanged`); otherwise a `capture` (`new` or
        `changed`). `prepared`: see `write_capture`."""
        headers, request_headers = list(headers), list(request_headers)
        fingerprint = document.get("text_fingerprint") or text_fingerprint(document.get("text"))
        if previous is not None:
            original = self.latest_content(url)
            if original is not None:
                sha1 = prepared["sha1"] if prepared is not None else hashlib.sha1(body or b"").hexdigest()
                # A multi-page article (`pages`) is unchanged when its merged text is: its first
                # page's bytes say nothing of the others.
                same_bytes = sha1[:12] == original.name.digest and not document.get("pages")
                old_fp = previous.get("fingerprint") if previous.get("captured") == original.timestamp \
                    else None
                if not same_bytes and fingerprint is not None and old_fp is None:
                    old_fp = self.document(original, resolve=False).get("text_fingerprint")
                if same_bytes or (fingerprint is not None and fingerprint == old_fp):
                    if body is None and not same_bytes and prepared is not None:
                        body = read_response(prepared["warc"])[2]
                    # The revisit keeps what this fetch learnt of the article's attachments
                    # (archived anew, unchanged…): read back, it overlays the original's list.
                    name = self.write_revisit(
                        url=url, status=status, headers=headers, fetched_at=fetched_at,
                        request_headers=request_headers, refers_to=original.name,
                        body=b"" if same_bytes else (body or b""), payload_sha1=sha1,
                        document={k: document.get(k) for k in ("site", "column", "attachments")},
                        fingerprint=fingerprint or old_fp)
                    return Written(name, "unchanged", fingerprint or old_fp)
        name = self.write_capture(url=url, status=status, headers=headers, body=body,
                                  fetched_at=fetched_at, document=document,
                                  request_headers=request_headers, warc_extra=warc_extra,
                                  rendering=rendering, prepared=prepared)
        return Written(name, "new" if previous is None else "changed", fingerprint)

    def write_revisit(self, *, url: str, status: int, headers: Iterable[tuple[str, str]],
                      fetched_at: datetime, refers_to: CaptureName,
                      request_headers: Iterable[tuple[str, str]] = (), body: bytes = b"",
                      payload_sha1: str | None = None, document: Mapping[str, Any] | None = None,
                      fingerprint: str | None = None) -> CaptureName:
        """A small `revisit` record: the page was seen again and its text had not changed.

        A 304, or a 200 with the capture's very bytes, is stored as a WARC `revisit` record (headers
        only, WARC 1.1 profile server-not-modified / identical-payload-digest). A 200 whose bytes
        differ but whose clean text is the same keeps its bytes in a `response` record: the archive
        stays faithful to what was served. The document is tiny and names the capture it refers to.
        """
        canonical, variant = canonical_url(url)
        if status == 304:
            profile = PROFILE_NOT_MODIFIED
        elif not body:
            profile = PROFILE_IDENTICAL
        else:
            profile = "same-text"
        digest = payload_sha1 or refers_to.digest
        name = capture_name(url_prefix(canonical), fetched_at, "revisit", digest)
        if profile == "same-text":
            raw = build_warc(url, status, headers, body, fetched_at, request_headers,
                             extra={"WARC-Refers-To-Target-URI": url,
                                    "WARC-Refers-To-Date": _warc_date(refers_to.captured_at)},
                             gzip_level=self.warc_gzip_level)
        else:
            raw = _revisit_warc(url, _status(status), headers, fetched_at, request_headers,
                                profile, refers_to, payload_sha1 if profile == PROFILE_IDENTICAL
                                else None)
        self.store.put(name.raw_key, raw, "application/warc")
        doc = {"schema": SCHEMA, "url": url, "canonical_url": canonical if canonical != url else None,
               "variant": variant, "kind": "revisit", "status": status, "raw_bytes": len(body),
               "profile": profile, "refers_to": refers_to.doc_key, "text_fingerprint": fingerprint,
               **(document or {})}
        self.store.put(name.doc_key, _gz(_compact(doc)), "application/json")
        return name

    def write_removed(self, *, url: str, status: int, headers: Iterable[tuple[str, str]], body: bytes,
                      fetched_at: datetime, request_headers: Iterable[tuple[str, str]] = (),
                      document: Mapping[str, Any] | None = None) -> CaptureName:
        """A `removed` record: the page now answers 404/410. The error response is kept as served."""
        canonical, variant = canonical_url(url)
        digest = hashlib.sha1(body).hexdigest()
        name = capture_name(url_prefix(canonical), fetched_at, "removed", digest)
        self.store.put(name.raw_key, build_warc(url, status, headers, body, fetched_at, request_headers,
                                                gzip_level=self.warc_gzip_level), "application/warc")
        doc = {"schema": SCHEMA, "url": url, "canonical_url": canonical if canonical != url else None,
               "variant": variant, "kind": "removed", "status": status, "raw_bytes": len(body),
               **(document or {})}
        self.store.put(name.doc_key, _gz(_compact(doc)), "application/json")
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

    def latest_content(self, url: str) -> Capture | None:
        """The newest `capture` (a version with content) of a URL, ignoring revisits and removals."""
        return next((c for c in self.captures(url) if c.kind == "capture"), None)

    def document(self, capture: Capture, resolve: bool = True) -> dict[str, Any]:
        """The capture's JSON document. A revisit resolves to the content of the capture it refers
        to, with the revisit's own time, kind, status and keys laid over it (as Wayback replays)."""
        doc: dict[str, Any] = _completed(
            json.loads(gzip.decompress(self.store.get(capture.name.doc_key))), capture.name)
        if resolve and doc.get("kind") == "revisit" and doc.get("refers_to"):
            original = parse_key(doc["refers_to"])
            if original is not None:
                base = self.document(Capture(original), resolve=False)
                return {**base, **{k: v for k, v in doc.items() if v is not None}}
        return doc

    def raw_warc(self, capture: Capture) -> bytes:
        return self.store.get(capture.name.raw_key)

    def raw_response(self, capture: Capture) -> tuple[int, list[tuple[str, str]], bytes]:
        """(status, headers, body) as served. A revisit without payload gives its original's."""
        try:
            return read_response(self.raw_warc(capture))
        except ValueError:
            if capture.kind != "revisit":
                raise
            doc = self.document(capture, resolve=False)
            original = parse_key(doc.get("refers_to") or "")
            if original is None:
                raise
            return read_response(self.raw_warc(Capture(original)))
