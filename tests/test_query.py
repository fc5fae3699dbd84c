"""查询 by mail: a department asks where it stands ("查询进度", no attachment) and gets ONE reply
with its state in every campaign of the mailbox — each kind's latest version and when it came,
the check result or the office's decision, what is wrong, the next deadlines, the 催报 sent —
at most `[office] max_queries_per_unit_per_day` a day; never to an unknown or forged sender; a
查询 with a file is a submission. Maildir in, outbox out, `jobs` as the CLI runs them."""
from __future__ import annotations

import email
from datetime import date, datetime, timedelta, timezone
from email import policy

from mailbot.app import open_app
from mailbot.defaults import init_folder
from mailbot.demo import samples
from mailbot.office import progress
from mailbot.office.jobs import Jobs
from mailbot.vocab import Status

TZ = timezone(timedelta(hours=8))
UNIT, ADDR = "西吉县民政局", "xjmzj@163.com"
OFFICE = "xjxzwgkb@163.com"
OPEN_DAY = "2022-政府开放日"
REPORT = "2022-年报测试"
ACTIVITY = date(2022, 9, 6)

# a second collection beside the open day (as tests/test_route.py writes one)
REPORT_TOML = f'''
[campaign]
id = "{REPORT}"
title = "2022年政府信息公开工作年度报告"
region = "西吉县"
office = "县人民政府政务公开办公室"
keywords = ["年度报告", "政府信息公开工作"]
accept_from = 2022-12-15
accept_until = 2023-03-31

[kinds.report]
label = "年度报告"
keywords = ["年度报告", "年报"]
due = 2023-01-31
'''


def _at(day: int, hour: int = 10, month: int = 8) -> datetime:
    return datetime(2022, month, day, hour, 0, tzinfo=TZ)


def _mail(subject: str, when: datetime, files=(), *, sender: str = ADDR, dkim: bool = True,
          text: str = "您好，请帮忙查一下我单位材料的报送和审核情况，谢谢。", headers=()) -> bytes:
    b = samples.MailBuilder(from_addr=sender, to=OFFICE, subject=subject, date=when, text=text, dkim=dkim,
                            headers=list(headers))
    for name, data in files:
        b.attach(name, data)
    return b.build()


def _plan_mail(day: int = 20) -> tuple[datetime, bytes]:
    return _at(day), _mail("西吉县民政局政府开放日实施方案", _at(day),
                           [("民政局开放日实施方案.docx", samples.plan_docx(UNIT, activity=ACTIVITY))])


def _office(tmp_path, mails, today: str = "2022-08-24", *, second_campaign: bool = False):
    init_folder(tmp_path, demo_keys=True)
    cfg = tmp_path / "config.ini"
    if second_campaign:
        (tmp_path / "rules" / "annual-test.toml").write_text(REPORT_TOML, encoding="utf-8")
        cfg.write_text(cfg.read_text(encoding="utf-8").replace(
            "rules = open-day-2022.toml", "rules = open-day-2022.toml, annual-test.toml"), encoding="utf-8")
    samples.write_maildir(tmp_path / "var" / "maildir", mails)
    app = open_app(cfg, today)
    return app, Jobs(app)


def _sent(tmp_path) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(p.read_bytes(), policy=policy.default)
            for p in sorted((tmp_path / "var" / "outbox").glob("*.eml"))]


def _answers(tmp_path) -> list[email.message.EmailMessage]:
    return [m for m in _sent(tmp_path) if str(m["Subject"]).startswith("查询结果：")]


def _text(msg) -> str:
    return msg.get_body(("plain",)).get_content()


def _html(msg) -> str:
    return msg.get_body(("html",)).get_content()


