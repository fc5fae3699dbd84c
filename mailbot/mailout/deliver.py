"""Drain the ledger's outgoing queue through one sender (SMTP connection or outbox folder).

A mail is marked sent only after the server accepted it; a crash in between resends the same
bytes with the same Message-ID. 4xx waits with capped backoff; 5xx is recorded as failed
and shown in the digest.

Over SMTP the provider's limits apply (limits.py): mail goes in priority order (回执 and
审核结果 first, 每日汇总 last) within the day's and the quarter hour's budget, and a refusal that
names a limit pauses all sending — the queue is kept, no mail is tried before the pause ends:

* ``451 MI:SFQ`` / ``451 RP:QRC`` (too much in a short time): 15 minutes or more.
* ``554 MI:STC`` / ``550 RP:TRC`` (the day's allowance spent): until the next local midnight;
  the Chinese reason goes to the mail's last error (`mailbot status`), a ledger event (the
  digest) and the log.
* ``554 DT:SPM`` (judged spam): that mail is failed for good with a Chinese reason — the same
  content is never sent again — and sending pauses 15 minutes. ``451 DT:SPM`` keeps it queued.
* ``421 HL:ICC`` (too many connections): we only ever hold one; a few minutes' pause.
* ``550 RP:RCL`` (too many recipients on one mail): handled by the sender, which splits.

A 催报 is about its day ("今天截止"): one that could not go out on the day it was queued
(budget or pause) is not sent later — it is failed as expired and the next step reminds again,
so a unit never gets yesterday's 催报 beside today's.
"""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from mailbot.app import App
from mailbot.mailout import limits
from mailbot.store.locks import Busy, job_lock
from mailbot.mailout.send import (PermanentFailure, ProviderLimit, QUOTA, SPAM, SendError, SmtpSender,
                                  TemporaryFailure, open_sender)

log = logging.getLogger("mailbot.deliver")

BACKOFF_MINUTES = (2, 5, 15, 30, 60, 120, 240)   # then every 4 hours
MAX_ATTEMPTS = 12                                  # about a day and a half, then failed
EXPIRED = "催报未能在排队当天发出（发信限额或暂停发信），内容已过时，不再发送；下一次催报照常发出。"


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    held: int = 0                 # due, but waiting for the budget (this quarter hour or tomorrow)
    expired: int = 0              # 催报 from an earlier day, not sent
    paused: str = ""              # Chinese: sending is paused, why and until when
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return self.counts() + (f"发信暂停：{self.paused}" if self.paused else "")

    def after(self, earlier: "DeliveryReport") -> "DeliveryReport":
        """This run's report with the mail an EARLIER run (the poll's sending) already handled."""
        return DeliveryReport(sent=earlier.sent + self.sent, retrying=earlier.retrying + self.retrying,
                              failed=earlier.failed + self.failed, held=self.held,
                              expired=earlier.expired + self.expired, paused=self.paused or earlier.paused,
                              errors=earlier.errors + self.errors)

    def counts(self) -> str:
        text = f"发出邮件 {self.sent} 封"
        if self.retrying:
            text += f"，稍后重试 {self.retrying} 封"
        if self.failed:
            text += f"，发送失败 {self.failed} 封"
        if self.held and not self.paused:
            text += f"，{self.held} 封按发信限额稍后发出"
        elif self.held:
            text += f"，{self.held} 封等暂停结束后发出"
        if self.expired:
            text += f"，{self.expired} 封过期催报不再发送"
        return text + "。"


def deliver(app: App, now: datetime | None = None) -> DeliveryReport:
    with Session(app) as session:
        session.step(now)
    return session.report


