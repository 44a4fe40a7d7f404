"""A hostile portal on 127.0.0.1, port 0: every fault a crawl of a real portal can meet, on one list page.

    server, base = serve(FaultPortal())      # base = "http://127.0.0.1:PORT"

`/list.html` links good articles (`/f/ok/N.html`) between the faulty ones (`/f/<case>/...`), so a
test can see both that a fault is recorded and that nothing around it is lost. The cases, by path:

    /f/http500/N, /f/http502/N, /f/http503/N, /f/http504/N   a 5xx storm: always that status
    /f/flaky/N            503 on the first request, then the article (a retry recovers it)
    /f/slow/N             headers only after `slow_seconds` (> the crawl's DOWNLOAD_TIMEOUT)
    /f/reset/N            headers, half the body, then a TCP reset
    /f/loop/a ↔ /f/loop/b, /f/self      redirect loops;  /f/chain/N  a redirect chain of N hops
    /f/bomb               64 MiB of zeros gzipped to ~64 KB, Content-Encoding: gzip
    /f/big-cl, /f/big-stream            100 MB, with and without Content-Length
    /f/garbage            random bytes as text/html
    /f/truncated          GBK page with multi-byte sequences cut in half, and a cut-off end
    /f/nested             HTML nested 50,000 elements deep around the article
    /f/offsite, /f/loopback, /f/private, /f/localhost, /f/metadata   redirects off the site, to private hosts
    /f/escape/...         URLs made to escape the archive's key space (served as ordinary articles)
"""
from __future__ import annotations

import gzip
import html
import os
import random
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

from demo import content

HOST = "127.0.0.1"

STATUS_STORM = {"http500": 500, "http502": 502, "http503": 503, "http504": 504}
# Paths (as linked from the list page, already percent-encoded) meant to escape the key space.
ESCAPE_PATHS = [
    "/f/escape/%2e%2e/%2e%2e/%2e%2e/etc/passwd.html",
    "/f/escape/..%2f..%2f..%2fescape.html",
    "/f/escape/%2e%2e%5c%2e%2e%5cwin.html",
    "/f/escape/%00nul.html",
    "/f/escape/" + "a" * 400 + ".html",
    "/f/escape/x.html?path=../../../../tmp/owned&k=%2F..%2F",
    "/f/escape/%E4%B8%AD%E6%96%87/./%2E/page.html",
    "/f/escape/~user/%25%32%65%25%32%65/double.html",
]


def article_html(n: int, title: str | None = None) -> str:
    """An ordinary article page with enough text for the extractor."""
    paras = [content.PARAGRAPHS[(n * 3 + j) % len(content.PARAGRAPHS)] for j in range(3)]
    title = title or content.TITLES[n % len(content.TITLES)]
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paras)
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f'<meta name="ArticleTitle" content="{html.escape(title)}">'
            f'<meta name="PubDate" content="2026-11-20 09:30"></head><body>'
            f'<div class="nav"><a href="/">首页</a></div><div class="article"><h1>{html.escape(title)}</h1>'
            f'<div class="info">发布日期：2026年11月20日</div><div class="TRS_Editor">{body}</div></div>'
            f'<div class="footer">版权所有：示范市人民政府</div></body></html>')


class FaultPortal:
    def __init__(self, good: int = 12, storm: int = 3, slow_seconds: float = 4.0) -> None:
        self.good = good
        self.storm = storm
        self.slow_seconds = slow_seconds
        self.lock = threading.Lock()
        self.hits: dict[str, int] = {}
        self._bomb: bytes | None = None
        self.port = 0

    # -- what the tests know ----------------------------------------------------------------------
    def good_paths(self) -> list[str]:
        return [f"/f/ok/{i}.html" for i in range(self.good)]

    def fault_paths(self) -> dict[str, list[str]]:
        """Case name → the article paths the list page links for it."""
        cases: dict[str, list[str]] = {
            name: [f"/f/{name}/{i}.html" for i in range(self.storm)] for name in STATUS_STORM}
        cases.update({
            "flaky": ["/f/flaky/0.html"], "slow": ["/f/slow/0.html"], "reset": ["/f/reset/0.html"],
            "loop": ["/f/loop/a.html"], "self": ["/f/self.html"], "chain": ["/f/chain/9.html"],
            "bomb": ["/f/bomb.html"], "big-cl": ["/f/big-cl.html"], "big-stream": ["/f/big-stream.html"],
            "garbage": ["/f/garbage.html"], "truncated": ["/f/truncated.html"],
            "nested": ["/f/nested.html"], "offsite": ["/f/offsite.html"], "loopback": ["/f/loopback.html"],
            "private": ["/f/private.html"], "localhost": ["/f/localhost.html"],
            "metadata": ["/f/metadata.html"], "escape": list(ESCAPE_PATHS),
        })
        return cases

    def list_page(self) -> bytes:
        links: list[str] = []
        faults = [p for paths in self.fault_paths().values() for p in paths]
        good = self.good_paths()
        # Interleave: a good article between faulty ones, so a fault cannot take its neighbours with it.
        for i in range(max(len(faults), len(good))):
            for paths in (good, faults):
                if i < len(paths):
                    links.append(f'<li><a href="{paths[i]}">条目 {i}</a></li>')
        return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>故障门户</title></head>'
                f'<body><ul>{"".join(links)}</ul></body></html>').encode()

    def bomb(self) -> bytes:
        if self._bomb is None:
            self._bomb = gzip.compress(b"\0" * (64 << 20), compresslevel=9)
        return self._bomb

    def count(self, path: str) -> int:
        with self.lock:
            self.hits[path] = self.hits.get(path, 0) + 1
            return self.hits[path]


