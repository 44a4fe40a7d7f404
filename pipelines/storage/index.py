"""The per-site index: what a site has in the archive, in one object, so incremental runs are cheap.

    index/<site>.json.gz    {"schema", "site", "saved_at", "hosts", "entries": {key prefix: entry}}

An entry, keyed by the URL's capture key prefix (`captures/<host>/<quoted path>/`): `url`, `stamp`
and `kind` of the newest record, `captured`/`digest`/`fingerprint` of the newest content capture,
the response's `etag`/`last_modified` (for conditional GETs), `published` (YYYY-MM-DD), `column`.

The archive, not the index, is the truth. The index is read once when a crawl opens and written
once when it closes; a missing, unreadable, foreign or old index is rebuilt from one listing of
`captures/<host>/` per host (keys alone carry stamp, kind and digest). Writes are merged with
whatever another process saved meanwhile (newer stamp wins per URL), and a URL the index does not
know is checked with one prefix listing of its own before it is fetched (see `Archive.captures`).
"""
from __future__ import annotations

import gzip
import json
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

from pipelines.storage.archive import Archive
from pipelines.storage.base import ArchiveError, NotFound
from pipelines.storage.keys import (
    ROOT,
    canonical_url,
    parse_key,
    parse_stamp,
    stamp,
    url_from_prefix,
    url_prefix,
)

logger = logging.getLogger(__name__)

SCHEMA = 1
Entry = dict[str, Any]

# Dates in article URLs: TRS `t20261120_123.html`, `/202611/`, `/2026-11-20/`, `/2026/1120/`.
_URL_DATES = (
    re.compile(r"[/_t](?P<y>20\d\d)(?P<m>[01]\d)(?P<d>[0-3]\d)[_/.-]"),
    re.compile(r"/(?P<y>20\d\d)-(?P<m>[01]\d)-(?P<d>[0-3]\d)/"),
    re.compile(r"/(?P<y>20\d\d)/(?P<m>[01]\d)(?P<d>[0-3]\d)/"),
    re.compile(r"/(?P<y>20\d\d)(?P<m>[01]\d)/"),
)


def index_key(site: str) -> str:
    return f"index/{site}.json.gz"


def url_date(url: str) -> date | None:
    """The publication date an article URL carries, if any (a month alone gives its first day)."""
    path = urlsplit(url).path
    for pattern in _URL_DATES:
        m = pattern.search(path)
        if m:
            try:
                return date(int(m["y"]), int(m["m"]), int(m.groupdict().get("d") or 1))
            except ValueError:
                continue
    return None


def key_prefix(url: str) -> str:
    """The key prefix of a URL's captures (raises BadURL for anything but absolute http(s))."""
    return url_prefix(canonical_url(url)[0])


def host_prefix(url: str) -> str:
    """`captures/<host>/`: every capture of one host, as keys.url_prefix spells the host."""
    return f"{ROOT}{quote(urlsplit(canonical_url(url)[0]).netloc, safe=':[]')}/"


def entry_date(entry: Entry) -> date | None:
    """The article's date: its published date, else its URL's date."""
    published = entry.get("published")
    if published:
        try:
            return date.fromisoformat(str(published)[:10])
        except ValueError:
            pass
    return url_date(entry.get("url") or "")


def merge_entry(old: Entry | None, new: Entry) -> Entry:
    """The newer of two entries for one URL, keeping what only the older one knows."""
    if old is None:
        return dict(new)
    first, second = (old, new) if (old.get("stamp") or "") <= (new.get("stamp") or "") else (new, old)
    merged = {**first, **{k: v for k, v in second.items() if v is not None}}
    if (first.get("checked") or "") > (merged.get("checked") or ""):
        merged["checked"] = first["checked"]
    return merged


