"""`mailbot run`: the daemon. One process per ledger, for months.

    run(config, poll=..., deliver=..., remind=..., digest=..., workbook=...)

The jobs are plain callables the caller wires to the rest of mailbot:

    poll()          fetch and process new mail once; returns the number of changes (int),
                    an object with `.changes` (int), or a report with `.fetched`/`.confirmed`;
                    a `.summary` (str or method) goes to the log
    deliver()       send what is queued and due
    remind(today)   queue today's 催报 (idempotent: dedupe keys)
    digest(today)   queue today's 每日汇总 (idempotent)
    workbook()      compile the tracking workbook (and read back hand-kept columns)
    verify()        optional: the ledger ↔ archive check (`mailbot verify`); records its own event

Timing, on `schedule`:
  * poll every [schedule] poll_minutes; after a failure the interval doubles, capped at
    60 minutes (or poll_minutes if larger), and resets after the next success;
  * remind at remind_at and digest at digest_at, working days only; a daemon started (or
    woken) after that time on the same day runs the day's job then (catch-up), never for
    a day already past; "done today" is remembered in the ledger, so a restart does not
    repeat it; a failed timed job is retried later the same day with backoff;
  * workbook after a poll that changed something, and before each digest;
  * verify once every VERIFY_EVERY_DAYS days (the first time at start), before that day's
    remind/digest so the digest reports it; remembered in the ledger like remind/digest;
  * deliver after every step that may queue mail, and with every poll (retries).
A job's exception is logged with its traceback and recorded as an `events` row (level
error) and the loop goes on. SIGTERM/SIGINT let the running step finish, then `run`
returns 0; a second signal aborts at once (KeyboardInterrupt; the ledger is crash-safe).
One instance per ledger: an exclusive lock on `<ledger>.lock` (freed by the OS if the
process dies), a second instance gets a Chinese error.
"""
from __future__ import annotations

import logging
import logging.handlers
import os
import signal
import sqlite3
import sys
import time as _time
import traceback
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Callable

import schedule

from mailbot.store import faults
from mailbot.store.faults import FILE_ONLY_KEY
from mailbot.store.locks import try_lock, unlock
from mailbot.store.modes import make_dirs, private_file, private_opener
from mailbot.redact import redact_handlers
from mailbot.config import Config
from mailbot.store.ledger import Ledger
from mailbot.office.workcalendar import CalendarError, WorkCalendar

log = logging.getLogger("mailbot.daemon")

POLL_BACKOFF_CAP_MINUTES = 60
TIMED_RETRY_MINUTES = (5, 10, 20, 40, 60)
TIMED_CHECK_SECONDS = 30
VERIFY_EVERY_DAYS = 7
LOG_MAX_BYTES = 5 * 1024 * 1024
LOG_BACKUPS = 5


class DaemonError(Exception):
    """The daemon cannot start; the message is a Chinese sentence."""


# --- single instance -------------------------------------------------------------------

class InstanceLock:
    """An exclusive, non-blocking lock on `<ledger>.lock`; the OS frees it when we die."""

    def __init__(self, ledger_path: Path | str):
        self.path = Path(str(ledger_path) + ".lock")
        self._fh = None

    def acquire(self) -> "InstanceLock":
        make_dirs(self.path.parent)
        fh = open(self.path, "a+", encoding="utf-8", opener=private_opener)
        try:
            try_lock(fh)
        except OSError:
            try:
                fh.seek(0)
                other = fh.read(32).strip()
            except OSError:      # Windows: the locked byte cannot be read
                other = ""
            fh.close()
            who = f"（进程号 {other}）" if other else ""
            raise DaemonError(f"另一个 mailbot 进程{who}正在使用台账 {str(self.path)[:-5]}，本次不启动。"
                              f"同一台账只能运行一个 mailbot run；如需重启，请先停止正在运行的那个"
                              f"（systemctl stop mailbot，或在任务管理器中结束）。") from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        self._fh = fh
        return self

    def release(self) -> None:
        if self._fh is not None:
            try:
                self._fh.seek(0)
                self._fh.truncate()
                self._fh.flush()
                unlock(self._fh)
            finally:
                self._fh.close()
                self._fh = None

    def __enter__(self) -> "InstanceLock":
        return self.acquire()

    def __exit__(self, *exc: Any) -> None:
        self.release()



# --- logging -----------------------------------------------------------------------------

