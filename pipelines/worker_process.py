"""The worker process's side of pipelines/workers.py: read tasks from one pipe, write results to another.

    python -m pipelines.worker_process <task fd> <result fd> <nice> <crawler pid>

Frames: (payload length, task id) as two big-endian 64-bit integers, then a pickle. The first task
frame (id 0) carries the crawler's `sys.path` and working directory; the worker answers it with an
empty frame of id 0 once it has imported the page function's module (pipelines/page.py), and then
answers each task, in order, with ("ok", value) or ("error", exception). Only the standard library
and what the tasks need are imported here: no Twisted, no Scrapy.
"""
from __future__ import annotations

import ctypes
import errno
import os
import pickle
import signal
import struct
import sys
import threading
import time
from typing import Any

FRAME = struct.Struct("!QQ")  # payload length, task id
READY = 0  # the task id of the set-up frame and of the worker's answer to it
PIPE_SIZE = 1 << 20  # a 50 KB page and its ~20 KB result each fit in one write and one read


#: mallopt's parameter for the largest chunk size kept in a fast bin (glibc's malloc.h).
_M_MXFAST = 1


def merge_freed_memory_at_once() -> bool:
    """Turn glibc's fast bins off in this process (``mallopt(M_MXFAST, 0)``); False where the C
    library has no ``mallopt`` (not glibc), which changes nothing.

    With fast bins, the thousands of small chunks an extraction frees (lxml's tree) are set aside and
    all merged at the next large allocation, which is the repair stage's first, right after the
    extraction: 20-40 us of a page's 0.1-0.2 ms of decoding and repair. Merged as they are freed, they
    cost the extraction no measurable time (bench/bench_decode_cost.py ``--default-malloc`` measures
    both ways), so the worker's CPU time per page goes down by that much."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError, TypeError):  # no such function; no C library to load by None
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    return bool(mallopt(_M_MXFAST, 0))


def frame(task_id: int, payload: bytes) -> bytes:
    return FRAME.pack(len(payload), task_id) + payload


def _read_exactly(source: Any, size: int) -> bytes | None:
    data = source.read(size)
    return data if len(data) == size else None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view):]
        except InterruptedError:
            continue


def _watch_parent(parent: int) -> None:
    """Exit when the crawler is gone, even while a task runs (it was killed: SIGKILL)."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _serve(tasks_fd: int, results_fd: int) -> None:
    source = os.fdopen(tasks_fd, "rb", buffering=PIPE_SIZE)
    while True:
        head = _read_exactly(source, FRAME.size)
        if head is None:
            return  # the crawler closed the pipe: done
        size, task_id = FRAME.unpack(head)
        payload = _read_exactly(source, size)
        if payload is None:
            return
        if task_id == READY:
            path, cwd = pickle.loads(payload)
            sys.path[:] = path
            os.chdir(cwd)
            import pipelines.page  # noqa: F401 - warm: the extractor's imports, before any timeout

            _write_all(results_fd, frame(READY, b""))
            continue
        try:
            fn, args = pickle.loads(payload)
            answer: tuple[str, Any] = ("ok", fn(*args))
            out = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException as exc:  # every failure goes back to the crawler
            try:
                out = pickle.dumps(("error", exc), protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:  # an exception that does not pickle
                out = pickle.dumps(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))
        _write_all(results_fd, frame(task_id, out))


def main(argv: list[str]) -> None:
    tasks_fd, results_fd, nice, parent = (int(a) for a in argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C is the crawler's to handle
    if nice > 0:
        os.nice(nice)
    merge_freed_memory_at_once()
    _watch_parent(parent)
    try:
        _serve(tasks_fd, results_fd)
    except OSError as exc:
        if exc.errno != errno.EPIPE:
            raise


if __name__ == "__main__":
    main(sys.argv[1:])
