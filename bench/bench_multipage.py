"""Benchmark: what multi-page article support costs per page (issue 4).

    .venv/bin/python -m bench.bench_multipage [--rounds 7] [--n 200]

On the demo portal's pages (rendered in-process, no network), in the same run:

- detection, on every article page the spider reads (`crawler.multipage.announced`), against
  the page's extraction in a worker (`pipelines.extract.process_page`): a single-page article (the
  cheap pre-check says no), a TRS multi-page article's first page (its createPageHTML call is read)
  and a pager-link one's (the page's links are parsed);
- the merge: `process_page` of a three-page article's first page with its two other pages against
  the three pages extracted one by one (the later pages are extracted a second time for their own
  document, so the article costs its pages' extraction twice over less the first page).

Prints medians of `--rounds` rounds (`--n` pages each; the two sides of a ratio timed by turns).
"""
from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from scrapy.http import HtmlResponse, Request

from crawler.multipage import announced
from demo.portal import DemoPortal
from pipelines.page import process_page


def _paired(a: Callable[[], object], b: Callable[[], object], n: int,
            rounds: int) -> tuple[float, float, float]:
    """Median ms per call of `a` and of `b`, and the median of their per-round ratio a/b: the two
    are timed by turns in each round, so that a busy machine slows both alike."""
    times_a: list[float] = []
    times_b: list[float] = []
    ratios: list[float] = []
    for _ in range(rounds):
        for fn, out in ((a, times_a), (b, times_b)):
            started = time.perf_counter()
            for _ in range(n):
                fn()
            out.append((time.perf_counter() - started) * 1000 / n)
        ratios.append(times_a[-1] / times_b[-1])
    return statistics.median(times_a), statistics.median(times_b), statistics.median(ratios)


def _response(portal: DemoPortal, path: str) -> HtmlResponse:
    url = "http://127.0.0.1:8765" + path
    _, ctype, body, _ = portal.respond(path)
    return HtmlResponse(url, body=body, headers={"Content-Type": ctype}, request=Request(url))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--n", type=int, default=200)
    args = parser.parse_args()
    portal = DemoPortal(multipage=True)
    split = portal.articles["yw"][0]
    single = portal.articles["yw"][1]
    assert split.pages == 3 and single.pages == 1

    def detect(path: str) -> Callable[[], object]:
        # a fresh response each time: Scrapy caches the decoded text and the parsed tree on it
        return lambda: announced(_response(portal, path))

    def extract(path: str) -> Callable[[], object]:
        _, ctype, body, _ = portal.respond(path)
        return lambda: process_page(body, ctype, None, "http://127.0.0.1:8765" + path, {})

    links = portal.articles["gzdt"][1]
    assert links.pages > 1 and links.pager == "links"
    for name, art in (("single-page article", single), ("TRS multi-page, 1st page", split),
                      ("pager-link multi-page", links)):
        # detection against building the response and decoding it (what the spider has anyway)
        with_detect, without, _ = _paired(detect(art.path),
                                          lambda a=art: _response(portal, a.path).text,  # type: ignore[misc]
                                          args.n, args.rounds)
        detect_ms = max(0.0, with_detect - without)
        _, extract_ms, _ = _paired(lambda: None, extract(art.path), args.n // 4, args.rounds)
        print(f"detection, {name:<24} {detect_ms:7.3f} ms   its extraction {extract_ms:7.2f} ms   "
              f"ratio {detect_ms / extract_ms:6.3f}")

    bodies = [portal.respond(split.page_path(p)) for p in range(split.pages)]
    urls = ["http://127.0.0.1:8765" + split.page_path(p) for p in range(split.pages)]
    parts: list[dict[str, Any]] = [{"url": u, "body": b[2], "content_type": b[1], "decoding": None}
             for u, b in zip(urls[1:], bodies[1:], strict=True)]
    merged_ms, each_ms, ratio = _paired(
        lambda: process_page(bodies[0][2], bodies[0][1], None, urls[0], {}, parts=parts),
        lambda: [process_page(b[2], b[1], None, u, {}) for u, b in zip(urls, bodies, strict=True)],
        args.n // 4, args.rounds)
    print(f"merge: first page with its 2 other pages {merged_ms:7.2f} ms   the 3 pages one by one "
          f"{each_ms:7.2f} ms   ratio {ratio:5.2f}")


if __name__ == "__main__":
    main()
