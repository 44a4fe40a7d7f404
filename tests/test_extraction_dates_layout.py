"""Choosing the publication date: the tags and stamps a page declares for machines, and, when no meta tag
or 信息公开 table gives it, the page layout: labelled meta lines, the date under the title heading, the lead
above the first paragraph, and the dates that must lose (comment threads, related lists, spans, birth and
founding dates, the header's calendar widget)."""
import pytest

from pipelines.extraction import extract_document
from pipelines.extraction.dates import iter_dates
from pipelines.extraction.meta import (
    before_sections,
    heading_date,
    labelled_date,
    lead_text,
    unlabelled_date,
    without_clock,
)

BODY = "".join(f"<p>第{i}段：全市上下要坚持问题导向，聚焦重点任务，推动各项工作落地见效，确保完成全年目标。</p>"
               for i in range(1, 4))


def page(above: str, below: str = "", title: str = "全市经济工作会议召开", head: str = "") -> str:
    return (f"<html><head><title>{title}_新闻中心</title>{head}</head><body><h1>{title}</h1>{above}"
            f'<div class="TRS_Editor">{BODY}</div>{below}</body></html>')


# --- a meta line: a date beside a view count, a source or an author is the article's -------------------

@pytest.mark.parametrize(("line", "iso"), [
    ("2004-12-10 阅读10544次", "2004-12-10T00:00:00+08:00"),
    ("2005-04-27 14:32 来源：新华社", "2005-04-27T14:32:00+08:00"),
    ("2019年3月2日 作者：李明 点击：(245)", "2019-03-02T00:00:00+08:00"),
    ("发布时间：2022年12月14日", "2022-12-14T00:00:00+08:00"),
    ("Posted by 王某 on September 7, 2005 11:57 AM", "2005-09-07T11:57:00+08:00"),
    ("第六届年会胜利闭幕(2006-12-19)[836]", None),   # a list item, no label
    ("索引号：11440100/2026-02-00018 来源：市政府", None),
])
def test_labelled_meta_lines(line: str, iso: str | None) -> None:
    assert labelled_date(line, last=True) == iso


def test_meta_line_above_body_beats_a_labelled_date_below_it() -> None:
    html = page("<div>2004-12-10 阅读10544次</div>", "<div>更新时间：2005-01-03 08:00</div>")
    assert extract_document(html, "http://example.org/news.asp?id=4173")["published_at"] == \
        "2004-12-10T00:00:00+08:00"


# --- comments, related lists and prev/next links end the article --------------------------------------

COMMENTS = ("<div>相关评论:</div><div>点这里发表评论</div><div>发表人：550</div>"
            "<div>发表时间：2004-12-11 9:51:00</div><div>怎样能看到论文全文？</div>")


def test_reader_comment_time_loses_to_the_date_under_the_title() -> None:
    doc = extract_document(page("<div>2004-12-10</div>", COMMENTS), "http://example.org/read.asp?id=1")
    assert doc["published_at"] == "2004-12-10T00:00:00+08:00"


@pytest.mark.parametrize("heading", ["相关文章", "相关新闻：", "网友评论", "【发表评论】", "专题信息:",
                                     "上一篇：某某会议召开 发布时间：2020-01-02"])
def test_sections_after_the_article_are_cut(heading: str) -> None:
    trailer = f"（完）\n{heading}\n发布时间：2020-01-02"
    assert before_sections(trailer) == "（完）"
    assert labelled_date(before_sections(trailer), last=False) is None


def test_blog_footer_with_comment_count_is_kept() -> None:
    below = ("<div>发表于 2005-09-15 11:46 | 评论(3) | 阅读(120)</div><div>发表评论：</div>"
             "<div>游客 发表于 2005-09-16 08:00</div>")
    doc = extract_document(page("", below, title="读书笔记"), "http://blog.example.org/more.asp?id=22546")
    assert doc["published_at"] == "2005-09-15T11:46:00+08:00"


def test_related_list_date_loses_to_the_url() -> None:
    below = ("<div>相关新闻</div><ul><li>发布时间：2019-01-05 另一篇报道</li>"
             "<li>发布时间：2018-11-30 又一篇报道</li></ul>")
    doc = extract_document(page("", below), "http://www.zs.gov.cn/zwgk/202212/t20221214_1.html")
    assert doc["published_at"] == "2022-12-14T00:00:00+08:00"


