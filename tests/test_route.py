"""Several collections in one mailbox: each mail is routed to one campaign — by threading to our
own mail, by words, by date — or held as 待分拣 until `mailbot assign` files it; versions,
archive folders and acks are per campaign. Maildir in, outbox out (no servers needed)."""
from __future__ import annotations

import email
import io
from datetime import date, datetime, timedelta, timezone
from email import policy

import docx
import pytest

from mailbot.app import open_app
from mailbot.cli import main
from mailbot.defaults import init_folder
from mailbot.demo import samples
from mailbot.office import route
from mailbot.office.jobs import Jobs
from mailbot.vocab import Status

TZ = timezone(timedelta(hours=8))
UNIT, ADDR = "西吉县民政局", "xjmzj@163.com"
OPEN_DAY = "2022-政府开放日"
REPORT = "2022-年报测试"

# a second collection, written the way an office would (the shipped annual-report file may differ)
REPORT_TOML = f'''
[campaign]
id = "{REPORT}"
title = "2022年政府信息公开工作年度报告"
region = "西吉县"
office = "县人民政府政务公开办公室"
keywords = ["年度报告", "政府信息公开工作"]

[kinds.plan]
label = "年度报告"
keywords = ["年度报告", "年报"]
due = 2023-01-31

[kinds.summary]
label = "报告说明"
keywords = ["报告说明"]
due = 2023-01-31

[activity]
window_start = 2023-01-01
window_end = 2023-01-31
'''


def _at(y: int, m: int, d: int, h: int = 10) -> datetime:
    return datetime(y, m, d, h, 0, tzinfo=TZ)


def _docx(*paras: str) -> bytes:
    d = docx.Document()
    for p in paras:
        d.add_paragraph(p)
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


REPORT_DOC = _docx("西吉县民政局2022年政府信息公开工作年度报告", "一、总体情况", "2022年，我局认真贯彻落实……",
                   "二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况")


def _mail(subject: str, when: datetime, files: list[tuple[str, bytes]], *, headers=()) -> bytes:
    b = samples.MailBuilder(from_addr=ADDR, to="xjxzwgkb@163.com", subject=subject, date=when,
                            headers=list(headers))
    for name, data in files:
        b.attach(name, data)
    return b.build()


def _office(tmp_path, mails, today: str):
    init_folder(tmp_path, demo_keys=True)
    (tmp_path / "rules" / "annual-test.toml").write_text(REPORT_TOML, encoding="utf-8")
    cfg = tmp_path / "config.ini"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace(
        "rules = open-day-2022.toml", "rules = open-day-2022.toml, annual-test.toml"), encoding="utf-8")
    samples.write_maildir(tmp_path / "var" / "maildir", mails)
    app = open_app(cfg, today)
    return app, Jobs(app)


def test_by_content_words_then_dates(tmp_path):
    app, _jobs = _office(tmp_path, [], "2022-11-15")
    camps = list(app.campaigns.values())
    r = route.by_content(camps, subject="民政局2022年政府信息公开工作年度报告", file_names=[], text="",
                         received=date(2022, 11, 15))
    assert r.campaign == REPORT and "词语" in r.reason
    r = route.by_content(camps, subject="民政局“政府开放日”活动实施方案", file_names=[], text="",
                         received=date(2022, 11, 15))
    assert r.campaign == OPEN_DAY
    r = route.by_content(camps, subject="报送材料", file_names=["材料.docx"], text="", received=date(2022, 8, 20))
    assert r.campaign == OPEN_DAY and "收到日期" in r.reason          # only the open day collects in August
    r = route.by_content(camps, subject="报送材料", file_names=["材料.docx"], text="", received=date(2022, 11, 20))
    assert r.campaign is None and set(r.candidates) == {OPEN_DAY, REPORT}
    app.close()


