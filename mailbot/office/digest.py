"""每日汇总: one mail a working day to the office (config.digest_to), workbook attached.

What it says, all read from the ledger:
  new mail since the last digest and its outcome · what needs the office (plans waiting
  for 已备案/退回修改, documents a human must read) · who is missing for each open deadline ·
  activities in the next 7 days · overdue plans, summaries and feedback · 待确认 and
  unmatched mail · failed sends · health (last good poll, errors) · calendar coverage.

"Since the last digest" is a watermark (highest message and event id) stored in the
ledger when a digest is queued, so a pretended `--today` and clock changes cannot skip or
repeat anything. One digest per day: dedupe key `digest:<campaign>:<date>`.
"""
from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from html import escape as html_escape
from pathlib import Path
from typing import Any

from mailbot.mailout import compose
from mailbot.campaign import Campaign, Roster
from mailbot.cndate import md, md_time, weekday
from mailbot.config import Config
from mailbot.store.ledger import Ledger
from mailbot.app import workbook_for
from mailbot.office.progress import UnitState, period_states, unit_states
from mailbot.vocab import Outcome, Severity, Status, UnitStatus
from mailbot.office.workcalendar import WorkCalendar

log = logging.getLogger("mailbot.digest")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_ATTACHMENT = 20 * 1024 * 1024
OPEN_HORIZON_DAYS = 14          # open deadlines shown when due within this many days
ACTIVITY_HORIZON_DAYS = 7
WARNINGS_SHOWN = 10             # warning events listed; the rest is a count
LIST_CAP = 20                   # longest list of mails shown; the rest is a total (a flood stays one line)
K_MESSAGE, K_EVENT, K_DAY = "digest.last_message_id", "digest.last_event_id", "digest.last_day"



@dataclass(frozen=True)
class Digest:
    day: date
    subject: str
    text: str
    html: str
    attachments: tuple[tuple[str, bytes, str], ...]
    counts: dict[str, int]
    message_watermark: int
    event_watermark: int
    context: dict[str, Any] = field(repr=False, default_factory=dict)


def _label(campaign: Campaign, kind: str | None) -> str:
    if kind and kind in campaign.kinds:
        return campaign.kind(kind).label
    return kind or "（类型未识别）"


