"""What decoding and repair cost next to our own extraction, page by page.

Run from the project root: ``.venv/bin/python -m bench.bench_decode_cost [--reps 3] [--limit N]``.

For every page: the encoding decision (the downloader middleware's ``decide_encoding``) plus the
worker's decode (``decode_page`` with that decision), and stage 3 (``repair_document``: mojibake,
glosses, Simplified form), against ``extract_document`` on the same page, all timed in the same run,
each the fastest of ``--reps`` interleaved repetitions (the machine is shared: the minimum is the least
noisy estimate, and both sides get the same treatment), the garbage collector off while timing, and
glibc's fast bins off as in the extraction workers (``--default-malloc`` keeps them). The
decision is the middleware's provisional one (the worker's strict decode checks it). The acceptance point (issue 3) is a ratio
``(decode + repair) / extraction`` of at most 10% per page, at the median and at p90, in every class;
the last column gives the share of a class's pages at or under 10%.

``--steps`` also times each step apart, in the order a crawl runs them (the repair's right after the
extraction): the decision, the worker's decode, mojibake repair of the text and title, gloss removal
and the Simplified form (OpenCC) where the page is a Traditional mirror or Big5 page, the Traditional
judgement elsewhere; per class, the median of each in ms and as a share of the extraction. The decode
(CPython's codec) and the Simplified form (OpenCC) are mostly C code this project does not write:
their share is a floor for the page's ratio. ``--only mirror,gbk`` keeps those classes.

Page classes:

* ``<encoding>``: every page of the encoding corpus (``tests/encoding_corpus.py``: six encodings x
  twelve label cases), its article wrapped in a realistic 30-60 KB portal template (navigation, link
  lists, pager scripts, footer) in the page's own script and encoding, its head and labels kept;
* ``mirror``: the seeds' Traditional mirror texts with pinyin glosses (and the yixiu mojibake tail) in
  the same template, served under a ``/gate/big5/`` URL, UTF-8 and GB18030;
* ``zh-dev``: the real pages of ``../shared/eval/zh-dev`` when that folder is present (no header, as
  saved).
"""
from __future__ import annotations

import argparse
import copy
import gc
import json
import random
import re
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipelines.decoding import charset  # noqa: E402
from pipelines.decoding.charset import decide_encoding, decode_page  # noqa: E402
from pipelines.decoding.glosses import strip_pinyin_glosses  # noqa: E402
from pipelines.decoding.mirrors import is_traditional, simplified_form  # noqa: E402
from pipelines.decoding.mojibake import repair_mojibake  # noqa: E402
from pipelines.decoding.repair import _outside_evidence, repair_document  # noqa: E402
from pipelines.extraction import extract_document  # noqa: E402
from pipelines.extraction.document import ExtractionError  # noqa: E402
from pipelines.worker_process import merge_freed_memory_at_once  # noqa: E402
from tests.encoding_corpus import (  # noqa: E402
    DECODER,
    pages,
    round_trips,
    simplified_sentences,
    traditional,
    traditional_sentences,
)

SEEDS = ROOT.parent / "shared" / "seeds"
ZH_DEV = ROOT.parent / "shared" / "eval" / "zh-dev"

_NAV = ("首页", "政务公开", "政策文件", "新闻中心", "办事服务", "互动交流", "专题专栏", "数据开放", "领导之窗",
        "机构职能", "通知公告", "部门动态", "镇街动态", "政府信息公开年报", "依申请公开", "人事信息")
_FOOTER = "主办单位：某市人民政府办公室　网站标识码：4420000045　备案号：05012345号　技术支持：信息中心"
_PARAGRAPHS = re.compile(r'<div class="content">\n(.*?)</div>', re.S)


