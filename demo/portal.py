"""The demo portal: a small municipal site served over HTTP on 127.0.0.1.

    python -m demo.portal [--port 8765] [--per-column 7] [--per-page 3]

Three columns in the styles the archive meets in the wild: 要闻 in UTF-8 with TRS `createPageHTML`
pagination, 工作动态 in GBK with a correct HTTP header and a 下一页 link, 通知公告 in GBK labelled
gb2312 in a <meta> tag only. Articles carry the usual chrome: breadcrumb, 信息来源/发布日期 line,
share/print/close links, 上一篇/下一篇, 责任编辑, 新媒体/微信/手机版 footer. The first two 通知公告
notices link attachments in their body (a PDF-like and an XLS-like file, the XLS shared by both);
tests add more with `attach`. Tests mutate articles (`change`, `remove`) to exercise re-crawls;
ETag / Last-Modified and 304 are supported. With `multipage` two articles are split over three and
four pages (`make demo` serves them).
"""
from __future__ import annotations

import argparse
import hashlib
import html
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from demo import content

HOST = "127.0.0.1"
DEFAULT_PORT = 8765


@dataclass
class Article:
    id: int
    column: str
    title: str
    published: datetime
    source: str
    editor: str
    paragraphs: list[str]
    modified: datetime = field(default_factory=lambda: datetime(2026, 11, 21, tzinfo=UTC))
    removed: bool = False
    # A multi-page article: its paragraphs split over `pages` pages, paginated the TRS way
    # (createPageHTML; page i is t…_i.html) or by pager links (page i is t…_{i+1}.html).
    pages: int = 1
    pager: str = "trs"
    attachments: list[tuple[str, str]] = field(default_factory=list)  # (link text, href)

    @property
    def path(self) -> str:
        d = self.published
        return f"/{self.column}/{d:%Y%m}/t{d:%Y%m%d}_{self.id}.html"

    def page_path(self, page: int) -> str:
        """The path of page `page` (0: the article's own)."""
        if page == 0:
            return self.path
        return self.path[:-5] + f"_{page if self.pager == 'trs' else page + 1}.html"

    def page_paragraphs(self, page: int) -> list[str]:
        per = -(-len(self.paragraphs) // self.pages)
        return self.paragraphs[page * per:(page + 1) * per]

    @property
    def body_text(self) -> str:
        """The article body as a reader sees it: one paragraph a line, then the attachment lines."""
        return "\n".join([*self.paragraphs, *(f"附件：{name}" for name, _ in self.attachments)])


class DemoPortal:
    def __init__(self, per_column: int = 7, per_page: int = 3, seed: int = 0,
                 delay: float = 0.0, multipage: bool = False) -> None:
        self.per_page = per_page
        # Seconds each response waits before it is sent: a slow portal, so that tests can stop a
        # crawl (SIGKILL, an archive outage) while it is under way.
        self.delay = delay
        self.articles: dict[str, list[Article]] = {}
        self.by_path: dict[str, Article] = {}
        n = 0
        start = datetime(2026, 11, 20, 9, 30)
        for ci, (slug, _name, _enc, _label) in enumerate(content.COLUMNS):
            column = []
            for i in range(per_column):
                k = seed + ci * per_column + i
                paras = [content.PARAGRAPHS[(k * 3 + j) % len(content.PARAGRAPHS)] for j in range(3)]
                title = content.TITLES[k % len(content.TITLES)]
                if k >= len(content.TITLES):
                    title = f"{title}（{k // len(content.TITLES) + 1}）"
                art = Article(id=1000 + n, column=slug, title=title,
                              published=start - timedelta(days=i, hours=ci, minutes=7 * i),
                              source=content.SOURCES[k % len(content.SOURCES)],
                              editor=content.EDITORS[k % len(content.EDITORS)], paragraphs=paras)
                column.append(art)
                self.by_path[art.path] = art
                n += 1
            self.articles[slug] = column
        # Multi-page articles (`make demo`, tests/test_multipage.py): the newest 要闻 (UTF-8) over
        # three pages the TRS way, the second 工作动态 (GBK) over four with pager links.
        self.part_paths: dict[str, tuple[Article, int]] = {}
        # Paths answering 404 (a page of an article gone missing), and paths whose answer waits
        # while they are listed here (at most a minute: a crawl can be killed meanwhile).
        self.gone: set[str] = set()
        self.stalled: set[str] = set()
        if multipage:
            for art, pager, pages in ((self.articles["yw"][0], "trs", 3),
                                      (self.articles["gzdt"][1], "links", 4)):
                more = [p for p in content.PARAGRAPHS if p not in art.paragraphs]
                art.paragraphs += more[art.id % 5:art.id % 5 + 2 * pages - 3]
                art.pages, art.pager = pages, pager
                for page in range(1, art.pages):
                    self.part_paths[art.page_path(page)] = (art, page)
        # Files served beside the articles: path → (content type, bytes).
        self.files: dict[str, tuple[str, bytes]] = {}
        notices = self.articles.get("tzgg", [])
        if len(notices) >= 2:
            guide = self.add_file("/attach/202611/P020261120001.pdf", demo_file("pdf", 1, 6000))
            form = self.add_file("/attach/202611/P020261120002.xls", demo_file("xls", 2, 3000))
            notices[0].attachments += [("申报指南.pdf", guide), ("项目申报表.xls", form)]
            notices[1].attachments.append(("项目申报表.xls", form))
        self.lock = threading.Lock()
        self.requests: list[str] = []
        # A broken portal: every path (robots.txt included) answers this status, e.g. 500.
        self.fail_with: int | None = None

    # -- what tests know --------------------------------------------------------------------------
    def all_articles(self) -> list[Article]:
        return [a for col in self.articles.values() for a in col]

    def change(self, article: Article, extra: str) -> None:
        with self.lock:
            article.paragraphs = [*article.paragraphs, extra]
            article.modified = datetime.now(UTC).replace(microsecond=0)

    def remove(self, article: Article) -> None:
        with self.lock:
            article.removed = True

    def add_file(self, path: str, body: bytes, content_type: str | None = None) -> str:
        """Serve `body` at `path` (content type from the extension unless given); returns the path."""
        types = {"pdf": "application/pdf", "xls": "application/vnd.ms-excel",
                 "doc": "application/msword", "zip": "application/zip"}
        ctype = content_type or types.get(path.rsplit(".", 1)[-1], "application/octet-stream")
        self.files[path] = (ctype, body)
        return path

    def attach(self, article: Article, name: str, href: str) -> None:
        """Link a file (a path served with `add_file`, a missing path, or any URL) from an article."""
        with self.lock:
            article.attachments.append((name, href))
            article.modified = datetime.now(UTC).replace(microsecond=0)

    # -- rendering --------------------------------------------------------------------------------
    def _column(self, slug: str) -> tuple[str, str, str, str]:
        return next(c for c in content.COLUMNS if c[0] == slug)

    def _page(self, slug: str, title: str, body: str) -> str:
        _, _, enc, label = self._column(slug) if slug else ("", "", "utf-8", "header+meta")
        if label == "meta-gb2312":
            meta = '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
        elif enc == "utf-8":
            meta = '<meta charset="utf-8">'
        else:
            meta = ""
        nav = " ".join(f'<a href="/{s}/index.html">{n}</a>' for s, n, _, _ in content.COLUMNS)
        return f"""<!DOCTYPE html>
<html lang="zh-CN"><head>{meta}
<title>{html.escape(title)}</title>
<link rel="stylesheet" href="/css/site.css">
</head><body>
<div class="topbar">{content.SITE_NAME}　<a href="/">首页</a> | <a href="#">无障碍</a> | <a href="#">长者模式</a> | <a href="#">登录</a></div>
<div class="nav"><a href="/">首页</a> {nav}</div>
{body}
<div class="footer">
<div class="newmedia">新媒体 <span>微信 <img src="/img/wx.png" alt="微信二维码"></span> <span>手机版 <img src="/img/m.png" alt="手机版二维码"></span></div>
<p>主办：示范市人民政府办公室　承办：示范市政务服务数据管理局</p>
<p>版权所有：示范市人民政府　网站标识码：{content.SITE_ID_CODE}　示ICP备12345678号　示公网安备 44000002000001号</p>
</div></body></html>"""

    def render_list(self, slug: str, page: int) -> str | None:
        col = [a for a in self.articles.get(slug, []) if not a.removed]
        pages = max(1, -(-len(col) // self.per_page))
        if page >= pages:
            return None
        _, name, _, _ = self._column(slug)
        items = "\n".join(
            f'<li><a href="{a.path}" title="{html.escape(a.title)}">{html.escape(a.title)}</a>'
            f'<span class="date">{a.published:%Y-%m-%d}</span></li>'
            for a in col[page * self.per_page:(page + 1) * self.per_page])
        if slug == "yw":
            pager = (f'<div class="page"><script>var countPage = {pages};'
                     f'createPageHTML(countPage, {page}, "index", "html");</script></div>')
        else:
            links = []
            if page > 0:
                prev = "index.html" if page == 1 else f"index_{page - 1}.html"
                links.append(f'<a href="{prev}">上一页</a>')
            if page + 1 < pages:
                links.append(f'<a href="index_{page + 1}.html">下一页</a>')
            pager = f'<div class="page">{" ".join(links)} 共{pages}页</div>'
        body = f"""<div class="crumb">您现在的位置：<a href="/">首页</a> &gt; {name}</div>
<div class="list"><h2>{name}</h2><ul>
{items}
</ul>{pager}</div>"""
        return self._page(slug, f"{name}_{content.SITE_NAME}", body)

    def _pager(self, art: Article, page: int) -> str:
        if art.pages == 1:
            return ""
        stem = art.path.rsplit("/", 1)[1][:-5]
        if art.pager == "trs":
            return (f'<div id="page_div"><script>var currentPage = {page}; var countPage = {art.pages};'
                    f'\ncreatePageHTML(countPage, currentPage, "{stem}", "html");</script></div>')
        names = [art.page_path(p).rsplit("/", 1)[1] for p in range(art.pages)]
        links = [f'<a href="{names[p]}">{p + 1}</a>' if p != page else f"<span>{p + 1}</span>"
                 for p in range(art.pages)]
        if page + 1 < art.pages:
            links.append(f'<a href="{names[page + 1]}">下一页</a>')
        return f'<div class="pages">{" ".join(links)} 共{art.pages}页</div>'

    def render_article(self, art: Article, page: int = 0) -> str:
        _, name, _, _ = self._column(art.column)
        col = [a for a in self.articles[art.column] if not a.removed]
        i = col.index(art)
        prev_a, next_a = (col[i - 1] if i else None), (col[i + 1] if i + 1 < len(col) else None)
        prev_l = f'<a href="{prev_a.path}">{html.escape(prev_a.title)}</a>' if prev_a else "没有了"
        next_l = f'<a href="{next_a.path}">{html.escape(next_a.title)}</a>' if next_a else "没有了"
        last = page == art.pages - 1  # attachments are linked from an article's last page
        paras = "\n".join([*(f"<p>　　{html.escape(p)}</p>" for p in art.page_paragraphs(page)),
                           *(f'<p>附件：<a href="{html.escape(href)}">{html.escape(name)}</a></p>'
                             for name, href in (art.attachments if last else []))])
        pub = art.published
        heads = (f'<meta name="ArticleTitle" content="{html.escape(art.title)}">\n'
                 f'<meta name="PubDate" content="{pub:%Y-%m-%d %H:%M}">\n'
                 f'<meta name="ContentSource" content="{art.source}">\n'
                 f'<meta name="ColumnName" content="{name}">\n'
                 f'<meta name="SiteName" content="{content.SITE_NAME}">\n'
                 f'<meta name="SiteIDCode" content="{content.SITE_ID_CODE}">')
        body = f"""<div class="crumb">您现在的位置：<a href="/">首页</a> &gt; <a href="/{art.column}/index.html">{name}</a> &gt; 正文</div>
<div class="article">
<h1>{html.escape(art.title)}</h1>
<div class="info">信息来源：{art.source}　发布日期：{pub.year}年{pub.month}月{pub.day}日　浏览次数：<span>{art.id % 997}</span>　【字体：<a href="#">大</a> <a href="#">中</a> <a href="#">小</a>】</div>
<div class="share">分享到：<a href="#">微信</a> <a href="#">微博</a>　<a href="javascript:window.print()">【打印本页】</a> <a href="javascript:window.close()">【关闭窗口】</a></div>
<div class="TRS_Editor">
{paras}
</div>{self._pager(art, page)}
<div class="editor">（责任编辑：{art.editor}）</div>
<div class="prenext"><p>上一篇：{prev_l}</p><p>下一篇：{next_l}</p></div>
</div>"""
        html_page = self._page(art.column, f"{art.title}_{name}_{content.SITE_NAME}", body)
        return html_page.replace("</title>", "</title>\n" + heads, 1)

    def render_home(self) -> str:
        blocks = []
        for slug, name, _, _ in content.COLUMNS:
            latest = [a for a in self.articles[slug] if not a.removed][:3]
            lis = "".join(f'<li><a href="{a.path}">{html.escape(a.title)}</a></li>' for a in latest)
            blocks.append(f'<div class="col"><h2><a href="/{slug}/index.html">{name}</a></h2>'
                          f"<ul>{lis}</ul></div>")
        return self._page("", content.SITE_NAME, "\n".join(blocks))

    # -- HTTP -------------------------------------------------------------------------------------
    def respond(self, path: str) -> tuple[int, str, bytes, datetime | None]:
        """(status, content type, body, last modified) for a path."""
        path = path.split("?", 1)[0].split("#", 1)[0]
        if self.fail_with is not None:
            return self.fail_with, "text/html; charset=utf-8", b"<h1>Internal Server Error</h1>", None
        if path == "/robots.txt":
            return 200, "text/plain", b"User-agent: *\nDisallow: /admin/\n", None
        if path in ("/", "/index.html"):
            return 200, "text/html; charset=utf-8", self.render_home().encode(), None
        if path in self.files:
            ctype, data = self.files[path]
            return 200, ctype, data, datetime(2026, 11, 20, tzinfo=UTC)
        with self.lock:
            art, page = self.part_paths.get(path) or (self.by_path.get(path), 0)
            if art is not None and path not in self.gone:
                if art.removed:
                    return 404, "text/html; charset=utf-8", "<h1>404 页面不存在</h1>".encode(), None
                return (*self._encoded(art.column, self.render_article(art, page)), art.modified)
            parts = path.strip("/").split("/")
            if len(parts) == 2 and parts[0] in self.articles:
                name = parts[1]
                page = 0 if name == "index.html" else (
                    int(name[6:-5]) if name.startswith("index_") and name[6:-5].isdigit() else -1)
                text = self.render_list(parts[0], page) if page >= 0 else None
                if text is not None:
                    return (*self._encoded(parts[0], text), None)
        return 404, "text/html; charset=utf-8", "<h1>404 页面不存在</h1>".encode(), None

    def _encoded(self, slug: str, text: str) -> tuple[int, str, bytes]:
        _, _, enc, label = self._column(slug)
        if enc == "utf-8":
            return 200, "text/html; charset=utf-8", text.encode("utf-8")
        body = text.encode("gbk")
        return 200, ("text/html; charset=GBK" if label == "header" else "text/html"), body


def demo_file(kind: str, seed: int, size: int) -> bytes:
    """A file that looks like a PDF or an old Excel workbook at its start; the rest is filler bytes."""
    head = {"pdf": b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"}.get(
        kind, b"")
    filler = hashlib.sha256(f"{kind}-{seed}".encode()).digest()
    body = head + filler * (size // len(filler) + 1)
    tail = b"\n%%EOF\n" if kind == "pdf" else b""
    return body[: size - len(tail)] + tail


def _handler(portal: DemoPortal) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "DemoPortal/1.0"

        def do_GET(self) -> None:
            portal.requests.append(self.path)
            if portal.delay > 0:
                time.sleep(portal.delay)
            deadline = time.monotonic() + 60
            while self.path in portal.stalled and time.monotonic() < deadline:
                time.sleep(0.05)
            status, ctype, body, modified = portal.respond(self.path)
            etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
            if status == 200 and self._not_modified(etag, modified):
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            if status == 200:
                self.send_header("ETag", etag)
                if modified:
                    self.send_header("Last-Modified", format_datetime(modified, usegmt=True))
            self.end_headers()
            self.wfile.write(body)

        def _not_modified(self, etag: str, modified: datetime | None) -> bool:
            inm = self.headers.get("If-None-Match")
            if inm is not None:
                return etag in [t.strip() for t in inm.split(",")]
            ims = self.headers.get("If-Modified-Since")
            if ims and modified:
                try:
                    return modified <= parsedate_to_datetime(ims)
                except (TypeError, ValueError):
                    return False
            return False

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


def serve(portal: DemoPortal, host: str = HOST, port: int = 0) -> tuple[ThreadingHTTPServer, str]:
    """Start the portal in a background thread; returns the server and its base URL."""
    server = ThreadingHTTPServer((host, port), _handler(portal))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="demo-portal", daemon=True).start()
    return server, f"http://{host}:{server.server_address[1]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=HOST)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--per-column", type=int, default=7)
    parser.add_argument("--per-page", type=int, default=3)
    parser.add_argument("--fail-with", type=int, metavar="STATUS",
                        help="answer every request with this status (a broken portal)")
    parser.add_argument("--multipage", action="store_true",
                        help="two articles split over three and four pages (TRS, pager links)")
    args = parser.parse_args()
    portal = DemoPortal(args.per_column, args.per_page, multipage=args.multipage)
    portal.fail_with = args.fail_with
    server, base = serve(portal, args.host, args.port)
    print(f"demo portal on {base}/ (Ctrl-C to stop)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.shutdown()


if __name__ == "__main__":
    main()
