"""The reader's web pages: server-rendered HTML, no scripts, one stylesheet.

    /               a URL search form; with `url`: its captures on a timeline and in a table
    /text           one capture's clean text with its metadata (source, publish time, editor, 文号…)
    /diff           two captures of a URL compared, paragraph by paragraph
    /page           the archived page as served, in a sandboxed frame, and downloads
    /frame          the archived bytes for that frame (sandbox CSP: no scripts, opaque origin)

Every dynamic value goes through `_e` (HTML-escaped, quotes included) or `link` (URL-encoded, then
escaped); archived HTML is never inlined into these pages.
"""
from __future__ import annotations

import html
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from pipelines.storage.archive import Capture
from pipelines.storage.base import NotFound
from retrieval import api, query
from retrieval.reader import Listed, Page, Query
from retrieval.web import FRAMED_CSP, READER, blocking, link, safe_content_type

#: Document fields shown on the text page, in order, with their labels.
FIELDS = (("url", "网址 URL"), ("captured_at", "抓取时间 Captured"), ("kind", "类型 Kind"),
          ("status", "HTTP 状态 Status"), ("site", "站点 Site"), ("column", "栏目 Column"),
          ("published_at", "发布时间 Published"), ("source", "信息来源 Source"),
          ("author", "作者 Author"), ("editor", "责任编辑 Editor"), ("reviewer", "审核 Reviewer"),
          ("reporter", "记者 Reporter"), ("photographer", "摄影 Photographer"),
          ("site_name", "网站名称 Site name"), ("site_id_code", "网站标识码 Site ID"),
          ("keywords", "关键词 Keywords"), ("description", "摘要 Description"),
          ("variant", "镜像 Mirror"), ("content_type", "Content-Type"),
          ("text_fingerprint", "文本指纹 Text fingerprint"), ("errors", "错误 Errors"))
#: 信息公开 (government information disclosure) table fields.
GKML_FIELDS = (("index_no", "索引号"), ("publisher", "发布机构"), ("doc_number", "文号"),
               ("written_at", "成文日期"), ("topic", "主题分类"), ("validity", "有效性"))

#: The stylesheet, read once: the only style the pages may use (CSP `style-src 'self'`).
CSS = (Path(__file__).parent / "style.css").read_text(encoding="utf-8")


def _e(value: Any) -> str:
    """Escaped for HTML text and quoted attribute values."""
    return html.escape("" if value is None else str(value), quote=True)


def _when(capture: Capture) -> str:
    return capture.captured_at.strftime("%Y-%m-%d %H:%M:%S UTC")


def layout(title: str, body: str, url: str = "", match: str = "exact") -> str:
    """A whole page: header with the search form, then the body."""
    options = "".join(f'<option value="{m}"{" selected" if m == match else ""}>{label}</option>'
                      for m, label in (("exact", "this URL"), ("prefix", "URLs starting with")))
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{_e(title)} · govarchive</title>
<link rel="stylesheet" href="/static/style.css"></head>
<body><header><a href="/">govarchive · 政府网站存档</a>
<form method="get" action="/" role="search"><input type="url" name="url" required
 placeholder="http://www.example.gov.cn/zwgk/…" value="{_e(url)}" aria-label="URL">
