"""Reminders: policy as data, working days only, never twice, never stale; a 2022 replay."""
import email
from collections import Counter
from datetime import date, timedelta
from email import policy as email_policy

import pytest

from mailbot.campaign import CampaignError
from mailbot.office.remind import Policy, format_reminders, plan_reminders, queue_reminders, run_remind

D = date


def parse(raw: bytes):
    return email.message_from_bytes(raw, policy=email_policy.default)


def test_policy_from_the_campaign_file(w):
    p = Policy.from_campaign(w.campaign)
    assert p.kinds == ("plan", "summary", "feedback")
    assert p.before_workdays == (3, 1, 0)
    assert (p.overdue_every_workdays, p.overdue_max, p.cc_office_from) == (2, 3, 2)
    steps = p.steps(D(2022, 8, 26), w.calendar())
    assert steps == [("before-3", D(2022, 8, 23), 0), ("before-1", D(2022, 8, 25), 0), ("due", D(2022, 8, 26), 0),
                     ("overdue-1", D(2022, 8, 29), 1), ("overdue-2", D(2022, 8, 31), 2),
                     ("overdue-3", D(2022, 9, 2), 3)]


def test_steps_around_national_day(w):
    # due on a holiday (10-01): "due" falls on the last working day before it, overdue after the break
    steps = dict((s, d) for s, d, _ in Policy.from_campaign(w.campaign).steps(D(2022, 10, 1), w.calendar()))
    assert steps["due"] == D(2022, 9, 30)
    assert steps["before-1"] == D(2022, 9, 29)
    assert steps["overdue-1"] == D(2022, 10, 8)       # 调休 Saturday
    assert steps["overdue-2"] == D(2022, 10, 10)


@pytest.mark.parametrize("table,needle", [
    ({"kinds": ["plan", "announce"]}, "kinds"),
    ({"before_workdays": [3, -1]}, "before_workdays"),
    ({"overdue_every_workdays": 0}, "overdue_every_workdays"),
])
def test_bad_policy_is_a_chinese_error(w, table, needle):
    from dataclasses import replace
    with pytest.raises(CampaignError, match=needle):
        Policy.from_campaign(replace(w.campaign, reminders=table))


def test_only_units_without_a_passing_plan(w):
    w.submit("民政局", "plan", D(2022, 8, 20))                          # 待审核: passing
    w.submit("财政局", "plan", D(2022, 8, 20), outcome="需修改", errors=(("温馨提示", "缺少温馨提示"),))
    w.submit("统计局", "plan", D(2022, 8, 20), outcome="需人工审核")    # a human decides: passing
    rs = plan_reminders(w.ledger, w.campaign, w.roster, w.calendar(), D(2022, 8, 23))
    names = {r.unit.name for r in rs}
    assert len(rs) == len(w.roster.units) - 2
    assert "西吉县民政局" not in names and "西吉县统计局" not in names
    fin = next(r for r in rs if r.unit.name == "西吉县财政局")
    assert fin.status == "需修改" and "需修改" in fin.reason and "温馨提示" in fin.reason
    other = next(r for r in rs if r.unit.name == "西吉县水务局")
    assert other.reason == "实施方案将于8月26日（星期五）截止，尚未收到你单位报送的实施方案。"
    assert other.to == ("xjswj@163.com",) and other.cc == ()


