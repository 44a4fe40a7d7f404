"""A local spool of archive writes: complete records kept on disk until the archive has them.

    <ARCHIVE_SPOOL_DIR>/<sha1(archive URI)[:12]>/ARCHIVE            the archive URI, for people
    <ARCHIVE_SPOOL_DIR>/<sha1(archive URI)[:12]>/<owner>/.lock      held (flock) while the owner lives
    <ARCHIVE_SPOOL_DIR>/<sha1(archive URI)[:12]>/<owner>/<name>.rec one record, written atomically
    <ARCHIVE_SPOOL_DIR>/<sha1(archive URI)[:12]>/quarantine/        records that can never be written

The spool is both a write-ahead journal and an outage buffer. A record is put here before its
archive write starts and removed once the write is complete; a write that keeps failing (S3 down)
simply leaves it in place for a later retry. A process killed at any moment therefore leaves every
record whose write might be incomplete on disk, and the next process that opens a spool for the
same archive adopts the dead owner's records (its lock is free once the process is gone) and
replays them. Replays are idempotent: a record carries the fetch time, which fixes the capture's
keys, so a replay overwrites exactly the objects an interrupted write may have left.

One folder per owning process keeps live processes (scrapy-redis workers, the nightly runner's
per-site processes) from replaying each other's writes in flight. Locks are `flock`s: the spool is
a local-disk folder, one per machine.

No Scrapy here: the archive pipeline and any command can drive a spool.
"""
from __future__ import annotations

import base64
import fcntl
import gzip
import hashlib
import json
import logging
import os
import secrets
import shutil
import socket
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from pipelines.storage.base import ArchiveError
from pipelines.storage.files import write_atomic

logger = logging.getLogger(__name__)

SCHEMA = 2  # 1: the whole record as gzipped JSON, bytes in base64 (still read)
SUFFIX = ".rec"
QUARANTINE = "quarantine"
_LOCK = ".lock"


@dataclass
class SpoolRecord:
    """One archive write, complete: what to call (`op`) and its keyword arguments (`fields`).

    `fields` hold JSON values, `bytes` and `datetime`s; `fetched_at` is the fetch time that fixes
    the keys the write produces."""

    op: str
    url: str
    fetched_at: datetime
    fields: dict[str, Any] = field(default_factory=dict)

    def name(self) -> str:
        """A file name that sorts by fetch time and is unique per (op, URL, fetch time)."""
        digest = hashlib.sha1(f"{self.op}\n{self.url}\n{self.fetched_at.isoformat()}".encode())
        return f"{self.fetched_at:%Y%m%d%H%M%S%f}-{digest.hexdigest()[:16]}{SUFFIX}"


def _encoder(blobs: list[bytes]) -> Callable[[Any], Any]:
    """json.dumps' `default`: each bytes value kept aside as a blob, datetimes as ISO 8601. The C
    encoder calls it in document order (the order `_collect_sizes` reads the head back in)."""
    def default(value: Any) -> Any:
        if isinstance(value, bytes):
            blobs.append(value)
            return {"__blob__": len(value)}
        if isinstance(value, datetime):
            return {"__datetime__": value.isoformat()}
        raise TypeError(f"{type(value).__name__} is not JSON serializable")

    return default


def _decode(value: Any, blobs: Iterator[bytes] | None) -> Any:
    if isinstance(value, dict):
        if value.keys() == {"__blob__"} and blobs is not None:
            return next(blobs)
        if value.keys() == {"__bytes__"}:  # schema 1
            return base64.b64decode(value["__bytes__"])
        if value.keys() == {"__datetime__"}:
            return datetime.fromisoformat(value["__datetime__"])
        return {k: _decode(v, blobs) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v, blobs) for v in value]
    return value


_MAGIC = b"govarchive-spool\n"


def dumps(record: SpoolRecord) -> bytes:
    """The record's bytes on disk: a magic line, the length of a JSON head (4 bytes, big-endian),
    the head (datetimes as ISO 8601, each bytes value as `{"__blob__": length}`), then the bytes
    values as they are, in the head's order. Nothing is compressed or base64-encoded: the large
    values (a page, a gzipped WARC) are copied once, and the spool costs the reactor no CPU."""
    blobs: list[bytes] = []
    head = json.dumps({"schema": SCHEMA, "op": record.op, "url": record.url,
                       "fetched_at": record.fetched_at, "fields": record.fields},
                      ensure_ascii=False, default=_encoder(blobs)).encode()
    return b"".join([_MAGIC, len(head).to_bytes(4, "big"), head, *blobs])


def loads(data: bytes) -> SpoolRecord:
    """The record from its bytes (this schema or schema 1). ValueError when they are not a spool
    record, or a truncated one."""
    try:
        if data.startswith(_MAGIC):
            start = len(_MAGIC) + 4
            end = start + int.from_bytes(data[len(_MAGIC):start], "big")
            raw = json.loads(data[start:end])
            sizes: list[int] = []
            _collect_sizes(raw["fields"], sizes)
            if end + sum(sizes) != len(data):
                raise ValueError(f"{len(data)} bytes where {end + sum(sizes)} were written")
            offsets = [end + sum(sizes[:i]) for i in range(len(sizes))]
            blobs: Iterator[bytes] | None = iter(
                [data[o:o + n] for o, n in zip(offsets, sizes, strict=True)])
        else:
            raw = json.loads(gzip.decompress(data))
            blobs = None
        if raw.get("schema") not in (1, SCHEMA):
            raise ValueError(f"unknown spool schema {raw.get('schema')!r}")
        return SpoolRecord(op=str(raw["op"]), url=str(raw["url"]),
                           fetched_at=_decode(raw["fetched_at"], None),
                           fields=_decode(raw["fields"], blobs))
    except (OSError, EOFError, KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"not a spool record: {exc}") from exc


