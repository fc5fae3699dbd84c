"""An archive that cannot be overwritten, and `mailbot verify` (issue 8).

Names: whatever a sender calls a file, it cannot reach a folder, cannot take the name of a raw
mail (ours or another mail's), cannot be a Windows device name or end in a dot, stays within its
byte budget and keeps its Chinese; invisible direction controls are removed and shown.
Writes: a name held by different bytes is refused (the old file is untouched, the new one kept
as `(2)`, the collision reported), identical bytes are reused, and a race cannot replace a file.
Verify: ledger ↔ archive, exit 0 when all agree, 1 naming each missing, changed, unrecorded file.
The attack runs through a real poll against Dovecot.
"""
from __future__ import annotations

import json
import os
import random
import re
import sqlite3
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from pathlib import PurePosixPath as PurePath      # ledger paths are POSIX

import pytest

from mailbot.store import archive as archive_mod
from mailbot.demo import samples
from mailbot.app import open_app
from mailbot.store.archive import Archive
from mailbot.defaults import init_folder
from mailbot.store.names import (MAX_FILE_BYTES, MAX_NAME_BYTES, as_displayed, attachment_name,
    hidden_characters_warning, sanitise)
from mailbot.office.pipeline import _unique, poll
from mailbot.store.verify import verify
from servers import point_config_at

TZ = timezone(timedelta(hours=8))
OFFICE = "xjxzwgkb@163.com"
PASSWORD = "AuthCode-arch-3M"
STRANGER = "wangqiang1987@example.org"            # not on the roster, names no unit: 未识别
GOV_UNIT, GOV_ADDR = "西吉县档案馆", "xjdag@xiji.gov.cn"   # rostered, a domain that does not sign

# what a raw mail is called: `<day>_邮件<uid>.eml` (held) or `<day>_v<n>.邮件<uid>.eml` (filed), maybe `(n)`
RAW_NAME = re.compile(r"\d{4}-\d\d-\d\d_(?:v\d+\.)?邮件\d+(?:\(\d+\))?\.eml", re.I)
HOSTILE = ["../../x", "x/2022-08-18_邮件14.eml", "C:\\evil.exe", "CON.txt", "aux.tar.gz", "nul", "Com1.docx",
           "LPT9 .txt", "方案.docx...", "方案. . .", "报告\u202excod.exe", "政府开放日" * 20 + ".docx",
           "邮件14.eml", ".邮件14.eml", "v2.邮件14.eml", "_邮件14.eml", ".part-123", "..", "\x00\x1f", "",
           "a<b>c:\"d|e?f*.doc", "\ud800bad.doc", "名字\u200b\u2066\u061c.pdf", "COM¹.xls"]


# --- names --------------------------------------------------------------------------------------

@pytest.mark.parametrize("original", HOSTILE)
@pytest.mark.parametrize("prefix", ["2022-08-18_邮件14", "2022-08-24_v2", "2022-08-24_v1"])
def test_no_attachment_name_is_a_path_a_raw_mail_or_unsafe(original, prefix):
    name = attachment_name(prefix, original)
    assert name.startswith(prefix + "_")
    assert not RAW_NAME.fullmatch(name) and not RAW_NAME.fullmatch(name.upper())
    assert "/" not in name and "\\" not in name and not name.startswith(".")
    assert not re.search(r'[<>:"|?*\x00-\x1f\u202a-\u202e\u2066-\u2069\u200b-\u200f\u061c]', name)
    assert not name.endswith((".", " "))
    assert len(name.encode("utf-8")) <= MAX_FILE_BYTES
    name.encode("utf-8")                                    # no lone surrogates left


def test_no_random_name_can_be_a_raw_mail_name():
    rng = random.Random(8)
    alphabet = ["/", "\\", ".", "_", "-", "(", ")", "邮件", "v", "V", "2", "14", "eml", "EML", " ", "\u202e", "2022-08-18"]
    for _ in range(5000):
        original = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        for prefix in ("2022-08-18_邮件1", "2022-08-18_v1"):
            assert not RAW_NAME.fullmatch(attachment_name(prefix, original)), original