def test_queue_renders_and_never_twice(w):
    cal = w.calendar()
    first = queue_reminders(w.ledger, w.config, w.campaign, w.roster, cal, D(2022, 8, 23))
    assert len(first) == len(w.roster.units)
    assert queue_reminders(w.ledger, w.config, w.campaign, w.roster, cal, D(2022, 8, 23)) == []
    assert plan_reminders(w.ledger, w.campaign, w.roster, cal, D(2022, 8, 23)) == []
    rows = w.outgoing("reminder")
    assert len(rows) == len(w.roster.units)
    assert len({r.subject for r in rows}) == len(rows)              # varied subjects (163 spam filter)
    row = next(r for r in rows if r.unit == "西吉县民政局")
    msg = parse(row.raw)
    assert msg["Subject"].startswith("催报：西吉县民政局实施方案")
    assert "〔CB20220823-03P〕" in msg["Subject"]
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["To"] == "xjmzj@163.com, xjmzj_bgs@126.com"
    text = msg.get_body(("plain",)).get_content()
    assert "8月26日（星期五）截止" in text and "xjxzwgkb@163.com" in text and "三(四)" in text
    assert "CB20220823-03P" in text
    html = msg.get_body(("html",)).get_content()
    assert "催报编号" in html


def test_overdue_cc_office_from_the_second(w):
    cal = w.calendar()
    one = queue_reminders(w.ledger, w.config, w.campaign, w.roster, cal, D(2022, 8, 29))
    assert all(r.cc == () and r.step == "overdue-1" for r in one)
    two = queue_reminders(w.ledger, w.config, w.campaign, w.roster, cal, D(2022, 8, 31))
    assert all(r.cc == ("xjxzwgkb@163.com", "boss@example.cn") for r in two)
    msg = parse(next(r.raw for r in w.ledger.outgoing() if r.dedupe_key == two[0].dedupe_key))
    assert "boss@example.cn" in msg["Cc"] and "已逾期" in msg["Subject"]


def test_never_stale_and_not_on_holidays(w):
    cal = w.calendar()
    # 8-24 has no step for the plan deadline: the 8-23 step is not sent late
    assert plan_reminders(w.ledger, w.campaign, w.roster, cal, D(2022, 8, 24)) == []
    assert plan_reminders(w.ledger, w.campaign, w.roster, cal, D(2022, 8, 27)) == []   # Saturday
    assert plan_reminders(w.ledger, w.campaign, w.roster, cal, D(2022, 9, 12)) == []   # 中秋节


def test_unit_without_address_is_shown_not_queued(w, tmp_path):
    csv = w.config.rules / "units.csv"
    csv.write_text(csv.read_text(encoding="utf-8") + "西吉县档案馆,,,,\n", encoding="utf-8")
    from mailbot.campaign import load_roster
    roster = load_roster(csv, w.campaign.region)
    found = plan_reminders(w.ledger, w.campaign, roster, w.calendar(), D(2022, 8, 23))
    assert any(r.unit.name == "西吉县档案馆" and r.to == () for r in found)
    queued = queue_reminders(w.ledger, w.config, w.campaign, roster, w.calendar(), D(2022, 8, 23))
    assert all(r.unit.name != "西吉县档案馆" for r in queued)
    assert "名单中无邮箱" in format_reminders(found, D(2022, 8, 23), w.calendar())


def test_dry_run_table_and_holiday_message(w):
    found, text = run_remind(w.ledger, w.config, w.campaign, w.roster, D(2022, 8, 23), dry_run=True)
    assert len(found) == len(w.roster.units) and w.outgoing("reminder") == []
    assert "将发送 26 封催报" in text and "单位" in text and "原因" in text and "截止前3个工作日" in text
    _, text = run_remind(w.ledger, w.config, w.campaign, w.roster, D(2022, 10, 3), dry_run=True)
    assert "国庆节" in text and "不发送催报" in text
    _, text = run_remind(w.ledger, w.config, w.campaign, w.roster, D(2022, 8, 24), dry_run=True)
    assert "没有需要发送的催报" in text


