"""Facts, not label words (issue 11.3): a headcount is read whatever its label — a statistics
table row, prose, Chinese numerals, 余/多, ranges — and the checks use the fact, a range at its
low end. Numbers that are not participants (phones, dates, 第3期, 3个环节, 1名联系人, staff) are not."""
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from mailbot.documents.check import check_text
from mailbot.documents.facts import extract_facts


def _facts(text, kind="summary"):
    return extract_facts(text, kind=kind, year=2022).as_json()


# --- facts -----------------------------------------------------------------------------------

@pytest.mark.parametrize("text, want", [
    # a statistics table: label cell | value cell (docread gives cells separated by tabs)
    ("活动开展情况统计表\n项目\t数量\n参加群众人数\t26人\n工作人员\t5人\n征集意见建议\t8条", 26),
    ("到场群众\t二十六人", 26),
    ("参与代表\t30名", 30),
    ("实际到场人数\t28", 28),
    ("参加群众人数 | 26人", 26),
    # a header row over the values, and a 合计 row that wins over the first row
    ("日期\t到场人数\n9月15日\t27", 27),
    ("序号\t参加单位\t人数\n1\t城关镇\t12人\n2\t兴隆镇\t15人\n合计\t\t27人", 27),
    # prose
    ("本次活动共有26名群众参加，气氛热烈。", 26),
    ("我局邀请群众代表30人走进不动产登记中心。", 30),
    ("三十余名企业职工和社区居民参加了活动。", 30),
    ("拟邀请群众30多人参加座谈。", 30),
])
def test_headcount_whatever_the_label(text, want):
    j = _facts(text)
    assert j["actual_participants"] == want and j["participants"] == want
    assert j["participants_range"] is None


@pytest.mark.parametrize("text, low, high", [
    ("参与人数：25至30名", 25, 30),
    ("参加人数：30-40人", 30, 40),
    ("本次活动拟邀请群众25~30人参加。", 25, 30),
    ("拟邀人数\t二十五至三十人", 25, 30),
    ("参加群众 | 40—50名", 40, 50),
])
def test_range_is_a_range_fact_at_its_low_end(text, low, high):
    j = _facts(text, kind="plan")
    assert j["participants"] == low
    assert j["participants_range"] == [low, high]


@pytest.mark.parametrize("text", [
    "联系电话：13909541234\n办公电话：0954-3016111",
    "活动时间：2022年9月15日上午9:30",
    "这是我局第3期“政府开放日”活动，共设置3个环节。",
    "各股室确定1名联系人负责报名。",
    "安排5名工作人员负责引导和讲解。",
    "工作人员\t5人\n讲解员\t2名",
    "参加领导\t3人",
    "联系人\t1名",
    "参观点位\t3",
    "序号\t内容\n1\t参观不动产登记大厅",
])
def test_numbers_that_are_not_participants(text):
    j = _facts(text)
    assert j["participants"] is None and j["actual_participants"] is None


def test_staff_row_does_not_hide_the_participants_row():
    j = _facts("工作人员\t6人\n到场群众\t二十八人")
    assert j["participants"] == 28


@pytest.mark.parametrize("text, key, want", [
    ("活动举办地\t县自然资源局一楼不动产登记大厅", "place", "县自然资源局一楼不动产登记大厅"),
    ("开放场地：县文化馆二楼展厅", "place", "县文化馆二楼展厅"),
    ("联络员\t马晓军\t13995441234", "contact", "马晓军"),
    ("对接人：周雅琴，电话0954-3017214", "contact", "周雅琴"),
])
def test_place_and_contact_under_other_labels(text, key, want):
    assert _facts(text, kind="plan")[key] == want


# --- checks ----------------------------------------------------------------------------------

PLAN = """西吉县自然资源局“政府开放日”活动实施方案
一、开放主题：守护耕地红线 共建美丽家园
二、活动时间：2022年9月15日上午9:00
三、活动地点：县自然资源局一楼不动产登记大厅
四、参与人数：25至30名
五、邀请对象：村民代表、企业职工、社区居民，不含“两代表一委员”
六、活动形式：进机关，参观不动产登记大厅，召开座谈会，发放满意度调查问卷
七、活动内容：参观登记大厅、座谈交流、问卷调查
八、报名方式：电话报名
九、参加领导：局长
十、承办单位：县自然资源局办公室
十一、联系人：马晓军，联系电话：0954-3016111
十二、温馨提示：请携带身份证，准时到达
"""


def _run(campaign, roster, text, kind, received):
    return check_text(text, campaign=campaign, roster=roster, kind=kind, unit="西吉县自然资源局",
                      received=received)


def test_plan_range_passes_at_its_low_end(campaign, roster):
    r = _run(campaign, roster, PLAN, "plan", date(2022, 8, 20))
    assert r.findings == () and r.outcome == "待审核"
    assert r.facts.value("participants") == 25 and r.facts.value("participants_range") == (25, 30)


def test_plan_range_below_minimum_names_the_item_and_the_range(campaign, roster):
    r = _run(campaign, roster, PLAN.replace("25至30名", "20-40人"), "plan", date(2022, 8, 20))
    assert [(f.rule, f.item) for f in r.findings] == [("min-participants", "参加人数")]
    assert "20至40" in r.findings[0].message and "25" in r.findings[0].message
    assert r.outcome == "需修改"


def test_plan_headcount_under_an_unlisted_label_satisfies_the_item(campaign, roster):
    text = PLAN.replace("四、参与人数：25至30名", "四、群众代表\t30名")
    r = _run(campaign, roster, text, "plan", date(2022, 8, 20))
    assert r.findings == ()


