"""Scale-out: two worker processes share scrapy-redis's queue and dupefilter on a real redis-server and
crawl the demo portal: every article archived exactly once, and both workers did work."""
from __future__ import annotations

import json
import os
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from crawler.distributed import (
    DistributedError,
    check_redis,
    distributed_settings,
    queue_keys,
    redis_url,
    run_id,
)
from pipelines.storage.keys import canonical_url, url_prefix
from tests.conftest import PROJECT, SCRAPY, Portal

pytestmark = [pytest.mark.e2e, pytest.mark.redis]


def test_worker_settings_split_the_sites_politeness() -> None:
    one = distributed_settings("redis://h:6379/0", "demo", "20261122", workers=3, delay=1.5,
                               concurrency=2, target_concurrency=1.0)
    assert (one["DOWNLOAD_DELAY"], one["CONCURRENT_REQUESTS_PER_DOMAIN"],
            one["CONCURRENT_REQUESTS"]) == (4.5, 1, 1)
    assert one["AUTOTHROTTLE_TARGET_CONCURRENCY"] == pytest.approx(1 / 3)
    assert (one["SCHEDULER_QUEUE_KEY"], one["SCHEDULER_DUPEFILTER_KEY"]) == \
        queue_keys("demo", "20261122") == ("govarchive:demo:20261122:requests",
                                           "govarchive:demo:20261122:dupefilter")
    assert one["SCHEDULER_PERSIST"] is True


@pytest.mark.parametrize(("value", "error"), [("a b", "letters, digits"), ("x" * 65, "letters"),
                                              ("../x", "letters")])
def test_run_id_is_refused_when_not_key_safe(value: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        run_id(value)


@pytest.mark.parametrize(("value", "fallback", "expected"), [
    (None, "redis://r:6379/0", None), ("False", "redis://r:6379/0", None), ("0", None, None),
    ("redis://h:6379/1", None, "redis://h:6379/1"), ("True", "redis://r:6379/0", "redis://r:6379/0"),
])
def test_distributed_switch_takes_a_url_or_true_with_redis_url(
        value: str | None, fallback: str | None, expected: str | None) -> None:
    assert redis_url(value, fallback) == expected


@pytest.mark.parametrize(("value", "error"), [("True", "names no Redis server"),
                                              ("h:6379", "expected a redis:// URL")])
def test_distributed_switch_errors_name_the_setting(value: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        redis_url(value, None)


def test_unreachable_redis_is_refused_by_name(redis_server: str) -> None:
    check_redis(redis_server)
    with pytest.raises(DistributedError, match=r"cannot reach Redis at redis://127\.0\.0\.1:9/0"):
        check_redis("redis://127.0.0.1:9/0", timeout=2)


def test_run_id_defaults_to_the_utc_date() -> None:
    from datetime import UTC, datetime

    assert run_id(None, datetime(2026, 11, 22, 23, 59, tzinfo=UTC)) == "20261122"
    assert run_id("night-7") == "night-7"


def test_two_workers_archive_every_article_once_and_both_work(
        slow_portal: Portal, redis_server: str, tmp_path: Path) -> None:
    uri = (tmp_path / "archive").as_uri()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update({"SITES_DIR": str(slow_portal.sites_dir), "ARCHIVE_URI": uri,
                "ARCHIVE_SPOOL_DIR": str(tmp_path / "spool")})
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for n in range(2):
            args = ["crawl", "portal", "-a", "site=demo", "-s", f"DISTRIBUTED={redis_server}",
                    "-s", "DISTRIBUTED_RUN=test-run", "-s", "DISTRIBUTED_WORKERS=2",
                    "-s", "DISTRIBUTED_IDLE_CLOSE=3", "-s", "DOWNLOAD_DELAY=0.15",
                    "-s", "AUTOTHROTTLE_ENABLED=False", "-s", f"RUN_ID=worker-{n}",
                    "-s", f"RUN_SUMMARY_FILE={tmp_path / f'worker-{n}.json'}"]
            log = open(tmp_path / f"worker-{n}.log", "wb")
            procs.append(subprocess.Popen([SCRAPY, *args], cwd=PROJECT, env=env, stdout=log,
                                          stderr=log))
            log.close()
        for proc in procs:
            proc.wait(timeout=150)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)
    logs = [(tmp_path / f"worker-{n}.log").read_text(errors="replace") for n in range(2)]
    for proc, log in zip(procs, logs, strict=True):
        assert proc.returncode == 0, log[-3000:]
        assert "distributed run test-run of demo" in log, log[-3000:]
    summaries = [json.loads((tmp_path / f"worker-{n}.json").read_text()) for n in range(2)]
    archived = [s["archived"] for s in summaries]
    list_pages = [s["list_pages"] for s in summaries]
    print(f"articles archived per worker: {archived}; list pages per worker: {list_pages}; "
          f"requests per worker: {[s['requests'] for s in summaries]}")

    articles = slow_portal.portal.all_articles()
    assert sum(archived) == len(articles)
    assert all(n > 0 for n in archived), f"both workers archived articles: {archived}"
    assert sum(list_pages) == 9, "each list page fetched once across the workers"
    root = tmp_path / "archive" / "captures"
    docs = [p.relative_to(tmp_path / "archive").as_posix() for p in root.rglob("*.json.gz")]
    per_url = Counter(k.rpartition("/")[0] + "/" for k in docs)
    expected = {url_prefix(canonical_url(slow_portal.url(a.path))[0]) for a in articles}
    # The files the demo's notices link to (issue 4) are fetched once per worker: a file two workers
    # fetch at the same moment may be archived twice (README, Scale-out).
    files = {url_prefix(canonical_url(slow_portal.url(path))[0]) for path in slow_portal.portal.files}
    assert set(per_url) == expected | files
    assert {p: n for p, n in per_url.items() if p in expected and n != 1} == {}, "every article exactly once"
    served = Counter(p for p in slow_portal.portal.requests
                     if p != "/robots.txt" and p not in slow_portal.portal.files)
    assert [p for p, n in served.items() if n > 1] == [], "no page was fetched twice"
