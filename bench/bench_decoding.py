"""Benchmark of the decoding stage: accuracy and speed of the encoding decision and of mojibake repair,
and their cost next to trafilatura's extraction of the same pages.

Run from the project root: ``.venv/bin/python -m bench.bench_decoding [--pages N]``.

1. Decision: every page of the generated corpus (``tests/encoding_corpus.py``: six encodings x twelve
   label cases, plus BOM and broken pages), exact text and expected rule, MB/s.
2. Repair: 1,000 generated sentences per damage type, exact recovery among lossless damage, similarity
   for the lossy rest, changes on clean sentences, MB/s.
3. Cost per page: realistic portal pages (40-80 KB: navigation, link lists, scripts, footer around the
   article) in each encoding; decide + decode + repair (+ gloss removal + Simplified form) against
   ``trafilatura.extract`` of the decoded page. The acceptance point is a ratio of at most 10%.
"""
from __future__ import annotations

import argparse
import difflib
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines.decoding.charset import decide_encoding, decode_body
from pipelines.decoding.glosses import strip_pinyin_glosses
from pipelines.decoding.mirrors import to_simplified
from pipelines.decoding.mojibake import repair_mojibake
from tests.encoding_corpus import (
    DECODER,
    clean_sentences,
    pages,
    round_trips,
    simplified_sentences,
    traditional,
    traditional_sentences,
)


def bench_decision() -> None:
    corpus = list(pages())
    size = sum(len(p.body) for p in corpus)
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    rules: Counter[str] = Counter()
    start = time.perf_counter()
    for _ in range(3):
        for page in corpus:
            decision = decide_encoding(page.body, page.content_type)
            decode_body(page.body, decision)
    elapsed = (time.perf_counter() - start) / 3
    for page in corpus:
        decision = decide_encoding(page.body, page.content_type)
        ok = decode_body(page.body, decision) == page.text and decision.rule == page.expected_rule
        key = f"{page.encoding:9} {page.case}"
        total[key] += 1
        right[key] += ok
        rules[decision.rule] += 1
    print(f"== encoding decision: {len(corpus)} pages, {size / 1e6:.2f} MB")
    by_encoding: Counter[str] = Counter()
    by_encoding_total: Counter[str] = Counter()
    by_case: Counter[str] = Counter()
    by_case_total: Counter[str] = Counter()
    for key, n in total.items():
        encoding, case = key.split(maxsplit=1)
        by_encoding[encoding] += right[key]
        by_encoding_total[encoding] += n
        by_case[case] += right[key]
        by_case_total[case] += n
    for encoding, n in by_encoding_total.items():
        print(f"  {encoding:10} {by_encoding[encoding]:4}/{n:<4} exact text and rule")
    for case, n in by_case_total.items():
        print(f"  {case:22} {by_case[case]:4}/{n:<4}")
    print(f"  overall {sum(right.values())}/{sum(total.values())}; rules that won: {dict(rules)}")
    print(f"  speed {size / 1e6 / elapsed:.1f} MB/s (decide + decode), {elapsed / len(corpus) * 1e3:.3f} ms/page")


def _web_cp1252(data: bytes) -> str:
    return "".join(chr(b) if b in (0x81, 0x8D, 0x8F, 0x90, 0x9D) else bytes((b,)).decode("cp1252")
                   for b in data)


DAMAGE: dict[str, tuple[str, Callable[[bytes], str]]] = {
    "gbk>cp1252": ("gbk", _web_cp1252),
    "big5>gbk": ("big5hkscs", lambda b: b.decode("gb18030", errors="replace")),
    "utf-8>latin-1": ("utf-8", lambda b: b.decode("latin-1")),
    "gbk>big5": ("gbk", lambda b: b.decode("big5hkscs", errors="replace")),
    "utf-8>gbk": ("utf-8", lambda b: b.decode("gb18030", errors="replace")),
    "gbk out of step": ("gbk", lambda b: b[1:].decode("gb18030", errors="replace")),
}


