"""The spool (pipelines/storage/spool.py) and idempotent replays (pipelines/archive.write_record).

Real parts: a local archive folder, real flocks; a process's death is its lock handle closing.
"""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipelines.archive import already_written, write_record
from pipelines.storage import ArchiveError, open_store
from pipelines.storage.archive import Archive
from pipelines.storage.local import LocalStore
from pipelines.storage.spool import Spool, SpoolRecord, dumps, loads

URL = "http://portal.example.cn/yw/202611/t20261120_1001.html"
WHEN = datetime(2026, 11, 22, 3, 4, 5, 678901, tzinfo=UTC)
BODY = "<html><head><meta charset='utf-8'><title>通知</title></head><body><p>正文</p></body></html>".encode()


def _record(previous: dict[str, object] | None = None, when: datetime = WHEN) -> SpoolRecord:
    return SpoolRecord("fetched", URL, when, {
        "url": URL, "status": 200, "headers": [("Content-Type", "text/html; charset=utf-8")],
        "body": BODY, "fetched_at": when, "request_headers": [("User-Agent", "t")],
        "previous": previous,
        "document": {"site": "demo", "column": "要闻", "title": "通知", "text": "正文"}})


def _die(spool: Spool) -> None:
    """What SIGKILL does to a spool: the lock goes with the process, the folder stays."""
    assert spool._lock is not None
    spool._lock.close()
    spool._lock = None


def _keys(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_record_roundtrip_keeps_bytes_datetimes_and_text() -> None:
    record = _record(previous={"stamp": "20261101000000000000", "fingerprint": None})
    back = loads(dumps(record))
    assert back == SpoolRecord(record.op, record.url, record.fetched_at, {
        **record.fields, "headers": [["Content-Type", "text/html; charset=utf-8"]],
        "request_headers": [["User-Agent", "t"]]})
    assert back.fields["body"] == BODY and back.fields["fetched_at"] == WHEN


@pytest.mark.parametrize("data", [b"", b"not gzip", dumps(_record())[:-9]])
def test_unreadable_record_is_a_value_error(data: bytes) -> None:
    with pytest.raises(ValueError, match="not a spool record"):
        loads(data)


def test_put_pending_remove_leave_no_temporary_files(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool", "file:///archive")
    spool.open()
    first = spool.put(_record())
    second = spool.put(_record(when=WHEN.replace(second=6)))
    assert spool.pending() == [first, second]
    assert spool.load(first) == loads(dumps(_record()))
    spool.remove(first)
    assert spool.pending() == [second]
    assert not [p for p in spool.dir.iterdir() if p.name.startswith(".tmp-")]
    spool.remove(second)
    spool.close()
    assert not spool.dir.exists(), "an empty spool folder goes when its process ends"


def test_a_live_owner_keeps_its_records_a_dead_one_gives_them_up(tmp_path: Path) -> None:
    live, dead, me = (Spool(tmp_path, "s3://b/a") for _ in range(3))
    for spool in (live, dead, me):
        spool.open()
    live_path = live.put(_record())
    dead_path = dead.put(_record(when=WHEN.replace(second=7)))
    _die(dead)
    adopted = me.adopt()
    assert [p.name for p in adopted] == [dead_path.name]
    assert me.pending() == adopted
    assert not dead.dir.exists()
    assert live.pending() == [live_path], "a live process's writes in flight are left alone"
    other = Spool(tmp_path, "s3://b/other")  # another archive: another folder
    other.open()
    assert other.adopt() == []
    for spool in (live, me, other):
        spool.close()
    assert live.dir.exists() and me.dir.exists(), "records not written yet stay for the next run"


def test_unwritable_spool_folder_is_refused_by_name(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ArchiveError, match=r"spool folder .*file.* is not writable"):
        Spool(blocker / "spool", "file:///a").open()


class _DocumentWritesFail(LocalStore):
    """A local store whose document writes fail: a process that died between WARC and document."""

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        if key.endswith(".json.gz"):
            raise ArchiveError(f"cannot write {key}: injected failure")
        super().put(key, data, content_type)


def test_replay_after_a_crash_between_warc_and_document_completes_the_same_capture(
        tmp_path: Path) -> None:
    root = tmp_path / "archive"
    spool = Spool(tmp_path / "spool", root.as_uri())
    spool.open()
    spool.put(_record())
    with pytest.raises(ArchiveError):
        write_record(Archive(_DocumentWritesFail(root.as_uri())), _record())
    orphan = _keys(root)
    assert len(orphan) == 1 and orphan[0].endswith(".warc.gz")
    _die(spool)

    archive = Archive(open_store(root.as_uri()))
    nxt = Spool(tmp_path / "spool", root.as_uri())
    nxt.open()
    (path,) = nxt.adopt()
    result = write_record(archive, nxt.load(path), check_done=True)
    assert result["outcome"] == "new"
    keys = _keys(root)
    assert keys == sorted([orphan[0], orphan[0].replace(".warc.gz", ".json.gz")]), \
        "the replay overwrote the orphan's keys: one capture, no stray WARC"
    assert len(archive.captures(URL)) == 1
    nxt.remove(path)
    nxt.close()


def test_replaying_a_completed_write_writes_nothing(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    archive = Archive(open_store(root.as_uri()))
    first = write_record(archive, _record())
    before = _keys(root)
    # A re-check record whose write completed before the process died: replayed, it must not
    # become a revisit of itself.
    previous = {"stamp": first["stamp"], "captured": first["stamp"], "digest": first["digest"]}
    again = _record(previous=previous, when=WHEN)
    assert already_written(archive, again) is not None
    assert write_record(archive, again, check_done=True)["key"] == first["key"]
    assert _keys(root) == before


def test_write_errors_are_told_apart_permanent_from_transient() -> None:
    from pipelines.archive import permanent
    from pipelines.storage import NotFound
    from pipelines.storage.keys import BadURL

    assert permanent(BadURL("x")) and permanent(KeyError("url")) and permanent(TypeError("x"))
    assert not permanent(ArchiveError("S3 down")), "the store's errors are retried"
    assert not permanent(NotFound("k")), "NotFound is a KeyError but comes from the store"
    assert not permanent(RuntimeError("x"))


def test_unknown_write_and_bad_url_are_refused(tmp_path: Path) -> None:
    archive = Archive(open_store((tmp_path / "a").as_uri()))
    with pytest.raises(ValueError, match="unknown archive write 'nope'"):
        write_record(archive, SpoolRecord("nope", URL, WHEN, {}))
    bad = _record()
    bad.fields["url"] = "ftp://x/y"
    with pytest.raises(ValueError, match="not an absolute http"):
        write_record(archive, bad)


def test_a_304_with_nothing_to_refer_to_is_not_archivable(tmp_path: Path) -> None:
    from pipelines.archive import NotArchivable

    archive = Archive(open_store((tmp_path / "a").as_uri()))
    record = SpoolRecord("revisit", URL, WHEN, {**_record().fields, "status": 304, "body": b"",
                                                 "previous": {"fingerprint": None}})
    with pytest.raises(NotArchivable, match="no capture to refer to") as info:
        write_record(archive, record)
    assert info.value.reason == "no_original"
