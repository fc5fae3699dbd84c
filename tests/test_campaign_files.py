"""Campaigns as data: the shipped campaign files, the four forms of due date, the annual
report's checks, the monthly return's 无内容报送, and templates that name no campaign.

GIVEN the campaign files in rules/ (and small variants written here),
WHEN they are loaded, asked for due dates, and used to check documents and derive progress,
THEN every date and word comes from the file: fixed, per-unit, activity-derived and recurring
due dates (moved past weekends and holidays), a report missing a section gets a finding that
names it, a short "本月无内容报送" is that month's return, and a bad file is refused in Chinese
naming the file and the key.
"""
from __future__ import annotations

import ast
import json
import re
import shutil
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from mailbot.campaign import CampaignError, Roster, load_campaign, load_roster
from mailbot.cli import main
from mailbot.documents import check, docread
from mailbot.documents.check import check_document, check_text, compile_checks
from mailbot.mailin.identify import own_text
from mailbot.office import progress
from mailbot.office.workcalendar import WorkCalendar
from mailbot.store.ledger import Ledger
from mailbot.vocab import UnitStatus

from reportdocs import SECTIONS, report_docx

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "rules"
TZ = ZoneInfo("Asia/Shanghai")
D = date
SHIPPED = ("open-day-2022.toml", "annual-report-2022.toml", "monthly-return-2023.toml")
NATIONAL = WorkCalendar()                   # the State Council's holidays (chinesecalendar), no local file


@pytest.fixture(scope="module")
def annual():
    return load_campaign(RULES / "annual-report-2022.toml")


@pytest.fixture(scope="module")
def monthly():
    return load_campaign(RULES / "monthly-return-2023.toml")


def variant(tmp_path: Path, name: str, old: str, new: str) -> Path:
    """A copy of the shipped file NAME with OLD replaced by NEW (the replacement must happen)."""
    text = (RULES / name).read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / name
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


# --- the shipped files ----------------------------------------------------------------------

def test_shipped_campaigns_load_with_distinct_ids_and_use_every_rule_type_but_seal():
    campaigns = [load_campaign(RULES / n) for n in SHIPPED]
    assert len({c.id for c in campaigns}) == 3
    used = {r.type for c in campaigns for r in compile_checks(c)}
    assert used == set(check.RULE_TYPES) - {"seal"}        # seal: shipped commented (no notice asks for one)
    for c in campaigns:
        assert c.name and c.basis and all(k.ask for k in c.kinds.values())


def test_a_collection_without_activity_uses_its_accept_window(annual):
    assert not annual.has_activity and annual.fixed_dates == ()
    assert (annual.accept_from, annual.accept_until) == (D(2022, 12, 15), D(2023, 3, 31))
    assert (annual.window_start, annual.window_end) == (annual.accept_from, annual.accept_until)
    assert list(annual.kinds) == ["report"] and annual.kind("report").label == "年度报告"


# --- due dates: fixed, per unit, derived, recurring ------------------------------------------

def test_fixed_due_date_is_every_units(annual):
    for unit in ("西吉县民政局", "财政局", None):
        (due,) = annual.due_for("report", unit, D(2023, 1, 10), NATIONAL)
        assert due.due == D(2023, 1, 31) and due.period is None


def test_per_unit_due_dates_match_names_loosely_and_reach_progress(tmp_path, campaign, roster):
    path = variant(tmp_path, "open-day-2022.toml", "[kinds.adjustment]",
                   '[kinds.plan.due_by_unit]\n"县民政局" = 2022-08-19\n\n[kinds.adjustment]')
    c = load_campaign(path)
    assert c.due_for("plan", "西吉县民政局", roster=roster)[0].due == D(2022, 8, 19)
    assert c.due_for("plan", "民政局", roster=roster)[0].due == D(2022, 8, 19)
    assert c.due_for("plan", "西吉县财政局", roster=roster)[0].due == D(2022, 8, 26)
    ledger = Ledger(tmp_path / "l.sqlite3")
    try:
        states = {s.unit.name: s for s in progress.unit_states(ledger, c, roster, D(2022, 8, 20))}
    finally:
        ledger.close()
    assert states["西吉县民政局"].deadlines.plan_due == D(2022, 8, 19)
    assert states["西吉县民政局"].plan_status == UnitStatus.OVERDUE
    assert states["西吉县财政局"].plan_status == UnitStatus.NOT_SUBMITTED


