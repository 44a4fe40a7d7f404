"""The downloader middlewares of crawler/middlewares.py: meta refreshes still redirect, and a page
that cannot hold one is passed on undecoded."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.settings import Settings
from scrapy.utils.response import get_meta_refresh
from scrapy.utils.test import get_crawler

from crawler.middlewares import MetaRefreshMiddleware, may_declare_refresh

URL = "http://www.example.gov.cn/zwgk/a.html"


def _middleware() -> MetaRefreshMiddleware:
    crawler = get_crawler(settings_dict={"METAREFRESH_ENABLED": True})
    return MetaRefreshMiddleware.from_crawler(crawler)


def _page(text: str, encoding: str, bom: bytes = b"") -> HtmlResponse:
    return HtmlResponse(URL, body=bom + text.encode(encoding), encoding=encoding,
                        request=Request(URL))


def test_the_project_settings_use_this_meta_refresh_in_place_of_scrapys() -> None:
    import settings.base as base

    middlewares = Settings(vars(base)).getdict("DOWNLOADER_MIDDLEWARES")
    assert middlewares["scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware"] is None
    # after the encoding decision (a lower number sees the response later)
    assert middlewares["crawler.middlewares.MetaRefreshMiddleware"] < \
        middlewares["crawler.middlewares.EncodingDecisionMiddleware"]


def test_a_meta_refresh_still_redirects_in_any_case_and_codec() -> None:
    middleware = _middleware()
    for text, encoding, bom in [
        ('<html><head><meta http-equiv="Refresh" content="0; url=/b.html"></head>正文</html>', "gbk", b""),
        ('<html><head><META HTTP-EQUIV="REFRESH" CONTENT="1;URL=/b.html"></head></html>', "utf-8", b""),
        ('<html><head><meta http-equiv="refresh" content="0; url=/b.html"></head></html>', "utf-16-le",
         b"\xff\xfe"),
    ]:
        out = middleware.process_response(Request(URL), _page(text, encoding, bom))
        assert isinstance(out, Request), (encoding, text)
        assert out.url == "http://www.example.gov.cn/b.html"


def test_a_page_without_refresh_is_passed_on_undecoded() -> None:
    middleware = _middleware()
    page = _page("<html><head><title>通知</title></head><body>" + "正文。" * 20000 + "</body></html>",
                 "gb18030")
    assert not may_declare_refresh(page)
    assert middleware.process_response(Request(URL), page) is page
    # a refresh past the first 4096 characters is not one for Scrapy either
    late = _page("正" * 4100 + '<meta http-equiv="refresh" content="0; url=/b.html">', "utf-8")
    assert middleware.process_response(Request(URL), late) is late


_PART = st.one_of(st.sampled_from(["refresh", "REFRESH", "Refresh", "efresh", "r", " "]),
                  st.text(st.one_of(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
                                    st.characters(min_codepoint=0x20, max_codepoint=0x7E)),
                          max_size=12))


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(_PART, max_size=8), pad=st.integers(0, 5000),
       codec=st.sampled_from(["gb18030", "gbk", "big5", "utf-8", "utf-8-sig", "utf-16", "hz",
                              "euc_jp", "cp1252"]))
def test_the_byte_test_never_hides_a_refresh_scrapy_would_read(parts: list[str], pad: int,
                                                              codec: str) -> None:
    text = "中" * pad + "".join(parts)
    try:
        body = text.encode(codec)
    except UnicodeEncodeError:
        return
    response = HtmlResponse(URL, body=body, encoding=codec)
    if "refresh" in response.text[:4096].lower():
        assert may_declare_refresh(response)
    if get_meta_refresh(response) != (None, None):
        assert may_declare_refresh(response)