class TerminalFilter(logging.Filter):
    """On a terminal handler: leaves out records meant for the log file only."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(record, FILE_ONLY_KEY, False)


class LogFile(logging.handlers.RotatingFileHandler):
    """The rotating log: created 0600 (rotated files too). When it cannot be written (a full
    disk) the terminal gets one Chinese line, not a Python traceback per record."""

    _complained = False

    def _open(self):
        return open(self.baseFilename, self.mode, encoding=self.encoding, errors=self.errors, opener=private_opener)

    def handleError(self, record: logging.LogRecord) -> None:
        if LogFile._complained:
            return
        LogFile._complained = True
        exc = sys.exc_info()[1]
        from mailbot.store.faults import explain
        try:
            sys.stderr.write(f"注意：日志无法写入。{explain(exc, self.baseFilename)}\n")
        except (OSError, ValueError):
            pass


def setup_logging(path: Path, *, stderr: bool = True) -> list[logging.Handler]:
    """Rotating log file at `path` (5 MB × 5) for the `mailbot` logger; returns the handlers added.
    Every handler redacts passwords (redact.py)."""
    path = Path(path)
    make_dirs(path.parent)
    private_file(path)
    root = logging.getLogger("mailbot")
    root.setLevel(logging.INFO)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    added: list[logging.Handler] = []
    if not any(isinstance(h, logging.handlers.RotatingFileHandler) and
               Path(h.baseFilename) == path.resolve() for h in root.handlers):
        fh = LogFile(path, maxBytes=LOG_MAX_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8")
        fh.setFormatter(fmt)
        root.addHandler(fh)
        added.append(fh)
    if stderr and not any(getattr(h, "_mailbot_stderr", False) for h in root.handlers):
        sh = logging.StreamHandler(sys.stderr)
        sh.setFormatter(fmt)
        sh.addFilter(TerminalFilter())
        sh._mailbot_stderr = True  # type: ignore[attr-defined]
        root.addHandler(sh)
        added.append(sh)
    redact_handlers(added)
    return added


# --- the daemon ---------------------------------------------------------------------------

def _hhmm(value: str) -> time:
    h, m = value.split(":")
    return time(int(h), int(m))


def _changes(result: Any) -> int:
    """How much a job changed: an int, `.changes`, or a poll/delivery report's counters."""
    if isinstance(result, bool):
        return int(result)
    if isinstance(result, int):
        return result
    value = getattr(result, "changes", None)
    if isinstance(value, int):
        return value
    counters = [getattr(result, a, None) for a in ("fetched", "confirmed", "sent", "failed", "retrying")]
    if any(isinstance(c, int) for c in counters):
        return sum(c for c in counters if isinstance(c, int))
    return 1 if result else 0


def _summary(job: str, result: Any) -> str:
    text = getattr(result, "summary", None)
    if callable(text):
        text = text()
    if isinstance(text, str) and text:
        return text[:300]
    if job == "poll":
        return f"新处理 {_changes(result)} 项"
    if isinstance(result, (list, tuple)):
        return f"完成，{len(result)} 项"
    if isinstance(result, int) and not isinstance(result, bool):
        return f"完成，{result} 项"
    return "完成"


