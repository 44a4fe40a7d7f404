"""Hanweb dataproxy.jsp answers and column pages parsed without a browser."""
from __future__ import annotations

from crawler.hanweb import column_id, dataproxy_request_args, parse_datastore, record_links
from settings.sites import Hanweb

ANSWER = """<?xml version="1.0" encoding="UTF-8"?>
<datastore><nextgroup><![CDATA[<a href="/module/web/jpage/dataproxy.jsp?page=1"></a>]]></nextgroup>
<recordset>
<record><![CDATA[
<li><a href="/art/2026/11/20/art_7224_3061234.html" target="_blank" title="镇江召开全市经济工作会议">镇江召开全市经济工作会议</a><span>2026-11-20</span></li>
]]></record>
<record><![CDATA[<li><a href='http://www.zhenjiang.gov.cn/art/2026/11/19/art_7224_3061200.html'>市政府常务会议</a></li>]]></record>
<record><![CDATA[<li><a href="javascript:void(0)">无链接</a></li>]]></record>
<record><![CDATA[]]></record>
</recordset>
<totalrecord>812</totalrecord><totalpage>55</totalpage></datastore>"""

COLUMN_PAGE = """<html><body><div id="39520"><script type="text/xml"><datastore>
<nextgroup><![CDATA[<a href="/module/web/jpage/dataproxy.jsp?page=1&webid=1&path=/&columnid=7224&unitid=39520&webname=x&permissiontype=0"></a>]]></nextgroup>
<recordset><record><![CDATA[<li><a href="/art/2026/11/21/art_7224_3061300.html">第一条</a></li>]]></record></recordset>
</datastore></script></div></body></html>"""


def test_parse_answer() -> None:
    store = parse_datastore(ANSWER)
    assert store.total == 812
    assert len(store.records) == 4
    assert record_links(store.records, "http://www.zhenjiang.gov.cn/col/col7224/index.html") == [
        "http://www.zhenjiang.gov.cn/art/2026/11/20/art_7224_3061234.html",
        "http://www.zhenjiang.gov.cn/art/2026/11/19/art_7224_3061200.html",
    ]


def test_parse_embedded_first_records() -> None:
    store = parse_datastore(COLUMN_PAGE)
    assert store.total is None
    assert record_links(store.records, "http://www.zhenjiang.gov.cn/col/col7224/index.html") == [
        "http://www.zhenjiang.gov.cn/art/2026/11/21/art_7224_3061300.html"]


def test_request_args() -> None:
    config = Hanweb(params={"col": "1", "appid": "1", "webid": "1", "path": "/",
                            "sourceContentType": "1", "permissiontype": "0"},
                    column_params={"7224": {"unitid": "39520"}})
    assert column_id("http://www.zhenjiang.gov.cn/col/col7224/index.html") == "7224"
    url, form = dataproxy_request_args(config, "http://www.zhenjiang.gov.cn/col/col7224/index.html",
                                       "7224", 46)
    assert url == ("http://www.zhenjiang.gov.cn/module/web/jpage/dataproxy.jsp"
                   "?startrecord=46&endrecord=90&perpage=15")
    assert form["columnid"] == "7224" and form["unitid"] == "39520" and form["webid"] == "1"
