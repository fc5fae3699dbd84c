"""Sending within the provider's limits, against a real SMTP server on loopback that answers
like smtp.163.com when a limit is hit (451 MI:SFQ, 554 MI:STC, 554 DT:SPM, 421 HL:ICC,
550 RP:RCL …): the queue is kept, nothing is tried before the pause ends, spam is never resent,
recipients are split, replies go before 催报 and 汇总, and `remind --dry-run` shows the day."""
from __future__ import annotations

import collections
import email
import io
import re
import shutil
import socket
import threading
from contextlib import redirect_stdout
from datetime import date, datetime, timedelta, timezone
from email import policy
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from mailbot.app import open_app
from mailbot.cli import main
from mailbot.mailout import compose
from mailbot.mailout.deliver import deliver
from mailbot.mailout.send import (CONNECTIONS, PermanentFailure, ProviderLimit, QUOTA, RATE, SPAM, SmtpSender,
                                  TemporaryFailure, provider_limit)
from mailbot.office import remind
from mailbot.office.digest import build_digest
from mailbot.office.workcalendar import WorkCalendar
from servers import SmtpServer, free_port, make_message

ROOT = Path(__file__).resolve().parents[1]
OFFICE = "xjxzwgkb@163.com"
SHANGHAI = ZoneInfo("Asia/Shanghai")


class NetEase(SmtpServer):
    """aiosmtpd that answers like smtp.163.com at its limits: ``script[("DATA", 3)]`` is the
    reply to the server's 3rd DATA (likewise MAIL, RCPT); ``rcpt_cap`` recipients per mail,
    beyond which RCPT gets ``550 RP:RCL``."""

    def __init__(self, rcpt_cap: int = 0, over_cap: str = "550 RP:RCL 163 smtp3,GdxpCgDnHw too many recipients"):
        super().__init__()
        self.script: dict[tuple[str, int], str] = {}
        self.seen: collections.Counter = collections.Counter()
        self.rcpt_cap = rcpt_cap
        self.over_cap = over_cap

    def _scripted(self, stage: str) -> None:
        self.seen[stage] += 1
        answer = self.script.get((stage, self.seen[stage]))
        if answer:
            self.respond(stage, answer)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self._scripted("MAIL")
        return await super().handle_MAIL(server, session, envelope, address, mail_options)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_cap and len(envelope.rcpt_tos) >= self.rcpt_cap:
            self.respond("RCPT", self.over_cap)
        else:
            self._scripted("RCPT")
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)

    async def handle_DATA(self, server, session, envelope):
        self._scripted("DATA")
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def netease():
    srv = NetEase()
    srv.start()
    yield srv
    srv.stop()


class GreetingRefuser:
    """A server that answers every connection's greeting with ``421 HL:ICC`` and hangs up, as
    163.com does when an address holds too many connections; counts connections."""

    def __init__(self):
        self.port = free_port()
        self.sock = socket.create_server(("127.0.0.1", self.port))
        self.connections = 0
        self._stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        self.sock.settimeout(0.2)
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            self.connections += 1
            with conn:
                conn.sendall(b"421 HL:ICC 163 smtp5,DsCowAB too many concurrent connections from this IP\r\n")

    def close(self):
        self._stop = True
        self.thread.join(2)
        self.sock.close()


def midday_zone() -> str:
    """A fixed-offset zone in which it is now about noon: tests that move the clock forward by
    minutes never cross a local midnight, whenever they run."""
    utc_hour = datetime.now(timezone.utc).hour
    k = 12 - utc_hour                      # UTC+k; Etc/GMT-k is UTC+k
    return "Etc/GMT" + (f"-{k}" if k > 0 else f"+{-k}" if k < 0 else "")


def office(tmp: Path, port: int, *, digest_to: str = OFFICE, zone: str | None = None, **limits) -> Path:
    """A working folder with the shipped rules, roster and templates, sending over SMTP to PORT."""
    (tmp / "rules").mkdir(parents=True, exist_ok=True)
    for name in ("open-day-2022.toml", "units.csv"):
        shutil.copy(ROOT / "rules" / name, tmp / "rules" / name)
    shutil.copytree(ROOT / "templates", tmp / "templates", dirs_exist_ok=True)
    limit_lines = "\n".join(f"{k} = {v}" for k, v in {"send_per_minute": 100000, **limits}.items())
    (tmp / "config.ini").write_text(f"""\
[imap]
backend = maildir
path = var/maildir

[smtp]
host = 127.0.0.1
port = {port}
security = none
username =
from_address = {OFFICE}
from_name = 县政务公开办公室

[office]
name = 县人民政府政务公开办公室
digest_to = {digest_to}
timezone = {zone or midday_zone()}

[limits]
{limit_lines}

[campaign]
rules = open-day-2022.toml
""", encoding="utf-8")
    return tmp / "config.ini"


