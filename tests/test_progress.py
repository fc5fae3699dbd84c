"""progress.unit_states: activity date, deadlines, statuses, review per version."""
from datetime import date


from mailbot.office import progress
from mailbot.office.progress import unit_states

D = date


def state(w, unit, today):
    u = w.roster.get(unit)
    return next(s for s in unit_states(w.ledger, w.campaign, w.roster, today) if s.unit is u)


def test_roster_order_and_nothing_received(w):
    states = unit_states(w.ledger, w.campaign, w.roster, D(2022, 8, 20))
    assert [s.unit.name for s in states] == [u.name for u in w.roster.units]
    s = states[0]   # 农业农村局: fixed 9-05
    assert s.plan_status == "未提交" and s.plan is None and s.problems == ()
    assert (s.activity_date, s.activity_source) == (D(2022, 9, 5), "通知指定")
    assert s.deadlines == progress.Deadlines(
        plan_due=D(2022, 8, 26), announce_due=D(2022, 8, 21), adjust_cutoff=D(2022, 9, 2),
        summary_due=D(2022, 9, 20), feedback_due=D(2022, 9, 20))
    free = state(w, "财政局", D(2022, 8, 20))
    assert free.activity_date is None and free.activity_source is None
    assert free.deadlines.announce_due is None and free.deadlines.feedback_due is None
    assert free.deadlines.summary_due == D(2022, 9, 20)


def test_overdue_only_after_the_due_date(w):
    assert state(w, "财政局", D(2022, 8, 26)).plan_status == "未提交"
    assert state(w, "财政局", D(2022, 8, 27)).plan_status == "逾期未提交"
    assert state(w, "财政局", D(2022, 9, 20)).summary_status == "未提交"
    assert state(w, "财政局", D(2022, 9, 21)).summary_status == "逾期未提交"


def test_plan_facts_and_late_activity_moves_summary_due(w):
    w.submit("财政局", "plan", D(2022, 8, 22), facts={"activity_dates": ["2022-10-20", "2022-10-21"],
                                                     "participants": "30", "theme": "预算公开"})
    s = state(w, "财政局", D(2022, 8, 30))
    assert (s.activity_date, s.activity_source) == (D(2022, 10, 20), "方案")
    assert (s.theme, s.participants, s.plan_status) == ("预算公开", 30, "待审核")
    assert s.deadlines.announce_due == D(2022, 10, 5)
    assert s.deadlines.adjust_cutoff == D(2022, 10, 17)
    assert s.deadlines.feedback_due == D(2022, 11, 4)
    assert s.deadlines.summary_due == D(2022, 11, 4)     # activity after 9-20: activity + 15


def test_plan_date_overrides_fixed_and_adjustment_overrides_plan(w):
    w.submit("民政局", "plan", D(2022, 8, 20), facts={"activity_dates": ["2022-09-06"], "theme": "低保",
                                                     "participants": 40})
    w.submit("民政局", "adjustment", D(2022, 9, 1), facts={"activity_dates": ["2022-09-09"]})
    s = state(w, "民政局", D(2022, 9, 1))
    assert (s.activity_date, s.activity_source) == (D(2022, 9, 9), "调整")
    assert s.plan.kind == "adjustment"
    assert (s.theme, s.participants) == ("低保", 40)        # kept from the plan
    assert s.deadlines.feedback_due == D(2022, 9, 24)


def test_needs_fix_with_problems_then_new_version(w):
    w.submit("财政局", "plan", D(2022, 8, 22), outcome="需修改",
             errors=(("温馨提示", "缺少温馨提示"), ("参加人数", "少于25人")))
    s = state(w, "财政局", D(2022, 8, 23))
    assert s.plan_status == "需修改"
    assert s.problems == ("温馨提示：缺少温馨提示", "参加人数：少于25人")
    w.submit("财政局", "plan", D(2022, 8, 24))
    s = state(w, "财政局", D(2022, 8, 24))
    assert s.plan_status == "待审核" and s.plan.version == 2 and s.problems == ()


