"""Supplements (补充材料): sign-in sheets, photos, route maps sent after a plan or a summary are
attached to the unit's submission — no new version, its result unchanged, the 回执 says so, the
workbook and the digest show them — while a revised plan that happens to say 补充 is a version.

Maildir in, outbox out, `jobs` as the CLI runs them (no servers needed)."""
from __future__ import annotations

import email
import io
from datetime import date, datetime, timedelta, timezone
from email import policy

import docx

from mailbot.app import open_app
from mailbot.defaults import init_folder
from mailbot.demo import samples
from mailbot.office import progress
from mailbot.office.jobs import Jobs
from mailbot.vocab import Status, UnitStatus

TZ = timezone(timedelta(hours=8))
UNIT, ADDR = "西吉县民政局", "xjmzj@163.com"
ACTIVITY = date(2022, 9, 6)


def _at(day: int, hour: int = 10) -> datetime:
    return datetime(2022, 8, day, hour, 0, tzinfo=TZ)


def _mail(subject: str, when: datetime, files: list[tuple[str, bytes]]) -> bytes:
    b = samples.MailBuilder(from_addr=ADDR, to="xjxzwgkb@163.com", subject=subject, date=when)
    for name, data in files:
        b.attach(name, data)
    return b.build()


def _plan(theme: str = "民生政策进万家") -> bytes:
    return samples.plan_docx(UNIT, activity=ACTIVITY, theme=theme)


def _text_docx(*paragraphs: str, table: list[list[str]] | None = None) -> bytes:
    d = docx.Document()
    for p in paragraphs:
        d.add_paragraph(p)
    if table:
        t = d.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                t.cell(r, c).text = value
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


ROUTE_MAP = _text_docx("活动路线说明", "集合后沿葫芦河路向东步行约300米，经县政务服务中心东门进入，"
                       "依次参观社会救助窗口、婚姻登记处和养老服务指导中心，最后到三楼会议室座谈。",
                       "请参观群众按工作人员引导有序通行，注意安全。")
SIGN_IN = _text_docx("西吉县民政局“政府开放日”活动签到表",
                     table=[["序号", "姓名", "单位或住址", "签名"], ["1", "马某某", "吉强镇", ""],
                            ["2", "李某某", "兴隆镇", ""], ["3", "王某某", "城关社区", ""]])
PHOTO = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(2000) + b"\xff\xd9"


def _office(tmp_path, mails: list[tuple[datetime, bytes]], today: str = "2022-08-31"):
    init_folder(tmp_path, demo_keys=True)
    samples.write_maildir(tmp_path / "var" / "maildir", mails)
    app = open_app(tmp_path / "config.ini", today)
    return app, Jobs(app)


def _acks(tmp_path) -> list[email.message.EmailMessage]:
    out = sorted((tmp_path / "var" / "outbox").glob("*.eml"))
    return [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in out]


def _text(msg) -> str:
    return msg.get_body(("plain",)).get_content()