class Session:
    """Drains the queue, once (`deliver`) or step by step over one connection: the poll sends
    each batch's 回执 right after the batch commits, while the next mails are being read. Holds
    the send lock (never two senders on one queue, so one connection); with ``wait=False`` a
    session whose lock another program holds sends nothing and leaves the queue to it. One
    ledger event for the whole session."""

    def __init__(self, app: App, *, wait: bool = True):
        self.app, self.wait = app, wait
        self.report = DeliveryReport()
        self.active = False
        self._sender = None
        self._budget: limits.Budget | None = None
        self._budget_day = None
        self._held: Counter = Counter()
        self._pause: limits.Pause | None = None
        self._lock = None
        self._now = datetime.now().astimezone()

    def __enter__(self) -> "Session":
        self._lock = job_lock(self.app.config.ledger, "send", 600.0 if self.wait else 0.0)
        try:
            self._lock.__enter__()
        except Busy:
            if self.wait:
                raise
            self._lock = None
            return self
        self.active = True
        return self

    def __exit__(self, *exc_info) -> None:
        try:
            if self._sender is not None:
                self._sender.close()
            if self.active and exc_info[0] is None:
                self._record()
        finally:
            self.active = False
            if self._lock is not None:
                lock, self._lock = self._lock, None
                lock.__exit__(None, None, None)

    def step(self, now: datetime | None = None) -> None:
        """Send what is due now, within the provider's limits (module docstring)."""
        if not self.active:
            return
        from mailbot.office.pipeline import crashpoint
        app, report, cfg = self.app, self.report, self.app.config
        now = self._now = now or datetime.now().astimezone()
        rows = app.ledger.due_outgoing(now)
        report.held = 0
        if not rows:
            return
        if self._sender is None:
            self._sender = open_sender(cfg.smtp, cfg.base, cfg.password("smtp") if not cfg.smtp.get("backend") else None,
                                       per_minute=cfg.send_per_minute)
        sender = self._sender
        limited = isinstance(sender, SmtpSender)      # the outbox folder has no provider behind it
        rows = _drop_expired(app, rows, now, report)
        pause = limits.current_pause(app.ledger) if limited else None
        if pause is not None and pause.active(now):
            report.paused = pause.text
            report.held = len(rows)
            return
        day = limits.local_day(now, cfg.timezone)
        if limited and (self._budget is None or day != self._budget_day):   # a poll may run past midnight
            self._budget, self._budget_day = limits.Budget.from_ledger(app.ledger, cfg, now), day
        budget = self._budget
        for i, row in enumerate(limits.in_order(rows)):
            if budget is not None:
                verdict = budget.admit(row.purpose, len(row.recipients), now)
                if verdict == "window":            # this quarter hour is full: the rest waits for the next run
                    report.held += len(rows) - i
                    log.info("send budget: %d in the last 15 min, %d mails wait",
                             budget.in_window(now), len(rows) - i)
                    break
                if verdict == "day":               # this priority's share of today is spent
                    self._held[row.purpose] += 1
                    report.held += 1
                    continue
            try:
                sender.send(row.sender, row.recipients, row.raw)
            except ProviderLimit as exc:
                self._pause = _pause(app, exc, now, budget)
                # in now's offset: the queue compares next_attempt_at as text
                app.ledger.mark_retry(row.id, self._pause.text, self._pause.until_at.astimezone(now.tzinfo))
                report.retrying += 1
                report.held += len(rows) - i - 1
                report.paused = self._pause.text
                report.errors.append(f"{row.subject}：{self._pause.text}")
                break                               # every mail waits: the account is limited
            except PermanentFailure as exc:
                app.ledger.mark_failed(row.id, str(exc))
                report.failed += 1
                report.errors.append(f"{row.subject}：{exc}")
                log.warning("send failed permanently id=%s: %s", row.id, exc.smtp_text or exc)
                if exc.limit == SPAM and limited:   # never resent; and the account cools down
                    self._pause = _pause(app, exc, now, budget)
                    report.held += len(rows) - i - 1
                    report.paused = self._pause.text
                    break
                continue
            except TemporaryFailure as exc:
                attempts = row.attempts + 1
                if attempts >= MAX_ATTEMPTS and not exc.affects_all:   # a wrong 授权码 must not fail the queue
                    app.ledger.mark_failed(row.id, f"多次重试仍失败：{exc}")
                    report.failed += 1
                else:
                    wait = BACKOFF_MINUTES[min(attempts - 1, len(BACKOFF_MINUTES) - 1)]
                    app.ledger.mark_retry(row.id, str(exc), now + timedelta(minutes=wait))
                    report.retrying += 1
                report.errors.append(f"{row.subject}：{exc}")
                log.warning("send deferred id=%s: %s", row.id, exc.smtp_text or exc)
                if exc.affects_all:
                    break          # the connection or the account is the problem: try the rest later
                continue
            except SendError as exc:
                app.ledger.mark_failed(row.id, str(exc))
                report.failed += 1
                report.errors.append(f"{row.subject}：{exc}")
                continue
            crashpoint("sent")
            app.ledger.mark_sent(row.id)
            report.sent += 1
            if budget is not None:
                budget.spend(len(row.recipients), now)
                if report.sent == 1:
                    limits.got_through(app.ledger)

    def _record(self) -> None:
        app, report, new_pause = self.app, self.report, self._pause
        if self._held and self._budget is not None:
            limits.note_budget_once(app.ledger, app.config, self._now, self._budget, self._held)
        if report.sent or report.failed or report.retrying or report.expired:
            if report.failed or (new_pause is not None and new_pause.kind == QUOTA) \
                    or (report.retrying and new_pause is None):
                level = "error"
            elif new_pause is not None or report.expired:
                level = "warning"
            else:
                level = "ok"
            detail = new_pause.text if new_pause is not None else f"（{report.errors[0]}）" if report.errors else ""
            app.ledger.event("send", level, report.counts() + detail)


def _pause(app: App, exc: SendError, now: datetime, budget: limits.Budget | None) -> limits.Pause:
    return limits.start_pause(app.ledger, app.config, exc, now,
                              sent_today=budget.used_today if budget is not None else 0)


def _drop_expired(app: App, rows: list, now: datetime, report: DeliveryReport) -> list:
    """催报 queued on an earlier local day and still unsent: failed as expired, not sent."""
    tz = app.config.timezone
    today = limits.local_day(now, tz)
    keep = []
    for row in rows:
        if row.purpose == "reminder" and limits.local_day(datetime.fromisoformat(row.queued_at), tz) < today:
            app.ledger.mark_failed(row.id, EXPIRED)
            report.expired += 1
            log.info("reminder id=%s from %s expired unsent", row.id, row.queued_at)
            continue
        keep.append(row)
    return keep
