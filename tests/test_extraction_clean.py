import pytest

from pipelines.extraction.clean import clean_text


@pytest.mark.parametrize("line", [
    "您现在的位置: 首页 >> 政务公开",
    "当前位置：首页 > 新闻中心 > 政务动态",
    "首页 > 政务公开 > 通知公告",
    "信息来源:中山日报 发布日期:2022年12月14日",
    "日期:2021-08-31 21:35:07 來源: 點擊:",
    "发布时间：2023-01-05 来源：市政府办 浏览次数：1024",
    "【字体：大 中 小】【打印本页】【关闭窗口】",
    "分享到：",
    "【打印】【关闭】",
    "上一篇:宜秀区召开第四次政府廉政工作会议",
    "下一篇：郑志主持召开中共宜秀区委常委会会议",
    "新媒体",
    "微信 微信 微信二维码",
    "手机版 手机版 手机版二维码",
    "扫一扫在手机打开当前页",
    "主办单位：中山市人民政府办公室 承办：中山市政务服务数据管理局",
    "版权所有：安康市人民政府",
    "网站标识码：4420000001 粤ICP备05003210号 粤公网安备 44200002000004号",
    "中山市 中山市 中山市",
    "责任编辑：张三",
    "（责任编辑：李四）",
    "責任編輯:龔逍遙",
])
def test_chrome_lines_go(line: str) -> None:
    out = clean_text(f"第一段正文，内容足够长，讲述会议情况。\n{line}\n第二段正文，继续讲述。")
    assert out.text == "第一段正文，内容足够长，讲述会议情况。\n第二段正文，继续讲述。"


@pytest.mark.parametrize("line", [
    "会议指出，要把版权所有制度落实到位，主办单位要切实承担责任，确保各项工作有序推进。",
    "据统计，全市门户网站的点击量同比增长两成，手机版用户超过十万，微信公众号粉丝突破五十万人次。",
    "时间：2024年5月1日上午9时，地点：市政府第一会议室，参会人员：各镇街分管领导及相关部门负责同志。",
    "下一步，各部门要加强协调，确保任务按期完成。",
    "中国",
    "■拼经济，各个镇街都是大舞台",
    "（一）加强组织领导。",
    "来源于群众、服务于群众，是这项工作的出发点。",
])
def test_body_lines_that_mention_chrome_words_stay(line: str) -> None:
    assert clean_text(f"正文开头。\n{line}").text == f"正文开头。\n{line}"


def test_credits_move_to_fields() -> None:
    text = ("鎮江市項目攻堅暨產業強市大會現場。 馬鎮丹 謝道韞 攝\n"
            "各地相關負責同志和企業代表在分會場參加會議。(記者 陳志奎)\n"
            "責任編輯:龔逍遙")
    out = clean_text(text)
    assert out.credits == {"photographer": "馬鎮丹 謝道韞", "reporter": "陳志奎", "editor": "龔逍遙"}
    assert out.text == "鎮江市項目攻堅暨產業強市大會現場。\n各地相關負責同志和企業代表在分會場參加會議。"


def test_credit_group_with_two_roles() -> None:
    out = clean_text("努力打贏經濟運行翻身仗。（撰稿：徐永　審核：錢凱）")
    assert out.credits == {"author": "徐永", "reviewer": "錢凱"}
    assert out.text == "努力打贏經濟運行翻身仗。"


def test_meta_line_values_are_kept() -> None:
    out = clean_text("信息来源：中山日报 发布日期：2022年12月14日\n正文。")
    assert out.meta == {"source": "中山日报", "published_at": "2022年12月14日"}


def test_docshare_noise() -> None:
    text = ("讲话.docx\n《讲话.docx》由会员分享,可在线阅读,更多相关《讲话.docx(15页珍藏版)》请在淘文阁上搜索。\n"
            "1、今天召开工作会议,分析调度工业经济运行情 况,找准问题症结。一要全力纾困解难。第7页,共11页当前,我市\n"
            "2、企业主要还是以中小微企业为主。第8页,共11页\n- 配套讲稿:\n如PPT文件的首页显示word图标。\n- 关 键 词:\n"
            "- 2021 市县 工业 集中 质量 发展\n限制150内")
    out = clean_text(text)
    assert out.text == ("今天召开工作会议,分析调度工业经济运行情况,找准问题症结。一要全力纾困解难。当前,我市"
                        "企业主要还是以中小微企业为主。")


def test_pinyin_glossed_credit_line() -> None:
    out = clean_text("正文。\n責(zé)任編輯:龔逍遙")
    assert out.credits == {"editor": "龔逍遙"}
    assert out.text == "正文。"