SUMMARY_HEAD = ("西吉县自然资源局2022年“政府开放日”活动开展情况\n"
                "按照县政务公开办公室要求，我局于2022年9月15日开展了以“守护耕地红线”为主题的“政府开放日”活动，"
                "群众代表参观了不动产登记大厅，并召开座谈会。\n")
SUMMARY_TAIL = "\n群众提出的意见建议已逐一答复，采纳情况已在县政府门户网站公开反馈。\n西吉县自然资源局\n2022年9月19日"


@pytest.mark.parametrize("middle, want", [
    ("活动情况统计\n项目\t数量\n参加群众人数\t26人\n工作人员\t5人\n征集意见建议\t7条", 26),
    ("本次活动共有26名群众参加，现场征集意见建议7条。", 26),
    ("到场群众\t二十六人\n收集意见建议\t七条", 26),
    ("参与代表 | 30名\n意见建议 | 7条", 30),
])
def test_summary_headcount_satisfies_participants_item(campaign, roster, middle, want):
    r = _run(campaign, roster, SUMMARY_HEAD + middle + SUMMARY_TAIL, "summary", date(2022, 9, 19))
    assert r.facts.value("actual_participants") == want
    assert r.findings == () and r.outcome == "待审核"


def test_summary_without_headcount_still_asks_for_it(campaign, roster):
    middle = "活动情况统计\n项目\t数量\n工作人员\t5人\n征集意见建议\t7条"
    r = _run(campaign, roster, SUMMARY_HEAD + middle + SUMMARY_TAIL, "summary", date(2022, 9, 19))
    assert [(f.rule, f.item) for f in r.findings] == [("summary-items", "参加人数")]


# --- end to end: the motivating summary, as a .docx with a statistics table --------------------

def _summary_docx(path: Path) -> None:
    import docx
    d = docx.Document()
    d.add_paragraph("西吉县自然资源局2022年“政府开放日”活动开展情况")
    d.add_paragraph("按照县政务公开办公室要求，我局于2022年9月15日开展了以“守护耕地红线”为主题的"
                    "“政府开放日”活动，群众代表参观了不动产登记大厅，并召开座谈会。")
    d.add_paragraph("一、活动开展情况统计")
    rows = [("项目", "数量"), ("参加群众人数", "26人"), ("工作人员", "5人"), ("征集意见建议", "7条"),
            ("现场答复", "5条")]
    table = d.add_table(rows=len(rows), cols=2)
    for i, row in enumerate(rows):
        for j, cell in enumerate(row):
            table.cell(i, j).text = cell
    d.add_paragraph("二、反馈情况：群众提出的意见建议已逐一答复，采纳情况已在县政府门户网站公开反馈。")
    d.add_paragraph("西吉县自然资源局")
    d.add_paragraph("2022年9月19日")
    d.save(str(path))


def test_check_json_reads_the_statistics_table(tmp_path):
    path = tmp_path / "自然资源局开展情况.docx"
    _summary_docx(path)
    r = subprocess.run([sys.executable, "-m", "mailbot", "check", "--json", "--unit", "西吉县自然资源局",
                        "--received", "2022-09-19", str(path)], cwd=tmp_path, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    [out] = json.loads(r.stdout)
    assert out["kind"] == "summary"
    assert out["facts"]["actual_participants"] == 26 and out["facts"]["participants"] == 26
    assert out["facts"]["participants_range"] is None
    assert not [f for f in out["findings"] if f["item"] == "参加人数"]
    assert out["outcome"] == "待审核"


# --- as a scan reads them (our own sentences) --------------------------------------------

def test_headcount_on_a_line_wrapped_in_a_scanned_table_cell():
    # the cell's text wrapped; the scan's ruling glued "|" to the second line
    text = ("县交通运输局“政府开放日”活动方案\n邀请对象\t拟邀请货运企业代表、出租车驾驶员、\n"
            "沿线村民代表等不\n|少于30人”\n活动时间\t2022年9月20日")
    assert extract_facts(text, kind="plan", year=2022).value("participants") == 30


@pytest.mark.parametrize("above", ["本局将邀请群众参观检查站。", "三、参观检查站"])
def test_a_line_does_not_borrow_people_words_across_a_full_stop_or_from_a_heading(above):
    text = f"县交通运输局“政府开放日”活动方案\n{above}\n检查站配备12名，负责安全。"
    assert extract_facts(text, kind="plan", year=2022).value("participants") is None


@pytest.mark.parametrize("text, want", [
    ("四、参加入数\n35入", 35),                       # 入 for 人, in the label and after the number
    ("拟邀请群众代表3O名参加", 30),                    # letter O for the zero
])
def test_headcount_through_ocr_look_alikes(text, want):
    assert extract_facts("县卫健局“政府开放日”活动方案\n" + text, kind="plan", year=2022).value("participants") == want


@pytest.mark.parametrize("text, want", [
    ("9月9日，县水务局邀请社区居民、企业职工和护河志愿者等40余人参观净水厂。", 40),   # invitees, volunteers among them
    ("9月9日，社区居民、企业职工和护河志愿者等40余人走进净水厂。", 40),            # no 邀请 (or a scan lost it)
    ("9月9日，县水务局邀请社区居民参观净水厂，现场安排工作人员、讲解员等10人。", None),  # staff, listed
])
def test_a_total_after_a_list_of_invitees_counts_the_volunteers_in_it(text, want):
    f = extract_facts("县水务局“政府开放日”活动开展情况\n" + text, kind="summary", year=2022)
    assert f.value("actual_participants") == want
