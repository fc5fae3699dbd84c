"""`mailbot run` against real servers: it survives the IMAP server going away and coming back,
SIGTERM in the middle of a poll finishes that poll and exits 0, and delivery over real SMTP
retries a 451 and records a 554 (163.com's DT:SPM) as failed for the digest.
"""
from __future__ import annotations

import email
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta
from email import policy

from mailbot.app import open_app
from mailbot.mailout.deliver import deliver
from mailbot.office.pipeline import poll
from servers import Dovecot, unique_user
from test_e2e_mailbox import PASSWORD, Office, _acks, _demo


def _start(off: Office) -> subprocess.Popen:
    cfg = off.root / "config.ini"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("poll_minutes = 10", "poll_minutes = 0.02"),
                   encoding="utf-8")
    env = dict(os.environ, MB_E2E_PW=PASSWORD)
    env.pop("MAILBOT_CRASH_AT", None)
    return subprocess.Popen([sys.executable, "-m", "mailbot", "--config", str(cfg), "--today", "2022-09-07", "run"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait(cond, seconds: float = 60) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.2)
    return False


def test_daemon_rides_out_an_imap_outage_and_stops_on_sigterm(tmp_path, smtp_server):
    dc = Dovecot()
    dc.start()
    proc = None
    try:
        user = unique_user("dmn")
        dc.add_user(user, PASSWORD)
        off = Office(tmp_path / "dmn", dc, smtp_server, user)
        mails = [m for m in _demo(off.root) if m.on_roster and m.kind]
        dc.append(user, mails[0].raw, internaldate=mails[0].arrival)
        proc = _start(off)
        assert _wait(lambda: len(_acks(smtp_server)) == 1), "first ack never came"

        dc.stop()                                   # the mailbox goes away under the daemon
        time.sleep(4)
        assert proc.poll() is None                  # still running
        dc.start()
        dc.append(user, mails[1].raw, internaldate=mails[1].arrival)
        assert _wait(lambda: len(_acks(smtp_server)) == 2, 90), "no ack after the server came back"
        db = sqlite3.connect(off.root / "var" / "mailbot.sqlite3")
        errors = db.execute("SELECT text FROM events WHERE job='poll' AND level='error'").fetchall()
        db.close()
        assert errors and any("127.0.0.1" in e[0] for e in errors)     # the outage was recorded, in Chinese
        assert any("\u4e00" <= c <= "\u9fff" for c in errors[0][0])

        # SIGTERM while a poll of many mails is under way: that poll finishes, exit 0
        dc.append_many(user, [m.raw for m in mails[2:]] * 3)
        before = len(_acks(smtp_server))
        assert _wait(lambda: len(_acks(smtp_server)) > before, 60)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-2000:]
        proc = None
        db = sqlite3.connect(off.root / "var" / "mailbot.sqlite3")
        filed = db.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
        queued = db.execute("SELECT COUNT(*) FROM outgoing WHERE purpose='ack' AND status='queued'").fetchone()[0]
        db.close()
        # nothing half-done: every message the poll took is recorded, and a rerun adds no new ack
        acks_now = len(_acks(smtp_server))
        r = off.mailbot("poll")
        assert r.returncode == 0, r.stderr
        db = sqlite3.connect(off.root / "var" / "mailbot.sqlite3")
        total = db.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
        acks_total = db.execute("SELECT COUNT(*) FROM outgoing WHERE purpose='ack'").fetchone()[0]
        db.close()
        assert total == 2 + 3 * (len(mails) - 2) and filed <= total
        ids = [str(a["Message-ID"]) for a in _acks(smtp_server)]
        assert len(ids) == len(set(ids)) == acks_total          # one ack per filed mail, none twice
        assert acks_now + queued <= len(ids)
    finally:
        if proc is not None:
            proc.kill()
            proc.wait()
        dc.close()


def test_smtp_451_is_retried_and_554_is_recorded_failed(tmp_path, dovecot, smtp_server, monkeypatch):
    user = unique_user("smtp")
    dovecot.add_user(user, PASSWORD)
    off = Office(tmp_path / "smtp", dovecot, smtp_server, user)
    monkeypatch.setenv("MB_E2E_PW", PASSWORD)
    mails = [m for m in _demo(off.root) if m.on_roster and m.kind][:3]
    for m in mails:
        dovecot.append(user, m.raw, internaldate=m.arrival)
    app = open_app(off.root / "config.ini", "2022-09-07")
    poll(app)
    smtp_server.respond("DATA", "451 4.7.1 Try again later", "554 DT:SPM 163 smtp1,C8CowAD3")
    now = datetime.now().astimezone()
    first = deliver(app, now=now)
    # 1st mail: 451 → waits; 2nd: 554 DT:SPM → failed, never resent, and every mail waits 15 minutes
    assert (first.sent, first.retrying, first.failed) == (0, 1, 1)
    assert deliver(app, now=now + timedelta(minutes=1)).sent == 0           # backoff not yet over
    assert deliver(app, now=now + timedelta(minutes=3)).sent == 0           # the spam pause
    later = deliver(app, now=now + timedelta(minutes=16))
    assert (later.sent, later.failed) == (2, 0)
    rows = app.ledger.outgoing("ack")
    assert [r.status for r in rows].count("sent") == 2
    failed = [r for r in rows if r.status == "failed"]
    assert len(failed) == 1 and "554" in failed[0].last_error
    assert len(_acks(smtp_server)) == 2
    from mailbot.office import digest
    from mailbot.office.workcalendar import WorkCalendar
    text = digest.build_digest(app.ledger, app.config, app.campaign, app.roster,
                               WorkCalendar.load(app.config.rules), app.today).text
    assert "发送失败 1 封" in text and "554" in text
    app.close()
    assert email.message_from_bytes(smtp_server.received[0].raw, policy=policy.default)["Auto-Submitted"]
