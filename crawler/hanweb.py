"""Hanweb 大汉 jcms lists read straight from `dataproxy.jsp`, no browser.

A Hanweb column page (`/col/col<id>/index.html`) embeds its first records in a
`<script type="text/xml"><datastore>…` block, and its list script fetches the rest with
`POST /module/web/jpage/dataproxy.jsp?startrecord=1&endrecord=45&perpage=15` (form fields `col, appid,
webid, path, columnid, unitid, sourceContentType, permissiontype`), which answers
`<datastore><recordset><record><![CDATA[<li>…</li>]]></record>…</recordset><totalrecord>N</totalrecord>`.
When the site file has a `[hanweb]` table naming those parameters, the spider calls it directly.

Pure parsing first (`parse_datastore`, `record_links`, `dataproxy_request_args`), then `walk`, the
spider's list hook.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urljoin

import lxml.html
from scrapy import Request
from scrapy.http import FormRequest, TextResponse

if TYPE_CHECKING:
    from settings.sites import Hanweb

_RECORD = re.compile(r"<record[^>]*>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S | re.I)
_TOTAL = re.compile(r"<totalrecord>\s*(\d+)\s*</totalrecord>", re.I)
_COLUMN = re.compile(r"/col/col(\d+)/")


@dataclass(frozen=True)
class Datastore:
    """One `<datastore>`: its records (HTML fragments, in order) and `totalrecord` when given."""

    records: list[str]
    total: int | None


def parse_datastore(text: str) -> Datastore:
    """The records and total of a dataproxy.jsp answer, or of the datastore a column page embeds."""
    total = _TOTAL.search(text)
    return Datastore([m.group(1) for m in _RECORD.finditer(text)],
                     int(total.group(1)) if total else None)


def record_links(records: list[str], base_url: str) -> list[str]:
    """Absolute URLs of the links in the records, in order, without repeats."""
    seen: dict[str, None] = {}
    for fragment in records:
        if not fragment.strip():
            continue
        try:
            root = lxml.html.fragment_fromstring(fragment, create_parent="div")
        except (lxml.etree.ParserError, ValueError):
            continue
        for href in root.xpath(".//a/@href"):
            href = str(href).strip()
            if href and not href.startswith(("javascript:", "#")):
                seen.setdefault(urljoin(base_url, href), None)
    return list(seen)


def column_id(url: str) -> str | None:
    m = _COLUMN.search(url)
    return m.group(1) if m else None


def dataproxy_request_args(config: Hanweb, page_url: str, columnid: str, start: int
                           ) -> tuple[str, dict[str, str]]:
    """(URL, form fields) of the dataproxy.jsp call for records `start`… of one column."""
    end = start + config.perpage * config.pages_per_call - 1
    query = urlencode({"startrecord": start, "endrecord": end, "perpage": config.perpage})
    form = {**config.params, "columnid": columnid, **config.column_params.get(columnid, {})}
    return urljoin(page_url, config.endpoint) + "?" + query, form


# -- the spider's hook -----------------------------------------------------------------------------
def walk(spider: Any, response: TextResponse) -> Iterator[Request]:
    """parse_list for a site with `[hanweb]`: articles from the records, then the next dataproxy call.

    `spider` is the PortalSpider (its `site`, `parse_list`, `parse_article`, stats)."""
    config: Hanweb = spider.site.hanweb
    stats = spider.crawler.stats
    column = response.meta.get("column")
    state = response.meta.get("hanweb")
    store = parse_datastore(response.text)
    pattern = re.compile(spider.site.article.url_pattern)
    links = [u for u in record_links(store.records, response.url) if pattern.search(u)]
    if state is None:  # the column page: what it embeds and its visible links
        links += [link.url for link in spider.articles.extract_links(response)]
    stats.inc_value("hanweb/records", len(store.records))
    for url in dict.fromkeys(links):
        yield Request(url, spider.parse_article, meta={"column": column})
    page = response.meta.get("list_page", 1)
    if state is None:
        columnid = column_id(response.url)
        if columnid is None:
            stats.inc_value("hanweb/no_column_id")
            return
        start = 1
    else:
        columnid = state["columnid"]
        start = state["start"] + config.perpage * config.pages_per_call
        if store.total is None or start > store.total:
            return
    if page >= spider.site.listing.max_pages:
        return
    url, form = dataproxy_request_args(config, response.url, columnid, start)
    stats.inc_value("hanweb/dataproxy/requests")
    yield FormRequest(url, formdata=form, callback=spider.parse_list,
                      meta={"column": column, "list_page": page + 1,
                            "hanweb": {"columnid": columnid, "start": start}})
