"""Worker processes driven by the reactor itself: tasks and results over pipes, no threads.

`concurrent.futures.ProcessPoolExecutor` moves each task through two threads of the crawler's
process (a feeder that pickles and writes it, a manager that reads and unpickles the result and
wakes the reactor with `callFromThread`). On a two-core machine those threads cost the crawler's
process ~0.4 ms of CPU per 50 KB page and contend with the reactor for the GIL. Here the reactor
writes each task to its worker's pipe and reads the result when the pipe is readable, like any
other connection: one wake-up per result, and no other thread.

    <task pipe>    parent -> worker: frames (length, task id, pickle of (function, args))
    <result pipe>  worker -> parent: frames (length, task id, pickle of ("ok", value) or ("error", exc))

Each worker is a fresh interpreter (pipelines/worker_process.py, a direct child of the crawler), runs
its tasks in the order it receives them, lowers its own CPU priority (`nice`), ignores SIGINT (the
crawler decides when to stop), and exits when the crawler closes its task pipe or is gone.

Semantics are those of ProcessPoolExecutor, which the extraction stage relied on: a worker that dies
breaks the pool (every task not done fails with `BrokenProcessPool`, the other workers are killed);
a task that runs longer than its `timeout` fails with `WorkerTimeout` and breaks the pool too. A
task's timeout starts when its worker starts it (the worker has started and the task is the first
of its queue), not while it waits behind others. No Scrapy here.
"""
from __future__ import annotations

import fcntl
import os
import pickle
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from twisted.internet.defer import Deferred

from pipelines.worker_process import FRAME, PIPE_SIZE, READY, frame

_F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)
PROJECT = Path(__file__).resolve().parents[1]

__all__ = ["BrokenProcessPool", "WorkerPool", "WorkerTimeout"]


class WorkerTimeout(Exception):
    """The task took longer than its timeout in a worker."""


def _reactor() -> Any:
    from twisted.internet import reactor

    return reactor


class _Task:
    __slots__ = ("d", "id", "timeout", "timer")

    def __init__(self, task_id: int, timeout: float | None) -> None:
        self.id = task_id
        self.d: Deferred[Any] = Deferred()
        self.timeout = timeout
        self.timer: Any = None


class _TaskPipe:
    """The write end of a worker's task pipe, as the reactor's writer (the worker is the reader of
    its result pipe: the reactor knows a descriptor by its one `fileno`)."""

    def __init__(self, worker: _Worker) -> None:
        self.worker = worker

    def fileno(self) -> int:
        return -1 if self.worker.closed else self.worker.task_w

    def logPrefix(self) -> str:  # (Twisted's name)
        return self.worker.logPrefix()

    def connectionLost(self, reason: Any) -> None:  # (Twisted's name)
        pass  # the result pipe tells when the worker is gone

    def doWrite(self) -> None:  # (Twisted's name)
        self.worker.flush()