def test_moved_deadline_gets_its_own_reminders(w):
    # an adjustment moves the activity: the feedback due date moves, so do its reminders
    w.submit("统计局", "plan", D(2022, 8, 20), facts={"activity_dates": ["2022-09-16"]})
    cal = w.calendar()
    assert any(r.unit.name == "西吉县统计局" and r.kind == "feedback"
               for r in plan_reminders(w.ledger, w.campaign, w.roster, cal, D(2022, 9, 30)))
    w.submit("统计局", "adjustment", D(2022, 9, 13), facts={"activity_dates": ["2022-09-26"]})
    assert not any(r.unit.name == "西吉县统计局" and r.kind == "feedback"
                   for r in plan_reminders(w.ledger, w.campaign, w.roster, cal, D(2022, 9, 30)))
    moved = [x for r in plan_reminders(w.ledger, w.campaign, w.roster, cal, D(2022, 10, 11))
             for x in (r, *r.also) if r.unit.name == "西吉县统计局" and x.kind == "feedback"]
    assert [(r.due, r.step) for r in moved] == [(D(2022, 10, 11), "due")]


# --- the 2022 campaign, day by day ------------------------------------------------------------

SUBMISSIONS = {   # arrive at 10:00, after that day's 09:00 reminders
    D(2022, 8, 18): [("民政局", "plan", {"activity_dates": ["2022-09-06"]}, "待审核")],
    D(2022, 8, 22): [("财政局", "plan", {"activity_dates": ["2022-10-20"]}, "需修改")],
    D(2022, 8, 24): [("农业农村局", "plan", {}, "待审核"),
                     ("统计局", "plan", {"activity_dates": ["2022-09-16"]}, "待审核")],
    D(2022, 8, 25): [("财政局", "plan", {"activity_dates": ["2022-10-20"]}, "待审核")],
    D(2022, 8, 29): [("审计局", "plan", {"activity_dates": ["2022-09-26"]}, "待审核")],
    D(2022, 9, 19): [("民政局", "summary", {}, "待审核"), ("统计局", "summary", {}, "待审核")],
    D(2022, 9, 30): [("民政局", "feedback", {}, "待审核")],
}

# day → {kind:step: count}. 26 units. Fixed-date units' feedback is due 9-20..9-23; 统计局's
# feedback is due 10-01 (holiday: "due" on 9-30, overdue from 10-08); 审计局 (activity 9-26)
# owes summary and feedback on 10-11, so its before-3 step lands on the 调休 Saturday 10-08.
EXPECTED = {
    D(2022, 8, 23): {"plan:before-3": 25},
    D(2022, 8, 25): {"plan:before-1": 23},
    D(2022, 8, 26): {"plan:due": 22},
    D(2022, 8, 29): {"plan:overdue-1": 22},
    D(2022, 8, 31): {"plan:overdue-2": 21},
    D(2022, 9, 2): {"plan:overdue-3": 21},
    D(2022, 9, 15): {"summary:before-3": 24, "feedback:before-3": 2},
    D(2022, 9, 16): {"feedback:before-3": 2},
    D(2022, 9, 19): {"summary:before-1": 24, "feedback:before-1": 2, "feedback:before-3": 2},
    D(2022, 9, 20): {"summary:due": 22, "feedback:due": 2, "feedback:before-1": 2, "feedback:before-3": 2},
    D(2022, 9, 21): {"summary:overdue-1": 22, "feedback:overdue-1": 2, "feedback:due": 2, "feedback:before-1": 2},
    D(2022, 9, 22): {"feedback:overdue-1": 2, "feedback:due": 2, "feedback:before-1": 2},
    D(2022, 9, 23): {"summary:overdue-2": 22, "feedback:overdue-2": 2, "feedback:overdue-1": 2, "feedback:due": 2},
    D(2022, 9, 26): {"feedback:overdue-2": 2, "feedback:overdue-1": 2},
    D(2022, 9, 27): {"summary:overdue-3": 22, "feedback:overdue-3": 2, "feedback:overdue-2": 2,
                     "feedback:before-3": 1},
    D(2022, 9, 28): {"feedback:overdue-3": 2, "feedback:overdue-2": 2},
    D(2022, 9, 29): {"feedback:overdue-3": 2, "feedback:before-1": 1},
    D(2022, 9, 30): {"feedback:overdue-3": 2, "feedback:due": 1},
    D(2022, 10, 8): {"feedback:overdue-1": 1, "summary:before-3": 1, "feedback:before-3": 1},
    D(2022, 10, 10): {"feedback:overdue-2": 1, "summary:before-1": 1, "feedback:before-1": 1},
    D(2022, 10, 11): {"summary:due": 1, "feedback:due": 1},
    D(2022, 10, 12): {"feedback:overdue-3": 1, "summary:overdue-1": 1, "feedback:overdue-1": 1},
    D(2022, 10, 14): {"summary:overdue-2": 1, "feedback:overdue-2": 1},
    D(2022, 10, 18): {"summary:overdue-3": 1, "feedback:overdue-3": 1},
}