def test_route_map_and_photos_after_a_plan_are_attached_not_versions(tmp_path):
    app, jobs = _office(tmp_path, [
        (_at(20), _mail("西吉县民政局政府开放日实施方案", _at(20), [("民政局开放日实施方案.docx", _plan())]))])
    jobs.poll()
    before = progress.unit_state(app.ledger, app.campaign, app.roster, UNIT, app.today)
    samples.write_maildir(tmp_path / "var" / "maildir", [
        (_at(22), _mail("补充材料", _at(22), [("路线图说明.docx", ROUTE_MAP)])),
        (_at(23), _mail("现场照片", _at(23), [("IMG_0412.jpg", PHOTO), ("IMG_0413.jpg", PHOTO + b"x")])),
    ])
    report = jobs.poll()
    assert report.filed == 0 and report.held == {Status.SUPPLEMENT: 2}
    plan, = app.ledger.messages(Status.FILED)
    sups = app.ledger.messages(Status.SUPPLEMENT)
    assert [(m.supplement_of, m.version, m.kind, m.outcome) for m in sups] == [(plan.id, None, "plan", None)] * 2
    assert "“补充材料”" in sups[0].reason and "不算新版本" in sups[0].reason
    assert "读不到" in sups[1].reason or "照片" in sups[1].reason
    # the plan is still version 1 with its own result; the next plan would be version 2
    state = progress.unit_state(app.ledger, app.campaign, app.roster, UNIT, app.today)
    assert state.plan.id == plan.id and state.plan_status == before.plan_status
    assert state.problems == before.problems
    assert app.ledger.next_version(UNIT, "plan") == 2
    # files archived beside the plan, named after it, and recorded for `mailbot verify`
    paths = [a.path for m in sups for a in app.ledger.attachments(m.id)]
    assert len(paths) == 3 and all(p.startswith(f"{app.campaign.id}/{UNIT}/实施方案/2022-08-2") for p in paths)
    assert all("_v1补充_" in p for p in paths) and all((app.archive.base / p).is_file() for p in paths)
    assert not app.ledger.findings(sups[0].id)        # not checked as a plan: no "missing items"
    jobs.deliver()
    acks = _acks(tmp_path)
    assert len(acks) == 3
    sup_acks = [a for a in acks if "补充材料已收到" in a["Subject"]]
    assert len(sup_acks) == 2
    body = _text(sup_acks[0])
    assert "不作为新版本登记" in body and "第 1 版" in body and "路线图说明.docx" in body
    assert f"审核状态仍为“{before.plan_status.label}”" in body
    assert "缺少" not in body and "【" not in body      # not checked as a plan: no findings listed
    app.close()


def test_a_supplement_after_an_approved_plan_keeps_it_approved_and_is_not_chased(tmp_path):
    app, jobs = _office(tmp_path, [
        (_at(20), _mail("民政局政府开放日实施方案", _at(20), [("实施方案.docx", _plan())])),
    ])
    jobs.poll()
    plan, = app.ledger.messages(Status.FILED)
    assert jobs.review(UNIT, "已备案", None).recorded
    samples.write_maildir(tmp_path / "var" / "maildir", [
        (_at(24), _mail("民政局开放日签到表", _at(24), [("签到表.docx", SIGN_IN)]))])
    jobs.poll()
    sup, = app.ledger.messages(Status.SUPPLEMENT)
    assert sup.supplement_of == plan.id
    state = progress.unit_state(app.ledger, app.campaign, app.roster, UNIT, app.today)
    assert state.plan.id == plan.id
    assert state.plan_status == UnitStatus.APPROVED       # the decision stands: nothing new to review
    assert app.ledger.next_version(UNIT, "plan") == 2
    app.close()


def test_a_revised_plan_that_says_buchong_is_a_new_version(tmp_path):
    """补充 in the subject, but the document is a whole plan (dates, headcount, theme,
    contact): a new version, checked as a plan."""
    app, jobs = _office(tmp_path, [
        (_at(20), _mail("民政局政府开放日实施方案", _at(20), [("实施方案.docx", _plan())])),
        (_at(22), _mail("补充完善后的实施方案", _at(22), [("实施方案（补充完善）.docx", _plan("社会救助政策面对面"))])),
        (_at(23), _mail("实施方案修改稿（补充材料）", _at(23), [("路线图.docx", ROUTE_MAP)])),
    ])
    report = jobs.poll()
    filed = app.ledger.messages(Status.FILED)
    assert [m.version for m in filed] == [1, 2, 3]     # the third says 修改: a version, even with a thin file
    assert report.held == {}
    app.close()


def test_without_a_submission_there_is_nothing_to_supplement(tmp_path):
    app, jobs = _office(tmp_path, [
        (_at(22), _mail("补充材料", _at(22), [("路线图说明.docx", ROUTE_MAP)])),
    ])
    jobs.poll()
    assert [m.status for m in app.ledger.messages()] == [Status.FILED]
    app.close()


