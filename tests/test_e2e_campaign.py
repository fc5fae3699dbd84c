"""The campaign replayed day by day on real servers: each day's department mail is delivered
to Dovecot with its own arrival time, then the daemon's jobs run with --today set to that day
(poll → 回执, remind → 催报, digest → 每日汇总, deliver over SMTP to aiosmtpd), 2022-08-15 to
2022-10-31. Proves: nothing is sent on statutory holidays (9-10..12, 10-1..7), mail goes out
on the 调休 Saturday 10-8, every 催报 goes to a unit that was missing that deadline that day,
no 催报 twice, one 每日汇总 per working day, and review decisions from the command line and
from an edited workbook each produce exactly one 审核结果 mail.
"""
from __future__ import annotations

import email
import os
from datetime import date, timedelta
from email import policy

import openpyxl
import pytest

from mailbot.office import remind, review
from mailbot.demo import samples
from mailbot.app import open_app
from mailbot.office.jobs import Jobs
from mailbot.office.progress import unit_states
from servers import unique_user
from test_e2e_mailbox import OFFICE, PASSWORD, Office

HOLIDAYS = {date(2022, 9, d) for d in (10, 11, 12)} | {date(2022, 10, d) for d in range(1, 8)}


def _subject(raw: bytes) -> str:
    return str(email.message_from_bytes(raw, policy=policy.default)["Subject"])


@pytest.mark.slow
def test_campaign_replay(tmp_path, dovecot, smtp_server, monkeypatch):
    user = unique_user("camp")
    off = Office(tmp_path / "office", dovecot, smtp_server, user)
    dovecot.add_user(user, PASSWORD)
    monkeypatch.setenv("MB_E2E_PW", PASSWORD)
    app = open_app(off.root / "config.ini", "2022-08-15")
    mails = samples.demo_mails(app.campaign, app.roster, OFFICE)
    jobs = Jobs(app)
    cal = jobs.calendar()
    assert not cal.is_workday(date(2022, 9, 12)) and cal.is_workday(date(2022, 10, 8))

    sent_on: dict[date, list[str]] = {}
    reminded: list[tuple[date, str, str]] = []
    returned_unit = approved_unit = None
    day = date(2022, 8, 15)
    while day <= date(2022, 10, 31):
        app.today, app.pretend = day, True
        for m in mails:
            if m.arrival.date() == day:
                dovecot.append(user, m.raw, internaldate=m.arrival)
        before = len(smtp_server.received)
        jobs.poll()
        missing = {(s.unit.name, k) for s in unit_states(app.ledger, app.campaign, app.roster, day)
                   for k in ("plan", "summary", "feedback") if not s.passing(k)}
        for r in remind.queue_reminders(app.ledger, app.config, app.campaign, app.roster, cal, day,
                                        templates=app.templates):
            reminded.append((day, r.unit.name, r.kind))
            assert (r.unit.name, r.kind) in missing, (day, r.unit.name, r.kind)
        if day == date(2022, 8, 24):
            # the office returns the 人社局 plan from the command line (twice: one mail)
            returned_unit = next(m.unit for m in mails if m.scenario == "plan-needs-fix")
            for _ in range(2):
                review.decide(app.ledger, app.config, app.campaign, app.roster, returned_unit, "退回修改",
                              "缺少温馨提示，参加人数不足 25 人", via="命令行", today=day, templates=app.templates)
        if day == date(2022, 8, 25):
            # the clerk approves the 农业农村局 plan in the workbook, saved from Excel
            approved_unit = next(m.unit for m in mails if m.scenario == "plan-ok")
            wb_path = jobs.workbook().path
            wb = openpyxl.load_workbook(wb_path)
            ws = wb["总览"]
            header_row = next(r for r in range(1, 6) if ws.cell(r, 1).value == "单位")
            col = {ws.cell(header_row, c).value: c for c in range(1, ws.max_column + 1)}
            for r in range(header_row + 1, ws.max_row + 1):
                if ws.cell(r, col["单位"]).value == approved_unit:
                    ws.cell(r, col["审核状态"]).value = "已备案"
            wb.save(wb_path)
        jobs.queue_digest(day)                  # working days only
        jobs.deliver()
        sent_on[day] = [_subject(r.raw) for r in smtp_server.received[before:]]
        day += timedelta(days=1)
    app.close()

    # nothing on statutory holidays and ordinary weekends except 回执 for mail that arrived
    for d, subjects in sent_on.items():
        if not cal.is_workday(d):
            assert not [s for s in subjects if not s.startswith("回执：")], (d, subjects)
    assert any(s.startswith("每日汇总：") for s in sent_on[date(2022, 10, 8)])      # 调休 working Saturday
    for d in HOLIDAYS:
        assert not sent_on[d] or all(s.startswith("回执：") for s in sent_on[d])

    # one digest per working day, never twice
    digests = [(d, s) for d, ss in sent_on.items() for s in ss if s.startswith("每日汇总：")]
    assert sorted(d for d, _ in digests) == sorted(d for d in sent_on if cal.is_workday(d))

    # every reminder once; each went to a unit missing that deadline (asserted in the loop)
    reminders = [s for ss in sent_on.values() for s in ss if s.startswith("催报：")]
    assert len(reminders) == len(reminded) > 0
    assert len(set(reminders)) == len(reminders)
    assert not any(d in HOLIDAYS for d, _, _ in reminded)
    # units that never submit are chased for the plan; a unit whose plan passed early never is
    submitted = {m.unit for m in mails if m.unit}
    chased_plan = {u for _, u, k in reminded if k == "plan"}
    assert any(u not in submitted for u in chased_plan)
    first = next(m.unit for m in mails if m.scenario == "plan-ok")          # filed on the first day
    assert first not in chased_plan

    # review results: exactly one per decision
    results = [s for ss in sent_on.values() for s in ss if s.startswith("审核结果：")]
    assert len([s for s in results if returned_unit in s]) == 1
    assert len([s for s in results if approved_unit in s]) == 1
    assert len(results) == 2
    assert os.path.exists(off.root / "跟踪表.xlsx")
