"""A test portal on 127.0.0.1 whose columns need a browser, in the ways real portals do.

    python -m tests.challenge_portal [--port 0] [--per-column 5]

| column | path | what a plain HTTP client gets |
|---|---|---|
| 动态列表 | `/js/index.html` | an empty `<ul>`; the list is built by a script from `/js/list.json` after load |
| 瑞数 | `/rs/…` | 412 with a `$_ts` script that sets the `rs_ok` cookie and reloads; then the page (GBK) |
| 加速乐 | `/jsl/…` | 521 with a script setting `__jsl_clearance`; then the page |
| 封锁 | `/wall/…` | always 412 with a `$_ts` script: its cookie is never accepted |
| 大汉 | `/hw/col/col101/index.html` | a Hanweb column; the list comes from `POST /module/web/jpage/dataproxy.jsp` |
| 普通 | `/plain/…` | ordinary pages (the benchmark's plain-HTTP baseline) |

`site_toml(base)` writes a site file for it; `articles` says what a crawl must archive.
"""
from __future__ import annotations

import argparse
import html
import threading
from dataclasses import dataclass
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

RS_TOKEN = "42"
JSL_TOKEN = "3|a1b2"
PARAGRAPHS = [
    "为进一步优化营商环境，市政府办公室近日印发实施方案，明确二十项具体措施。",
    "方案要求各区各部门压实责任，确保各项任务在年底前落地见效，并向社会公开进展情况。",
    "市民可通过政务服务网和十二三四五热线反映问题，相关部门将在五个工作日内答复。",
    "会议强调，要坚持以人民为中心的发展思想，切实解决群众急难愁盼问题。",
]
COLUMNS = {"js": "动态列表", "rs": "瑞数", "jsl": "加速乐", "wall": "封锁", "hw": "大汉", "plain": "普通"}


@dataclass(frozen=True)
class Article:
    column: str
    n: int

    @property
    def path(self) -> str:
        if self.column == "hw":
            return f"/art/2026/11/{1 + self.n % 28}/art_101_{5000 + self.n}.html"
        return f"/{self.column}/art/{self.column}_{self.n}.html"

    @property
    def title(self) -> str:
        return f"{COLUMNS[self.column]}栏目第{self.n}号通知"

    @property
    def paragraphs(self) -> list[str]:
        return [PARAGRAPHS[(self.n + i) % len(PARAGRAPHS)] for i in range(3)]

    @property
    def encoding(self) -> str:
        return "gbk" if self.column == "rs" else "utf-8"


def _challenge_412(cookie_value: str, cookie: str = "rs_ok") -> bytes:
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<meta id="FSSBBIl1UgzbN7N" content="0ZsQBX7lAZ4ebTbrf0aE3rUl8s0yqJ" r='m'>
<script>var $_ts=window['$_ts'];if(!$_ts)$_ts=window['$_ts']={{}};$_ts.nsd=84913;$_ts.cd="qEcmrrAlWqGq";</script>
<script>document.cookie="{cookie}=" + "{cookie_value}" + "; path=/";
setTimeout(function(){{location.reload();}}, 200);</script>
</head><body></body></html>""".encode()


def _challenge_521() -> bytes:
    return b"""<html><body><script>document.cookie=('__jsl_clearance=' + (1+2) + '|a1b2' + ';max-age=3600;path=/');
location.href=location.pathname+location.search</script></body></html>"""


class ChallengePortal:
    def __init__(self, per_column: int = 5, per_page: int = 5, hanweb_per_page: int = 2) -> None:
        self.per_column = per_column
        self.per_page = per_page
        self.hanweb_per_page = hanweb_per_page
        self.articles = {c: [Article(c, n) for n in range(1, per_column + 1)] for c in COLUMNS}
        self.by_path = {a.path: a for col in self.articles.values() for a in col}
        self.lock = threading.Lock()
        self.log: list[tuple[str, str, int]] = []  # (method, path, status)

    def archived_columns(self) -> list[str]:
        """Columns whose every article a crawl must archive (all but the permanently blocked one)."""
        return ["js", "rs", "jsl", "hw"]

    def served(self, article: Article) -> bytes:
        return self._article_html(article).encode(article.encoding)

    # -- pages --------------------------------------------------------------------------------
    def _page(self, title: str, body: str, charset: str = "utf-8") -> str:
        return f"""<!DOCTYPE html><html lang="zh-CN"><head><meta charset="{charset}">
