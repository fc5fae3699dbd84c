"""Modes (issue 8 §7): nothing mailbot writes is readable by other users of the machine.

`mailbot` sets umask 077 when it starts; the important writers also ask for 0600 files and 0700
folders themselves (a folder's default ACL, or an embedding caller, bypasses the umask), and a
ledger or log left group/world-readable by an older version is tightened when opened. The
workbook is 0600 like everything else: the clerk opens it as the same account mailbot runs under.
"""
from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from mailbot.store.archive import Archive
from mailbot.office.daemon import InstanceLock, setup_logging
from mailbot.defaults import init_folder
from mailbot.store.ledger import Ledger
from mailbot.store.locks import job_lock
from mailbot.mailout.send import OutboxSender

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


def loose(root: Path) -> list[str]:
    """Every file or folder under ROOT (ROOT too) that its group or other users may use."""
    found = []
    for p in [root, *root.rglob("*")]:
        mode = p.lstat().st_mode
        if not stat.S_ISLNK(mode) and mode & 0o077:
            found.append(f"{p.relative_to(root.parent)} {stat.filemode(mode)}")
    return found


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_demo_under_a_permissive_umask_leaves_nothing_readable_by_others(tmp_path):
    folder = tmp_path / "演示"
    run = lambda *args: subprocess.run([sys.executable, "-m", "mailbot", *args], capture_output=True, text=True,  # noqa: E731
                                       timeout=600, preexec_fn=lambda: os.umask(0o022))
    r = run("demo", "--dir", str(folder))
    assert r.returncode == 0, r.stderr
    for more in (["status"], ["verify"], ["workbook"], ["doctor"]):
        run("--config", str(folder / "config.ini"), "--today", "2022-09-23", *more)
    made = {p.relative_to(folder).as_posix() for p in folder.rglob("*")}
    for expected in ("config.ini", "rules/units.csv", "var/mailbot.sqlite3", "var/mailbot.log",
                     "var/mailbot.sqlite3.poll.lock", "跟踪表.xlsx"):
        assert expected in made, expected
    assert any(m.startswith("var/outbox/") and m.endswith(".eml") for m in made)
    assert any(m.startswith("archive/") and m.endswith(".docx") for m in made)
    assert loose(folder) == []


def test_the_writers_are_private_without_the_cli_umask(tmp_path, umask_022):
    """Embedded use (no cli.main): each writer asks for 0600/0700 itself."""
    init_folder(tmp_path / "office")
    ledger = Ledger(tmp_path / "office" / "var" / "台账.sqlite3")
    ledger.event("test", "ok", "写入一行，生成 -wal/-shm")
    handlers = setup_logging(tmp_path / "office" / "var" / "日志" / "mailbot.log", stderr=False)
    try:
        logging.getLogger("mailbot.test").warning("a line in the log")
    finally:
        for h in handlers:
            logging.getLogger("mailbot").removeHandler(h)
            h.close()
    Archive(tmp_path / "office" / "archive", "2022-政府开放日").store("西吉县民政局/实施方案", "方案.docx", b"PK\x03\x04")
    with job_lock(tmp_path / "office" / "var" / "台账.sqlite3", "poll"):
        pass
    InstanceLock(tmp_path / "office" / "var" / "台账.sqlite3").acquire().release()
    OutboxSender(tmp_path / "office" / "var" / "outbox").send(
        "xjxzwgkb@163.com", ["xjmzj@163.com"], b"Message-ID: <a1@xiji.test>\r\nSubject: x\r\n\r\nbody\r\n")
    open(tmp_path / "office" / "other-tool.txt", "w").close()       # a control: umask 022 does apply here
    ledger.close()
    found = loose(tmp_path / "office")
    assert found == ["office/other-tool.txt -rw-r--r--"], found


def test_an_old_world_readable_ledger_and_log_are_tightened(tmp_path, umask_022):
    ledger_path, log_path = tmp_path / "mailbot.sqlite3", tmp_path / "mailbot.log"
    Ledger(ledger_path).close()
    log_path.write_text("old line\n", encoding="utf-8")
    for p in (ledger_path, log_path):
        os.chmod(p, 0o644)
    Ledger(ledger_path).close()
    for h in setup_logging(log_path, stderr=False):
        logging.getLogger("mailbot").removeHandler(h)
        h.close()
    assert stat.S_IMODE(ledger_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(log_path.stat().st_mode) == 0o600
