"""Scoring extraction against labelled pages: ours and plain trafilatura on the same pages, same run.

A corpus folder holds `<id>.html` (bytes as served) and `<id>.json` with at least `text` (the expected
body); optional `date` (YYYY-MM-DD), `url`, `content_type`, `overrides` (site-file XPaths), `expected`
(metadata fields of `extract_document`'s output, compared exactly), `must_contain` / `must_not_contain`
(snippets of the text); `pages` for a whole multi-page article: its later pages, `{"file":
"<id>.p2.html", "url": …}` each, whose texts are merged (pipelines/extraction/multipage.py) and scored
against `text` (plain trafilatura's texts of the pages are joined). Text metric: character-bigram F1
after NFKC, lower-casing and removal of all whitespace, macro-averaged over pages.
"""
from __future__ import annotations

import json
import re
import statistics
import time
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trafilatura

from pipelines.decoding.charset import decide_encoding, decode_body
from pipelines.extraction.document import ExtractionError, extract_document
from pipelines.extraction.multipage import merge_documents

# Strings that only page chrome contains; a page "leaks chrome" when its output has one that the
# labelled text has not.
CHROME = ("您现在的位置", "您的位置", "当前位置", "首页 >", "首页>", "打印本页", "打印此页", "关闭窗口",
          "【字体", "字体：大", "字体:大", "字号：大", "字号:大", "【打印】", "【关闭】", "责任编辑",
          "責任編輯", "上一篇", "下一篇", "微信二维码", "扫一扫", "手机版", "网站地图", "联系我们",
          "版权所有",
          "网站标识码", "ICP备", "公网安备", "分享到", "返回顶部", "相关阅读", "相关新闻", "登录", "注册",
          "由会员分享", "第7页,共11页")
_WS = re.compile(r"[\s\u200b\u200c\u200d\u2060\ufeff]+")
_DAY = re.compile(r"((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")


def normalise(text: str | None) -> str:
    return _WS.sub("", unicodedata.normalize("NFKC", text or "")).lower()


def bigram_f1(predicted: str | None, expected: str | None) -> float:
    p, g = normalise(predicted), normalise(expected)
    pc = Counter(p[i:i + 2] for i in range(len(p) - 1))
    gc = Counter(g[i:i + 2] for i in range(len(g) - 1))
    overlap = sum((pc & gc).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(pc.values()), overlap / sum(gc.values())
    return 2 * precision * recall / (precision + recall)


def day_of(value: str | None) -> str | None:
    m = _DAY.search(value or "")
    return f"{m.group(1)}-{int(m.group(2)):02d}-{int(m.group(3)):02d}" if m else None


def leaks_chrome(predicted: str, expected: str) -> list[str]:
    p, g = normalise(predicted), normalise(expected)
    return [c for c in CHROME if normalise(c) in p and normalise(c) not in g]


@dataclass(frozen=True)
class Page:
    id: str
    html: str
    label: dict[str, Any]
    parts: tuple[tuple[str, str], ...] = ()  # a multi-page article's later pages: (url, html)


@dataclass
class Score:
    name: str
    f1: list[float] = field(default_factory=list)
    dates: list[bool] = field(default_factory=list)
    chrome: list[str] = field(default_factory=list)
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)

    @property
    def mean_f1(self) -> float:
        return statistics.mean(self.f1) if self.f1 else 0.0

    @property
    def date_accuracy(self) -> float | None:
        return sum(self.dates) / len(self.dates) if self.dates else None

    @property
    def chrome_rate(self) -> float:
        return len(self.chrome) / len(self.f1) if self.f1 else 0.0

    @property
    def ms_per_page(self) -> float:
        return 1000 * self.seconds / len(self.f1) if self.f1 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "pages": len(self.f1), "f1": round(self.mean_f1, 4),
                "date": None if self.date_accuracy is None else round(self.date_accuracy, 4),
                "chrome": round(self.chrome_rate, 4), "ms_per_page": round(self.ms_per_page, 2),
                "chrome_pages": self.chrome, "failures": self.failures}