@dataclass
class SiteIndex:
    site: str
    hosts: list[str]
    entries: dict[str, Entry] = field(default_factory=dict)
    saved_at: str | None = None
    rebuilt: bool = False
    changed: set[str] = field(default_factory=set)

    # -- loading and saving ---------------------------------------------------------------------
    @classmethod
    def load(cls, archive: Archive, site: str, start_urls: Iterable[str], scheme: str = "http",
             max_age: timedelta | None = None, now: datetime | None = None) -> SiteIndex:
        """The stored index, or one rebuilt from the captures when missing, foreign or too old."""
        hosts = sorted({host_prefix(u) for u in start_urls})
        now = now or datetime.now(UTC)
        try:
            data = json.loads(gzip.decompress(archive.store.get(index_key(site))))
            if data.get("schema") != SCHEMA or not set(hosts) <= set(data.get("hosts", [])):
                raise ValueError("index is for another layout or other hosts")
            saved = data.get("saved_at")
            if max_age is not None and (not saved or now - parse_stamp(saved) > max_age):
                raise ValueError(f"index saved {saved} is older than {max_age.days} days")
            return cls(site, hosts, dict(data["entries"]), saved)
        except NotFound:
            logger.info("no index for %s yet: building it from the captures", site)
        except (ValueError, KeyError, OSError, EOFError) as exc:
            logger.warning("index of %s not used (%s): rebuilding it from the captures", site, exc)
        index = cls(site, hosts, rebuilt=True)
        index.entries = dict(cls._from_listing(archive, hosts, scheme))
        index.changed = set(index.entries)
        return index

    @staticmethod
    def _from_listing(archive: Archive, hosts: Iterable[str], scheme: str) -> Iterator[tuple[str, Entry]]:
        for host in hosts:
            current: str | None = None
            entry: Entry = {}
            for key in archive.store.list(host):
                name = parse_key(key)
                # Attachments (files an article links to) are not pages: never re-checked as one.
                if name is None or not key.endswith(".json.gz") or name.kind == "attachment":
                    continue
                if name.prefix != current:
                    if current is not None:
                        yield current, entry
                    url = url_from_prefix(name.prefix, scheme)
                    published = url_date(url)
                    current, entry = name.prefix, {"url": url, "published": published and
                                                   published.isoformat()}
                # Keys list in time order within a URL: the last one seen is the newest.
                entry.update(stamp=name.stamp, kind=name.kind)
                if name.kind == "capture":
                    entry.update(captured=name.stamp, digest=name.digest, fingerprint=None)
                if name.kind in ("capture", "revisit"):
                    entry["checked"] = name.stamp
            if current is not None:
                yield current, entry

    def save(self, archive: Archive, now: datetime | None = None) -> None:
        """Write the index, merged with any index saved by another process since this one loaded."""
        try:
            stored = json.loads(gzip.decompress(archive.store.get(index_key(self.site))))
            others: dict[str, Entry] = stored.get("entries", {}) if stored.get("schema") == SCHEMA else {}
        except NotFound:
            others = {}
        except (ValueError, OSError, EOFError):
            others = {}
        merged = dict(others)
        for prefix, entry in self.entries.items():
            merged[prefix] = merge_entry(others.get(prefix), entry)
        self.entries = merged
        self.saved_at = stamp(now or datetime.now(UTC))
        data = {"schema": SCHEMA, "site": self.site, "saved_at": self.saved_at,
                "hosts": sorted(set(self.hosts) | set(stored_hosts(others))), "entries": merged}
        raw = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
        archive.store.put(index_key(self.site), gzip.compress(raw, mtime=0), "application/json")
        self.changed.clear()

    # -- knowing --------------------------------------------------------------------------------
    def get(self, url: str) -> Entry | None:
        return self.entries.get(key_prefix(url))

    def covers(self, url: str) -> bool:
        """True when a miss is authoritative: the index was rebuilt this run from its host's listing."""
        return self.rebuilt and host_prefix(url) in self.hosts

    def lookup(self, archive: Archive, url: str) -> Entry | None:
        """The URL's entry; on a miss the archive is asked (one prefix listing) and the answer kept."""
        entry = self.get(url)
        if entry is not None or self.covers(url):
            return entry
        try:
            found = archive.captures(url)
        except ArchiveError as exc:
            logger.warning("cannot check %s in the archive (%s): treating it as new", url, exc)
            return None
        if not found:
            return None
        newest = found[0]
        content = next((c for c in found if c.kind == "capture"), None)
        published = url_date(url)
        entry = {"url": url, "stamp": newest.timestamp, "kind": newest.kind,
                 "published": published and published.isoformat(), "checked": newest.timestamp}
        if content is not None:
            entry.update(captured=content.timestamp, digest=content.name.digest, fingerprint=None)
        self.record(url, entry)
        return entry

    def record(self, url: str, update: Entry) -> None:
        """Merge what a fetch learnt about a URL into its entry."""
        prefix = key_prefix(url)
        entry = dict(self.entries.get(prefix) or {"url": url})
        entry.update({k: v for k, v in update.items() if v is not None or k == "fingerprint"})
        self.entries[prefix] = entry
        self.changed.add(prefix)

    # -- choosing what to re-check --------------------------------------------------------------
    def due(self, now: datetime, days_back: int, every_days: float) -> list[Entry]:
        """Live entries published in the last `days_back` days, not checked for `every_days`."""
        horizon = now.date() - timedelta(days=days_back)
        out = []
        for entry in self.entries.values():
            if entry.get("kind") == "removed" or not entry.get("url"):
                continue
            when = entry_date(entry) or _stamp_date(entry.get("captured") or entry.get("stamp"))
            if when is None or when < horizon:
                continue
            last = entry.get("checked") or entry.get("stamp")
            if last and now - parse_stamp(last) < timedelta(days=every_days):
                continue
            out.append(entry)
        return sorted(out, key=lambda e: str(e.get("published") or ""), reverse=True)

    def in_range(self, since: date | None, until: date | None) -> list[Entry]:
        """Live entries whose date falls in [since, until]; entries with no date are included."""
        out = []
        for entry in self.entries.values():
            if entry.get("kind") == "removed" or not entry.get("url"):
                continue
            when = entry_date(entry)
            if when is not None and ((since and when < since) or (until and when > until)):
                continue
            out.append(entry)
        return out


def stored_hosts(entries: dict[str, Entry]) -> set[str]:
    return {"/".join(p.split("/")[:2]) + "/" for p in entries}


def _stamp_date(text: str | None) -> date | None:
    return parse_stamp(text).date() if text else None
