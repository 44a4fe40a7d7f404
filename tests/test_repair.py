"""Stage 3 on whole documents: pinyin glosses go only on Traditional or mirror pages, with the evidence
recorded; the seeds' mirror pages lose every gloss through the crawl's own page function."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.decoding.glosses import strip_pinyin_glosses
from pipelines.decoding.repair import repair_document, traditional_evidence
from pipelines.page import process_page

PAGES = Path(__file__).parent / "fixtures" / "pages"

# Simplified articles whose authors spell out a reading: these brackets are theirs, not a mirror's.
SIMPLIFIED_NOTES = [
    "闵行区莘(shēn)庄镇召开2024年安全生产工作会议，镇党委书记出席会议并讲话。",
    "单(shàn)县人民政府办公室关于印发农村人居环境整治方案的通知，请认真贯彻执行。",
    "蚌(bèng)埠市今年上半年地区生产总值同比增长百分之五点八，高于全省平均水平。",
]


@pytest.mark.parametrize("text", SIMPLIFIED_NOTES)
def test_a_simplified_page_keeps_its_authors_pinyin_notes(text: str) -> None:
    assert strip_pinyin_glosses(text)[1] == 1  # a gloss by form: only the page decides it is not one
    document = {"title": text[:12], "text": text}
    assert repair_document(document, "http://www.shmh.gov.cn/shmh/zwdt/20240719/1.html", "utf-8") == (0, 0)
    assert document["text"] == text and document["title"] == text[:12]
    assert document["gloss_removal"] == {"applied": False, "evidence": []}
    assert document["glosses_removed"] == 0 and document["text_simplified"] is None


@pytest.mark.parametrize(("url", "encoding", "evidence"), [
    ("http://www.zs.gov.cn/gate/big5/www.shmh.gov.cn/a/1.html", "utf-8", ["mirror-url"]),
    ("http://big5.shmh.gov.cn/a/1.html", "gb18030", ["mirror-url"]),
    ("http://www.shmh.gov.cn/a/1.html", "big5hkscs", ["big5-decoding"]),
    ("http://www.shmh.gov.cn/a/1.html", "cp950", ["big5-decoding"]),
])
def test_a_mirror_url_or_a_big5_decoding_is_evidence_enough(url: str, encoding: str, evidence: list[str]) -> None:
    document = {"title": "莘(shēn)庄镇", "text": SIMPLIFIED_NOTES[0]}
    assert repair_document(document, url, encoding) == (0, 1)
    assert document["text"] == SIMPLIFIED_NOTES[0].replace("(shēn)", "")
    assert document["title"] == "莘庄镇"
    assert document["gloss_removal"] == {"applied": True, "evidence": evidence}


def test_traditional_text_is_evidence_by_itself() -> None:
    text = "小欖鎮(zhèn)舉行2024年上半年經(jīng)濟形勢分析會，各村(社區(qū))負責人參加會議。"
    assert traditional_evidence(text) == ["traditional-text"]
    assert traditional_evidence(SIMPLIFIED_NOTES[0], "http://www.zs.gov.cn/a.html", "gb18030") == []
    document = {"title": None, "text": text}
    assert repair_document(document, "http://www.zs.gov.cn/xl/a.html", "utf-8") == (0, 3)
    assert document["text"] == "小欖鎮舉行2024年上半年經濟形勢分析會，各村(社區)負責人參加會議。"
    assert document["text_simplified"] == "小榄镇举行2024年上半年经济形势分析会，各村(社区)负责人参加会议。"
    assert document["gloss_removal"] == {"applied": True, "evidence": ["traditional-text"]}


@pytest.mark.parametrize(("seed", "kept"), [("seed-xiaolan", "各村(社區)"), ("seed-zhenjiang", "各地黨(工)委"),
                                          ("seed-yixiu", "各鄉鎮(街道)")])
def test_the_seeds_mirror_pages_lose_every_gloss(seed: str, kept: str) -> None:
    """Through `process_page` (decode, extract, repair), as the crawl runs it, at the seed's own URL."""
    expected = json.loads((PAGES / f"{seed}.json").read_text("utf-8"))
    body = (PAGES / f"{seed}.html").read_bytes()
    result = process_page(body, expected.get("content_type"), None, expected["url"], None)
    document = result.document
    assert document is not None
    assert "traditional-text" in document["gloss_removal"]["evidence"]
    assert document["gloss_removal"]["applied"] and result.glosses == document["glosses_removed"] > 0
    for name in ("title", "text"):
        assert strip_pinyin_glosses(document[name]) == (document[name], 0), name
    assert kept in document["text"]  # a real parenthesis stays
