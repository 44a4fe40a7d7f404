"""Site files: every shipped file validates; bad files are refused naming the file and the field."""
from __future__ import annotations

from pathlib import Path

import pytest

from settings.sites import SITES_DIR, SiteFileError, load_all, load_site, load_site_file
from tests.conftest import run_scrapy

GOOD = """
name = "测试门户"
allowed_domains = ["example.gov.cn"]
start_urls = ["http://example.gov.cn/col/index.html"]
[article]
url_pattern = '/\\d{6}/t\\d{8}_\\d+\\.html$'
"""


def test_every_shipped_site_file_is_valid() -> None:
    sites, errors = load_all(SITES_DIR)
    assert errors == []
    assert {s.slug for s in sites} >= {"demo", "zhongshan", "xiaolan", "ankang", "yixiu", "zhenjiang"}
    for site in sites:
        if site.slug != "demo":
            assert site.verified is False, f"{site.slug}: real portals stay unverified until checked live"


@pytest.mark.parametrize(("text", "expected"), [
    ("colour = 'red'\n" + GOOD, "colour: unknown key"),
    (GOOD.replace('start_urls = ["http://example.gov.cn/col/index.html"]\n', ""),
     "start_urls: required key missing"),
    (GOOD.replace("url_pattern = '/", "url_pattern = '(/"),
     "[article].url_pattern: invalid regular expression: missing )"),
    (GOOD + "[list]\nnext_page = '//a[@class='\n", "[list].next_page: invalid XPath"),
    (GOOD + "[list]\npagination = 'infinite'\n", "[list].pagination: Input should be"),
    (GOOD + "[list]\nmax_pages = 0\n", "[list].max_pages: Input should be greater than or equal to 1"),
    (GOOD + "[politeness]\nconcurrency = 8\n", "[politeness].concurrency: Input should be less than"),
    (GOOD + "[article]\nbody = 'x'\n", "not valid TOML"),
    (GOOD.replace('["http://example.gov.cn/col/index.html"]', '["not a url"]'),
     "start_urls.0: Input should be a valid URL"),
    ("slug = 'other'\n" + GOOD, "slug: not allowed"),
    ("name = 'x'\n[article]\nbody_xpath = '//div'\n", "[article].url_pattern: required key missing"),
])
def test_bad_site_file_names_file_and_field(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SiteFileError) as err:
        load_site_file(path)
    assert str(path) in str(err.value)
    assert expected in str(err.value)


def test_unknown_site_lists_the_known_ones() -> None:
    with pytest.raises(SiteFileError, match=r"no such site \(known: .*zhenjiang"):
        load_site("nowhere")


def test_sites_command_exits_1_on_any_bad_file(tmp_path: Path) -> None:
    (tmp_path / "good.toml").write_text(GOOD, encoding="utf-8")
    ok = run_scrapy(["sites"], {"SITES_DIR": str(tmp_path)})
    assert ok.returncode == 0, ok.stderr
    assert "good" in ok.stdout and "1 valid site file(s), 0 with errors" in ok.stderr
    (tmp_path / "broken.toml").write_text("extra = 1\n" + GOOD, encoding="utf-8")
    bad = run_scrapy(["sites"], {"SITES_DIR": str(tmp_path)})
    assert bad.returncode == 1
    assert "broken.toml: extra: unknown key" in bad.stderr


def test_crawl_with_bad_site_file_stops_with_the_error(tmp_path: Path) -> None:
    (tmp_path / "broken.toml").write_text("extra = 1\n" + GOOD, encoding="utf-8")
    proc = run_scrapy(["crawl", "portal", "-a", "site=broken"], {"SITES_DIR": str(tmp_path),
                                                                   "ARCHIVE_URI": tmp_path.as_uri()})
    assert proc.returncode != 0
    assert "broken.toml: extra: unknown key" in proc.stderr
