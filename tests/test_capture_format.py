"""The stored capture (pipelines/storage/archive.py, warc.py, spool.py): lean schema-2 documents and
response-only WARCs read like before, a WARC prepared by the extraction worker is stored as is, and
what older versions wrote (schema-1 documents, schema-1 spool records) still reads."""
from __future__ import annotations

import base64
import gzip
import io
import json
from datetime import UTC, datetime
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from pipelines.page import process_page
from pipelines.records import write_record
from pipelines.storage import open_store
from pipelines.storage.archive import Archive
from pipelines.storage.keys import canonical_url, capture_name, url_prefix
from pipelines.storage.spool import SpoolRecord, loads
from pipelines.storage.warc import capture_warc, read_response

URL = "http://www.example.gov.cn/zwgk/202611/t20261120_7.html?id=3&a=1"
WHEN = datetime(2026, 11, 20, 1, 2, 3, 456789, tzinfo=UTC)
BODY = ("<html><head><meta charset='utf-8'><title>关于开展工作的通知</title></head><body>"
        "<div class='TRS_Editor'><p>" + "各有关单位：现将有关事项通知如下。" * 20 + "</p></div></body></html>").encode()
HEADERS = [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(BODY)))]
SENT = [("User-Agent", "govarchive/0.1"), ("Accept", "text/html")]


def _stored(root: Path, suffix: str) -> bytes:
    [path] = (root / "captures").rglob(f"*{suffix}")
    return path.read_bytes()


def test_lean_document_reads_complete_and_the_warc_holds_the_response(tmp_path: Path) -> None:
    archive = Archive(open_store(tmp_path.as_uri()))
    name = archive.write_capture(url=URL, status=200, headers=HEADERS, body=BODY, fetched_at=WHEN,
                                 request_headers=SENT, document={"site": "demo", "title": "通知",
                                                                 "text": "正文", "author": None})
    stored = json.loads(gzip.decompress(_stored(tmp_path, ".json.gz")))
    assert stored["schema"] == 2
    assert not {"raw_key", "captured_at", "raw_sha1", "variant", "author"} & stored.keys()
    assert stored["request_headers"] == [list(p) for p in SENT]
    doc = archive.document(archive.pick(URL))
    canonical, _ = canonical_url(URL)
    assert canonical != URL and doc["canonical_url"] == canonical == stored["canonical_url"]
    assert doc["raw_key"] == name.raw_key and doc["variant"] is None and doc["kind"] == "capture"
    assert doc["captured_at"] == WHEN.isoformat() and doc["raw_bytes"] == len(BODY)
    records = list(ArchiveIterator(io.BytesIO(archive.raw_warc(archive.pick(URL)))))
    assert [r.rec_type for r in records] == ["response"]
    assert archive.raw_response(archive.pick(URL))[2] == BODY


def test_worker_prepared_warc_is_stored_as_is_through_a_spooled_record(tmp_path: Path) -> None:
    """The extraction worker's WARC goes through the spool (no body) and lands byte for byte."""
    exchange = {"status": 200, "headers": HEADERS, "fetched_at": WHEN, "request_headers": SENT}
    result = process_page(BODY, HEADERS[0][1], None, URL, {}, exchange)
    assert result.prepared is not None and result.document is not None
    assert read_response(result.prepared["warc"])[2] == BODY
    assert result.prepared["sha1"] == capture_warc(URL, 200, HEADERS, BODY, WHEN, SENT)[1]
    record = SpoolRecord("fetched", URL, WHEN, {
        "url": URL, "status": 200, "headers": HEADERS, "body": None, "prepared": result.prepared,
        "fetched_at": WHEN, "request_headers": SENT, "previous": None,
        "document": {"site": "demo", **result.document}})
    from pipelines.storage.spool import dumps

    archive = Archive(open_store(tmp_path.as_uri()))
    written = write_record(archive, loads(dumps(record)))
    assert written["outcome"] == "new"
    assert _stored(tmp_path, ".warc.gz") == result.prepared["warc"]
    doc = archive.document(archive.pick(URL))
    assert doc["title"] == result.document["title"] and doc["raw_bytes"] == len(BODY)
    # A re-fetch with the same bytes is a revisit, found by the prepared digest alone.
    again = SpoolRecord("fetched", URL, WHEN.replace(day=21), {
        **record.fields, "fetched_at": WHEN.replace(day=21),
        "previous": {"stamp": written["stamp"], "captured": written["stamp"]}})
    assert write_record(archive, again)["outcome"] == "unchanged"


def test_schema_1_documents_and_spool_records_still_read(tmp_path: Path) -> None:
    """What earlier versions wrote: a full document (raw_key, raw_sha1, nulls), a base64 spool record."""
    name = capture_name(url_prefix(canonical_url(URL)[0]), WHEN, "capture", "ab" * 20)
    old = {"schema": 1, "url": URL, "canonical_url": canonical_url(URL)[0], "variant": None,
           "captured_at": WHEN.isoformat(), "kind": "capture", "status": 200, "raw_key": name.raw_key,
           "raw_sha1": "ab" * 20, "raw_bytes": len(BODY), "title": "旧", "text": "旧正文", "errors": None}
    store = open_store(tmp_path.as_uri())
    store.put(name.doc_key, gzip.compress(json.dumps(old, ensure_ascii=False).encode()))
    assert Archive(store).document(Archive(store).pick(URL)) == old
    spooled = {"schema": 1, "op": "fetched", "url": URL, "fetched_at": {"__datetime__": WHEN.isoformat()},
               "fields": {"url": URL, "body": {"__bytes__": base64.b64encode(BODY).decode()},
                          "fetched_at": {"__datetime__": WHEN.isoformat()}}}
    record = loads(gzip.compress(json.dumps(spooled).encode()))
    assert record.fields["body"] == BODY and record.fetched_at == WHEN


def test_warc_gzip_level_is_honoured_and_each_record_is_its_own_member() -> None:
    """ARCHIVE_WARC_GZIP_LEVEL: any level reads back the same records, ISA-L's (1-3) as zlib's; a
    record per gzip member (what WARC readers seek by), and the level changes the bytes."""
    from pipelines.storage.gz import compressor
    from pipelines.storage.warc import build_warc

    assert type(compressor(2)).__module__.startswith("isal") and "isal" not in type(compressor(9)).__module__
    body = BODY + bytes(range(256)) * 40  # some bytes a fast level compresses worse
    made = {level: build_warc(URL, 200, HEADERS, body, WHEN, SENT, gzip_level=level)
            for level in (0, 1, 2, 3, 9)}
    assert len(made[0]) > len(made[1]) > len(made[9]) and len(made[0]) > len(made[3]) > len(made[9])
    for data in made.values():
        stream = ArchiveIterator(io.BytesIO(data))
        records = [(r.rec_type, r.content_stream().read(), stream.get_record_offset()) for r in stream]
        assert [(t, c) for t, c, _ in records] == [("response", body), ("request", b"")]
        second = records[1][2]
        assert 0 < second < len(data) and gzip.decompress(data[second:]).startswith(b"WARC/1.")
    exchange = {"status": 200, "headers": HEADERS, "fetched_at": WHEN, "request_headers": SENT}
    prepared = {level: process_page(BODY, HEADERS[0][1], None, URL, {}, {**exchange, "gzip_level": level}).prepared
                for level in (1, 9)}  # (ISA-L, zlib)
    assert prepared[1] is not None and prepared[9] is not None
    assert prepared[1]["warc"] != prepared[9]["warc"]
    assert read_response(prepared[1]["warc"])[2] == read_response(prepared[9]["warc"])[2] == BODY
