"""The review loop: decisions per version, one mail per version+decision, workbook edits once."""
import email
from datetime import date
from email import policy as email_policy

import pytest

from mailbot.office import progress
from mailbot.office.review import ReviewError, apply_workbook_decisions, decide

D = date


def mails(w):
    return [email.message_from_bytes(r.raw, policy=email_policy.default) for r in w.outgoing("review")]


def status(w, unit, today=D(2022, 8, 30)):
    return progress.unit_state(w.ledger, w.campaign, w.roster, unit, today).plan_status


def args(w):
    return (w.ledger, w.config, w.campaign, w.roster)


def test_approve_states_the_announcement_deadline(w):
    w.submit("财政局", "plan", D(2022, 8, 22), facts={"activity_dates": ["2022-09-28"]})
    r = decide(*args(w), "县财政局", "已备案", None, "命令行", D(2022, 8, 24))
    assert r.recorded and r.queued and r.version == 1 and "已记录" in r.text
    assert status(w, "财政局") == "已备案"
    [m] = mails(w)
    assert m["Subject"].startswith("审核结果：西吉县财政局") and "已备案" in m["Subject"]
    assert m["Auto-Submitted"] == "auto-generated" and m["To"] == "xjczj@163.com"
    text = m.get_body(("plain",)).get_content()
    assert "2022年9月13日前" in text and "发布活动公告" in text and "温馨提示" in text   # 9-28 − 15
    assert "该日期已过" not in text
    row = w.ledger.reviews()[0]
    assert (row.unit, row.kind, row.decision, row.via) == ("西吉县财政局", "plan", "已备案", "命令行")


def test_approve_after_the_announcement_deadline_says_so(w):
    w.submit("民政局", "plan", D(2022, 8, 20))                       # fixed date 9-06 → announce by 8-22
    decide(*args(w), "民政局", "已备案", "", "命令行", D(2022, 8, 25))
    text = mails(w)[0].get_body(("plain",)).get_content()
    assert "2022年8月22日前" in text and "该日期已过" in text


def test_return_states_reason_and_cutoff(w):
    w.submit("财政局", "plan", D(2022, 8, 22), facts={"activity_dates": ["2022-09-28"]})
    with pytest.raises(ReviewError, match="原因"):
        decide(*args(w), "财政局", "退回修改", "  ", "命令行", D(2022, 8, 24))
    r = decide(*args(w), "财政局", "退回修改", "参加人数少于25人", "命令行", D(2022, 8, 24))
    assert r.queued and status(w, "财政局") == "退回修改"
    [m] = mails(w)
    assert "退回修改" in m["Subject"]
    text = m.get_body(("plain",)).get_content()
    assert "退回原因：参加人数少于25人" in text and "2022年9月25日前" in text     # 9-28 − 3


def test_same_version_same_decision_never_twice(w):
    w.submit("财政局", "plan", D(2022, 8, 22))
    decide(*args(w), "财政局", "已备案", None, "命令行", D(2022, 8, 24))
    again = decide(*args(w), "西吉县财政局", "已备案", None, "跟踪表", D(2022, 8, 25))
    assert not again.recorded and not again.queued and "未重复" in again.text
    assert len(mails(w)) == 1 and len(w.ledger.reviews()) == 1


def test_new_version_is_reviewed_again(w):
    w.submit("财政局", "plan", D(2022, 8, 22))
    decide(*args(w), "财政局", "退回修改", "缺少联系电话", "命令行", D(2022, 8, 23))
    w.submit("财政局", "plan", D(2022, 8, 25))
    assert status(w, "财政局") == "待审核"                       # v2 starts at its own outcome
    r = decide(*args(w), "财政局", "已备案", None, "命令行", D(2022, 8, 26))
    assert r.version == 2 and r.queued
    assert [("第2版" in m["Subject"], "已备案" in m["Subject"]) for m in mails(w)] == [(False, False), (True, True)]


def test_errors_in_chinese(w):
    with pytest.raises(ReviewError, match="尚未报送"):
        decide(*args(w), "财政局", "已备案", None, "命令行", D(2022, 8, 24))
    with pytest.raises(ReviewError, match="没有"):
        decide(*args(w), "不存在局", "已备案", None, "命令行", D(2022, 8, 24))
    w.submit("财政局", "plan", D(2022, 8, 22))
    with pytest.raises(ReviewError, match="不认识"):
        decide(*args(w), "财政局", "好", None, "命令行", D(2022, 8, 24))


