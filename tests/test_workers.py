"""The reactor-driven worker pool (pipelines/workers.py): results, errors, big payloads, niceness,
glibc's fast bins off, a dying worker, timeouts that start only when a task starts, shutdown.

Each scenario runs in a subprocess with Scrapy's asyncio reactor (a reactor runs once per process):
`python -m tests.test_workers <scenario>` prints one JSON line, which the test reads.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

PROJECT = Path(__file__).resolve().parents[1]


# -- what the workers run (module-level: pickled by reference) ------------------------------------
def echo(value: Any) -> Any:
    return value


def double_bytes(data: bytes) -> bytes:
    return data + data


def fail(message: str) -> None:
    raise ValueError(message)


def niceness() -> tuple[int, int]:
    return os.getpid(), os.nice(0)


def freed_small_chunks() -> int | None:
    """Bytes in glibc's fast bins after 1,000 small chunks are allocated and freed (``mallinfo2``),
    None where the C library has no ``mallinfo2``."""
    import ctypes

    libc = ctypes.CDLL(None)
    if not hasattr(libc, "mallinfo2"):
        return None

    class MallInfo2(ctypes.Structure):
        _fields_ = [(name, ctypes.c_size_t) for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
            "keepcost")]

    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, (ctypes.c_size_t,)
    libc.free.argtypes = (ctypes.c_void_p,)
    libc.mallinfo2.restype = MallInfo2
    chunks = [libc.malloc(64) for _ in range(1000)]
    for chunk in chunks:
        libc.free(chunk)
    return int(libc.mallinfo2().fsmblks)


def nap(seconds: float, value: Any = None) -> Any:
    time.sleep(seconds)
    return value


def die() -> None:
    os._exit(70)


def unpicklable() -> Any:
    return lambda: None


def leave() -> None:
    raise SystemExit(3)


# -- the scenarios (in the subprocess) ------------------------------------------------------------
async def _outcomes(deferreds: list[Any]) -> list[Any]:
    from scrapy.utils.defer import maybe_deferred_to_future

    out = []
    for d in deferreds:
        try:
            out.append(["ok", await maybe_deferred_to_future(d)])
        except Exception as exc:
            out.append([type(exc).__name__, str(exc)])
    return out


async def scenario(name: str) -> dict[str, Any]:
    from scrapy.utils.defer import maybe_deferred_to_future

    from pipelines.workers import WorkerPool
    from tests import test_workers as here  # not __main__: the workers import the functions by name

    echo, double_bytes, fail, niceness, nap, die, unpicklable, leave, freed_small_chunks = (
        here.echo, here.double_bytes, here.fail, here.niceness, here.nap, here.die, here.unpicklable,
        here.leave, here.freed_small_chunks)
    if name == "results":
        pool = WorkerPool(2)
        big = os.urandom(3 << 20)  # bigger than a pipe: written and read in many pieces
        tasks = [pool.submit(echo, n) for n in range(300)] + [pool.submit(double_bytes, big),
                                                            pool.submit(fail, "no good"),
                                                            pool.submit(unpicklable), pool.submit(echo, lambda: None),
                                                            pool.submit(leave), pool.submit(echo, "after")]
        got = await _outcomes(tasks)
        await maybe_deferred_to_future(pool.shutdown())
        doubled = got[300]
        return {"numbers": [g[1] for g in got[:300]], "big_ok": doubled[0] == "ok" and doubled[1] == big + big,
                "rest": got[301:], "workers": len(pool.pids), "alive": [_alive(p) for p in pool.pids]}
    if name == "nice":
        pool = WorkerPool(2, nice=7)
        got = await _outcomes([pool.submit(niceness) for _ in range(6)])
        fast_bins = await _outcomes([pool.submit(freed_small_chunks)])
        await maybe_deferred_to_future(pool.shutdown())
        return {"ours": os.nice(0), "workers": sorted({tuple(g[1]) for g in got}), "pids": pool.pids,
                "fast_bins": {"crawler": freed_small_chunks(), "worker": fast_bins[0][1]}}
    if name == "die":
        pool = WorkerPool(2)
        # worker 0: a (1 s), then dies; worker 1: b (3 s, running when 0 dies), then c
        tasks = [pool.submit(nap, 1.0, "a"), pool.submit(nap, 3.0, "b"), pool.submit(die),
                 pool.submit(nap, 0.1, "c")]
        got = await _outcomes(tasks)
        after = await _outcomes([pool.submit(echo, 1)])
        await maybe_deferred_to_future(pool.shutdown())
        return {"got": got, "after": after, "alive": [_alive(p) for p in pool.pids], "broken": pool.broken}
    if name == "timeout":
        queued = WorkerPool(1)  # five tasks of 0.3 s behind each other, 0.5 s each: none times out
        ok = await _outcomes([queued.submit(nap, 0.3, n, timeout=0.5) for n in range(5)])
        await maybe_deferred_to_future(queued.shutdown())
        pool = WorkerPool(1)
        started = time.monotonic()
        got = await _outcomes([pool.submit(nap, 30, "late", timeout=0.5), pool.submit(echo, "behind", timeout=5)])
        took = time.monotonic() - started
        await maybe_deferred_to_future(pool.shutdown())
        return {"queued": ok, "got": got, "took": took, "alive": [_alive(p) for p in pool.pids]}
    if name == "sigint":
        import signal

        from twisted.internet import reactor
        from twisted.internet.task import deferLater

        pool = WorkerPool(1)
        task = pool.submit(nap, 1.0, "finished")
        await maybe_deferred_to_future(deferLater(reactor, 0.5, lambda: None))
        os.kill(pool.pids[0], signal.SIGINT)  # what a Ctrl-C in the terminal also sends the workers
        got = await _outcomes([task, pool.submit(echo, "next")])
        await maybe_deferred_to_future(pool.shutdown())
        return {"got": got}
    raise ValueError(name)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (exited, not reaped) counts as gone
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(") ", 1)[1][0] != "Z"


def _main(name: str) -> None:
    from scrapy.utils.defer import deferred_from_coro
    from scrapy.utils.reactor import install_reactor

    install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
    from twisted.internet import reactor

    result: dict[str, Any] = {}

    def done(value: Any) -> None:
        result.update(value)
        reactor.stop()  # type: ignore[attr-defined]

    def failed(failure: Any) -> None:
        result["error"] = failure.getTraceback()
        reactor.stop()  # type: ignore[attr-defined]

    reactor.callWhenRunning(lambda: deferred_from_coro(scenario(name)).addCallbacks(done, failed))  # type: ignore[attr-defined]
    reactor.run()  # type: ignore[attr-defined]
    print(json.dumps(result))


def _run(name: str) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-m", "tests.test_workers", name], cwd=PROJECT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "error" not in result, result["error"]
    return result


# -- the tests ------------------------------------------------------------------------------------
def test_results_errors_and_big_payloads_come_back_to_their_tasks() -> None:
    result = _run("results")
    assert result["numbers"] == list(range(300))
    assert result["big_ok"], "a 3 MB argument and its 6 MB result, through pipes of 1 MB at most"
    fail_, unpicklable_, unsendable, left, after = result["rest"]
    assert left == ["RuntimeError", "SystemExit in the worker: 3"], "the crawler does not exit with it"
    assert fail_ == ["ValueError", "no good"]
    assert unpicklable_[0] in ("PicklingError", "RuntimeError", "AttributeError"), "a result that cannot come back"
    assert unsendable[0] in ("PicklingError", "AttributeError"), "an argument that cannot go"
    assert after == ["ok", "after"], "a task's failure leaves the pool working"
    assert result["workers"] == 2 and result["alive"] == [False, False], "shut down: the workers exited"


def test_workers_run_at_the_niceness_given_and_the_crawler_keeps_its_own() -> None:
    result = _run("nice")
    assert result["ours"] == os.nice(0)
    assert {nice for _, nice in result["workers"]} == {min(19, result["ours"] + 7)}
    assert {pid for pid, _ in result["workers"]} <= set(result["pids"])


def test_workers_merge_freed_memory_at_once_and_the_crawler_keeps_glibcs_default() -> None:
    """The workers turn glibc's fast bins off (pipelines/worker_process.py): small chunks an extraction
    frees are merged as they go, not all at once at the repair's first large allocation."""
    fast_bins = _run("nice")["fast_bins"]
    if fast_bins["crawler"] is None:
        pytest.skip("not glibc: the C library has no mallinfo2, so no fast bins to turn off")
    assert fast_bins["crawler"] > 32_000, "glibc's default: freed small chunks wait in fast bins"
    assert fast_bins["worker"] == 0


