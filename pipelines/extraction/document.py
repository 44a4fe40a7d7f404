"""The extraction entry point: article text and typed government metadata from one decoded page.

`extract_document(html, url, overrides)` runs the layers in order, recording each that contributed in
`extracted_by`: the site file's XPath overrides, the government meta tags, a known CMS body container,
trafilatura (configured for Chinese portals), then the Chinese-portal cleaning pass. It returns a plain,
JSON-ready dict (see `FIELDS`) and raises ExtractionError when the page holds no article text.
Pure and picklable: no module state is written, so it can run in a process pool.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin

from lxml.html import HtmlElement

from pipelines.extraction.clean import clean_text, credits_in_line
from pipelines.extraction.dates import date_from_url, parse_date
from pipelines.extraction.gkml import read_label_cells, read_label_line
from pipelines.extraction.layers import body_nodes, node_text, parse_html, run_trafilatura, xpath_text
from pipelines.extraction.meta import (
    before_sections,
    date_candidates,
    gov_fields,
    heading_date,
    labelled_date,
    lead_text,
    read_meta,
    split_keywords,
    unlabelled_date,
    unshown_date,
    without_clock,
)

EXTRACTOR_NAME = "govarchive"
EXTRACTOR_VERSION = "0.3.0"

FIELDS = ("title", "published_at", "source", "author", "reporter", "editor", "photographer", "reviewer",
          "column", "site_name", "site_id_code", "keywords", "description", "gkml", "text", "extracted_by",
          "attachments")
ATTACHMENT_EXTENSIONS = ("pdf", "doc", "docx", "xls", "xlsx", "wps", "ofd", "zip", "rar")
_ATTACHMENT = re.compile(r"\.(?:" + "|".join(ATTACHMENT_EXTENSIONS) + r")(?:$|[?#])", re.I)
_TITLE_SEPARATORS = re.compile(r"\s*(?:[_|\uff5c]|--|—+|\s-\s|-{1}(?=[^\d]))\s*")
class ExtractionError(ValueError):
    """The page holds nothing we can call article text."""


def _clean_value(value: str | None) -> str | None:
    if value is None:
        return None
    value = " ".join(value.split()).strip(" :：|")
    return value or None


def _title(meta_title: str | None, tree: HtmlElement, site_name: str | None,
           cells: dict[str, str]) -> str | None:
    if meta_title:
        return _clean_value(meta_title)
    if cells.get("title"):
        return _clean_value(cells["title"])
    page_title = _clean_value(tree.findtext(".//title"))
    for h in tree.iter("h1", "h2"):
        heading = _clean_value(h.text_content())
        if heading and page_title and len(heading) >= 4 and heading in page_title:
            return heading
    if not page_title:
        return None
    if site_name and page_title.endswith(site_name) and page_title != site_name:
        page_title = page_title[: -len(site_name)]
    parts = [p for p in _TITLE_SEPARATORS.split(page_title) if p.strip()]
    return _clean_value(parts[0]) if parts else _clean_value(page_title)


def _published_at(overrides: Mapping[str, str], tree: HtmlElement, html: str, meta: dict[str, str],
                  cells: dict[str, str], line_meta: dict[str, str], around: tuple[str, str, str, str],
                  url: str, title: str | None) -> str | None:
    header, trailer, body, lead = around
    header = without_clock(header)
    first_lines = [line for line in body.split("\n")[:2] if len(line) <= 80]
    last_lines = [line for line in body.split("\n")[-2:] if len(line) <= 80]
    xpath = overrides.get("date_xpath")
    candidates: list[str | None] = [xpath_text(tree, xpath) if xpath else None]
    candidates += date_candidates(meta, html)
    candidates += [cells.get("published_at"), line_meta.get("published_at")]
    for candidate in candidates:
        iso = parse_date(candidate)
        if iso:
            return iso
    # a labelled date above the body, in its first or last short lines (kept by the extractor), just
    # above its first paragraph (left out by the extractor), below it (before any comments or lists)
    iso = (labelled_date("\n".join([header, *first_lines]), last=True) or labelled_date(lead, last=True)
           or labelled_date("\n".join([*last_lines, before_sections(trailer)]), last=False)
           or date_from_url(url))
    if iso:
        return iso
    # an unlabelled date: the first under the title heading, else the nearest above the body
    # (`2005-04-27 14:32 …`) or on its short first line
    iso = heading_date(header, title)
    if iso:
        return iso
    for line in [*reversed(header[-300:].split("\n")), *first_lines[:1]]:
        iso = unlabelled_date(line)
        if iso:
            return iso
    return unshown_date(html)


def _around(page_text: str, body: str) -> tuple[str, str]:
    """The page text above the body (titles, dates, sources) and just below it (blog footers), found by
    anchoring the body's first and last long lines in the page text."""
    body_lines = body.split("\n")
    pieces = [max(line.split("|"), key=len).strip() for line in body_lines]
    lines = [p for p in pieces if len(p) >= 20] or [p for p in pieces if len(p) >= 6]
    if not lines:
        return page_text[:1500], ""
    start = page_text.find(lines[0][:30])
    if start < 0:
        start = page_text.find(lines[0][:12])
    head = page_text[:start] if start > 0 else ""
    anchor = lines[-1][-30:]
    end = page_text.find(anchor, max(start, 0))
    tail = page_text[end + len(anchor):][:400] if end >= 0 else ""
    return head[-1500:], tail


