"""Government-website meta tags (GB/T 42147-2022 and the 2017 政府网站发展指引), names matched
case-insensitively, with the common Open Graph / news fallbacks for the date."""
from __future__ import annotations

import re
from datetime import datetime

from lxml.html import HtmlElement

from pipelines.extraction.dates import BEIJING, iter_dates, parse_date
from pipelines.extraction.fold import fold

# meta name (lower-case) -> our field
GOV_META = {
    "articletitle": "title",
    "pubdate": "published_at",
    "contentsource": "source",
    "columnname": "column",
    "sitename": "site_name",
    "siteidcode": "site_id_code",
    "keywords": "keywords",
    "author": "author",
    "description": "description",
}
# Other names seen on news and portal pages that carry the publication time, in order of trust: the
# government tag, Open Graph and its Chinese variants (`og:time` of ifeng, `bytedance:published_time` of
# toutiao, `weibo:article:create_at` of the Sina/Weibo share card), schema.org, then scholarly and
# Dublin Core names.
DATE_META = ("pubdate", "publishdate", "article:published_time", "og:release_date", "og:published_time",
             "og:time", "news:published_time", "bytedance:published_time", "publish_time", "publishtime",
             "firstpublishedtime", "datepublished", "weibo:article:create_at", "citation_publication_date",
             "citation_date", "dcterms.issued", "dc.date.issued", "prism.publicationdate", "dc.date", "date")
# The enorth/people.cn CMS family writes its article properties into an HTML comment.
_ENP_DATE = re.compile(r"<!--\s*enpproperty.{0,2000}?<date>([^<]{8,40})</date>", re.S | re.I)
# Dates a page declares without showing them, used only when it shows none (they can differ from the
# shown date the page is known by): schema.org JSON-LD `"datePublished"` (on a wiki, the day the entry
# was created), and the stamp Sina's CMS writes above every page it builds (`<!--[112,3,114366] published
# at 2004-10-13 14:01:37 from #009 by system-->`, moved by every rebuild).
_UNSHOWN_DATES = (
    re.compile(r"datePublished[\"']\s*:\s*[\"']([^\"'<]{8,40})[\"']"),
    re.compile(r"<!--\s*\[[\d,\s]*\]\s*published at ((?:19|20)\d{2}-\d{1,2}-\d{1,2}[\d: ]{0,9})"),
)
# WeChat article pages (mp.weixin.qq.com) leave `#publish_time` empty for a script to fill from the
# Unix time in `var ct = "1659274471"`; the time shown is that stamp in Beijing time.
_WECHAT_CT = re.compile(r"var\s+ct\s*=\s*[\"'](\d{10})[\"']")
_SPLIT_KEYWORDS = re.compile(r"[,，;；、|\s]+")


def read_meta(tree: HtmlElement) -> dict[str, str]:
    """All `<meta name|property|itemprop=… content=…>` with non-empty content, names lower-cased without
    spaces (`weibo: article:create_at`); first occurrence wins. A `<time datetime=…>` marked
    `itemprop="datePublished"` or `pubdate` counts as `datepublished`."""
    found: dict[str, str] = {}
    for el in tree.iter("meta"):
        name = el.get("name") or el.get("property") or el.get("itemprop") or el.get("http-equiv")
        content = (el.get("content") or "").strip()
        if name and content:
            found.setdefault("".join(name.split()).lower(), content)
    for el in tree.iter("time"):
        stamp = (el.get("datetime") or "").strip()
        if stamp and ((el.get("itemprop") or "").lower() == "datepublished" or el.get("pubdate") is not None):
            found.setdefault("datepublished", stamp)
    return found


def gov_fields(meta: dict[str, str]) -> dict[str, str]:
    """The government tags present, renamed to our fields (the raw strings, not yet typed)."""
    return {field: meta[name] for name, field in GOV_META.items() if name in meta}


def split_keywords(value: str | None) -> list[str]:
    seen: list[str] = []
    for word in _SPLIT_KEYWORDS.split(value or ""):
        if word and word not in seen:
            seen.append(word)
    return seen


def date_candidates(meta: dict[str, str], html: str = "") -> list[str]:
    """Publication dates a page declares for machines (meta tags, structured data, CMS stamps), most
    trusted first; raw strings, not yet parsed."""
    found = [meta[name] for name in DATE_META if name in meta]
    m = _ENP_DATE.search(html)
    if m:
        found.append(m.group(1))
    m = _WECHAT_CT.search(html) if 'id="publish_time"' in html else None
    if m:
        found.append(datetime.fromtimestamp(int(m.group(1)), BEIJING).isoformat())
    return found


def unshown_date(html: str) -> str | None:
    """A date the page declares but does not show (JSON-LD, a CMS build stamp): the last resort."""
    for pattern in _UNSHOWN_DATES:
        m = pattern.search(html)
        iso = parse_date(m.group(1)) if m else None
        if iso:
            return iso
    return None


# --- date fallbacks from the page layout, when no tag or table gives the date -------------------------