def test_a_unit_that_filed_a_plan_asks_and_gets_one_answer_with_its_version_status_and_deadlines(tmp_path):
    app, jobs = _office(tmp_path, [_plan_mail(20)])
    jobs.poll()
    samples.write_maildir(tmp_path / "var" / "maildir", [(_at(24), _mail("查询进度", _at(24)))])
    report = jobs.poll()
    assert report.filed == 0 and report.held == {Status.QUERY: 1} and report.acks_queued == 1
    query, = app.ledger.messages(Status.QUERY)
    assert (query.unit, query.campaign, query.version) == (UNIT, None, None)
    assert "已自动答复" in query.reason
    assert query.raw_path.startswith(f"{OPEN_DAY}/_查询/") and (app.archive.base / query.raw_path).is_file()
    out, = app.ledger.outgoing("query")
    assert (out.dedupe_key, out.answers, out.unit, out.campaign, out.recipients) == (
        f"query:{query.id}", query.id, UNIT, None, [ADDR])

    jobs.deliver()
    answer, = _answers(tmp_path)
    state = progress.unit_state(app.ledger, app.campaign, app.roster, UNIT, app.today)
    text, html = _text(answer), _html(answer)
    assert UNIT in str(answer["Subject"]) and "2022年8月24日" in str(answer["Subject"])
    assert str(answer["To"]) == ADDR and str(answer["Auto-Submitted"]) == "auto-replied"
    assert str(answer["In-Reply-To"]) == query.message_id and query.message_id in str(answer["References"])
    assert app.campaign.title in text
    assert f"实施方案：{state.plan_status.label}，最新为第 1 版，2022年8月20日" in text
    assert "活动日期：2022年9月6日" in text
    # the next deadlines: the summary's (9月20日), not the announcement's, already past on 8月24日
    assert "2022年9月20日（星期二）开展情况报送截止（还有 27 天）" in text
    assert "活动公告发布截止" not in text
    assert "已发催报：0 次" in text
    assert "第 1 版" in html and "开展情况报送截止" in html and app.campaign.title in html
    # a second poll sends nothing more
    jobs.poll()
    jobs.deliver()
    assert len(_answers(tmp_path)) == 1
    app.close()


def test_with_two_campaigns_the_answer_covers_both(tmp_path):
    app, jobs = _office(tmp_path, [_plan_mail(20), (_at(24), _mail("民政局进度查询", _at(24)))],
                        second_campaign=True)
    jobs.poll()
    jobs.deliver()
    answer, = _answers(tmp_path)
    text = _text(answer)
    open_day, report = (text.index(f"【{app.campaigns[c].title}】") for c in (OPEN_DAY, REPORT))
    assert open_day < report                                            # config order
    assert "实施方案：" in text[open_day:report] and "第 1 版" in text[open_day:report]
    part = text[report:]
    assert part.startswith(f"【{app.campaigns[REPORT].title}】（2022年12月15日起收件）")
    assert "年度报告：未提交" in part
    assert "2023年1月31日（星期二）年度报告报送截止" in part
    assert "实施方案" not in part                                         # each campaign its own kinds
    assert app.campaigns[REPORT].title in _html(answer)
    app.close()


def test_four_queries_in_a_day_get_three_answers_and_the_fourth_is_recorded(tmp_path):
    app, jobs = _office(tmp_path, [(_at(24, h), _mail(s, _at(24, h))) for h, s in
                                   ((9, "查询进度"), (10, "进度查询"), (11, "再次查询进度"), (12, "查询 进度"))])
    report = jobs.poll()
    assert report.held == {Status.QUERY: 4} and report.acks_queued == 3
    queries = app.ledger.messages(Status.QUERY)
    answered = {o.answers for o in app.ledger.outgoing("query")}
    assert answered == {q.id for q in queries[:3]}
    assert "达到每日自动答复上限" in queries[3].reason and "max_queries_per_unit_per_day = 3" in queries[3].reason
    jobs.digest()                                                       # the office sees them in the digest
    digest, = app.ledger.outgoing("digest")
    body = email.message_from_bytes(digest.raw, policy=policy.default)
    assert f"单位查询进度 4 封，已自动答复 3 封：{UNIT}" in _text(body) and "单位查询进度 4 封" in _html(body)
    # the next day counts afresh
    samples.write_maildir(tmp_path / "var" / "maildir", [(_at(25, 9), _mail("查询进度", _at(25, 9)))])
    jobs.poll()
    jobs.deliver()
    assert len(_answers(tmp_path)) == 4
    app.close()