# --- the date under the title heading ----------------------------------------------------------------

INFOBOX = ("<table><tr><td>出生</td><td>(1976-04-25) 1976年4月25日</td></tr>"
           "<tr><td>经纪公司</td><td>某某娱乐（2014年至2015年9月10日）</td></tr></table>")


def test_first_date_under_the_heading_beats_infobox_dates_near_the_body() -> None:
    above = "<div>此条目需要补充更多来源。 (2020年4月17日)</div><div>请协助补充可靠来源。</div>" + INFOBOX
    doc = extract_document(page(above, title="金某某"), "https://zh.example.org/wiki/x")
    assert doc["published_at"] == "2020-04-17T00:00:00+08:00"


def test_birth_dates_and_span_ends_are_not_publication_dates() -> None:
    doc = extract_document(page(INFOBOX, title="金某某"), "https://zh.example.org/wiki/x")
    assert doc["published_at"] is None


def test_heading_date_reads_only_short_lines_after_the_heading() -> None:
    header = "2001-01-01 首页\n会议召开\n" + "很长的导语，" * 20 + "2003年3月3日\n2002年2月2日 来源：本站"
    assert heading_date(header, "会议召开") == "2002-02-02T00:00:00+08:00"
    assert heading_date(header, "另一个标题") is None
    assert heading_date("会议召开\n" + "x" * 700 + "\n2002-02-02", "会议召开") is None   # out of reach


@pytest.mark.parametrize(("line", "iso"), [
    ("2021-06-18 10:00", "2021-06-18T10:00:00+08:00"),
    ("出生 1976年4月25日", None),
    ("成立时间 2017年4月1日", None),
    ("建立于:2004年10月6日", None),
    ("某某娱乐（2014年至2015年9月10日）", None),
    ("（2004年12月11－12日，南开大学）", None),
    ("活动时间：2024年1月1日-2024年1月31日", None),
])
def test_unlabelled_date(line: str, iso: str | None) -> None:
    assert unlabelled_date(line) == iso


# --- the lead: lines just above the first paragraph that the extractor left out --------------------------

def test_lead_above_first_paragraph_holds_the_post_date() -> None:
    sidebar = "我的分类：古今战争、人生冷暖、往事如烟、开心一笑"
    prose = "长梦千年何日醒，睡乡谁遣警钟鸣？腥风血雨难为我，好个江山忍送人！万丈风潮大逼人。"
    page_text = "\n".join([sidebar, "建立于:2004年10月6日", "[文化]警世钟", "某人 发表于 2005-9-15 11:46:00",
                           prose, "结尾一段，到此为止。"])
    body = "\n".join([sidebar, prose, "结尾一段，到此为止。"])
    lead = lead_text(page_text, body)
    assert "发表于" in lead and sidebar not in lead
    assert labelled_date(lead, last=True) == "2005-09-15T11:46:00+08:00"


def test_lead_is_empty_without_a_prose_paragraph() -> None:
    assert lead_text("发表于 2005-9-15\n短行", "短行") == ""


def test_skip_ranges_keeps_single_dates() -> None:
    assert iter_dates("2024年1月1日至2024年1月31日", skip_ranges=True) == []
    assert len(iter_dates("2024年1月1日至2024年1月31日")) == 2
    assert iter_dates("（2020年4月17日）", skip_ranges=True) == [(1, "2020-04-17T00:00:00+08:00")]


@pytest.mark.parametrize("line", ["评论(0) | 阅读(12)", "评论：3", "评论员 张三", "留言须知请见本站说明全文"])
def test_counts_and_body_lines_do_not_end_the_article(line: str) -> None:
    trailer = f"{line}\n发布时间：2020-01-02"
    assert labelled_date(before_sections(trailer), last=False) == "2020-01-02T00:00:00+08:00"


# --- dates declared for machines -------------------------------------------------------------------------

URL = "http://www.example.org/news/show.asp?id=1"


