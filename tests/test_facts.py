"""facts.py: dates, headcounts and phones in the forms people write; labels in every layout."""
from datetime import date

import pytest

from mailbot.documents.facts import (FACT_NAMES, Facts, NormText, cn_to_int, extract_facts, parse_dates,
    parse_headcount, parse_phone)

Y = 2022


def d(m, day, y=Y):
    return date(y, m, day)


# --- dates ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text, want", [
    ("2022年9月5日", [d(9, 5)]),
    ("9月5日上午9:00", [d(9, 5)]),
    ("九月五日", [d(9, 5)]),
    ("九月二十一日", [d(9, 21)]),
    ("十月十二日", [d(10, 12)]),
    ("9月5号", [d(9, 5)]),
    ("2022-09-05", [d(9, 5)]),
    ("2022/9/5", [d(9, 5)]),
    ("2022.9.5", [d(9, 5)]),
    ("9月5日至7日", [d(9, 5), d(9, 6), d(9, 7)]),
    ("9月5日—9月7日", [d(9, 5), d(9, 6), d(9, 7)]),
    ("9月5日-7日", [d(9, 5), d(9, 6), d(9, 7)]),
    ("9月5—7日", [d(9, 5), d(9, 6), d(9, 7)]),
    ("2022年9月30日至2022年10月2日", [d(9, 30), d(10, 1), d(10, 2)]),
    ("9月5日、6日", [d(9, 5), d(9, 6)]),
    ("12月5日15:00", [d(12, 5)]),
    ("二〇二二年九月五日", [d(9, 5)]),
    ("二○二二年九月五日", [d(9, 5)]),
    ("２０２２年９月５日", [d(9, 5)]),
    ("2021年9月5日", [d(9, 5, 2021)]),
    ("9 月 5 日", [d(9, 5)]),
])
def test_date_forms(text, want):
    assert parse_dates(text, Y) == want


@pytest.mark.parametrize("text", ["9月份", "第9.5版", "增长9.5%", "0954-3012103", "9月32日", "2月30日",
                                  "13909541234", "年满18周岁"])
def test_not_dates(text):
    assert parse_dates(text, Y) == []


def _dates(text, kind="plan", year=Y):
    return extract_facts(text, kind=kind, year=year).as_json()["activity_dates"]


def test_short_date_only_in_a_time_field():
    assert _dates("活动时间：9.26（星期一）上午9:00") == ["2022-09-26"]
    assert _dates("活动时间\t9.26") == ["2022-09-26"]
    assert _dates("第9.26条规定") == []


def test_notice_dates_quoted_in_a_plan_are_not_the_activity():
    text = ("根据要求，各部门于2022年8月26日前将方案报县政务公开办公室备案，于9月20日前报送开展情况。\n"
            "一、活动时间：2022年9月16日上午9:00\n"
            "二、报名方式：请于9月10日前电话报名。\n"
            "西吉县市场监督管理局\n2022年8月20日")
    assert _dates(text) == ["2022-09-16"]


def test_date_near_kaizhan_in_prose():
    text = "为推进政务公开，我局将于9月23日（星期五）上午9:30在县林草局三楼会议室开展“政府开放日”活动。"
    f = extract_facts(text, kind="plan", year=Y)
    assert f.as_json()["activity_dates"] == ["2022-09-23"]
    assert f.as_json()["time"] == "09:30"
    assert f.as_json()["place"] == "县林草局三楼会议室"


def test_signature_date_and_deadlines_are_skipped():
    text = "报名时间：9月1日至9月3日\n公告发布时间：2022年8月20日\n活动将于9月8日举办。\n2022年8月19日"
    assert _dates(text) == ["2022-09-08"]


def test_qianwang_is_not_a_deadline():
    assert _dates("9月6日前往县福利中心参观，开展政府开放日活动") == ["2022-09-06"]


def test_yearless_dates_take_the_campaign_year():
    assert _dates("活动时间：12月5日15:00", year=2023) == ["2023-12-05"]


