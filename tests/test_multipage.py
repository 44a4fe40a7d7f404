"""Multi-page articles (issue 4): the pages an article announces are found, fetched, archived each as
its own capture, and their text merged in page order into the first page's document."""
from __future__ import annotations

import signal
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scrapy.http import HtmlResponse

from crawler.multipage import _mentions, announced
from crawler.pagination import article_pages
from demo.portal import Article, DemoPortal
from pipelines.extraction.evaluate import load_corpus
from pipelines.extraction.multipage import merge_documents
from pipelines.storage import open_store
from pipelines.storage.archive import Archive
from tests.conftest import Portal, crawl, run_scrapy, scrapy_in_background, served_portal

BASE = "http://www.example.gov.cn/zwgk/202401/"
PAGES = Path(__file__).resolve().parent / "fixtures" / "pages"
PAGER_CHROME = ("上一页", "下一页", "createPageHTML", "共3页", "countPage")


# -- which pages an article announces ----------------------------------------------------------------
@pytest.mark.parametrize(("html", "url", "links", "want", "current"), [
    # TRS: createPageHTML with the article's own stem; literal numbers or variables
    ('<script>createPageHTML(3, 0, "t20240101_123", "html");</script>', "t20240101_123.html", [],
     ["t20240101_123.html", "t20240101_123_1.html", "t20240101_123_2.html"], 0),
    ('<script>var countPage = 2; var currentPage = 1;\ncreatePageHTML(countPage, currentPage, '
     '"t20240101_9", "shtml");</script>', "t20240101_9_1.shtml", [],
     ["t20240101_9.shtml", "t20240101_9_1.shtml"], 1),
    # a list widget's pagination inside an article page is not the article's
    ('<script>createPageHTML(5, 0, "index", "html");</script>', "t20240101_123.html", [], None, 0),
    ('<script>createPageHTML(1, 0, "t20240101_123", "html");</script>', "t20240101_123.html", [],
     None, 0),
    # a broken template's absurd count (it would build that many URLs): a single page
    ('<script>createPageHTML(99999999999, 0, "t20240101_123", "html");</script>',
     "t20240101_123.html", [], None, 0),
    # pager hrefs that do not parse are passed by
    ("", "art_55.html", [("http://[::1/art_55_2.html", "2"), ("art_55_2.html", "2")],
     ["art_55.html", "art_55_2.html"], 0),
    # pager links: every number from the lowest to the highest linked (a window of numbers + 尾页)
    ("", "art_55.html", [("art_55_2.html", "2"), ("art_55_3.html", " 3 "), ("art_55_6.html", "尾页"),
                         ("art_55_2.html", "下一页")],
     ["art_55.html", "art_55_2.html", "art_55_3.html", "art_55_4.html", "art_55_5.html",
      "art_55_6.html"], 0),
    # …_1 numbering, read from a later page that links back to the first
    ("", "c_7_2.htm", [("c_7.htm", "首页"), ("c_7_1.htm", "上一页")],
     ["c_7.htm", "c_7_1.htm", "c_7_2.htm"], 2),
    # neighbours of the same day are articles, not pages: link text is a title, or no link back
    ("", "t20240101_123.html", [("t20240101_124.html", "下一篇：关于……的通知"),
                                ("t20240101_123_9.html", "市政府召开常务会议")], None, 0),
    ("", "t20240101_123.html", [("t20240101_124.html", "2")], None, 0),
    # another folder or host is not a page of this article
    ("", "a_1.html", [("/other/a_1_2.html", "2"), ("http://elsewhere.cn/zwgk/202401/a_1_2.html", "2")],
     None, 0),
])
def test_article_pages(html: str, url: str, links: list[tuple[str, str]], want: list[str] | None,
                       current: int) -> None:
    found = article_pages(html, BASE + url, [(href, text) for href, text in links])
    if want is None:
        assert found is None
    else:
        assert found is not None
        assert found.urls == [BASE + u for u in want]
        assert found.current == current


