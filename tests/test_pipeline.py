"""The pipeline on the embedded backends (Maildir in, outbox folder out): no servers needed."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from mailbot.demo import samples
from mailbot.app import open_app
from mailbot.defaults import init_folder
from mailbot.office.pipeline import poll
from mailbot.vocab import Status

TZ = timezone(timedelta(hours=8))


def _plan_mail(i: int, day: datetime) -> bytes:
    b = samples.MailBuilder(from_addr="xjmzj@163.com", to="xjxzwgkb@163.com",
                            subject=f"西吉县民政局政府开放日实施方案（第{i}稿）", date=day)
    b.attach(f"民政局实施方案第{i}稿.docx", samples.plan_docx("西吉县民政局", activity=datetime(2022, 9, 6).date(),
                                                        theme=f"民生政策第{i}讲"))
    return b.build()


def _office(tmp_path, arrivals):
    init_folder(tmp_path, demo_keys=True)
    samples.write_maildir(tmp_path / "var" / "maildir",
                          [(t, _plan_mail(i, t)) for i, t in enumerate(arrivals, start=1)])
    return open_app(tmp_path / "config.ini", "2022-08-31")


def test_ack_cap_counts_by_arrival_day_not_by_poll_day(tmp_path):
    """Seven versions sent over seven days and polled at once (a first run, a long outage):
    each is answered. The per-sender cap (5 a day) is about a day's arrivals."""
    app = _office(tmp_path, [datetime(2022, 8, 15 + i, 10, 0, tzinfo=TZ) for i in range(7)])
    report = poll(app)
    assert report.filed == 7 and report.acks_queued == 7
    app.close()


def test_ack_cap_stops_a_reply_storm_from_one_sender(tmp_path):
    app = _office(tmp_path, [datetime(2022, 8, 22, 9, i, tzinfo=TZ) for i in range(7)])
    report = poll(app)
    assert report.filed == 7 and report.acks_queued == app.config.max_acks_per_sender_per_day == 5
    held = [m for m in app.ledger.messages(Status.FILED) if m.reason and "每日上限" in m.reason]
    assert len(held) == 2
    app.close()


def test_a_check_bug_never_stops_filing(tmp_path, monkeypatch):
    """An exception inside the document checks: the plan is still filed and acknowledged, and
    handed to a person (需人工审核) with a finding saying why."""
    from mailbot.documents import check

    def broken(*a, **k):
        raise ZeroDivisionError("boom")
    app = _office(tmp_path, [datetime(2022, 8, 22, 9, 0, tzinfo=TZ)])
    monkeypatch.setattr(check, "check_document", broken)
    report = poll(app)
    assert report.filed == 1 and report.acks_queued == 1
    msg = app.ledger.messages(Status.FILED)[0]
    assert msg.outcome == "需人工审核"
    assert [f.item for f in app.ledger.findings(msg.id)] == ["自动检查"]
    app.close()


def test_a_poison_mail_is_held_and_the_rest_filed(tmp_path, monkeypatch):
    """A bug while filing one mail must not wedge the mailbox: that mail is held (raw and
    attachments archived, status error, Chinese reason), the others are filed, and the next
    poll does not try it again."""
    import mailbot.office.pipeline as pipeline
    real = pipeline.prepare_submission
    calls = []

    def flaky(app, mail, who, received, raw, uid, **kw):
        calls.append(uid)
        if "第2稿" in mail.subject:
            raise KeyError("unexpected")
        return real(app, mail, who, received, raw, uid, **kw)
    app = _office(tmp_path, [datetime(2022, 8, 15 + i, 10, 0, tzinfo=TZ) for i in range(3)])
    monkeypatch.setattr(pipeline, "prepare_submission", flaky)
    report = poll(app)
    assert report.filed == 2 and report.held == {"error": 1}
    held = app.ledger.messages(Status.ERROR)[0]
    assert "程序出错" in held.reason and (app.archive.base / held.raw_path).is_file()
    assert [a.filename for a in app.ledger.attachments(held.id)] == ["民政局实施方案第2稿.docx"]
    assert "_处理出错" in held.raw_path
    n = len(calls)
    assert poll(app).fetched == 0 and len(calls) == n
    # the office sees it in the digest
    from mailbot.office import digest
    from mailbot.office.workcalendar import WorkCalendar
    text = digest.build_digest(app.ledger, app.config, app.campaign, app.roster,
                               WorkCalendar.load(app.config.rules), app.today).text
    assert f"处理出错（待人工处理）（编号 {held.id}）：xjmzj@163.com" in text
    app.close()


