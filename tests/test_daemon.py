"""The daemon: timed jobs with catch-up, backoff, events, lock, signals; a 2022 replay."""
import email
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from datetime import date, datetime, timedelta
from datetime import time as dtime
from email import policy as email_policy

import pytest
from schedsupport import ROOT, TZ

from mailbot.office.daemon import Daemon, DaemonError, InstanceLock, run
from mailbot.office.digest import queue_digest
from mailbot.office.remind import queue_reminders
from mailbot.office.review import apply_workbook_decisions, decide

D = date


class Clock:
    def __init__(self, when: datetime):
        self.when = when

    def __call__(self) -> datetime:
        return self.when

    def set(self, day: date, hh: int, mm: int = 0) -> datetime:
        self.when = datetime.combine(day, dtime(hh, mm), TZ)
        return self.when


class Calls:
    """Recording stand-ins for the lead's job callables."""

    def __init__(self):
        self.log: list[tuple] = []
        self.fail: set[str] = set()
        self.poll_result = 0

    def _do(self, name, *args):
        self.log.append((name, *args))
        if name in self.fail:
            raise RuntimeError(f"{name} broke")
        return self.poll_result if name == "poll" else None

    def jobs(self):
        return dict(poll=lambda: self._do("poll"), deliver=lambda: self._do("deliver"),
                    remind=lambda today: self._do("remind", today), digest=lambda today: self._do("digest", today),
                    workbook=lambda: self._do("workbook"))

    def names(self):
        return [c[0] for c in self.log]


def make(w, calls, clock, **kw):
    return Daemon(w.config, ledger=w.ledger, clock=clock, calendar=w.calendar, **calls.jobs(), **kw)


def test_timed_jobs_at_their_time_once_a_working_day(w):
    calls, clock = Calls(), Clock(datetime(2022, 9, 13, 8, 0, tzinfo=TZ))
    d = make(w, calls, clock)
    assert d.timed_step() == []
    clock.set(D(2022, 9, 13), 9, 0)
    assert d.timed_step() == ["remind"]
    assert calls.log == [("remind", D(2022, 9, 13)), ("deliver",)]
    assert [(e.job, e.level) for e in w.ledger.events()] == [("remind", "ok")]
    assert d.timed_step() == []
    clock.set(D(2022, 9, 13), 17, 31)
    assert d.timed_step() == ["digest"]
    assert calls.names()[-3:] == ["workbook", "digest", "deliver"]      # fresh workbook before the digest
    clock.set(D(2022, 9, 13), 23, 59)
    assert d.timed_step() == []
    # a restarted daemon remembers (ledger) that today is done
    d2 = make(w, calls, clock)
    assert d2.timed_step() == []


def test_catch_up_later_the_same_day_but_never_for_a_past_day(w):
    calls, clock = Calls(), Clock(datetime(2022, 9, 14, 22, 0, tzinfo=TZ))
    d = make(w, calls, clock)
    assert d.timed_step() == ["remind", "digest"]          # started late: the day's jobs still run
    assert ("remind", D(2022, 9, 14)) in calls.log and ("digest", D(2022, 9, 14)) in calls.log
    assert not any(c[1:] == (D(2022, 9, 13),) for c in calls.log)   # yesterday is not replayed


def test_nothing_on_holidays(w):
    calls, clock = Calls(), Clock(datetime(2022, 10, 3, 18, 0, tzinfo=TZ))
    d = make(w, calls, clock)
    assert d.timed_step() == [] and calls.log == []
    clock.set(D(2022, 10, 8), 18, 0)                       # 调休 Saturday
    assert d.timed_step() == ["remind", "digest"]


def test_pretended_today(w):
    calls, clock = Calls(), Clock(datetime(2030, 1, 5, 10, 0, tzinfo=TZ))
    d = make(w, calls, clock, today=D(2022, 8, 23))
    assert d.timed_step() == ["remind"] and calls.log[0] == ("remind", D(2022, 8, 23))


def test_failed_timed_job_is_recorded_and_retried_with_backoff(w):
    calls, clock = Calls(), Clock(datetime(2022, 9, 13, 9, 0, tzinfo=TZ))
    calls.fail.add("remind")
    d = make(w, calls, clock)
    assert d.timed_step() == []
    ev = [e for e in w.ledger.events() if e.job == "remind"]
    assert ev[-1].level == "error" and "remind broke" in ev[-1].text
    clock.set(D(2022, 9, 13), 9, 3)
    assert d.timed_step() == [] and calls.names().count("remind") == 1     # not before 5 minutes
    calls.fail.clear()
    clock.set(D(2022, 9, 13), 9, 6)
    assert d.timed_step() == ["remind"]