def test_corpus_multipage_articles_are_found_from_any_of_their_pages() -> None:
    """The whole multi-page articles of the extraction corpus (both pager styles) are what the spider
    finds from each of their pages (the corpus gate scores their merged text), and their single
    pages are not."""
    corpus = load_corpus(PAGES)
    whole = [p for p in corpus if p.parts]
    assert {page.label["family"] for page in whole} >= {"TRS multi-page (whole)",
                                                        "small CMS multi-page (pager links)"}
    for page in whole:
        urls = [page.label["url"], *(url for url, _ in page.parts)]
        for current, (url, html) in enumerate(zip(urls, [page.html, *(h for _, h in page.parts)],
                                                  strict=True)):
            found = announced(HtmlResponse(url, body=html.encode(), encoding="utf-8"))
            assert found is not None and (found.urls, found.current) == (urls, current), url
    for page in corpus:
        if not page.parts and page.label.get("url") and "multipage" not in page.id:
            response = HtmlResponse(page.label["url"], body=page.html.encode(), encoding="utf-8")
            assert announced(response) is None, page.id


def test_merge_documents_keeps_first_page_metadata_and_page_order() -> None:
    first = {"title": "标题", "published_at": "2024-01-01T00:00:00+08:00", "text": "第一页正文",
             "attachments": [{"name": "附件1", "url": "http://h/a.pdf"}], "repairs": []}
    second = {"title": "标题（2）", "published_at": None, "text": "第二页正文",
              "attachments": [{"name": "附件1", "url": "http://h/a.pdf"},
                              {"name": "附件2", "url": "http://h/b.doc"}],
              "repairs": [{"kind": "mojibake"}]}
    third = {"title": "标题", "text": "第三页正文", "text_simplified": "第三页正文（简）"}
    merged = merge_documents([first, None, second, third])
    assert merged is not None
    assert merged["text"] == "第一页正文\n第二页正文\n第三页正文"
    assert merged["text_simplified"] == "第一页正文\n第二页正文\n第三页正文（简）"
    assert (merged["title"], merged["published_at"]) == ("标题", "2024-01-01T00:00:00+08:00")
    assert [a["url"] for a in merged["attachments"]] == ["http://h/a.pdf", "http://h/b.doc"]
    assert merged["repairs"] == [{"kind": "mojibake"}]
    assert first["text"] == "第一页正文"  # inputs untouched
    # the first page gave nothing: the article is still what the other pages hold
    assert merge_documents([None, second])["text"] == "第二页正文"  # type: ignore[index]
    assert merge_documents([None, None]) is None


# -- end to end over the demo portal on loopback ---------------------------------------------------
@pytest.fixture
def multipage_portal(tmp_path: Path) -> Iterator[Portal]:
    with served_portal(tmp_path, multipage=True) as portal:
        yield portal


