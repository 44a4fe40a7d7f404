from crawler.pagination import trs_next_page

BASE = "http://x.gov.cn/col/index.html"


def test_trs_first_page_points_to_index_1() -> None:
    html = '<script>createPageHTML(5, 0, "index", "html");</script>'
    assert trs_next_page(html, BASE) == "http://x.gov.cn/col/index_1.html"


def test_trs_variables_and_shtml_variant() -> None:
    html = "<script>var countPage = 3;var currentPage = 1;createPageHTML(countPage, currentPage, 'list', 'shtml')</script>"
    assert trs_next_page(html, "http://x.gov.cn/col/list_1.shtml") == "http://x.gov.cn/col/list_2.shtml"


def test_trs_last_page_and_absent_pager() -> None:
    assert trs_next_page('createPageHTML(3, 2, "index", "html")', BASE) is None
    assert trs_next_page("<p>no pager</p>", BASE) is None
    assert trs_next_page("createPageHTML(countPage, 0, 'index', 'html')", BASE) is None
