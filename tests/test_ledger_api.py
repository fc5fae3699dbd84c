"""The ledger owns all SQL: no other module of mailbot writes a query, and the named reads it
offers instead return typed rows, each in one statement however many messages there are."""
from __future__ import annotations

import ast
import dataclasses
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import mailbot
from mailbot.store.ledger import AttachmentRecord, Event, Ledger, OutgoingMail, Review, TrustRecord
from mailbot.vocab import ACCEPTABLE, Severity, Status

PACKAGE = Path(mailbot.__file__).resolve().parent
TZ = timezone(timedelta(hours=8))
SQL = re.compile(r"\bSELECT\b[\s\S]*\bFROM\b|\bINSERT\s+(?:OR\s+\w+\s+)?INTO\b|\bUPDATE\s+\w+\s+SET\b|"
                 r"\bDELETE\s+FROM\b| WHERE ")


def sql_literals(source: str) -> list[str]:
    """String literals (f-string parts included) in SOURCE that read as SQL."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.search(node.value):
            found.append(node.value)
    return found


def test_the_check_finds_sql_in_code_and_spares_prose():
    assert sql_literals('q("SELECT id FROM messages")')
    assert sql_literals('f"UPDATE outgoing SET status={s!r}"')
    assert sql_literals('x = "status=? AND" " WHERE unit=?"')
    assert sql_literals("db.execute('DELETE FROM findings')")
    assert sql_literals('"INSERT OR IGNORE INTO meta VALUES (1, 2)"')
    assert not sql_literals('"""LOGIN, IMAP ID (when offered), SELECT the folder read-write."""')
    assert not sql_literals('"163.com refuses SELECT (\\"Unsafe Login\\")"')


def test_no_module_but_the_ledger_writes_sql():
    offenders = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "ledger.py":
            continue
        hits = sql_literals(path.read_text(encoding="utf-8"))
        if hits:
            offenders[str(path.relative_to(PACKAGE))] = hits
    assert offenders == {}


def test_no_module_but_the_ledger_reaches_into_its_connection():
    reach = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "ledger.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("db", "_rows", "q") \
                    and isinstance(node.value, (ast.Name, ast.Attribute)) \
                    and (getattr(node.value, "id", None) == "ledger" or getattr(node.value, "attr", None) == "ledger"):
                reach.append(f"{path.name}:{node.lineno}")
    assert reach == []
    assert not hasattr(Ledger, "q")


# --- the named reads ----------------------------------------------------------------------

def _mail(led: Ledger, uid: int, status: Status, unit: str | None = None, *, kind: str | None = "plan",
          version: int | None = None, duplicate_of: int | None = None, day: int = 20) -> int:
    return led.add_message(source="imap", uidvalidity=1, uid=uid, received_at=datetime(2022, 8, day, 9, uid, tzinfo=TZ),
                           size=1000 + uid, sha256=f"{uid:064x}", subject=f"{unit or '某单位'}实施方案",
                           from_addr="xjmzj@163.com", from_name="西吉县民政局", status=status, unit=unit, kind=kind,
                           version=version, duplicate_of=duplicate_of, reason=None if status == Status.FILED else "待确认发件人")


@pytest.fixture
def led(tmp_path):
    led = Ledger(tmp_path / "mailbot.sqlite3")
    with led.transaction():
        ids = dict(
            plan=_mail(led, 1, Status.FILED, "西吉县民政局", version=1, day=18),
            waiting=_mail(led, 2, Status.UNCONFIRMED, "西吉县财政局", day=19),
            forged=_mail(led, 3, Status.UNTRUSTED, "西吉县统计局"),
            flood=_mail(led, 4, Status.FLOOD, "西吉县统计局"),
            unmatched=_mail(led, 5, Status.UNMATCHED, kind=None),
            summary=_mail(led, 6, Status.FILED, "西吉县水务局", kind="summary", version=1, day=21))
        ids["resend"] = _mail(led, 7, Status.FILED, "西吉县民政局", version=1, duplicate_of=ids["plan"], day=22)
        a1 = led.add_attachment(ids["plan"], 1, filename="民政局实施方案.docx", content_type="application/msword",
                                size=2048, sha256="aa" * 32, path="2022-政府开放日/西吉县民政局/实施方案/v1_方案.docx",
                                doc_kind="docx", outcome="需修改", reason=None)
        led.add_attachment(ids["plan"], 2, filename="报名表.xlsx", content_type="application/vnd.ms-excel",
                           size=512, sha256="bb" * 32, path=None, doc_kind="xlsx", outcome=None, reason="未能读取")
        led.add_attachment(ids["summary"], 1, filename="开展情况.docx", content_type="application/msword",
                           size=4096, sha256="cc" * 32, path="2022-政府开放日/西吉县水务局/开展情况/v1.docx",
                           doc_kind="docx", outcome="待审核", reason=None)
        led.add_finding(ids["plan"], a1, "date_window", Severity.ERROR, "活动日期", "活动日期不在开放期内", "二(一)")
        led.add_finding(ids["summary"], None, "body", Severity.HINT, "正文", "正文未写联系人", "")
        for n, (purpose, unit) in enumerate([("ack", "西吉县民政局"), ("reminder", "西吉县财政局"),
                                             ("reminder", "西吉县财政局"), ("reminder", "西吉县统计局"), ("digest", None)]):
            led.queue(purpose=purpose, dedupe_key=f"{purpose}:{n}", message_id=f"<{n}@mailbot>",
                      sender="xjxzwgkb@163.com", recipients=["xjczj@163.com", "boss@example.cn"],
                      subject=f"催报：{unit}", raw=b"x", unit=unit)
        led.add_review("西吉县民政局", "plan", ids["plan"], "退回修改", "活动日期不在开放期内", "命令行")
        led.set_trust(ids["forged"], "fail", "签名不符", ["dkim=fail header.d=163.com"], None)
    out = led.outgoing()
    led.mark_failed(out[0].id, "554 DT:SPM")
    led.mark_retry(out[1].id, "451 稍后再试", datetime.now(TZ) + timedelta(minutes=5))
    led.event("poll", "ok", "新处理 3 项")
    led.event("verify", "error", "2 个文件缺失")
    led.event("poll", "error", "无法连接邮箱")
    led.ids = ids
    yield led
    led.close()


def test_messages_by_status_in_arrival_order(led):
    ids = led.ids
    assert [m.id for m in led.messages(Status.UNCONFIRMED)] == [ids["waiting"]]
    assert {m.id for m in led.messages(*ACCEPTABLE)} == {ids["forged"], ids["flood"]}
    assert [m.id for m in led.messages(Status.FILED)] == [ids["plan"], ids["summary"], ids["resend"]]
    assert [m.id for m in led.messages()] == sorted(ids.values(), key=lambda i: led.message(i).received_at)
    assert led.messages(Status.ERROR) == []
    assert [m.id for m in led.messages_after(ids["unmatched"])] == [ids["summary"], ids["resend"]]


def test_held_counts_and_current_submissions(led):
    ids = led.ids
    assert led.held_counts() == {Status.UNCONFIRMED: 1, Status.UNTRUSTED: 1, Status.FLOOD: 1, Status.UNMATCHED: 1}
    assert [m.id for m in led.current_submissions()] == [ids["plan"], ids["summary"]]      # not the resend
    assert [m.id for m in led.current_submissions(["西吉县水务局"])] == [ids["summary"]]
    assert led.current_submissions(["西吉县统计局"]) == []                               # held, never filed
    assert sorted(led.filed_unit_names()) == ["西吉县民政局", "西吉县水务局"]


def test_workbook_reads_are_typed_and_one_statement_each(led):
    ids = led.ids
    statements: list[str] = []
    led.db.set_trace_callback(statements.append)
    records = led.mail_records()
    by_message = led.attachments_by_message()
    findings = led.workbook_findings()
    led.db.set_trace_callback(None)
    assert len(statements) == 3
    assert [r.id for r in records][:2] == [ids["resend"], ids["summary"]]               # newest first
    assert records[0].status is Status.FILED and records[0].duplicate_of == ids["plan"]
    plan_files = by_message[ids["plan"]]
    assert [a.filename for a in plan_files] == ["民政局实施方案.docx", "报名表.xlsx"]
    assert isinstance(plan_files[0], AttachmentRecord) and plan_files[1].path is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan_files[0].path = "elsewhere"
    assert set(by_message) == {ids["plan"], ids["summary"]}
    first, second = findings
    assert (first.unit, first.kind, first.version, first.filename) == ("西吉县民政局", "plan", 1, "民政局实施方案.docx")
    assert first.severity is Severity.ERROR and second.severity is Severity.HINT and second.filename is None
    assert first.received_at == datetime(2022, 8, 18, 9, 1, tzinfo=TZ)
    assert [f.item for f in led.findings(ids["plan"])] == ["活动日期"]
    assert led.attachment_sizes() == {"2022-政府开放日/西吉县民政局/实施方案/v1_方案.docx": 2048,
                                      "2022-政府开放日/西吉县水务局/开展情况/v1.docx": 4096}


def test_outgoing_reads(led):
    every = led.outgoing()
    assert all(isinstance(o, OutgoingMail) for o in every)
    assert every[0].recipients == ["xjczj@163.com", "boss@example.cn"]
    assert [o.dedupe_key for o in led.outgoing("reminder")] == ["reminder:1", "reminder:2", "reminder:3"]
    assert [(o.purpose, o.last_error) for o in led.failed_outgoing()] == [("ack", "554 DT:SPM")]
    queued = led.queued_outgoing()
    assert [o.dedupe_key for o in queued] == ["reminder:1", "reminder:2", "reminder:3", "digest:4"]
    assert [o.attempts for o in queued] == [1, 0, 0, 0]
    assert [o.dedupe_key for o in led.due_outgoing(datetime.now(TZ))] == ["reminder:2", "reminder:3", "digest:4"]
    assert led.reminders_per_unit() == {"西吉县财政局": 2, "西吉县统计局": 1}


def test_events_reviews_and_trust(led):
    ids = led.ids
    events = led.events()
    assert all(isinstance(e, Event) for e in events)
    assert [(e.job, e.level) for e in events] == [("poll", "ok"), ("verify", "error"), ("poll", "error")]
    assert [e.text for e in led.events(after=events[0].id)] == ["2 个文件缺失", "无法连接邮箱"]
    assert led.events(since="2999-01-01") == []
    assert led.last_event("poll").text == "无法连接邮箱"
    assert led.last_event("poll", ok_only=True).text == "新处理 3 项"
    assert led.last_event("remind") is None
    assert led.last_event_id() == events[-1].id
    [review] = led.reviews("西吉县民政局")
    assert isinstance(review, Review) and (review.message, review.decision, review.via) == (ids["plan"], "退回修改", "命令行")
    assert led.reviews("西吉县财政局") == []
    trust = led.trust(ids["forged"])
    assert isinstance(trust, TrustRecord) and trust.level == "fail" and trust.evidence == ["dkim=fail header.d=163.com"]
    assert led.trust(ids["plan"]) is None
    files = led.recorded_files()
    assert {(f.path, f.what) for f in files} == {("2022-政府开放日/西吉县民政局/实施方案/v1_方案.docx", "attachment"),
                                                ("2022-政府开放日/西吉县水务局/开展情况/v1.docx", "attachment")}
