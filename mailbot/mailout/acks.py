"""The 回执: what it says, to whom, threaded how, and the reply-storm cap.

`queue_ack` answers a filed mail (what arrived, what passed, what to fix and why, the unit's
next deadline); `queue_missing_files_ack` answers a unit's mail that names a submission but
carries no file; `queue_query_reply` answers a unit's 查询 with where it stands in every
campaign. All run inside the caller's filing transaction, so the reply is queued (with its
fixed Message-ID) exactly when the mail is recorded. Values from the incoming mail reach the
reply only as template data (escaped) and as validated message ids (compose.msg_ids).
"""
from __future__ import annotations

import logging
from typing import Any

from mailbot.app import App
from mailbot.mailout.compose import AUTO_REPLIED, HeaderInjection, msg_ids, queue
from mailbot.mailin.parse import ParsedMail
from mailbot.vocab import DECISIONS, Kind, Severity, UnitStatus

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


def queue_query_reply(app: App, mid: int, mail: ParsedMail) -> bool:
    """Answer the 查询 recorded as MID (decide.py rule "query"): the unit's state in every
    configured campaign — per kind its latest version, when it arrived, the check result or the
    office's decision, what is wrong, the next deadlines and the 催报 sent — one mail, threaded to
    the question, dedupe key `query:<id>`, purpose "query", about no single campaign."""
    msg = app.ledger.message(mid)
    received = msg.received_at.astimezone(app.config.timezone)
    try:
        campaigns = [standing(capp, msg.unit) for capp in app.each_campaign()]
    except OSError:
        raise
    except Exception as exc:   # a bug here must not stop the poll on this mail: a person answers it
        log.exception("query answer for message %s failed", mid)
        app.ledger.update_message(mid, reason=f"查询答复未能生成（程序出错：{exc.__class__.__name__}），"
                                              f"已登记但未答复，请人工答复。")
        app.ledger.event("poll", "error", f"编号 {mid} 的查询答复未能生成（{exc.__class__.__name__}）")
        return False
    ctx = dict(msg=msg, unit=msg.unit, today=app.today, office=app.config.office_name, campaigns=campaigns,
               received=received, ref=f"CX{received:%Y%m%d}-{mid:04d}",
               limit=app.config.max_queries_per_unit_per_day)
    return _queue_reply(app, msg, mail, "query", ctx, purpose="query", every_campaign=True)


def standing(app: App, unit: str) -> dict[str, Any]:
    """Where UNIT stands in APP's campaign, as the 查询 answer shows it (plain data for templates)."""
    from mailbot.office import progress, route
    camp, today, tz = app.campaign, app.today, app.config.timezone
    state = progress.unit_state(app.ledger, camp, app.roster, unit, today)
    decided = {r.message: r for r in app.ledger.reviews(state.name, campaign=camp.id) if r.decision in DECISIONS}

    def at(m: Any) -> Any:
        return m.received_at.astimezone(tz) if m is not None else None

    kinds, periods, deadlines = [], [], []
    for key, kind in camp.kinds.items():
        if kind.every is not None:        # recurring: one line per period begun so far
            mine = [p for p in progress.period_states(app.ledger, camp, app.roster, key, today)
                    if p.unit.name == state.name]
            periods += [dict(kind=kind, label=p.due.label, due=p.due.due, status=p.status, version=(
                p.submission.version if p.submission else None), received=at(p.submission)) for p in mine]
            nxt = next((p for p in mine if p.due.due >= today and p.status.missing), None)
            if nxt is not None:
                deadlines.append(dict(kind=kind, due=nxt.due.due, period=nxt.due.label, optional=False, done=False,
                                      announce=False, left=(nxt.due.due - today).days))
            continue
        plan_like = kind.plan_like
        due = state.deadlines.due_for(key)
        status_key = Kind.PLAN if plan_like else key
        status = state.status_for(status_key)
        if due is not None and due >= today:
            deadlines.append(dict(kind=kind, due=due, period="", optional=key == Kind.ADJUSTMENT, announce=False,
                                  done=status.passing and key != Kind.ADJUSTMENT, left=(due - today).days))
        if key == Kind.ADJUSTMENT and Kind.PLAN in camp.kinds:
            continue                      # the plan's line shows the latest of plan and adjustment
        sub = state.submission_for(status_key)
        review = decided.get(sub.id) if sub is not None else None
        if review is not None and not plan_like:
            status = UnitStatus(review.decision)
        problems: tuple[str, ...] = ()
        if sub is not None and status is UnitStatus.NEEDS_FIX:
            problems = state.problems if plan_like else tuple(
                f"{f.item}：{f.text}" for f in app.ledger.findings(sub.id) if f.severity == Severity.ERROR)
        kinds.append(dict(kind=kind, status=status, version=sub.version if sub else None, received=at(sub),
                          as_kind=camp.kinds.get(sub.kind) if sub is not None and sub.kind != key else None,
                          review=review, returned_reason=review.reason if review and status.returned else None,
                          problems=problems))
    announce = state.deadlines.announce_due
    if camp.has_activity and announce is not None and announce >= today:
        deadlines.append(dict(kind=None, due=announce, period="", optional=False, done=False, announce=True,
                              left=(announce - today).days))
    deadlines.sort(key=lambda d: d["due"])
    opens = camp.accept_from if camp.accept_from and today < camp.accept_from else None
    return dict(campaign=camp, kinds=kinds, periods=periods, deadlines=deadlines,
                activity=state.activity_date if camp.has_activity else None,
                activity_by_notice=bool(state.activity_source and state.activity_source.by_notice),
                reminders=state.reminders_sent,
                closed=not route.collecting(camp, today) and not opens and not deadlines, opens=opens)