# the mails: one per unit per day, so a unit's 反馈 step that falls on one of its 开展情况 days
# rides in that 催报 (named in its reason) instead of a second mail
EXPECTED_MAILS = {
    D(2022, 8, 23): {'plan:before-3': 25},
    D(2022, 8, 25): {'plan:before-1': 23},
    D(2022, 8, 26): {'plan:due': 22},
    D(2022, 8, 29): {'plan:overdue-1': 22},
    D(2022, 8, 31): {'plan:overdue-2': 21},
    D(2022, 9, 2): {'plan:overdue-3': 21},
    D(2022, 9, 15): {'summary:before-3': 24},
    D(2022, 9, 16): {'feedback:before-3': 2},
    D(2022, 9, 19): {'summary:before-1': 24},
    D(2022, 9, 20): {'summary:due': 22, 'feedback:before-1': 1},
    D(2022, 9, 21): {'summary:overdue-1': 22, 'feedback:due': 1},
    D(2022, 9, 22): {'feedback:overdue-1': 2, 'feedback:due': 2, 'feedback:before-1': 2},
    D(2022, 9, 23): {'summary:overdue-2': 22},
    D(2022, 9, 26): {'feedback:overdue-2': 2, 'feedback:overdue-1': 2},
    D(2022, 9, 27): {'summary:overdue-3': 22, 'feedback:before-3': 1},
    D(2022, 9, 28): {'feedback:overdue-3': 2, 'feedback:overdue-2': 2},
    D(2022, 9, 29): {'feedback:overdue-3': 2, 'feedback:before-1': 1},
    D(2022, 9, 30): {'feedback:overdue-3': 2, 'feedback:due': 1},
    D(2022, 10, 8): {'feedback:overdue-1': 1, 'summary:before-3': 1},
    D(2022, 10, 10): {'feedback:overdue-2': 1, 'summary:before-1': 1},
    D(2022, 10, 11): {'summary:due': 1},
    D(2022, 10, 12): {'feedback:overdue-3': 1, 'summary:overdue-1': 1},
    D(2022, 10, 14): {'summary:overdue-2': 1},
    D(2022, 10, 18): {'summary:overdue-3': 1},
}