class _Worker:
    """One worker process, its two pipes (the result pipe as the reactor's reader, the task pipe as
    its writer, `_TaskPipe`) and its queue of tasks."""

    def __init__(self, pool: WorkerPool, index: int, nice: int) -> None:
        self.pool = pool
        self.index = index
        task_r, self.task_w = os.pipe()
        self.result_r, result_w = os.pipe()
        for fd in (self.task_w, self.result_r):
            try:
                fcntl.fcntl(fd, _F_SETPIPE_SZ, PIPE_SIZE)
            except OSError:  # the default size works, in more reads and writes
                pass
            os.set_blocking(fd, False)
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "pipelines.worker_process", str(task_r), str(result_w), str(nice),
                 str(os.getpid())],
                pass_fds=(task_r, result_w), cwd=PROJECT, stdin=subprocess.DEVNULL)
        finally:
            os.close(task_r)
            os.close(result_w)
        self.ready = False
        self.queue: deque[_Task] = deque()  # sent, not yet answered; the first is running (once ready)
        self.outgoing: deque[memoryview] = deque()
        self.writer = _TaskPipe(self)
        self.writing = False
        self.incoming = bytearray()
        self.closed = False
        self.send(READY, pickle.dumps((sys.path, os.getcwd())))
        _reactor().addReader(self)

    # -- the reactor's descriptor interface ----------------------------------------------------
    def fileno(self) -> int:
        return -1 if self.closed else self.result_r

    def logPrefix(self) -> str:  # (Twisted's name)
        return f"extraction worker {self.process.pid}"

    def connectionLost(self, reason: Any) -> None:  # (Twisted's name)
        self._ended()

    def doRead(self) -> None:  # (Twisted's name)
        try:
            data = os.read(self.result_r, PIPE_SIZE)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:  # the worker closed its end: it exited, or died
            self._ended()
            return
        buffer = self.incoming
        buffer += data
        while len(buffer) >= FRAME.size:
            size, task_id = FRAME.unpack_from(buffer)
            end = FRAME.size + size
            if len(buffer) < end:
                break
            payload = bytes(buffer[FRAME.size:end])
            del buffer[:end]
            self._answered(task_id, payload)
            if self.closed:
                return

    # -- tasks ----------------------------------------------------------------------------------
    def send(self, task_id: int, payload: bytes) -> None:
        self.outgoing.append(memoryview(frame(task_id, payload)))
        if not self.writing:
            self.flush()

    def flush(self) -> None:
        while self.outgoing and not self.closed:
            view = self.outgoing[0]
            try:
                written = os.write(self.task_w, view)
            except BlockingIOError:
                written = 0
            except OSError:  # the worker is gone: its result pipe says so too
                self.outgoing.clear()
                break
            if written < len(view):
                self.outgoing[0] = view[written:]
                if not self.writing:
                    self.writing = True
                    _reactor().addWriter(self.writer)
                return
            self.outgoing.popleft()
        if self.writing:
            self.writing = False
            _reactor().removeWriter(self.writer)

    def add(self, task: _Task, payload: bytes) -> None:
        self.queue.append(task)
        self.send(task.id, payload)
        if len(self.queue) == 1:
            self._started()

    def _started(self) -> None:
        """The first task of the queue is running (the worker is ready): arm its timeout."""
        if self.ready and self.queue:
            task = self.queue[0]
            if task.timeout is not None and task.timer is None:
                task.timer = _reactor().callLater(task.timeout, self.pool._timed_out, self, task)

    def _answered(self, task_id: int, payload: bytes) -> None:
        if task_id == READY:
            self.ready = True
            self._started()
            return
        if not self.queue or self.queue[0].id != task_id:  # pragma: no cover - the protocol's order
            self.pool._break(f"worker {self.process.pid} answered task {task_id} out of order")
            return
        task = self.queue.popleft()
        if task.timer is not None and task.timer.active():
            task.timer.cancel()
        self._started()
        try:
            status, value = pickle.loads(payload)
        except Exception as exc:  # a result that cannot be read is the task's failure
            status, value = "error", exc
        if status == "ok":
            task.d.callback(value)
        elif isinstance(value, Exception):
            task.d.errback(value)
        else:  # SystemExit, KeyboardInterrupt in the worker: the task's failure, not the crawler's exit
            task.d.errback(RuntimeError(f"{type(value).__name__} in the worker: {value}"))

    # -- the end ---------------------------------------------------------------------------------
    def close(self, kill: bool = False) -> None:
        """Stop reading and writing; the worker exits on its task pipe's end (or is killed)."""
        if self.closed:
            return
        reactor = _reactor()
        reactor.removeReader(self)
        if self.writing:
            reactor.removeWriter(self.writer)
            self.writing = False
        self.closed = True
        for fd in (self.task_w, self.result_r):
            os.close(fd)
        if kill:
            self.kill()

    def kill(self) -> None:
        try:
            self.process.kill()
        except OSError:  # already reaped
            pass

    def _ended(self) -> None:
        if self.closed:
            return
        self.close()
        self.pool._worker_ended(self)

    def reap(self) -> bool:
        """Whether the process has exited (and was reaped)."""
        return self.process.poll() is not None