def _over_ack_cap(app: App, msg: Any) -> bool:
    """The reply-storm cap: at most N acks a day to one address (by the day its mail arrived)."""
    day = msg.received_at.astimezone(app.config.timezone).date().isoformat()
    if app.ledger.acks_to_sender_on(msg.from_addr, day) < app.config.max_acks_per_sender_per_day:
        return False
    app.ledger.update_message(msg.id, reason=f"{day} 收到的邮件已向 {msg.from_addr} 回复 "
                                             f"{app.config.max_acks_per_sender_per_day} 封回执，达到每日上限"
                                             f"（防止邮件循环），本封不再回复，请人工查看。")
    return True


def _queue_reply(app: App, msg: Any, mail: ParsedMail, template: str, ctx: dict[str, Any], *,
                 purpose: str = "ack", every_campaign: bool = False) -> bool:
    """Render TEMPLATE and queue it as the answer to MSG (dedupe key `<purpose>:<id>`), about
    APP's campaign or, with EVERY_CAMPAIGN, about none in particular (a 查询 answer)."""
    what = "回执" if purpose == "ack" else "查询答复"
    try:
        subject, text, html = app.templates.render(template, **ctx)
    except Exception as exc:   # an edited template with a mistake must not wedge the mailbox
        log.exception("template %s failed for message %s", template, msg.id)
        app.ledger.update_message(msg.id, reason=f"{what}未能生成（模板 templates/{template}.*：{exc}），"
                                                 f"已登记但未回复，请修正模板后人工回复。")
        app.ledger.event("poll", "error", f"{what}模板出错：{exc}")   # joins the filing transaction
        return False
    # threading headers come from the sender: only plain <local@domain> ids pass (compose.msg_ids)
    ref = next(iter(msg_ids(mail.message_id or "")), None)
    # RFC 5322 threading: the parent's References, then the parent itself (bounded for sanity)
    chain = " ".join((msg_ids(mail.header("References") or "") + ([ref] if ref else []))[-20:]) or None
    to = reply_address(app, msg)
    if to is None:
        return False
    try:
        return queue(app.ledger, app.config, purpose=purpose, dedupe_key=f"{purpose}:{msg.id}", to=[to],
                     subject=subject, text=text, html=html, auto_submitted=AUTO_REPLIED, unit=msg.unit,
                     answers=msg.id, in_reply_to=ref, references=chain,
                     campaign=None if every_campaign else app.campaign.id)
    except HeaderInjection as exc:   # a value from the mail would have become a header: send nothing
        log.warning("%s for message %s not queued: %s", purpose, msg.id, exc)
        app.ledger.update_message(msg.id, reason=f"{what}含有来信中的异常字符，为防止被利用，未自动回复，请人工回复。")
        app.ledger.event("poll", "warning", f"编号 {msg.id} 的{what}未发送：来信内容会混入{what}的邮件头。")
        return False


def reply_address(app: App, msg: Any) -> str | None:
    """Where a reply about MSG goes: its sender when that address is on the roster for the unit;
    otherwise (a mail the office accepted by hand) the unit's first roster address."""
    unit = app.roster.by_name(msg.unit) if msg.unit else None
    if msg.from_addr and (app.roster.by_email(msg.from_addr) or unit) == unit:
        return msg.from_addr
    return unit.emails[0] if unit is not None and unit.emails else None