def test_old_mail_before_accept_from_is_kept_not_answered(tmp_path):
    """First install on a mailbox holding last year's mail: with [campaign] accept_from set,
    older mail is archived and recorded, but neither filed nor acknowledged."""
    app = _office(tmp_path, [datetime(2021, 8, 20, 10, 0, tzinfo=TZ), datetime(2022, 8, 20, 10, 0, tzinfo=TZ)])
    rules = tmp_path / "rules" / "open-day-2022.toml"
    rules.write_text(rules.read_text(encoding="utf-8").replace("# accept_from = 2022-08-01", "accept_from = 2022-08-01"),
                     encoding="utf-8")
    app.close()
    app = open_app(tmp_path / "config.ini", "2022-08-31")
    report = poll(app)
    assert report.filed == 1 and report.acks_queued == 1 and report.held == {"before": 1}
    old = app.ledger.messages(Status.BEFORE)[0]
    assert old.received_at.year == 2021 and "accept_from" in old.reason
    assert (app.archive.base / old.raw_path).is_file() and "_活动开始前" in old.raw_path
    app.close()


def test_large_attachment_link_goes_to_a_person_and_the_ack_says_so(tmp_path):
    """QQ/163 超大附件: the plan is a download link in the text. It is filed as the unit's plan,
    handed to a person (需人工审核), and the ack asks for the file as an attachment."""
    init_folder(tmp_path, demo_keys=True)
    b = samples.MailBuilder(from_addr="xjmzj@163.com", to="xjxzwgkb@163.com",
                            subject="西吉县民政局政府开放日实施方案", date=datetime(2022, 8, 22, 9, 0, tzinfo=TZ),
                            text="您好！我局实施方案文件较大，以超大附件发送：\n"
                                 "https://wx.mail.qq.com/ftn/download?func=3&key=7a2b9c&code=1f3e\n"
                                 "下载有效期至2022年9月6日。")
    samples.write_maildir(tmp_path / "var" / "maildir", [(datetime(2022, 8, 22, 9, 0, tzinfo=TZ), b.build())])
    app = open_app(tmp_path / "config.ini", "2022-08-22")
    report = poll(app)
    assert report.filed == 1 and report.acks_queued == 1
    msg = app.ledger.messages(Status.FILED)[0]
    assert msg.unit == "西吉县民政局" and msg.kind == "plan" and msg.outcome == "需人工审核"
    ack = app.ledger.outgoing("ack")[0].raw.decode("utf-8", "replace")
    import email
    from email import policy
    text = email.message_from_string(ack, policy=policy.default).get_body(("plain",)).get_content()
    assert "超大附件" in text and "人工审核" in text and "需修改" not in text
    app.close()


def test_forgotten_attachment_gets_a_reply_asking_for_it(tmp_path):
    """"民政局实施方案" with the file forgotten ("见附件" and nothing attached): not filed as a
    version, but answered once so the department knows to resend; a plain question is not."""
    init_folder(tmp_path, demo_keys=True)
    t = datetime(2022, 8, 22, 9, 0, tzinfo=TZ)
    forgot = samples.MailBuilder(from_addr="xjmzj@163.com", to="xjxzwgkb@163.com",
                                 subject="西吉县民政局政府开放日实施方案", date=t, text="见附件。").build()
    question = samples.MailBuilder(from_addr="xjczj@163.com", to="xjxzwgkb@163.com",
                                   subject="请问纸质版交到哪里", date=t, text="谢谢").build()
    samples.write_maildir(tmp_path / "var" / "maildir", [(t, forgot), (t, question)])
    app = open_app(tmp_path / "config.ini", "2022-08-22")
    report = poll(app)
    assert report.filed == 0 and report.held == {"noattach": 2} and report.acks_queued == 1
    ack = app.ledger.outgoing("ack")
    assert len(ack) == 1 and ack[0].recipients == ["xjmzj@163.com"]
    assert ack[0].subject.startswith("回执：西吉县民政局实施方案未收到附件")
    assert poll(app).acks_queued == 0                      # answered once
    app.close()