def test_a_sign_in_sheet_after_the_summary_goes_to_the_summary(tmp_path):
    summary = samples.summary_docx(UNIT, held=ACTIVITY, participants=32, suggestions=3, feedback="已逐条答复")
    app, jobs = _office(tmp_path, [
        (_at(20), _mail("民政局政府开放日实施方案", _at(20), [("实施方案.docx", _plan())])),
        (datetime(2022, 9, 8, 9, tzinfo=TZ),
         _mail("民政局政府开放日开展情况", datetime(2022, 9, 8, 9, tzinfo=TZ), [("开展情况.docx", summary)])),
        (datetime(2022, 9, 8, 11, tzinfo=TZ),
         _mail("签到表", datetime(2022, 9, 8, 11, tzinfo=TZ), [("签到表.docx", SIGN_IN)])),
    ], today="2022-09-09")
    jobs.poll()
    sup, = app.ledger.messages(Status.SUPPLEMENT)
    target = app.ledger.message(sup.supplement_of)
    assert target.kind == "summary" and sup.kind == "summary"
    app.close()


def test_workbook_and_digest_show_the_supplement(tmp_path):
    import openpyxl
    app, jobs = _office(tmp_path, [
        (_at(20), _mail("民政局政府开放日实施方案", _at(20), [("实施方案.docx", _plan())])),
        (_at(22), _mail("补充材料", _at(22), [("路线图说明.docx", ROUTE_MAP)])),
    ])
    jobs.poll()
    jobs.workbook(force=True)
    wb = openpyxl.load_workbook(app.config.workbook, read_only=True)
    rows = [[c for c in r if c is not None] for ws in wb.worksheets for r in ws.iter_rows(values_only=True)]
    hits = [r for r in rows if any("路线图说明.docx" in str(c) for c in r)]
    assert hits and any(any("补充材料" in str(c) and "不算新版本" in str(c) for c in r) for r in hits)
    wb.close()
    _queued, text = jobs.digest(dry_run=True)
    assert "西吉县民政局 实施方案补充材料 第1版" in text and "不算新版本" in text
    app.close()


def test_a_revised_annual_report_is_its_next_version_and_a_signature_page_a_supplement(tmp_path):
    """A 年度报告 carries none of an activity's facts (dates, headcount, theme): the unit's complete
    revision after a report missing section 五 is version 2 — not a 补充材料 that leaves the report
    需修改 and the unit chased for a revision it sent; a 签字盖章页 is still a supplement."""
    from reportdocs import report_docx
    init_folder(tmp_path, demo_keys=True)
    cfg = tmp_path / "config.ini"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("rules = open-day-2022.toml", "rules = annual-report-2022.toml"),
                   encoding="utf-8")
    at = lambda d, h=10: datetime(2023, 1, d, h, 0, tzinfo=TZ)
    samples.write_maildir(tmp_path / "var" / "maildir", [
        (at(9), _mail("民政局2022年政府信息公开工作年度报告", at(9), [("民政局年报.docx", report_docx(UNIT, omit_section=5))])),
        (at(10), _mail("回复：民政局年报", at(10), [("民政局年报（改）.docx", report_docx(UNIT))])),
        (at(11), _mail("民政局年报签字盖章页", at(11), [("签字盖章页.docx", _text_docx("西吉县民政局（盖章）", "2023年1月11日"))])),
    ])
    app = open_app(cfg, "2023-01-12")
    Jobs(app).poll()
    first, second, third = sorted(app.ledger.messages(Status.FILED, Status.SUPPLEMENT), key=lambda m: m.id)
    assert (first.version, first.outcome.label) == (1, "需修改")
    assert (second.status, second.version, second.supplement_of) == (Status.FILED, 2, None)
    assert second.outcome.label == "待审核"
    assert (third.status, third.supplement_of) == (Status.SUPPLEMENT, second.id)
    state = progress.unit_state(app.ledger, app.campaign, app.roster, UNIT, date(2023, 1, 12))
    assert state.passing("report")
    app.close()