def _anchor_token(line: str) -> str:
    """The longest whitespace-free run of a text line, at most 16 characters: a piece that sits in one
    text node of the page (node_text collapses whitespace, so a whole line may not)."""
    return max(line.split(), key=len, default="")[:16]


def _body_region(tree: HtmlElement, text: str) -> HtmlElement | None:
    """The smallest element holding the first and the last lines of an extracted text (trafilatura's
    text has no nodes); None when that is the whole page or the lines are not found."""
    lines = [t for t in (_anchor_token(line) for line in text.split("\n")) if len(t) >= 6]
    ends: list[HtmlElement] = []
    for candidates in (lines[:3], lines[::-1][:3]):
        for token in candidates:
            found = tree.xpath("//body//text()[contains(., $t)]", t=token)
            if found:
                node = found[0].getparent()
                ends.append(node.getparent() if found[0].is_tail and node.getparent() is not None
                            else node)
                break
    if len(ends) != 2:
        return None
    first_chain = [ends[0], *ends[0].iterancestors()]
    last_chain = {ends[1], *ends[1].iterancestors()}  # lxml keeps one proxy per live node
    common = next((e for e in first_chain if e in last_chain), None)
    return None if common is None or common.tag in ("body", "html") else common


def _named_in(a: HtmlElement, kept: str) -> bool:
    """A link whose own words (four characters or more) are in the extracted text: a 附件 line that
    trafilatura kept although it sits outside the element holding the body."""
    words = "".join(a.text_content().split())
    return len(words) >= 4 and words in kept


def _attachments(nodes: list[HtmlElement], tree: HtmlElement, url: str, text: str) -> list[dict[str, str]]:
    """Links to attachment files in the article body only: in its container when a layer found one;
    on the trafilatura path, in the element holding the extracted text, or named in that text."""
    def is_file(a: HtmlElement) -> bool:
        return bool(_ATTACHMENT.search((a.get("href") or "").strip()))

    if nodes:
        links: list[HtmlElement] = [a for node in nodes for a in node.iter("a") if is_file(a)]
    else:
        links = [a for a in tree.iter("a") if is_file(a)]
        if links:  # most pages link no file: the body's element is looked for only when one does
            region = _body_region(tree, text)
            inside = set(region.iter("a")) if region is not None else set()
            kept = "".join(text.split())
            links = [a for a in links if a in inside or _named_in(a, kept)]
    found: list[dict[str, str]] = []
    seen: set[str] = set()
    for a in links:
        href = (a.get("href") or "").strip()
        absolute = urljoin(url, href) if url else href
        if absolute in seen:
            continue
        seen.add(absolute)
        name = _clean_value(a.text_content()) or _clean_value(a.get("title")) or href.rsplit("/", 1)[-1]
        found.append({"name": name, "url": absolute})
    return found


