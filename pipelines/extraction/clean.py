"""The Chinese-portal cleaning pass over extracted text, one line at a time.

Removes page chrome that survives a generic extractor (breadcrumbs, 来源/日期/点击/字体 lines,
上一篇/下一篇, share/print/close widgets, QR-code and 新媒体/手机版 blocks, footer lines, document-sharing
noise) and moves credit lines (责任编辑/责编/编辑/审核/撰稿/记者/摄, Traditional too) into fields. Every
rule is anchored or bounded by line length, so a body sentence that merely mentions such a word stays.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipelines.extraction.fold import GLOSS, degloss, fold
from pipelines.extraction.gkml import read_label_line

_CJK = r"\u3400-\u9fff\uf900-\ufaff"
_NAME = rf"[{_CJK}·•A-Za-z]{{2,12}}"

_BREADCRUMB = re.compile(r"^(?:您现在的位置|您的位置|您当前的位置|当前位置|所在位置|现在位置|位置)\s*[:>]"
                         r"|^首页\s*(?:>|»|\u203a|/|\\|→)")
_CRUMB_ANYWHERE = re.compile(r"(?:首页|主页)\s*(?:>>?|»|\u203a|→)")
_PREV_NEXT = re.compile(r"^[\[【(]?\s*(?:上一篇|下一篇|上一条|下一条|上一页|下一页|上篇|下篇|前一篇|后一篇)"
                        r"\s*[\]】)]?\s*(?::|$|\S)")
# Widgets: what is left of a line once these are gone must be (almost) nothing.
_WIDGETS = re.compile(
    r"【[^】]{0,12}】|\[[^\]]{0,12}\]|"
    r"打印本页|打印此页|打印本稿|打印文章|打印|关闭本页|关闭窗口|关闭|返回顶部|回到顶部|返回首页|返回列表|返回|"
    r"分享到|分享|收藏本页|收藏|加入收藏|推荐给朋友|推荐|纠错|我要纠错|字体|字号|大|中|小|默认|"
    r"扫一扫|二维码|微信|微博|QQ空间|QQ好友|腾讯微博|新浪微博|人人网|豆瓣|朋友圈|手机版|手机|新媒体|客户端|"
    r"浏览次数|阅读次数|点击数|点击|次|保存|[:：|\uff5c丨/·\-_\s\d()（）>,，、]"
)
_WIDGET_STRONG = re.compile(r"打印|关闭|分享|收藏|字体|字号|返回|扫一扫|二维码|纠错|推荐给朋友|"
                            r"【[大中小]】|\[[大中小]\]")
_FOOTER = re.compile(
    r"主办单位|主办\s*:|承办单位|承办\s*:|协办单位|版权所有|网站标识码|ICP备|ICP证|icp备|公网安备|京公网安备|"
    r"技术支持\s*:|Copyright|©|All Rights Reserved|网站地图|联系我们|关于我们|建议使用.{0,20}浏览器|"
    r"分辨率|网站声明|隐私声明|政府网站找错|不良信息举报"
)
_FOOTER_SURE = re.compile(r"ICP备|ICP证|公网安备|网站标识码|Copyright|©|All Rights Reserved", re.I)
_NEW_MEDIA = re.compile(r"二维码|扫一扫|新媒体|手机版|微信公众号|官方微信|官方微博|客户端下载|移动端")
_META_LABELS = {"source", "published_at", "clicks", "font", "author"}
_STRONG_META = re.compile(r"(?:信息来源|来源|发布时间|发布日期|发布者|点击|浏览|阅读次数|访问量|"
                          r"字体|字号|作者)\s*:")
_DOCSHARE_MARK = re.compile(r"第\s*\d+\s*页\s*[,，]\s*共\s*\d+\s*页")
_DOCSHARE_PROMO = re.compile(
    r"由会员分享|可在线阅读|更多相关|请在.{0,30}上搜索|分享文档赚钱|文档贡献者|下载文档|本文档|配套讲稿|特殊限制|"
    r"^-?\s*关\s*键\s*词\s*:|限制\d+内|珍藏版|如PPT文件的首页|仅作为作品整体效果示例|设计者仅对作品|"
    r"^\s*-\s*$|^\s*-\s*[\d\w]+(?:\s+[\d\w]+){3,}\s*$"
)
_REPEATED = re.compile(r"^(\S{2,12})(?:\s+\1)+$")
_DOC_TITLE = re.compile(r"\.(?:docx?|pdf|pptx?|xlsx?|wps|txt)$", re.I)
_LOGIN = re.compile(r"^(?:登录|注册|登录\s*\|\s*注册|用户登录|会员登录)$")
_RELATED = re.compile(r"^(?:相关阅读|相关新闻|相关链接|相关文章|相关稿件|延伸阅读|推荐阅读|热点推荐|热门文章|"
                      r"猜你喜欢|往期回顾|更多>+|更多)\s*:?$")

# Credits. Labels are matched on the folded line; values are cut from the original.
_CREDIT_LABEL = (r"责任编辑|责编|编辑|审核|审校|审稿|终审|初审|复审|校对|撰稿|撰文|作者|文字|供稿|"
                 r"记者|通讯员|摄影|摄|图片|图")
_CREDIT_FIELD = {"责任编辑": "editor", "责编": "editor", "编辑": "editor",
                 "审核": "reviewer", "审校": "reviewer", "审稿": "reviewer", "终审": "reviewer",
                 "初审": "reviewer", "复审": "reviewer", "校对": "reviewer",
                 "撰稿": "author", "撰文": "author", "作者": "author", "文字": "author", "供稿": "author",
                 "记者": "reporter", "通讯员": "correspondent", "摄影": "photographer", "摄": "photographer",
                 "图片": "photographer", "图": "photographer"}
_CREDIT_ITEM = re.compile(
    rf"({_CREDIT_LABEL})\s*[:/]?\s*((?!(?:{_CREDIT_LABEL})[:\s])(?:{_NAME})"
    rf"(?:[ 、,，]+(?!(?:{_CREDIT_LABEL})[:\s]){_NAME})*)")
_CREDIT_GROUP = re.compile(rf"\(\s*((?:{_CREDIT_LABEL})\s*:?\s*[^()]{{1,60}})\)\s*$")
_CREDIT_GROUP_START = re.compile(r"^(\S{0,8}?)\(\s*((?:记者|通讯员)\s*:?\s*[^()]{1,40})\)")
_CREDIT_LINE = re.compile(rf"^\s*(?:{_CREDIT_LABEL})\s*:\s*\S")
_PHOTO_TAIL = re.compile(rf"\s+((?:{_NAME}\s+){{0,3}}{_NAME})\s*摄\s*$")


@dataclass
class Cleaned:
    text: str
    credits: dict[str, str] = field(default_factory=dict)
    meta: dict[str, str] = field(default_factory=dict)
    removed: int = 0


def _parse_credits(segment: str, original: str) -> dict[str, str]:
    """`撰稿:徐永 审核:钱凯` -> {author: 徐永, reviewer: 钱凯}, values from the original characters."""
    found: dict[str, str] = {}
    for m in _CREDIT_ITEM.finditer(segment):
        value = original[m.start(2):m.end(2)] if len(original) == len(segment) else m.group(2)
        value = " ".join(re.split(r"[\s\u3000]+", value.strip()))
        # a second label glued into the value ("徐永审核") ends the value
        found.setdefault(_CREDIT_FIELD[m.group(1)], value)
    return found


def _credit(line: str, folded: str) -> tuple[int, int, dict[str, str]] | None:
    """The span of the line holding credits, and the credits; None when the line carries none."""
    m = _CREDIT_GROUP.search(folded)
    if m:
        credits = _parse_credits(m.group(1), line[m.start(1):m.end(1)])
        if credits:
            return m.start(), len(line), credits
    m = _CREDIT_GROUP_START.match(folded)
    if m:
        credits = _parse_credits(m.group(2), line[m.start(2):m.end(2)])
        if credits:
            return m.start(0) + len(m.group(1)), m.end(), credits
    if _CREDIT_LINE.match(folded) and len(folded) <= 60:
        credits = _parse_credits(folded, line)
        if credits:
            return 0, len(line), credits
    m = _PHOTO_TAIL.search(folded)
    if m and len(folded) <= 200:
        return m.start(), len(line), {"photographer": " ".join(line[m.start(1):m.end(1)].split())}
    return None


def credits_in_line(line: str) -> dict[str, str]:
    """Credits carried by one line outside the body (e.g. `（责任编辑：李明）` under a TRS container)."""
    found = _credit(line, fold(line))
    return found[2] if found else {}


def _is_widget_line(folded: str) -> bool:
    if len(folded) >= 80 or not _WIDGET_STRONG.search(folded):
        return False
    return len(_WIDGETS.sub("", folded)) <= 1


def _is_meta_line(folded: str) -> dict[str, str] | None:
    if len(folded) > 120:
        return None
    fields = read_label_line(folded)
    if not fields or not set(fields) <= (_META_LABELS | {"editor"}):
        return None
    if _STRONG_META.search(folded) or set(fields) - {"published_at"} == set():
        if set(fields) == {"published_at"} and len(folded) > 40:
            return None  # 时间：2024年5月1日 上午9时 地点：… is a body line of a notice
        return fields
    return None


def _is_chrome(folded: str, index: int, total: int) -> bool:
    short = len(folded) <= 60
    if _BREADCRUMB.search(folded) or (short and _CRUMB_ANYWHERE.search(folded)):
        return True
    if _PREV_NEXT.match(folded) and len(folded) <= 100:
        return True
    if _is_widget_line(folded):
        return True
    if _LOGIN.match(folded) or _RELATED.match(folded) or (short and _REPEATED.match(folded)):
        return True
    if len(folded) <= 150 and _FOOTER.search(folded):
        # a sentence of the body mentioning 主办单位 or 版权所有 has commas and a full stop
        if _FOOTER_SURE.search(folded) or not ("," in folded and folded.endswith(("。", "!", ";"))):
            return True
    return short and len(folded) <= 30 and bool(_NEW_MEDIA.search(folded))


def is_docshare(text: str) -> bool:
    return len(_DOCSHARE_MARK.findall(text)) >= 2 or bool(re.search(r"由会员分享|分享文档赚钱", text))


def _repair_docshare(lines: list[str]) -> list[str]:
    """A PDF copied onto a document-sharing site: chunk numbers `3、` open each chunk mid-sentence and
    spaces stand where the PDF wrapped. Rejoin the chunks into one flow and drop the wrap spaces."""
    joined: list[str] = []
    for line in lines:
        m = re.match(r"^(\d{1,3})、", line)
        if m and joined and int(m.group(1)) > 1:
            joined[-1] += line[m.end():]
        else:
            joined.append(line[m.end():] if m and int(m.group(1)) == 1 else line)
    wrap = re.compile(rf"(?<=[{_CJK}，。、；：“”（）,.;:])[ \u3000](?=[{_CJK}，。、；：“”（）])")
    return [wrap.sub("", line) for line in joined]


def clean_text(text: str, title: str | None = None) -> Cleaned:
    lines = [line.strip() for line in text.replace("\r", "\n").split("\n")]
    lines = [line for line in lines if line]
    docshare = is_docshare(text)
    out = Cleaned("")
    kept: list[str] = []
    title_folded = "".join(fold(title).split()) if title else None
    for i, line in enumerate(lines):
        if docshare:
            line = _DOCSHARE_MARK.sub("", line).strip()
            if not line:
                out.removed += 1
                continue
        # a machine Traditional mirror: match on the line without pinyin glosses (they are removed later,
        # by the decoding stage), but keep them in the body
        body_line = line
        line, index = degloss(line) if GLOSS.search(line) else (line, list(range(len(line))))
        folded = fold(line)
        if docshare and (_DOCSHARE_PROMO.search(folded) or _DOC_TITLE.search(folded)):
            out.removed += 1
            continue
        if title_folded and i < 3 and "".join(folded.split()) == title_folded:
            out.removed += 1
            continue
        meta = _is_meta_line(folded)
        if meta is not None:
            for key, value in meta.items():
                if value:
                    out.meta.setdefault(key, value)
            out.removed += 1
            continue
        if _is_chrome(folded, i, len(lines)):
            out.removed += 1
            continue
        credit = _credit(line, folded)
        if credit is not None:
            start, end, credits = credit
            for key, value in credits.items():
                out.credits.setdefault(key, value)
            cut_from = index[start] if start < len(index) else len(body_line)
            cut_to = index[end - 1] + 1 if end > 0 else 0
            body_line = (body_line[:cut_from].rstrip() + body_line[cut_to:].lstrip()).strip()
            if not body_line.strip(" \u3000()（）"):
                out.removed += 1
                continue
        kept.append(body_line)
    if docshare:
        kept = _repair_docshare(kept)
    out.text = "\n".join(kept)
    return out