def test_manual_review_outcome_counts_as_pending(w):
    w.submit("财政局", "plan", D(2022, 8, 22), outcome="需人工审核")
    assert state(w, "财政局", D(2022, 8, 23)).plan_status == "待审核"


def test_review_applies_to_its_version_only(w):
    v1 = w.submit("财政局", "plan", D(2022, 8, 22))
    with w.ledger.transaction():
        w.ledger.add_review("西吉县财政局", "plan", v1, "已备案", None, "命令行")
    s = state(w, "财政局", D(2022, 8, 23))
    assert s.plan_status == "已备案" and s.last_review.message == v1
    w.submit("财政局", "plan", D(2022, 8, 25), outcome="需修改")
    assert state(w, "财政局", D(2022, 8, 25)).plan_status == "需修改"
    v3 = w.submit("财政局", "plan", D(2022, 8, 26))
    assert state(w, "财政局", D(2022, 8, 26)).plan_status == "待审核"
    with w.ledger.transaction():
        w.ledger.add_review("西吉县财政局", "plan", v3, "退回修改", "缺少联系人", "跟踪表")
    assert state(w, "财政局", D(2022, 8, 27)).plan_status == "退回修改"


def test_duplicates_are_ignored(w):
    v1 = w.submit("财政局", "plan", D(2022, 8, 22))
    with w.ledger.transaction():
        w.ledger.add_review("西吉县财政局", "plan", v1, "已备案", None, "命令行")
    w.submit("财政局", "plan", D(2022, 8, 24), duplicate_of=v1)
    s = state(w, "财政局", D(2022, 8, 24))
    assert s.plan.id == v1 and s.plan_status == "已备案"


def test_summary_and_feedback_statuses(w):
    w.submit("民政局", "summary", D(2022, 9, 15), outcome="待审核")
    w.submit("民政局", "feedback", D(2022, 9, 18), outcome="需人工审核")
    w.submit("财政局", "summary", D(2022, 9, 15), outcome="需修改")
    w.submit("统计局", "summary", D(2022, 9, 15), outcome=None)
    assert state(w, "民政局", D(2022, 9, 20)).summary_status == "待审核"
    assert state(w, "民政局", D(2022, 9, 20)).feedback_status == "需人工审核"
    assert state(w, "财政局", D(2022, 9, 20)).summary_status == "需修改"
    assert state(w, "统计局", D(2022, 9, 20)).summary_status == "已提交"
    assert state(w, "民政局", D(2022, 9, 22)).feedback.kind == "feedback"
    assert state(w, "乡村振兴局", D(2022, 9, 21)).feedback_status == "逾期未提交"   # 9-05 + 15


def test_unconfirmed_mail_is_not_a_submission(w):
    w.submit("财政局", "plan", D(2022, 8, 22), status="unconfirmed", from_addr="1@qq.com")
    assert state(w, "财政局", D(2022, 8, 23)).plan is None


def test_reminders_sent_counted(w):
    w.ledger.queue(purpose="reminder", dedupe_key="r1", message_id="<a@b>", sender="x@y", recipients=["a@b"],
                   subject="催报", raw=b"x", unit="西吉县财政局")
    w.ledger.queue(purpose="ack", dedupe_key="a1", message_id="<b@b>", sender="x@y", recipients=["a@b"],
                   subject="回执", raw=b"x", unit="西吉县财政局")
    assert state(w, "财政局", D(2022, 8, 23)).reminders_sent == 1


def test_loose_unit_names_in_the_ledger(w):
    w.submit("财政局", "plan", D(2022, 8, 22))
    w.ledger.update_message(1, unit="县财政局")     # written loosely: still the same unit
    assert state(w, "财政局", D(2022, 8, 23)).plan is not None
    assert progress.unit_state(w.ledger, w.campaign, w.roster, "西吉县财政局", D(2022, 8, 23)).plan.id == 1