def test_year_guessed_from_document_when_not_given():
    assert _dates("2021年8月1日印发。活动时间：9月6日", year=None) == ["2021-09-06"]


def test_open_week_range():
    assert _dates("（二）活动时间：9月21日至23日，每天上午9:00—11:30") == ["2022-09-21", "2022-09-22", "2022-09-23"]


def test_month_only():
    j = extract_facts("活动时间：2022年10月上旬（具体时间另行通知）", kind="plan", year=Y).as_json()
    assert j["activity_dates"] == [] and j["activity_month"] == "2022-10 上旬"


def test_adjustment_original_and_new_dates():
    text = "我局原定于2022年9月23日开展的“政府开放日”活动，活动时间调整为2022年9月27日（星期二）上午9:00。"
    j = extract_facts(text, kind="adjustment", year=Y).as_json()
    assert j["activity_dates"] == ["2022-09-27"]
    assert j["original_dates"] == ["2022-09-23"]
    j = extract_facts("原计划9月20日举办，现变更为9月26日举办", kind="adjustment", year=Y).as_json()
    assert (j["activity_dates"], j["original_dates"]) == (["2022-09-26"], ["2022-09-20"])


# --- headcounts ----------------------------------------------------------------------------

@pytest.mark.parametrize("text, want", [
    ("30人", 30), ("不少于25人", 25), ("30名左右", 30), ("限额10人", 10), ("共25人", 25), ("30余人", 30),
    ("二十余人", 20), ("约50名", 50), ("三十名", 30), ("25-30人", 25), ("15—20人", 15), ("40余人次", 40),
    ("２５名左右", 25), ("一百人", 100), ("30", 30),
])
def test_headcount_forms(text, want):
    assert parse_headcount(text) == want


def _participants(text):
    return extract_facts(text, kind="plan", year=Y).as_json()["participants"]


def test_headcount_in_fields_and_prose():
    assert _participants("参加人数：30人") == 30
    assert _participants("参加人数\t30") == 30
    assert _participants("四、邀请对象\n社区工作者、群众代表等，不含“两代表一委员”，共计30名。") == 30
    assert _participants("本次活动拟邀请群众代表30名参加。") == 30
    assert _participants("邀请对象：群众代表(20名)、企业代表(10名)") == 30


def test_headcount_ignores_staff_ages_and_quoted_rule():
    assert _participants("安排工作人员5名负责引导。邀请群众代表30名参加。") == 30
    assert _participants("年满18周岁的群众代表均可报名。") is None
    assert _participants("按照要求，参与人数不得低于25人。本次邀请群众代表20名参加。") == 20


# --- phones --------------------------------------------------------------------------------

@pytest.mark.parametrize("text, want", [
    ("13909541234", "13909541234"), ("139 0954 1234", "13909541234"), ("139-0954-1234", "13909541234"),
    ("0954-3012103", "0954-3012103"), ("(0954)3012103", "0954-3012103"), ("（0954）3012103", "0954-3012103"),
    ("0954—3012103", "0954-3012103"), ("09543012103", "0954-3012103"), ("3012103", "3012103"),
    ("１３９０９５４１２３４", "13909541234"), ("010-65963858", "010-65963858"),
])
def test_phone_forms(text, want):
    assert parse_phone(text) == want


def test_local_number_only_near_a_phone_cue():
    f = extract_facts("共计3012103元资金。联系电话：3021121", kind="plan", year=Y)
    assert f.as_json()["phone"] == "3021121"
    assert extract_facts("项目总投资3012103元。", kind="plan", year=Y).as_json()["phone"] is None


def test_date_is_not_a_phone():
    assert extract_facts("电话：20220905", kind="plan", year=Y).as_json()["phone"] is None


# --- labels in every layout -----------------------------------------------------------------