def _handler(portal: FaultPortal) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _send(self, status: int, body: bytes, ctype: str = "text/html; charset=utf-8",
                  headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def _redirect(self, location: str) -> None:
            self._send(302, b"", headers={"Location": location})

        def do_GET(self) -> None:
            raw_path = self.path
            path = urlsplit(raw_path).path
            hits = portal.count(raw_path)
            parts = path.strip("/").split("/")
            case = parts[1] if len(parts) > 1 and parts[0] == "f" else ""
            case = case.removesuffix(".html")
            try:
                self._route(raw_path, path, case, hits)
            except (BrokenPipeError, ConnectionResetError):  # the crawler hung up, as it should
                pass

        def _route(self, raw_path: str, path: str, case: str, hits: int) -> None:
            if path == "/list.html":
                return self._send(200, portal.list_page())
            if path == "/robots.txt":
                return self._send(200, b"User-agent: *\nAllow: /\n", "text/plain")
            if case in ("ok", "escape"):
                n = sum(map(ord, unquote(raw_path))) % 97
                return self._send(200, article_html(n, f"文章 {unquote(raw_path)[-40:]}").encode())
            if case in STATUS_STORM:
                return self._send(STATUS_STORM[case], b"<html><body>Service Unavailable</body></html>")
            if case == "flaky":
                if hits == 1:
                    return self._send(503, b"busy")
                return self._send(200, article_html(5, "重试后成功").encode())
            if case == "slow":
                time.sleep(portal.slow_seconds)
                return self._send(200, article_html(6).encode())
            if case == "reset":
                body = article_html(7).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                # SO_LINGER 0: close() sends a RST instead of a FIN.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
                self.close_connection = True
                return None
            if case == "loop":
                return self._redirect("/f/loop/b.html" if path.endswith("a.html") else "/f/loop/a.html")
            if case == "self":
                return self._redirect("/f/self.html")
            if case == "chain":
                n = int(parts_n(path))
                return self._redirect(f"/f/chain/{n - 1}.html") if n > 0 else \
                    self._send(200, article_html(8).encode())
            if case == "bomb":
                return self._send(200, portal.bomb(), headers={"Content-Encoding": "gzip"})
            if case == "big-cl":
                return self._big(with_length=True)
            if case == "big-stream":
                return self._big(with_length=False)
            if case == "garbage":
                return self._send(200, random.Random(8).randbytes(40_000), "text/html")
            if case == "truncated":
                text = article_html(9, "截断的多字节序列").replace("utf-8", "gbk")
                data = bytearray(text.encode("gbk"))
                middle = data.find("。".encode("gbk"))
                data[middle + 1:middle + 1] = b"\xd6"  # a lead byte whose trail byte is missing
                data += "未完".encode("gbk")[:3]           # cut off in the middle of a character
                return self._send(200, bytes(data), "text/html; charset=gbk")
            if case == "nested":
                depth = 50_000
                inner = article_html(10, "深层嵌套")
                page = "<div>" * depth + inner + "</div>" * depth
                return self._send(200, page.encode())
            port = portal.port
            if case == "offsite":
                return self._redirect("http://portal.example.org/f/ok/0.html")
            if case == "loopback":
                return self._redirect(f"http://127.0.0.2:{port}/f/ok/0.html")
            if case == "private":
                return self._redirect("http://10.255.255.1/internal/")
            if case == "localhost":
                return self._redirect(f"http://localhost:{port}/f/ok/1.html")
            if case == "metadata":
                return self._redirect("http://169.254.169.254/latest/meta-data/")
            return self._send(404, b"not found")

        def _big(self, with_length: bool) -> None:
            total = 100 * 1024 * 1024
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            if with_length:
                self.send_header("Content-Length", str(total))
            else:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            chunk = b"<p>" + "大页面".encode() * 10_000 + b"</p>\n"
            sent = 0
            while sent < total:
                self.wfile.write(chunk)
                sent += len(chunk)

    return Handler


def parts_n(path: str) -> str:
    return os.path.basename(path).removesuffix(".html")


def serve(portal: FaultPortal, host: str = HOST) -> tuple[ThreadingHTTPServer, str]:
    """Start the fault portal on port 0 in a background thread; returns the server and its base URL."""
    server = ThreadingHTTPServer((host, 0), _handler(portal))
    server.daemon_threads = True
    portal.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://{host}:{portal.port}"


SITE_TOML = """name = "故障门户"
allowed_domains = ["127.0.0.1"]
start_urls = ["{base}/list.html"]

[list]
pagination = "none"
max_pages = 1

[article]
url_pattern = '/f/'

[politeness]
download_delay = 0
concurrency = 2
"""