def queue(app, purpose: str, n: int, *, to: list[str] | None = None, tag: str = "") -> list[str]:
    """Queue N mails of PURPOSE the way the office's jobs do (compose.queue); their subjects."""
    units = app.roster.units
    subjects = []
    for i in range(n):
        unit = units[i % len(units)]
        head = {"ack": "回执", "review": "审核结果", "reminder": "催报", "digest": "每日汇总"}[purpose]
        subject = f"{head}：{unit.name}实施方案{tag}〔{purpose}{i}〕"
        with app.ledger.transaction():
            compose.queue(app.ledger, app.config, purpose=purpose, dedupe_key=f"{purpose}:{tag}{i}",
                          to=to or [unit.emails[0]], subject=subject, text=f"{unit.name}：正文{i}",
                          html=f"<p>{unit.name}：正文{i}</p>", auto_submitted=compose.AUTO_GENERATED,
                          unit=unit.name)
        subjects.append(subject)
    return subjects


def subjects(srv: SmtpServer) -> list[str]:
    return [str(email.message_from_bytes(m.raw, policy=policy.default)["Subject"]) for m in srv.received]


def queued(app) -> list:
    return app.ledger.queued_outgoing()


def now_in(app) -> datetime:
    return datetime.now(app.config.timezone)


# --- each code is recognised, whatever the text around it -------------------------------------

@pytest.mark.parametrize("reply, expected", [
    ("MI:SFQ 163 smtp9,DcCowADHY1 1661330000 please try later", ("MI:SFQ", RATE)),
    ("4.7.1 rp:qrc Too many recipients recently", ("RP:QRC", RATE)),
    ("Mail rejected (MI:STC) daily quota", ("MI:STC", QUOTA)),
    ("RP : TRC 163 smtp2", ("RP:TRC", QUOTA)),
    ("DT:SPM 163 smtp7,C8CowADnr Mail rejected", ("DT:SPM", SPAM)),
    ("HL:ICC 163 smtp5", ("HL:ICC", CONNECTIONS)),
    ("Error: RP:RCL too many rcpts", ("RP:RCL", "recipients")),
    ("4.5.3 Too many recipients", ("4.5.3", "recipients")),
    ("RP:QRC too many recipients", ("RP:QRC", RATE)),
    ("5.5.30 something else", None),
    ("5.1.1 User not found", None),
    ("XMI:SFQZ", None),
])
def test_provider_codes_found_case_insensitively_in_any_text(reply, expected):
    assert provider_limit(reply) == expected


@pytest.mark.parametrize("stage, reply, kind, limit", [
    ("MAIL", "451 MI:SFQ 163 smtp9,DcCowADHY1 please try later", ProviderLimit, RATE),
    ("RCPT", "451 RP:QRC 163 smtp9 too many recipients recently", ProviderLimit, RATE),
    ("DATA", "554 MI:STC 163 smtp2 sending quota exceeded", ProviderLimit, QUOTA),
    ("RCPT", "550 RP:TRC 163 smtp2 daily recipients exceeded", ProviderLimit, QUOTA),
    ("DATA", "451 DT:SPM ,please try again", ProviderLimit, SPAM),
    ("DATA", "554 DT:SPM 163 smtp7 Mail rejected", PermanentFailure, SPAM),
    ("MAIL", "421 HL:ICC 163 smtp5 too many connections", ProviderLimit, CONNECTIONS),
])
def test_sender_reports_each_limit(netease, stage, reply, kind, limit):
    netease.script[(stage, 1)] = reply
    s = SmtpSender(netease.host, netease.port, "none", None, None, timeout=5, per_minute=0)
    with pytest.raises(kind) as e:
        s.send(OFFICE, ["xjnyncj@163.com"], make_message(sender=OFFICE))
    s.close()
    assert e.value.limit == limit
    assert "网易邮箱" in str(e.value)
    assert isinstance(e.value, ProviderLimit) == e.value.affects_all
    assert netease.received == []


# --- 451 MI:SFQ / RP:QRC: stop the batch, everything waits 15 minutes or more -------------------