def extract_document(html: str, url: str, overrides: Mapping[str, str] | None = None) -> dict[str, Any]:
    overrides = {k: v for k, v in (overrides or {}).items() if isinstance(v, str) and v.strip()}
    tree = parse_html(html)
    layers: list[str] = []

    meta = read_meta(tree)
    gov = gov_fields(meta)
    if gov:
        layers.append("meta")
    cells = read_label_cells(tree)

    layer, nodes = body_nodes(tree, html, overrides)
    if layer:
        layers.append(layer)
        raw_text = "\n".join(node_text(n) for n in nodes)
    else:
        raw_text = run_trafilatura(tree, url)
        layers.append("trafilatura")
    if not raw_text.strip():
        raise ExtractionError("no article text found")

    site_name = _clean_value(gov.get("site_name"))
    title_override = xpath_text(tree, overrides["title_xpath"]) if "title_xpath" in overrides else ""
    if title_override:
        layers.insert(0, "override")
    title = _clean_value(title_override) or _title(gov.get("title"), tree, site_name, cells)

    cleaned = clean_text(raw_text, title)
    layers.append("clean")
    if not cleaned.text.strip():
        raise ExtractionError("only page chrome found")

    body_tag = tree.find("body")
    page_text = node_text(body_tag if body_tag is not None else tree)
    header, trailer = _around(page_text, cleaned.text)
    line_meta = dict(cleaned.meta)
    for line in header.split("\n"):
        if len(line) <= 120:
            for key, value in read_label_line(line).items():
                if value:
                    line_meta.setdefault(key, value)

    source_override = xpath_text(tree, overrides["source_xpath"]) if "source_xpath" in overrides else ""
    if source_override:
        source_fields = read_label_line(source_override)
        source_override = source_fields.get("source", source_override)
    if ("date_xpath" in overrides or source_override or layer == "override") and "override" not in layers:
        layers.insert(0, "override")
    gkml = {key.split(".", 1)[1]: value for key, value in cells.items() if key.startswith("gkml.")}
    if gkml.get("written_at"):
        gkml["written_at"] = parse_date(gkml["written_at"]) or gkml["written_at"]
    if gkml:
        layers.insert(layers.index("clean"), "gkml")

    credits = dict(cleaned.credits)
    # Credit lines just below the body container (TRS puts （责任编辑：…） in its own div).
    for line in trailer.split("\n")[:6]:
        if 0 < len(line.strip()) <= 80:
            for key, value in credits_in_line(line.strip()).items():
                credits.setdefault(key, value)
    doc: dict[str, Any] = {
        "title": title,
        "published_at": _published_at(overrides, tree, html, meta, cells, line_meta,
                                      (header, trailer, cleaned.text, lead_text(page_text, cleaned.text)),
                                      url, title),
        "source": _clean_value(source_override) or _clean_value(gov.get("source")) or _clean_value(
            cells.get("source")) or _clean_value(line_meta.get("source")),
        "author": _clean_value(gov.get("author")) or _clean_value(credits.get("author")) or _clean_value(
            line_meta.get("author")),
        "reporter": credits.get("reporter"),
        "editor": credits.get("editor"),
        "photographer": credits.get("photographer"),
        "reviewer": credits.get("reviewer"),
        "column": _clean_value(gov.get("column")),
        "site_name": site_name,
        "site_id_code": _clean_value(gov.get("site_id_code")),
        "keywords": split_keywords(gov.get("keywords")),
        "description": _clean_value(gov.get("description")),
        "gkml": gkml,
        "text": cleaned.text,
        "extracted_by": layers,
        "attachments": _attachments(nodes, tree, url, cleaned.text),
    }
    return doc