<title>{html.escape(title)}</title></head><body>
<div class="nav"><a href="/">首页</a></div>
{body}
<div class="footer">版权所有：测试市人民政府</div></body></html>"""

    def _article_html(self, a: Article) -> str:
        paras = "".join(f"<p>{html.escape(p)}</p>" for p in a.paragraphs)
        return self._page(a.title, f"""<div class="article"><h1>{html.escape(a.title)}</h1>
<div class="info">发布日期：2026-11-20　来源：测试市政府办公室</div>
<div class="TRS_Editor">{paras}</div></div>""", a.encoding)

    def _list_items(self, column: str, page: int) -> list[Article]:
        col = self.articles[column]
        return col[page * self.per_page:(page + 1) * self.per_page]

    def _list_html(self, column: str, page: int) -> str:
        col = self.articles[column]
        pages = max(1, -(-len(col) // self.per_page))
        items = "".join(f'<li><a href="{a.path}">{html.escape(a.title)}</a></li>'
                        for a in self._list_items(column, page))
        nxt = f'<a href="index_{page + 1}.html">下一页</a>' if page + 1 < pages else ""
        return self._page(COLUMNS[column], f'<ul class="list">{items}</ul><div class="page">{nxt}</div>')

    def _js_shell(self) -> str:
        script = """<script>
window.addEventListener('load', function () {
  fetch('/js/list.json').then(function (r) { return r.json(); }).then(function (items) {
    var ul = document.getElementById('list');
    items.forEach(function (it) {
      var li = document.createElement('li'); var a = document.createElement('a');
      a.href = it.url; a.textContent = it.title; li.appendChild(a); ul.appendChild(li);
    });
  });
});</script>"""
        return self._page(COLUMNS["js"], f'<ul id="list"></ul><noscript>请开启JavaScript</noscript>{script}')

    def _hanweb_column(self) -> str:
        first = self._list_items_hw(1, self.hanweb_per_page)
        records = "".join(f"<li><a href='{a.path}'>{html.escape(a.title)}</a></li>" for a in first)
        return self._page(COLUMNS["hw"], f"""<div id="101"><script type="text/xml"><datastore>