def load_corpus(folder: Path) -> list[Page]:
    pages = []
    for label_path in sorted(folder.glob("*.json")):
        html_path = label_path.with_suffix(".html")
        label = json.loads(label_path.read_text(encoding="utf-8"))
        if not isinstance(label, dict) or not label.get("text") or not html_path.exists():
            continue
        pages.append(Page(label_path.stem, _decoded(html_path, label.get("content_type")), label,
                          tuple((p["url"], _decoded(folder / p["file"], label.get("content_type")))
                                for p in label.get("pages") or [])))
    return pages


def _decoded(path: Path, content_type: str | None) -> str:
    body = path.read_bytes()
    return decode_body(body, decide_encoding(body, content_type))


Extractor = Callable[[Page], tuple[str, str | None, dict[str, Any]]]


def _ours_one(html: str, url: str, overrides: dict[str, str] | None) -> dict[str, Any] | None:
    try:
        return extract_document(html, url, overrides)
    except ExtractionError:
        return None


def ours(page: Page) -> tuple[str, str | None, dict[str, Any]]:
    overrides = page.label.get("overrides")
    doc = _ours_one(page.html, page.label.get("url") or "", overrides)
    if page.parts:
        doc = merge_documents([doc, *(_ours_one(html, url, overrides) for url, html in page.parts)])
    if doc is None:
        return "", None, {}
    return doc["text"], doc["published_at"], doc


def _trafilatura_one(html: str, url: str | None) -> tuple[str, str | None]:
    doc = trafilatura.bare_extraction(html, url=url or None, with_metadata=True)
    if doc is None or isinstance(doc, dict):
        return "", None
    return doc.text or "", doc.date


def plain_trafilatura(page: Page) -> tuple[str, str | None, dict[str, Any]]:
    text, date = _trafilatura_one(page.html, page.label.get("url"))
    texts = [text] + [_trafilatura_one(html, url)[0] for url, html in page.parts]
    return "\n".join(t for t in texts if t), date, {}


def metadata_mismatches(page: Page, doc: dict[str, Any]) -> list[str]:
    expected = page.label.get("expected") or {}
    return [f"{page.id}: {key} = {doc.get(key)!r}, expected {want!r}"
            for key, want in expected.items() if doc.get(key) != want]


def snippet_failures(page: Page, text: str) -> list[str]:
    got = normalise(text)
    out = [f"{page.id}: missing {s!r}" for s in page.label.get("must_contain", []) if normalise(s) not in got]
    # must-not snippets keep their spaces: `运行情 况` (a PDF wrap) differs from the repaired `运行情况`
    raw = unicodedata.normalize("NFKC", text).lower()
    out += [f"{page.id}: kept {s!r}" for s in page.label.get("must_not_contain", [])
            if unicodedata.normalize("NFKC", s).lower() in raw]
    return out


def score(pages: list[Page], name: str, extractor: Extractor, check_fields: bool = False) -> Score:
    result = Score(name)
    for page in pages:
        started = time.perf_counter()
        text, published, doc = extractor(page)
        result.seconds += time.perf_counter() - started
        result.f1.append(bigram_f1(text, page.label["text"]))
        if page.label.get("date"):
            result.dates.append(day_of(published) == page.label["date"])
        if leaks_chrome(text, page.label["text"]):
            result.chrome.append(page.id)
        if check_fields:
            if not doc:
                result.failures.append(f"{page.id}: no document extracted")
            else:
                result.failures += metadata_mismatches(page, doc)
            result.failures += snippet_failures(page, text)
    return result


def compare(folder: Path) -> tuple[Score, Score]:
    pages = load_corpus(folder)
    return score(pages, "govarchive", ours, check_fields=True), score(pages, "trafilatura", plain_trafilatura)
