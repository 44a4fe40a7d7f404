"""The storage interface and the URI-scheme registry."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Protocol
from urllib.parse import urlsplit


class ArchiveError(RuntimeError):
    """The archive cannot be used (unreachable, not writable, bad URI). One type for all backends."""


class NotFound(ArchiveError, KeyError):
    """No object at that key."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "not found"


class ArchiveStore(Protocol):
    """Objects addressed by `/`-separated keys. `put` is atomic: readers never see half an object."""

    uri: str
    #: Writes go to a disk of this machine: quick enough to make on the caller's own thread (the
    #: crawl's reactor, ARCHIVE_WRITE_INLINE) instead of handing each to a thread.
    local: bool

    def check(self) -> None:
        """Raise ArchiveError unless the store can be read and written now."""

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None: ...

    def get(self, key: str) -> bytes:
        """The object's bytes; NotFound when absent."""
        ...

    def exists(self, key: str) -> bool: ...

    def list(self, prefix: str) -> Iterator[str]:
        """Keys that start with `prefix`, in lexical order."""
        ...


_REGISTRY: dict[str, Callable[..., ArchiveStore]] = {}


def register(scheme: str) -> Callable[[Callable[..., ArchiveStore]], Callable[..., ArchiveStore]]:
    def wrap(factory: Callable[..., ArchiveStore]) -> Callable[..., ArchiveStore]:
        _REGISTRY[scheme] = factory
        return factory

    return wrap


def open_store(uri: str, **options: Any) -> ArchiveStore:
    """Open the store named by `uri` (`file:///path` or `s3://bucket/prefix`).

    `options` are backend keyword arguments (for S3: endpoint_url, region_name, access_key_id, …);
    a backend ignores options that are None.
    """
    import pipelines.storage.local
    import pipelines.storage.s3  # noqa: F401  (registers the schemes)

    scheme = urlsplit(uri).scheme
    if scheme not in _REGISTRY:
        known = ", ".join(f"{s}://" for s in sorted(_REGISTRY))
        raise ArchiveError(f"ARCHIVE_URI {uri!r}: unknown scheme {scheme!r} (known: {known})")
    return _REGISTRY[scheme](uri, **{k: v for k, v in options.items() if v is not None})


def check_key(key: str) -> str:
    """Refuse keys that could escape the store's key space."""
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\\" in key \
            or "\x00" in key:
        raise ArchiveError(f"refused key {key!r}: not a plain relative key")
    return key