class WorkerPool:
    """`workers` worker processes; `submit` returns a Deferred fired on the reactor thread."""

    def __init__(self, workers: int, nice: int = 0) -> None:
        self.broken: str | None = None  # why, once broken or shut down
        self.workers = [_Worker(self, n, nice) for n in range(max(1, workers))]
        self._next_id = READY + 1

    @property
    def pids(self) -> list[int]:
        return [w.process.pid for w in self.workers]

    def submit(self, fn: Callable[..., Any], *args: Any, timeout: float | None = None) -> Deferred[Any]:
        """Run `fn(*args)` in the least busy worker. The Deferred fails with what `fn` raised,
        `BrokenProcessPool` (a worker died, or the pool is shut down) or `WorkerTimeout`."""
        task = _Task(self._next_id, timeout)
        self._next_id += 1
        if self.broken is not None:
            task.d.errback(BrokenProcessPool(self.broken))
            return task.d
        try:
            payload = pickle.dumps((fn, args), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # arguments a worker cannot be sent: the task's failure
            task.d.errback(exc)
            return task.d
        # (a worker whose pipe closed is about to break the pool: its tasks would only fail with it)
        worker = min(self.workers, key=lambda w: (w.closed, len(w.queue)))
        worker.add(task, payload)
        return task.d

    def _timed_out(self, worker: _Worker, task: _Task) -> None:
        if not worker.queue or worker.queue[0] is not task:  # pragma: no cover - answered meanwhile
            return
        worker.queue.popleft()
        task.d.errback(WorkerTimeout(f"extraction took longer than {task.timeout:g}s"))
        self._break(f"a task took longer than {task.timeout:g}s in worker {worker.process.pid}")

    def _worker_ended(self, worker: _Worker, waited: float = 0.0) -> None:
        """A worker's result pipe closed: it is exiting. The pool breaks once its exit status is
        known (at most a second later: its pipe closes as it exits), so the reason can say it."""
        if self.broken is not None:
            return
        code = worker.process.poll()
        if code is None and waited < 1.0:
            _reactor().callLater(0.01, self._worker_ended, worker, waited + 0.01)
            return
        how = f"exit status {code}" if code is not None else "its pipe closed"
        self._break(f"worker process {worker.process.pid} ended ({how}) with tasks to do")

    def _break(self, why: str) -> None:
        """Kill every worker and fail every task not done with BrokenProcessPool(`why`)."""
        self._end(why, kill=True)

    def shutdown(self, wait: float = 5.0) -> Deferred[None]:
        """Let the workers finish and exit (tasks not done fail with BrokenProcessPool); fires once
        they all have, killing those still there after `wait` seconds."""
        return self._end("the pool was shut down", kill=False, wait=wait)

    def _end(self, why: str, kill: bool, wait: float = 5.0) -> Deferred[None]:
        if self.broken is None:
            self.broken = why
        pending: list[_Task] = []
        for worker in self.workers:
            worker.close(kill=kill)
            pending.extend(worker.queue)
            worker.queue.clear()
        for task in pending:
            if task.timer is not None and task.timer.active():
                task.timer.cancel()
            task.d.errback(BrokenProcessPool(self.broken))
        return self._reap_later(wait)

    def _reap_later(self, wait: float = 5.0) -> Deferred[None]:
        done: Deferred[None] = Deferred()
        deadline = time.monotonic() + wait

        def look() -> None:
            alive = [w for w in self.workers if not w.reap()]
            if not alive:
                done.callback(None)
                return
            if time.monotonic() > deadline:
                for worker in alive:
                    worker.kill()
            _reactor().callLater(0.05, look)

        look()
        return done