class Daemon:
    """The daemon's decisions, separate from the loop so tests can drive them with a fake clock."""

    def __init__(self, config: Config, *, poll: Callable[[], Any], deliver: Callable[[], Any],
                 remind: Callable[[date], Any], digest: Callable[[date], Any], workbook: Callable[[], Any],
                 verify: Callable[[], Any] | None = None, ledger: Ledger | None = None, today: date | None = None,
                 clock: Callable[[], datetime] | None = None,
                 calendar: Callable[[], WorkCalendar] | None = None,
                 record_ok: tuple[str, ...] = ("remind", "digest")):
        self.config = config
        self.jobs = dict(poll=poll, deliver=deliver, remind=remind, digest=digest, workbook=workbook, verify=verify)
        self.ledger = ledger or Ledger(config.ledger)
        self._own_ledger = ledger is None
        self.fixed_today = today
        self.clock = clock or (lambda: datetime.now(config.timezone))
        self._calendar = calendar or (lambda: WorkCalendar.load(config.rules))
        self.at = {"remind": _hhmm(config.remind_at), "digest": _hhmm(config.digest_at)}
        self.stopping = False
        self.poll_failures = 0
        self._retry_at: dict[str, datetime] = {}
        self._retries: dict[str, int] = {}
        self.on_poll_interval: Callable[[int], None] | None = None   # the loop reschedules with it
        # jobs whose success the daemon records as an `events` row (pipeline.poll records its own)
        self.record_ok: set[str] = set(record_ok)

    # --- clock and calendar ------------------------------------------------------------
    def now(self) -> datetime:
        return self.clock()

    def today(self) -> date:
        return self.fixed_today or self.now().date()

    def calendar(self) -> WorkCalendar:
        """Re-read each time: an edited rules/workdays.toml applies without a restart."""
        try:
            return self._calendar()
        except CalendarError as exc:
            self._record("calendar", "error", str(exc))
            return WorkCalendar()

    # --- running one job -----------------------------------------------------------------
    def _record(self, job: str, level: str, text: str) -> None:
        try:
            self.ledger.event(job, level, text)
        except Exception:  # the ledger itself failing must not kill the loop
            log.exception("could not record %s event for %s", level, job)
            if level == "error":       # `status` shows it; the next good poll moves it into the ledger
                faults.remember(self.config.ledger, job, text)

    def _failed(self, name: str, exc: Exception) -> None:
        """Log a job's exception with its traceback; record it (a machine fault as the Chinese
        sentence the clerk reads in the digest, naming the path and what to do)."""
        log.error("job %s failed: %s\n%s", name, exc, traceback.format_exc())
        if faults.is_fault(exc):
            path = self.config.ledger if isinstance(exc, sqlite3.Error) else self.config.base
            self._record(name, "error", faults.explain(exc, path))
        else:
            self._record(name, "error", f"{type(exc).__name__}: {exc}"[:500])

    def guarded(self, step: Callable[..., Any], *args: Any) -> Any:
        """A scheduler step that never ends the loop: its own bookkeeping (the ledger's meta rows)
        may fail like a job on a full disk or a locked ledger; logged and recorded, retried later."""
        try:
            return step(*args)
        except Exception as exc:
            self._failed(getattr(step, "__name__", "daemon"), exc)
            return None

    def run_job(self, name: str, *args: Any) -> tuple[bool, Any]:
        """Run one job; an exception is logged, recorded as an event, and swallowed."""
        started = _time.monotonic()
        try:
            result = self.jobs[name](*args)
        except Exception as exc:
            self._failed(name, exc)
            return False, exc
        log.info("job %s done in %.1fs: %s", name, _time.monotonic() - started, _summary(name, result))
        if name in self.record_ok:
            self._record(name, "ok", _summary(name, result))
        return True, result

    # --- the steps ---------------------------------------------------------------------
    def poll_interval(self) -> int:
        """Minutes until the next poll: poll_minutes, doubled per consecutive failure, capped."""
        base = self.config.poll_minutes
        if not self.poll_failures:
            return base
        return min(base * 2 ** self.poll_failures, max(POLL_BACKOFF_CAP_MINUTES, base))

    def poll_step(self) -> None:
        if self.stopping:
            return
        before = self.poll_interval()
        ok, result = self.run_job("poll")
        if ok:
            if self.poll_failures:
                log.info("poll recovered after %d failures", self.poll_failures)
            self.poll_failures = 0
            faults.carry_over(self.ledger, self.config.ledger)   # a fault the ledger could not take then
            if _changes(result) and not self.stopping:
                self.run_job("workbook")
        else:
            self.poll_failures += 1
            log.warning("poll failed %d time(s) in a row; next poll in %g minutes",
                        self.poll_failures, self.poll_interval())
        if not self.stopping:
            self.run_job("deliver")
        after = self.poll_interval()
        if after != before and self.on_poll_interval is not None:
            self.on_poll_interval(after)

    def due(self, job: str, now: datetime | None = None) -> bool:
        """Is the timed job (remind | digest) due now: a working day, past its time, not done today?"""
        now = now or self.now()
        today = self.today()
        if now.time() < self.at[job]:
            return False
        if self.ledger.get_meta(f"daemon.{job}.last") == today.isoformat():
            return False
        retry = self._retry_at.get(job)
        if retry is not None and now < retry:
            return False
        return self.calendar().is_workday(today)

    def verify_step(self, now: datetime | None = None) -> bool:
        """The weekly ledger ↔ archive check, when due; True when it ran and finished."""
        if self.stopping or self.jobs["verify"] is None:
            return False
        now = now or self.now()
        last = self.ledger.get_meta("daemon.verify.last")
        if last and (self.today() - date.fromisoformat(last)).days < VERIFY_EVERY_DAYS:
            return False
        retry = self._retry_at.get("verify")
        if retry is not None and now < retry:
            return False
        ok, _ = self.run_job("verify")
        if ok:
            with self.ledger.transaction():
                self.ledger.set_meta("daemon.verify.last", self.today().isoformat())
            self._retry_at.pop("verify", None)
            self._retries.pop("verify", None)
        else:
            n = self._retries.get("verify", 0)
            self._retries["verify"] = n + 1
            self._retry_at["verify"] = now + timedelta(minutes=TIMED_RETRY_MINUTES[min(n, len(TIMED_RETRY_MINUTES) - 1)])
        return ok

    def timed_step(self, now: datetime | None = None) -> list[str]:
        """Run remind/digest if due (catch-up the same day); returns the jobs that ran OK.
        The weekly verify goes first, so a digest the same day reports it."""
        self.verify_step(now)
        ran: list[str] = []
        for job in ("remind", "digest"):
            if self.stopping or not self.due(job, now):
                continue
            today = self.today()
            if job == "digest":
                self.run_job("workbook")          # attach a fresh workbook
            ok, _ = self.run_job(job, today)
            if ok:
                with self.ledger.transaction():
                    self.ledger.set_meta(f"daemon.{job}.last", today.isoformat())
                self._retry_at.pop(job, None)
                self._retries.pop(job, None)
                ran.append(job)
                if not self.stopping:
                    self.run_job("deliver")
            else:
                n = self._retries.get(job, 0)
                self._retries[job] = n + 1
                wait = TIMED_RETRY_MINUTES[min(n, len(TIMED_RETRY_MINUTES) - 1)]
                self._retry_at[job] = (now or self.now()) + timedelta(minutes=wait)
                log.warning("%s failed; retrying in %d minutes", job, wait)
        return ran

    def close(self) -> None:
        if self._own_ledger:
            self.ledger.close()