def bench_repair() -> None:
    sentences = clean_sentences(1000)
    print("== mojibake repair: 1,000 generated sentences per damage type")
    for kind, (true, misread) in DAMAGE.items():
        damaged_texts: list[tuple[str, str]] = []
        for sentence in sentences:
            try:
                damaged_texts.append((sentence, misread(sentence.encode(true))))
            except UnicodeEncodeError:
                continue
        lossless = exact = 0
        similarity: list[float] = []
        chars = sum(len(d) for _, d in damaged_texts)
        start = time.perf_counter()
        results = [repair_mojibake(d)[0] for _, d in damaged_texts]
        elapsed = time.perf_counter() - start
        for (sentence, damaged), repaired in zip(damaged_texts, results, strict=True):
            if "\ufffd" not in damaged and kind != "gbk out of step":
                lossless += 1
                exact += repaired == sentence
            else:
                similarity.append(difflib.SequenceMatcher(None, repaired, sentence).ratio())
        share = f"{exact / lossless:.1%}" if lossless else "-"
        sim = f"{statistics.mean(similarity):.2f}" if similarity else "-"
        print(f"  {kind:16} damaged {len(damaged_texts):4}  lossless {lossless:4}  exact {exact:4} ({share:>6})"
              f"  lossy {len(similarity):4} similarity {sim}  {chars * 3 / 1e6 / elapsed:.2f} MB/s")
    clean = "\n".join(sentences)
    changed = sum(1 for s in sentences if repair_mojibake(s)[0] != s)
    start = time.perf_counter()
    for _ in range(20):
        repair_mojibake(clean)
    elapsed = (time.perf_counter() - start) / 20
    print(f"  clean sentences changed: {changed}/{len(sentences)}; clean text "
          f"{len(clean.encode()) / 1e6 / elapsed:.1f} MB/s (UTF-8 size)")


_NAV = ["首页", "政务公开", "政策文件", "新闻中心", "办事服务", "互动交流", "专题专栏", "数据开放", "领导之窗",
        "机构职能", "通知公告", "部门动态", "镇街动态", "政府信息公开年报", "依申请公开", "人事信息"]


def _portal_page(rng: random.Random, sentences: list[str], in_traditional: bool) -> str:
    nav = "".join(f'<li><a href="/col/col{rng.randint(100, 999)}/index.html">{n}</a></li>\n' for n in _NAV)
    links = "".join(
        f'<li><a href="/art/2024/{rng.randint(1, 12)}/{rng.randint(1, 28)}/art_{rng.randint(1000, 9999)}.html"'
        f' title="{s[:24]}">{s[:24]}</a><span>2024-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}</span></li>\n'
        for s in rng.sample(sentences, 60))
    body = "".join(f"<p>{s}</p>\n" for s in rng.sample(sentences, rng.randint(12, 30)))
    script = "".join(f"var countPage{i} = createPageHTML({i}, 0, 'index', 'html'); // pager\n"
                     for i in range(rng.randint(300, 900)))
    footer = "主办单位：某市人民政府办公室　网站标识码：4420000045　粤ICP备05012345号"
    page = (f"<!DOCTYPE html><html><head><title>{sentences[0][:20]}</title>\n<script>{script}</script>\n"
            f"<style>.nav li{{float:left}}</style></head><body>\n<div class=\"header\"><ul class=\"nav\">{nav}</ul>"
            f"</div>\n<div class=\"main\"><div class=\"side\"><ul>{links}</ul></div>\n<div class=\"article\">"
            f"<h1>{sentences[0]}</h1>\n<div class=\"info\">发布日期：2024-07-19 来源：本网</div>\n"
            f"<div class=\"TRS_Editor\">{body}</div></div></div>\n<div class=\"footer\">{footer}</div>\n"
            f"</body></html>\n")
    return traditional(page) if in_traditional else page