def test_unknown_and_forged_senders_get_nothing(tmp_path):
    app, jobs = _office(tmp_path, [
        (_at(24, 9), _mail("查询进度", _at(24, 9), sender="someone@qq.com")),
        (_at(24, 10), _mail("西吉县民政局查询进度", _at(24, 10), sender="wangxiaoming@qq.com")),
        (_at(24, 11), _mail("查询进度", _at(24, 11), dkim=False)),          # From says 民政局, no signature
    ])
    report = jobs.poll()
    assert report.acks_queued == 0 and Status.QUERY not in report.held
    assert [m.status for m in app.ledger.messages()] == [Status.UNMATCHED, Status.UNCONFIRMED, Status.UNTRUSTED]
    jobs.deliver()
    assert _sent(tmp_path) == [] and app.ledger.outgoing("query") == []
    app.close()


def test_a_query_with_an_attachment_is_a_submission(tmp_path):
    plan = samples.plan_docx(UNIT, activity=ACTIVITY)
    app, jobs = _office(tmp_path, [
        (_at(24), _mail("民政局实施方案，请查询审核进度", _at(24), [("民政局开放日实施方案.docx", plan)]))])
    report = jobs.poll()
    assert report.filed == 1 and Status.QUERY not in report.held
    filed, = app.ledger.messages(Status.FILED)
    assert (filed.kind, filed.version) == ("plan", 1)
    assert len(app.ledger.outgoing("ack")) == 1 and app.ledger.outgoing("query") == []
    app.close()


def test_a_reply_to_our_answer_is_not_a_new_query(tmp_path):
    app, jobs = _office(tmp_path, [(_at(24, 9), _mail("查询进度", _at(24, 9)))])
    jobs.poll()
    jobs.deliver()
    answer, = _answers(tmp_path)
    samples.write_maildir(tmp_path / "var" / "maildir", [
        (_at(24, 11), _mail("回复：" + str(answer["Subject"]), _at(24, 11), text="收到，谢谢！",
                            headers=[("In-Reply-To", str(answer["Message-ID"]))]))])
    jobs.poll()
    last = max(app.ledger.messages(), key=lambda m: m.id)
    assert last.status == Status.NOATTACH and len(app.ledger.outgoing("query")) == 1
    app.close()


def test_a_held_query_confirmed_later_is_answered_not_filed(tmp_path):
    """A 查询 from a personal address naming the unit waits as 待确认; once the office adds the
    address to units.csv it is answered as a 查询 — never filed as the unit's plan."""
    qq = "3141592653@qq.com"
    app, jobs = _office(tmp_path, [_plan_mail(), (_at(22), _mail("西吉县民政局查询进度", _at(22), sender=qq))])
    jobs.poll()
    held, = app.ledger.messages(Status.UNCONFIRMED)
    roster = tmp_path / "rules" / "units.csv"
    roster.write_text(roster.read_text(encoding="utf-8-sig").replace("xjmzj@163.com;", f"xjmzj@163.com;{qq};"),
                      encoding="utf-8")
    jobs.poll()
    m = app.ledger.message(held.id)
    assert (m.status, m.version, m.campaign) == (Status.QUERY, None, None)
    assert app.ledger.next_version(UNIT, "plan") == 2          # the plan is still the only version
    jobs.deliver()
    answer, = _answers(tmp_path)
    assert str(answer["To"]) == qq and "第 1 版" in _text(answer)
    app.close()
