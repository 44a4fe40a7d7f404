"""Credit lines that sit just outside the body container still land in their fields."""
from pipelines.extraction import extract_document

PAGE = """<html><head><title>t</title></head><body>
<h1>全市秋冬季森林防火工作部署会召开</h1>
<div class="TRS_Editor"><p>会议强调，当前已进入森林防火关键期，各地要压紧压实防火责任，加强野外火源管控和巡查值守。</p>
<p>会议要求做好扑火队伍和物资准备，坚决防范重特大森林火灾发生。</p></div>
<div class="editor">（责任编辑：李明）</div>
<div class="prenext"><p>上一篇：关于调整城区部分公交线路的通告</p></div>
<div class="related"><p>相关新闻</p><p>责任编辑：不该取到</p></div>
</body></html>"""


def test_editor_below_the_container_is_metadata_not_body() -> None:
    doc = extract_document(PAGE, "http://x.gov.cn/a/202611/t20261119_1.html")
    assert doc["editor"] == "李明"
    assert "责任编辑" not in doc["text"] and "李明" not in doc["text"]


def test_body_credit_wins_over_a_later_line() -> None:
    page = PAGE.replace("物资准备，坚决防范重特大森林火灾发生。</p>",
                        "物资准备，坚决防范重特大森林火灾发生。</p><p>（责任编辑：王芳）</p>")
    assert extract_document(page, "http://x.gov.cn/a.html")["editor"] == "王芳"