def test_derived_due_dates_as_before(campaign):
    """The open-day deadlines progress derived before due_for existed, from the activity date."""
    on = lambda kind, activity: campaign.due_for(kind, activity=activity)[0].due
    assert on("feedback", D(2022, 9, 6)) == D(2022, 9, 21)           # activity + 15
    assert on("adjustment", D(2022, 9, 6)) == D(2022, 9, 3)          # activity − 3
    assert on("summary", D(2022, 9, 6)) == D(2022, 9, 20)            # the fixed date stands …
    assert on("summary", D(2022, 10, 20)) == D(2022, 11, 4)          # … unless the activity is later
    assert campaign.due_for("feedback") == ()                        # no activity date: not known yet
    dl = progress.deadlines_for(campaign, D(2022, 10, 20))
    assert dl == progress.Deadlines(plan_due=D(2022, 8, 26), announce_due=D(2022, 10, 5),
                                    adjust_cutoff=D(2022, 10, 17), summary_due=D(2022, 11, 4),
                                    feedback_due=D(2022, 11, 4))


def test_a_rules_file_without_the_summarys_own_window_keeps_the_old_rule(tmp_path, campaign):
    """Copies made by `mailbot init` before summaries had days_after_activity said it in a comment."""
    path = variant(tmp_path, "open-day-2022.toml", "days_after_activity = 15          # 活动在", "# 活动在")
    old = load_campaign(path)
    assert old.kind("summary").days_after_activity is None
    for activity in (D(2022, 9, 6), D(2022, 9, 20), D(2022, 10, 20), None):
        assert progress.deadlines_for(old, activity) == progress.deadlines_for(campaign, activity)


def test_monthly_returns_are_due_the_10th_shifted_past_weekends(monthly):
    dues = monthly.due_for("monthly", None, D(2023, 12, 31), NATIONAL)
    assert [(d.period, d.due) for d in dues] == [
        ("2023-01", D(2023, 2, 10)), ("2023-02", D(2023, 3, 10)), ("2023-03", D(2023, 4, 10)),
        ("2023-04", D(2023, 5, 10)), ("2023-05", D(2023, 6, 12)),       # 6-10 is a Saturday
        ("2023-06", D(2023, 7, 10)), ("2023-07", D(2023, 8, 10)), ("2023-08", D(2023, 9, 11)),
        ("2023-09", D(2023, 10, 10)), ("2023-10", D(2023, 11, 10)), ("2023-11", D(2023, 12, 11)),
        ("2023-12", D(2024, 1, 10))]
    assert dues[2].label == "2023年3月" and (dues[2].start, dues[2].end) == (D(2023, 3, 1), D(2023, 3, 31))
    # as of a day: the periods begun by then
    assert [d.period for d in monthly.due_for("monthly", "县民政局", D(2023, 4, 5), NATIONAL)] == \
        ["2023-01", "2023-02", "2023-03", "2023-04"]
    assert monthly.due_for("monthly", None, D(2023, 1, 15), NATIONAL)[0].due == D(2023, 2, 10)