def _chrome(rng: random.Random, pool: list[str], size: int) -> tuple[str, str]:
    """(before, after) the article: navigation, a side list of article links, pager scripts, footer,
    about *size* characters of markup in all."""
    nav = "".join(f'<li><a href="/col/col{rng.randint(100, 999)}/index.html">{n}</a></li>\n' for n in _NAV)
    links: list[str] = []
    while sum(map(len, links)) < size * 0.55:
        title = rng.choice(pool)[:24]
        links.append(f'<li><a href="/art/2024/{rng.randint(1, 12)}/{rng.randint(1, 28)}/'
                     f'art_{rng.randint(1000, 99999)}.html" title="{title}">{title}</a>'
                     f"<span>2024-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}</span></li>\n")
    script = "".join(f"var countPage{i} = createPageHTML({i}, 0, 'index', 'html'); // pager\n"
                     for i in range(int(size * 0.4) // 60))
    before = (f"<script>{script}</script>\n<div class=\"header\"><ul class=\"nav\">{nav}</ul></div>\n"
              f"<div class=\"main\"><div class=\"side\"><ul>{''.join(links)}</ul></div>\n"
              f"<div class=\"article\"><div class=\"info\">发布日期：2024-07-19 来源：本网</div>\n"
              f"<div class=\"TRS_Editor\">\n")
    after = f"</div></div></div>\n<div class=\"footer\">{_FOOTER}</div>\n"
    return before, after


def _wrapped(html: str, codec: str, in_traditional: bool, rng: random.Random) -> bytes | None:
    """A corpus page's article inside a portal template, encoded like the page; None when the
    template cannot be written in that encoding."""
    decoder = DECODER.get(codec, codec)
    pool = [s for s in (traditional_sentences() if in_traditional else simplified_sentences())
            if round_trips(s, codec, decoder)]
    for _ in range(5):
        before, after = _chrome(rng, pool, rng.randint(30_000, 60_000))
        if in_traditional:
            before, after = traditional(before), traditional(after)
        found = _PARAGRAPHS.search(html)
        if found is None:
            return None
        page = html[:found.start(1)] + before + found.group(1) + after + html[found.end(1):]
        if round_trips(page, codec, decoder):
            return page.encode(codec)
    return None


def corpus_samples(rng: random.Random, limit: int | None) -> list[tuple[str, bytes, str | None, str]]:
    """(class, body, Content-Type, url) for the wrapped encoding corpus."""
    out = []
    counts: dict[str, int] = defaultdict(int)
    for page in pages():
        if page.case in ("bom", "broken") or (limit and counts[page.encoding] >= limit):
            continue
        body = _wrapped(page.text, page.encoding, "trad" in page.id, rng)
        if body is not None:
            counts[page.encoding] += 1
            out.append((page.encoding, body, page.content_type, f"http://www.example.gov.cn/art/{page.id}.html"))
    return out


def mirror_samples(rng: random.Random) -> list[tuple[str, bytes, str | None, str]]:
    out: list[tuple[str, bytes, str | None, str]] = []
    for seed in ("xiaolan-town-traditional-pinyin", "zhenjiang-city-traditional-pinyin", "yixiu-district-mojibake"):
        path = SEEDS / f"{seed}.txt"
        if not path.is_file():
            continue
        lines = [line for line in path.read_text("utf-8").splitlines() if line.strip()]
        body = "".join(f"<p>{line}</p>\n" for line in lines)
        for n, codec in enumerate(("utf-8", "gb18030") * 3):
            label = rng.choice((codec, None))
            html = (f'<!DOCTYPE html>\n<html>\n<head>\n<meta charset="{codec}">\n<title>{lines[0][:30]}</title>\n'
                    f'</head>\n<body>\n<div class="content">\n{body}</div>\n</body>\n</html>\n')
            data = _wrapped(html, codec, True, rng)
            if data is not None:
                out.append(("mirror", data, f"text/html; charset={label}" if label else None,
                            f"http://www.zs.gov.cn/gate/big5/www.zs.gov.cn/{seed}/{n}.html"))
    return out


def zh_dev_samples() -> list[tuple[str, bytes, str | None, str]]:
    out: list[tuple[str, bytes, str | None, str]] = []
    for path in sorted(ZH_DEV.glob("*.html")):
        meta = path.with_suffix(".json")
        url = json.loads(meta.read_text("utf-8")).get("url") if meta.is_file() else None
        out.append(("zh-dev", path.read_bytes(), None, url or f"http://example.com/{path.name}"))
    return out


def _time_page(body: bytes, content_type: str | None, url: str, reps: int) -> tuple[float, float, float, bool]:
    """Fastest (decide + decode, repair, extraction) of *reps* interleaved runs, and whether an article
    was found (a page without one still costs its decoding and its extraction, and has no repair).
    The garbage collector is off while timing, as in ``timeit`` (a collection would be charged to
    whichever step happened to trigger it)."""
    best = [float("inf")] * 3
    found = True
    # Collect before the repetitions, not before each: a collection clears the interpreter's free lists
    # and caches, which would make the step right after it (the decision) pay for it.
    gc.collect()
    gc.disable()
    for _ in range(reps):
        charset._last_reading = None  # the worker decodes in another process than the middleware
        start = time.perf_counter()
        decision = decide_encoding(body, content_type, provisional=True)  # as the middleware does
        charset._last_reading = None
        html, _ = decode_page(body, content_type, decision.as_dict())
        decoded = time.perf_counter() - start
        start = time.perf_counter()
        try:
            document: dict[str, Any] | None = extract_document(html, url, None)
        except ExtractionError:
            document = None
        extracted = time.perf_counter() - start
        repaired = 0.0
        if document is not None:
            document = copy.copy(document)
            _forget_conversions()  # the same text is not repaired twice in a crawl, as it is here
            start = time.perf_counter()
            repair_document(document, url, decision.encoding)
            repaired = time.perf_counter() - start
        found = document is not None
        best = [min(a, b) for a, b in zip(best, (decoded, repaired, extracted), strict=True)]
    gc.enable()
    return best[0], best[1], best[2], found


def _forget_conversions() -> None:
    """Forget what the repetitions of one page would find cached from the first: OpenCC conversions and
    mojibake verdicts on CJK runs (a crawl caches them across pages, but a run rarely repeats)."""
    from pipelines.decoding import mirrors, mojibake

    for cached in (getattr(mirrors, "_convert", None), getattr(mojibake, "_repair_cjk_run", None)):
        clear = getattr(cached, "cache_clear", None)  # absent from older code (baseline runs)
        if clear is not None:
            clear()


#: The steps ``--steps`` times one by one, in the order a page goes through them.
STEPS = ("decision", "decode", "mojibake", "glosses", "simplified", "judgement")


def _time_steps(body: bytes, content_type: str | None, url: str, reps: int) -> dict[str, float] | None:
    """Each step of the page's decoding and repair timed apart, in the order a crawl runs them (the
    decision and the decode, the extraction, untimed, then the repair's steps), fastest of *reps*; None
    for a page without an article. ``glosses`` and ``simplified`` are a mirror or Big5 page's (URL or
    codec evidence, as ``repair_document`` decides), ``judgement`` (whether the text is Traditional) the
    others'; a step a page does not take is 0."""
    decision = decide_encoding(body, content_type, provisional=True)
    html, _ = decode_page(body, content_type, decision.as_dict())
    try:
        document = extract_document(html, url, None)
    except ExtractionError:
        return None
    text, title = document.get("text") or "", document.get("title") or ""
    mirror = bool(_outside_evidence(url, decision.encoding))
    repaired = repair_mojibake(text)[0]
    cleaned = strip_pinyin_glosses(repaired)[0]
    steps: dict[str, Any] = {
        "decision": lambda: decide_encoding(body, content_type, provisional=True),
        "decode": lambda: decode_page(body, content_type, decision.as_dict()),
        "extraction": lambda: extract_document(html, url, None),
        "mojibake": lambda: (repair_mojibake(text), repair_mojibake(title)),
        "glosses": (lambda: strip_pinyin_glosses(repaired)) if mirror else None,
        "simplified": (lambda: simplified_form(cleaned)) if mirror else None,
        "judgement": None if mirror else (lambda: is_traditional(repaired)),
    }
    best = dict.fromkeys(steps, float("inf"))
    gc.collect()
    gc.disable()
    for _ in range(reps):
        charset._last_reading = None
        _forget_conversions()
        for name, step in steps.items():
            if step is not None:
                start = time.perf_counter()
                step()
                best[name] = min(best[name], time.perf_counter() - start)
    gc.enable()
    return {name: 0.0 if steps[name] is None else best[name] for name in (*STEPS, "extraction")}


def _print_steps(samples: list[tuple[str, bytes, str | None, str]], reps: int) -> None:
    """Per class, the median of each step, in ms and as a share of the median extraction (timed with
    them), and the floor: the worker's decode and the Simplified form as a share of each page's
    extraction (median)."""
    timed: dict[str, list[dict[str, float]]] = defaultdict(list)
    for kind, body, content_type, url in samples:
        steps = _time_steps(body, content_type, url, reps)
        if steps is not None:
            timed[kind].append(steps)
    print(f"steps timed apart, in a crawl's order, fastest of {reps}: median ms (% of the median extraction);"
          " floor: the worker's decode + the Simplified form (CPython's codec, OpenCC: C), median share of"
          " the page's extraction")
    print(f"{'class':10} " + " ".join(f"{name:>15}" for name in STEPS) + f" {'extract':>8} {'floor':>6}")
    for kind, rows in timed.items():
        extract = statistics.median(row["extraction"] for row in rows)
        cells = []
        for name in STEPS:
            value = statistics.median(row[name] for row in rows)
            cells.append(f"{value * 1e3:6.3f} ({value / extract:5.1%})")
        floor = statistics.median((row["decode"] + row["simplified"]) / row["extraction"] for row in rows)
        print(f"{kind:10} " + " ".join(f"{cell:>15}" for cell in cells) + f" {extract * 1e3:8.2f} {floor:6.1%}")


def _quantile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def _share_within(ratios: list[float], target: float = 0.10) -> float:
    """The share of pages whose ratio is at most *target*."""
    return sum(r <= target for r in ratios) / len(ratios)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3, help="timed repetitions per page (the fastest counts)")
    parser.add_argument("--limit", type=int, help="corpus pages per encoding at most")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--worst", type=int, default=0, help="also list the pages with the highest ratios")
    parser.add_argument("--steps", action="store_true",
                        help="also time each step apart, in a crawl's order, with the share of the C floor "
                             "(the worker's decode and OpenCC)")
    parser.add_argument("--only", help="comma-separated classes to run (utf-8, gbk, ..., mirror, zh-dev)")
    parser.add_argument("--default-malloc", action="store_true",
                        help="keep glibc's fast bins (the extraction workers turn them off: "
                             "pipelines/worker_process.py merge_freed_memory_at_once)")
    args = parser.parse_args()
    tuned = not args.default_malloc and merge_freed_memory_at_once()
    rng = random.Random(args.seed)
    samples = corpus_samples(rng, args.limit) + mirror_samples(rng) + zh_dev_samples()
    if args.only:
        wanted = set(args.only.split(","))
        samples = [sample for sample in samples if sample[0] in wanted]
        if not samples:
            parser.error(f"no pages in {args.only!r}; the classes are utf-8, gb2312, gbk, gb18030, big5, "
                         "big5hkscs, mirror (with ../shared/seeds), zh-dev (with ../shared/eval/zh-dev)")
    # First use (tables, OpenCC, pypinyin) is a once-per-process cost, not a per-page one.
    warm = samples[0]
    _time_page(warm[1], warm[2], warm[3], 1)
    repair_document({"text": "ÖÐ»ª鎮(zhèn)江", "title": "鎮江"}, "http://big5.zs.gov.cn/", "big5hkscs")

    rows: dict[str, list[tuple[float, float, float, int]]] = defaultdict(list)
    empty = 0
    worst: list[tuple[float, str, str, float, float, float]] = []
    for kind, body, content_type, url in samples:
        decoded, repaired, extracted, found = _time_page(body, content_type, url, args.reps)
        empty += not found
        rows[kind if found else "no-article"].append((decoded, repaired, extracted, len(body)))
        worst.append(((decoded + repaired) / extracted, kind, url.rsplit("/", 1)[-1], decoded, repaired, extracted))
    print(f"malloc: {'as in the extraction workers (fast bins off)' if tuned else 'glibc default (fast bins on)'}")
    print(f"decode + repair vs extract_document, per page, fastest of {args.reps} runs "
          f"({sum(map(len, rows.values()))} pages; no-article: {empty} corpus pages whose article is too short "
          "to extract, which cost their decoding and an extraction that gives up early, no repair)")
    print(f"{'class':10} {'pages':>5} {'KB':>4} {'decode ms':>9} {'repair ms':>9} {'extract ms':>10}"
          f" | {'median':>6} {'p90':>6} {'max':>6} {'<=10%':>6}  (ratio (decode+repair)/extraction; target <= 10%)")
    everything: list[float] = []
    for kind, timed in rows.items():
        ratios = [(d + r) / e for d, r, e, _ in timed]
        everything += ratios
        print(f"{kind:10} {len(timed):5} {statistics.median(f[3] for f in timed) / 1e3:4.0f}"
              f" {statistics.median(f[0] for f in timed) * 1e3:9.2f} {statistics.median(f[1] for f in timed) * 1e3:9.2f}"
              f" {statistics.median(f[2] for f in timed) * 1e3:10.2f} | {statistics.median(ratios):6.1%}"
              f" {_quantile(ratios, 0.9):6.1%} {max(ratios):6.1%} {_share_within(ratios):6.0%}")
    print(f"{'all':10} {len(everything):5} {'':4} {'':9} {'':9} {'':10} | {statistics.median(everything):6.1%}"
          f" {_quantile(everything, 0.9):6.1%} {max(everything):6.1%} {_share_within(everything):6.0%}")
    articles = [f for kind, timed in rows.items() if kind != "no-article" for f in timed]
    print(f"in total over the {len(articles)} pages with an article: decode + repair = "
          f"{sum(d + r for d, r, _, _ in articles) / sum(e for _, _, e, _ in articles):.1%} of the extraction time")
    if args.worst:
        print("highest ratios: page, decode ms, repair ms, extract ms")
        for ratio, kind, name, decoded, repaired, extracted in sorted(worst, reverse=True)[:args.worst]:
            print(f"  {ratio:6.1%} {kind:9} {name[:60]:60} {decoded * 1e3:6.2f} {repaired * 1e3:6.2f} {extracted * 1e3:7.2f}")
    if args.steps:
        _print_steps(samples, args.reps)


if __name__ == "__main__":
    main()
