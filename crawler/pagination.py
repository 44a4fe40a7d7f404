"""Pagination rules found on municipal portals: list pages, and articles split over several pages."""
from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

# TRS WCM: createPageHTML(countPage, currentPage, "index", "html"); page 0 is index.html,
# page i is index_i.html. Variables may stand in for the numbers (var countPage = N).
# The same call splits a long article: createPageHTML(3, 0, "t20240101_123", "html").
_CREATE = re.compile(
    r"""createPageHTML\(\s*['"]?(\w+)['"]?\s*,\s*['"]?(\w+)['"]?\s*,\s*['"]([\w.-]+)['"]\s*,"""
    r"""\s*['"](\w+)['"]""")
_VAR = r"""var\s+{name}\s*=\s*['"]?(\d+)['"]?"""
# An article page's file name: stem and extension (t20240101_123.html, art_1_2.shtml, 2034.htm).
_PAGE_FILE = re.compile(r"^(?P<stem>[\w.-]+?)\.(?P<ext>s?html?)$", re.I)
_NUMBERED = re.compile(r"^(?P<base>[\w.-]+)_(?P<n>\d{1,3})$")
# What a pager link says: a page number, 第N页, 上一页/下一页, 首页/尾页, arrows. Links to other
# articles (上一篇: <title>) say something else, so t20240101_124.html beside t20240101_123.html
# is never taken for a page.
_PAGER_TEXT = re.compile(r"^[\[【(]?\s*(?:\d{1,3}|第\s*\d{1,3}\s*页|[上下前后]一?页|首页|尾页|末页|最后一?页|"
                         r"[<>«»]{1,2})\s*[\]】)]?$")


def _number(token: str, html: str) -> int | None:
    if token.isdigit():
        return int(token)
    m = re.search(_VAR.format(name=re.escape(token)), html)
    return int(m.group(1)) if m else None


def trs_call(html: str) -> tuple[int, int, str, str] | None:
    """(page count, current page, base name, extension) of the page's createPageHTML call."""
    m = _CREATE.search(html)
    if not m:
        return None
    count, current = _number(m.group(1), html), _number(m.group(2), html)
    if count is None or current is None:
        return None
    return count, current, m.group(3), m.group(4)


def trs_next_page(html: str, url: str) -> str | None:
    """The next list page of a TRS-paginated list, or None on the last page / no pagination."""
    call = trs_call(html)
    if call is None or call[1] + 1 >= call[0]:
        return None
    _, current, base, ext = call
    return urljoin(url, f"{base}_{current + 1}.{ext}")


@dataclass(frozen=True)
class ArticlePages:
    """The pages of one article, first page first, and which of them the page read is."""

    urls: list[str]
    current: int
    style: str  # "trs" (createPageHTML) or "links" (a pager block of …_N.html links)


#: The most pages a createPageHTML call is believed for (pager links are read up to _999 anyway).
_MOST_PAGES = 999


def article_pages(html: str, url: str, links: Iterable[tuple[str, str]]) -> ArticlePages | None:
    """The pages of a multi-page article announced by one of its pages, or None for a single page.

    TRS: `createPageHTML(N, cur, "<stem>", "html")` whose stem is the article's own (a list widget's
    `"index"` does not count): `<stem>.html`, `<stem>_1.html` … `<stem>_{N-1}.html`. Other CMSs: pager
    links (`links`: (href, text), the text a page number, 下一页, 尾页…) to `<stem>_<n>.<ext>` beside
    the article (`_2` or `_1` for the second page, by CMS); the
    pages are the stem and every number from the lowest to the highest linked (a pager that shows a
    window of numbers still links the last page)."""
    path = urlsplit(url).path
    folder, name = posixpath.split(path)
    m = _PAGE_FILE.match(name)
    if not m:
        return None
    stem, ext = m.group("stem"), m.group("ext")
    numbered = _NUMBERED.match(stem)
    # The page read may be the first (t…_123.html) or a continuation (t…_123_2.html).
    bases = [(stem, 0)] + ([(numbered.group("base"), int(numbered.group("n")))] if numbered else [])
    call = trs_call(html)
    if call is not None:
        count, current, base, call_ext = call
        # A count past _MOST_PAGES is a broken template, not an article (and would build that many
        # URLs): the page is taken as a single one.
        if 1 < count <= _MOST_PAGES and any(base == b for b, _ in bases):
            urls = [urljoin(url, f"{base}.{call_ext}")]
            urls += [urljoin(url, f"{base}_{i}.{call_ext}") for i in range(1, count)]
            return ArticlePages(urls, min(max(current, 0), count - 1), "trs")
    for base, own in bases:
        pattern = re.compile(re.escape(base) + r"_(\d{1,3})\." + re.escape(ext) + r"$")
        numbers = set()
        links_first = False
        for href, text in links:
            if not _PAGER_TEXT.match(" ".join(text.split())):
                continue
            try:
                target = urlsplit(urljoin(url, href.strip()))
            except ValueError:  # an href that does not parse (`http://[::1`) is no page of ours
                continue
            linked_folder, linked_name = posixpath.split(target.path)
            if target.netloc != urlsplit(url).netloc or linked_folder != folder:
                continue
            found = pattern.match(linked_name)
            if found and int(found.group(1)) > 0:
                numbers.add(int(found.group(1)))
            links_first = links_first or linked_name == f"{base}.{ext}"
        # A continuation page links back to the first page (1, 上一页, 首页): without that link,
        # t20240101_123.html is an article, not page 123 of t20240101.html.
        if own and not links_first:
            continue
        if own:
            numbers.add(own)
        if not numbers:
            continue
        first = urljoin(url, f"{base}.{ext}")
        numbered_urls = [urljoin(url, f"{base}_{n}.{ext}")
                         for n in range(min(numbers), max(numbers) + 1)]
        urls = [first, *numbered_urls]
        current = urls.index(urljoin(url, name)) if urljoin(url, name) in urls else 0
        return ArticlePages(urls, current, "links")
    return None
