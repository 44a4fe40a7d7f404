"""The archive stage's pure part: which archive write an item asks for, as data (a spool record),
and that write done against an Archive. No Scrapy and no reactor here; pipelines/archive.py drives it.

Replays are idempotent: a record's fetch time fixes its capture keys, and a replay first looks
whether a record with that fetch time is already listed (`already_written`).
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Any

from crawler.items import PageCapture, StatusRecord
from pipelines.extraction import EXTRACTOR_NAME, EXTRACTOR_VERSION
from pipelines.storage import ArchiveError
from pipelines.storage.archive import Archive
from pipelines.storage.keys import canonical_url, parse_key, stamp, url_prefix
from pipelines.storage.spool import SpoolRecord

Result = dict[str, Any]  # what a write became; set as `item.archived` (outcome, key, stamp, kind…)


class NotArchivable(Exception):
    """A record that will never be written, with a short reason for the stats (`no_original`)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


# Errors that make a record unwritable for good (a malformed record, a URL that is not http(s)):
# set aside in the spool's quarantine folder. Anything else (ArchiveError above all) is retried.
PERMANENT = (ValueError, KeyError, TypeError)


def permanent(exc: BaseException) -> bool:
    """True for an error no retry can cure; the store's errors (ArchiveError) are never that."""
    return isinstance(exc, PERMANENT) and not isinstance(exc, ArchiveError)


def document_for(item: PageCapture) -> dict[str, Any]:
    """The JSON document archived beside the raw capture."""
    doc: dict[str, Any] = {"site": item.site, "column": item.column,
                           "content_type": item.content_type, "encoding": item.decoding,
                           "errors": item.errors or None}
    doc.update(item.document or {"text": None, "title": None})
    doc["extractor"] = {"name": EXTRACTOR_NAME, "version": EXTRACTOR_VERSION,
                        "layers": doc.pop("extracted_by", None)}
    doc.update(_pages_of(item))
    return doc


def _pages_of(item: PageCapture) -> dict[str, Any]:
    """Multi-page articles: the first page's document lists every page it merged (`pages`: page
    number, URL, the capture's stamp and sha1 — `archive get URL --at STAMP` gives that page) and the
    pages it lacks (`incomplete`, empty when none); another page's says whose part it is."""
    if item.part_of is not None:
        return {"part_of": item.part_of["url"], "page": item.part_of["page"]}
    if not item.parts and not item.missing_parts:
        return {}
    first = {"page": 1, "url": item.url, "stamp": stamp(item.fetched_at), "status": item.status,
             "raw_sha1": hashlib.sha1(item.body).hexdigest()}
    return {"pages": [first] + [{k: p.get(k) for k in ("page", "url", "stamp", "status", "raw_sha1")}
                                for p in item.parts],
            "incomplete": [dict(m) for m in item.missing_parts]}


# -- records: what to write, as data (spooled as is) -------------------------------------------------
def record_for(item: Any) -> SpoolRecord | None:
    """The archive write an item asks for, complete; None for items this stage passes by."""
    common = {"url": item.url, "status": item.status, "headers": item.headers, "body": item.body,
              "fetched_at": item.fetched_at, "request_headers": item.request_headers,
              "previous": item.previous} if isinstance(item, PageCapture | StatusRecord) else {}
    if isinstance(item, PageCapture):
        if item.prepared is not None:  # the raw WARC made by the extraction worker: no body needed
            common = {**common, "body": None, "prepared": item.prepared}
        return SpoolRecord("fetched", item.url, item.fetched_at,
                           {**common, "document": document_for(item),
                            "rendering": item.rendering})  # browser captures (issue 6)
    if isinstance(item, StatusRecord):  # a re-check's 304 (revisit) or 404/410 (removed)
        return SpoolRecord(item.kind, item.url, item.fetched_at,
                           {**common, "document": {"site": item.site, "column": item.column}})
    return None


def record_size(record: SpoolRecord) -> int:
    """The page's size in bytes (`archive/bytes`)."""
    prepared = record.fields.get("prepared")
    if prepared:
        return int(prepared["raw_bytes"])
    return len(record.fields.get("body") or b"")


def _pairs(headers: Iterable[Any]) -> list[tuple[str, str]]:
    return [(str(k), str(v)) for k, v in headers]