def test_the_shift_follows_holidays_make_up_days_and_the_local_file(tmp_path):
    """Due on the 1st: 2023-10-01 is National Day; the next working day is Saturday 10-07 (调休上班),
    the previous one Thursday 9-28 (9-29 is 中秋节); a local holiday moves it again."""
    nxt = load_campaign(variant(tmp_path, "monthly-return-2023.toml", "day = 10", "day = 1"))
    sept = lambda c, cal: next(d.due for d in c.due_for("monthly", None, D(2023, 12, 31), cal) if d.period == "2023-09")
    assert sept(nxt, NATIONAL) == D(2023, 10, 7)
    prev_path = tmp_path / "prev" / "monthly-return-2023.toml"
    prev_path.parent.mkdir()
    prev_path.write_text(nxt.source.read_text(encoding="utf-8").replace(
        'shift = "next_workday"', 'shift = "previous_workday"'), encoding="utf-8")
    assert sept(load_campaign(prev_path), NATIONAL) == D(2023, 9, 28)
    local = WorkCalendar(extra_holidays=frozenset({D(2023, 4, 10)}))
    monthly = load_campaign(RULES / "monthly-return-2023.toml")
    march = [d for d in monthly.due_for("monthly", None, D(2023, 4, 30), local) if d.period == "2023-03"]
    assert march[0].due == D(2023, 4, 11)


def test_quarterly_returns(tmp_path):
    path = variant(tmp_path, "monthly-return-2023.toml", 'every = "month"', 'every = "quarter"')
    with pytest.raises(CampaignError, match="季度的第一个月"):         # last_period "2023-12" starts no quarter
        load_campaign(path)
    path.write_text(path.read_text(encoding="utf-8").replace('last_period = "2023-12"', 'last_period = "2023-10"'),
                    encoding="utf-8")
    q = load_campaign(path)
    assert [(d.period, d.label, d.due) for d in q.due_for("monthly", None, D(2023, 12, 31), NATIONAL)] == [
        ("2023-Q1", "2023年第一季度", D(2023, 4, 10)), ("2023-Q2", "2023年第二季度", D(2023, 7, 10)),
        ("2023-Q3", "2023年第三季度", D(2023, 10, 10)), ("2023-Q4", "2023年第四季度", D(2024, 1, 10))]
    assert q.period_of("monthly", D(2023, 5, 20), "县民政局一季度政务信息").period == "2023-Q1"


def test_a_return_belongs_to_the_month_it_names_else_the_month_just_ended(monthly):
    period = lambda day, subject: monthly.period_of("monthly", day, subject, NATIONAL).period
    assert period(D(2023, 4, 5), "县民政局政务公开信息") == "2023-03"
    assert period(D(2023, 4, 12), "县民政局政务公开信息（补报）") == "2023-03"
    assert period(D(2023, 3, 30), "县民政局2023年3月政务公开信息") == "2023-03"
    assert period(D(2023, 5, 6), "县民政局三月份政务公开信息") == "2023-03"
    assert period(D(2024, 1, 4), "县民政局12月无内容报送") == "2023-12"
    assert monthly.period_of("monthly", D(2023, 1, 25), "县民政局政务公开信息") is None    # nothing ended yet


# --- a bad file is refused in Chinese, naming the file and the key ---------------------------

@pytest.mark.parametrize("old, new, words", [
    ('every = "month"', 'every = "week"', ["[kinds.monthly]", "every", "month"]),
    ('every = "month"', 'every = "month"\ndue = 2023-02-10', ["[kinds.monthly]", "every", "due"]),
    ('first_period = "2023-01"', "first_period = 2023-01-01", ["first_period", "2023-01"]),
    ('shift = "next_workday"', 'shift = "顺延"', ["shift", "next_workday"]),
    ("day = 10", "dayz = 10", ["dayz", "不是可用的键"]),
    ("day = 10", "day = 32", ["day", "1 到 31"]),
    ('last_period = "2023-12"', 'last_period = "2022-12"', ["last_period", "早于"]),
    ("accept_from = 2023-01-20", "", ["accept_from", "没有 [activity]"]),
    ('ask = "请将本单位{period}', 'ask = "请将本单位{email}', ["ask", "{email}", "{mailbox}"]),
    ('name = "政务公开"', 'titel = "政务公开"', ["[wording]", "titel"]),
    ('empty_return_words = ["无内容报送"', 'empty_return_words = [""', ["empty_return_words"]),
])
def test_bad_campaign_files_are_refused_naming_file_and_key(tmp_path, old, new, words):
    path = variant(tmp_path, "monthly-return-2023.toml", old, new)
    with pytest.raises(CampaignError) as e:
        load_campaign(path)
    msg = str(e.value)
    assert str(path) in msg and re.search(r"[\u4e00-\u9fff]", msg)
    for w in words:
        assert w in msg, (w, msg)


