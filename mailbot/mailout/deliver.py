"""Drain the ledger's outgoing queue through one sender (SMTP connection or outbox folder).

A mail is marked sent only after the server accepted it; a crash in between resends the same
bytes with the same Message-ID. 4xx waits with capped backoff; 5xx is recorded as failed
and shown in the digest.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from mailbot.app import App
from mailbot.store.locks import job_lock
from mailbot.mailout.send import PermanentFailure, SendError, TemporaryFailure, open_sender

log = logging.getLogger("mailbot.deliver")

BACKOFF_MINUTES = (2, 5, 15, 30, 60, 120, 240)   # then every 4 hours
MAX_ATTEMPTS = 12                                  # about a day and a half, then failed


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = f"发出邮件 {self.sent} 封"
        if self.retrying:
            text += f"，稍后重试 {self.retrying} 封"
        if self.failed:
            text += f"，发送失败 {self.failed} 封"
        return text + "。"


def deliver(app: App, now: datetime | None = None) -> DeliveryReport:
    with job_lock(app.config.ledger, "send"):    # never two senders on one queue
        return _deliver(app, now or datetime.now().astimezone())


def _deliver(app: App, now: datetime) -> DeliveryReport:
    from mailbot.office.pipeline import crashpoint
    report = DeliveryReport()
    rows = app.ledger.due_outgoing(now)
    if not rows:
        return report
    cfg = app.config
    sender = open_sender(cfg.smtp, cfg.base, cfg.password("smtp") if not cfg.smtp.get("backend") else None,
                         per_minute=cfg.send_per_minute)
    try:
        for row in rows:
            try:
                sender.send(row.sender, row.recipients, row.raw)
            except PermanentFailure as exc:
                app.ledger.mark_failed(row.id, str(exc))
                report.failed += 1
                report.errors.append(f"{row.subject}：{exc}")
                log.warning("send failed permanently id=%s: %s", row.id, exc.smtp_text or exc)
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
    finally:
        sender.close()
    if report.sent or report.failed or report.retrying:
        level = "error" if (report.failed or report.retrying) else "ok"
        detail = f"（{report.errors[0]}）" if report.errors else ""
        app.ledger.event("send", level, report.summary() + detail)
    return report