def test_sender_first_among_roster_addresses(w):
    w.submit("民政局", "plan", D(2022, 8, 22), from_addr="xjmzj_bgs@126.com")
    decide(*args(w), "民政局", "已备案", None, "命令行", D(2022, 8, 24))
    assert mails(w)[0]["To"] == "xjmzj_bgs@126.com, xjmzj@163.com"


def test_workbook_changes_apply_exactly_once(w):
    w.submit("财政局", "plan", D(2022, 8, 22))
    w.submit("民政局", "plan", D(2022, 8, 22))
    w.submit("统计局", "plan", D(2022, 8, 22))
    with w.ledger.transaction():
        w.ledger.set_hand_kept("西吉县民政局", "备注", "公告缺少温馨提示")
    values = {"西吉县财政局": "已备案", "西吉县民政局": "退回修改", "西吉县统计局": "", "西吉县水务局": "已备案"}
    results = apply_workbook_decisions(*args(w), values, D(2022, 8, 24))
    by_unit = {r.unit: r for r in results}
    assert by_unit["西吉县财政局"].queued and by_unit["西吉县民政局"].queued
    assert not by_unit["西吉县水务局"].recorded and "尚未报送" in by_unit["西吉县水务局"].text
    assert "西吉县统计局" not in by_unit
    assert status(w, "民政局") == "退回修改"
    text = next(m for m in mails(w) if "民政局" in m["Subject"]).get_body(("plain",)).get_content()
    assert "公告缺少温馨提示" in text
    assert {r.via for r in w.ledger.reviews()} == {"跟踪表"}
    # the same edits delivered again: nothing is recorded or mailed twice
    again = apply_workbook_decisions(*args(w), values, D(2022, 8, 25))
    assert [(r.unit, r.recorded) for r in again] == [("西吉县水务局", False)]
    assert len(mails(w)) == 2 and len(w.ledger.reviews()) == 2


def test_workbook_edit_on_a_new_version(w):
    w.submit("财政局", "plan", D(2022, 8, 22))
    apply_workbook_decisions(*args(w), {"西吉县财政局": "已备案"}, D(2022, 8, 23))
    w.submit("财政局", "plan", D(2022, 8, 24))               # v2 arrives: 待审核 again
    assert status(w, "财政局") == "待审核"
    # the workbook resets the cell for v2; the clerk types 已备案 again: v2 approved, one more mail
    apply_workbook_decisions(*args(w), {"西吉县财政局": ""}, D(2022, 8, 25))
    [r] = apply_workbook_decisions(*args(w), {"西吉县财政局": "已备案"}, D(2022, 8, 25))
    assert r.version == 2 and r.queued and str(r) == r.text
    assert status(w, "财政局") == "已备案" and len(mails(w)) == 2


def test_change_of_mind_is_recorded_but_the_same_mail_is_not_resent(w):
    w.submit("财政局", "plan", D(2022, 8, 22))
    apply_workbook_decisions(*args(w), {"财政局": "已备案"}, D(2022, 8, 23))
    decide(*args(w), "财政局", "退回修改", "缺少联系电话", "命令行", D(2022, 8, 23))
    assert status(w, "财政局") == "退回修改"
    [r] = apply_workbook_decisions(*args(w), {"财政局": "已备案"}, D(2022, 8, 24))
    assert r.recorded and not r.queued and "此前已通知过" in r.text
    assert status(w, "财政局") == "已备案"
    assert len(mails(w)) == 2 and len(w.ledger.reviews()) == 3


def test_cli_then_workbook_same_decision_is_no_change(w):
    w.submit("财政局", "plan", D(2022, 8, 22))
    decide(*args(w), "财政局", "已备案", None, "命令行", D(2022, 8, 23))
    assert apply_workbook_decisions(*args(w), {"财政局": " 已备案 "}, D(2022, 8, 24)) == []
    assert len(w.ledger.reviews()) == 1 and len(mails(w)) == 1