def test_label_colon_prose_with_several_fields_per_line():
    j = extract_facts("九、联系人：李红霞，联系电话：0954-3012103\n二、时间：2022年9月29日  地点：县财政局五楼会议室",
                      kind="plan", year=Y).as_json()
    assert (j["contact"], j["phone"]) == ("李红霞", "0954-3012103")
    assert j["place"] == "县财政局五楼会议室" and j["activity_dates"] == ["2022-09-29"]


def test_table_rows_and_spaced_labels():
    text = "活 动 主 题\t畅通出行路\n联 系 人\t刘春生\n联系电话\t0954-3016212\n温馨提示\t请准时参加"
    j = extract_facts(text, kind="plan", year=Y).as_json()
    assert (j["theme"], j["contact"], j["phone"]) == ("畅通出行路", "刘春生", "0954-3016212")
    assert j["tips"] == "请准时参加"


def test_header_row_table():
    text = "开放主题\t活动时间\t活动地点\t参加人数\n安全生产 人人有责\t9月19日9:00\t县应急管理局指挥中心\t30人"
    j = extract_facts(text, kind="plan", year=Y).as_json()
    assert j["theme"] == "安全生产 人人有责" and j["activity_dates"] == ["2022-09-19"]
    assert j["place"] == "县应急管理局指挥中心" and j["participants"] == 30


def test_headings_alone_on_their_line():
    text = "一、活动主题\n“民政为民 温暖同行”\n二、活动时间\n2022年9月6日上午9:00\n八、联系人员\n杨丽娟，联系电话：0954-3013206"
    j = extract_facts(text, kind="plan", year=Y).as_json()
    assert j["theme"] == "民政为民 温暖同行" and j["activity_dates"] == ["2022-09-06"]
    assert (j["contact"], j["phone"]) == ("杨丽娟", "0954-3013206")


def test_numbered_forms_of_headings():
    for head in ("一、", "（一）", "(一)", "1.", "1、", "１．", "①", "(1)"):
        j = extract_facts(f"{head}活动主题：走进民政", kind="plan", year=Y).as_json()
        assert j["theme"] == "走进民政", head


def test_heading_with_a_full_stop():
    j = extract_facts("（一）活动主题。“阳光信访 为民解忧”。\n（九）联系人员。拓彩霞，联系电话（0954）3021222。",
                      kind="plan", year=Y).as_json()
    assert j["theme"] == "阳光信访 为民解忧"
    assert (j["contact"], j["phone"]) == ("拓彩霞", "0954-3021222")


def test_synonym_labels():
    text = ("开放主题：甲\n注意事项：带身份证\n参与方式：线上报名\n联系人员：马军\n主办单位：县民政局\n"
            "出席领导：局长\n邀请对象：群众代表")
    j = extract_facts(text, kind="plan", year=Y).as_json()
    assert j["theme"] == "甲" and j["tips"] == "带身份证" and j["signup"] == "线上报名"
    assert j["contact"] == "马军" and j["organizer"] == "县民政局" and j["leaders"] == "局长"
    assert j["invited_groups"] == "群众代表"


def test_contact_forms():
    def c(text):
        return extract_facts(text, kind="plan", year=Y).as_json()["contact"]
    assert c("联系人：综合股 单玉梅  电话：3019117") == "单玉梅"
    assert c("联系方式：办公室 罗振东 0954-3015210") == "罗振东"
    assert c("联系人及电话：丁志宏 139 0954 3322") == "丁志宏"
    assert c("联系人：李红霞同志") == "李红霞"
    assert c("如有疑问请联系马军0954-3012103。") == "马军"
    assert c("咨询电话：0954-3015109（张海燕）") == "张海燕"


def test_theme_forms():
    def t(text):
        return extract_facts(text, kind="plan", year=Y).as_json()["theme"]
    assert t("开展以“守护绿水青山 共建生态西吉”为主题的“政府开放日”活动") == "守护绿水青山 共建生态西吉"
    assert t("我局将开展“绿色发展 林草先行”主题“政府开放日”活动") == "绿色发展 林草先行"
    assert t("我局将开展“政府开放日”活动") is None