def test_two_collections_file_apart_and_an_ambiguous_mail_waits_for_assign(tmp_path, capsys):
    plan = samples.plan_docx(UNIT, activity=date(2022, 9, 6))
    app, jobs = _office(tmp_path, [
        (_at(2022, 8, 20), _mail("西吉县民政局政府开放日实施方案", _at(2022, 8, 20), [("实施方案.docx", plan)])),
        (_at(2022, 11, 20), _mail("民政局2022年政府信息公开工作年度报告", _at(2022, 11, 20),
                                  [("2022年政府信息公开工作年度报告.docx", REPORT_DOC)])),
        (_at(2022, 11, 21), _mail("报送材料", _at(2022, 11, 21), [("材料.docx", _docx("请查收。"))])),
    ], "2022-11-22")
    report = jobs.poll()
    assert report.filed == 2 and report.held == {Status.UNSORTED: 1}
    by_status = {m.status: m for m in app.ledger.messages()}
    od, rep, unsorted = (sorted(app.ledger.messages(Status.FILED), key=lambda m: m.id) + [by_status[Status.UNSORTED]])
    assert (od.campaign, od.kind, od.version) == (OPEN_DAY, "plan", 1)
    assert (rep.campaign, rep.kind, rep.version) == (REPORT, "plan", 1)      # its own version 1
    assert rep.raw_path.startswith(f"{REPORT}/{UNIT}/年度报告/") and od.raw_path.startswith(f"{OPEN_DAY}/{UNIT}/")
    assert unsorted.campaign is None and "“2022年政府信息公开工作年度报告”" in unsorted.reason
    assert unsorted.raw_path.startswith(f"{OPEN_DAY}/_待分拣/")
    jobs.deliver()
    acks = [email.message_from_bytes(p.read_bytes(), policy=policy.default)
            for p in sorted((tmp_path / "var" / "outbox").glob("*.eml"))]
    assert len(acks) == 2                                               # the unsorted one is not answered yet
    app.close()

    cfg = str(tmp_path / "config.ini")
    assert main(["--config", cfg, "--today", "2022-11-22", "assign", str(unsorted.id), REPORT]) == 0
    out = capsys.readouterr().out
    assert f"已将编号 {unsorted.id} 归入" in out
    app = open_app(cfg, "2022-11-22")
    m = app.ledger.message(unsorted.id)
    # filed in the report's collection: a note with none of a report's facts is a supplement to it
    assert (m.status, m.campaign, m.supplement_of) == (Status.SUPPLEMENT, REPORT, rep.id)
    assert main(["--config", cfg, "--today", "2022-11-22", "assign", str(unsorted.id), REPORT]) == 1
    app.close()


def test_a_reply_to_our_ack_goes_to_the_campaign_of_the_ack(tmp_path):
    plan = samples.plan_docx(UNIT, activity=date(2022, 9, 6))
    app, jobs = _office(tmp_path, [
        (_at(2022, 11, 1), _mail("民政局政府开放日实施方案", _at(2022, 11, 1), [("实施方案.docx", plan)]))],
        "2022-11-25")
    jobs.poll()
    jobs.deliver()
    ack, = [email.message_from_bytes(p.read_bytes(), policy=policy.default)
            for p in (tmp_path / "var" / "outbox").glob("*.eml")]
    ours = str(ack["Message-ID"])
    # weeks later, in the report's window: a reply without a word of either campaign
    samples.write_maildir(tmp_path / "var" / "maildir", [
        (_at(2022, 11, 24), _mail("回复：材料", _at(2022, 11, 24), [("修改后.docx", plan)],
                                  headers=[("In-Reply-To", ours), ("References", ours)]))])
    jobs.poll()
    second = max(app.ledger.messages(Status.FILED), key=lambda m: m.id)
    assert second.campaign == OPEN_DAY and second.version in (1, 2)
    app.close()


def test_one_campaign_needs_no_routing(tmp_path):
    init_folder(tmp_path, demo_keys=True)
    samples.write_maildir(tmp_path / "var" / "maildir", [
        (_at(2022, 11, 21), _mail("报送材料", _at(2022, 11, 21), [("材料.docx", _docx("请查收。"))]))])
    app = open_app(tmp_path / "config.ini", "2022-11-22")
    Jobs(app).poll()
    m, = app.ledger.messages()
    assert m.campaign == OPEN_DAY and m.status != Status.UNSORTED
    app.close()