def _write_fetched(archive: Archive, f: dict[str, Any]) -> Result:
    written = archive.write_fetched(
        url=f["url"], status=f["status"], headers=_pairs(f["headers"]), body=f["body"],
        fetched_at=f["fetched_at"], request_headers=_pairs(f["request_headers"]),
        document=f["document"], previous=f["previous"], rendering=f.get("rendering"),
        prepared=f.get("prepared"))
    return written.as_dict()


def _write_attachment(archive: Archive, f: dict[str, Any]) -> Result:
    """A file an article links to (pipelines/attachments.py), archived raw under its own URL."""
    name = archive.write_capture(
        url=f["url"], status=f["status"], headers=_pairs(f["headers"]), body=f["body"],
        fetched_at=f["fetched_at"], request_headers=_pairs(f["request_headers"]),
        document=f["document"], kind="attachment")
    return {"outcome": "attachment", "key": name.doc_key, "stamp": name.stamp, "kind": name.kind,
            "digest": name.digest, "fingerprint": None}


def attachment_records(item: Any) -> list[SpoolRecord]:
    """The archive writes of the files the attachments stage fetched for an article."""
    return [SpoolRecord("attachment", f["url"], f["fetched_at"], f)
            for f in getattr(item, "attachment_files", None) or ()]


def _write_revisit(archive: Archive, f: dict[str, Any]) -> Result:
    original = archive.latest_content(f["url"])
    if original is None:
        raise NotArchivable("no_original", f"304 for {f['url']}, which has no capture to refer to")
    name = archive.write_revisit(
        url=f["url"], status=f["status"], headers=_pairs(f["headers"]), fetched_at=f["fetched_at"],
        request_headers=_pairs(f["request_headers"]), refers_to=original.name,
        document=f["document"], fingerprint=(f["previous"] or {}).get("fingerprint"))
    return {"outcome": "unchanged", "key": name.doc_key, "stamp": name.stamp, "kind": name.kind,
            "digest": name.digest, "fingerprint": None}


def _write_removed(archive: Archive, f: dict[str, Any]) -> Result:
    name = archive.write_removed(
        url=f["url"], status=f["status"], headers=_pairs(f["headers"]), body=f["body"],
        fetched_at=f["fetched_at"], request_headers=_pairs(f["request_headers"]),
        document=f["document"])
    return {"outcome": "removed", "key": name.doc_key, "stamp": name.stamp, "kind": name.kind,
            "digest": name.digest, "fingerprint": None}


# One writer per record op; a new kind of write is one function and one entry here.
WRITERS: dict[str, Callable[[Archive, dict[str, Any]], Result]] = {
    "fetched": _write_fetched,
    "revisit": _write_revisit,
    "removed": _write_removed,
    "attachment": _write_attachment,
}


def already_written(archive: Archive, record: SpoolRecord) -> Result | None:
    """What an earlier, interrupted attempt at this very record completed, if it did.

    Every write names its keys by the fetch time, so a record whose document is listed with that
    stamp is done; a raw WARC without its document is not, and the retry overwrites it."""
    want = stamp(record.fetched_at)
    for key in archive.store.list(url_prefix(canonical_url(record.url)[0])):
        name = parse_key(key)
        if name is None or name.stamp != want or not key.endswith(".json.gz"):
            continue
        outcome = {"revisit": "unchanged", "removed": "removed",
                   "attachment": "attachment"}.get(name.kind) or (
            "new" if record.fields.get("previous") is None else "changed")
        return {"outcome": outcome, "key": name.doc_key, "stamp": name.stamp, "kind": name.kind,
                "digest": name.digest, "fingerprint": None, "replayed": True}
    return None


def write_record(archive: Archive, record: SpoolRecord, check_done: bool = False) -> Result:
    """Write one record to the archive. `check_done` first looks for an earlier complete write
    (for retries and replays). Raises ArchiveError (transient: the store), NotArchivable, or a
    ValueError/KeyError for a record that cannot be written (permanent)."""
    if record.op not in WRITERS:
        raise ValueError(f"unknown archive write {record.op!r}")
    if check_done:
        done = already_written(archive, record)
        if done is not None:
            return done
    return WRITERS[record.op](archive, record.fields)