@pytest.mark.parametrize("old, new, words", [
    ("min_found = 4", "min_found = 9", ["table-review", "min_found", "6"]),
    ('item = "一、总体情况"\nany = ["总体情况"]', 'item = "一、总体情况"\nfacts = ["theme"]',
     ["report-sections", "any", "facts"]),
    ('type = "table"', 'type = "tables"', ["table-active", "tables", "headings"]),
])
def test_bad_checks_are_refused_naming_the_check_and_key(tmp_path, old, new, words):
    c = load_campaign(variant(tmp_path, "annual-report-2022.toml", old, new))
    with pytest.raises(CampaignError) as e:
        compile_checks(c)
    for w in words:
        assert w in str(e.value), (w, str(e.value))


# --- the annual report ---------------------------------------------------------------------

def read(data: bytes, name: str = "西吉县民政局2022年政府信息公开工作年度报告.docx"):
    (doc,) = docread.read_document(data, name)
    assert doc.readable
    return doc


def check_report(annual, data: bytes, received: date = D(2023, 1, 20)):
    return check_document(read(data), campaign=annual, roster=None, kind=None, unit="西吉县民政局",
                          received=received)


@pytest.mark.parametrize("numbering", ["一、", "1.", "（一）", "第一部分", "一 "])
def test_a_complete_report_passes_however_its_headings_are_numbered(annual, numbering):
    r = check_report(annual, report_docx(numbering=numbering))
    assert r.kind == "report" and r.outcome == "待审核" and r.findings == ()


@pytest.mark.parametrize("n", range(1, 7))
def test_a_missing_section_is_named_though_the_introduction_lists_it(annual, n):
    """The introduction says 全文包括总体情况、主动公开政府信息情况……: that is not a heading."""
    r = check_report(annual, report_docx(omit_section=n))
    assert r.outcome == "需修改"
    named = [f for f in r.findings if f.rule == "report-sections"]
    assert [f.item for f in named] == [f"{'一二三四五六'[n - 1]}、{SECTIONS[n - 1]}"]
    assert f"缺少“{named[0].item}”部分" in named[0].message and named[0].clause == "第五十条"
    tables = {f.item for f in r.findings if f.rule.startswith("table-")}
    assert tables == ({f"{named[0].item}统计表"} if n in (2, 3, 4) else set())


def test_what_is_not_a_heading(annual):
    """A sentence that mentions a title, a paragraph opening with 一年来, a table of contents in one
    sentence after a colon… only the first two are not headings (the last is numbered)."""
    sections = "\n".join(f"{'一二三四五六'[n - 1]}、{t}\n本部分内容。" for n, t in enumerate(SECTIONS, 1) if n != 1)
    for lead in ("本报告全文包括总体情况、主动公开政府信息情况等六部分。",
                 "一年来，我局政府信息公开工作总体情况良好，各项工作有序推进，取得了明显成效，群众满意度持续提升。"):
        r = check_text(lead + "\n" + sections, campaign=annual, roster=None, kind="report", unit=None, received=None)
        assert [f.item for f in r.findings if f.rule == "report-sections"] == ["一、总体情况"], lead
    flat = "工作情况如下。一、总体情况2022年，我局……。" + sections.replace("\n", "")     # a PDF's text without lines
    r = check_text(flat, campaign=annual, roster=None, kind="report", unit=None, received=None)
    assert [f for f in r.findings if f.rule == "report-sections"] == []


@pytest.mark.parametrize("n", (2, 3, 4))
def test_a_missing_statistics_table_is_named(annual, n):
    r = check_report(annual, report_docx(omit_table=n))
    (f,) = r.findings
    assert r.outcome == "需修改" and f.severity == "错误"
    assert f.item == f"{'一二三四五六'[n - 1]}、{SECTIONS[n - 1].replace('、', '、')}统计表"
    assert f"没有找到“{f.item}”" in f.message and "未找到：" in f.message