def _norm(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def _split(portal: DemoPortal) -> list[Article]:
    return [a for a in portal.all_articles() if a.pages > 1]


def _check_article(archive: Archive, demo: Portal, art: Article, gone: set[int] = frozenset()) -> dict:  # type: ignore[assignment]
    """Every page fetched is archived raw as served, with its own document; the first page's document
    is the article, merged in page order. Returns that document."""
    first_url = demo.url(art.path)
    stamps = {}
    for page in range(art.pages):
        url = demo.url(art.page_path(page))
        captures = archive.captures(url)
        if page in gone:
            assert captures == [], url
            continue
        assert len(captures) == 1, url
        status, _headers, body = archive.raw_response(captures[0])
        assert (status, body) == (200, demo.portal.respond(art.page_path(page))[2]), url
        stamps[url] = captures[0].timestamp
        doc = archive.document(captures[0])
        if page:
            assert (doc["part_of"], doc["page"]) == (first_url, page + 1)
            assert _norm(doc["text"]) == _norm("\n".join(art.page_paragraphs(page)))
    doc = archive.document(archive.captures(first_url)[0])
    assert doc["title"] == art.title and doc["source"] == art.source
    assert doc["published_at"] == art.published.strftime("%Y-%m-%dT%H:%M:00+08:00")
    kept = [p for page in range(art.pages) if page not in gone for p in art.page_paragraphs(page)]
    assert _norm(doc["text"]) == _norm("\n".join(kept)), "merged text, in page order"
    assert not [c for c in PAGER_CHROME if c in doc["text"]]
    assert [(p["page"], p["url"], p["stamp"]) for p in doc["pages"]] == [
        (page + 1, demo.url(art.page_path(page)), stamps[demo.url(art.page_path(page))])
        for page in range(art.pages) if page not in gone]
    assert [(m["page"], m["url"]) for m in doc["incomplete"]] == [
        (page + 1, demo.url(art.page_path(page))) for page in sorted(gone)]
    return doc


@pytest.mark.e2e
def test_crawl_archives_every_page_and_merges_the_article(multipage_portal: Portal,
                                                          tmp_path: Path) -> None:
    demo = multipage_portal
    uri = (tmp_path / "archive").as_uri()
    result = crawl("demo", demo.sites_dir, uri, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    n, split = len(demo.portal.all_articles()), _split(demo.portal)
    assert {a.pager for a in split} == {"trs", "links"}
    parts = sum(a.pages - 1 for a in split)
    assert result.summary is not None
    assert (result.summary["articles_fetched"], result.summary["archived"]) == (n, n + parts)
    archive = Archive(open_store(uri))
    for art in split:
        doc = _check_article(archive, demo, art)
        assert doc["incomplete"] == [] and not doc["errors"]
    # Retrieval by the article's URL gives the merged article (a later page's URL: that page, above).
    art = split[1]
    got = run_scrapy(["archive", "get", demo.url(art.path)], {"ARCHIVE_URI": uri})
    assert got.returncode == 0, got.stderr
    assert all(p in got.stdout for p in art.paragraphs)

    # A re-check: the first page is fetched whole, its other pages by conditional GET (304 → a
    # revisit each), and the unchanged article is a revisit that reads back as the merged article.
    again = crawl("demo", demo.sites_dir, uri, tmp_path, settings={"RECHECK_EVERY_DAYS": "0"})
    assert again.returncode == 0, again.stderr[-3000:]
    for art in split:
        first = archive.captures(demo.url(art.path))
        assert [c.kind for c in first] == ["revisit", "capture"]
        assert _norm(archive.document(first[0])["text"]) == _norm(art.body_text)
        for page in range(1, art.pages):  # re-checked with their article only, never alone
            latest, *older = archive.captures(demo.url(art.page_path(page)))
            assert (latest.kind, archive.document(latest, resolve=False)["status"]) == ("revisit", 304)
            assert [c.kind for c in older] == ["capture"]

    # A change on the last page only: the article is a new version (its first page's bytes did not
    # change), merged from the last page's new bytes and the other pages' archived ones.
    art = split[0]
    with demo.portal.lock:
        art.paragraphs[-1] += "会议最后强调，要以钉钉子精神抓好各项任务落实。"
    third = crawl("demo", demo.sites_dir, uri, tmp_path, settings={"RECHECK_EVERY_DAYS": "0"})
    assert third.returncode == 0, third.stderr[-3000:]
    first = archive.captures(demo.url(art.path))
    assert first[0].kind == "capture"
    assert _norm(archive.document(first[0])["text"]) == _norm(art.body_text)
    assert archive.document(first[0])["text"].endswith("会议最后强调，要以钉钉子精神抓好各项任务落实。")


@pytest.mark.e2e
def test_missing_pages_leave_the_article_incomplete(multipage_portal: Portal, tmp_path: Path) -> None:
    """A page that answers 404, and pages over ARTICLE_MAX_PAGES: the article is archived with the
    pages it has (the one after a 404 too) and names the others."""
    demo = multipage_portal
    trs = next(a for a in _split(demo.portal) if a.pager == "trs")
    links = next(a for a in _split(demo.portal) if a.pager == "links")
    demo.portal.gone.add(trs.page_path(1))
    assert (trs.pages, links.pages) == (3, 4)
    uri = (tmp_path / "archive").as_uri()
    result = crawl("demo", demo.sites_dir, uri, tmp_path, settings={"ARTICLE_MAX_PAGES": "3"})
    assert result.returncode == 0, result.stderr[-3000:]
    archive = Archive(open_store(uri))
    doc = _check_article(archive, demo, trs, gone={1})  # its third page is fetched and merged
    assert [m["reason"] for m in doc["incomplete"]] == ["http_404"]
    assert any(demo.url(trs.page_path(1)) in e and "http_404" in e for e in doc["errors"])
    doc = _check_article(archive, demo, links, gone={3})  # ARTICLE_MAX_PAGES=3 leaves the 4th out
    assert [m["reason"] for m in doc["incomplete"]] == ["over_limit"]


@pytest.mark.e2e
def test_killed_mid_article_keeps_the_pages_fetched(multipage_portal: Portal, tmp_path: Path) -> None:
    """SIGKILL while the article's third page is being fetched: the second is already archived
    raw; the next run archives the article, that page found in the archive (the killed run saved no
    index, so no ETag is known: fetched whole, same bytes → a revisit) and merged."""
    demo = multipage_portal
    art = next(a for a in _split(demo.portal) if a.pager == "links")
    demo.portal.stalled.add(art.page_path(2))
    uri = (tmp_path / "archive").as_uri()
    archive = Archive(open_store(uri))
    env = {"SITES_DIR": str(demo.sites_dir), "ARCHIVE_URI": uri, "ARCHIVE_SPOOL_DIR": str(tmp_path / "spool")}
    with scrapy_in_background(["crawl", "portal", "-a", "site=demo"], env, tmp_path / "killed.log") as proc:
        deadline = time.monotonic() + 60
        while (not archive.captures(demo.url(art.page_path(1))) and proc.poll() is None
               and time.monotonic() < deadline):
            time.sleep(0.05)
        while art.page_path(2) not in demo.portal.requests and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None, (tmp_path / "killed.log").read_text()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    [kept] = archive.captures(demo.url(art.page_path(1)))
    assert archive.raw_response(kept)[2] == demo.portal.respond(art.page_path(1))[2]
    assert archive.captures(demo.url(art.path)) == []  # the first page waits for the others

    demo.portal.stalled.clear()
    result = crawl("demo", demo.sites_dir, uri, tmp_path, extra_env={"ARCHIVE_SPOOL_DIR":
                                                                       str(tmp_path / "spool")})
    assert result.returncode == 0, result.stderr[-3000:]
    doc = archive.document(archive.captures(demo.url(art.path))[0])
    assert _norm(doc["text"]) == _norm(art.body_text) and doc["incomplete"] == []
    revisit, capture = archive.captures(demo.url(art.page_path(1)))
    assert (revisit.kind, capture.name) == ("revisit", kept.name)
    assert doc["pages"][1]["stamp"] == revisit.timestamp
    assert archive.document(revisit, resolve=False)["profile"].endswith("identical-payload-digest")


_TEXT = st.text(st.one_of(st.characters(min_codepoint=0x20, max_codepoint=0x7E),
                          st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), st.sampled_from("_.t2创建")),
                max_size=30)


@settings(max_examples=200, deadline=None)
@given(before=_TEXT, after=_TEXT,
       needle=st.sampled_from(["createPageHTML", "t20240101_1_", "t20240101.", "_", "A"]),
       codec=st.sampled_from(["gb18030", "gbk", "big5", "utf-8", "utf-8-sig", "utf-16", "hz"]))
def test_the_byte_test_never_misses_what_the_text_names(before: str, after: str, needle: str,
                                                        codec: str) -> None:
    """`announced` reads the text only when the body's bytes may name a sibling page: the byte test
    may say yes wrongly (a GBK trail byte is '_' or a letter), never no wrongly."""
    try:
        body = (before + needle + after).encode(codec)
    except UnicodeEncodeError:
        return
    response = HtmlResponse("http://www.example.gov.cn/a/t20240101_1.html", body=body, encoding=codec)
    if needle in response.text:
        assert _mentions(response, (needle,))
    # as `announced` asks: the sibling needles looked for where their shared stem occurs
    needles = ("createPageHTML", "t20240101_1_", "t20240101.")
    if any(n in response.text for n in needles):
        assert _mentions(response, needles, shared="t20240101")


def test_the_shared_stem_alone_is_no_mention() -> None:
    needles = ("createPageHTML", "t20240101_1_", "t20240101.")
    body = b"t20240101_1 t20240101 <a href=t20240101_2>t20240101_1_x"
    response = HtmlResponse("http://www.example.gov.cn/a/t20240101_1.html", body=body, encoding="utf-8")
    assert _mentions(response, needles, shared="t20240101")  # the last one names t20240101_1_
    response = response.replace(body=body[:-3])
    assert not _mentions(response, needles, shared="t20240101")
    assert _mentions(response.replace(body=body[:-3] + b" t20240101.html"), needles, shared="t20240101")