def test_poll_failures_back_off_and_recover(w):
    calls, clock = Calls(), Clock(datetime(2022, 9, 13, 8, 0, tzinfo=TZ))
    d = make(w, calls, clock, record_ok=("poll",))     # pipeline.poll records its own; here the daemon does
    intervals = []
    d.on_poll_interval = intervals.append
    calls.fail.add("poll")
    for _ in range(9):
        d.poll_step()
    # poll_minutes = 1 in the test config: 2, 4, 8, …, capped at 60
    assert intervals == [2, 4, 8, 16, 32, 60]
    assert d.poll_interval() == 60
    assert calls.names().count("deliver") == 9            # the queue is still drained
    errors = [e for e in w.ledger.events() if e.job == "poll" and e.level == "error"]
    assert len(errors) == 9
    calls.fail.clear()
    calls.poll_result = 3
    d.poll_step()
    assert intervals[-1] == 1 and d.poll_failures == 0
    assert calls.names()[-3:] == ["poll", "workbook", "deliver"]           # changes → workbook
    ok = [e for e in w.ledger.events() if e.job == "poll" and e.level == "ok"]
    assert ok[-1].text == "新处理 3 项"
    calls.poll_result = 0
    d.poll_step()
    assert calls.names()[-2:] == ["poll", "deliver"]                       # no changes → no workbook


def test_stopping_skips_further_steps(w):
    calls, clock = Calls(), Clock(datetime(2022, 9, 13, 18, 0, tzinfo=TZ))
    d = make(w, calls, clock)
    d.stopping = True
    d.poll_step()
    assert d.timed_step() == [] and calls.log == []


def test_second_instance_is_refused(w):
    with InstanceLock(w.config.ledger):
        with pytest.raises(DaemonError, match="另一个 mailbot 进程（进程号 \\d+）正在使用台账"):
            run(w.config, **Calls().jobs(), install_signals=False, log_to_stderr=False)
    # released: can be taken again
    InstanceLock(w.config.ledger).acquire().release()


CHILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from mailbot.config import load_config
    from mailbot.office.daemon import run, DaemonError
    folder = Path(sys.argv[1])
    marks = folder / "marks.txt"
    def mark(text):
        with open(marks, "a") as fh:
            fh.write(text + "\\n")
    def poll():
        mark("poll-start")
        time.sleep(float(sys.argv[2]))
        mark("poll-end")
        return 0
    try:
        code = run(load_config(folder / "config.ini"), poll=poll, deliver=lambda: mark("deliver"),
                   remind=lambda today: None, digest=lambda today: None, workbook=lambda: None)
    except DaemonError as exc:
        print(exc, file=sys.stderr)
        sys.exit(1)
    mark("exit")
    sys.exit(code)