@pytest.mark.parametrize("original, expected", [
    ("x/2022-08-18_邮件14.eml", "x_2022-08-18_邮件14.eml"),        # replaced, not cut: the prefix stays in front
    ("../../x", "_.._x"),
    ("C:\\evil.exe", "C__evil.exe"),
    ("CON.txt", "_CON.txt"),
    ("aux.tar.gz", "_aux.tar.gz"),                                # Windows: the part before the FIRST dot
    ("LPT9 .txt", "_LPT9 .txt"),
    ("COM¹.xls", "_COM¹.xls"),
    ("方案.docx...", "方案.docx"),
    ("方案. . .", "方案"),
    ("报告\u202excod.exe", "报告xcod.exe"),
    ("实施方案（第2稿）.docx", "实施方案（第2稿）.docx"),
])
def test_sanitise_replaces_and_escapes(original, expected):
    assert sanitise(original) == expected


def test_a_300_byte_chinese_name_is_cut_on_a_character_keeping_its_extension():
    original = "西吉县民政局关于政府开放日活动实施方案的报告" * 5 + ".docx"
    assert len(original.encode()) > 300
    out = sanitise(original)
    assert out.endswith(".docx") and len(out.encode()) <= MAX_NAME_BYTES
    assert original.startswith(out[:-5]) and len(out.encode()) > MAX_NAME_BYTES - 3   # whole characters, no waste


def test_bidi_override_is_shown_as_the_sender_meant_it_to_look():
    text = hidden_characters_warning("报告\u202excod.exe")
    assert "U+202E" in text and "报告exe.docx" in text and "报告xcod.exe" in text
    assert as_displayed("a\u202ecba\u202cd") == "aabcd"
    assert hidden_characters_warning("实施方案.docx") is None
    assert "U+200B" in hidden_characters_warning("方\u200b案.docx")
    from mailbot.office.workbook_style import safe_text  # the workbook shows the real name, not the disguise
    assert safe_text("报告\u202excod.exe")[0] == "报告xcod.exe"


def test_same_name_in_one_mail_ignoring_case_keeps_both_unless_identical():
    used: dict[str, tuple[str, str]] = {}
    a = _unique("2022-08-24_v1_Plan.docx", "sha-a", used)
    b = _unique("2022-08-24_v1_plan.DOCX", "sha-b", used)
    c = _unique("2022-08-24_v1_PLAN.docx", "sha-a", used)
    assert a == "2022-08-24_v1_Plan.docx" and b == "2022-08-24_v1_plan(2).DOCX" and c == a


# --- writes -------------------------------------------------------------------------------------

def test_store_never_replaces_different_bytes_and_replays_to_the_same_archive(tmp_path):
    arc = Archive(tmp_path, "2022-政府开放日")
    first = arc.store("_未识别", "2022-08-18_邮件14.eml", b"genuine mail")
    second = arc.store("_未识别", "2022-08-18_邮件14.eml", b"forged mail")
    assert first == "2022-政府开放日/_未识别/2022-08-18_邮件14.eml"
    assert second == "2022-政府开放日/_未识别/2022-08-18_邮件14(2).eml"
    assert (tmp_path / first).read_bytes() == b"genuine mail" and (tmp_path / second).read_bytes() == b"forged mail"
    [c] = arc.take_collisions()
    assert (c.wanted, c.kept) == (first, second) and first in c.text() and second in c.text()
    # a crash after writing and a rerun: the same files, nothing new, the collision found again
    before = sorted(p.name for p in (tmp_path / first).parent.iterdir())
    assert arc.store("_未识别", "2022-08-18_邮件14.eml", b"genuine mail") == first
    assert arc.store("_未识别", "2022-08-18_邮件14.eml", b"forged mail") == second
    assert sorted(p.name for p in (tmp_path / first).parent.iterdir()) == before
    assert len(arc.take_collisions()) == 1


def test_store_compares_names_as_an_office_pc_does(tmp_path):
    arc = Archive(tmp_path, "c")
    plan = arc.store("民政局/实施方案", "2022-08-24_v1_Plan.docx", b"one")
    assert arc.store("民政局/实施方案", "2022-08-24_v1_PLAN.DOCX", b"one") == plan        # same bytes: reused
    other = arc.store("民政局/实施方案", "2022-08-24_v1_plan.docx", b"two")
    assert other == "c/民政局/实施方案/2022-08-24_v1_plan(2).docx"
    assert (tmp_path / plan).read_bytes() == b"one"


