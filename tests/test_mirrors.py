"""Traditional gateway mirrors: canonical Simplified URLs, and the Simplified form of a text."""
from __future__ import annotations

import pytest

from pipelines.decoding.mirrors import canonical_mirror_url, is_traditional, to_simplified


@pytest.mark.parametrize(("url", "canonical", "variant"), [
    ("http://www.gd.gov.cn/gate/big5/www.zs.gov.cn/zwgk/index.html?p=2",
     "http://www.zs.gov.cn/zwgk/index.html?p=2", "big5-gateway"),
    ("https://www.anqing.gov.cn/gate/big5/www.yixiu.gov.cn/content/detail/612.html",
     "http://www.yixiu.gov.cn/content/detail/612.html", "big5-gateway"),
    ("http://www.zs.gov.cn/gate/big5/WWW.XIAOLAN.GOV.CN", "http://www.xiaolan.gov.cn/", "big5-gateway"),
    ("http://portal.gov.cn/gate/gb/www.zj.gov.cn:8080/a/b.shtml", "http://www.zj.gov.cn:8080/a/b.shtml",
     "gb-gateway"),
    ("https://big5.zs.gov.cn/zwgk/t20221214_1.html?x=1#top", "https://zs.gov.cn/zwgk/t20221214_1.html?x=1",
     "big5-host"),
    ("http://big5.www.gov.cn:8080/zhengce/", "http://www.gov.cn:8080/zhengce/", "big5-host"),
])
def test_mirror_urls_map_to_the_simplified_page(url: str, canonical: str, variant: str) -> None:
    assert canonical_mirror_url(url) == (canonical, variant)


@pytest.mark.parametrize("url", [
    "http://www.zs.gov.cn/zwgk/index.html",
    "http://www.zs.gov.cn/gate/big5/",  # no host after the gateway prefix
    "http://www.zs.gov.cn/gates/big5/www.x.gov.cn/",
    "http://big5.cn/",  # a bare two-label host is not a mirror of anything
    "not a url",
    "http://[::1/broken",
])
def test_other_urls_come_back_unchanged(url: str) -> None:
    assert canonical_mirror_url(url) == (url, None)


def test_traditional_text_gets_a_simplified_form() -> None:
    assert to_simplified("鎮江市項目攻堅暨產業強市大會召開") == "镇江市项目攻坚暨产业强市大会召开"
    assert is_traditional("鎮江市項目攻堅")


@pytest.mark.parametrize("text", ["镇江市项目攻坚暨产业强市大会召开", "乾隆年间的干部", "GDP 2021", ""])
def test_simplified_text_is_returned_unchanged(text: str) -> None:
    assert to_simplified(text) == text