def test_forms_qa_survey():
    j = extract_facts("（一）进机关。参观局机关。（二）列席局务会。召开座谈会，发放满意度调查问卷。",
                      kind="plan", year=Y).as_json()
    assert j["forms"] == ["进机关", "进会议"] and j["has_qa"] and j["has_survey"]
    j = extract_facts("发放宣传资料。", kind="plan", year=Y).as_json()
    assert j["forms"] == [] and not j["has_qa"] and not j["has_survey"]


def test_summary_facts():
    text = ("2022年9月5日上午，县农业农村局组织开展了“政府开放日”活动，共邀请32名群众代表参加。"
            "本次活动共收集意见建议12条，现场答复8条，将于15天内公开反馈采纳情况。")
    j = extract_facts(text, kind="summary", year=Y).as_json()
    assert j["held_dates"] == ["2022-09-05"] and j["actual_participants"] == 32
    assert j["suggestions_count"] == 12 and j["feedback_given"] is True
    j = extract_facts("9月6日开展活动，二十余名群众代表参加。", kind="summary", year=Y).as_json()
    assert j["actual_participants"] == 20 and j["suggestions_count"] is None and j["feedback_given"] is False
    j = extract_facts("意见建议尚未反馈。", kind="summary", year=Y).as_json()
    assert j["feedback_given"] is False


# --- spans and JSON ------------------------------------------------------------------------

def test_spans_point_into_the_original_text():
    original = "１．开放主题：医保惠民生　服务零距离\n２．开放时间：２０２２年９月６日（星期二）下午３：００\n联　系　人：王志强"
    f = extract_facts(original, kind="plan", year=Y)
    for fact in (f.theme, f.contact, f.activity_dates[0], f.time):
        a, b = fact.span
        assert original[a:b] == fact.source_text
    assert f.theme.value == "医保惠民生 服务零距离"
    assert f.activity_dates[0].source_text.startswith("２０２２年９月６日")
    assert f.time.value == "15:00"
    assert f.contact.source_text == "王志强"


def test_normtext_map():
    nt = NormText("联　系　人：①", drop_spaces=True)
    assert nt.text == "联系人:1"
    assert nt.source(0, 3) == "联　系　人"


def test_as_json_shape():
    j = Facts().as_json()
    for key in ("activity_dates", "participants", "theme", "contact", "phone", "place", "leaders", "organizer",
                "signup", "forms", "has_qa", "has_survey", "invited_groups", "held_dates",
                "actual_participants", "suggestions_count", "feedback_given"):
        assert key in j
    assert j["activity_dates"] == [] and j["participants"] is None and j["has_qa"] is False
    assert "activity_dates" in FACT_NAMES


def test_cn_numbers():
    assert [cn_to_int(s) for s in ("二十五", "十二", "十", "一百", "二〇二二", "三十", "两")] == [25, 12, 10, 100, 2022, 30, 2]


def test_garbage_does_not_raise():
    for text in ("", "\t\t\n", "：：：", "活动时间：", "活动时间\n", "1" * 5000, "月日" * 1000, "\x00\ufeff"):
        extract_facts(text, kind="plan", year=Y)
        extract_facts(text, kind="summary", year=None)


def test_hostile_input_is_bounded():
    import time
    for text in ("活动时间：9月5日\n" * 10000, "9月5日-" * 20000, "30人" * 20000, "0954-3012103 " * 10000,
                 "时" * 100000, "一、活动时间\n" * 20000, "活动时间\t" * 20000 + "\n" + "9月5日\t" * 20000):
        t0 = time.perf_counter()
        extract_facts(text, kind="summary", year=Y)
        assert time.perf_counter() - t0 < 10, text[:20]


# --- forms seen in published announcements from other governments (2026-11 batch) -----------

def _facts(text, year=Y):
    return extract_facts(text, kind="plan", year=year).as_json()