def test_a_file_created_during_the_write_is_not_replaced(tmp_path, monkeypatch):
    """Another program creates the name between our listing and our link: its file stays, the
    store fails with the name (the poll stops and files the mail next time), and the next
    store puts ours beside it."""
    arc = Archive(tmp_path, "c")
    real_link = os.link

    def racing_link(src, dst):
        if Path(dst).name == "2022-08-24_v1_方案.docx" and not Path(dst).exists():
            Path(dst).write_bytes(b"the other writer's file")
        return real_link(src, dst)
    monkeypatch.setattr(archive_mod.os, "link", racing_link)
    with pytest.raises(FileExistsError):
        arc.store("u/k", "2022-08-24_v1_方案.docx", b"ours")
    assert (tmp_path / "c/u/k/2022-08-24_v1_方案.docx").read_bytes() == b"the other writer's file"
    assert not list((tmp_path / "c/u/k").glob(".part-*"))
    rel = arc.store("u/k", "2022-08-24_v1_方案.docx", b"ours")
    assert rel == "c/u/k/2022-08-24_v1_方案(2).docx" and (tmp_path / rel).read_bytes() == b"ours"


def test_in_a_transaction_files_are_named_at_commit_and_gone_on_rollback(tmp_path):
    """Inside a ledger transaction a store reserves its name at once (a second store sees it)
    but the file gets its name only when the transaction commits; a rollback leaves nothing."""
    from mailbot.store.archive import Staging
    from mailbot.store.ledger import Ledger
    led = Ledger(tmp_path / "l.sqlite3")
    arc = Archive(tmp_path / "a", "c", Staging(led))
    folder = tmp_path / "a" / "c" / "u"
    with led.transaction():
        first = arc.store("u", "2022-08-24_v1_a.txt", b"one")
        assert arc.store("u", "2022-08-24_v1_A.TXT", b"one") == first           # identical, staged: reused
        other = arc.store("u", "2022-08-24_v1_a.txt", b"two")
        assert other.endswith("a(2).txt") and arc.take_collisions()
        assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".part-")) == []
        assert len(list(folder.glob(".part-*"))) == 2
    assert (tmp_path / "a" / first).read_bytes() == b"one" and (tmp_path / "a" / other).read_bytes() == b"two"
    assert not list(folder.glob(".part-*"))
    with pytest.raises(RuntimeError):
        with led.transaction():
            arc.store("u", "2022-08-24_v2_b.txt", b"three")
            raise RuntimeError("the mail's rows failed")
    assert sorted(p.name for p in folder.iterdir()) == ["2022-08-24_v1_a(2).txt", "2022-08-24_v1_a.txt"]


def test_store_cleans_an_interrupted_write_and_stays_inside(tmp_path):
    arc = Archive(tmp_path, "c")
    (tmp_path / "c" / "u").mkdir(parents=True)
    (tmp_path / "c" / "u" / ".part-99-abc").write_bytes(b"half")
    arc.store("u", "2022-08-24_v1_a.txt", b"x")
    assert sorted(p.name for p in (tmp_path / "c" / "u").iterdir()) == ["2022-08-24_v1_a.txt"]
    assert arc.store("../..", "../../y.txt", b"z").startswith("c/")
    assert not (tmp_path.parent / "y.txt").exists()


# --- through the pipeline (Maildir) ---------------------------------------------------------------

def _mail(sender: str, subject: str, when: datetime, files: list[tuple[str, bytes]]) -> bytes:
    b = samples.MailBuilder(from_addr=sender, to=OFFICE, subject=subject, date=when, text="您好，材料见附件。")
    for name, data in files:
        b.attach(name, data)
    return b.build()


def _office(root: Path, extra_roster: str = f"{GOV_UNIT},{GOV_ADDR},赵敏,0954-3019901,档案馆\n") -> None:
    init_folder(root, demo_keys=True)
    with open(root / "rules" / "units.csv", "a", encoding="utf-8") as fh:
        fh.write(extra_roster)


def _plan(unit: str = GOV_UNIT) -> bytes:
    return samples.plan_docx(unit, activity=date(2022, 9, 16), theme="档案见证发展")