@pytest.mark.parametrize("stage, reply", [("DATA", "451 MI:SFQ 163 smtp9,DcCowADHY1 please try later"),
                                          ("RCPT", "451 4.7.1 rp:qrc too many recipients recently"),
                                          ("MAIL", "451 MI:SFQ 163 smtp9")])
def test_too_many_in_15_minutes_pauses_and_keeps_the_queue(tmp_path, netease, stage, reply):
    app = open_app(office(tmp_path, netease.port), "2022-08-24")
    sent_subjects = queue(app, "ack", 5)
    netease.script[(stage, 3)] = reply
    t0 = now_in(app)
    report = deliver(app, t0)
    assert report.sent == 2 and len(queued(app)) == 3
    assert "短时间内发信过多" in report.summary() and "暂停发信至" in report.summary()
    # the refused mail and all behind it wait: nothing is tried before 15 minutes have passed
    refused = next(r for r in queued(app) if r.last_error)
    assert datetime.fromisoformat(refused.next_attempt_at) >= t0 + timedelta(minutes=15)
    tries = sum(netease.seen.values())
    for later in (5, 14):
        again = deliver(app, t0 + timedelta(minutes=later))
        assert again.sent == 0 and "暂停" in again.summary()
    assert sum(netease.seen.values()) == tries and netease.connections == 1
    done = deliver(app, t0 + timedelta(minutes=16))
    assert done.sent == 3 and queued(app) == []
    assert sorted(subjects(netease)) == sorted(sent_subjects)          # each once, none lost
    assert [e for e in app.ledger.events()
            if e.job == "send" and e.level == "warning" and ("MI:SFQ" in e.text.upper() or "RP:QRC" in e.text.upper())]
    app.close()


def test_refusals_in_a_row_double_the_pause(tmp_path, netease):
    app = open_app(office(tmp_path, netease.port), "2022-08-24")
    queue(app, "ack", 2)
    netease.script[("DATA", 1)] = netease.script[("DATA", 2)] = "451 MI:SFQ 163 smtp9"
    t0 = now_in(app)
    deliver(app, t0)
    deliver(app, t0 + timedelta(minutes=16))                      # refused again: 30 minutes now
    assert deliver(app, t0 + timedelta(minutes=40)).sent == 0
    assert deliver(app, t0 + timedelta(minutes=47)).sent == 2
    app.close()


# --- 554 MI:STC / 550 RP:TRC: nothing more today; the office is told -----------------------------

@pytest.mark.parametrize("reply", ["554 MI:STC 163 smtp2,GtxpCgD sending quota exceeded",
                                   "550 RP:TRC 163 smtp2 too many recipients today"])
def test_daily_quota_stops_until_local_midnight(tmp_path, netease, reply):
    cfg = office(tmp_path, netease.port, zone="Asia/Shanghai")
    app = open_app(cfg, "2022-08-24")
    queue(app, "ack", 2)
    queue(app, "review", 1)
    queue(app, "digest", 1, to=[OFFICE])
    netease.script[("DATA", 2)] = reply
    t0 = now_in(app)
    midnight = datetime.combine(t0.astimezone(SHANGHAI).date() + timedelta(days=1), datetime.min.time(), SHANGHAI)
    report = deliver(app, t0)
    assert report.sent == 1 and len(queued(app)) == 3 and app.ledger.failed_outgoing() == []
    note = report.paused
    assert "今天的发信数量已用完" in note and f"{midnight.month}月{midnight.day}日 00:00" in note
    assert "每日汇总" in note and "send_per_day" in note
    # the office sees it: the ledger event (the digest shows it), `mailbot status`, the CLI line
    event = [e for e in app.ledger.events() if e.job == "send"][-1]
    assert event.level == "error" and "今天的发信数量已用完" in event.text
    digest = build_digest(app.ledger, app.config, app.campaign, app.roster, WorkCalendar.load(app.config.rules),
                          date(2022, 8, 24))
    assert "今天的发信数量已用完" in digest.text
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["--config", str(cfg), "--today", "2022-08-24", "status"]) == 0
    assert "今天的发信数量已用完" in out.getvalue() and "待发邮件 3 封" in out.getvalue()
    # nothing is tried until midnight, then everything goes
    tries = sum(netease.seen.values())
    assert deliver(app, midnight - timedelta(minutes=1)).sent == 0
    assert sum(netease.seen.values()) == tries
    done = deliver(app, midnight + timedelta(minutes=1))
    assert done.sent == 3 and queued(app) == []
    assert subjects(netease)[-1].startswith("每日汇总：")              # the digest goes last
    app.close()