def test_a_late_report_and_last_years_report_get_hints(annual):
    late = check_report(annual, report_docx(), received=D(2023, 2, 3))
    assert late.outcome == "待审核"
    assert [(f.rule, f.severity) for f in late.findings] == [("report-due", "提醒")]
    assert "2023年1月31日" in late.findings[0].message and "已逾期3天" in late.findings[0].message
    old = check_report(annual, report_docx(year=2021))
    assert [f.rule for f in old.findings] == ["report-year"]


def test_check_cli_with_rules_names_the_missing_section(tmp_path, capsys):
    good, bad = tmp_path / "民政局年度报告.docx", tmp_path / "财政局年度报告.docx"
    good.write_bytes(report_docx())
    bad.write_bytes(report_docx("西吉县财政局", omit_section=5))
    nowhere = str(tmp_path / "no-config.ini")
    code = main(["--config", nowhere, "check", "--json", "--rules", str(RULES / "annual-report-2022.toml"),
                 str(good), str(bad)])
    out = json.loads(capsys.readouterr().out)
    assert code == 1                                           # one report needs fixing
    assert [(r["kind"], r["kind_label"], r["outcome"]) for r in out] == [
        ("report", "年度报告", "待审核"), ("report", "年度报告", "需修改")]
    assert out[0]["findings"] == []
    assert [f["item"] for f in out[1]["findings"]] == ["五、存在的主要问题及改进情况"]
    # a file name under the rules folder works too, and --kind must be one of its kinds
    assert main(["--config", nowhere, "check", "--rules", "annual-report-2022", "--kind", "report", str(good)]) == 0
    capsys.readouterr()
    assert main(["--config", nowhere, "check", "--rules", "annual-report-2022.toml", "--kind", "plan", str(good)]) == 2
    assert "report（年度报告）" in capsys.readouterr().err
    assert main(["--config", nowhere, "check", "--rules", "no-such-campaign.toml", str(good)]) == 2
    assert "找不到规则文件" in capsys.readouterr().err


def test_check_without_rules_still_uses_the_configured_open_day_campaign(tmp_path, capsys):
    f = tmp_path / "民政局实施方案.docx"
    f.write_bytes(report_docx())
    main(["--config", str(tmp_path / "no-config.ini"), "check", "--json", str(f)])
    (r,) = json.loads(capsys.readouterr().out)
    assert r["kind"] == "plan"                                  # not the annual report, though it sorts first


# --- the monthly return and 无内容报送 ------------------------------------------------------

def test_a_short_no_content_mail_is_that_months_return(monthly):
    body = docread.DocText(name="邮件正文", kind="text", text=own_text(
        "您好：\n我局2023年3月无政务公开信息，本月无内容报送。\n县民政局 张三\n\n-----原始邮件-----\n发件人：xjxzwgkb@163.com"),
        readable=True)
    r = check_document(body, campaign=monthly, roster=None, kind="monthly", unit="西吉县民政局",
                       received=D(2023, 4, 6))
    assert r.outcome == "待审核"
    assert [(f.rule, f.severity, f.item) for f in r.findings] == [("empty-return", "提醒", "无内容报送")]
    # only the subject says it; the body is empty
    r = check_text("", campaign=monthly, roster=None, kind="monthly", unit="西吉县民政局", received=D(2023, 4, 6),
                   subject="县民政局2023年3月无内容报送")
    assert r.outcome == "待审核" and r.findings[0].rule == "empty-return"