def test_resending_a_returned_plan_says_it_is_still_returned(tmp_path):
    """The office returned v1; the department resends the very same file after the due date.
    The ack must not claim "under review" nor call it late: it says v1 stands returned, why,
    and that only a changed file helps; the registration number stays v1's."""
    from mailbot.office import review
    init_folder(tmp_path, demo_keys=True)
    t1, t2 = datetime(2022, 8, 22, 9, 0, tzinfo=TZ), datetime(2022, 9, 5, 9, 0, tzinfo=TZ)
    samples.write_maildir(tmp_path / "var" / "maildir", [(t1, _plan_mail(1, t1))])
    app = open_app(tmp_path / "config.ini", "2022-08-24")
    poll(app)
    review.decide(app.ledger, app.config, app.campaign, app.roster, "民政局", "退回修改", "缺少温馨提示",
                  via="命令行", today=app.today, templates=app.templates)
    samples.write_maildir(tmp_path / "var" / "maildir", [(t1, _plan_mail(1, t1)), (t2, _plan_mail(1, t2))])
    app.today = datetime(2022, 9, 5).date()
    assert poll(app).acks_queued == 1
    first, again = app.ledger.messages(Status.FILED)
    assert again.duplicate_of == first.id and again.outcome == first.outcome
    import email
    from email import policy
    raw = app.ledger.outgoing("ack")[-1].raw
    m = email.message_from_bytes(raw, policy=policy.default)
    text = m.get_body(("plain",)).get_content()
    assert "（重复发送）" in str(m["Subject"]) and f"-{first.id:04d}〕" in str(m["Subject"])
    assert "已审核退回修改，原因：缺少温馨提示" in text
    assert "未发现问题" not in text and "逾期" not in text
    app.close()


def _scan_mail(t: datetime) -> bytes:
    b = samples.MailBuilder(from_addr="xjscjgj@163.com", to="xjxzwgkb@163.com",
                            subject="市场监管局政府开放日方案（扫描件）", date=t, text="方案扫描件见附件。")
    jpg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(range(256)) * 40 + b"\xff\xd9"
    b.attach("市场监管局开放日方案扫描件.jpg", jpg)
    return b.build()


def test_image_only_scan_is_filed_for_a_person_and_acknowledged(tmp_path):
    """A plan sent only as a scanned image: nothing to read, so no facts at all. It is filed
    (需人工审核) and acknowledged, and the mail after it is filed too."""
    init_folder(tmp_path, demo_keys=True)
    t = datetime(2022, 8, 22, 9, 0, tzinfo=TZ)
    samples.write_maildir(tmp_path / "var" / "maildir",
                          [(t, _scan_mail(t)), (t + timedelta(minutes=5), _plan_mail(1, t + timedelta(minutes=5)))])
    app = open_app(tmp_path / "config.ini", "2022-08-22")
    report = poll(app)
    assert report.filed == 2 and report.acks_queued == 2
    scan = next(m for m in app.ledger.messages(Status.FILED) if m.unit == "西吉县市场监督管理局")
    assert scan.outcome == "需人工审核" and scan.facts == {}
    app.close()


def test_a_broken_template_never_wedges_the_mailbox(tmp_path):
    """The office edits the ack template and makes a mistake: mail is still filed, the failure
    is recorded and shown, and the next mails go on."""
    init_folder(tmp_path, demo_keys=True)
    tpl = tmp_path / "templates" / "ack.txt.j2"
    tpl.write_text(tpl.read_text(encoding="utf-8") + "{{ no_such_thing.at_all }}\n", encoding="utf-8")
    t = datetime(2022, 8, 22, 9, 0, tzinfo=TZ)
    samples.write_maildir(tmp_path / "var" / "maildir", [(t, _plan_mail(1, t)), (t, _plan_mail(2, t))])
    app = open_app(tmp_path / "config.ini", "2022-08-22")
    report = poll(app)
    assert report.filed == 2 and report.acks_queued == 0
    assert all("回执未能生成" in m.reason for m in app.ledger.messages(Status.FILED))
    assert any("回执模板出错" in e.text for e in app.ledger.events())
    app.close()


