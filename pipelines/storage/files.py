"""Atomic file writes for the local folder store and the spool: a temporary file, then a rename.

A reader sees the whole file or none of it. The temporary file sits beside the target (same folder,
same file system, so the rename is atomic) and is named `.tmp-<pid>-<n>`: unique within the process
by a counter, across processes by the pid, and created with O_EXCL, so a name left by a process
killed long ago is never reused. Listings skip names that start with `.tmp-`.
"""
from __future__ import annotations

import itertools
import os

TMP_PREFIX = ".tmp-"
_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
_counter = itertools.count()  # next() on it is atomic under the GIL: safe from the thread pool


def _create(folder: str, make_folder: bool) -> tuple[int, str]:
    """An exclusive new temporary file in `folder` (made first when missing and `make_folder`)."""
    while True:
        tmp = os.path.join(folder, f"{TMP_PREFIX}{os.getpid()}-{next(_counter)}")
        try:
            return os.open(tmp, _FLAGS, 0o600), tmp  # as mkstemp made them
        except FileExistsError:  # left by an earlier process with this pid: take the next number
            continue
        except FileNotFoundError:
            if not make_folder:
                raise
            os.makedirs(folder, exist_ok=True)
            make_folder = False  # made now: a second miss is an error


def write_atomic(path: str, data: bytes, make_folder: bool = False) -> None:
    """Write `data` to `path` atomically (OSError on failure, and no temporary file left).
    With `make_folder`, the folder is made when it does not exist yet (once per new folder: the
    common case of a folder already there costs no extra system call)."""
    fd, tmp = _create(os.path.dirname(path), make_folder)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
