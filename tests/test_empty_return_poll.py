"""A monthly return of nothing: “西吉县民政局2023年1月政务公开信息无内容报送”, no attachment, a line
of text. The poll files it as that month's return (not 无附件, no request for a file), its 回执
says so, and the unit's January is 已提交（无内容）. Maildir in, outbox out."""
from __future__ import annotations

import email
from datetime import date, datetime, timedelta, timezone
from email import policy

from mailbot.app import open_app
from mailbot.defaults import init_folder
from mailbot.demo import samples
from mailbot.office import progress
from mailbot.office.jobs import Jobs
from mailbot.vocab import Status, UnitStatus

TZ = timezone(timedelta(hours=8))
UNIT, ADDR = "西吉县民政局", "xjmzj@163.com"


def _office_with_an_empty_return(tmp_path, today: str):
    """The monthly-return campaign alone; in the mailbox, 民政局's “January: nothing” mail."""
    init_folder(tmp_path, demo_keys=True)
    cfg = tmp_path / "config.ini"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("rules = open-day-2022.toml",
                                                           "rules = monthly-return-2023.toml"), encoding="utf-8")
    when = datetime(2023, 2, 6, 9, tzinfo=TZ)
    b = samples.MailBuilder(from_addr=ADDR, to="xjxzwgkb@163.com", date=when, text="本月无内容报送。",
                            subject="西吉县民政局2023年1月政务公开信息无内容报送")
    samples.write_maildir(tmp_path / "var" / "maildir", [(when, b.build())])
    return open_app(cfg, today)


def test_a_one_line_empty_return_is_that_months_return(tmp_path):
    app = _office_with_an_empty_return(tmp_path, "2023-02-07")
    jobs = Jobs(app)
    report = jobs.poll()
    assert report.filed == 1 and report.held == {}
    m, = app.ledger.messages(Status.FILED)
    assert m.kind == "monthly"
    periods = [p for p in progress.period_states(app.ledger, app.campaign, app.roster, "monthly", app.today)
               if p.unit.name == UNIT]
    assert [(p.due.period, p.status) for p in periods][:1] == [("2023-01", UnitStatus.EMPTY_RETURN)]
    jobs.deliver()
    sent = [email.message_from_bytes(p.read_bytes(), policy=policy.default)
            for p in (tmp_path / "var" / "outbox").glob("*.eml")]
    assert len(sent) == 1 and "请补发" not in str(sent[0]["Subject"])
    assert "无内容" in sent[0].get_body(("plain",)).get_content()
    app.close()


def test_a_monthly_return_is_chased_per_period_and_not_once_sent(tmp_path):
    """January's return is due 2月10日 (a Friday): two working days before, every unit that has
    not sent January's return gets a 催报 naming 2023年1月; the unit that sent 无内容 does not."""
    from mailbot.office import remind
    from mailbot.office.workcalendar import WorkCalendar
    app = _office_with_an_empty_return(tmp_path, "2023-02-08")
    Jobs(app).poll()
    cal = WorkCalendar.load(app.config.rules)
    found = remind.plan_reminders(app.ledger, app.campaign, app.roster, cal, date(2023, 2, 8))
    units = {r.unit.name for r in found}
    assert UNIT not in units and len(units) == len([u for u in app.roster.units if u.name != UNIT])
    r = found[0]
    assert r.period_label == "2023年1月" and r.due == date(2023, 2, 10) and "2023年1月月度信息" in r.reason
    assert remind.plan_reminders(app.ledger, app.campaign, app.roster, cal, date(2023, 2, 9)) == []   # no step
    done = Jobs(app).queue_reminders(date(2023, 2, 8))
    assert len(done) == len(units)
    app.close()


