"""The demo portal, generated at benchmark size and served from its own process on 127.0.0.1.

    .venv/bin/python -m bench.portal_server --articles 5000 [--per-page 50] [--chrome]

Prints the base URL on its first line of output and serves until killed (or stdin closes). Pages
are all rendered before that and served from memory, so the server spends as little of the machine's two
cores as it can: what is measured is the crawler, not the portal.
"""
from __future__ import annotations

import argparse
import functools
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from demo.content import COLUMNS
from demo.portal import DemoPortal, serve

CHROME_VARIANTS = 1000


def build(articles: int, per_page: int, chrome: bool = False) -> DemoPortal:
    """A demo portal with `articles` articles over its columns, `per_page` links per list page; with
    `chrome`, each article page carries ~46 KB more of menus, link lists, styles and scripts, as
    varied as real portals' (bench_e2e._chrome: ~50 KB pages, ~14.5 KB gzipped, like the median of
    ../shared/eval/zh-dev; the demo's own pages are ~3 KB)."""
    per_column = -(-articles // len(COLUMNS))
    portal = DemoPortal(per_column=per_column, per_page=per_page)
    plain = functools.lru_cache(maxsize=None)(portal.respond)
    respond = plain
    if chrome:
        from bench.bench_e2e import _chrome

        ids = {a.path: i for i, a in enumerate(portal.all_articles())}

        @functools.cache
        def chrome_bytes(variant: int, enc: str) -> bytes:
            return (_chrome(variant) + '<div class="footer">').encode(enc)

        def padded(path: str) -> tuple[int, str, bytes, object]:
            # The plain page is cached; the chrome is one of CHROME_VARIANTS, spliced in per request
            # (cheap), so 20,000 pages of ~50 KB need not all sit in memory.
            status, ctype, body, modified = plain(path)
            n = ids.get(path.split("?", 1)[0])
            if n is not None and status == 200:
                enc = "utf-8" if "utf-8" in ctype else "gbk"
                body = body.replace(b'<div class="footer">', chrome_bytes(n % CHROME_VARIANTS, enc))
            return status, ctype, body, modified

        respond = padded  # type: ignore[assignment]
    portal.respond = respond  # type: ignore[method-assign]
    # Render every page now: the demo renders an article in time linear in its column's length, which
    # at 20,000 articles would cost the portal more CPU than the crawler while it is measured.
    for article in portal.all_articles():
        portal.respond(article.path)
    for slug, column in portal.articles.items():
        for page in range(-(-len(column) // per_page)):
            portal.respond(f"/{slug}/index.html" if page == 0 else f"/{slug}/index_{page}.html")
    return portal


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--per-page", type=int, default=50)
    parser.add_argument("--chrome", action="store_true", help="~50 KB article pages (realistic chrome)")
    args = parser.parse_args()
    portal = build(args.articles, args.per_page, args.chrome)
    # No request log: a 20,000-article crawl would keep every path in memory for nothing.
    portal.requests = _Discard()
    server, base = serve(portal)
    # The demo handler writes headers and body separately: without TCP_NODELAY, Nagle's algorithm
    # and the client's delayed ACK stall every keep-alive response ~40 ms, and the portal, not the
    # crawler, would set the pace.
    server.RequestHandlerClass.disable_nagle_algorithm = True  # type: ignore[attr-defined]
    print(base, len(portal.all_articles()), flush=True)
    stop = threading.Event()
    def wait_for_eof() -> None:
        sys.stdin.read()
        stop.set()

    threading.Thread(target=wait_for_eof, daemon=True).start()
    stop.wait()
    server.shutdown()


class _Discard(list):  # type: ignore[type-arg]
    def append(self, item: object) -> None:
        pass


if __name__ == "__main__":
    main()
