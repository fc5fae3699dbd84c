"""Faults of the machine itself (issue 8 §8): a full disk, a read-only archive, a locked ledger.

What the office needs: the clerk reads one Chinese sentence naming the path and what to do
(exit 1, never a Python traceback); the daemon records it, backs off and polls again; when the
ledger itself cannot be written, `<ledger>.fault` keeps it for `status` until the next good poll
moves it into the ledger (so the digest shows it); `doctor` warns when space runs low; and once
the fault is gone, archive, ledger and sent mail are exactly what a fault-free run gives.

Faults are injected in the `mailbot` process (a small runner patches one writer before calling
cli.main) so the tests run anywhere; where this machine lets us mount a tmpfs (root), the same
story also runs on a real full and a real read-only file system.
"""
from __future__ import annotations

import email
import errno
import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from email import policy
from pathlib import Path

import pytest

from mailbot.store import faults
from mailbot.demo import samples
from mailbot.campaign import load_campaign, load_roster
from mailbot.defaults import init_folder

TODAY = "2022-09-30"
OFFICE_ADDR = "xjxzwgkb@163.com"
N_MAILS = 12

# the `mailbot` process, with one writer broken as the FAULT variable says
RUNNER = r"""
import errno, os, sqlite3, sys
spec = os.environ.get("FAULT", "")
if spec.startswith("archive:"):                 # archive:<ERRNO>:<writes that still succeed>
    import mailbot.store.archive as archive
    _, name, good = spec.split(":")
    left = [int(good)]
    def failing(real):
        def write(folder, data, **kw):
            if left[0] <= 0:
                raise OSError(getattr(errno, name), os.strerror(getattr(errno, name)))
            left[0] -= 1
            return real(folder, data, **kw)
        return write
    archive.write_temp_open = failing(archive.write_temp_open)    # the archive's one way to write
elif spec == "ledger-full-at-send":            # the disk fills while the queue is drained
    from mailbot.store.ledger import Ledger
    def mark_sent(self, oid):
        raise sqlite3.OperationalError("database or disk is full")
    Ledger.mark_sent = mark_sent
elif spec == "busy":                            # do not wait 30 s for the other program
    from mailbot.store.ledger import Ledger
    Ledger.BUSY_TIMEOUT = 0.5
from mailbot.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _mails(root: Path):
    campaign = load_campaign(root / "rules" / "open-day-2022.toml")
    roster = load_roster(root / "rules" / "units.csv", campaign.region)
    return samples.demo_mails(campaign, roster, OFFICE_ADDR)[:N_MAILS]


class Office:
    """A working folder on the embedded backends (Maildir in, outbox out); the archive and the
    ledger may live elsewhere (a small file system)."""

    def __init__(self, root: Path, archive: Path | None = None, var: Path | None = None):
        self.root = root
        init_folder(root, demo_keys=True)
        self.archive = archive or root / "archive"
        self.var = var or root / "var"
        self.ledger = self.var / "mailbot.sqlite3"
        text = (root / "config.ini").read_text(encoding="utf-8")
        text = text.replace("archive = archive", f"archive = {self.archive}")
        text = text.replace("ledger = var/mailbot.sqlite3", f"ledger = {self.ledger}")
        (root / "config.ini").write_text(text, encoding="utf-8")
        samples.write_maildir(root / "var" / "maildir", [(m.arrival, m.raw) for m in _mails(root)])

    def mailbot(self, *args: str, fault: str = "") -> subprocess.CompletedProcess:
        env = dict(os.environ, FAULT=fault)
        return subprocess.run([sys.executable, "-c", RUNNER, "--config", str(self.root / "config.ini"),
                               "--today", TODAY, *args], env=env, capture_output=True, text=True, timeout=300)

    def snapshot(self) -> dict:
        """Archive (path → sha256), ledger rows without times or random ids, mail sent."""
        files = {p.relative_to(self.archive).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                 for p in sorted(self.archive.rglob("*")) if p.is_file()}
        db = sqlite3.connect(self.ledger)
        rows = {
            "messages": db.execute("SELECT uid, sha256, status, unit, kind, version, outcome, raw_path, reason "
                                   "FROM messages ORDER BY uid").fetchall(),
            "attachments": db.execute("SELECT m.uid, a.seq, a.sha256, a.path, a.outcome FROM attachments a "
                                      "JOIN messages m ON m.id = a.message ORDER BY m.uid, a.seq").fetchall(),
            "findings": db.execute("SELECT m.uid, f.rule, f.item FROM findings f JOIN messages m ON m.id = f.message "
                                   "ORDER BY m.uid, f.id").fetchall(),
            "outgoing": db.execute("SELECT purpose, dedupe_key, recipients, subject, status FROM outgoing "
                                   "ORDER BY dedupe_key").fetchall(),
        }
        queued_ids = {r[0] for r in db.execute("SELECT message_id FROM outgoing")}
        db.close()
        sent = [email.message_from_bytes(p.read_bytes(), policy=policy.default)
                for p in sorted((self.root / "var" / "outbox").glob("*.eml"))]
        ids = [str(m["Message-ID"]) for m in sent]
        assert len(ids) == len(set(ids)), "a mail was sent twice"
        assert set(ids) <= queued_ids
        sent_subjects = sorted(str(m["Subject"]) for m in sent)
        return {"files": files, **rows, "sent": sent_subjects}


def assert_told(r: subprocess.CompletedProcess, *words: str) -> None:
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout, r.stderr
    assert "Errno" not in r.stderr, r.stderr
    for w in words:
        assert w in r.stderr, (w, r.stderr)


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict:
    """What a fault-free run files and sends."""
    office = Office(tmp_path_factory.mktemp("reference") / "office")
    r = office.mailbot("poll")
    assert r.returncode == 0, r.stderr
    return office.snapshot()


# --- injected in the mailbot process ---------------------------------------------------------

@pytest.mark.parametrize("name, good, words", [
    ("ENOSPC", 5, ["磁盘已满", "请清理该磁盘"]),
    ("EROFS", 0, ["不能写入", "所在磁盘是只读的"]),
    ("EACCES", 0, ["不能写入", "没有写入权限"]),
])
def test_archive_fault_is_told_in_chinese_and_the_rerun_converges(tmp_path, reference, name, good, words):
    office = Office(tmp_path / "office")
    r = office.mailbot("poll", fault=f"archive:{name}:{good}")
    assert_told(r, str(office.archive), *words)
    assert "错误：" in r.stderr
    log = (office.var / "mailbot.log").read_text(encoding="utf-8")
    assert "Traceback" in log and f"[Errno {getattr(errno, name)}]" in log       # the IT person's details
    ok = office.mailbot("poll")
    assert ok.returncode == 0, ok.stderr
    assert office.snapshot() == reference
    events = sqlite3.connect(office.ledger).execute(
        "SELECT level, text FROM events WHERE job='poll' ORDER BY id").fetchall()
    assert any(level == "error" and words[0] in text and str(office.archive) in text for level, text in events)


def test_ledger_full_while_sending_is_told_and_nothing_is_sent_twice(tmp_path, reference):
    office = Office(tmp_path / "office")
    r = office.mailbot("poll", fault="ledger-full-at-send")
    assert_told(r, "磁盘已满", str(office.ledger))
    assert len(list((office.root / "var" / "outbox").glob("*.eml"))) == 1    # sent, but not recorded as sent
    ok = office.mailbot("poll")
    assert ok.returncode == 0, ok.stderr
    assert office.snapshot() == reference


def test_a_ledger_held_by_another_program(tmp_path, reference):
    office = Office(tmp_path / "office")
    assert office.mailbot("poll").returncode == 0                         # the ledger exists, in WAL mode
    other = sqlite3.connect(office.ledger, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        r = office.mailbot("poll", fault="busy")
        assert_told(r, "被另一个程序占用", str(office.ledger), "稍后再试")
        assert faults.remembered(office.ledger)["job"] == "poll"       # the ledger could not take it
        locked_status = office.mailbot("status", fault="busy")
        assert_told(locked_status, "被另一个程序占用")
    finally:
        other.execute("ROLLBACK")
        other.close()
    status = office.mailbot("status")
    assert status.returncode == 0 and "故障：" in status.stdout and "被另一个程序占用" in status.stdout
    ok = office.mailbot("poll")                       # the next good poll moves the fault into the ledger
    assert ok.returncode == 0, ok.stderr
    assert faults.remembered(office.ledger) is None
    assert "故障：" not in office.mailbot("status").stdout
    digest = office.mailbot("digest", "--dry-run")
    assert "台账无法写入" in digest.stdout and "被另一个程序占用" in digest.stdout
    assert office.snapshot() == reference


def test_doctor_warns_when_space_is_low(tmp_path, monkeypatch):
    office = Office(tmp_path / "office")
    monkeypatch.setattr(faults, "LOW_FREE_BYTES", 1 << 60)           # "low" on any disk
    lines: list[str] = []
    from mailbot.doctor import doctor
    doctor(str(office.root / "config.ini"), TODAY, lines.append)
    low = [x for x in lines if "磁盘空间不足" in x]
    assert low and str(office.archive) in low[0] and "请清理该磁盘" in low[0]
    monkeypatch.setattr(faults, "LOW_FREE_BYTES", 0)
    monkeypatch.setattr(faults, "LOW_FREE_FRACTION", 0)
    lines.clear()
    doctor(str(office.root / "config.ini"), TODAY, lines.append)
    assert not [x for x in lines if "磁盘空间不足" in x] and any(x.startswith("✓ 磁盘空间") for x in lines)


# --- the daemon -------------------------------------------------------------------------------

def _daemon(office: Office, verify=None):
    from mailbot.app import open_app
    from mailbot.office.jobs import Jobs
    from mailbot.office.daemon import Daemon
    from mailbot.mailout.deliver import deliver
    from mailbot.office.pipeline import poll
    app = open_app(office.root / "config.ini", TODAY)
    d = Daemon(app.config, ledger=app.ledger, poll=lambda: poll(app), deliver=lambda: deliver(app),
               remind=lambda day: None, digest=lambda day: None, workbook=Jobs(app).workbook,
               verify=verify)
    return app, d


def test_daemon_survives_a_full_disk_and_converges(tmp_path, reference, monkeypatch):
    from mailbot.store import archive
    office = Office(tmp_path / "office")
    app, d = _daemon(office)
    def full(folder, data, **kw):
        raise OSError(errno.ENOSPC, "No space left on device")
    with monkeypatch.context() as m:
        m.setattr(archive, "write_temp_open", full)
        d.poll_step()
    assert d.poll_failures == 1 and d.poll_interval() == 2 * app.config.poll_minutes     # backs off
    error = [e.text for e in app.ledger.events() if e.job == "poll" and e.level == "error"][-1]
    assert "磁盘已满" in error and str(office.archive) in error                     # the digest will say so
    d.poll_step()                                                                   # space again
    assert d.poll_failures == 0
    app.close()
    assert office.snapshot() == reference


def test_daemon_survives_a_locked_ledger(tmp_path, reference, monkeypatch):
    from mailbot.store.ledger import Ledger
    office = Office(tmp_path / "office")
    monkeypatch.setattr(Ledger, "BUSY_TIMEOUT", 0.3)
    verified = []
    app, d = _daemon(office, verify=lambda: verified.append(1))
    other = sqlite3.connect(office.ledger, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        d.poll_step()
        assert d.poll_failures == 1
        assert d.guarded(d.timed_step) is None and verified   # its own bookkeeping (meta row) fails: no crash
        kept = faults.remembered(office.ledger)
        assert kept and "被另一个程序占用" in kept["text"] and str(office.ledger) in kept["text"]
    finally:
        other.execute("ROLLBACK")
        other.close()
    d.poll_step()
    assert d.poll_failures == 0 and faults.remembered(office.ledger) is None
    carried = [e for e in app.ledger.events() if e.level == "error" and "台账无法写入" in e.text]
    assert carried
    app.close()
    assert office.snapshot() == reference


# --- a real small file system (root only) ------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "小磁盘"
    mount.mkdir()
    try:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], check=True,
                       capture_output=True, timeout=30)
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"cannot mount a tmpfs here ({exc}); the injected faults above cover the same paths")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True, timeout=30)


def _remount(mount: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(mount)], check=True, capture_output=True, timeout=30)


def test_real_full_disk_then_space_freed(tmp_path, small_disk, reference):
    office = Office(tmp_path / "office", archive=small_disk / "archive", var=small_disk / "var")
    r = office.mailbot("poll")
    assert_told(r, "磁盘已满", str(small_disk))
    _remount(small_disk, "size=64m")                  # the IT person frees space
    ok = office.mailbot("poll")
    assert ok.returncode == 0, ok.stderr
    assert office.snapshot() == reference


def test_real_read_only_archive(tmp_path, small_disk, reference):
    _remount(small_disk, "size=64m")
    (small_disk / "archive").mkdir()
    office = Office(tmp_path / "office", archive=small_disk / "archive")
    _remount(small_disk, "ro")
    r = office.mailbot("poll")
    assert_told(r, "不能写入", "所在磁盘是只读的", str(small_disk / "archive"))
    _remount(small_disk, "rw")
    ok = office.mailbot("poll")
    assert ok.returncode == 0, ok.stderr
    assert office.snapshot() == reference