def test_config_refuses_two_files_with_one_campaign_id(tmp_path):
    from mailbot.config import ConfigError
    init_folder(tmp_path, demo_keys=True)
    (tmp_path / "rules" / "copy.toml").write_text(
        (tmp_path / "rules" / "open-day-2022.toml").read_text(encoding="utf-8"), encoding="utf-8")
    cfg = tmp_path / "config.ini"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace(
        "rules = open-day-2022.toml", "rules = open-day-2022.toml，copy.toml"), encoding="utf-8")
    with pytest.raises(ConfigError, match="campaign.id 都是"):
        open_app(cfg, "2022-11-22")


def test_a_day_of_two_collections_one_reminder_per_unit_two_workbooks_one_digest(tmp_path):
    """Both collections due on 8月26日: on 8月23日 (three working days before) every unit that sent
    neither gets ONE 催报, not two; each collection has its own workbook; one 每日汇总 covers both."""
    app, jobs = _office(tmp_path, [], "2022-08-23")
    (tmp_path / "rules" / "annual-test.toml").write_text(
        REPORT_TOML.replace("due = 2023-01-31", "due = 2022-08-26"), encoding="utf-8")
    app.close()
    app = open_app(tmp_path / "config.ini", "2022-08-23")
    jobs = Jobs(app)
    report = jobs.day(date(2022, 8, 23))
    reminders = app.ledger.outgoing("reminder")
    units = [r.unit for r in reminders]
    assert len(units) == len(set(units)) > 0                            # one per unit that day
    assert {r.campaign for r in reminders} <= {OPEN_DAY, REPORT}
    assert report.reminders == len(reminders)
    again = jobs.queue_reminders(date(2022, 8, 23))                     # a rerun the same day: nothing
    assert again == []
    assert (tmp_path / "跟踪表.xlsx").is_file() and (tmp_path / f"跟踪表_{REPORT}.xlsx").is_file()
    digests = app.ledger.outgoing("digest")
    assert len(digests) == 1
    body = email.message_from_bytes(digests[0].raw, policy=policy.default).get_body(("plain",)).get_content()
    assert "━━ 2022年度“政府开放日”活动 ━━" in body and "━━ 2022年政府信息公开工作年度报告 ━━" in body
    assert "（共 2 项收集）" in str(email.message_from_bytes(digests[0].raw, policy=policy.default)["Subject"])
    app.close()


def test_inspect_explains_the_campaign(tmp_path, capsys):
    import json
    app, _jobs = _office(tmp_path, [], "2022-11-22")
    app.close()
    f = tmp_path / "m.eml"
    f.write_bytes(_mail("报送材料", _at(2022, 11, 21), [("材料.docx", _docx("请查收。"))]))
    g = tmp_path / "r.eml"
    g.write_bytes(_mail("民政局2022年政府信息公开工作年度报告", _at(2022, 11, 21), [("年报.docx", REPORT_DOC)]))
    cfg = str(tmp_path / "config.ini")
    assert main(["--config", cfg, "--today", "2022-11-22", "inspect", "--json", str(f), str(g)]) == 0
    first, second = json.loads(capsys.readouterr().out)
    d = first["decision"]
    assert d["status"] == "unsorted" and d["campaign"] is None
    assert set(d["campaign_candidates"]) == {OPEN_DAY, REPORT} and "无法判断" in d["campaign_reason"]
    assert second["decision"]["campaign"] == REPORT and second["decision"]["status"] == "filed"
    assert main(["--config", cfg, "--today", "2022-11-22", "inspect", str(f)]) == 0
    assert "归入：待分拣" in capsys.readouterr().out


def test_the_digest_lists_the_unsorted_mail_with_its_number(tmp_path):
    app, jobs = _office(tmp_path, [
        (_at(2022, 11, 21), _mail("报送材料", _at(2022, 11, 21), [("材料.docx", _docx("请查收。"))]))], "2022-11-22")
    jobs.poll()
    m, = app.ledger.messages(Status.UNSORTED)
    _queued, text = jobs.digest(dry_run=True)
    assert f"待分拣（编号 {m.id}）" in text and "mailbot assign" in text
    app.close()
