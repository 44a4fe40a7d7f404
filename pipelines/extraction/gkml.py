"""Labelled metadata: the 政府信息公开 table (索引号, 发布机构, 发文字号, 成文日期, 主题分类, 有效性, …) and
the short `信息来源：… 发布日期：…` lines above an article. Labels may be Traditional and may contain
full-width spaces (`标　　题`); both are normalised before matching."""
from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import islice

from lxml import etree
from lxml.html import HtmlElement

from pipelines.extraction.fold import GLOSS, fold, fold_label

_SPACES = re.compile(r"[\s\u3000\xa0]+")

# normalised label -> field. Fields of the gkml table carry a "gkml." prefix.
LABELS: dict[str, str] = {
    "索引号": "gkml.index_no",
    "发布机构": "gkml.publisher", "发文机关": "gkml.publisher", "发文单位": "gkml.publisher",
    "发布单位": "gkml.publisher", "公开主体": "gkml.publisher",
    "发文字号": "gkml.doc_number", "文号": "gkml.doc_number", "发文文号": "gkml.doc_number",
    "成文日期": "gkml.written_at", "成文时间": "gkml.written_at",
    "主题分类": "gkml.topic", "信息分类": "gkml.topic", "主题类别": "gkml.topic",
    "有效性": "gkml.validity", "时效性": "gkml.validity", "效力状态": "gkml.validity",
    "标题": "title", "名称": "title", "文件名称": "title",
    "发布日期": "published_at", "发布时间": "published_at", "公开日期": "published_at",
    "发表时间": "published_at", "发表日期": "published_at", "日期": "published_at", "时间": "published_at",
    "更新时间": "published_at", "发稿时间": "published_at",
    "信息来源": "source", "来源": "source", "文章来源": "source", "稿件来源": "source",
    "作者": "author", "撰稿": "author", "供稿": "author",
    "点击": "clicks", "点击数": "clicks", "点击量": "clicks", "浏览次数": "clicks", "访问量": "clicks",
    "阅读": "clicks", "阅读次数": "clicks", "浏览量": "clicks",
    "字体": "font", "字号": "font",
}
# Labels allowed inside a running line (`信息来源：… 发布日期：…`); each needs a colon after it.
_LINE_LABELS = sorted((k for k in LABELS if not k.startswith("名称")), key=len, reverse=True)
_LABEL_IN_LINE = re.compile(
    r"(?:^|(?<=[\s|\uff5c丨/】\]）)]))(" + "|".join(_LINE_LABELS) + r")\s*:"
)
# Labels trusted in isolated cells: generic ones (日期, 时间, 名称) appear in sidebars and lists too.
_CELL_LABELS = {k for k, v in LABELS.items() if v.startswith("gkml.")} | {
    "标题", "文件名称", "发布日期", "发布时间", "公开日期", "信息来源", "来源", "文章来源"}
_CELL_TAGS = {"td", "th", "span", "li", "p", "dt", "dd", "b", "strong", "label", "em", "font", "div", "i"}
# The text of the page's root element (the text of its elements and their tails, in document order:
# not comments' nor processing instructions' text), each cell's opened by _MARK and closed by _END
# (noncharacters, which a page's text holds only by mistake).
_MARK, _AFTER_END = "\ufdd0", "\ufdd1"
_END = _MARK + _AFTER_END
_MARKED_TEXT = etree.XSLT(etree.XML(f"""\
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:output method="text" encoding="UTF-8"/>
  <xsl:template match="/"><xsl:apply-templates select="*[1]"/></xsl:template>
  <xsl:template match="{'|'.join(sorted(_CELL_TAGS))}">{_MARK}<xsl:apply-templates/>{_END}</xsl:template>
</xsl:stylesheet>"""))


def normalise_label(label: str) -> str:
    return fold_label(label).strip("【】[]:")


def _short_text(el: HtmlElement, limit: int = 120) -> str | None:
    parts: list[str] = []
    size = 0
    for piece in el.itertext():
        size += len(piece)
        if size > limit:
            return None
        parts.append(piece)
    return _tidy("".join(parts))


def _tidy(text: str) -> str:
    return _SPACES.sub(" ", GLOSS.sub("", text)).strip()


