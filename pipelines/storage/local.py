"""A folder on the local disk: the embedded default archive."""
from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from pipelines.storage.base import ArchiveError, NotFound, check_key, register
from pipelines.storage.files import TMP_PREFIX, write_atomic


@register("file")
class LocalStore:
    local = True

    def __init__(self, uri: str, **_: Any) -> None:
        parts = urlsplit(uri)
        if parts.netloc not in ("", "localhost"):
            raise ArchiveError(f"ARCHIVE_URI {uri!r}: a file URI needs an absolute path (file:///…)")
        self.uri = uri
        self.root = Path(unquote(parts.path))
        self._root = str(self.root)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def check(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.root, prefix=".check-"):
                pass
        except OSError as exc:
            raise ArchiveError(f"archive {self.uri} is not writable: {exc}") from exc

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        try:
            # Strings, not Paths: this runs twice per page. The key's folder is made on first use.
            write_atomic(os.path.join(self._root, check_key(key)), data, make_folder=True)
        except OSError as exc:
            raise ArchiveError(f"cannot write {key} to {self.uri}: {exc}") from exc

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise NotFound(key) from None
        except OSError as exc:
            raise ArchiveError(f"cannot read {key} from {self.uri}: {exc}") from exc

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str) -> Iterator[str]:
        # Walk only below the folder that holds the prefix, so a URL's listing stays cheap.
        folder = prefix.rpartition("/")[0]
        base = self.root / check_key(folder) if folder else self.root
        keys: list[str] = []
        for dirpath, dirnames, filenames in os.walk(base):
            rel = os.path.relpath(dirpath, self.root).replace(os.sep, "/")
            rel = "" if rel == "." else rel + "/"
            dirnames[:] = [d for d in dirnames
                           if (rel + d + "/").startswith(prefix) or prefix.startswith(rel + d + "/")]
            keys.extend(rel + n for n in filenames
                        if (rel + n).startswith(prefix) and not n.startswith((TMP_PREFIX, ".check-")))
        yield from sorted(keys)
