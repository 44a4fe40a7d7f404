"""Government-website meta tags (GB/T 42147-2022 and the 2017 政府网站发展指引), names matched
case-insensitively, with the common Open Graph / news fallbacks for the date."""
from __future__ import annotations

import re

from lxml.html import HtmlElement

# meta name (lower-case) -> our field
GOV_META = {
    "articletitle": "title",
    "pubdate": "published_at",
    "contentsource": "source",
    "columnname": "column",
    "sitename": "site_name",
    "siteidcode": "site_id_code",
    "keywords": "keywords",
    "author": "author",
    "description": "description",
}
# Other names seen on news and portal pages that carry the publication time, in order of trust.
DATE_META = ("pubdate", "publishdate", "article:published_time", "og:release_date", "og:published_time",
             "publish_time", "publishtime", "firstpublishedtime", "datepublished", "dc.date", "date")
# The enorth/people.cn CMS family writes its article properties into an HTML comment.
_ENP_DATE = re.compile(r"<!--\s*enpproperty.{0,2000}?<date>([^<]{8,40})</date>", re.S | re.I)
_SPLIT_KEYWORDS = re.compile(r"[,，;；、|\s]+")


def read_meta(tree: HtmlElement) -> dict[str, str]:
    """All `<meta name|property|itemprop=… content=…>` with non-empty content; first occurrence wins."""
    found: dict[str, str] = {}
    for el in tree.iter("meta"):
        name = el.get("name") or el.get("property") or el.get("itemprop") or el.get("http-equiv")
        content = (el.get("content") or "").strip()
        if name and content:
            found.setdefault(name.strip().lower(), content)
    return found


def gov_fields(meta: dict[str, str]) -> dict[str, str]:
    """The government tags present, renamed to our fields (the raw strings, not yet typed)."""
    return {field: meta[name] for name, field in GOV_META.items() if name in meta}


def split_keywords(value: str | None) -> list[str]:
    seen: list[str] = []
    for word in _SPLIT_KEYWORDS.split(value or ""):
        if word and word not in seen:
            seen.append(word)
    return seen


def date_candidates(meta: dict[str, str], html: str = "") -> list[str]:
    found = [meta[name] for name in DATE_META if name in meta]
    m = _ENP_DATE.search(html)
    return [*found, m.group(1)] if m else found