@pytest.mark.parametrize("text, want", [
    ("活动时间：9月6日上午九时", "09:00"),
    ("活动时间：2022年9月7日上午九时三十分", "09:30"),
    ("开放时间：九月八日下午三点半", "15:30"),
    ("兹定于9月20日9时在局会议室举办政府开放日活动", "09:00"),
    ("活动时间：2022年9月5日（星期一）上午9:00—11:30", "09:00"),
])
def test_chinese_numeral_times(text, want):
    assert _facts(text)["time"] == want


def test_yearless_range_across_the_new_year():
    want = ["2022-12-30", "2022-12-31", "2023-01-01", "2023-01-02"]
    assert _facts("活动时间：12月30日至1月2日")["activity_dates"] == want
    assert parse_dates("12月30日至1月2日", Y) == [d(12, 30), d(12, 31), d(1, 1, 2023), d(1, 2, 2023)]
    assert parse_dates("2022年12月30日至2023年1月2日", Y) == [d(12, 30), d(12, 31), d(1, 1, 2023), d(1, 2, 2023)]


def test_month_under_time_and_form_label():
    f = _facts("一、活动时间及方式\n9月中旬，采取现场观摩和座谈方式\n二、活动主题\n水的生命之旅")
    assert f["activity_dates"] == [] and f["activity_month"] == "2022-09 中旬"


def test_bare_date_label_and_prose_after_a_short_value():
    text = ("日期：\n二零二五年九月三十日（星期二）\n时间：\n上午九时至下午六时\n"
            "有兴趣的市民可由二零二五年九月二十五日起至九月二十九日致电热线预约，名额先到先得。")
    f = _facts(text)
    assert f["activity_dates"] == ["2025-09-30"]


@pytest.mark.parametrize("text, want", [
    ("参加人数：名额有限，限额30人", 30),
    ("本次活动共招募20名市民代表。", 20),
    ("参加人数：不超过50人", 50),
    ("参与人数：30人以内", 30),
    ("活动规模：约40人", 40),
    ("招募市民代表15名、企业代表10名，共25名。", 25),
    ("参与对象：企业安全员、群众代表等不少于二十五人", 25),
    ("（一）进机关。将于9月16日开展，进行座谈交流，参与人数上限为30人。", 30),
])
def test_headcount_forms_in_announcements(text, want):
    assert _participants(text) == want


def test_own_staff_are_not_the_headcount():
    assert _participants("五、参加人员\n根据实际情况，单位参加人数3人，邀请有关企业群众代表15人。") == 15
    assert _participants("参加人数：邀请群众代表25名，局机关参加人员5名") == 25


def test_contact_keeps_a_courtesy_title_when_only_a_surname_is_given():
    assert _facts("联系人：张女士，咨询电话：0954-3012345")["contact"] == "张女士"
    assert _facts("联系人：王先生　联系电话：13709541122")["contact"] == "王先生"
    assert _facts("联系人：李红霞同志，电话：0954-3012103")["contact"] == "李红霞"


def test_table_cell_with_a_numbered_list_keeps_all_its_paragraphs():
    text = ("活动主题\t科技赋能\n活动形式\t1.进机关：\n组织代表走进局机关，参观办公运行情况，了解主要职责。\n"
            "2.座谈交流：\n介绍全县工业经济运行情况，听取意见建议。\n出席领导\t局长")
    f = _facts(text)
    assert "座谈交流" in f["content"] and "听取意见建议" in f["content"]


def test_spaced_label_is_not_split_into_label_and_value():
    f = _facts("其 他 事 项 安 排\t1.党政办负责会议场地准备；2.文化站负责宣传报道")
    assert f["tips"] is None


def test_prose_announcement_content_and_tips():
    text = ("我局定于2022年9月6日上午9:30在局三楼会议室开展“政府开放日”活动。届时将组织群众代表参观局机关办公场所，"
            "并召开座谈会听取意见建议。有意参加者请拨打电话0954-3012345报名。请参加人员携带身份证准时到场。")
    f = _facts(text)
    assert f["content"] and "参观局机关" in f["content"]
    assert f["tips"] == "请参加人员携带身份证准时到场"
    # a sign-up instruction is not a 温馨提示
    assert _facts("请报名人员于8月24日前报名，并保持电话畅通。")["tips"] is None