def test_a_worker_that_dies_breaks_the_pool_and_every_pending_task_fails() -> None:
    result = _run("die")
    a, b, dying, c = result["got"]
    assert a == ["ok", "a"], "done before the death: kept"
    assert dying[0] == "BrokenProcessPool" and "exit status 70" in dying[1]
    assert b[0] == c[0] == "BrokenProcessPool", "the other worker's running and queued tasks fail too"
    assert result["after"][0][0] == "BrokenProcessPool"
    assert result["alive"] == [False, False] and "exit status 70" in result["broken"]


def test_a_ctrl_c_leaves_the_workers_at_their_pages() -> None:
    """SIGINT is the crawler's to handle (Scrapy's graceful shutdown waits for the pages in flight):
    a worker finishes its page and takes the next."""
    assert _run("sigint")["got"] == [["ok", "finished"], ["ok", "next"]]


def test_a_timeout_counts_from_when_the_task_starts_and_breaks_the_pool() -> None:
    result = _run("timeout")
    assert result["queued"] == [["ok", n] for n in range(5)], "waiting in the queue does not count"
    late, behind = result["got"]
    assert late == ["WorkerTimeout", "extraction took longer than 0.5s"]
    assert behind[0] == "BrokenProcessPool", "the task behind it is failed for another try elsewhere"
    assert result["took"] < 10 and result["alive"] == [False], "the stuck worker was killed"


if __name__ == "__main__":
    _main(sys.argv[1])