# --- the loop -------------------------------------------------------------------------------

def run(config: Config, *, poll: Callable[[], Any], deliver: Callable[[], Any],
        remind: Callable[[date], Any], digest: Callable[[date], Any], workbook: Callable[[], Any],
        verify: Callable[[], Any] | None = None, today: date | None = None, clock: Callable[[], datetime] | None = None,
        ledger: Ledger | None = None, calendar: Callable[[], WorkCalendar] | None = None,
        install_signals: bool = True, log_to_stderr: bool = True,
        record_ok: tuple[str, ...] = ("remind", "digest"),
        sleep: Callable[[float], None] = _time.sleep) -> int:
    """Run the daemon until SIGTERM/SIGINT; returns 0. Raises DaemonError if another instance runs."""
    lock = InstanceLock(config.ledger).acquire()
    handlers = setup_logging(config.log, stderr=log_to_stderr)
    d = Daemon(config, poll=poll, deliver=deliver, remind=remind, digest=digest, workbook=workbook,
               verify=verify, ledger=ledger, today=today, clock=clock, calendar=calendar, record_ok=record_ok)
    signals_seen = []

    def on_signal(signum, _frame):
        signals_seen.append(signum)
        if len(signals_seen) > 1:
            log.warning("second signal %s: aborting now", signum)
            raise KeyboardInterrupt
        log.info("signal %s received: finishing the current step, then exiting", signum)
        d.stopping = True

    previous = {}
    if install_signals:
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, on_signal)

    sched = schedule.Scheduler()
    poll_job: list[schedule.Job] = []

    def set_poll_interval(minutes: float) -> None:
        for j in poll_job:
            sched.cancel_job(j)
        poll_job[:] = [sched.every(minutes).minutes.do(d.guarded, d.poll_step)]

    d.on_poll_interval = set_poll_interval
    try:
        log.info("mailbot daemon started (pid %d, ledger %s, poll every %g min, remind %s, digest %s%s)",
                 os.getpid(), config.ledger, config.poll_minutes, config.remind_at, config.digest_at,
                 f", pretending today is {today}" if today else "")
        d._record("daemon", "ok", f"守护进程启动（进程号 {os.getpid()}）")
        set_poll_interval(config.poll_minutes)
        sched.every(TIMED_CHECK_SECONDS).seconds.do(d.guarded, d.timed_step)
        d.guarded(d.poll_step)
        d.guarded(d.timed_step)
        while not d.stopping:
            sched.run_pending()
            idle = sched.idle_seconds
            sleep(1.0 if idle is None else min(max(idle, 0.05), 1.0))
        log.info("mailbot daemon stopped")
        d._record("daemon", "ok", "守护进程已停止")
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sched.clear()
        d.close()
        lock.release()
        root = logging.getLogger("mailbot")
        for h in handlers:
            root.removeHandler(h)
            h.close()


__all__ = ["run", "Daemon", "DaemonError", "InstanceLock", "setup_logging"]
