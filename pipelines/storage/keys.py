"""Archive keys derived from the canonical URL alone.

    captures/<host>/<quoted path+query>/<stamp>_<kind>_<digest>.warc.gz   raw HTTP exchange (WARC)
    captures/<host>/<quoted path+query>/<stamp>_<kind>_<digest>.json.gz   clean text + metadata

The path and query are percent-quoted into one key segment (no `/`, never `.` or `..`), so a URL's
captures are one prefix listing and a URL prefix is a key prefix. Scheme is not part of the key:
http and https captures of a page land together. Gateway mirror URLs (`/gate/big5/<host>/…`) map to
the Simplified page's key.
"""
from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

from pipelines.decoding.mirrors import canonical_mirror_url

ROOT = "captures/"
KINDS = ("capture", "revisit", "removed", "attachment")  # attachment: a file an article links to
_MAX_SEGMENT = 180
_NAME = re.compile(r"(?P<stamp>\d{20})_(?P<kind>[a-z]+)_(?P<digest>[0-9a-f]{12})\.(?P<ext>warc\.gz|json\.gz)")
_DEFAULT_PORTS = {"http": 80, "https": 443}


class BadURL(ValueError):
    """Not an absolute http(s) URL."""


# Cached: a crawl asks for one URL's canonical form several times (its index lookup, its archive
# write, the index update on the reactor thread), and w3lib's canonicalize_url is not cheap.
@functools.lru_cache(maxsize=4096)
def canonical_url(url: str) -> tuple[str, str | None]:
    """(canonical URL, mirror variant or None). Raises BadURL for anything but absolute http(s)."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.hostname:
        raise BadURL(f"not an absolute http(s) URL: {url!r}")
    url, variant = canonical_mirror_url(url)
    parts = urlsplit(canonicalize_url(url, keep_fragments=False))
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        raise BadURL(f"bad port in {url!r}") from None
    netloc = host if port in (None, _DEFAULT_PORTS[parts.scheme]) else f"{host}:{port}"
    return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, "")), variant


def _segment(text: str) -> str:
    quoted = quote(text, safe="")
    if len(quoted) <= _MAX_SEGMENT:
        return quoted
    digest = hashlib.sha1(quoted.encode()).hexdigest()[:16]
    return f"{quoted[:_MAX_SEGMENT - 18]}~~{digest}"


def url_prefix(canonical: str) -> str:
    """The key prefix (ending in `/`) under which all captures of this canonical URL live."""
    parts = urlsplit(canonical)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return f"{ROOT}{quote(parts.netloc, safe=':[]')}/{_segment(path)}/"


def url_prefix_query(url_prefix_text: str) -> str:
    """The key prefix for a URL-prefix query (`http://host/col/` → every URL below it)."""
    parts = urlsplit(url_prefix_text.strip())
    if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.hostname:
        raise BadURL(f"not an absolute http(s) URL prefix: {url_prefix_text!r}")
    canonical, _ = canonical_url(urlunsplit((parts.scheme, parts.netloc, "/", "", "")))
    host = urlsplit(canonical).netloc
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return f"{ROOT}{quote(host, safe=':[]')}/{quote(path, safe='')[:_MAX_SEGMENT - 18]}"


def url_from_prefix(prefix: str, scheme: str = "http") -> str:
    """Best-effort inverse of url_prefix (exact unless the segment was shortened)."""
    _, host, seg, *_ = prefix.split("/")
    return f"{scheme}://{unquote(host)}{unquote(seg)}"


def stamp(when: datetime) -> str:
    """20-digit UTC timestamp, YYYYMMDDhhmmss + microseconds: sorts as time."""
    return when.astimezone(UTC).strftime("%Y%m%d%H%M%S%f")


def parse_stamp(text: str) -> datetime:
    return datetime.strptime(text, "%Y%m%d%H%M%S%f").replace(tzinfo=UTC)


@dataclass(frozen=True)
class CaptureName:
    prefix: str
    stamp: str
    kind: str
    digest: str

    @property
    def stem(self) -> str:
        return f"{self.prefix}{self.stamp}_{self.kind}_{self.digest}"

    @property
    def raw_key(self) -> str:
        return self.stem + ".warc.gz"

    @property
    def doc_key(self) -> str:
        return self.stem + ".json.gz"

    @property
    def captured_at(self) -> datetime:
        return parse_stamp(self.stamp)


def capture_name(prefix: str, when: datetime, kind: str, digest: str) -> CaptureName:
    if kind not in KINDS:
        raise ValueError(f"unknown capture kind {kind!r}")
    return CaptureName(prefix, stamp(when), kind, digest[:12])


def parse_key(key: str) -> CaptureName | None:
    prefix, _, name = key.rpartition("/")
    m = _NAME.fullmatch(name)
    if not m:
        return None
    return CaptureName(prefix + "/", m["stamp"], m["kind"], m["digest"])