def test_a_real_return_that_mentions_benyuewu_is_checked_as_a_return(monthly):
    text = ("西吉县民政局2023年3月政务公开信息报送表\n序号\t信息标题\t发布时间\t公开渠道\n"
            + "".join(f"{i}\t关于做好2023年城乡低保动态管理工作的通知（第{i}批）\t2023-03-{i + 5:02d}\t县政府门户网站\n"
                      for i in range(1, 9))
            + "说明：本月无重大突发事件信息。")
    r = check_text(text, campaign=monthly, roster=None, kind="monthly", unit="西吉县民政局", received=D(2023, 4, 6))
    assert r.outcome == "待审核" and r.findings == ()
    r = check_text("本月无内容报送", campaign=load_campaign(RULES / "open-day-2022.toml"), roster=None, kind="plan",
                   unit=None, received=None)
    assert r.findings[0].rule == "no-text"                     # a kind without empty_return_words: no such thing


def test_period_states_show_no_content_returns_and_overdue_months(tmp_path, monthly):
    roster = load_roster(RULES / "units.csv", monthly.region)
    ledger = Ledger(tmp_path / "l.sqlite3")
    uid = 0

    def filed(unit: str, day: date, subject: str, outcome: str = "待审核", findings=()) -> int:
        nonlocal uid
        uid += 1
        with ledger.transaction():
            mid = ledger.add_message(
                source="test", uidvalidity=1, uid=uid, received_at=datetime.combine(day, time(10), TZ), size=900,
                sha256=f"{uid:064x}", message_id=f"<r{uid}@test>", subject=subject,
                from_addr=roster.get(unit).emails[0], from_name="", status="filed", unit=roster.get(unit).name,
                kind="monthly", version=ledger.next_version(roster.get(unit).name, "monthly"), duplicate_of=None,
                outcome=outcome, facts={}, problems=[], reason=None, campaign=monthly.id)
            for f in findings:
                ledger.add_finding(mid, None, f.rule, f.severity, f.item, f.message, f.clause)
        return mid

    body = check_text("本月无内容报送。", campaign=monthly, roster=roster, kind="monthly", unit="西吉县民政局",
                      received=D(2023, 4, 3))
    try:
        filed("民政局", D(2023, 2, 8), "县民政局1月政务公开信息")
        filed("民政局", D(2023, 4, 3), "县民政局政务公开信息", findings=body.findings)    # said so in the body
        filed("财政局", D(2023, 4, 3), "县财政局2023年3月无内容报送", outcome="需人工审核")   # only the subject
        states = progress.period_states(ledger, monthly, roster, "monthly", D(2023, 4, 11), calendar=NATIONAL)
    finally:
        ledger.close()
    by = {(s.unit.name, s.due.period): s for s in states}
    assert len(states) == len(roster.units) * 4
    assert by[("西吉县民政局", "2023-01")].status == UnitStatus.PENDING
    assert by[("西吉县民政局", "2023-02")].status == UnitStatus.OVERDUE          # due 3-10, nothing came
    assert by[("西吉县民政局", "2023-03")].status == UnitStatus.EMPTY_RETURN == "已提交（无内容）"
    assert by[("西吉县财政局", "2023-03")].status == UnitStatus.EMPTY_RETURN
    assert by[("西吉县财政局", "2023-04")].status == UnitStatus.NOT_SUBMITTED    # due 5-10
    assert UnitStatus.EMPTY_RETURN.passing


def test_progress_tracks_the_annual_report_of_each_unit(tmp_path, annual):
    roster = load_roster(RULES / "units.csv", annual.region)
    ledger = Ledger(tmp_path / "l.sqlite3")
    unit = roster.get("民政局")
    try:
        with ledger.transaction():
            ledger.add_message(
                source="test", uidvalidity=1, uid=1, received_at=datetime.combine(D(2023, 1, 20), time(9), TZ),
                size=90_000, sha256="a" * 64, message_id="<a1@test>", subject="西吉县民政局2022年政府信息公开工作年度报告",
                from_addr=unit.emails[0], from_name="", status="filed", unit=unit.name, kind="report", version=1,
                duplicate_of=None, outcome="需修改", facts={}, problems=[], reason=None, campaign=annual.id)
        before = {s.unit.name: s for s in progress.unit_states(ledger, annual, roster, D(2023, 1, 31))}
        after = {s.unit.name: s for s in progress.unit_states(ledger, annual, roster, D(2023, 2, 1))}
    finally:
        ledger.close()
    assert before[unit.name].status_for("report") == after[unit.name].status_for("report") == UnitStatus.NEEDS_FIX
    assert before[unit.name].submission_for("report").subject.endswith("年度报告")
    assert before["西吉县财政局"].status_for("report") == UnitStatus.NOT_SUBMITTED
    assert after["西吉县财政局"].status_for("report") == UnitStatus.OVERDUE
    assert after["西吉县财政局"].deadlines.due_for("report") == D(2023, 1, 31)
    assert after["西吉县财政局"].plan_status == UnitStatus.NOT_SUBMITTED     # no plan in this collection


