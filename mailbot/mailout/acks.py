"""The 回执: what it says, to whom, threaded how, and the reply-storm cap.

`queue_ack` answers a filed mail (what arrived, what passed, what to fix and why, the unit's
next deadline); `queue_missing_files_ack` answers a unit's mail that names a submission but
carries no file. Both run inside the caller's filing transaction, so the reply is queued (with its
fixed Message-ID) exactly when the mail is recorded. Values from the incoming mail reach the
reply only as template data (escaped) and as validated message ids (compose.msg_ids).
"""
from __future__ import annotations

import logging
from typing import Any

from mailbot.app import App
from mailbot.mailout.compose import AUTO_REPLIED, HeaderInjection, msg_ids, queue
from mailbot.mailin.parse import ParsedMail
from mailbot.vocab import Severity

log = logging.getLogger("mailbot.acks")


def queue_ack(app: App, mid: int, mail: ParsedMail) -> bool:
    """Queue the 回执 for filed message MID (inside the caller's transaction)."""
    from mailbot.office import progress
    msg = app.ledger.message(mid)
    if _over_ack_cap(app, msg):
        return False
    state = progress.unit_state(app.ledger, app.campaign, app.roster, msg.unit, app.today)
    kind = app.campaign.kind(msg.kind)
    files = [dict(name=r.filename or "（无文件名）", size=r.size, outcome=r.outcome, path=r.path)
             for r in app.ledger.attachments(mid)]
    if msg.supplement_of is not None:
        # material added to a submission already in: where it went, and that nothing else changed
        target = app.ledger.message(msg.supplement_of)
        key = "plan" if kind.plan_like else kind.key
        status = state.status_for(key) if key in ("plan", "summary", "feedback") else None
        ctx = dict(msg=msg, unit=msg.unit, kind=kind, files=files, target=target, status=status,
                   office=app.config.office_name, ref=f"{app.campaign.id}-{target.id:04d}", campaign=app.campaign)
        return _queue_reply(app, msg, mail, "ack_supplement", ctx)
    findings = [dict(severity=r.severity, item=r.item, text=r.text, clause=r.clause)
                for r in app.ledger.findings(mid)]
    duplicate = app.ledger.message(msg.duplicate_of) if msg.duplicate_of else None
    # a resend of a version already reviewed: say where that version stands, not "under review"
    dup_status = dup_reason = None
    if duplicate is not None and state.plan is not None and state.plan.id == duplicate.id:
        dup_status = state.plan_status
        if state.last_review is not None and state.last_review.message == duplicate.id:
            dup_reason = state.last_review.reason
    ctx = dict(msg=msg, unit=msg.unit, kind=kind, files=files, findings=findings,
               dup_status=dup_status, dup_reason=dup_reason,
               errors=[f for f in findings if f["severity"] == Severity.ERROR],
               hints=[f for f in findings if f["severity"] != Severity.ERROR],
               duplicate=duplicate, campaign=app.campaign, office=app.config.office_name,
               state=state, ref=f"{app.campaign.id}-{(msg.duplicate_of or mid):04d}", facts=msg.facts,
               scanned=msg.facts.get("source") == "ocr",
               received_day=msg.received_at.astimezone(app.config.timezone).date())
    return _queue_reply(app, msg, mail, "ack", ctx)


def queue_missing_files_ack(app: App, mid: int, mail: ParsedMail) -> bool:
    """A unit's mail that names a submission but carries no file: tell the sender (a clerk would)."""
    msg = app.ledger.message(mid)
    if _over_ack_cap(app, msg):
        return False
    ctx = dict(msg=msg, unit=msg.unit, kind=app.campaign.kind(msg.kind), campaign=app.campaign,
               office=app.config.office_name, ref=f"{app.campaign.id}-{mid:04d}")
    return _queue_reply(app, msg, mail, "ack_nofile", ctx)


def _over_ack_cap(app: App, msg: Any) -> bool:
    """The reply-storm cap: at most N acks a day to one address (by the day its mail arrived)."""
    day = msg.received_at.astimezone(app.config.timezone).date().isoformat()
    if app.ledger.acks_to_sender_on(msg.from_addr, day) < app.config.max_acks_per_sender_per_day:
        return False
    app.ledger.update_message(msg.id, reason=f"{day} 收到的邮件已向 {msg.from_addr} 回复 "
                                             f"{app.config.max_acks_per_sender_per_day} 封回执，达到每日上限"
                                             f"（防止邮件循环），本封不再回复，请人工查看。")
    return True


def _queue_reply(app: App, msg: Any, mail: ParsedMail, template: str, ctx: dict[str, Any]) -> bool:
    try:
        subject, text, html = app.templates.render(template, **ctx)
    except Exception as exc:   # an edited template with a mistake must not wedge the mailbox
        log.exception("template %s failed for message %s", template, msg.id)
        app.ledger.update_message(msg.id, reason=f"回执未能生成（模板 templates/{template}.*：{exc}），"
                                                 f"已登记但未回复，请修正模板后人工回复。")
        app.ledger.event("poll", "error", f"回执模板出错：{exc}")   # joins the filing transaction
        return False
    # threading headers come from the sender: only plain <local@domain> ids pass (compose.msg_ids)
    ref = next(iter(msg_ids(mail.message_id or "")), None)
    # RFC 5322 threading: the parent's References, then the parent itself (bounded for sanity)
    chain = " ".join((msg_ids(mail.header("References") or "") + ([ref] if ref else []))[-20:]) or None
    to = reply_address(app, msg)
    if to is None:
        return False
    try:
        return queue(app.ledger, app.config, purpose="ack", dedupe_key=f"ack:{msg.id}", to=[to],
                     subject=subject, text=text, html=html, auto_submitted=AUTO_REPLIED, unit=msg.unit,
                     answers=msg.id, in_reply_to=ref, references=chain, campaign=app.campaign.id)
    except HeaderInjection as exc:   # a value from the mail would have become a header: send nothing
        log.warning("ack for message %s not queued: %s", msg.id, exc)
        app.ledger.update_message(msg.id, reason="回执含有来信中的异常字符，为防止被利用，未自动回复，请人工回复。")
        app.ledger.event("poll", "warning", f"编号 {msg.id} 的回执未发送：来信内容会混入回执的邮件头。")
        return False


def reply_address(app: App, msg: Any) -> str | None:
    """Where a reply about MSG goes: its sender when that address is on the roster for the unit;
    otherwise (a mail the office accepted by hand) the unit's first roster address."""
    unit = app.roster.by_name(msg.unit) if msg.unit else None
    if msg.from_addr and (app.roster.by_email(msg.from_addr) or unit) == unit:
        return msg.from_addr
    return unit.emails[0] if unit is not None and unit.emails else None
