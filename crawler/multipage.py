"""Multi-page articles: an article page that announces more pages (TRS `createPageHTML(3, 0,
"t20240101_123", "html")`, or a pager of `…_2.html` links) has them fetched, one after the other.

Every page is handed to the pipelines as soon as it is fetched, as its own capture (`part_of`: the
first page's URL), so its raw bytes are spooled and archived whatever happens to the pages after it.
The first page travels along the chain of requests (in their `meta`, so a scrapy-redis worker can
carry on a chain another began) and is handed over last, with every other page's bytes (`parts`) and
the pages that could not be had (`missing_parts`: 404, fetch error, out of scope, over
ARTICLE_MAX_PAGES); the extraction stage merges their text into its document. A page re-checked by a
conditional GET that answers 304 is merged from the bytes the archive holds.

`spider` below is the PortalSpider (its `archive`, `allowed_domains`, `_lookup`, `full`, stats).
"""
from __future__ import annotations

import hashlib
import html
import logging
import posixpath
import re
from collections.abc import AsyncIterator
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.threads import deferToThread
from twisted.python.failure import Failure

from crawler.items import PageCapture, StatusRecord
from crawler.middlewares import ascii_safe
from crawler.pagination import ArticlePages, article_pages
from pipelines.storage.archive import Archive
from pipelines.storage.base import ArchiveError
from pipelines.storage.keys import stamp

if TYPE_CHECKING:
    from crawler.spiders.portal import PortalSpider

logger = logging.getLogger(__name__)

# Above list pages (10) and articles (0): a started article is finished before others begin, so few
# first pages wait in memory at a time.
PART_PRIORITY = 20
_STEM = re.compile(r"^([\w.-]+)\.s?html?$", re.I)
_LINK = re.compile(r"""<a\s[^>]*?\bhref\s*=\s*("([^"]*)"|'([^']*)'|([^\s>]+))[^>]*>(.{0,300}?)</a\s*>""",
                   re.I | re.S)
_TAG = re.compile(r"<[^>]*>")


def announced(response: TextResponse) -> ArticlePages | None:
    """The pages the article page announces, or None. The page is parsed for links only when its raw
    text names a numbered sibling (TRS pages are read from their createPageHTML call alone)."""
    m = _STEM.match(posixpath.basename(urlsplit(response.url).path))
    if m is None:
        return None
    stem, base = m.group(1), m.group(1).rsplit("_", 1)[0]
    # t…_123.html links t…_123_1.html; a later page t…_123_2.html links t…_123.html
    needles = ("createPageHTML", f"{stem}_", *((f"{base}.",) if base != stem else ()))
    # most pages: their bytes tell, no decoding on this core
    if not _mentions(response, needles, shared=base):
        return None
    text = response.text
    linked = f"{stem}_" in text or (base != stem and f"{base}." in text)
    if "createPageHTML" not in text and not linked:
        return None
    return article_pages(text, response.url, _sibling_links(text, base) if linked else [])


def _mentions(response: TextResponse, needles: tuple[str, ...], shared: str = "") -> bool:
    """Whether the page may name one of `needles`: False only when it surely does not. The needles
    that begin with `shared` are looked for where it occurs: one scan of the body for them all."""
    if not ascii_safe(response.encoding) or not all(n.isascii() for n in needles):
        return True
    body = response.body
    grouped = tuple(n.encode("ascii") for n in needles if shared and n.startswith(shared))
    if any(n.encode("ascii") in body for n in needles if not (shared and n.startswith(shared))):
        return True
    if not grouped:
        return False
    key = shared.encode("ascii")
    at = body.find(key)
    while at >= 0:
        if body.startswith(grouped, at):
            return True
        at = body.find(key, at + 1)
    return False


def _sibling_links(text: str, base: str) -> list[tuple[str, str]]:
    """(href, text) of the page's links whose href names `base` (a regex scan: the page is not
    parsed on the spider's core for the few links a pager has)."""
    out = []
    for m in _LINK.finditer(text):
        href = html.unescape(m.group(2) or m.group(3) or m.group(4) or "")
        if base in href:
            out.append((href, html.unescape(_TAG.sub("", m.group(5)))))
    return out


async def article(spider: PortalSpider, response: Response, capture: PageCapture) -> AsyncIterator[Any]:
    """What an article page gives: itself, or the first request of its other pages."""
    pages = announced(response) if isinstance(response, TextResponse) else None
    if pages is None:
        yield capture
        return
    stats = spider.crawler.stats
    if pages.current != 0:  # a later page reached on its own (a list link, a re-check): itself only
        capture.part_of = {"url": pages.urls[0], "page": pages.current + 1}
        stats.inc_value("portal/multipage/part_alone")
        yield capture
        return
    limit = spider.crawler.settings.getint("ARTICLE_MAX_PAGES", 50)
    todo, missing = [], []
    for number, url in enumerate(pages.urls[1:], start=2):
        if limit and number > limit:
            missing.append({"url": url, "page": number, "reason": "over_limit"})
        elif not _in_scope(url, spider.allowed_domains):
            missing.append({"url": url, "page": number, "reason": "offsite"})
        else:
            todo.append({"url": url, "page": number})
    stats.inc_value("portal/multipage/articles")
    state = {"first": capture, "total": len(pages.urls), "todo": todo, "parts": [],
             "missing": missing}
    async for out in _next(spider, state):
        yield out


