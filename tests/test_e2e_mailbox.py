"""End to end on real servers: Dovecot (IMAP) in, aiosmtpd (SMTP) out, `mailbot poll` as a
subprocess, as an office would run it. Proves: every attachment archived byte-identical,
exactly one 回执 per department submission, none to automatic mail, a second poll changes
nothing, mail is never marked \\Seen or deleted, a 待确认 sender added to the roster is
acknowledged on the next poll, and a poll killed with SIGKILL at points through the
pipeline and rerun ends in the same archive, ledger and acks as an uninterrupted run.
"""
from __future__ import annotations

import email
import hashlib
import os
import sqlite3
import subprocess
import sys
from email import policy
from pathlib import Path

import pytest

from mailbot.demo import samples
from mailbot.campaign import load_campaign, load_roster
from mailbot.defaults import init_folder
from mailbot.mailin.parse import parse_message
from servers import point_config_at, unique_user

OFFICE = "xjxzwgkb@163.com"
TODAY = "2022-09-30"
PASSWORD = "AuthCode-e2e-7Q"


def _demo(folder: Path):
    campaign = load_campaign(folder / "rules" / "open-day-2022.toml")
    roster = load_roster(folder / "rules" / "units.csv", campaign.region)
    return samples.demo_mails(campaign, roster, OFFICE)


def _oversize() -> bytes:
    b = samples.MailBuilder(from_addr="xjtjj@163.com", to=OFFICE, subject="统计局政府开放日实施方案（含视频）",
                            date=samples._at(__import__("datetime").date(2022, 8, 25), 9, 0))
    b.attach("活动宣传视频.mp4", os.urandom(1_300_000))
    return b.build()


class Office:
    """A working folder whose config points at the test Dovecot and SMTP server."""

    def __init__(self, root: Path, dovecot, smtp, user: str):
        self.root, self.dovecot, self.smtp, self.user = root, dovecot, smtp, user
        init_folder(root, demo_keys=True)
        point_config_at(root, imap_port=dovecot.port, user=user, password_env="MB_E2E_PW", smtp_port=smtp.port,
                        max_message_mb=1)

    def mailbot(self, *args: str, crash: str | None = None) -> subprocess.CompletedProcess:
        env = dict(os.environ, MB_E2E_PW=PASSWORD)
        env.pop("MAILBOT_CRASH_AT", None)
        if crash:
            env["MAILBOT_CRASH_AT"] = crash
        return subprocess.run([sys.executable, "-m", "mailbot", "--config", str(self.root / "config.ini"),
                               "--today", TODAY, *args], env=env, capture_output=True, text=True, timeout=300)

    def snapshot(self) -> dict:
        """Archive files (name → sha256) and ledger rows without wall-clock columns."""
        files = {str(p.relative_to(self.root / "archive")): hashlib.sha256(p.read_bytes()).hexdigest()
                 for p in sorted((self.root / "archive").rglob("*")) if p.is_file() and p.name != ".gitkeep"}
        db = sqlite3.connect(self.root / "var" / "mailbot.sqlite3")
        rows = {
            "messages": db.execute("SELECT uid, sha256, status, unit, kind, version, duplicate_of, outcome, "
                                   "facts_json, raw_path, reason FROM messages ORDER BY uid").fetchall(),
            "attachments": db.execute("SELECT message, seq, filename, sha256, path, outcome "
                                      "FROM attachments ORDER BY message, seq").fetchall(),
            "findings": db.execute("SELECT message, rule, severity, item FROM findings ORDER BY id").fetchall(),
            "outgoing": db.execute("SELECT purpose, dedupe_key, message_id, recipients, subject, status "
                                   "FROM outgoing WHERE purpose='ack' ORDER BY id").fetchall(),
        }
        db.close()
        return {"files": files, **rows}


def _fill(dovecot, user: str, mails, extra=()) -> None:
    dovecot.add_user(user, PASSWORD)
    for m in mails:
        dovecot.append(user, m.raw, internaldate=m.arrival)
    for raw in extra:
        dovecot.append(user, raw)


def _acks(smtp) -> list[email.message.EmailMessage]:
    out = []
    for rec in smtp.received:
        msg = email.message_from_bytes(rec.raw, policy=policy.default)
        if str(msg["Subject"]).startswith("回执："):
            out.append(msg)
    return out


@pytest.fixture
def office(tmp_path, dovecot, smtp_server):
    user = unique_user("office")
    off = Office(tmp_path / "office", dovecot, smtp_server, user)
    mails = _demo(off.root)
    _fill(dovecot, user, mails, extra=[_oversize()])
    off.mails = mails
    return off