def test_a_collision_is_refused_recorded_and_in_the_digest(tmp_path):
    """An earlier file already holds the name this mail's raw copy would get (an archive carried
    over, a renumbered mailbox): it stays, the mail is kept as (2), the digest says so."""
    _office(tmp_path)
    when = datetime(2022, 8, 18, 10, 0, tzinfo=TZ)
    samples.write_maildir(tmp_path / "var" / "maildir", [(when, _mail(STRANGER, "咨询", when, [("问题.txt", b"?")]))])
    app = open_app(tmp_path / "config.ini", "2022-08-19")
    held = app.archive.root / "_未识别"
    held.mkdir(parents=True)
    (held / "2022-08-18_邮件1.eml").write_bytes(b"an earlier mail")
    poll(app)
    msg = app.ledger.messages()[0]
    assert (held / "2022-08-18_邮件1.eml").read_bytes() == b"an earlier mail"
    assert msg.raw_path.endswith("_未识别/2022-08-18_邮件1(2).eml")
    [event] = [e for e in app.ledger.events() if e.job == "archive"]
    assert event.level == "warning" and "_未识别/2022-08-18_邮件1.eml" in event.text and msg.raw_path in event.text
    from mailbot.office.digest import run_digest
    _, text = run_digest(app.ledger, app.config, app.campaign, app.roster, date(2022, 8, 19), dry_run=True)
    assert "归档文件名冲突" in text and msg.raw_path in text
    app.close()


def test_filed_names_hidden_characters_finding_and_verify_with_duplicates_and_confirmation(tmp_path):
    """A unit's plan whose file name hides U+202E: filed with the control removed and a 文件名
    finding; the same files resent (a duplicate shares the paths); a 待确认 mail confirmed later
    (its held copies stay on record): verify finds everything consistent."""
    _office(tmp_path)
    t1, t2, t3 = (datetime(2022, 8, 20 + i, 9, 0, tzinfo=TZ) for i in range(3))
    plan = _plan()
    samples.write_maildir(tmp_path / "var" / "maildir", [
        (t1, _mail(GOV_ADDR, "西吉县档案馆政府开放日实施方案", t1, [("档案馆方案\u202excod.docx", plan),
                                                              ("Plan.docx", b"A"), ("plan.DOCX", b"B")])),
        (t2, _mail(GOV_ADDR, "西吉县档案馆政府开放日实施方案（重发）", t2, [("档案馆方案\u202excod.docx", plan),
                                                                  ("Plan.docx", b"A"), ("plan.DOCX", b"B")])),
        (t3, _mail("liu.hx@example.org", "西吉县民政局政府开放日实施方案", t3,
                   [("民政局实施方案.docx", _plan("西吉县民政局"))])),
    ])
    app = open_app(tmp_path / "config.ini", "2022-08-23")
    poll(app)
    filed, dup, waiting = app.ledger.messages()
    assert (filed.status, dup.duplicate_of, waiting.status) == ("filed", filed.id, "unconfirmed")
    names = [PurePath(r.path).name for r in app.ledger.attachments(filed.id)]
    assert names == ["2022-08-20_v1_档案馆方案xcod.docx", "2022-08-20_v1_Plan.docx", "2022-08-20_v1_plan(2).DOCX"]
    assert PurePath(filed.raw_path).name == "2022-08-20_v1.邮件1.eml"
    assert PurePath(dup.raw_path).name == "2022-08-21_v1.邮件2.eml"
    for m in (filed, dup):
        hints = [f for f in app.ledger.findings(m.id) if f.item == "文件名"]
        assert len(hints) == 1 and hints[0].severity == "提醒" and "U+202E" in hints[0].text
    assert verify(app.ledger, app.archive).ok
    # the office adds the sender: the held copies are retired, not forgotten
    with open(tmp_path / "rules" / "units.csv", encoding="utf-8") as fh:
        roster = fh.read().replace("xjmzj@163.com;", "xjmzj@163.com;liu.hx@example.org;")
    (tmp_path / "rules" / "units.csv").write_text(roster, encoding="utf-8")
    app.reload_roster()
    poll(app)
    assert app.ledger.message(waiting.id).status == "filed"
    result = verify(app.ledger, app.archive)
    assert result.ok, result.lines()
    assert result.checked == len({r.path for r in app.ledger.recorded_files()}) == 9
    from mailbot.office.digest import run_digest
    from mailbot.store.verify import run_verify
    run_verify(app.ledger, app.archive, app.config.ledger)
    _, text = run_digest(app.ledger, app.config, app.campaign, app.roster, date(2022, 8, 23), dry_run=True)
    assert "档案核对：9 个文件全部一致" in text
    app.close()