def test_replay_2022_day_by_day(w):
    cal = w.calendar()
    seen: dict[date, dict[str, int]] = {}
    reminded = []
    day = D(2022, 8, 15)
    while day <= D(2022, 10, 31):
        sent = queue_reminders(w.ledger, w.config, w.campaign, w.roster, cal, day)
        reminded += sent
        # the daemon may run remind again the same day (restart, catch-up): nothing new
        assert queue_reminders(w.ledger, w.config, w.campaign, w.roster, cal, day) == []
        if sent:
            assert cal.is_workday(day), day
            # one 催报 per unit per day: a unit's other steps of the day ride in its one mail
            assert len({r.unit.name for r in sent}) == len(sent), day
            seen[day] = dict(Counter(f"{x.kind}:{x.step}" for r in sent for x in (r, *r.also)))
        for unit, kind, facts, outcome in SUBMISSIONS.get(day, ()):
            w.submit(unit, kind, day, facts=facts, outcome=outcome)
        day += timedelta(days=1)
    assert seen == EXPECTED
    for off in [D(2022, 9, 10), D(2022, 9, 11), D(2022, 9, 12), *(D(2022, 10, n) for n in range(1, 8))]:
        assert off not in seen
    assert D(2022, 10, 8) in seen
    rows = w.outgoing("reminder")
    mails: dict[date, Counter] = {}
    for r in reminded:
        mails.setdefault(r.day, Counter())[f"{r.kind}:{r.step}"] += 1
    assert {d: dict(c) for d, c in mails.items()} == EXPECTED_MAILS
    assert len(rows) == len(reminded) == sum(sum(v.values()) for v in EXPECTED_MAILS.values())
    assert len({r.dedupe_key for r in rows}) == len(rows)
    assert len({r.message_id for r in rows}) == len(rows)
    # 民政局 filed its plan before the first reminder (never chased for it) and its summary on
    # 9-19 after that morning's reminder (chased twice, then no more)
    keys = [r.dedupe_key.rsplit(":", 3)[1:] for r in rows if r.unit == "西吉县民政局"]
    assert not any(k[0] == "plan" for k in keys)
    assert [k[2] for k in keys if k[0] == "summary"] == ["before-3", "before-1"]


def test_a_second_run_of_the_day_chases_no_unit_twice_across_campaigns(tmp_path):
    """Two collections chase the 乡村振兴局 on 9-20: the open day's 开展情况 is due that day, a report
    was due the day before. The morning's one 催报 is the overdue report's; the unit sends its
    report after lunch; a second run that day (`mailbot remind` by hand, a daemon restarted) must
    not now send the open day's — one 催报 per unit per day, whatever came in since."""
    from datetime import datetime, timedelta, timezone
    from mailbot.app import open_app
    from mailbot.defaults import init_folder
    from mailbot.demo import samples
    from mailbot.office.jobs import Jobs
    from reportdocs import report_docx
    init_folder(tmp_path, demo_keys=True)
    rules = tmp_path / "rules"
    text = (rules / "annual-report-2022.toml").read_text(encoding="utf-8")
    (rules / "report-test.toml").write_text(text.replace("due = 2023-01-31", "due = 2022-09-19").replace(
        "accept_from = 2022-12-15", "accept_from = 2022-08-01"), encoding="utf-8")
    cfg = tmp_path / "config.ini"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("rules = open-day-2022.toml",
                                                          "rules = open-day-2022.toml, report-test.toml"), encoding="utf-8")
    tz = timezone(timedelta(hours=8))
    unit, addr = "西吉县乡村振兴局", "xjxczxj@163.com"

    def mail(subject, when, name, data):
        return when, samples.MailBuilder(from_addr=addr, to="xjxzwgkb@163.com", subject=subject,
                                         date=when).attach(name, data).build()

    maildir = tmp_path / "var" / "maildir"
    samples.write_maildir(maildir, [mail("乡村振兴局政府开放日活动实施方案", datetime(2022, 8, 20, 10, tzinfo=tz),
                                         "实施方案.docx", samples.plan_docx(unit, activity=D(2022, 9, 5)))])
    app = open_app(cfg, "2022-09-20")
    jobs, day = Jobs(app), D(2022, 9, 20)
    jobs.poll()
    morning = [r for r in jobs.queue_reminders(day) if r.unit.name == unit]
    assert [(r.campaign_id, r.kind, r.overdue) for r in morning] == [("2022-政府信息公开年报", "report", 1)]
    samples.write_maildir(maildir, [mail("乡村振兴局2022年政府信息公开工作年度报告", datetime(2022, 9, 20, 15, tzinfo=tz),
                                         "年度报告.docx", report_docx(unit))])
    assert jobs.poll().filed == 1
    assert jobs.queue_reminders(day) == []
    assert [o.unit for o in app.ledger.outgoing("reminder")].count(unit) == 1
    again, _text = jobs.remind(dry_run=True)              # nor does the dry run list it
    assert unit not in {r.unit.name for r in again}
    app.close()