def test_poll_files_acknowledges_and_is_idempotent(office):
    r = office.mailbot("poll")
    assert r.returncode == 0, r.stderr
    print(r.stdout)
    mails = office.mails
    submissions = [m for m in mails if m.on_roster and m.kind]
    automatic = [m for m in mails if m.scenario in ("automatic", "malformed")]

    # every attachment of every department mail is in the archive, byte-identical
    archived = {hashlib.sha256(p.read_bytes()).hexdigest()
                for p in (office.root / "archive").rglob("*") if p.is_file()}
    n_files = 0
    served = office.dovecot.messages(office.user)          # the bytes as the server hands them out
    for m, s in zip(mails, served):
        for a in parse_message(s.raw).attachments:
            n_files += 1
            assert a.sha256 in archived, (m.scenario, a.filename)
        assert hashlib.sha256(s.raw).hexdigest() in archived      # and the raw mail itself
    assert n_files >= len(submissions)

    # exactly one ack per submission, to its sender, threaded to it; none to automatic mail
    acks = _acks(office.smtp)
    replied = [str(a["In-Reply-To"]) for a in acks]
    want = [f"<{parse_message(m.raw).message_id.strip('<>')}>" for m in submissions]
    assert sorted(replied) == sorted(want)
    for a in acks:
        assert a["Auto-Submitted"] == "auto-replied"
    ack_to = {str(a["To"]).lower() for a in acks}
    forged = next(m for m in mails if m.scenario == "forged")
    assert f"<{parse_message(forged.raw).message_id.strip('<>')}>" not in replied   # held as 待核实
    for m in automatic + [m for m in mails if not m.on_roster]:
        assert m.sender.lower() not in ack_to, m.scenario
    by_sender = {rec.rcpt_tos[0].lower() for rec in office.smtp.received}
    assert "mailer-daemon@163.com" not in by_sender
    envelope_from = {rec.envelope_from for rec in office.smtp.received}
    assert envelope_from == {OFFICE}

    # the needs-fix plan's ack names the missing items and the clause
    fix = next(m for m in mails if m.scenario == "plan-needs-fix")
    text = next(a for a in acks if str(a["To"]).lower() == fix.sender).get_body(("plain",)).get_content()
    assert "温馨提示" in text and "二(五)" in text and "需修改" in text

    # an adjustment reported in the mail text alone, 2 days before: filed from the text, flagged late
    late = next(m for m in mails if m.scenario == "adjustment-late")
    mid = f"<{parse_message(late.raw).message_id.strip('<>')}>"
    text = next(a for a in acks if str(a["In-Reply-To"]) == mid).get_body(("plain",)).get_content()
    assert "按邮件正文登记" in text and "提前3天" in text and "三(四)" in text

    # the oversize mail is recorded, not fetched, and shown
    db = sqlite3.connect(office.root / "var" / "mailbot.sqlite3")
    statuses = dict(db.execute("SELECT status, COUNT(*) FROM messages GROUP BY status").fetchall())
    assert statuses.get("oversize") == 1
    assert statuses.get("unconfirmed") == 1 and statuses.get("unmatched") == 1
    supplements = [m for m in submissions if m.scenario == "supplement"]
    assert statuses["filed"] == len(submissions) - len(supplements) and statuses["supplement"] == len(supplements)
    db.close()

    # a second poll changes nothing
    before = office.snapshot()
    sent = len(office.smtp.received)
    r = office.mailbot("poll")
    assert r.returncode == 0, r.stderr
    assert office.snapshot() == before
    assert len(office.smtp.received) == sent

    # the mailbox is untouched except for the $Filed keyword on filed mail
    stored = office.dovecot.messages(office.user)
    assert len(stored) == len(mails) + 1
    flags = [{f.decode() if isinstance(f, bytes) else f for f in s.flags} for s in stored]
    assert not any("\\Seen" in f for f in flags)
    assert sum(1 for f in flags if "$Filed" in f) == len(submissions)

    # the office adds the personal QQ address to the roster: the waiting mail is confirmed and acked once
    pending = next(m for m in mails if m.scenario == "pending")
    units = office.root / "rules" / "units.csv"
    text = units.read_text(encoding="utf-8").replace("xjczj@163.com,", f"xjczj@163.com;{pending.sender},")
    units.write_text(text, encoding="utf-8")
    r = office.mailbot("poll")
    assert r.returncode == 0, r.stderr
    new = _acks(office.smtp)[len(acks):]
    assert [str(a["To"]) for a in new] == [pending.sender]
    r = office.mailbot("poll")
    assert len(_acks(office.smtp)) == len(acks) + 1
    flags = [{f.decode() if isinstance(f, bytes) else f for f in s.flags}
             for s in office.dovecot.messages(office.user)]
    assert sum(1 for f in flags if "$Filed" in f) == len(submissions) + 1     # the confirmed one too