""")


def spawn(w, poll_seconds: float) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", CHILD, str(w.folder), str(poll_seconds)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(path, text, timeout=15.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if path.exists() and text in path.read_text():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_finishes_the_current_step_and_exits_0(w, sig):
    w.ledger.close()
    proc = spawn(w, 1.5)
    marks = w.folder / "marks.txt"
    try:
        assert wait_for(marks, "poll-start"), proc.stderr.read() if proc.poll() is not None else "no start"
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    lines = marks.read_text().split()
    assert lines[:2] == ["poll-start", "poll-end"]          # the running poll finished
    assert lines[-1] == "exit" and lines.count("poll-start") == 1
    log = w.config.log.read_text(encoding="utf-8")
    assert "daemon started" in log and "finishing the current step" in log and "daemon stopped" in log
    assert not (w.config.ledger.parent / (w.config.ledger.name + ".lock")).read_text()


def test_second_process_is_refused_while_first_runs(w):
    w.ledger.close()
    first = spawn(w, 0.1)
    try:
        assert wait_for(w.folder / "marks.txt", "poll-end")
        second = spawn(w, 0.1)
        _, err = second.communicate(timeout=20)
        assert second.returncode == 1 and "另一个 mailbot 进程" in err and "本次不启动" in err
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=20)
    assert first.returncode == 0


def test_replay_2022_through_the_daemon(w):
    """Every day 2022-08-15 → 10-31 at a few times of day, with the real remind/digest/review."""
    from test_remind import EXPECTED_MAILS as EXPECTED, SUBMISSIONS   # mails queued, one per unit a day
    cal = w.calendar()
    clock = Clock(datetime(2022, 8, 15, 7, 0, tzinfo=TZ))
    reviews_today: list = []

    def remind(today):
        return queue_reminders(w.ledger, w.config, w.campaign, w.roster, cal, today, templates=w.templates)

    def digest(today):
        return queue_digest(w.ledger, w.config, w.campaign, w.roster, cal, today, templates=w.templates)

    def poll():
        # the same workbook edits delivered on every poll (harmless: already in force)
        values = {"西吉县民政局": "已备案"} if clock().date() >= D(2022, 8, 22) else {}
        if clock().date() >= D(2022, 8, 30):
            values["西吉县财政局"] = "退回修改"
        reviews_today.extend(apply_workbook_decisions(w.ledger, w.config, w.campaign, w.roster, values,
                                                      clock().date(), templates=w.templates))
        return 0

    d = Daemon(w.config, ledger=w.ledger, clock=clock, calendar=lambda: cal, poll=poll,
               deliver=lambda: 0, remind=remind, digest=digest, workbook=lambda: None)
    per_day: dict[date, dict[str, int]] = {}
    day = D(2022, 8, 15)
    while day <= D(2022, 10, 31):
        before = {r.dedupe_key for r in w.outgoing("reminder")}
        for hh, mm in ((7, 0), (9, 0), (9, 30), (17, 30), (23, 0)):
            clock.set(day, hh, mm)
            d.poll_step()
            d.timed_step()
            if (hh, mm) == (9, 30):
                for unit, kind, facts, outcome in SUBMISSIONS.get(day, ()):
                    w.submit(unit, kind, day, facts=facts, outcome=outcome)
        new = [r for r in w.outgoing("reminder") if r.dedupe_key not in before]
        if new:
            per_day[day] = dict(Counter(":".join(r.dedupe_key.split(":")[3:6:2]) for r in new))
        if day == D(2022, 9, 1):   # the CLI repeats a decision the workbook already made
            again = decide(w.ledger, w.config, w.campaign, w.roster, "民政局", "已备案", None, "命令行", day,
                           templates=w.templates)
            assert not again.queued
        day += timedelta(days=1)

    # as in test_remind, except that 财政局's plan is returned (退回修改) on 8-30 and so is chased
    # again by the remaining overdue steps
    expected = {**EXPECTED, D(2022, 8, 31): {"plan:overdue-2": 22}, D(2022, 9, 2): {"plan:overdue-3": 22}}
    assert per_day == expected
    chased = [r for r in w.ledger.outgoing() if r.dedupe_key.endswith("西吉县财政局:plan:2022-08-26:overdue-2")]
    assert "退回修改" in email.message_from_bytes(chased[0].raw, policy=email_policy.default) \
        .get_body(("plain",)).get_content()
    assert all(not cal.is_workday(x) for x in [D(2022, 9, 10), D(2022, 9, 12), D(2022, 10, 1), D(2022, 10, 7)])
    assert D(2022, 10, 8) in per_day
    digests = [r.dedupe_key.rsplit(":", 1)[1] for r in w.outgoing("digest")]
    assert digests == [x.isoformat() for x in cal.workdays(D(2022, 8, 15), D(2022, 10, 31))]
    assert "2022-10-08" in digests and "2022-10-03" not in digests and "2022-09-12" not in digests
    # review mails: exactly one per decision, though the cells were read ~400 times
    subjects = [r.subject for r in w.outgoing("review")]
    assert len(subjects) == 2
    assert "西吉县民政局" in subjects[0] and "已备案" in subjects[0]
    assert "西吉县财政局" in subjects[1] and "退回修改" in subjects[1]
    assert [r.unit for r in reviews_today] == ["西吉县民政局", "西吉县财政局"]
    assert len(w.ledger.reviews()) == 2
    assert not [e for e in w.ledger.events() if e.level == "error"]


def test_poll_report_counters_decide_the_workbook(w):
    from dataclasses import dataclass

    @dataclass
    class Report:            # shaped like pipeline.PollReport
        fetched: int = 0
        confirmed: int = 0

        def summary(self):
            return f"收取新邮件 {self.fetched} 封"

    calls, clock = Calls(), Clock(datetime(2022, 9, 13, 8, 0, tzinfo=TZ))
    d = make(w, calls, clock)
    calls.poll_result = Report()
    d.poll_step()
    assert calls.names() == ["poll", "deliver"]
    calls.poll_result = Report(confirmed=1)
    d.poll_step()
    assert calls.names()[-3:] == ["poll", "workbook", "deliver"]
    assert w.ledger.events() == []          # poll/deliver/workbook record their own ok events
