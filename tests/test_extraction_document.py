import json
import pickle

import pytest

from pipelines.extraction import EXTRACTOR_NAME, EXTRACTOR_VERSION, extract_document
from pipelines.extraction.document import FIELDS, ExtractionError

BODY = "".join(f"<p>第{i}段：全市上下要坚持问题导向，聚焦重点任务，推动各项工作落地见效，确保完成全年目标。</p>"
               for i in range(1, 4))
TRS = f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<meta name="SiteName" content="中山市人民政府"><meta name="SiteIDCode" content="4420000001">
<meta name="ColumnName" content="政务动态"><meta name="ArticleTitle" content="郭文海主持召开全市经济工作调度会议">
<meta name="PubDate" content="2022-12-14 09:30"><meta name="contentSource" content="中山日报">
<meta name="Keywords" content="经济,调度会议"><meta name="Description" content="郭文海主持召开会议">
<title>郭文海主持召开全市经济工作调度会议_政务动态_中山市人民政府</title></head><body>
<div class="crumb">您现在的位置: 首页 &gt;&gt; 政务公开</div>
<h1>郭文海主持召开全市经济工作调度会议</h1>
<div class="info">信息来源:中山日报 发布日期:2022年12月14日 【字体：大 中 小】</div>
<div class="TRS_Editor">{BODY}<p>（责任编辑：陈晓）</p>
<p>附件：<a href="./P020221214.pdf">工作方案.pdf</a></p></div>
<div class="share">分享到：</div><div>上一篇：某某会议</div>
<div class="foot">主办单位：中山市人民政府办公室 网站标识码：4420000001 粤ICP备05003210号</div>
</body></html>"""


def test_trs_page_fields() -> None:
    doc = extract_document(TRS, "http://www.zs.gov.cn/zwgk/zwdt/202212/t20221214_2196893.html")
    assert list(doc) == list(FIELDS)
    assert doc["title"] == "郭文海主持召开全市经济工作调度会议"
    assert doc["published_at"] == "2022-12-14T09:30:00+08:00"
    assert doc["source"] == "中山日报"
    assert doc["site_name"] == "中山市人民政府"
    assert doc["site_id_code"] == "4420000001"
    assert doc["column"] == "政务动态"
    assert doc["keywords"] == ["经济", "调度会议"]
    assert doc["editor"] == "陈晓"
    assert doc["extracted_by"] == ["meta", "container:TRS_Editor", "clean"]
    assert doc["attachments"] == [{"name": "工作方案.pdf",
                                   "url": "http://www.zs.gov.cn/zwgk/zwdt/202212/P020221214.pdf"}]
    assert doc["text"].startswith("第1段：") and "责任编辑" not in doc["text"]
    json.dumps(doc)


def test_overrides_win_and_unknown_keys_are_ignored() -> None:
    doc = extract_document(TRS, "http://x/", {"body_xpath": "//div[@class='info']/following-sibling::div[1]",
                                              "title_xpath": "//h1", "nonsense": "//x", "date_xpath": "//h1"})
    assert doc["extracted_by"][0] == "override"
    assert doc["title"] == "郭文海主持召开全市经济工作调度会议"


def test_gkml_table_and_index_number_is_not_a_date() -> None:
    html = f"""<html><head><title>关于印发方案的通知</title></head><body><table class="gk">
<tr><td>索 引 号：</td><td>11440100/2026-02-00018</td><td>发布机构：</td><td>广州市人民政府办公厅</td></tr>
<tr><td>标　　题：</td><td>关于印发方案的通知</td><td>发文字号：</td><td>穗府办\u30142026\u30153号</td></tr>
<tr><td>成文日期：</td><td>2026年01月28日</td><td>主题分类：</td><td>综合政务</td></tr>
<tr><td>有 效 性：</td><td>有效</td></tr></table><div id="UCAP-CONTENT">{BODY}</div></body></html>"""
    doc = extract_document(html, "http://www.gz.gov.cn/gfxwj/content/post_1.html")
    assert doc["gkml"] == {"index_no": "11440100/2026-02-00018", "publisher": "广州市人民政府办公厅",
                           "doc_number": "穗府办\u30142026\u30153号", "written_at": "2026-01-28T00:00:00+08:00",
                           "topic": "综合政务", "validity": "有效"}
    assert doc["title"] == "关于印发方案的通知"
    assert doc["published_at"] is None


def test_a_comment_between_label_and_value_cells_is_passed_by() -> None:
    """CMS templates leave comments between cells (`<td>索引号：</td><!-- … --><td>…`): the value is
    the next element, and the page is extracted (it used to fail the whole page)."""
    html = f"""<html><head><title>关于印发方案的通知</title></head><body><table class="gk">
<tr><td>索 引 号：</td><!-- 索引号 --><td>11440100/2026-02-00018</td></tr>
<tr><td>发文字号：</td><?cms field?><td>穗府办\u30142026\u30153号</td></tr></table>
<div id="UCAP-CONTENT">{BODY}</div></body></html>"""
    doc = extract_document(html, "http://www.gz.gov.cn/gfxwj/content/post_1.html")
    assert doc["gkml"] == {"index_no": "11440100/2026-02-00018", "doc_number": "穗府办\u30142026\u30153号"}


@pytest.mark.parametrize(("attribute", "layer"), [
    ('class="TRS&#95;Editor"', "container:TRS_Editor"), ('class="trs&#x5f;editor&#95view x"', "container:trs_editor_view"),
    ('class="a TRS_UEDITOR"', "container:TRS_UEDITOR"), ('id="UCAP&#45;CONTENT"', "container:UCAP-CONTENT"),
    ("id=Zoom", "container:zoom"), ('id="&#0122;oom"', "container:zoom"), ('class="TRS&#X5fEditor"', "trafilatura")])
def test_a_container_spelled_with_character_references_is_found(attribute: str, layer: str) -> None:
    """The containers' XPaths are skipped on a page whose source cannot spell them; a page that
    spells one with character references (`&#95;`) still has it found."""
    html = f"<html><body><div class='menu'>首页 政务公开</div><div {attribute}>{BODY}</div></body></html>"
    assert layer in extract_document(html, "http://x/")["extracted_by"]


def test_no_text_raises() -> None:
    with pytest.raises(ExtractionError):
        extract_document("<html><body><div></div></body></html>", "http://x/")


def test_picklable() -> None:
    assert pickle.loads(pickle.dumps(extract_document)) is extract_document
    assert EXTRACTOR_NAME == "govarchive" and EXTRACTOR_VERSION