@pytest.mark.parametrize("head", [
    '<meta property="og:time" content="2024-01-05 10:30:00">',                      # ifeng
    '<meta property="bytedance:published_time" content="2024-01-05T10:30:00+08:00">',  # toutiao
    '<meta property="weibo: article:create_at" content="2024-01-05 10:30:00">',      # space in the name
    '<meta name="citation_publication_date" content="2024/01/05 10:30">',
])
def test_date_tags_of_chinese_news_pages(head: str) -> None:
    doc = extract_document(page("<div>2023-12-31</div>", head=head), URL)
    assert doc["published_at"] == "2024-01-05T10:30:00+08:00"


def test_time_element_marked_as_published() -> None:
    above = '<div><time itemprop="datePublished" datetime="2024-01-05T02:30:00Z">1月5日</time></div>'
    assert extract_document(page(above), URL)["published_at"] == "2024-01-05T10:30:00+08:00"
    unmarked = '<div><time datetime="2024-01-05T02:30:00Z">1月5日</time></div>'
    assert extract_document(page(unmarked), URL)["published_at"] is None


def test_wechat_publish_time_comes_from_its_script_stamp() -> None:
    above = ('<div><em id="publish_time" class="rich_media_meta"></em></div>'
             '<script>/* @date 2022-02-21 */ var ct = "1659274471";</script>')
    assert extract_document(page(above), "https://mp.weixin.qq.com/s?__biz=x")["published_at"] == \
        "2022-07-31T21:34:31+08:00"


JSON_LD = '<script type="application/ld+json">{"@type":"Article","datePublished":"2011-06-17T11:26:10Z"}</script>'
SINA_STAMP = "<!--[112,3,114366] published at 2004-10-13 14:01:37 from #009 by system-->\n"


@pytest.mark.parametrize(("above", "iso"), [
    ("", "2011-06-17T19:26:10+08:00"),                                   # shows no date: declared one
    ("<div>本条目需要补充来源。 (2020年4月17日)</div>", "2020-04-17T00:00:00+08:00"),  # the shown date wins
])
def test_json_ld_date_only_when_the_page_shows_none(above: str, iso: str) -> None:
    assert extract_document(page(above, head=JSON_LD), "https://zh.example.org/wiki/x")["published_at"] == iso


def test_sina_build_stamp_only_when_the_page_shows_none() -> None:
    assert extract_document(SINA_STAMP + page(""), URL)["published_at"] == "2004-10-13T14:01:37+08:00"
    shown = SINA_STAMP + page("<div>2004年10月10日 17:06 来源：新浪读书</div>")
    assert extract_document(shown, URL)["published_at"] == "2004-10-10T17:06:00+08:00"


# --- en-US dates on old ASP sites ---------------------------------------------------------------------

def test_asp_page_with_an_english_locale_date() -> None:
    above = ('<div><font>作者： \n size="20" \n&nbsp;&nbsp;来源： \n size="20" \n&nbsp;&nbsp;发布日期： \n'
             " 9/17/2004 5:54:13 AM</font></div>")
    doc = extract_document(page(above), "http://example.org/details.asp?detailsid=675")
    assert doc["published_at"] == "2004-09-17T05:54:13+08:00"


# --- the header's calendar widget shows the day of the visit ---------------------------------------------

CLOCKS = ["<div>今天是：2024年5月28日 星期二</div>",
          "<ul><li>2024年05月28日</li><li>农历：甲辰年 四月 廿一</li></ul>",
          "<div>当前时间：2024-05-28 09:00</div>"]


@pytest.mark.parametrize("clock", CLOCKS)
def test_calendar_widget_is_not_the_publication_date(clock: str) -> None:
    html = page("", title="古文一篇").replace("<body>", "<body>" + clock)
    assert extract_document(html, "https://example.org/proses/21337")["published_at"] is None
    dated = page("<div>2021-06-18 10:00</div>", title="古文一篇").replace("<body>", "<body>" + clock)
    assert extract_document(dated, "https://example.org/proses/21337")["published_at"] == \
        "2021-06-18T10:00:00+08:00"


def test_without_clock_keeps_other_lines() -> None:
    text = "首页\n2024年05月28日\n农历：四月廿一\n会议召开\n2021-06-18 来源：本站"
    assert without_clock(text) == "首页\n农历：四月廿一\n会议召开\n2021-06-18 来源：本站"
