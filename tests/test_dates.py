import pytest

from pipelines.extraction.dates import date_from_url, iter_dates, parse_date

CASES = [
    ("2022年12月14日", "2022-12-14T00:00:00+08:00"),
    ("日期:2021-08-31 21:35:07 來源: 點擊:", "2021-08-31T21:35:07+08:00"),
    ("2004年7月16日08:19", "2004-07-16T08:19:00+08:00"),
    ("二〇二三年十二月五日", "2023-12-05T00:00:00+08:00"),
    ("二〇二〇年八月二十三日", "2020-08-23T00:00:00+08:00"),
    ("２０２２年１２月１４日 10:05", "2022-12-14T10:05:00+08:00"),
    ("2019-09-18 06:23", "2019-09-18T06:23:00+08:00"),
    ("2020年08月02日", "2020-08-02T00:00:00+08:00"),
    ("发布时间 2005/05/17 22:11:42", "2005-05-17T22:11:42+08:00"),
    ("2024-05-09T10:00:00Z", "2024-05-09T18:00:00+08:00"),
    ("2024-05-09T10:00:00+08:00", "2024-05-09T10:00:00+08:00"),
    ("索引号：11440100/2026-02-00018", None),
    ("2026-02-00018", None),
    ("2021-13-01", None),
    ("2021-02-30", None),
    ("1998-3", None),
    ("", None),
    # twelve-hour times: English AM/PM and the Traditional Windows locale's 上午/下午
    ("发表于2005年09月07日 11:57 AM", "2005-09-07T11:57:00+08:00"),
    ("2005-5-7 9:23 pm", "2005-05-07T21:23:00+08:00"),
    ("2005-05-07 12:05 AM", "2005-05-07T00:05:00+08:00"),
    ("2005-05-07 12:05 PM", "2005-05-07T12:05:00+08:00"),
    ("2008/5/7 下午 09:23:57", "2008-05-07T21:23:57+08:00"),
    ("2008/5/7 上午 12:05:00", "2008-05-07T00:05:00+08:00"),
    ("2008/5/7 下午15:00", "2008-05-07T15:00:00+08:00"),     # already 24-hour
    ("2024-05-20 14:33 PMI指数", "2024-05-20T14:33:00+08:00"),
    # year last, as ASP / .NET on an en-US Windows host writes it: month first unless it cannot be one
    ("发布日期： 9/17/2004 5:54:13 AM", "2004-09-17T05:54:13+08:00"),
    ("发布日期： 7/5/2005 9:23:57 PM", "2005-07-05T21:23:57+08:00"),
    ("17/9/2004", "2004-09-17T00:00:00+08:00"),
    ("13/13/2005", None),
    ("1/2/3/2005", None),
    ("http://example.org/12/05/2005/a.html", None),
    # English month names (2000s blog engines, RFC 822 stamps)
    ("Posted on September 7, 2005 11:57 AM", "2005-09-07T11:57:00+08:00"),
    ("Sep. 7th, 2005", "2005-09-07T00:00:00+08:00"),
    ("Wed, 07 Sep 2005 20:57:00 GMT", "2005-09-08T04:57:00+08:00"),
    ("JUNE 5, 2005", "2005-06-05T00:00:00+08:00"),
    ("Mayor 7, 2005", None),
    ("Dec 32, 2005", None),
    ("Nov 2005", None),
    # a time span is not a UTC offset: only an ISO `T` time or one with seconds takes an offset
    ("会议时间：2024年1月5日 22:30-23:30", "2024-01-05T22:30:00+08:00"),
    ("2024-01-05 10:30:00-11:30:00", "2024-01-05T10:30:00+08:00"),
    ("2024-01-05T10:30-05:00", "2024-01-05T23:30:00+08:00"),
    ("2016-05-25 10:10:19+0000", "2016-05-25T18:10:19+08:00"),
]


@pytest.mark.parametrize(("text", "iso"), CASES)
def test_parse_date(text: str, iso: str | None) -> None:
    assert parse_date(text) == iso


@pytest.mark.parametrize(("url", "iso"), [
    ("http://www.zs.gov.cn/zwgk/202212/t20221214_1.html", "2022-12-14T00:00:00+08:00"),
    ("http://www.zj.gov.cn/art/2022/12/4/art_1229_5.html", "2022-12-04T00:00:00+08:00"),
    ("http://www.gov.cn/zhengce/content/2023-12/01/content_1.htm", "2023-12-01T00:00:00+08:00"),
    ("http://health.people.com.cn/n1/2024/0517/c14739-40237861.html", "2024-05-17T00:00:00+08:00"),
    ("http://blog.donews.com/wangluting/archive/2005/09/07/543698.aspx", "2005-09-07T00:00:00+08:00"),
    ("http://www.example.org/news/2024/1/5/123.html", None),   # a one-digit month may be anything
    ("https://new.qq.com/rain/a/20240518A060RN00", "2024-05-18T00:00:00+08:00"),
    ("http://biz.163.com/05/0425/08/1I606VE600020QGP.html", "2005-04-25T00:00:00+08:00"),
    ("https://www.163.com/dy/article/J2PBDVUF0511A6N9.html", None),
    ("http://www.example.org/05/1325/08/1I606VE600020QGP.html", None),
    ("http://www.zs.gov.cn/zwgk/202212/index_1.html", None),
    ("http://www.zs.gov.cn/gkmlpt/content/2/2026/post_2026.html", None),
])
def test_date_from_url(url: str, iso: str | None) -> None:
    assert date_from_url(url) == iso


@pytest.mark.parametrize(("text", "kept"), [
    ("2014年至2015年9月10日", []),
    ("2004年12月11－12日", []),
    ("1976年4月25日[3]－）", []),
    ("2024-01-01~2024-01-31", []),
    ("2004-12-10 阅读10544次", ["2004-12-10T00:00:00+08:00"]),
    ("发布时间：2021-08-31 21:35:07 来源：市政府", ["2021-08-31T21:35:07+08:00"]),
])
def test_iter_dates_skips_span_ends(text: str, kept: list[str]) -> None:
    assert [iso for _, iso in iter_dates(text, skip_ranges=True)] == kept
    assert iter_dates(text)  # still dates when spans are wanted