def test_quota_refused_again_after_midnight_waits_two_hours_not_a_day(tmp_path, netease):
    app = open_app(office(tmp_path, netease.port, zone="Asia/Shanghai"), "2022-08-24")
    queue(app, "ack", 1)
    netease.script[("DATA", 1)] = netease.script[("DATA", 2)] = "554 MI:STC 163 smtp2"
    t0 = now_in(app)
    midnight = datetime.combine(t0.date() + timedelta(days=1), datetime.min.time(), SHANGHAI)
    deliver(app, t0)
    assert deliver(app, midnight + timedelta(minutes=1)).sent == 0       # refused again
    assert deliver(app, midnight + timedelta(minutes=100)).sent == 0
    assert deliver(app, midnight + timedelta(minutes=122)).sent == 1
    app.close()


# --- 554 DT:SPM: that mail failed for good, never resent; the others follow later ---------------

def test_spam_verdict_fails_that_mail_and_never_resends_it(tmp_path, netease):
    app = open_app(office(tmp_path, netease.port), "2022-08-24")
    queue(app, "reminder", 3)
    netease.script[("DATA", 1)] = "554 DT:SPM 163 smtp7,C8CowADnr Mail rejected"
    t0 = now_in(app)
    report = deliver(app, t0)
    assert report.failed == 1 and report.sent == 0 and len(queued(app)) == 2
    (failed,) = app.ledger.failed_outgoing()
    assert "垃圾邮件" in failed.last_error and "不再重发" in failed.last_error
    assert deliver(app, t0 + timedelta(minutes=10)).sent == 0              # the account cools down
    assert deliver(app, t0 + timedelta(minutes=16)).sent == 2
    for later in (30, 120):
        deliver(app, t0 + timedelta(minutes=later))
    spam_id = failed.message_id
    assert sum(1 for stage, *_ in netease.attempts if stage == "DATA") == 3    # 1 refused + 2 sent
    assert all(spam_id not in m.raw.decode("utf-8", "replace") for m in netease.received)
    app.close()


def test_451_spam_hold_keeps_the_mail_and_retries_later(tmp_path, netease):
    app = open_app(office(tmp_path, netease.port), "2022-08-24")
    queue(app, "ack", 1)
    netease.script[("DATA", 1)] = "451 DT:SPM ,please try again"
    t0 = now_in(app)
    assert deliver(app, t0).retrying == 1 and app.ledger.failed_outgoing() == []
    assert deliver(app, t0 + timedelta(minutes=16)).sent == 1
    app.close()


def test_reminders_of_one_day_differ_in_subject(tmp_path, netease):
    """163 judges one subject sent many times as spam: every 催报 names its unit, date and number."""
    app = open_app(office(tmp_path, netease.port), "2022-08-23")
    cal = WorkCalendar.load(app.config.rules)
    rs = remind.queue_reminders(app.ledger, app.config, app.campaign, app.roster, cal, date(2022, 8, 23),
                                templates=app.templates)
    rows = app.ledger.outgoing("reminder")
    assert len(rows) == len(rs) == 26 and len({r.subject for r in rows}) == 26
    for r, row in zip(rs, rows):
        assert r.unit.name in row.subject and "8月26日" in row.subject and r.ref in row.subject
    app.close()


# --- 421 HL:ICC: one connection, a few minutes' pause ------------------------------------------

def test_too_many_connections_at_greeting_one_try_then_back_off(tmp_path):
    refuser = GreetingRefuser()
    try:
        app = open_app(office(tmp_path, refuser.port), "2022-08-24")
        queue(app, "ack", 4)
        t0 = now_in(app)
        report = deliver(app, t0)
        assert refuser.connections == 1                         # not one per queued mail
        assert report.sent == 0 and len(queued(app)) == 4 and app.ledger.failed_outgoing() == []
        assert "同时连接过多" in report.paused
        assert deliver(app, t0 + timedelta(minutes=2)).sent == 0
        assert refuser.connections == 1
        deliver(app, t0 + timedelta(minutes=6))                 # refused again: 10 minutes now
        assert refuser.connections == 2
        deliver(app, t0 + timedelta(minutes=12))
        assert refuser.connections == 2
        app.close()
    finally:
        refuser.close()