<nextgroup><![CDATA[<a href="/module/web/jpage/dataproxy.jsp?page=1&webid=1&path=/&columnid=101&unitid=9001&webname=test&permissiontype=0"></a>]]></nextgroup>
<recordset>{"".join(f"<record><![CDATA[{r}]]></record>" for r in [records])}</recordset></datastore></script></div>""")

    def _list_items_hw(self, start: int, end: int) -> list[Article]:
        return self.articles["hw"][start - 1:end]

    def _dataproxy(self, query: dict[str, list[str]], form: dict[str, list[str]]) -> bytes | None:
        if form.get("columnid") != ["101"] or form.get("unitid") != ["9001"]:
            return None
        start, end = int(query["startrecord"][0]), int(query["endrecord"][0])
        records = "\n".join(
            f"<record><![CDATA[<li><span>2026-11-20</span><a href=\"{a.path}\" target=\"_blank\" "
            f"title=\"{html.escape(a.title)}\">{html.escape(a.title)}</a></li>]]></record>"
            for a in self._list_items_hw(start, end))
        total = len(self.articles["hw"])
        return (f'<?xml version="1.0" encoding="UTF-8"?><datastore><nextgroup><![CDATA[]]></nextgroup>'
                f"<recordset>\n{records}\n</recordset><totalrecord>{total}</totalrecord>"
                f"<totalpage>{-(-total // 15)}</totalpage></datastore>").encode()

    # -- HTTP ---------------------------------------------------------------------------------
    def respond(self, method: str, path_qs: str, cookie_header: str, body: bytes = b""
                ) -> tuple[int, list[tuple[str, str]], bytes]:
        parts = urlsplit(path_qs)
        path = parts.path
        cookies = {k: m.value for k, m in SimpleCookie(cookie_header or "").items()}
        html_type = [("Content-Type", "text/html; charset=utf-8")]
        if path.startswith("/rs/") and cookies.get("rs_ok") != RS_TOKEN:
            return 412, html_type, _challenge_412(RS_TOKEN)
        if path.startswith("/wall/"):
            # its own cookie: the wall's must not overwrite the 瑞数 column's in a shared browser context
            return 412, html_type, _challenge_412("0", "wall_ok")
        if path.startswith("/jsl/") and cookies.get("__jsl_clearance") != JSL_TOKEN:
            return 521, [*html_type, ("Set-Cookie", "__jsluid_h=5f3e; max-age=3600; path=/")], \
                _challenge_521()
        if path == "/module/web/jpage/dataproxy.jsp" and method == "POST":
            form = parse_qs(body.decode())
            xml = self._dataproxy(parse_qs(parts.query), form)
            if xml is not None:
                return 200, [("Content-Type", "text/xml;charset=UTF-8")], xml
            return 400, html_type, b"bad parameters"
        if path == "/js/list.json":
            import json
            data = [{"url": a.path, "title": a.title} for a in self.articles["js"]]
            return 200, [("Content-Type", "application/json")], json.dumps(data).encode()
        if path == "/js/index.html":
            return 200, html_type, self._js_shell().encode()
        if path == "/hw/col/col101/index.html":
            return 200, html_type, self._hanweb_column().encode()
        for column in ("rs", "jsl", "wall", "plain"):
            prefix = f"/{column}/index"
            if path.startswith(prefix) and path.endswith(".html"):
                suffix = path[len(prefix):-len(".html")]
                page = int(suffix[1:]) if suffix.startswith("_") and suffix[1:].isdigit() else 0
                if suffix in ("",) or page:
                    return 200, html_type, self._list_html(column, page).encode()
        article = self.by_path.get(path)
        if article is not None:
            return 200, [("Content-Type", f"text/html; charset={article.encoding}")], \
                self.served(article)
        return 404, html_type, b"<html><body>404</body></html>"


class _Handler(BaseHTTPRequestHandler):
    portal: ChallengePortal
    protocol_version = "HTTP/1.1"

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, headers, payload = self.portal.respond(method, self.path,
                                                       self.headers.get("Cookie", ""), body)
        with self.portal.lock:
            self.portal.log.append((method, self.path, status))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(payload)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def log_message(self, format: str, *args: object) -> None:
        pass


def serve(portal: ChallengePortal, port: int = 0) -> tuple[ThreadingHTTPServer, str]:
    handler = type("Handler", (_Handler,), {"portal": portal})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def site_toml(base: str, columns: list[str] | None = None, render: str = "http",
              extra: str = "") -> str:
    """A site file for the portal at `base` (columns: keys of COLUMNS)."""
    paths = {"js": "/js/index.html", "rs": "/rs/index.html", "jsl": "/jsl/index.html",
             "wall": "/wall/index.html", "hw": "/hw/col/col101/index.html",
             "plain": "/plain/index.html"}
    cols = columns or ["js", "rs", "jsl", "wall"]
    listed = ",\n".join(f'  {{ name = "{COLUMNS[c]}", url = "{base}{paths[c]}" }}' for c in cols)
    hanweb = ""
    if "hw" in cols:
        hanweb = """
[hanweb]
perpage = 2
pages_per_call = 1
params = { col = "1", appid = "1", webid = "1", path = "/", sourceContentType = "1", permissiontype = "0" }
column_params = { "101" = { unitid = "9001" } }
"""
    return f"""name = "挑战测试门户"
allowed_domains = ["127.0.0.1"]
start_urls = ["{base}{paths[cols[0]]}"]
columns = [
{listed}
]

[list]
pagination = "next_link"
max_pages = 20

[article]
url_pattern = '/(?:[a-z]+/art/[a-z]+_\\d+|art/\\d{{4}}/\\d{{1,2}}/\\d{{1,2}}/art_\\d+_\\d+)\\.html$'

[politeness]
download_delay = 0
concurrency = 2

[fetch]
render = "{render}"
browser_delay = 0
{extra}
{hanweb}"""


if __name__ == "__main__":  # pragma: no cover - manual use
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--per-column", type=int, default=5)
    args = parser.parse_args()
    srv, url = serve(ChallengePortal(per_column=args.per_column), args.port)
    print(url, flush=True)
    threading.Event().wait()