def _repeated_label(el: HtmlElement, head: str) -> bool:
    """The same label on a sibling item too: a list of other articles (`<li>发布时间：…</li>` under 相关新闻),
    not this page's metadata, which names each field once."""
    parent = el.getparent()
    if parent is None:
        return False
    same = 0
    for sibling in parent.iterchildren(el.tag):
        text = _short_text(sibling, 200) or ""
        if text.replace("：", ":").partition(":")[0] == head:
            same += 1
            if same > 1:
                return True
    return False


def _cell_texts(tree: HtmlElement, limit: int) -> Iterator[tuple[HtmlElement, str]]:
    """Each cell (an element of _CELL_TAGS) whose text (`itertext`) is at most `limit` characters,
    with that text, in document order. The page's text is read once, in C, with each cell's text
    between two marks (_MARKED_TEXT), then the marks are paired: asking every cell for its own text
    reads the page's text once per level of nesting. A page whose text holds a mark itself has each
    cell read alone."""
    cells = list(tree.iter(*_CELL_TAGS))
    marked = str(_MARKED_TEXT(tree))
    if marked.count(_MARK) != 2 * len(cells) or marked.count(_AFTER_END) != len(cells):
        alone = ((el, "".join(el.itertext())) for el in cells)
        return ((el, text) for el, text in alone if len(text) <= limit)
    pieces = marked.split(_MARK)  # the text before the first mark, then what follows each mark
    text = marked.replace(_END, "").replace(_MARK, "")
    spans: list[tuple[int, int] | None] = [None] * len(cells)
    opened: list[tuple[int, int]] = []  # (where a cell's text starts, the cell's slot)
    at = len(pieces[0])
    slot = 0
    for piece in islice(pieces, 1, None):
        if piece[:1] == _AFTER_END:
            start, closed = opened.pop()
            if at - start <= limit:
                spans[closed] = (start, at)
            at += len(piece) - 1
        else:
            opened.append((at, slot))
            slot += 1
            at += len(piece)
    return ((el, text[span[0]:span[1]]) for el, span in zip(cells, spans, strict=True) if span is not None)


def _no_label(raw: str) -> bool:
    """Text whose cell cannot hold a label: all ASCII (labels are CJK; NFKC and the Traditional
    fold make no CJK of ASCII), or no colon and more than 12 characters besides whitespace (the
    longest label; a pinyin gloss, which needs a parenthesis, would be removed first)."""
    if raw.isascii():
        return True
    if ":" in raw or "：" in raw or "(" in raw or "（" in raw:
        return False
    return len("".join(raw.split())) > 12


def read_label_cells(tree: HtmlElement) -> dict[str, str]:
    """Label/value cells: `<td>索 引 号：</td><td>…</td>`, `<li><b>发文字号：</b>…</li>`,
    `<span>成文日期</span><span>…</span>`."""
    found: dict[str, str] = {}
    for el, raw in _cell_texts(tree, 80):
        if _no_label(raw):
            continue
        text = _tidy(raw)
        if not text:
            continue
        head, colon, value = text.replace("：", ":").partition(":")
        if len(head) > 12:
            continue
        label = normalise_label(head)
        field = LABELS.get(label)
        if field is None or field in found or label not in _CELL_LABELS or _repeated_label(el, head):
            continue
        value = text[len(head) + len(colon):].strip()
        if value and ":" in fold(value):
            # `信息来源：中山日报 发布日期：2022年12月14日` in one cell: split it like a meta line
            value = read_label_line(text).get(field, value)
        if not value:
            # the next element: a comment or processing instruction between the cells has no text
            sibling = next((s for s in el.itersiblings() if isinstance(s.tag, str)), None)
            value = (_short_text(sibling, 200) or "") if sibling is not None else ""
        if value and LABELS.get(normalise_label(value.split("：")[0].split(":")[0])) is None:
            found[field] = value
    return found


def read_label_line(line: str) -> dict[str, str]:
    """Split a meta line into label -> value: `日期:2021-08-31 21:35:07 來源: 點擊:` gives a date, an
    empty source and empty clicks. Returns {} unless the line starts with a label."""
    orig = GLOSS.sub("", line).strip()
    norm = fold(orig)
    if len(norm) != len(orig):
        orig = norm
    matches = list(_LABEL_IN_LINE.finditer(norm))
    if not matches or norm[: matches[0].start()].strip(" |\uff5c丨【[（("):
        return {}
    out: dict[str, str] = {}
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(norm)
        field = LABELS[m.group(1)]
        # the value keeps the original (possibly Traditional) characters
        out.setdefault(field, orig[m.end():end].strip(" |\uff5c丨】]）)"))
    return out
