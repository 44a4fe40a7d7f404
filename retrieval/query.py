"""Input validation for retrieval: every query parameter is checked here, and refused with a message.

Pure functions, no I/O. Anything a client sends that the archive cannot answer for raises BadRequest,
which the service turns into `400` with the message.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from pipelines.storage.archive import parse_timestamp
from pipelines.storage.keys import ROOT, BadURL, canonical_url, stamp, url_prefix, url_prefix_query

MAX_URL_CHARS = 4096
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MATCH_TYPES = ("exact", "prefix")

_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_HOST = re.compile(rf"^(?:{_LABEL}(?:\.{_LABEL})*\.?|\[[0-9a-f:.]+\])(?::\d{{1,5}})?$")
_CONTROL = re.compile(r"[\x00-\x20\x7f]")
_STAMP = re.compile(r"^\d{20}$")


class BadRequest(ValueError):
    """The request cannot be answered as asked; the message says which parameter and why."""


def _checked_host(url: str, original: str) -> None:
    netloc = urlsplit(url).netloc
    if not _HOST.match(netloc):
        raise BadRequest(f"url: not a valid host name in {original!r}")


def target_url(text: str | None, name: str = "url") -> str:
    """A URL to look up: absolute http(s), no whitespace or control characters, a plain host name.

    Returns the URL stripped; storage derives its key (mirror URLs map to the Simplified page's)."""
    if text is None or not text.strip():
        raise BadRequest(f"{name}: missing (an absolute http:// or https:// URL)")
    text = text.strip()
    if len(text) > MAX_URL_CHARS:
        raise BadRequest(f"{name}: longer than {MAX_URL_CHARS} characters")
    if _CONTROL.search(text):
        raise BadRequest(f"{name}: contains whitespace or control characters: {text[:200]!r}")
    try:
        canonical, _ = canonical_url(text)
    except (BadURL, ValueError) as exc:
        raise BadRequest(f"{name}: {exc}") from None
    _checked_host(canonical, text)
    return text


def key_prefix(url: str, match: str) -> str:
    """The storage key prefix a query lists: one URL's folder, or every URL under a URL prefix."""
    try:
        if match == "prefix":
            found = url_prefix_query(url)
        else:
            found = url_prefix(canonical_url(url)[0])
    except (BadURL, ValueError) as exc:
        raise BadRequest(f"url: {exc}") from None
    host = found[len(ROOT):].partition("/")[0]
    if host in ("", ".", "..") or not found.startswith(ROOT):
        raise BadRequest(f"url: no archive key for {url!r}")
    return found


def match_type(text: str | None) -> str:
    if text is None or text == "":
        return "exact"
    if text not in MATCH_TYPES:
        raise BadRequest(f"match: expected one of {', '.join(MATCH_TYPES)}, got {text[:40]!r}")
    return text


def timestamp(text: str | None, name: str = "at") -> datetime | None:
    """A Wayback-style timestamp (`2026`, `20261122`, … up to 20 digits) or ISO 8601; None if absent."""
    if text is None or text == "":
        return None
    if len(text) > 40:
        raise BadRequest(f"{name}: too long for a timestamp")
    try:
        return parse_timestamp(text)
    except (ValueError, OverflowError):
        raise BadRequest(f"{name}: not a timestamp: {text!r} (expected YYYY[MM[DD[hh[mm[ss[ffffff]]]]]] "
                         "or ISO 8601)") from None


def stamp_bound(text: str | None, name: str, upper: bool) -> str | None:
    """A `from`/`to` bound as a 20-digit stamp to compare keys with; `to=2026` includes all of 2026."""
    when = timestamp(text, name)
    if when is None or text is None:
        return None
    digits = text.strip()
    if digits.isdigit():
        return digits.ljust(20, "9" if upper else "0")
    return stamp(when)


def limit(text: str | None, default: int = DEFAULT_LIMIT) -> int:
    if text is None or text == "":
        return default
    if not text.isdigit() or len(text) > 6:
        raise BadRequest(f"limit: expected a whole number from 1 to {MAX_LIMIT}, got {text[:40]!r}")
    value = int(text)
    if not 1 <= value <= MAX_LIMIT:
        raise BadRequest(f"limit: expected a whole number from 1 to {MAX_LIMIT}, got {value}")
    return value


@dataclass(frozen=True)
class Cursor:
    """Where the next page of a listing starts: after capture `stamp` of the URL at key `prefix`.

    Listings go URL by URL in key order, newest capture first within a URL."""

    prefix: str
    stamp: str

    def encode(self) -> str:
        raw = json.dumps([self.prefix, self.stamp], separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str | None, within: str) -> Cursor | None:
        """The cursor a previous page returned; it must belong to a listing of `within`."""
        if text is None or text == "":
            return None
        bad = BadRequest("cursor: not a cursor returned by this listing")
        if len(text) > 4096:
            raise bad
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            prefix, when = json.loads(raw)
        except (binascii.Error, ValueError, TypeError):
            raise bad from None
        if not (isinstance(prefix, str) and isinstance(when, str) and _STAMP.match(when)
                and prefix.startswith(within) and prefix.endswith("/")):
            raise bad
        return cls(prefix, when)