def test_the_annual_report_is_reminded_in_its_own_words_past_the_spring_festival(tmp_path, annual):
    """Due Tuesday 2023-01-31; 春节 1-21…27, 1-28/29 worked: five working days before is 1-19."""
    from schedsupport import World
    from mailbot.office import remind
    w = World(tmp_path)
    try:
        cal = WorkCalendar()
        steps = dict((s, d) for s, d, _ in remind.Policy.from_campaign(annual).steps(D(2023, 1, 31), cal))
        assert steps == {"before-5": D(2023, 1, 19), "before-2": D(2023, 1, 29), "due": D(2023, 1, 31),
                         "overdue-1": D(2023, 2, 1), "overdue-2": D(2023, 2, 3), "overdue-3": D(2023, 2, 7)}
        rs = remind.plan_reminders(w.ledger, annual, w.roster, cal, D(2023, 1, 29))     # a worked Sunday
        assert len(rs) == len(w.roster.units) and {r.kind for r in rs} == {"report"}
        r = rs[0]
        assert r.ref.endswith("R") and r.due == D(2023, 1, 31)
        subject, text, html = remind.render(w.templates, w.config, annual, r)
        assert subject.startswith(f"催报：{r.unit.name}年度报告将于2023年1月31日截止")
        assert "对照《中华人民共和国政府信息公开工作年度报告格式》编写本单位2022年政府信息公开工作年度报告" in text
        assert "于2023年1月31日前将电子版发送至 xjxzwgkb@163.com" in text and "（依据：《条例》第四十九条）" in text
        assert "<b>xjxzwgkb@163.com</b>" in html and "政府开放日" not in text + html
    finally:
        w.close()


# --- templates and code name no campaign -------------------------------------------------------

CAMPAIGN_WORDS = re.compile(r"政府开放日|西吉")
YEAR_IN_WORDS = re.compile(r"20\d\d\s*年")        # a year as a campaign writes it (2022年, 2022年度)


def _string_literals(path: Path) -> list[tuple[int, str]]:
    """Every string constant in PATH that is not a docstring (comments are not constants)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docs.add(id(first.value))
    return [(n.lineno, n.value) for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs]


# the self-test document's text must equal what mailbot/documents/selftest.doc holds (a binary file)
ALLOWED = {("documents/docprobe.py", "mailbot 自检文档：西吉县“政府开放日”实施方案"),
           ("doctor.py", "政府开放日")}      # what doctor looks for in an older mailbot's templates


def test_templates_and_code_name_no_campaign():
    for path in sorted((ROOT / "templates").glob("*.j2")):
        text = path.read_text(encoding="utf-8")
        assert not CAMPAIGN_WORDS.search(text) and "2022" not in text, path.name
    code = ROOT / "mailbot"
    for path in sorted(code.rglob("*.py")):
        rel = path.relative_to(code).as_posix()
        if rel.startswith(("demo/", "rules/")):
            continue
        for line, value in _string_literals(path):
            if (rel, value) in ALLOWED:
                continue
            assert not CAMPAIGN_WORDS.search(value) and not YEAR_IN_WORDS.search(value), f"{rel}:{line}: {value[:60]}"


def test_the_templates_render_a_campaigns_own_words(tmp_path, annual):
    """The 审核结果 subject and the 催报 request of another campaign carry its words, not the open day's."""
    from mailbot.mailout.compose import Templates
    templates = Templates(ROOT / "templates")
    kind = annual.kind("report")
    text = kind.ask_text(mailbox="xjxzwgkb@163.com", due="2023年1月31日", notice=annual.notice, unit="西吉县民政局")
    assert "2022年政府信息公开工作年度报告" in text and "2023年1月31日前" in text and "xjxzwgkb@163.com" in text
    html = str(kind.ask_html(mailbox="<x>@163.com", due="2023年1月31日", notice=annual.notice))
    assert "<b>&lt;x&gt;@163.com</b>" in html
    subject, _, _ = templates.render("review", unit="西吉县民政局", campaign=annual, label=kind.label,
                                     plan=type("P", (), {"version": 1, "received_at": datetime(2023, 1, 20, tzinfo=TZ)}),
                                     decision="已备案", ref="R-1", approved=True, deadlines=progress.deadlines_for(
                                         annual, None), state=None, office="县政务公开办", reason="",
                                     announce_passed=False, cutoff_passed=False)
    assert subject.startswith("审核结果：西吉县民政局2022年政府信息公开工作年度报告（第1版）已备案")


