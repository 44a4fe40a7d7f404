"""Chinese portal dates to ISO 8601 in Beijing time.

Handles `2022年12月14日`, `2021-08-31 21:35:07`, `2004年7月16日08:19`, `2020/4/17`, full-width digits,
Chinese numerals (`二〇二三年十二月五日`) and ISO strings with an offset. A 索引号 such as
`2026-02-00018` is never a date: the day may not run on into more digits, and month and day must exist.

English month names are read too (`September 7, 2005 11:57 AM`, `Wed, 07 Sep 2005`), as 2000s blog
engines write them. Twelve-hour times are made 24-hour: `9:23:57 PM`, `下午 09:23:57` (the Traditional
Windows locale). A UTC offset counts only after an ISO `T` or seconds: `10:30-11:30` is a span of time.
Year-last dates with slashes are read the way the servers that write them mean them: `9/17/2004 5:54:13
AM` is the default date of ASP / .NET on an English-locale (en-US) Windows host, month first, which many
old Chinese ASP sites show as their 发布日期. A first number over 12 can only be a day (`17/9/2004`); when
both could be a month, month first is taken, as en-US writes it.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta, timezone

BEIJING = timezone(timedelta(hours=8))

_SEP = r"\s*[-/.年]\s*"
# the time after a date: `10:30`, `08时19分`, `T10:00:00Z`, `下午 09:23:57`, `9:23:57 PM`
# (an offset counts only after an ISO `T` or seconds, so that `10:30-11:30` stays a span of time)
_TIME = (r"(?:\s*(?:(?P<iso>T)|\s)?\s*(?P<half>上午|下午|晚上|凌晨|早上)?\s*(?P<H>\d{1,2})\s*[:：时]\s*"
         r"(?P<M>\d{1,2})(?:\s*[:：分]\s*(?P<S>\d{1,2}))?(?:\s*秒)?(?:\.\d+)?"
         r"(?P<tz>Z|[+-]\d{2}:?\d{2}(?![:\d])|\s?(?:GMT|UTC)(?![A-Za-z]))?"
         r"(?:\s*(?P<ampm>[AaPp])\.?[Mm]\.?(?![A-Za-z]))?)?(?![\d])")
_DATE = re.compile(
    r"(?<![\d.-])(?P<y>(?:19|20)\d{2})" + _SEP + r"(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})(?![\d])\s*日?"
    + _TIME
)
# `9/17/2004 5:54:13 AM`, `7/5/2005`: month (or day) and day first, slashes only, a four-digit year last
_YEAR_LAST = re.compile(r"(?<![\d/.:-])(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?P<y>(?:19|20)\d{2})(?![\d/])" + _TIME)
# English month names, as blog engines of the 2000s (MovableType, .Text) and RFC 822 stamps write them:
# `September 7, 2005 11:57 AM`, `Sep. 7th, 2005`, `Wed, 07 Sep 2005 11:57:00`
_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MON = (r"(?<![A-Za-z])(?P<mon>Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
        r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?(?![A-Za-z])")
_DAY = r"(?P<d>\d{1,2})(?:st|nd|rd|th)?(?![\d:])"
_YEAR = r"(?P<y>(?:19|20)\d{2})(?![\d])"
_EN_DATES = (re.compile(_MON + r"\s*" + _DAY + r"\s*,?\s*" + _YEAR + _TIME, re.I),
             re.compile(r"(?<![\d])" + _DAY + r"\s*" + _MON + r",?\s*" + _YEAR + _TIME, re.I))
_PM_HALVES = ("下午", "晚上")
_AM_HALVES = ("上午", "凌晨", "早上")
_CN_DIGITS = {"\u3007": 0, "○": 0, "零": 0, "\uff2f": 0, "O": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}
_CN_DATE = re.compile(r"(?P<y>[\u3007○零一二三四五六七八九]{4})年(?P<m>[一二三四五六七八九十]{1,3})月"
                      r"(?P<d>[一二三四五六七八九十]{1,3})日")
_COMPACT = re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})(?P<m>[01]\d)(?P<d>[0-3]\d)(?!\d)")
# A span of time, matched on NFKC text (full-width dashes and brackets are ASCII there): `…日至…`,
# `…日-12日`, `…日[3]-)` after a date; `2014年至`, `1日-` before one.
_RANGE_DASH = r"(?:至|到|~|-|\u2013|\u2014)"
_RANGE_AFTER = re.compile(r"\s*(?:\[\d+\])?\s*" + _RANGE_DASH + r"\s*(?:\d|今|\)|[一二三四五六七八九十〇○])")
_RANGE_BEFORE = re.compile(r"(?:\d\s*[年月日号]?|今)\s*" + _RANGE_DASH + r"\s*$")
_URL_DATES = tuple(re.compile(p) for p in (
    r"/t((?:19|20)\d{2})(\d{2})(\d{2})_\d",          # TRS: /202212/t20221214_123.html
    r"/art/((?:19|20)\d{2})/(\d{1,2})/(\d{1,2})/",   # Hanweb: /art/2022/12/14/art_1_2.html
    r"/((?:19|20)\d{2})-(\d{2})[-/](\d{2})/",          # /2024-05/13/content_1.htm, /2016-05-25/doc-…
    r"/((?:19|20)\d{2})(\d{2})/?(\d{2})/",            # /20240509/…, /202405/09/…
    r"/((?:19|20)\d{2})/(\d{2})(\d{2})/",             # /2024/0517/c1-2.html
    r"/(?:cols|content)/((?:19|20)\d{2})/(\d{1,2})/(\d{1,2})/",
    r"/((?:19|20)\d{2})/(\d{2})/(\d{2})/",            # /archive/2005/09/07/543698.aspx
    r"/a/((?:19|20)\d{2})(\d{2})(\d{2})[A-Z]\w{6,}",    # Tencent: /rain/a/20240518A060RN00
    r"/(\d{2})/(\d{2})(\d{2})/\d{2}/[0-9A-Z]{16}\.html",   # NetEase: /05/0425/08/1I606VE600020QGP.html
))


def _cn_number(s: str) -> int:
    """Chinese numeral up to 99: 五 / 十 / 十二 / 二十 / 三十一."""
    if "十" not in s:
        return _CN_DIGITS.get(s, -1) if len(s) == 1 else -1
    tens, _, units = s.partition("十")
    t = _CN_DIGITS.get(tens, -1) if tens else 1
    u = _CN_DIGITS.get(units, -1) if units else 0
    return -1 if t < 0 or u < 0 else t * 10 + u


def _iso(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> str | None:
    try:
        return datetime(y, m, d, hh, mm, ss, tzinfo=BEIJING).isoformat()
    except ValueError:
        return None


def _from_match(m: re.Match[str], y: int, mo: int, d: int) -> str | None:
    if m["H"] is None:
        return _iso(y, mo, d)
    hh, mi, ss = int(m["H"]), int(m["M"]), int(m["S"] or 0)
    half = m["half"] or (m["ampm"] or "").upper()
    # only 1-12 are twelve-hour; `下午15:00` is already a 24-hour time
    if half in ("P", *_PM_HALVES) and hh < 12:
        hh += 12
    elif half in ("A", *_AM_HALVES) and hh == 12:
        hh = 0
    if hh > 23 or mi > 59 or ss > 59:
        return _iso(y, mo, d)
    tz = (m["tz"] or "").strip()
    if tz[:1] in ("+", "-") and not (m["iso"] or m["S"]):
        tz = ""  # `10:30-11:30`: a span, not an offset
    if tz and tz not in ("+08:00", "+0800"):
        try:
            stamp = datetime(y, mo, d, hh, mi, ss, tzinfo=_offset(tz))
        except ValueError:
            return None
        return stamp.astimezone(BEIJING).isoformat()
    return _iso(y, mo, d, hh, mi, ss)


def _offset(tz: str) -> timezone:
    if tz in ("Z", "GMT", "UTC"):
        return UTC
    sign = -1 if tz[0] == "-" else 1
    digits = tz[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def _in_range(text: str, start: int, end: int) -> bool:
    """The date at text[start:end] is one end of a span (`2014年至2015年9月10日`, `12月11－12日`,
    `1976年4月25日－）`): the start or end of something, not the day a page was published."""
    return bool(_RANGE_AFTER.match(text, end) or _RANGE_BEFORE.search(text[max(0, start - 16):start]))


def iter_dates(text: str, skip_ranges: bool = False) -> list[tuple[int, str]]:
    """Every date in `text` as (position, ISO string), in order of appearance; with `skip_ranges`, not
    the dates that open or close a span of time."""
    text = unicodedata.normalize("NFKC", text)
    found: list[tuple[int, str]] = []
    for m in _DATE.finditer(text):
        iso = _from_match(m, int(m["y"]), int(m["m"]), int(m["d"]))
        if iso and not (skip_ranges and _in_range(text, m.start(), m.end())):
            found.append((m.start(), iso))
    for m in _YEAR_LAST.finditer(text):
        a, b = int(m["a"]), int(m["b"])
        month, day = (b, a) if a > 12 else (a, b)
        iso = _from_match(m, int(m["y"]), month, day)
        if iso and not (skip_ranges and _in_range(text, m.start(), m.end())):
            found.append((m.start(), iso))
    for pattern in _EN_DATES:
        for m in pattern.finditer(text):
            month = _MONTH_NAMES.index(m["mon"][:3].lower()) + 1
            iso = _from_match(m, int(m["y"]), month, int(m["d"]))
            if iso and not (skip_ranges and _in_range(text, m.start(), m.end())):
                found.append((m.start(), iso))
    for m in _CN_DATE.finditer(text):
        y = "".join(str(_CN_DIGITS[c]) for c in m["y"])
        iso = _iso(int(y), _cn_number(m["m"]), _cn_number(m["d"]))
        if iso and not (skip_ranges and _in_range(text, m.start(), m.end())):
            found.append((m.start(), iso))
    found.sort()
    return found


def parse_date(text: str | None) -> str | None:
    """The first date in `text` as `YYYY-MM-DDTHH:MM:SS+08:00`, or None."""
    if not text:
        return None
    found = iter_dates(text)
    if found:
        return found[0][1]
    m = _COMPACT.search(unicodedata.normalize("NFKC", text))
    return _iso(int(m["y"]), int(m["m"]), int(m["d"])) if m else None


def date_from_url(url: str) -> str | None:
    """Dates encoded in article paths: `/202212/t20221214_1.html`, `/2024-05/13/`, `/art/2022/12/14/`,
    `/2005/09/07/`, Tencent's `/a/20240518A060RN00`, NetEase's `/05/0425/08/<16-character id>.html`
    (used when no tag, table or labelled line gives a date)."""
    for pattern in _URL_DATES:
        m = pattern.search(url or "")
        if m:
            year = int(m[1])
            iso = _iso(year if year >= 100 else 2000 + year, int(m[2]), int(m[3]))  # NetEase: `/05/`
            if iso:
                return iso
    return None