def test_replies_read_as_the_sender_meant_them(tmp_path):
    """A reply to our 回执 carrying an adjustment report is an adjustment (the subject's 实施方案
    is our word); a reply asking a question, with the notice quoted below, is not a plan and
    gets no automatic answer."""
    init_folder(tmp_path, demo_keys=True)
    t = datetime(2022, 8, 29, 9, 0, tzinfo=TZ)
    adj = samples.MailBuilder(from_addr="xjwsjkj@163.com", to="xjxzwgkb@163.com",
                              subject="答复: 回执：西吉县卫生健康局实施方案已收到〔2022-政府开放日-0006〕", date=t,
                              text="我局活动时间调整为9月14日，报告见附件。",
                              in_reply_to="<mailbot.ack6@163.com>", references=["<plan6@163.com>", "<mailbot.ack6@163.com>"])
    adj.attach("关于调整卫健局政府开放日活动时间的报告.docx",
               samples.adjustment_docx("西吉县卫生健康局", old_date=datetime(2022, 9, 7).date(),
                                       new_date=datetime(2022, 9, 14).date(), reason="与防疫检查冲突"))
    quoted = "\n".join(["-----原始邮件-----", "发件人: 县政务公开办公室", "发送时间: 2022年8月15日",
                        "主题: 关于报送2022年度政府开放日活动实施方案的通知"] +
                       ["各部门：请于8月26日前报送实施方案，包括报名方式、参加人数、开放主题……"] * 5)
    question = samples.MailBuilder(from_addr="xjzjj@163.com", to="xjxzwgkb@163.com",
                                   subject="回复：关于报送2022年度政府开放日活动实施方案的通知", date=t,
                                   text="请问纸质版需要报送几份？\n\n" + quoted)
    samples.write_maildir(tmp_path / "var" / "maildir", [(t, adj.build()), (t, question.build())])
    app = open_app(tmp_path / "config.ini", "2022-08-29")
    report = poll(app)
    filed = app.ledger.messages(Status.FILED)
    assert [(m.unit, m.kind) for m in filed] == [("西吉县卫生健康局", "adjustment")]
    assert report.held == {"noattach": 1} and report.acks_queued == 1
    held = app.ledger.messages(Status.NOATTACH)[0]
    assert held.unit == "西吉县住房和城乡建设局" and "人工处理" in held.reason
    import email
    from email import policy
    ack = email.message_from_bytes(app.ledger.outgoing("ack")[0].raw, policy=policy.default)
    refs = str(ack["References"]).split()
    assert refs[:2] == ["<plan6@163.com>", "<mailbot.ack6@163.com>"] and refs[-1] == str(ack["In-Reply-To"]).strip()
    app.close()


def test_a_held_mail_that_cannot_be_filed_never_wedges_later_polls(tmp_path, monkeypatch):
    """Two 待确认 mails; the office adds the address to the roster. The first one's archived copy
    was moved away by hand, and filing the second hits a bug: both are reported as events and the
    poll completes; once the bug is gone the second is filed, the first waits for its file."""
    from mailbot.office import pipeline
    init_folder(tmp_path, demo_keys=True)
    days = [datetime(2022, 8, 22, 9, i, tzinfo=TZ) for i in range(2)]
    mails = []
    for i, t in enumerate(days, start=1):
        b = samples.MailBuilder(from_addr="mzj.li@163.com", to="xjxzwgkb@163.com",
                                subject=f"西吉县民政局政府开放日实施方案（第{i}稿）", date=t)
        b.attach(f"民政局实施方案第{i}稿.docx", samples.plan_docx("西吉县民政局", activity=datetime(2022, 9, 6).date()))
        mails.append((t, b.build()))
    samples.write_maildir(tmp_path / "var" / "maildir", mails)
    app = open_app(tmp_path / "config.ini", "2022-08-31")
    assert poll(app).held == {"unconfirmed": 2}
    first, second = app.ledger.messages(Status.UNCONFIRMED)
    (app.archive.base / first.raw_path).rename(tmp_path / "moved.eml")
    roster = tmp_path / "rules" / "units.csv"
    roster.write_text(roster.read_text(encoding="utf-8-sig").replace("xjmzj@163.com;", "xjmzj@163.com;mzj.li@163.com;"),
                      encoding="utf-8")
    app.reload_roster()
    real = pipeline.prepare_submission
    monkeypatch.setattr(pipeline, "prepare_submission", lambda *a, **k: 1 / 0)
    report = poll(app)                                   # completes despite both
    assert report.confirmed == 0
    errors = [e.text for e in app.ledger.events() if e.level == "error"]
    assert any("找不到" in t and str(first.id) in t for t in errors)
    assert any("程序出错" in t and str(second.id) in t for t in errors)
    monkeypatch.setattr(pipeline, "prepare_submission", real)
    assert poll(app).confirmed == 1
    assert app.ledger.message(second.id).status == "filed"
    assert app.ledger.message(first.id).status == "unconfirmed"
    app.close()