# --- polled with both shipped campaigns --------------------------------------------------------

def test_a_poll_files_reports_in_their_campaign_and_the_ack_names_the_missing_section(tmp_path):
    """GIVEN an office running the open day and the annual report from one mailbox (Maildir in,
    outbox out), WHEN two departments send their reports, one without section 五, THEN both are
    filed under the report's archive and the incomplete one's 回执 names 五、存在的主要问题及改进情况."""
    import email as email_lib
    from datetime import timedelta, timezone
    from email import policy
    from mailbot.app import open_app
    from mailbot.defaults import init_folder
    from mailbot.demo import samples
    from mailbot.office.jobs import Jobs

    cst = timezone(timedelta(hours=8))
    init_folder(tmp_path, demo_keys=True)
    cfg = tmp_path / "config.ini"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace(
        "rules = open-day-2022.toml", "rules = open-day-2022.toml, annual-report-2022.toml"), encoding="utf-8")
    roster = load_roster(tmp_path / "rules" / "units.csv", "西吉县")
    mails = []
    for n, (unit, omit) in enumerate((("民政局", None), ("财政局", 5))):
        u = roster.get(unit)
        when = datetime(2023, 1, 18, 9 + n, tzinfo=cst)
        b = samples.MailBuilder(from_addr=u.emails[0], to="xjxzwgkb@163.com", date=when,
                                subject=f"{u.name}2022年政府信息公开工作年度报告")
        b.attach(f"{u.name}2022年政府信息公开工作年度报告.docx", report_docx(u.name, omit_section=omit))
        mails.append((when, b.build()))
    samples.write_maildir(tmp_path / "var" / "maildir", mails)
    app = open_app(cfg, "2023-01-20")
    try:
        jobs = Jobs(app)
        assert jobs.poll().filed == 2
        filed = sorted(app.ledger.messages(), key=lambda m: m.id)
        assert [(m.campaign, m.kind, m.outcome) for m in filed] == [
            ("2022-政府信息公开年报", "report", "待审核"), ("2022-政府信息公开年报", "report", "需修改")]
        assert all(m.raw_path.startswith(f"2022-政府信息公开年报/{m.unit}/年度报告/") for m in filed)
        jobs.deliver()
    finally:
        app.close()
    acks = {}
    for p in sorted((tmp_path / "var" / "outbox").glob("*.eml")):
        msg = email_lib.message_from_bytes(p.read_bytes(), policy=policy.default)
        acks[str(msg["Subject"])] = msg.get_body(("plain",)).get_content()
    bad = next(text for subject, text in acks.items() if "财政局" in subject)
    good = next(text for subject, text in acks.items() if "民政局" in subject)
    assert "【五、存在的主要问题及改进情况】年度报告缺少“五、存在的主要问题及改进情况”部分" in bad
    assert "（依据：《条例》第五十条）" in bad and "需修改" in bad
    assert "未发现问题" in good and "政府开放日" not in good + bad and "活动日期" not in good + bad