def test_new_form_patterns():
    assert _facts("组织受邀代表观摩林业局各股室及现场办公情况")["forms"] == ["进机关"]
    assert _facts("参会人员到局属各单位现场体验、模拟办事")["forms"] == ["进机关", "进现场"]
    assert _facts("前往吴忠市文化馆，了解数字文化馆发展情况")["forms"] == ["进现场"]


def test_yearless_date_takes_the_documents_later_year():
    text = "二、活动时间\n12月5日15:00\n景德镇市工业和信息化局\n2025年11月21日"
    assert _facts(text)["activity_dates"] == ["2025-12-05"]
    # last year's signature left in a template does not move the campaign's year
    assert _facts("二、活动时间\n9月6日上午9:00\n2021年8月20日")["activity_dates"] == ["2022-09-06"]


def test_prose_place_and_content_in_the_sentence_of_the_date():
    text = ("我局计划于2022年9月7日上午组织开展“健康西吉 你我共建”政府开放日活动，计划邀请各界群众代表二十五名，"
            "走进县人民医院，实地参观智慧医院建设成效，并召开座谈会。")
    f = _facts(text)
    assert f["activity_dates"] == ["2022-09-07"] and f["participants"] == 25
    assert f["place"] == "县人民医院" and "实地参观" in f["content"]
    # inviting people is not, by itself, a description of the activity
    assert _facts("邀请对象：社区工作者、群众代表等30人。")["content"] is None


def test_theme_after_its_own_wording():
    """本次活动主题为“…” and a 主题及内容 cell (主题：“…”；内容：…) give the quoted theme; a unit name
    between the theme and “政府开放日” does not hide it."""
    assert _facts("二、活动主题\n本次活动主题为“阳光政务 贴心服务”。\n")["theme"] == "阳光政务 贴心服务"
    assert _facts("活动主题及内容\t主题：“水润民生”；内容：参观水厂，召开座谈会。\n")["theme"] == "水润民生"
    assert _facts("一、活动主题\n“优化服务环境 建设满意政府”城关街道“政府开放日”活动\n")["theme"] == \
        "优化服务环境 建设满意政府"


def test_value_that_restates_its_label():
    """活动地点：主要参观地点：… (prose, heading, table) is the place, not 主要."""
    for text in ("活动地点：主要参观地点：县人民医院、县疾控中心。\n活动安排：参观\n",
                 "四、活动地点\n主要参观地点：县人民医院、县疾控中心\n五、活动安排\n",
                 "活动地点\t主要参观地点：县人民医院、县疾控中心\n"):
        assert _facts(text)["place"] == "县人民医院、县疾控中心", text
    # a name before the label is still the contact's value
    f = _facts("联系人\n马晓燕，联系电话：0954-3012103\n")
    assert f["contact"] == "马晓燕" and f["phone"] == "0954-3012103"


def test_contact_after_contact_word_in_a_combined_field():
    f = _facts("联系方式：联系人周静，电话0954-3015566\n")
    assert f["contact"] == "周静" and f["phone"] == "0954-3015566"


def test_visit_words_for_open_forms():
    assert _facts("邀请群众代表观摩部分站所办公地点，体验办公流程")["forms"] == ["进机关"]
    assert _facts("组织代表参观某村基层政务公开专区和村史馆")["forms"] == ["进现场"]


# --- what a scan's OCR gets wrong (our own sentences, degraded the way Tesseract degrades them) ---