def build_digest(ledger: Ledger, config: Config, campaign: Campaign, roster: Roster, cal: WorkCalendar,
                 today: date, *, workbook: Path | str | None = None, templates: compose.Templates | None = None,
                 now: datetime | None = None, part: str | None = None) -> Digest:
    """Render today's digest without queueing it (also what `digest --dry-run` prints).
    PART, when the mailbox runs several campaigns: "first" — the first campaign's part, with its
    new mail and that of no campaign (待分拣) and the mailbox-wide sections (held mail, sending,
    health); "other" — another campaign's part, its own mail and units only (combine())."""
    templates = templates or compose.Templates(config.templates)
    now = now or datetime.now(config.timezone)
    states = unit_states(ledger, campaign, roster, today)
    since_msg = int(ledger.get_meta(K_MESSAGE, "0") or 0)
    since_event = ledger.get_meta(K_EVENT)
    last_day = ledger.get_meta(K_DAY)

    # 1. new mail since the last digest
    new_rows = ledger.messages_after(since_msg)
    max_all = max([since_msg, *(m.id for m in new_rows)])
    if part is not None:
        mine = {campaign.id, None} if part == "first" else {campaign.id}
        new_rows = [m for m in new_rows if m.campaign in mine]
    new_filed, new_other = [], []
    for m in new_rows:
        if m.status == Status.FILED:
            errors = [f for f in ledger.findings(m.id) if f.severity == Severity.ERROR]
            new_filed.append(dict(
                unit=m.unit, kind=_label(campaign, m.kind), version=m.version, received=md_time(m.received_at, config.timezone),
                outcome="重复发送（与已收版本相同）" if m.duplicate_of else (m.outcome or ""),
                needs_fix=not m.duplicate_of and m.outcome == Outcome.FIX,
                problems=[f"{f.item}：{f.text}" for f in errors][:5], more=max(0, len(errors) - 5)))
        elif m.status == Status.SUPPLEMENT:
            new_filed.append(dict(
                unit=m.unit, kind=f"{_label(campaign, m.kind)}补充材料",
                version=ledger.message(m.supplement_of).version if m.supplement_of else None,
                received=md_time(m.received_at, config.timezone), outcome="补充材料，不算新版本，不改变审核结果",
                needs_fix=False, problems=[], more=0))
        elif m.status in (Status.OVERSIZE, Status.UNPARSABLE):
            new_other.append(dict(status=Status(m.status).label, sender=m.from_addr, subject=m.subject,
                                  received=md_time(m.received_at, config.timezone), reason=m.reason or ""))
    automatic_new = sum(1 for m in new_rows if m.status == Status.AUTOMATIC)
    queries = [m for m in new_rows if m.status == Status.QUERY]          # 查询 by mail (no campaign: first part)
    answered = {o.answers for o in ledger.outgoing("query")} if queries else set()
    queries_new = dict(count=len(queries), answered=sum(1 for m in queries if m.id in answered),
                       units="、".join(dict.fromkeys(m.unit for m in queries if m.unit)))
    max_msg = max_all

    # 2. what the office has to do
    to_review, manual = [], []
    for s in states:
        if s.plan is not None and s.plan_status == UnitStatus.PENDING:
            to_review.append(dict(unit=s.name, label=_label(campaign, s.plan.kind), version=s.plan.version,
                                  received=md_time(s.plan.received_at, config.timezone), manual=s.plan.outcome == Outcome.HUMAN,
                                  activity=md(s.activity_date),
                                  hints=[f"{f.item}：{f.text}" for f in ledger.findings(s.plan.id)][:5]))
        for kind, sub, status in (("summary", s.summary, s.summary_status), ("feedback", s.feedback, s.feedback_status)):
            if sub is not None and status == UnitStatus.MANUAL:
                manual.append(dict(unit=s.name, label=_label(campaign, kind), version=sub.version,
                                   received=md_time(sub.received_at, config.timezone),
                                   hints=[f"{f.item}：{f.text}" for f in ledger.findings(sub.id)][:5]))

    # 3. open deadlines and who is missing; 5. overdue
    # every kind with one due date per unit (实施方案, 开展情况, 反馈; 年度报告 …); a recurring
    # return's periods are in the headline (_headline)
    kinds = [k for k, kd in campaign.kinds.items() if kd.every is None and kd.has_due]
    groups: dict[tuple[str, date], list[dict]] = {}
    overdue = []
    for s in states:
        for kind in kinds:
            due = s.deadlines.due_for(kind)
            if due is None or s.passing(kind):
                continue
            status = s.status_for(kind)
            if today <= due <= today + timedelta(days=OPEN_HORIZON_DAYS):
                groups.setdefault((kind, due), []).append(dict(unit=s.name, status=status))
            elif due < today:
                overdue.append(dict(unit=s.name, kind=kind, due_date=due, status=status))
    # a recurring return: each period ended and not sent, by its due date — who is missing it
    labels: dict[tuple[str, date], str] = {}
    for key, kd in campaign.kinds.items():
        if kd.every is None:
            continue
        for p in period_states(ledger, campaign, roster, key, today, calendar=cal):
            if p.status.passing or p.due.end is None or p.due.end >= today:
                continue
            labels[(key, p.due.due)] = f"{p.due.label}{kd.label}"
            if today <= p.due.due <= today + timedelta(days=OPEN_HORIZON_DAYS):
                groups.setdefault((key, p.due.due), []).append(dict(unit=p.unit.name, status=p.status))
            elif p.due.due < today:
                overdue.append(dict(unit=p.unit.name, kind=key, due_date=p.due.due, status=p.status))
    kinds = kinds + [k for k, kd in campaign.kinds.items() if kd.every is not None]

    def _label_of(k: str, d: date) -> str:
        return labels.get((k, d)) or _label(campaign, k)
    open_deadlines = [dict(label=_label_of(k, d), due=md(d), weekday=weekday(d),
                           left=cal.workdays_between(today, d), units=units,
                           names="、".join(u["unit"] + ("" if u["status"] == UnitStatus.NOT_SUBMITTED else f"（{u['status']}）")
                                          for u in units))
                      for (k, d), units in sorted(groups.items(), key=lambda p: (p[0][1], kinds.index(p[0][0])))]

    late_groups: dict[tuple[str, date], list[dict]] = {}
    for o in overdue:
        late_groups.setdefault((o["kind"], o["due_date"]), []).append(o)
    overdue_groups = [dict(label=_label_of(k, d), due=md(d), late=cal.workdays_between(d, today), units=units,
                           names="、".join(u["unit"] + ("" if u["status"] == UnitStatus.OVERDUE else f"（{u['status']}）")
                                          for u in units))
                      for (k, d), units in sorted(late_groups.items(), key=lambda p: (p[0][1], kinds.index(p[0][0])))]

    # 4. activities in the next 7 days
    activities = [dict(unit=s.name, date=md(s.activity_date), weekday=weekday(s.activity_date),
                       theme=s.theme or "", participants=s.participants, plan_status=s.plan_status.label,
                       source=s.activity_source or "",    # the templates an office copied before by_notice
                       by_notice=s.activity_source is not None and s.activity_source.by_notice)
                  for s in sorted((s for s in states if s.activity_date and
                                   today <= s.activity_date <= today + timedelta(days=ACTIVITY_HORIZON_DAYS)),
                                  key=lambda s: s.activity_date)]

    # 6. mail waiting for the office
    waiting_all = ledger.messages(Status.UNCONFIRMED)
    waiting = [dict(sender=m.from_addr, subject=m.subject, received=md_time(m.received_at, config.timezone), unit=m.unit or "",
                    kind=_label(campaign, m.kind) if m.kind else "", reason=m.reason or "")
               for m in waiting_all[:LIST_CAP]]
    unmatched_rows = [m for m in new_rows if m.status in (Status.UNSORTED, Status.UNMATCHED, Status.NOATTACH,
                                                          Status.ERROR, Status.OVERSIZE, Status.UNPARSABLE)]
    unmatched_new = [dict(id=m.id, sender=m.from_addr, subject=m.subject, received=md_time(m.received_at, config.timezone),
                          reason=m.reason or "", label=Status(m.status).label)
                     for m in unmatched_rows[:LIST_CAP]]
    # held as possibly forged (one line each: the office phones the unit), and floods (one line per
    # sender and day, however many mails)
    untrusted_all = ledger.messages(Status.UNTRUSTED)
    untrusted = [dict(id=m.id, sender=m.from_addr, subject=m.subject, received=md_time(m.received_at, config.timezone),
                      unit=m.unit or "", reason=m.reason or "") for m in untrusted_all[:LIST_CAP]]
    flood_groups: dict[tuple[str, str], int] = {}
    for m in ledger.messages(Status.FLOOD):
        key = (m.from_addr, md(m.received_at.astimezone(config.timezone).date()))
        flood_groups[key] = flood_groups.get(key, 0) + 1
    floods = [dict(sender=k[0], day=k[1], count=n) for k, n in sorted(flood_groups.items())]
    unmatched_total = ledger.held_counts().get(Status.UNMATCHED, 0)

    # 7. sending
    failed = [dict(purpose=r.purpose, unit=r.unit or "", to="、".join(r.recipients), subject=r.subject,
                   error=r.last_error or "") for r in ledger.failed_outgoing()]
    queued_rows = ledger.queued_outgoing()
    retrying = sum(1 for r in queued_rows if r.attempts > 0)
    queued = len(queued_rows)

    # 8. health
    poll = ledger.last_event("poll", ok_only=True)
    last_poll = dict(at=md_time(poll.at, config.timezone), text=poll.text) if poll else None
    if since_event is not None:
        recent = ledger.events(after=int(since_event))
    else:
        start = (now - timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        recent = ledger.events(start.isoformat(timespec="seconds"))
    errors = [dict(at=md_time(e.at, config.timezone), job=e.job, text=e.text) for e in recent if e.level == "error"]
    # the weekly archive check (mailbot verify) and warnings (e.g. archive name collisions)
    checks = [e for e in recent if e.job == "verify"]
    archive_check = dict(at=md_time(checks[-1].at, config.timezone), ok=checks[-1].level == "ok",
                         lines=checks[-1].text.splitlines()) if checks else None
    warning_rows = [e for e in recent if e.job != "verify" and e.level == "warning"]
    warnings = [dict(at=md_time(e.at, config.timezone), job=e.job, text=e.text)
                for e in warning_rows[:WARNINGS_SHOWN]]
    max_event = ledger.last_event_id()
    years = {today.year, *(s.activity_date.year for s in states if s.activity_date)}
    coverage = cal.coverage_notes(years)

    # workbook
    attachments: list[tuple[str, bytes, str]] = []
    workbook_note = ""
    if workbook is not None:
        wb = Path(workbook)
        try:
            size = wb.stat().st_size
        except OSError:
            workbook_note = f"跟踪表 {wb.name} 尚未生成，本次未附。"
        else:
            if size > MAX_ATTACHMENT:
                workbook_note = f"跟踪表 {wb.name} 超过 {MAX_ATTACHMENT // 1024 // 1024} MB，未附，请在 {wb} 查看。"
            else:
                attachments.append((f"{wb.stem}-{today.isoformat()}{wb.suffix}", wb.read_bytes(), XLSX))
                workbook_note = f"附件为截至今日的跟踪表（{wb.name}）。"
        # this campaign's workbook: [paths] workbook (the first campaign) or 跟踪表_<id>.xlsx
        names = [workbook_for(Path(config.workbook), campaign.id, primary=p) for p in (True, False)]
        own = names[0] if part is None or wb.name == names[0].name else names[1]
        if wb.resolve() not in {n.resolve() for n in names}:
            # workbook.compile writes a dated copy when Excel/WPS holds the file open
            workbook_note += (f"注意：{own.name} 正被 Excel/WPS 打开，无法更新，"
                              f"本次写入了副本 {wb.name}。请关闭该文件，下次会恢复写入原文件。")

    submitted_plans = sum(1 for s in states if s.plan is not None)
    counts = dict(new=len(new_filed), to_review=len(to_review), manual=len(manual) + sum(1 for r in to_review if r["manual"]),
                  missing=sum(len(g["units"]) for g in open_deadlines), overdue=len(overdue),
                  overdue_units=len({o["unit"] for o in overdue}), activities=len(activities),
                  waiting=len(waiting_all), unmatched_new=len(unmatched_rows), failed=len(failed),
                  untrusted=len(untrusted_all), flood=sum(flood_groups.values()),
                  errors=len(errors), warnings=len(warning_rows), units=len(states), plans=submitted_plans,
                  approved=sum(1 for s in states if s.plan_status == UnitStatus.APPROVED))
    ctx = dict(campaign=campaign, office=config.office_name, today=today, counts=counts,
               since=last_day, new_filed=new_filed, new_other=new_other, automatic_new=automatic_new,
               queries_new=queries_new,
               to_review=to_review, manual=manual, open_deadlines=open_deadlines, overdue=overdue,
               activities=activities, overdue_groups=overdue_groups, waiting=waiting, unmatched_new=unmatched_new,
               untrusted=untrusted, floods=floods,
               unmatched_total=unmatched_total, failed=failed, retrying=retrying, queued=queued,
               last_poll=last_poll, errors=errors, coverage=coverage, archive_check=archive_check,
               warnings=warnings, workbook_note=workbook_note,
               workday=cal.is_workday(today), day_label=cal.describe(today), plan_statuses=_tally(states),
               part=part, headline=None if campaign.has_activity else _headline(ledger, campaign, roster, states,
                                                                                 today, cal))
    if part == "other":     # the mailbox-wide sections are in the first campaign's part
        for key in ("untrusted", "floods", "failed", "errors", "warnings"):
            ctx[key] = []
        ctx.update(unmatched_new=[], unmatched_total=0, retrying=0, queued=0, archive_check=None, last_poll=None,
                   coverage=[], workbook_note=workbook_note)
    subject, text, html = templates.render("digest", **ctx)
    return Digest(day=today, subject=subject, text=text, html=html, attachments=tuple(attachments),
                  counts=counts, message_watermark=max_msg, event_watermark=int(max_event), context=ctx)


def _headline(ledger: Ledger, campaign: Campaign, roster: Roster, states: list[UnitState], today: date,
              cal: WorkCalendar) -> str:
    """The first line about a collection without activities (年度报告, 月报): each kind's count of
    units that sent it and their states — for a recurring return, the period being collected."""
    lines = []
    for key, kind in campaign.kinds.items():
        if kind.every is None:
            if not kind.has_due:
                continue
            found = Counter(s.status_for(key) for s in states)
            label = kind.label
        else:
            periods = period_states(ledger, campaign, roster, key, today, calendar=cal)
            if not periods:
                continue
            dues = sorted({p.due.due for p in periods})
            current = next((d for d in dues if d >= today), dues[-1])
            chosen = [p for p in periods if p.due.due == current]
            found = Counter(p.status for p in chosen)
            label = f"{chosen[0].due.label}{kind.label}"
        sent = sum(n for st, n in found.items() if st not in (UnitStatus.NOT_SUBMITTED, UnitStatus.OVERDUE))
        lines.append(f"{label}报送：共 {len(states)} 个单位，已报 {sent} 家" +
                     "".join(f"；{st.label} {found[st]}" for st in UnitStatus if found[st]) + "。")
    return "\n".join(lines)


def _tally(states: list[UnitState]) -> list[tuple[str, int]]:
    found = Counter(s.plan_status for s in states)
    return [(st.label, found[st]) for st in UnitStatus if found[st]]


def combine(parts: list[Digest], campaigns: list[Campaign]) -> Digest:
    """Several campaigns' digests as one mail: the first's subject with the count, each part
    under its campaign's title, every workbook attached."""
    if len(parts) == 1:
        return parts[0]
    first = parts[0]
    text = "\n\n".join(f"━━ {c.title} ━━\n\n{d.text}" for c, d in zip(campaigns, parts))
    bodies = []
    for c, d in zip(campaigns, parts):
        m = re.search(r"<body[^>]*>(.*)</body>", d.html, re.S | re.I)
        bodies.append(f"<h2>{html_escape(c.title)}</h2>" + (m.group(1) if m else d.html))
    head = re.search(r"^(.*?<body[^>]*>)", first.html, re.S | re.I)
    html_all = (head.group(1) if head else "<html><body>") + "<hr>".join(bodies) + "</body></html>"
    counts = {k: sum(d.counts.get(k, 0) for d in parts) for k in first.counts}
    return Digest(day=first.day, subject=f"{first.subject}（共 {len(parts)} 项收集）", text=text, html=html_all,
                  attachments=tuple(a for d in parts for a in d.attachments), counts=counts,
                  message_watermark=max(d.message_watermark for d in parts),
                  event_watermark=max(d.event_watermark for d in parts), context=first.context)


def build_all(ledger: Ledger, config: Config, campaigns: list[Campaign], roster: Roster, cal: WorkCalendar,
              today: date, *, workbooks: list[Path | str | None], templates: compose.Templates | None = None,
              now: datetime | None = None) -> Digest:
    """The day's digest over every campaign (one mail)."""
    if len(campaigns) == 1:
        return build_digest(ledger, config, campaigns[0], roster, cal, today, workbook=workbooks[0],
                            templates=templates, now=now)
    workbooks = list(workbooks) + [None] * (len(campaigns) - len(workbooks))
    parts = [build_digest(ledger, config, c, roster, cal, today, workbook=wb, templates=templates, now=now,
                          part="first" if i == 0 else "other")
             for i, (c, wb) in enumerate(zip(campaigns, workbooks))]
    return combine(parts, campaigns)


def queue_digest(ledger: Ledger, config: Config, campaign: Campaign | list[Campaign], roster: Roster,
                 cal: WorkCalendar, today: date, *, workbook: Path | str | None | list = None,
                 templates: compose.Templates | None = None, force: bool = False, now: datetime | None = None,
                 key_ids: list[str] | None = None) -> bool:
    """Queue today's digest once (working days only unless force). True when newly queued."""
    if not force and not cal.is_workday(today):
        log.info("digest skipped: %s is not a working day", today)
        return False
    if not config.digest_to:
        log.warning("digest skipped: [office] digest_to is empty")
        return False
    campaigns = list(campaign) if isinstance(campaign, list) else [campaign]
    workbooks = list(workbook) if isinstance(workbook, list) else [workbook]
    # one a day whatever campaigns it covers (KEY_IDS: every configured one, when the caller
    # covers only those collecting today)
    key = f"digest:{'+'.join(key_ids or [c.id for c in campaigns])}:{today.isoformat()}"
    if ledger.is_queued(key):
        return False
    d = build_all(ledger, config, campaigns, roster, cal, today, workbooks=workbooks, templates=templates, now=now)
    with ledger.transaction():
        new = compose.queue(ledger, config, purpose="digest", dedupe_key=key, to=list(config.digest_to),
                            subject=d.subject, text=d.text, html=d.html, auto_submitted=compose.AUTO_GENERATED,
                            attachments=d.attachments)
        if new:
            ledger.set_meta(K_MESSAGE, str(d.message_watermark))
            ledger.set_meta(K_EVENT, str(d.event_watermark))
            ledger.set_meta(K_DAY, today.isoformat())
    log.info("digest for %s queued: %s", today, new)
    return new


def run_digest(ledger: Ledger, config: Config, campaign: Campaign | list[Campaign], roster: Roster, today: date, *,
               dry_run: bool = False, workbook: Path | str | None | list = None,
               templates: compose.Templates | None = None, cal: WorkCalendar | None = None) -> tuple[bool, str]:
    """What `mailbot digest [--dry-run]` and the daemon call: (queued?, Chinese text). CAMPAIGN may
    be every configured campaign (and WORKBOOK their workbooks, in the same order)."""
    cal = cal or WorkCalendar.load(config.rules)
    workbook = config.workbook if workbook is None else workbook
    if dry_run:
        campaigns = list(campaign) if isinstance(campaign, list) else [campaign]
        workbooks = list(workbook) if isinstance(workbook, list) else [workbook]
        d = build_all(ledger, config, campaigns, roster, cal, today, workbooks=workbooks, templates=templates)
        head = "" if cal.is_workday(today) else f"（今天是{cal.describe(today)}，非工作日不会自动发送每日汇总。）\n"
        return False, f"{head}主题：{d.subject}\n收件人：{'、'.join(config.digest_to) or '（未设置 digest_to）'}\n\n{d.text}"
    if not cal.is_workday(today):
        return False, f"今天是{cal.describe(today)}，不是工作日，不发送每日汇总。"
    if not config.digest_to:
        return False, f"{config.path} 的 [office] digest_to 为空，每日汇总无人接收，未发送。"
    new = queue_digest(ledger, config, campaign, roster, cal, today, workbook=workbook, templates=templates)
    return new, ("每日汇总已排队发送至 " + "、".join(config.digest_to) + "。") if new else "今天的每日汇总已发送过。"


__all__ = ["Digest", "build_digest", "queue_digest", "run_digest"]