async def part(spider: PortalSpider, response: Response,
               record: PageCapture | StatusRecord) -> AsyncIterator[Any]:
    """A later page fetched: archive it as its own capture (or re-check record), then the next one."""
    state, page = response.meta["article"], response.meta["part"]
    number, url = page["page"], page["url"]
    spider.crawler.stats.inc_value("portal/multipage/parts")
    if isinstance(record, StatusRecord):
        yield record
        if record.kind == "revisit":  # 304: merge the text the archive holds for this page
            got = await maybe_deferred_to_future(deferToThread(_archived, spider.archive, url))
            if got is None:
                state["missing"].append({"url": url, "page": number, "reason": "not_in_archive"})
            else:
                headers, body = got
                state["parts"].append(_part(number, url, record.status, record.fetched_at, body,
                                            _content_type(headers), None))
        else:
            state["missing"].append({"url": url, "page": number, "reason": f"http_{record.status}"})
    else:
        record.part_of = {"url": state["first"].url, "page": number}
        yield record  # archived raw whatever it is
        if isinstance(response, TextResponse):
            state["parts"].append(_part(number, url, record.status, record.fetched_at, record.body,
                                        record.content_type, record.decoding))
        else:
            state["missing"].append({"url": url, "page": number, "reason": "not_text"})
    async for out in _next(spider, state):
        yield out


async def part_failed(spider: PortalSpider, failure: Failure) -> AsyncIterator[Any]:
    """A later page could not be had: the article goes on without it, and says so."""
    request = failure.request  # type: ignore[attr-defined]
    state, page = request.meta["article"], request.meta["part"]
    if isinstance(failure.value, HttpError):
        reason = f"http_{failure.value.response.status}"
    else:
        reason = failure.type.__name__ if failure.type else "error"
    state["missing"].append({"url": page["url"], "page": page["page"], "reason": reason})
    async for out in _next(spider, state):
        yield out


async def _next(spider: PortalSpider, state: dict[str, Any]) -> AsyncIterator[Any]:
    if not state["todo"]:
        yield _finish(spider, state)
        return
    page = state["todo"].pop(0)
    # The page's index entry: a known page is re-checked by a conditional GET (304 → revisit).
    [entry] = await maybe_deferred_to_future(deferToThread(spider._lookup, [page["url"]]))
    first: PageCapture = state["first"]
    meta: dict[str, Any] = {"column": first.column, "article": state, "part": page}
    recheck, headers = spider.recheck_of(entry if entry and entry.get("kind") != "removed" else None)
    meta.update(recheck)
    # dont_filter: the chain must go on (a dupefilter drop would call neither callback nor errback);
    # the pages are unique by construction and checked against allowed_domains above.
    yield scrapy.Request(page["url"], spider.parse_article_part, errback=spider.article_part_failed,
                         dont_filter=True, priority=PART_PRIORITY, meta=meta, headers=headers)


def _finish(spider: PortalSpider, state: dict[str, Any]) -> PageCapture:
    first: PageCapture = state["first"]
    first.parts = sorted(state["parts"], key=lambda p: p["page"])
    first.missing_parts = sorted(state["missing"], key=lambda p: p["page"])
    stats = spider.crawler.stats
    for missing in first.missing_parts:
        stats.inc_value(f"portal/multipage/missing/{missing['reason']}")
        first.errors.append(f"multipage: page {missing['page']} of {state['total']} not archived "
                            f"({missing['reason']}): {missing['url']}")
    if first.missing_parts:
        stats.inc_value("portal/multipage/incomplete")
        logger.warning("%s: %d of %d pages missing", first.url, len(first.missing_parts), state["total"])
    return first


def _in_scope(url: str, domains: list[str]) -> bool:
    """The URL's host is one of the site's allowed domains or under one (as Scrapy's offsite rule)."""
    host = (urlsplit(url).hostname or "").lower()
    return any(host == d.lower() or host.endswith("." + d.lower()) for d in domains)


def _part(number: int, url: str, status: int, fetched_at: datetime, body: bytes,
          content_type: str | None, decoding: dict[str, Any] | None) -> dict[str, Any]:
    return {"page": number, "url": url, "status": status, "stamp": stamp(fetched_at),
            "raw_sha1": hashlib.sha1(body).hexdigest(), "body": body, "content_type": content_type,
            "decoding": decoding}


def _content_type(headers: list[tuple[str, str]]) -> str | None:
    return next((v for k, v in headers if k.lower() == "content-type"), None)


def _archived(archive: Archive, url: str) -> tuple[list[tuple[str, str]], bytes] | None:
    """(headers, body) of the URL's newest archived content, or None."""
    try:
        capture = archive.latest_content(url)
        if capture is None:
            return None
        _, headers, body = archive.raw_response(capture)
        return headers, body
    except (ArchiveError, ValueError) as exc:
        logger.warning("cannot read the archived %s: %s", url, exc)
        return None
