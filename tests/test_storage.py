"""One contract for every storage backend: the local folder and moto's S3 server over HTTP."""
from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.storage import ArchiveError, ArchiveStore, NotFound, open_store
from pipelines.storage.files import TMP_PREFIX, write_atomic
from tests.conftest import S3


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ArchiveStore]:
    if request.param == "local":
        yield open_store((tmp_path / "archive").as_uri())
    else:
        s3: S3 = request.getfixturevalue("s3")
        yield open_store(s3.uri("pre/fix"), endpoint_url=s3.endpoint)


def test_put_get_exists_roundtrip_bytes_exactly(store: ArchiveStore) -> None:
    store.check()
    data = bytes(range(256)) * 3
    store.put("captures/h/%2Fa/1.bin", data)
    assert store.get("captures/h/%2Fa/1.bin") == data
    assert store.exists("captures/h/%2Fa/1.bin")
    assert not store.exists("captures/h/%2Fa/2.bin")


def test_missing_key_is_not_found(store: ArchiveStore) -> None:
    with pytest.raises(NotFound):
        store.get("captures/none/here.json.gz")


def test_list_is_a_prefix_listing_in_order(store: ArchiveStore) -> None:
    for key in ["captures/h/%2Fb/2", "captures/h/%2Fa/2", "captures/h/%2Fa/1", "captures/h/%2Fab/1",
                "captures/g/%2Fa/1", "runs/x"]:
        store.put(key, b"x")
    assert list(store.list("captures/h/%2Fa/")) == ["captures/h/%2Fa/1", "captures/h/%2Fa/2"]
    assert list(store.list("captures/h/%2Fa")) == ["captures/h/%2Fa/1", "captures/h/%2Fa/2",
                                                  "captures/h/%2Fab/1"]
    assert len(list(store.list("captures/"))) == 5
    assert list(store.list("nothing/")) == []


def test_overwrite_is_idempotent(store: ArchiveStore) -> None:
    store.put("k/a", b"one")
    store.put("k/a", b"two")
    assert store.get("k/a") == b"two"
    assert list(store.list("k/")) == ["k/a"]


@pytest.mark.parametrize("key", ["../escape", "a/../../b", "/abs", "a//b", "a/./b", "", "a\\b", "a\x00b"])
def test_keys_that_could_escape_are_refused(store: ArchiveStore, key: str) -> None:
    with pytest.raises(ArchiveError, match="refused key"):
        store.put(key, b"x")


def test_local_put_leaves_no_temporary_files(tmp_path: Path) -> None:
    store = open_store(tmp_path.as_uri())
    store.put("a/b/c", b"1" * 100_000)
    assert sorted(p.name for p in (tmp_path / "a/b").iterdir()) == ["c"]


def test_local_put_passes_temporary_names_left_by_a_killed_process(tmp_path: Path) -> None:
    # A process with this pid (an earlier one, killed mid-write) left temporary files behind: the
    # write takes another name, and listings never show them.
    store = open_store(tmp_path.as_uri())
    store.put("a/b/first", b"1")
    left = [tmp_path / "a/b" / f"{TMP_PREFIX}{os.getpid()}-{n}" for n in range(1000)]
    for path in left:
        path.write_bytes(b"half")
    store.put("a/b/c", b"whole")
    assert store.get("a/b/c") == b"whole"
    assert list(store.list("a/")) == ["a/b/c", "a/b/first"]


def test_local_put_remakes_a_folder_removed_under_it(tmp_path: Path) -> None:
    store = open_store(tmp_path.as_uri())
    store.put("a/b/c", b"1")
    shutil.rmtree(tmp_path / "a")
    store.put("a/b/d", b"2")
    assert list(store.list("a/")) == ["a/b/d"]


def test_failed_atomic_write_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "t"
    with pytest.raises(TypeError):
        write_atomic(str(target), "not bytes")  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(FileNotFoundError):  # without make_folder a missing folder is an error
        write_atomic(str(tmp_path / "none" / "t"), b"x")


def test_unknown_scheme_and_bad_uris_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="unknown scheme 'ftp'"):
        open_store("ftp://host/x")
    with pytest.raises(ArchiveError, match="names a bucket"):
        open_store("s3:///nobucket")
    with pytest.raises(ArchiveError, match="not writable"):
        open_store("file:///proc/no/such/place").check()


def test_unreachable_s3_fails_check_quickly() -> None:
    store = open_store("s3://bucket/p", endpoint_url="http://127.0.0.1:9", access_key_id="x",
                       secret_access_key="y", max_attempts=1, connect_timeout=1)
    with pytest.raises(ArchiveError, match="cannot reach"):
        store.check()