def test_verify_names_missing_changed_unrecorded_and_leftovers(tmp_path):
    _office(tmp_path)
    when = datetime(2022, 8, 20, 9, 0, tzinfo=TZ)
    samples.write_maildir(tmp_path / "var" / "maildir", [
        (when, _mail(GOV_ADDR, "西吉县档案馆政府开放日实施方案", when, [("方案.docx", _plan()), ("附表.xlsx", b"xl")]))])
    app = open_app(tmp_path / "config.ini", "2022-08-21")
    poll(app)
    msg = app.ledger.messages()[0]
    docx, xlsx = (app.archive.base / r.path for r in app.ledger.attachments(msg.id))
    docx.write_bytes(docx.read_bytes() + b"!")
    xlsx.unlink()
    (docx.parent / "2022-08-21_v2_伪造.docx").write_bytes(b"stray")
    (docx.parent / ".part-1-dead").write_bytes(b"half")
    (docx.parent / "Thumbs.db").write_bytes(b"explorer")
    quick = verify(app.ledger, app.archive, quick=True)
    full = verify(app.ledger, app.archive)
    rel = lambda p: p.relative_to(app.archive.base).as_posix()   # noqa: E731
    for result in (quick, full):
        assert {(p.kind, p.path) for p in result.problems} == {
            ("changed", rel(docx)), ("missing", rel(xlsx)), ("unrecorded", rel(docx.parent / "2022-08-21_v2_伪造.docx"))}
        assert result.leftovers == [rel(docx.parent / ".part-1-dead")]
    assert "缺失 1 个、被改动 1 个；另有未登记文件 1 个" in full.summary()
    # recorded for the digest: the summary and each problem, one line each
    from mailbot.office.digest import run_digest
    from mailbot.store.verify import run_verify
    assert not run_verify(app.ledger, app.archive, app.config.ledger).ok
    _, text = run_digest(app.ledger, app.config, app.campaign, app.roster, date(2022, 8, 22), dry_run=True)
    assert "缺失 1 个、被改动 1 个" in text and f"缺失：{rel(xlsx)}" in text and f"被改动：{rel(docx)}" in text
    app.close()


def test_the_daemon_verifies_weekly_and_before_the_digest(w):
    from schedsupport import TZ as STZ

    from mailbot.office.daemon import Daemon
    calls = []
    clock = [datetime(2022, 9, 13, 8, 0, tzinfo=STZ)]
    d = Daemon(w.config, ledger=w.ledger, clock=lambda: clock[0], calendar=w.calendar,
               poll=lambda: 0, deliver=lambda: calls.append("deliver"), remind=lambda day: calls.append("remind"),
               digest=lambda day: calls.append("digest"), workbook=lambda: calls.append("workbook"),
               verify=lambda: calls.append("verify"))
    d.timed_step()
    assert calls == ["verify"]
    for day, runs in ((14, 1), (19, 1), (20, 2), (21, 2), (27, 3)):
        clock[0] = datetime(2022, 9, day, 18, 0, tzinfo=STZ)
        d.fixed_today = clock[0].date()
        d.timed_step()
        assert calls.count("verify") == runs, day
    assert calls.index("verify") < calls.index("digest")


# --- a real poll against Dovecot, then `mailbot verify` ----------------------------------------

class Office:
    def __init__(self, root: Path, dovecot, smtp, user: str):
        self.root = root
        _office(root)
        point_config_at(root, imap_port=dovecot.port, user=user, password_env="MB_ARCH_PW", smtp_port=smtp.port)

    def mailbot(self, *args: str) -> subprocess.CompletedProcess:
        env = dict(os.environ, MB_ARCH_PW=PASSWORD)
        env.pop("MAILBOT_CRASH_AT", None)
        return subprocess.run([sys.executable, "-m", "mailbot", "--config", str(self.root / "config.ini"),
                               "--today", "2022-08-25", *args], env=env, capture_output=True, text=True, timeout=300)

    def db(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.root / "var" / "mailbot.sqlite3")
        db.row_factory = sqlite3.Row
        return db