def test_versions_count_per_period(tmp_path):
    """January's return, then February's: each is 第1版 of its month; a second February one is 第2版."""
    init_folder(tmp_path, demo_keys=True)
    cfg = tmp_path / "config.ini"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("rules = open-day-2022.toml",
                                                           "rules = monthly-return-2023.toml"), encoding="utf-8")
    mails = []
    for when, subject in ((datetime(2023, 2, 6, 9, tzinfo=TZ), "西吉县民政局2023年1月政务公开信息"),
                          (datetime(2023, 3, 6, 9, tzinfo=TZ), "西吉县民政局2023年2月政务公开信息"),
                          (datetime(2023, 3, 7, 9, tzinfo=TZ), "西吉县民政局2023年2月政务公开信息（更正）")):
        b = samples.MailBuilder(from_addr=ADDR, to="xjxzwgkb@163.com", date=when, subject=subject)
        b.attach(f"{subject}.docx", samples.plan_docx(UNIT, activity=date(2023, 1, 20), theme=subject))
        mails.append((when, b.build()))
    samples.write_maildir(tmp_path / "var" / "maildir", mails)
    app = open_app(cfg, "2023-03-08")
    Jobs(app).poll()
    assert [m.version for m in app.ledger.messages(Status.FILED)] == [1, 1, 2]
    app.close()


def test_the_monthly_export_has_every_month(tmp_path):
    """January's nothing-to-report and February's return are both in the export, each under its
    month; a unit that sent neither is 未报送 for each month."""
    import csv
    import io
    import zipfile
    init_folder(tmp_path, demo_keys=True)
    cfg = tmp_path / "config.ini"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("rules = open-day-2022.toml",
                                                           "rules = monthly-return-2023.toml"), encoding="utf-8")
    jan = datetime(2023, 2, 6, 9, tzinfo=TZ)
    feb = datetime(2023, 3, 6, 9, tzinfo=TZ)
    empty = samples.MailBuilder(from_addr=ADDR, to="xjxzwgkb@163.com", date=jan, text="本月无内容报送。",
                                subject="西吉县民政局2023年1月政务公开信息无内容报送").build()
    real = samples.MailBuilder(from_addr=ADDR, to="xjxzwgkb@163.com", date=feb, subject="西吉县民政局2023年2月政务公开信息")
    real.attach("2月政务公开信息.docx", samples.plan_docx(UNIT, activity=date(2023, 2, 20), theme="二月信息"))
    samples.write_maildir(tmp_path / "var" / "maildir", [(jan, empty), (feb, real.build())])
    app = open_app(cfg, "2023-03-08")
    jobs = Jobs(app)
    jobs.poll()
    report = jobs.export("2023-政务信息月报", tmp_path / "out.zip")
    with zipfile.ZipFile(report.path) as z:
        names = z.namelist()
        rows = list(csv.DictReader(io.StringIO(z.read("index.csv").decode("utf-8-sig"))))
    mine = {r["类型"]: r for r in rows if r["单位"] == UNIT}
    assert set(mine) == {"月度信息（2023年1月）", "月度信息（2023年2月）"}
    assert all(mine[k]["审核状态"] != "未报送" for k in mine)
    assert any(n.startswith(f"{UNIT}_月度信息（2023年2月）_v1") for n in names)
    other = [r for r in rows if r["单位"] == "西吉县财政局"]
    assert [r["审核状态"] for r in other] == ["未报送", "未报送"]
    app.close()


def test_the_digest_names_who_owes_the_month(tmp_path):
    """On 2月8日 January's return is due 2月10日: the digest lists the units that have not sent it
    (not the 民政局, whose “nothing this month” came on 2月6日)."""
    app = _office_with_an_empty_return(tmp_path, "2023-02-08")
    jobs = Jobs(app)
    jobs.poll()
    _queued, text = jobs.digest(dry_run=True)
    line = next(ln for ln in text.splitlines() if "2023年1月月度信息" in ln and "截止" in ln)
    assert "2月10日" in line
    following = text.split(line, 1)[1].split("\n\n")[0]
    assert "西吉县财政局" in line + following and UNIT not in line + following
    app.close()