@pytest.mark.parametrize("text, want", [
    ("2O22年9月5日", "2022年9月5日"),             # letter O for a zero
    ("l0月8日", "10月8日"),                       # l for a one
    ("2022年9月1丨日", "2022年9月11日"),
    ("9月5曰上午", "9月5日上午"),                   # 曰 / 白 / 目 for 日 after a day
    ("九月十二白", "九月十二日"),
    ("9月3目前报名", "9月3日前报名"),
    ("共25入参加", "共25人参加"),                   # 入 for 人 after a number
    ("参加入员", "参加人员"),
    ("15:00一17:30", "15:00-17:30"),              # 一 for the dash between times
    ("《一）座谈交流", "(一)座谈交流"),               # 《 〈 for an opening bracket of a list number
    ("，，二、活动地点", "二、活动地点"),              # specks before a heading
    ("、活动地点", "活动地点"),                       # its number lost
    ("|活动时间\t2022年9月5日|", "活动时间\t2022年9月5日"),   # a table's ruling
    ("群众代表等不|少于30人", "群众代表等不少于30人"),
])
def test_ocr_look_alikes_are_repaired(text, want):
    assert NormText(text).text == want


@pytest.mark.parametrize("text", [
    "项目建设", "深入基层", "录入员", "收入数据", "加入员工队伍", "一是参观", "第一二批",
    "Office 2010", "邮箱lixia2022@163.com", "参加群众人数 | 26人", "十一月", "（一）实地参观",
])
def test_ocr_repairs_leave_real_writing_alone(text):
    assert NormText(text).text == NormText(text).text and _nfkc_only(text) == NormText(text).text


def _nfkc_only(text):
    import unicodedata
    return unicodedata.normalize("NFKC", text).replace("\u3007", "〇")


def test_ocr_repaired_facts_keep_the_span_of_what_the_scan_says():
    text = "县民政局“政府开放日”活动公告\n二、活动时间\n2O22年9月6曰上午9:00\n三、参加人数\n3O入"
    f = extract_facts(text, kind="plan", year=Y)
    assert f.dates() == [d(9, 6)] and f.value("participants") == 30
    assert f.activity_dates[0].source_text.startswith("2O22年9月6曰")
    assert f.participants.source_text == "3O入"


def test_heading_with_specks_or_a_lost_number_still_labels_its_value():
    text = ("县林草局“政府开放日”活动方案\n，二、活动时间\n2022年9月16日上午9:30\n"
            "、活动地点\n县林草局三楼会议室\n四、参加人数\n30人")
    f = extract_facts(text, kind="plan", year=Y)
    assert f.dates() == [d(9, 16)] and f.value("place") == "县林草局三楼会议室"


def test_label_glued_to_its_date_in_a_scanned_table_row():
    f = extract_facts("项目\t内容\n活动时间2022年9月8日(暂定)\n活动地点\t县医保局", kind="plan", year=Y)
    assert f.dates() == [d(9, 8)]


def test_speck_between_month_and_day():
    assert parse_dates("活动时间：2022年9月.16日（星期五）", Y) == [d(9, 16)]


def test_date_opening_a_paragraph_whose_sentence_a_speck_cut_short():
    # the scan put a full stop in the middle of the sentence that says the activity was held
    text = ("县医保局开展“政府开放日”活动\n9月21日，为保障群众的知情权、参与权。和监督权，"
            "县医保局开展“政府开放日”活动，邀请群众代表参观医保服务大厅。")
    f = extract_facts(text, kind="summary", year=Y)
    assert f.dates("held_dates") == [d(9, 21)]


def test_a_paragraphs_leading_date_yields_to_the_sentence_that_says_held():
    text = "县人防办“政府开放日”活动方案\n9月18日是全民国防教育日前后。本次活动定于9月16日开展，邀请群众参观指挥所。"
    assert extract_facts(text, kind="plan", year=Y).dates() == [d(9, 16)]


@pytest.mark.parametrize("text, want", [
    ("联系电话:0954:3012103", "0954-3012103"),         # colon read for the dash
    ("请拨打0954-\n3012103报名", "0954-3012103"),        # broken at the line's end after the dash
    ("联系电话;，\n10954-3012103。", "0954-3012103"),   # the table's ruling read as 1 before it
    ("手机139-\n0954-1234", "13909541234"),
])
def test_phone_as_a_scan_writes_it(text, want):
    assert parse_phone(text) == want