def test_attack_through_a_real_poll_then_tamper_and_verify(tmp_path, dovecot, smtp_server):
    from servers import unique_user
    user = unique_user("arch")
    dovecot.add_user(user, PASSWORD)
    office = Office(tmp_path / "office", dovecot, smtp_server, user)
    day1, day2 = datetime(2022, 8, 18, 9, 0, tzinfo=TZ), datetime(2022, 8, 20, 10, 0, tzinfo=TZ)
    plan = _plan()
    # a 待确认 mail first (the unit named, the address not on the roster), then the unit's own plan
    dovecot.append(user, _mail(STRANGER, f"{GOV_UNIT}开放日报名咨询", day1, [("咨询.txt", "报名方式？".encode())]),
                   internaldate=day1)
    dovecot.append(user, _mail(GOV_ADDR, "西吉县档案馆政府开放日实施方案", day2, [("档案馆实施方案.docx", plan)]),
                   internaldate=day2)
    r = office.mailbot("poll")
    assert r.returncode == 0, r.stderr
    db = office.db()
    held_raw = db.execute("SELECT raw_path FROM messages WHERE uid=1").fetchone()[0]
    [held_att] = [r[0] for r in db.execute("SELECT path FROM attachments a JOIN messages m ON a.message=m.id "
                                             "WHERE m.uid=1")]
    [filed_att] = [r[0] for r in db.execute("SELECT path FROM attachments a JOIN messages m ON a.message=m.id "
                                              "WHERE m.uid=2")]
    assert held_raw.endswith(f"/_待确认/{GOV_UNIT}/2022-08-18_邮件1.eml") and filed_att.endswith("/2022-08-20_v1_档案馆实施方案.docx")
    db.close()
    archive = office.root / "archive"
    earlier = {p: (archive / p).read_bytes() for p in (held_raw, held_att, filed_att)}

    # the attacker, the same day as the held mail: names built to land on the earlier files
    campaign_dir, unit_dir = PurePath(held_raw).parts[0], "/".join(PurePath(filed_att).parts[1:-1])
    held_dir = PurePath(held_raw).parent
    hostile = [("x/2022-08-18_邮件1.eml", b"From: forged\r\n\r\nforged raw mail"),
               (f"../../../{held_dir}/{PurePath(held_att).name}", b"forged attachment"),
               (f"../{unit_dir}/{PurePath(filed_att).name}", b"forged plan"),
               (PurePath(filed_att).name, b"forged plan, plain name"),
               ("报告\u202excod.exe", b"MZ not a report"),
               ("Plan.docx", b"first"), ("plan.DOCX", b"second")]
    when = day1.replace(hour=15)
    dovecot.append(user, _mail("lisi.2022@example.org", f"{GOV_UNIT}资料", when, hostile), internaldate=when)
    r = office.mailbot("poll")
    assert r.returncode == 0, r.stderr
    for rel, data in earlier.items():
        assert (archive / rel).read_bytes() == data, rel
    db = office.db()
    attacker = db.execute("SELECT * FROM messages WHERE uid=3").fetchone()
    paths = [r[0] for r in db.execute("SELECT path FROM attachments WHERE message=? ORDER BY seq", (attacker["id"],))]
    db.close()
    assert attacker["status"] == "unconfirmed" and attacker["raw_path"] == f"{held_dir}/2022-08-18_邮件3.eml"
    assert len(set(paths)) == len(hostile) and not set(paths) & set(earlier)
    assert all(p.startswith(f"{held_dir}/2022-08-18_邮件3_") for p in paths), paths
    for (name, data), p in zip(hostile, paths):
        assert (archive / p).read_bytes() == data
    assert any("U+202E" in p and "报告exe.docx" in p for p in json.loads(attacker["problems_json"]))
    r = office.mailbot("verify")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "档案核对：" in r.stdout and "全部一致" in r.stdout

    # tamper one archived file, delete another, add a stray one
    (archive / filed_att).write_bytes(earlier[filed_att] + b"\x00")
    (archive / held_att).unlink()
    stray = PurePath(filed_att).parent / "2022-08-21_v2_补充说明.docx"
    (archive / stray).write_bytes(b"not from any mail")
    r = office.mailbot("verify")
    assert r.returncode == 1
    lines = [line for line in r.stdout.splitlines() if line.startswith(("缺失", "被改动", "未登记"))]
    assert {(line.split("：")[0], line.split("：")[1].split("（")[0]) for line in lines} == {
        ("被改动", filed_att), ("缺失", held_att), ("未登记", str(stray))}
    assert "缺失 1 个、被改动 1 个；另有未登记文件 1 个" in r.stdout.splitlines()[-1]
    r = office.mailbot("verify", "--json")
    assert r.returncode == 1
    out = json.loads(r.stdout)
    assert {(p["kind"], p["path"]) for p in out["problems"]} == {
        ("changed", filed_att), ("missing", held_att), ("unrecorded", str(stray))}
    # each run is recorded for the digest
    db = office.db()
    assert [e["level"] for e in db.execute("SELECT level FROM events WHERE job='verify' ORDER BY id")] == \
        ["ok", "warning", "warning"]
    db.close()