<select name="match" aria-label="match">{options}</select><button type="submit">Search 查询</button></form>
</header><main>{body}</main></body></html>"""


def html_response(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8")


def error_page(status: int, message: str) -> web.Response:
    body = f'<h1>{status}</h1><p class="error">{_e(message)}</p>'
    return html_response(layout(f"{status}", body), status)


# -- / ---------------------------------------------------------------------------------------------
async def index(request: web.Request) -> web.Response:
    if not request.query.get("url"):
        body = ("<h1>Archive retrieval by URL</h1><p>Enter the address of a government page to see "
                "every capture of it, read its clean text, compare versions and open the page as "
                "archived. 输入网址，查看该页面的所有存档版本。</p><p class=note>Machine access: "
                '<a href="/openapi.json">the JSON API (OpenAPI)</a>.</p>')
        return html_response(layout("Search", body))
    q = api.captures_query(request.query)
    page = await blocking(request.app[READER].page, q)
    body = _captures_body(q, page, request)
    status = 200 if page.items or q.cursor else 404
    return html_response(layout(f"Captures of {q.url}", body, q.url, q.match), status)


def _captures_body(q: Query, page: Page, request: web.Request) -> str:
    if not page.items:
        return f'<h1>Not archived</h1><p class="error">No capture of {_e(q.url)} in this archive.</p>'
    if q.match == "exact":
        total = page.total if page.total is not None else len(page.items)
        head = f"<h1>{total} capture{'s' if total != 1 else ''} of <span class=mono>{_e(q.url)}</span></h1>"
    else:
        head = f"<h1>Captures under <span class=mono>{_e(q.url)}</span></h1>"
    rows = []
    exact = q.match == "exact"
    for i, item in enumerate(page.items):
        rows.append(_capture_row(item, q.url, i, exact))
    radios = "<th>A</th><th>B</th>" if exact else ""
    url_col = "" if exact else "<th>URL</th>"
    table = (f'<table class="captures"><thead><tr>{radios}<th>Captured (UTC)</th>{url_col}<th>Kind</th>'
             f"<th>Status</th><th>Title</th><th>Text fingerprint</th><th>Open</th></tr></thead>"
             f"<tbody>{''.join(rows)}</tbody></table>")
    if exact and len(page.items) > 1:
        button = '<button type="submit" id="compare">Compare A → B 比较两个版本</button>'
        table = (f'<form method="get" action="/diff"><input type="hidden" name="url" value="{_e(q.url)}">'
                 f"{table}<p>{button}</p></form>")
    more = ""
    if page.next_cursor:
        following = link("/", url=q.url, match=q.match, limit=str(q.limit),
                         cursor=page.next_cursor.encode(),
                         **{"from": request.query.get("from"), "to": request.query.get("to")})
        more = f'<p><a rel="next" href="{_e(following)}">Older captures →</a></p>'
    return head + _timeline(page.items, q.url) + table + more


def _capture_row(item: Listed, url: str, i: int, exact: bool) -> str:
    stamp = item.capture.timestamp
    target = item.url or url
    radios = ""
    if exact:
        radios = (f'<td><input type="radio" name="a" value="{stamp}"{" checked" if i == 1 else ""} '
                  f'aria-label="A"></td><td><input type="radio" name="b" value="{stamp}"'
                  f'{" checked" if i == 0 else ""} aria-label="B"></td>')
    url_cell = "" if exact else f"<td class=mono>{_e(target)}</td>"
    kind = item.capture.kind
    opens = (f'<span class=links><a href="{_e(link("/page", url=target, at=stamp))}">page</a>'
             f'<a href="{_e(link("/api/v1/raw", url=target, at=stamp))}">raw</a>'
             f'<a href="{_e(link("/api/v1/raw", url=target, at=stamp, format="warc"))}">WARC</a>'
             f'<a href="{_e(link("/api/v1/document", url=target, at=stamp))}">JSON</a></span>')
    return (f'<tr class="capture" data-timestamp="{stamp}">{radios}'
            f'<td><a class="text-link" href="{_e(link("/text", url=target, at=stamp))}">'
            f"{_e(_when(item.capture))}</a></td>{url_cell}"
            f'<td><span class="kind kind-{_e(kind)}">{_e(kind)}</span></td><td>{_e(item.status)}</td>'
            f"<td>{_e(item.title)}</td><td class=mono>{_e((item.text_fingerprint or '')[:12])}</td>"
            f"<td>{opens}</td></tr>")


def _timeline(items: list[Listed], url: str) -> str:
    """The listed captures as dots on a time axis (SVG: positions are attributes, not styles)."""
    times = [item.capture.captured_at.timestamp() for item in items]
    lo, hi = min(times), max(times)
    dots = []
    for item, t in zip(items, times, strict=True):
        x = 500.0 if hi == lo else 30 + 940 * (t - lo) / (hi - lo)
        stamp = item.capture.timestamp
        label = f"{_when(item.capture)} · {item.capture.kind} · {item.status} · {item.title or ''}"
        dots.append(f'<a href="{_e(link("/text", url=item.url or url, at=stamp))}">'
                    f'<circle cx="{x:.1f}" cy="35" r="8" class="k-{_e(item.capture.kind)}">'
                    f"<title>{_e(label)}</title></circle></a>")
    first = datetime.fromtimestamp(lo, UTC).strftime("%Y-%m-%d %H:%M")
    last = datetime.fromtimestamp(hi, UTC).strftime("%Y-%m-%d %H:%M")
    return (f'<svg class="timeline" viewBox="0 0 1000 90" role="img" aria-label="timeline of captures">'
            f'<line x1="20" y1="35" x2="980" y2="35"/>{"".join(dots)}'
            f'<text x="20" y="80">{_e(first)}</text>'
            f'<text x="980" y="80" text-anchor="end">{_e(last)}</text></svg>')


# -- /text -----------------------------------------------------------------------------------------
async def text(request: web.Request) -> web.Response:
    url = query.target_url(request.query.get("url"))
    at = query.timestamp(request.query.get("at"), "at")
    reader = request.app[READER]
    every = await blocking(reader.captures, url)
    if not every:
        raise NotFound(f"no capture of {url} in this archive")
    capture = await blocking(reader.pick, url, at)
    doc = await blocking(reader.document, capture)
    target = doc.get("url") or url
    stamp = capture.timestamp
    position = next(i for i, c in enumerate(every) if c.timestamp == stamp)
    older = every[position + 1] if position + 1 < len(every) else None
    newer = every[position - 1] if position > 0 else None
    nav = [f'<a href="{_e(link("/", url=target))}">all {len(every)} captures</a>']
    if older:
        nav.append(f'<a rel="prev" href="{_e(link("/text", url=target, at=older.timestamp))}">← older</a>')
        to_previous = link("/diff", url=target, a=older.timestamp, b=stamp)
        nav.append(f'<a id="diff-previous" href="{_e(to_previous)}">compare with the previous version</a>')
    if newer:
        nav.append(f'<a rel="next" href="{_e(link("/text", url=target, at=newer.timestamp))}">newer →</a>')
    nav.append(f'<a href="{_e(link("/page", url=target, at=stamp))}">archived page</a>')
    nav.append(f'<a href="{_e(link("/api/v1/raw", url=target, at=stamp))}">raw download</a>')
    nav.append(f'<a href="{_e(link("/api/v1/raw", url=target, at=stamp, format="warc"))}">WARC</a>')
    nav.append(f'<a href="{_e(link("/api/v1/document", url=target, at=stamp))}">JSON</a>')
    body = (f"<h1>{_e(doc.get('title') or '(no title)')}</h1><p class=links>{''.join(nav)}</p>"
            f"{_metadata(doc)}<h2>Text 正文</h2>{_paragraphs(doc.get('text'))}")
    if doc.get("text_simplified"):
        body += f"<h2>Simplified 简体</h2>{_paragraphs(doc.get('text_simplified'))}"
    return html_response(layout(str(doc.get("title") or target), body, target))


def _value(value: Any) -> str:
    if isinstance(value, list):
        return "、".join(_value(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{_e(k)}: {_value(v)}" for k, v in value.items())
    return _e(value)


def _metadata(doc: dict[str, Any]) -> str:
    rows = [(label, doc.get(name)) for name, label in FIELDS]
    found = doc.get("gkml")
    gkml: dict[str, Any] = found if isinstance(found, dict) else {}
    rows += [(label, gkml.get(name)) for name, label in GKML_FIELDS]
    encoding = doc.get("encoding")
    if isinstance(encoding, dict):
        rows.append(("编码 Encoding", f"{encoding.get('encoding')} ({encoding.get('rule')})"))
    attachments = doc.get("attachments")
    cells = "".join(f'<tr><th scope="row">{_e(label)}</th><td>{_value(value)}</td></tr>'
                    for label, value in rows if value not in (None, "", [], {}))
    if isinstance(attachments, list) and attachments:
        cells += f'<tr><th scope="row">附件 Attachments</th><td>{_attachments(attachments)}</td></tr>'
    return f'<table class="meta">{cells}</table>'


def _attachments(attachments: list[Any]) -> str:
    """Each file an article links to: its name, and what the crawl did with it (issue 4); an archived
    file links to its download (the newest capture of its URL)."""
    out = []
    for a in attachments:
        if not isinstance(a, dict):
            out.append(_value(a))
            continue
        name, url = a.get("name") or a.get("url"), a.get("url")
        state = ", ".join(str(v) for v in (a.get("status"), a.get("reason"), a.get("bytes") and
                                            f"{a['bytes']} bytes") if v)
        label = _e(name) + (f" ({_e(state)})" if state else "")
        if a.get("status") in ("archived", "unchanged") and isinstance(url, str):
            label = f'<a href="{_e(link("/api/v1/raw", url=url))}">{label}</a>'
        out.append(label)
    return "<br>".join(out)


def _paragraphs(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        return '<p class="note">(no clean text for this capture)</p>'
    paras = "".join(f"<p>{_e(line.strip())}</p>" for line in value.splitlines() if line.strip())
    return f'<div class="text">{paras}</div>'


# -- /diff -----------------------------------------------------------------------------------------
async def compare(request: web.Request) -> web.Response:
    result = await api.diff_of(request)
    a, b, url = result["a"], result["b"], result["url"]
    counts = result["counts"]
    head = (f"<h1>Changes in <span class=mono>{_e(url)}</span></h1>"
            f'<p>A: <a href="{_e(link("/text", url=url, at=a["timestamp"]))}">{_e(a["captured_at"])}</a> → '
            f'B: <a href="{_e(link("/text", url=url, at=b["timestamp"]))}">{_e(b["captured_at"])}</a> · '
            f'<span class="counts">+{counts["added"]} &minus;{counts["removed"]} paragraphs</span> · '
            f'<a href="{_e(link("/api/v1/diff", url=url, a=a["timestamp"], b=b["timestamp"]))}">JSON</a></p>')
    fields = ""
    if result["fields"]:
        cells = "".join(f'<tr><th scope="row">{_e(f["field"])}</th><td>{_value(f["old"])}</td>'
                        f"<td>{_value(f['new'])}</td></tr>" for f in result["fields"])
        fields = f'<h2>Metadata</h2><table class="meta"><tr><th></th><th>A</th><th>B</th></tr>{cells}</table>'
    classes = {"=": "eq", "-": "del", "+": "ins"}
    signs = {"=": "", "-": "&minus;", "+": "+"}
    rows = "".join(f'<tr class="{classes[line["op"]]}"><td class="op">{signs[line["op"]]}</td>'
                   f'<td class="t">{_e(line["text"])}</td></tr>' for line in result["lines"])
    if not any(line["op"] != "=" for line in result["lines"]):
        rows = '<tr><td></td><td class="note">The clean text is the same in both captures.</td></tr>' + rows
    return html_response(layout(f"Changes in {url}", f'{head}{fields}<h2>Text</h2>'
                                f'<table class="diff">{rows}</table>', url))


# -- /page and /frame ------------------------------------------------------------------------------
async def page(request: web.Request) -> web.Response:
    url = query.target_url(request.query.get("url"))
    at = query.timestamp(request.query.get("at"), "at")
    capture = await blocking(request.app[READER].pick, url, at)
    stamp = capture.timestamp
    body = (f"<h1>Archived page · {_e(_when(capture))}</h1>"
            f'<p class=links><a href="{_e(link("/text", url=url, at=stamp))}">clean text</a>'
            f'<a href="{_e(link("/api/v1/raw", url=url, at=stamp))}">download as served</a>'
            f'<a href="{_e(link("/api/v1/raw", url=url, at=stamp, format="warc"))}">WARC</a></p>'
            '<p class="note">Shown as archived, with scripts, forms and outside requests disabled '
            "(the page cannot reach the live site).</p>"
            f'<iframe class="archived" sandbox="" referrerpolicy="no-referrer" title="archived page" '
            f'src="{_e(link("/frame", url=url, at=stamp))}"></iframe>')
    return html_response(layout(f"Archived page {url}", body, url))


async def frame(request: web.Request) -> web.Response:
    """The archived body for the reader's sandboxed frame: inline, but under a sandbox CSP."""
    url = query.target_url(request.query.get("url"))
    at = query.timestamp(request.query.get("at"), "at")
    reader = request.app[READER]
    capture = await blocking(reader.pick, url, at)
    try:
        _, headers, body = await blocking(reader.raw_response, capture)
    except ValueError as exc:
        raise NotFound(f"capture {capture.timestamp} of {url} holds no response body: {exc}") from None
    return web.Response(body=body, headers={
        "Content-Type": safe_content_type(headers), "Content-Security-Policy": FRAMED_CSP,
        "X-Frame-Options": "SAMEORIGIN", "Content-Disposition": "inline"})


async def stylesheet(request: web.Request) -> web.Response:
    return web.Response(text=CSS, content_type="text/css", charset="utf-8",
                        headers={"Cache-Control": "public, max-age=3600"})