def test_too_many_connections_then_all_go_on_one_connection(tmp_path, netease):
    app = open_app(office(tmp_path, netease.port), "2022-08-24")
    queue(app, "ack", 4)
    netease.script[("MAIL", 1)] = "421 HL:ICC 163 smtp5 too many connections"
    t0 = now_in(app)
    assert deliver(app, t0).sent == 0
    assert deliver(app, t0 + timedelta(minutes=6)).sent == 4
    assert netease.connections == 2                               # one per run, never two at once
    app.close()


def test_too_much_on_one_connection_reconnects_and_goes_on(tmp_path, netease):
    app = open_app(office(tmp_path, netease.port), "2022-08-24")
    queue(app, "ack", 3)
    netease.script[("MAIL", 2)] = "451 MI:DMC 163 smtp4 too many mails on this connection"
    assert deliver(app, now_in(app)).sent == 3
    assert netease.connections == 2
    app.close()


# --- 550 RP:RCL: the digest to several office addresses in smaller transactions ----------------

@pytest.mark.parametrize("over_cap", ["550 RP:RCL 163 smtp3,GdxpCgDnHw too many recipients",
                                      "452 4.5.3 Error: too many recipients"])
def test_too_many_recipients_splits_the_mail(tmp_path, over_cap):
    srv = NetEase(rcpt_cap=1, over_cap=over_cap)
    srv.start()
    try:
        office_to = ["xjxzwgkb@163.com", "zhuren@xiji.gov.cn", "bangongshi@xiji.gov.cn"]
        app = open_app(office(tmp_path, srv.port, digest_to=", ".join(office_to)), "2022-08-24")
        queue(app, "digest", 1, to=office_to)
        report = deliver(app, now_in(app))
        assert report.sent == 1 and queued(app) == [] and app.ledger.failed_outgoing() == []
        assert sorted(r for m in srv.received for r in m.rcpt_tos) == sorted(office_to)
        assert all(len(m.rcpt_tos) == 1 for m in srv.received)
        assert len({m.raw for m in srv.received}) == 1                 # the same message, same Message-ID
        app.close()
    finally:
        srv.stop()


def test_too_many_recipients_at_data_halves_until_it_goes(netease):
    netease.script[("DATA", 1)] = "550 RP:RCL 163 smtp3 too many recipients"
    s = SmtpSender(netease.host, netease.port, "none", None, None, timeout=5, per_minute=0)
    to = [f"u{i}@xiji.gov.cn" for i in range(4)]
    assert s.send(OFFICE, to, make_message(sender=OFFICE)) == {}
    assert [len(m.rcpt_tos) for m in netease.received] == [2, 2]
    s.send(OFFICE, to, make_message(sender=OFFICE))                   # remembered: split at once
    assert [len(m.rcpt_tos) for m in netease.received] == [2, 2, 2, 2]
    s.close()


# --- the day's budget and priorities -----------------------------------------------------------

def test_replies_first_and_bulk_mail_waits_when_the_day_is_nearly_spent(tmp_path, netease):
    app = open_app(office(tmp_path, netease.port, send_per_day=6, send_reserve=2), "2022-08-24")
    queue(app, "digest", 1, to=[OFFICE])
    queue(app, "reminder", 3)
    queue(app, "ack", 2)
    queue(app, "review", 1)
    t0 = now_in(app)
    report = deliver(app, t0)
    got = [s.split("：")[0] for s in subjects(netease)]
    assert got == ["回执", "回执", "审核结果", "催报"]                  # 6 - 2 kept for replies
    assert report.held == 3 and "3 封按发信限额稍后发出" in report.summary()
    notes = [e for e in app.ledger.events() if e.level == "warning" and "明天发出" in e.text]
    assert len(notes) == 1 and "每日汇总 1 封明天发出" in notes[0].text
    assert "催报 2 封今天发不出" in notes[0].text
    # replies still go up to the day's limit; then they wait too
    queue(app, "ack", 3, tag="下午")
    assert deliver(app, t0 + timedelta(minutes=1)).sent == 2
    assert deliver(app, t0 + timedelta(minutes=2)).sent == 0
    assert len([e for e in app.ledger.events() if "明天发出" in e.text]) == 1   # said once a day
    # the next day: the waiting reply and the digest go; yesterday's 催报 are not sent stale
    nxt = deliver(app, t0 + timedelta(days=1))
    assert nxt.sent == 2 and nxt.expired == 2 and queued(app) == []
    assert [s.split("：")[0] for s in subjects(netease)][-2:] == ["回执", "每日汇总"]
    assert all("过时" in r.last_error for r in app.ledger.failed_outgoing())
    app.close()