@pytest.mark.parametrize("crash", ["archived:3", "committed:7", "archived:12", "sent:4"])
def test_killed_poll_replays_to_the_same_state(tmp_path, dovecot, smtp_server, crash):
    from servers import SmtpServer
    # an uninterrupted run for reference, on its own mailbox and SMTP server
    ref_smtp = SmtpServer()
    ref_smtp.start()
    try:
        ref_user = unique_user("ref")
        ref = Office(tmp_path / "ref", dovecot, ref_smtp, ref_user)
        mails = _demo(ref.root)
        _fill(dovecot, ref_user, mails)
        assert ref.mailbot("poll").returncode == 0
        expected = ref.snapshot()
        expected_ids = sorted({str(email.message_from_bytes(r.raw, policy=policy.default)["Message-ID"])
                               for r in ref_smtp.received})
    finally:
        ref_smtp.stop()

    user = unique_user("crash")
    off = Office(tmp_path / "crash", dovecot, smtp_server, user)
    _fill(dovecot, user, mails)
    r = off.mailbot("poll", crash=crash)
    assert r.returncode == -9, (r.returncode, r.stderr[-2000:])          # really SIGKILLed
    r = off.mailbot("poll")
    assert r.returncode == 0, r.stderr
    assert off.snapshot() == expected
    ids = [str(email.message_from_bytes(r.raw, policy=policy.default)["Message-ID"]) for r in smtp_server.received]
    assert sorted(set(ids)) == expected_ids                  # nothing missing, nothing extra
    dupes = len(ids) - len(set(ids))
    # SMTP's one exception: killed after the server accepted a mail and before the ledger
    # recorded it — that one mail is resent with the same Message-ID
    assert dupes == (1 if crash.startswith("sent") else 0)


def test_renumbered_mailbox_is_not_filed_or_acknowledged_again(office):
    """The server renumbers the mailbox (new UIDVALIDITY): every mail comes back under a new
    UID; mailbot knows them by their bytes and neither files nor acknowledges them again."""
    assert office.mailbot("poll").returncode == 0
    before = office.snapshot()
    acks = len(_acks(office.smtp))
    old_validity = office.dovecot.uidvalidity(office.user)
    office.dovecot.renumber(office.user)
    assert office.dovecot.uidvalidity(office.user) != old_validity
    r = office.mailbot("poll")
    assert r.returncode == 0, r.stderr
    fetched = len(office.mails)                            # all but the oversize one, which is not fetched
    assert f"重新编号后再次出现 {fetched} 封" in r.stdout
    assert len(_acks(office.smtp)) == acks
    after = office.snapshot()
    assert after["files"] == before["files"]
    assert [m for m in after["messages"] if m[2] == "filed"] == [m for m in before["messages"] if m[2] == "filed"]
    assert after["attachments"] == before["attachments"] and after["outgoing"] == before["outgoing"]


OTHER_COUNTY = """单位,邮箱,联系人,电话,别名
隆德县农业农村局,ldnyncj@126.com,马文,0954-6011201,农业农村局
隆德县民政局,ldmzj@126.com,李敏,0954-6012103,民政局
隆德县卫生健康局,ldwjj@126.com,张莉,0954-6013206,卫健局
隆德县财政局,ldczj@126.com,王强,0954-6015210,财政局
隆德县文化旅游广电局,ldwlj@126.com,周静,0954-6017214,文旅局
隆德县司法局,ldsfj@126.com,虎平,0954-6020119,司法局
"""


def test_another_countys_roster_saved_by_excel_as_gbk(tmp_path, dovecot, smtp_server):
    """The office replaces rules/units.csv (GBK, as Excel on Chinese Windows saves it) with units
    the campaign's fixed dates do not name: mailbot still files, archives and acknowledges."""
    user = unique_user("ld")
    off = Office(tmp_path / "ld", dovecot, smtp_server, user)
    (off.root / "rules" / "units.csv").write_bytes(OTHER_COUNTY.replace("\n", "\r\n").encode("gbk"))
    mails = _demo(off.root)
    _fill(dovecot, user, mails)
    r = off.mailbot("poll")
    assert r.returncode == 0, r.stderr
    submissions = [m for m in mails if m.on_roster and m.kind]
    assert {m.unit for m in submissions} >= {"隆德县农业农村局", "隆德县民政局", "隆德县卫生健康局"}
    acks = _acks(smtp_server)
    assert sorted(str(a["In-Reply-To"]) for a in acks) == sorted(
        f"<{parse_message(m.raw).message_id.strip('<>')}>" for m in submissions)
    archived = {hashlib.sha256(p.read_bytes()).hexdigest() for p in (off.root / "archive").rglob("*") if p.is_file()}
    for s in dovecot.messages(user):
        assert hashlib.sha256(s.raw).hexdigest() in archived
        for a in parse_message(s.raw).attachments:
            assert a.sha256 in archived
    assert (off.root / "archive" / "2022-政府开放日" / "隆德县民政局" / "实施方案").is_dir()
    doctor = off.mailbot("doctor")
    assert "不在单位名单" in doctor.stdout


def test_two_polls_at_once_file_and_answer_each_mail_once(office):
    """The clerk types `mailbot poll` while the daemon's poll runs: the second waits its turn
    (poll and send locks beside the ledger); every mail is filed once and answered once."""
    env = dict(os.environ, MB_E2E_PW=PASSWORD)
    cmd = [sys.executable, "-m", "mailbot", "--config", str(office.root / "config.ini"), "--today", TODAY, "poll"]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-2000:]
    submissions = [m for m in office.mails if m.on_roster and m.kind]
    ids = [str(a["Message-ID"]) for a in _acks(office.smtp)]
    assert len(ids) == len(set(ids)) == len(submissions)
    db = sqlite3.connect(office.root / "var" / "mailbot.sqlite3")
    assert db.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == len(office.mails) + 1
    db.close()