def _collect_sizes(value: Any, sizes: list[int]) -> None:
    """The lengths of the head's blobs, in the order the encoder met them."""
    if isinstance(value, dict):
        if value.keys() == {"__blob__"}:
            sizes.append(int(value["__blob__"]))
            return
        for v in value.values():
            _collect_sizes(v, sizes)
    elif isinstance(value, list):
        for v in value:
            _collect_sizes(v, sizes)


def _try_lock(path: Path, create: bool = False) -> IO[bytes] | None:
    """An exclusive flock on `path`, or None when another process holds it (or it does not exist
    and `create` is false)."""
    try:
        fd = os.open(path, os.O_RDWR | (os.O_CREAT if create else 0), 0o644)
    except FileNotFoundError:
        return None
    fh = os.fdopen(fd, "r+b")
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.close()
        return None
    return fh


class Spool:
    """The spool of one archive in one process. `open()` before use, `close()` at the end."""

    def __init__(self, root: str | os.PathLike[str], archive_uri: str) -> None:
        self.root = Path(root)
        self.archive_uri = archive_uri
        self.base = self.root / hashlib.sha1(archive_uri.encode()).hexdigest()[:12]
        owner = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self.dir = self.base / owner
        self._lock: IO[bytes] | None = None

    # -- life -----------------------------------------------------------------------------------
    def open(self) -> None:
        """Create this process's folder and hold its lock. ArchiveError when the disk refuses."""
        try:
            self.base.mkdir(parents=True, exist_ok=True)
            marker = self.base / "ARCHIVE"
            if not marker.exists():
                write_atomic(str(marker), self.archive_uri.encode() + b"\n")
            # Lock first, then give the folder its name: no other process ever sees it unlocked.
            staging = Path(tempfile.mkdtemp(dir=self.base, prefix=".new-"))
            self._lock = _try_lock(staging / _LOCK, create=True)
            os.replace(staging, self.dir)
        except OSError as exc:
            raise ArchiveError(f"spool folder {self.base} is not writable: {exc}") from exc
        if self._lock is None:  # pragma: no cover - the folder name is unique to this process
            raise ArchiveError(f"spool folder {self.dir} is locked by another process")

    def close(self) -> None:
        """Release the lock; the folder goes when nothing is left in it (else the next run adopts it)."""
        if self._lock is None:
            return
        if not self.pending():
            shutil.rmtree(self.dir, ignore_errors=True)
        self._lock.close()
        self._lock = None

    # -- records --------------------------------------------------------------------------------
    def path_for(self, record: SpoolRecord) -> Path:
        """Where `put` keeps this record."""
        return self.dir / record.name()

    def put(self, record: SpoolRecord, path: Path | None = None) -> Path:
        """Keep a record (atomically: a reader never sees half of one). ArchiveError on disk errors.
        `path`: the record's `path_for`, when the caller has it already."""
        path = path or self.path_for(record)
        try:
            write_atomic(str(path), dumps(record))
        except OSError as exc:
            raise ArchiveError(f"cannot spool {record.url} to {self.dir}: {exc}") from exc
        return path

    def remove(self, path: Path) -> None:
        """Forget a record once the archive has it."""
        path.unlink(missing_ok=True)

    def pending(self) -> list[Path]:
        """This process's records, oldest fetch first."""
        try:
            return sorted(p for p in self.dir.iterdir() if p.name.endswith(SUFFIX)
                          and not p.name.startswith("."))
        except FileNotFoundError:
            return []

    def load(self, path: Path) -> SpoolRecord:
        """A record from disk. ValueError when it is unreadable (see `quarantine`)."""
        return loads(path.read_bytes())

    def quarantine(self, path: Path, reason: str) -> Path:
        """Move a record that can never be written out of the way, with the reason beside it."""
        folder = self.base / QUARANTINE
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / path.name
        os.replace(path, target)
        target.with_suffix(".reason").write_text(reason + "\n", encoding="utf-8")
        return target

    def adopt(self) -> list[Path]:
        """Take over the records of owners that are gone (killed, crashed, or stopped with an archive
        still down): move them into this process's folder and remove their folders. Returns the
        records adopted."""
        adopted: list[Path] = []
        for folder in self._other_owners():
            lock = _try_lock(folder / _LOCK)
            if lock is None:
                continue  # its owner is alive (or another process is adopting it right now)
            try:
                for path in sorted(folder.glob("*" + SUFFIX)):
                    if path.name.startswith("."):
                        continue
                    target = self.dir / path.name
                    os.replace(path, target)
                    adopted.append(target)
                shutil.rmtree(folder, ignore_errors=True)
            finally:
                lock.close()
        if adopted:
            logger.info("spool %s: adopted %d record(s) left by earlier processes", self.base,
                        len(adopted))
        return sorted(adopted)

    def _other_owners(self) -> Iterator[Path]:
        try:
            children = list(self.base.iterdir())
        except FileNotFoundError:
            return
        for child in children:
            if not child.is_dir() or child == self.dir or child.name == QUARANTINE:
                continue
            if child.name.startswith(".new-"):  # a process killed while opening its spool
                lock = _try_lock(child / _LOCK)
                if lock is not None:
                    shutil.rmtree(child, ignore_errors=True)
                    lock.close()
                continue
            if not child.name.startswith("."):
                yield child
