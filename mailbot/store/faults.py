"""Faults of the machine itself: a full disk, a folder that cannot be written, a ledger another
program holds. Told as one Chinese sentence naming the path and what to do (`explain`), recorded
in the ledger when it can be written and otherwise in `<ledger>.fault` (a small JSON file the
next successful poll moves into the ledger, so the digest reports it; `status` shows it
meanwhile), and watched by `doctor` (`low_space`).

Nothing is lost by such a fault: a mail is committed to the ledger only after its files are
durably archived, so a poll that stops half-way refetches that mail next time and the archive
and ledger converge to what a fault-free run gives.
"""
from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from mailbot.store.fsutil import atomic_write

log = logging.getLogger("mailbot.faults")

FILE_ONLY_KEY = "file_only"
FILE_ONLY = {FILE_ONLY_KEY: True}  # log.error(..., extra=FILE_ONLY): for the log file; the terminal
                                   # shows the clerk the Chinese sentence instead

LOW_FREE_BYTES = 1024 ** 3        # doctor warns below 1 GB free …
LOW_FREE_FRACTION = 0.05          # … or below 5 % of the disk

FULL, DENIED, LOCKED, DISK_ERROR, CORRUPT, MISSING, OTHER = (
    "full", "denied", "locked", "disk-error", "corrupt", "missing", "other")

_SQLITE_KINDS = {sqlite3.SQLITE_FULL: FULL, sqlite3.SQLITE_BUSY: LOCKED, sqlite3.SQLITE_LOCKED: LOCKED,
                 sqlite3.SQLITE_READONLY: DENIED, sqlite3.SQLITE_PERM: DENIED, sqlite3.SQLITE_IOERR: DISK_ERROR,
                 sqlite3.SQLITE_CORRUPT: CORRUPT, sqlite3.SQLITE_NOTADB: CORRUPT, sqlite3.SQLITE_CANTOPEN: MISSING}
_SQLITE_TEXTS = (("disk is full", FULL), ("is locked", LOCKED), ("readonly", DENIED), ("disk i/o", DISK_ERROR),
                 ("malformed", CORRUPT), ("not a database", CORRUPT), ("unable to open", MISSING))
_OS_KINDS = {errno.ENOSPC: FULL, getattr(errno, "EDQUOT", errno.ENOSPC): FULL, errno.EACCES: DENIED, errno.EPERM: DENIED,
             errno.EROFS: DENIED, errno.EIO: DISK_ERROR, errno.ENOENT: MISSING}


def is_fault(exc: BaseException) -> bool:
    """A fault of the machine (disk, permissions, locks), not of mailbot's own logic."""
    return isinstance(exc, OSError) or kind(exc) not in (None, OTHER)


def kind(exc: BaseException) -> str | None:
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        if code is not None and (code & 0xFF) in _SQLITE_KINDS:
            return _SQLITE_KINDS[code & 0xFF]
        text = str(exc).lower()
        return next((k for needle, k in _SQLITE_TEXTS if needle in text), OTHER)
    if isinstance(exc, OSError):
        return _OS_KINDS.get(exc.errno, OTHER)
    return None