# The site header's calendar widget (`今天是2024年5月28日 星期二`, `当前时间：…`, a 农历 line beside the date)
# shows the day the page was fetched, not the day it was published.
_CLOCK_MARK = r"农历|阴历|今天是|今日是|今天\s*[:：]|当前(?:时间|日期)\s*[:：]?|现在(?:时间|是)"
_CLOCK = re.compile(_CLOCK_MARK)

# a line that labels its date as the publication time: 发布时间/发表于/日期:/Posted on, or an article meta
# line (`2004-12-10 阅读10544次`, `2005-04-27 14:32 来源：新华社`) that carries a view count, source or author
PUBLISHED_LABEL = re.compile(
    r"(?:发布|发表|公开|更新|发稿|出版|刊发)(?:日期|时间|于)|(?:日期|时间)\s*:|更新\s*(?:$|来源)"
    r"|(?:阅读|点击|浏览|访问)(?:数|量|次数|人次)?\s*(?::\s*\d|[(（]\s*\d|\d+\s*次)|(?:来源|作者)\s*:"
    r"|(?i:\b(?:posted|published)\b)")
# lines whose dates are something else: an index number, the date a document was written, a deadline,
# a birth, death or founding date
NOT_PUBLISHED = re.compile(r"索引号|成文|有效期|截止|实施日期|施行|出生|生于|逝世|去世|卒于|"
                           r"(?:成立|建置|设立|创建|创办|建立|注册|加入)(?:于|时间|日期)|" + _CLOCK_MARK)
# Where the article ends and the page's other lists begin: comment threads (whose 发表时间 is a
# reader's), related or topic lists, previous/next links. Dates after such a heading are not the page's.
_SECTION_HEAD = re.compile(
    r"^[\[【(（]?\s*(?:(?:相关|网友|读者|最新|热门|全部|精彩|发表|我要|查看)?(?:评论|留言|跟帖)"
    r"|(?:相关|延伸|推荐|热点|热门|更多)(?:文章|阅读|新闻|信息|专题|链接|稿件|推荐|报道)|专题信息)"
    r"(?:列表|区|板|推荐)?\s*(?:[:：\]】)）>»](?!\s*\d)|$)")
_PREV_NEXT = re.compile(r"^[\[【(（]?\s*(?:上一篇|下一篇|上一条|下一条|上篇|下篇)")
_PROSE = re.compile(r"[，。；！？]")


def before_sections(text: str) -> str:
    """`text` (the page below the article) up to the first comment, related-list or prev/next heading."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        folded = "".join(fold(line).split())
        if _PREV_NEXT.match(folded) or (len(folded) <= 30 and _SECTION_HEAD.match(folded)):
            return "\n".join(lines[:i])
    return text


def without_clock(text: str) -> str:
    """`text` without the date lines of a calendar widget: a line with a date that has, or sits next
    to a line that has, a 农历 / 今天是 / 当前时间 mark."""
    lines = text.split("\n")
    marked = [bool(_CLOCK.search(fold(line))) for line in lines]
    return "\n".join(line for i, line in enumerate(lines)
                     if not (any(marked[max(0, i - 1):i + 2]) and iter_dates(line)))


def labelled_date(text: str, last: bool) -> str | None:
    """A date on a line with a publication label (发布时间, 发表于, 日期:, …); the line nearest the body."""
    lines = text.split("\n")
    for line in reversed(lines) if last else lines:
        folded = fold(line)
        if not NOT_PUBLISHED.search(folded) and PUBLISHED_LABEL.search(folded):
            iso = parse_date(folded)
            if iso:
                return iso
    return None


def lead_text(page_text: str, body: str, limit: int = 600) -> str:
    """The page lines just above the body's first prose paragraph that the extractor left out: where a
    blog's `发表于 …` line sits when the extracted body also caught a sidebar above the post."""
    prose = next((line for line in body.split("\n") if len(line) >= 40 and _PROSE.search(line)), None)
    if prose is None:
        return ""
    at = page_text.find(prose[:30])
    if at <= 0:
        return ""
    kept = set(body.split("\n"))
    lead = page_text[max(0, at - limit):at].split("\n")[1:]
    return "\n".join(line for line in lead if line not in kept)


def unlabelled_date(line: str) -> str | None:
    """The first date of a line that is not a span's end nor a birth/founding/deadline date."""
    if NOT_PUBLISHED.search(fold(line)):
        return None
    found = iter_dates(line, skip_ranges=True)
    return found[0][1] if found else None


def heading_date(header: str, title: str | None, reach: int = 600) -> str | None:
    """The first date on a short line after the title heading, above the body: the date line under a
    news headline, found even when an infobox or notices stand between the headline and the body."""
    key = "".join(fold(title or "").split())
    if len(key) < 2:
        return None
    lines = header.split("\n")
    for i, line in enumerate(lines):
        if "".join(fold(line).split()) != key:
            continue
        size = 0
        for after in lines[i + 1:]:
            size += len(after) + 1
            if size > reach or "".join(fold(after).split()) == key:
                break
            iso = unlabelled_date(after) if len(after) <= 80 else None
            if iso:
                return iso
    return None