def test_a_day_of_reminders_is_spread_and_acks_are_not_starved(tmp_path, netease):
    app = open_app(office(tmp_path, netease.port), "2022-08-23")
    cal = WorkCalendar.load(app.config.rules)
    rs = remind.queue_reminders(app.ledger, app.config, app.campaign, app.roster, cal, date(2022, 8, 23),
                                templates=app.templates)
    per_15 = app.config.send_per_15min
    t0 = now_in(app)
    first = deliver(app, t0)
    first_rcpts = sum(len(m.rcpt_tos) for m in netease.received)
    assert 0 < first_rcpts <= per_15 and first.held > 0
    queue(app, "ack", 1, tag="新")                         # a filing arrives while 催报 wait
    before = len(netease.received)
    deliver(app, t0 + timedelta(minutes=5))
    assert len(netease.received) == before                 # the quarter hour is full
    deliver(app, t0 + timedelta(minutes=16))
    assert subjects(netease)[before].startswith("回执：")  # the reply goes first
    second_rcpts = sum(len(m.rcpt_tos) for m in netease.received[before:])
    assert second_rcpts <= per_15
    deliver(app, t0 + timedelta(minutes=32))
    assert queued(app) == []
    assert len([s for s in subjects(netease) if s.startswith("催报：")]) == len(rs)
    app.close()


def test_outbox_folder_is_not_limited(tmp_path):
    cfg = office(tmp_path, 1, send_per_day=3, send_reserve=1)
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("host = 127.0.0.1\nport = 1\nsecurity = none\n",
                                                           "backend = outbox\npath = var/outbox\n"), encoding="utf-8")
    app = open_app(cfg, "2022-08-24")
    queue(app, "reminder", 5)
    assert deliver(app, now_in(app)).sent == 5
    app.close()


# --- one 催报 per unit per day --------------------------------------------------------------------

def test_one_reminder_per_unit_per_day_even_when_its_state_changes(tmp_path):
    from schedsupport import World
    w = World(tmp_path)
    cal = w.calendar()
    day = date(2022, 9, 20)                          # 农业农村局 owes 开展情况 and 反馈, both due today
    first = remind.queue_reminders(w.ledger, w.config, w.campaign, w.roster, cal, day)
    mine = [r for r in first if r.unit.name == "西吉县农业农村局"]
    assert len(mine) == 1 and mine[0].kind == "summary" and [a.kind for a in mine[0].also] == ["feedback"]
    assert "反馈" in mine[0].reason
    w.submit("农业农村局", "summary", day)           # the summary arrives at 10:00
    again = remind.queue_reminders(w.ledger, w.config, w.campaign, w.roster, cal, day)
    assert not [r for r in again if r.unit.name == "西吉县农业农村局"]
    assert len([r for r in w.outgoing("reminder") if r.unit == "西吉县农业农村局"]) == 1
    w.close()


# --- `mailbot remind --dry-run`: today's volume against the budget --------------------------------

def test_remind_dry_run_shows_the_days_volume(tmp_path, netease):
    cfg = office(tmp_path, netease.port, send_per_day=30, send_reserve=10)
    app = open_app(cfg, "2022-08-23")
    queue(app, "ack", 2)
    queue(app, "digest", 1, to=[OFFICE])
    cal = WorkCalendar.load(app.config.rules)
    planned = remind.plan_reminders(app.ledger, app.campaign, app.roster, cal, date(2022, 8, 23),
                                    office_cc=app.config.digest_to)
    rcpts = sum(len(r.to) + len(r.cc) for r in planned)
    app.close()
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["--config", str(cfg), "--today", "2022-08-23", "remind", "--dry-run"]) == 0
    text = out.getvalue()
    assert f"将排队：催报 {len(planned)} 封（收件人 {rcpts} 个）" in text
    assert "队列中待发：回执 2 封、每日汇总 1 封（收件人 3 个）" in text
    assert "每日上限 30 个收件人" in text and f"合计：{rcpts + 3} / 30" in text
    # 催报 and the digest may use 30 - 10 kept for replies, less the 2 replies that go first
    assert f"注意：超出 {rcpts + 1 - 18} 个收件人" in text and "send_per_day" in text
    assert re.search(r"分 \d+ 批发出", text)
    assert netease.received == []                               # a dry run sends nothing