def _measure(label: str, samples: list[tuple[bytes, str | None]]) -> None:
    """Time decide+decode, repair, gloss removal and the Simplified form against trafilatura."""
    import trafilatura

    rows: list[tuple[float, float, float, float, float, int]] = []
    for body, header in samples:
        start = time.perf_counter()
        decision = decide_encoding(body, header)
        text = decode_body(body, decision)
        decided = time.perf_counter() - start
        start = time.perf_counter()
        extracted = trafilatura.extract(text) or ""
        extraction = time.perf_counter() - start
        start = time.perf_counter()
        repaired, _ = repair_mojibake(extracted)
        repair = time.perf_counter() - start
        start = time.perf_counter()
        stripped, _ = strip_pinyin_glosses(repaired)
        glosses = time.perf_counter() - start
        start = time.perf_counter()
        to_simplified(stripped)
        simplified = time.perf_counter() - start
        rows.append((decided, repair, glosses, simplified, extraction, len(body)))

    def median(i: int) -> float:
        return statistics.median(r[i] for r in rows) * 1e3

    core = sorted((r[0] + r[1]) / r[4] for r in rows)
    everything = sorted(sum(r[:4]) / r[4] for r in rows)
    print(f"== cost per page, {label}: {len(rows)} pages, median {statistics.median(r[5] for r in rows) / 1e3:.0f} KB")
    print(f"  medians: decide+decode {median(0):.2f} ms, repair {median(1):.2f} ms, glosses {median(2):.2f} ms, "
          f"simplified form {median(3):.2f} ms; trafilatura.extract {median(4):.2f} ms")
    print(f"  (decode+repair)/extraction: median {statistics.median(core):.1%}, "
          f"p90 {core[int(len(core) * 0.9)]:.1%}  (target <= 10%)")
    print(f"  (decode+repair+glosses+simplified)/extraction: median {statistics.median(everything):.1%}, "
          f"p90 {everything[int(len(everything) * 0.9)]:.1%}")


def bench_cost(count: int) -> None:
    rng = random.Random(7)
    simp = list(simplified_sentences())
    trad = list(traditional_sentences())
    cases = [("utf-8", False, "utf-8"), ("gbk", False, None), ("gb18030", False, "gb2312"),
             ("big5", True, "big5"), ("big5hkscs", True, None), ("gbk", True, "big5")]
    samples: list[tuple[bytes, str | None]] = []
    for n in range(count):
        codec, in_traditional, label = cases[n % len(cases)]
        pool = [s for s in (trad if in_traditional else simp) if round_trips(s, codec, DECODER[codec])]
        html = _portal_page(rng, pool, in_traditional)
        while not round_trips(html, codec, DECODER[codec]):
            html = _portal_page(rng, pool, in_traditional)
        samples.append((html.encode(codec), f"text/html; charset={label}" if label else None))
    _measure("generated portal pages (6 encoding/label mixes)", samples)


def bench_cost_on(directory: Path) -> None:
    """The same comparison on saved pages (``*.html``, bytes as served, no header)."""
    samples: list[tuple[bytes, str | None]] = [(p.read_bytes(), None) for p in sorted(directory.glob("*.html"))]
    if samples:
        _measure(f"saved pages in {directory}", samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=60, help="portal pages for the cost comparison")
    parser.add_argument("--html-dir", type=Path, help="also compare on saved pages (*.html) in this folder")
    args = parser.parse_args()
    start = time.perf_counter()
    import pipelines.decoding.mojibake  # noqa: F401 - already imported: report only the first-use cost
    repair_mojibake("ÖÐ¹ú")
    strip_pinyin_glosses("鎮(zhèn)")
    to_simplified("鎮江")
    print(f"first use (tables, pypinyin, OpenCC loaded): {(time.perf_counter() - start) * 1e3:.0f} ms")
    bench_decision()
    bench_repair()
    bench_cost(args.pages)
    if args.html_dir:
        bench_cost_on(args.html_dir)


if __name__ == "__main__":
    main()
