"""`scrapy extract` as a user runs it: saved pages in, one JSON line each out, with the encoding
decision (labels as declared, codec, rule) and the repairs made to the text."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pipelines.decoding.charset import header_charset, meta_charset
from tests.encoding_corpus import Page, pages

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "pages"
GATE_URL = "http://www.zs.gov.cn/gate/big5/www.yixiu.gov.cn/xwzx/jryx/2021/08/31/art_123.html"
# 中华人民共和国国务院 read as cp1252 from its GBK bytes: every byte maps, so nothing was lost.
DAMAGED = "中华人民共和国国务院"


def _extract(args: list[str]) -> tuple[list[dict[str, Any]], subprocess.CompletedProcess[str]]:
    run = subprocess.run([sys.executable, "-m", "scrapy", "extract", *args], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    return [json.loads(line) for line in run.stdout.splitlines()], run


def _corpus_pages() -> list[Page]:
    """A page with an article (several paragraphs) per label case that makes the decision work: a
    wrong family, a lying header, a late meta, labels that disagree, none at all, and both right; in
    GB2312 and Big5."""
    wanted = {(codec, case) for codec in ("gb2312", "big5")
              for case in ("wrong-family-meta", "header-utf8-lie", "meta-late", "disagree-header-wrong",
                           "disagree-meta-wrong", "unlabelled", "correct-both")}
    found: dict[tuple[str, str], Page] = {}
    for page in pages():
        key = (page.encoding, page.case)
        if key in wanted and key not in found and page.text.count("<p>") >= 3:
            found[key] = page
    assert len(found) == len(wanted)
    return list(found.values())


def _title_only_page() -> Page:
    """A corpus page whose one paragraph repeats its title (no article to extract), its GBK bytes
    served as ISO-8859-1."""
    return next(p for p in pages()
                if p.encoding == "gbk" and p.case == "header-latin1" and p.text.count("<p>") == 1)


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("extract")
    entries = []
    corpus = _corpus_pages()
    for page in corpus:
        (folder / f"{page.id}.html").write_bytes(page.body)
        headers = {"Content-Type": page.content_type} if page.content_type else {}
        entries.append({"id": page.id, "path": f"{page.id}.html", "url": f"http://www.example.gov.cn/{page.id}.html",
                        "headers": headers})
    damaged = DAMAGED.encode("gbk").decode("cp1252")
    (folder / "latin.html").write_text(
        f'<html><head><meta charset="utf-8"><title>通知</title></head><body><div class="content">'
        f"<p>{damaged}办公厅关于做好今年春节期间有关工作的通知，请各地区各部门认真贯彻落实。</p>"
        "<p>各省、自治区、直辖市人民政府，国务院各部委、各直属机构：经国务院同意，现就有关事项通知如下。</p>"
        "</div></body></html>", "utf-8")
    entries.append({"id": "latin", "path": "latin.html", "url": "http://www.example.gov.cn/latin.html"})
    entries.append({"id": "yixiu", "path": str(FIXTURES / "seed-yixiu.html"), "url": GATE_URL})
    title_only = _title_only_page()
    (folder / "title-only.html").write_bytes(title_only.body)
    entries.append({"id": "title-only", "path": "title-only.html", "url": "http://www.example.gov.cn/t.html",
                    "headers": {"content-type": title_only.content_type}})
    entries.append({"id": "missing", "path": "no-such-page.html"})
    manifest = folder / "pages.jsonl"
    manifest.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries), "utf-8")
    lines, run = _extract(["--manifest", str(manifest)])
    assert [line.get("id") for line in lines] == [e["id"] for e in entries]  # input order, none dropped
    return {"by_id": {line["id"]: line for line in lines}, "corpus": corpus, "stderr": run.stderr,
            "damaged": damaged}


def test_every_corpus_page_reports_its_decision_and_its_text(outputs: dict[str, Any]) -> None:
    for page in outputs["corpus"]:
        line = outputs["by_id"][page.id]
        assert "error" not in line, (page.id, line.get("error"))
        assert line["encoding"] == {
            "encoding": page.expected_encoding, "rule": page.expected_rule,
            "header_charset": header_charset(page.content_type), "meta_charset": meta_charset(page.body),
            "undecodable_bytes": 0}, page.id
        # The first paragraph is also the title, which the extraction does not repeat in the text.
        first, *paragraphs = [p.split("</p>")[0] for p in page.text.split("<p>")[1:]]
        assert line["title"] == first[:30], page.id
        assert paragraphs and all(p in line["text"] for p in paragraphs), page.id
        assert line["repairs"] == [], page.id  # clean text is never changed


def test_the_decisions_cover_labels_that_lie(outputs: dict[str, Any]) -> None:
    decisions = [outputs["by_id"][p.id]["encoding"] for p in outputs["corpus"]]
    assert {d["rule"] for d in decisions} >= {"chardet", "meta", "header"}
    assert any(d["header_charset"] == "utf-8" and d["encoding"] != "utf-8" for d in decisions)


def test_mojibake_in_the_text_is_repaired_and_reported(outputs: dict[str, Any]) -> None:
    line = outputs["by_id"]["latin"]
    assert DAMAGED in line["text"] and outputs["damaged"] not in line["text"]
    assert [(r["before"], r["after"], r["codecs"]) for r in line["repairs"]] == [
        (outputs["damaged"], DAMAGED, "gbk>latin-1")]  # no byte in 0x80-0x9F: Latin-1 and cp1252 agree
    repair = line["repairs"][0]
    assert repair["end"] - repair["start"] == len(outputs["damaged"])


def test_a_mirror_page_reports_its_out_of_step_repair_glosses_and_simplified_form(outputs: dict[str, Any]) -> None:
    line = outputs["by_id"]["yixiu"]
    assert line["encoding"]["rule"] in ("utf-8", "header", "meta", "chardet")
    assert any("徐永" in r["after"] and "核：錢凱" in r["after"] and "out of step" in r["codecs"]
               for r in line["repairs"])
    assert line["glosses_removed"] > 0 and "(zhèn)" not in line["text"]
    assert line["gloss_removal"]["applied"] and "mirror-url" in line["gloss_removal"]["evidence"]
    assert line["text_simplified"] and "乡镇" in line["text_simplified"]


def test_a_page_without_an_article_still_reports_its_decision(outputs: dict[str, Any]) -> None:
    line = outputs["by_id"]["title-only"]
    assert line["error"] == "ExtractionError: only page chrome found"
    page = _title_only_page()
    assert line["encoding"]["encoding"] == page.expected_encoding == "gb18030"  # not the header's Latin-1
    assert (line["encoding"]["rule"], line["encoding"]["header_charset"]) == (page.expected_rule, "iso-8859-1")


def test_an_unreadable_file_is_an_error_line_and_the_run_goes_on(outputs: dict[str, Any]) -> None:
    line = outputs["by_id"]["missing"]
    assert "error" in line and "encoding" not in line
    assert "2 page(s) failed" in outputs["stderr"]


def test_files_on_the_command_line_with_a_content_type(tmp_path: Path) -> None:
    page = next(p for p in pages() if p.encoding == "big5" and p.case == "unlabelled" and p.text.count("<p>") >= 3)
    path = tmp_path / "page.html"
    path.write_bytes(page.body)
    lines, _ = _extract([str(path), "--content-type", "text/html; charset=big5"])
    assert len(lines) == 1 and "error" not in lines[0]
    assert lines[0]["url"] == path.resolve().as_uri()
    assert lines[0]["encoding"]["header_charset"] == "big5"
    assert lines[0]["encoding"]["encoding"] == page.expected_encoding
