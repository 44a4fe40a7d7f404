"""Challenge and shell signatures, on recorded-style bodies (status, headers, body)."""
from __future__ import annotations

import pytest

from crawler.challenges import detect, detect_in_dom, is_browser_user_agent

BOT = "govarchive/0.1 (public-records archiver)"
CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
HTML = [("Content-Type", "text/html; charset=utf-8")]

RUISHU_412 = b"""<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<meta id="9DhefwqGPrzGxEp9hPaoag" content="KsbHwO0d8XbpVJ2nBqTQ1EVXmOQ" r='m'>
<script type="text/javascript" r='m'>$_ts=window['$_ts'];if(!$_ts)$_ts=window['$_ts']={};$_ts.nsd=64138;$_ts.cd="qyrbrrAlDkqqrGlqx";</script>
<script type="text/javascript" charset="utf-8" src="/4QbVtADbnLVI/c.FxJzG50F.dfe1675.js" r='m'></script>
</head><body></body></html>"""
JSL_521 = (b"<script>document.cookie=('_')+('_')+('j')+('s')+('l')+('_')+('c')+('l')+('e')+('a')+('r')"
           b"+('a')+('n')+('c')+('e')+('_')+('s')+('=')+(-~[]+'')+';max-age=3600;path=/';"
           b"location.href=location.pathname+location.search</script>")
JSL_200_CLEARANCE = (b"<html><body><script>document.cookie='__jsl_clearance=1700000000.123|0|abc';"
                     b"location.reload()</script></body></html>")
WAF_403 = ("<html><head><title>网站防火墙</title></head><body><h1>您的请求带有不合法参数，"
           "已被网站管理员设置拦截！</h1><p>可能原因：您提交的内容包含危险的攻击请求</p></body></html>").encode()
SHELL = (b'<!DOCTYPE html><html><head><meta charset="utf-8"><title>x</title>'
         b'<script src="/static/js/app.3f2a.js"></script></head><body>'
         b"<noscript>We're sorry but this site doesn't work properly without JavaScript enabled.</noscript>"
         b'<div id="app"></div></body></html>')
ARTICLE = ("<html><head><title>关于做好冬季安全生产工作的通知</title></head><body><div class='TRS_Editor'>"
           + "<p>各区人民政府，市政府各部门：为切实做好冬季安全生产工作，现就有关事项通知如下。</p>" * 20
           + "</div><script>var $_tsx = 1; document.cookie='pv=1';</script></body></html>").encode()


@pytest.mark.parametrize(("status", "headers", "body", "ua", "kind"), [
    pytest.param(412, HTML, RUISHU_412, BOT, "ruishu", id="ruishu-412"),
    pytest.param(202, HTML, RUISHU_412, BOT, "ruishu", id="ruishu-202"),
    pytest.param(200, HTML, RUISHU_412, CHROME, "ruishu", id="ruishu-200-no-text"),
    pytest.param(412, HTML, b"<html><meta content='x' r='m'></html>", BOT, "ruishu", id="ruishu-meta"),
    pytest.param(521, [*HTML, ("Set-Cookie", "__jsluid_h=ab12; max-age=31536000; path=/")], JSL_521, BOT,
                 "jsl", id="jsl-521"),
    pytest.param(200, HTML, JSL_200_CLEARANCE, BOT, "jsl", id="jsl-200-clearance-script"),
    pytest.param(302, [("Location", "/col/col1/index.html"), ("Set-Cookie", "waf=1; path=/")], b"", BOT,
                 "cookie_redirect", id="302-to-itself-with-cookie"),
    pytest.param(403, HTML, WAF_403, CHROME, "waf", id="waf-403"),
    pytest.param(403, HTML, b"<html><body>Forbidden</body></html>", BOT, "forbidden", id="403-bot-ua"),
    pytest.param(200, HTML, SHELL, BOT, "js_shell", id="spa-shell"),
])
def test_detects(status: int, headers: list[tuple[str, str]], body: bytes, ua: str, kind: str) -> None:
    found = detect(status, headers, body, "http://www.example.gov.cn/col/col1/index.html", ua)
    assert found is not None and found.kind == kind, found


@pytest.mark.parametrize(("status", "headers", "body", "ua"), [
    pytest.param(200, HTML, ARTICLE, BOT, id="article-with-scripts"),
    pytest.param(302, [("Location", "/other.html"), ("Set-Cookie", "a=1")], b"", BOT, id="302-elsewhere"),
    pytest.param(302, [("Location", "/col/col1/index.html")], b"", BOT, id="302-to-itself-no-cookie"),
    pytest.param(403, HTML, b"<html>Forbidden</html>", CHROME, id="403-to-a-browser"),
    pytest.param(404, HTML, b"<html>not found</html>", BOT, id="404"),
    pytest.param(521, HTML, b"<html>Web server is down (cloudflare)</html>", BOT, id="521-not-jsl"),
])
def test_ordinary_pages_are_not_challenges(status: int, headers: list[tuple[str, str]], body: bytes,
                                           ua: str) -> None:
    assert detect(status, headers, body, "http://www.example.gov.cn/col/col1/index.html", ua) is None


def test_dom_checks() -> None:
    assert detect_in_dom(RUISHU_412.decode()).kind == "ruishu"  # type: ignore[union-attr]
    assert detect_in_dom(JSL_200_CLEARANCE.decode()).kind == "jsl"  # type: ignore[union-attr]
    assert detect_in_dom(ARTICLE.decode()) is None


def test_browser_user_agent() -> None:
    assert is_browser_user_agent(CHROME)
    assert not is_browser_user_agent(BOT)
    assert not is_browser_user_agent(None)