def explain(exc: BaseException, path: Path | str | None = None) -> str:
    """One Chinese sentence: what happened to which path, and what to do. PATH is used when the
    exception does not name one (an SQLite error, or a write that failed half-way)."""
    named = getattr(exc, "filename", None) if isinstance(exc, OSError) else None
    where = str(named or path or "mailbot 的数据文件")
    what = kind(exc) or OTHER
    detail = (exc.strerror or str(exc)) if isinstance(exc, OSError) else str(exc)
    if what == FULL:
        return (f"磁盘已满，无法写入 {where}。请清理该磁盘，或把 config.ini [paths] 中的归档、台账移到空间充足的磁盘；"
                f"腾出空间后 mailbot 会自动补做未完成的邮件，不会丢信。")
    if what == DENIED:
        reason = {errno.EROFS: "所在磁盘是只读的"}.get(getattr(exc, "errno", None), "没有写入权限")
        return (f"{where} 不能写入（{reason}）。请把它及所在文件夹改为运行 mailbot 的账户可写"
                f"（只读挂载的磁盘需重新以读写方式挂载），然后再运行；未完成的邮件会自动补做。")
    if what == LOCKED:
        return (f"台账 {where} 被另一个程序占用，等待后仍未释放。请关闭正在打开它的程序"
                f"（如 DB Browser for SQLite、备份或同步软件、另一个 mailbot），稍后再试；守护进程会自动重试。")
    if what == DISK_ERROR:
        return (f"读写 {where} 时磁盘出错（{detail}）。请检查该磁盘或网络共享是否正常（必要时请 IT 人员检查硬盘），"
                f"然后再运行。")
    if what == CORRUPT:
        return (f"台账 {where} 已损坏（{detail}）。请停止 mailbot，用备份恢复台账，或把台账文件交给维护人员处理。")
    if what == MISSING:
        return f"找不到或无法打开 {where}。请检查 config.ini [paths] 的设置，以及该磁盘或网络共享是否已连接。"
    return f"读写 {where} 失败（{detail}）。请检查该路径所在的磁盘和权限，然后再运行。"


# --- remembered when the ledger cannot be written ------------------------------------------------

def state_file(ledger_path: Path | str) -> Path:
    return Path(f"{ledger_path}.fault")


def record(ledger, ledger_path: Path | str, job: str, text: str, exc: BaseException | None = None) -> None:
    """The fault as an error event in the ledger; when the ledger is the problem (or cannot be
    written), in `<ledger>.fault` instead. Never raises."""
    if ledger is not None and not isinstance(exc, sqlite3.Error):
        try:
            ledger.event(job, "error", text)
            return
        except Exception as err:  # the ledger shares the full disk, or is locked meanwhile
            log.warning("could not record the fault in the ledger: %s", err, extra=FILE_ONLY)
    remember(ledger_path, job, text)


def remember(ledger_path: Path | str, job: str, text: str) -> None:
    from mailbot.redact import redact
    entry = {"at": datetime.now().astimezone().isoformat(timespec="seconds"), "job": job, "text": redact(text)}
    try:
        atomic_write(state_file(ledger_path), json.dumps(entry, ensure_ascii=False).encode("utf-8"))
    except OSError as err:   # the same full disk: the log and the terminal are all that is left
        log.error("could not write %s either: %s", state_file(ledger_path), err, extra=FILE_ONLY)


def remembered(ledger_path: Path | str) -> dict | None:
    """The fault waiting in `<ledger>.fault`, if any: {"at", "job", "text"}."""
    try:
        entry = json.loads(state_file(ledger_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return entry if isinstance(entry, dict) and "text" in entry else None


def carry_over(ledger, ledger_path: Path | str) -> bool:
    """After a successful write: the remembered fault becomes a ledger event (the digest lists it)
    and the file goes. True when there was one."""
    entry = remembered(ledger_path)
    if entry is None:
        return False
    at = entry.get("at", "")[:16].replace("T", " ")
    ledger.event(entry.get("job") or "fault", "error", f"{at} 台账无法写入：{entry['text']}")
    state_file(ledger_path).unlink(missing_ok=True)
    return True


# --- free space (doctor) --------------------------------------------------------------------------

@dataclass(frozen=True)
class Space:
    path: Path
    free: int
    total: int

    @property
    def low(self) -> bool:
        return self.free < LOW_FREE_BYTES or self.free < self.total * LOW_FREE_FRACTION

    def text(self) -> str:
        share = 100 * self.free / self.total if self.total else 0
        return f"{self.path} 所在磁盘剩余 {self.free / 1024 ** 3:.1f} GB（{share:.0f}%）"


def free_space(paths: list[Path]) -> list[Space]:
    """Free space of each distinct file system holding PATHS (their nearest existing folder)."""
    seen: set[int] = set()
    found = []
    for p in paths:
        existing = Path(p)
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        try:
            dev = os.stat(existing).st_dev
            usage = shutil.disk_usage(existing)
        except OSError:
            continue
        if dev in seen:
            continue
        seen.add(dev)
        found.append(Space(Path(p), usage.free, usage.total))
    return found
