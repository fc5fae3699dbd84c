"""催报: who is reminded of which deadline today, and queueing those reminders.

The policy is data, the campaign's `[reminders]` table:

    kinds = ["plan", "summary", "feedback"]
    before_workdays = [3, 1, 0]     # working days before the due date (0 = on the due day)
    overdue_every_workdays = 2      # overdue: 1st working day after the due date, then every 2
    overdue_max = 3                 # overdue reminders per deadline at most
    cc_office_from = 2              # from this overdue reminder on, cc the office (digest_to)

Each (unit, kind, due date) has a fixed list of steps, each on one working day. On a given
day only that day's steps are candidates ("never stale": a step missed because the daemon
was down is not sent on a later day, but a daemon that starts after remind_at still sends
the day's reminders). A step goes only to units with no acceptable submission of that
kind (see vocab.UnitStatus.passing), and is queued at most once: dedupe key
`reminder:<campaign>:<unit>:<kind>:<due>:<step>`.

One 催报 per unit per day: when several of a unit's deadlines have a step on the same day
(开展情况 and 反馈 both due around 9-20), the most urgent one (overdue first, then the
earliest due date) is the mail and the others are named in its reason ("另外，反馈…"). A
unit one of whose steps of the day was already queued gets nothing more that day, even if
its state changed since. Across campaigns the same check will run over every active
campaign's steps of the day (or the ledger's reminders of the day per unit).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, Collection, Sequence

from mailbot.mailout import compose
from mailbot.campaign import Campaign, CampaignError, Roster, Unit
from mailbot.cndate import cn_date_weekday, md_weekday
from mailbot.config import Config
from mailbot.store.ledger import Ledger
from mailbot.office.progress import PeriodState, UnitState, period_states, unit_states
from mailbot.table import render_table
from mailbot.vocab import Kind, UnitStatus
from mailbot.office.workcalendar import WorkCalendar

log = logging.getLogger("mailbot.remind")

REMINDABLE = ("plan", "summary", "feedback")
_KIND_CODE = {"plan": "P", "summary": "S", "feedback": "F"}

DEFAULT_POLICY: dict[str, Any] = {"kinds": ["plan", "summary", "feedback"], "before_workdays": [3, 1, 0],
                                  "overdue_every_workdays": 2, "overdue_max": 3, "cc_office_from": 2}


@dataclass(frozen=True)
class Policy:
    kinds: tuple[str, ...]
    before_workdays: tuple[int, ...]
    overdue_every_workdays: int
    overdue_max: int
    cc_office_from: int | None      # overdue step number from which the office is cc'd; None = never

    @classmethod
    def from_campaign(cls, campaign: Campaign) -> "Policy":
        raw = {**DEFAULT_POLICY, **(campaign.reminders or {})}
        where = f"规则文件 {campaign.source} 的 [reminders]"

        def ints(key: str) -> tuple[int, ...]:
            value = raw[key]
            if not isinstance(value, list) or not all(isinstance(v, int) and v >= 0 for v in value):
                raise CampaignError(f"{where} {key} 应为非负整数列表（如 [3, 1, 0]），现为“{value}”。")
            return tuple(sorted(set(value), reverse=True))

        def one(key: str, low: int) -> int:
            value = raw[key]
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise CampaignError(f"{where} {key} 应为不小于 {low} 的整数，现为“{value}”。")
            return value

        kinds = raw["kinds"]
        # the open day's three (the default, when the campaign has them) or any kind of this campaign;
        # a recurring kind (every = "month") has no single due date and is not reminded here yet
        if not isinstance(kinds, list) or any(k not in REMINDABLE and k not in campaign.kinds for k in kinds):
            raise CampaignError(f"{where} kinds 只能包含本规则文件 [kinds] 中的材料类型"
                                f"（{'、'.join(campaign.kinds)}），现为“{kinds}”。")
        kinds = tuple(k for k in kinds if k in campaign.kinds)
        cc = raw.get("cc_office_from")
        if cc is not None and cc != 0:
            cc = one("cc_office_from", 1)
        return cls(kinds=kinds, before_workdays=ints("before_workdays"),
                   overdue_every_workdays=one("overdue_every_workdays", 1),
                   overdue_max=one("overdue_max", 0), cc_office_from=cc or None)

    def steps(self, due: date, cal: WorkCalendar) -> list[tuple[str, date, int]]:
        """(step, working day, overdue number — 0 before/on the due date) for one deadline."""
        out: list[tuple[str, date, int]] = []
        anchor = cal.on_or_before(due)
        for n in self.before_workdays:
            out.append(("due" if n == 0 else f"before-{n}", cal.add_workdays(anchor, -n), 0))
        for k in range(1, self.overdue_max + 1):
            out.append((f"overdue-{k}", cal.add_workdays(due, 1 + (k - 1) * self.overdue_every_workdays), k))
        return out


@dataclass(frozen=True)
class Reminder:
    unit: Unit
    kind: str                 # plan | summary | feedback
    label: str                # 实施方案 | 开展情况 | 反馈
    due: date
    step: str                 # before-3 | before-1 | due | overdue-1 …
    overdue: int              # 0, or which overdue reminder this is
    day: date                 # the working day it belongs to (today)
    status: UnitStatus        # the unit's status for this kind (未提交, 需修改, …)
    reason: str               # Chinese: why this unit gets it
    to: tuple[str, ...]
    cc: tuple[str, ...]
    ref: str                  # reference number in the subject, e.g. CB20220823-10P
    campaign_id: str
    also: tuple["Reminder", ...] = ()   # the unit's other steps of the day, named in `reason`, not mailed
    period_label: str = ""              # a recurring return's period (2023年3月), else empty

    @property
    def dedupe_key(self) -> str:
        return _key(self.campaign_id, self.unit.name, self.kind, self.due, self.step)

    @property
    def on_due_day(self) -> bool:
        return self.step == "due"

    @property
    def step_label(self) -> str:
        if self.on_due_day:
            return "截止当天"
        if self.step.startswith("before-"):
            return f"截止前{self.step.split('-')[1]}个工作日"
        return f"逾期第{self.overdue}次"


def _key(campaign_id: str, unit: str, kind: str, due: date, step: str) -> str:
    return f"reminder:{campaign_id}:{unit}:{kind}:{due.isoformat()}:{step}"


def _one_mail(mine: list[Reminder], kinds: Sequence[str]) -> Reminder:
    """A unit's reminders of one day as one 催报: the most urgent, naming the others."""
    mine = sorted(mine, key=lambda r: (0 if r.overdue else 1, r.due, kinds.index(r.kind)))
    first, rest = mine[0], mine[1:]
    if not rest:
        return first
    return replace(first, reason=first.reason + "".join(f"另外，{r.reason}" for r in rest),
                   also=tuple(rest))


def _reason(state: UnitState, kind: str, label: str, due: date, step: str, overdue: int,
            cal: WorkCalendar, today: date) -> str:
    status = state.status_for(kind)
    sub = state.submission_for(kind)
    if step == "due":
        when = "今天截止" if today == due else f"{md_weekday(due)}截止（今天是截止前最后一个工作日）"
    elif overdue:
        late = cal.workdays_between(due, today)
        when = f"已于{md_weekday(due)}截止，已逾期 {late} 个工作日"
    else:
        when = f"将于{md_weekday(due)}截止"
    if status == UnitStatus.NEEDS_FIX and sub is not None:
        probs = "；".join(state.problems) if kind == "plan" and state.problems else ""
        got = f"已收到的{label}（第 {sub.version} 版）经检查需修改" + (f"（{probs}）" if probs else "")
        return f"{label}{when}；{got}，尚未收到修改稿。"
    if status == UnitStatus.RETURNED:
        why = state.last_review.reason if state.last_review is not None else ""
        return f"{label}{when}；已报送的方案被退回修改" + (f"（{why}）" if why else "") + "，尚未收到修改稿。"
    return f"{label}{when}，尚未收到你单位报送的{label}。"


def _period_reminder(policy: "Policy", campaign: Campaign, state: UnitState, kind: str, p: "PeriodState",
                     cal: WorkCalendar, today: date, office_cc: Sequence[str], index: dict[str, int]
                     ) -> "Reminder | None":
    """Today's step for one period of a recurring return the unit has not sent, else None."""
    if p.status.passing:
        return None
    due = p.due.due
    for step, day, overdue in policy.steps(due, cal):
        if day != today:
            continue
        k = campaign.kind(kind)
        label = f"{p.due.label}{k.label}"
        if step == "due":
            when = "今天截止" if today == due else f"{md_weekday(due)}截止（今天是截止前最后一个工作日）"
        elif overdue:
            when = f"已于{md_weekday(due)}截止，已逾期 {cal.workdays_between(due, today)} 个工作日"
        else:
            when = f"将于{md_weekday(due)}截止"
        cc = tuple(office_cc) if (policy.cc_office_from and overdue >= policy.cc_office_from) else ()
        return Reminder(unit=state.unit, kind=kind, label=label, due=due, step=step, overdue=overdue, day=today,
                        status=p.status, reason=f"{label}{when}，尚未收到你单位的{label}。",
                        to=state.unit.emails, cc=tuple(a for a in cc if a.lower() not in state.unit.emails),
                        ref=f"CB{today:%Y%m%d}-{index.get(state.unit.name, 0):02d}{_KIND_CODE.get(kind, kind[:1].upper())}",
                        campaign_id=campaign.id, period_label=p.due.label)
    return None


def plan_reminders(ledger: Ledger, campaign: Campaign, roster: Roster, cal: WorkCalendar, today: date, *,
                   office_cc: Sequence[str] = (), states: list[UnitState] | None = None,
                   include_queued: bool = False) -> list[Reminder]:
    """Today's reminders not yet queued, in roster order. Empty on a non-working day."""
    if not cal.is_workday(today):
        return []
    policy = Policy.from_campaign(campaign)
    if states is None:
        states = unit_states(ledger, campaign, roster, today)
    index = {u.name: i for i, u in enumerate(roster.units, start=1)}
    # a recurring return (每月…): one deadline per period; the unit is chased for a period it has
    # not sent (period_states), on that period's steps
    periods: dict[tuple[str, str], list[PeriodState]] = {}
    for kind in policy.kinds:
        if campaign.kind(kind).every is not None:
            for p in period_states(ledger, campaign, roster, kind, today, calendar=cal):
                periods.setdefault((p.unit.name, kind), []).append(p)
    out: list[Reminder] = []
    for state in states:
        mine: list[Reminder] = []
        reminded = False          # one of the unit's steps of today is queued already
        for kind in policy.kinds:
            if campaign.kind(kind).every is not None:
                for p in periods.get((state.unit.name, kind), ()):
                    r = _period_reminder(policy, campaign, state, kind, p, cal, today, office_cc, index)
                    if r is not None:
                        reminded = reminded or ledger.is_queued(r.dedupe_key)
                        mine.append(r)
                        break
                continue
            due = state.deadlines.due_for(kind)
            if due is None:
                continue
            for step, day, overdue in policy.steps(due, cal):
                if day != today:
                    continue
                reminded = reminded or ledger.is_queued(_key(campaign.id, state.unit.name, kind, due, step))
                if state.passing(kind):
                    break
                label = campaign.kind(kind).label
                cc = tuple(office_cc) if (policy.cc_office_from and overdue >= policy.cc_office_from) else ()
                cc = tuple(a for a in cc if a.lower() not in state.unit.emails)
                mine.append(Reminder(
                    unit=state.unit, kind=kind, label=label, due=due, step=step, overdue=overdue,
                    day=today, status=state.status_for(kind),
                    reason=_reason(state, kind, label, due, step, overdue, cal, today),
                    to=state.unit.emails, cc=cc,
                    ref=f"CB{today:%Y%m%d}-{index.get(state.unit.name, 0):02d}{_KIND_CODE.get(kind, kind[:1].upper())}",
                    campaign_id=campaign.id))
                break
        if mine and (include_queued or not reminded):
            out.append(_one_mail(mine, policy.kinds))
    return out


def _mailbox(config: Config) -> str:
    user = config.imap.get("username", "").strip()
    return user if "@" in user else config.from_address


def render(templates: compose.Templates, config: Config, campaign: Campaign, r: Reminder,
           state: UnitState | None = None) -> tuple[str, str, str]:
    return templates.render(
        "reminder", r=r, unit=r.unit.name, kind=campaign.kind(r.kind), campaign=campaign,
        is_plan=r.kind == Kind.PLAN, is_summary=r.kind == Kind.SUMMARY,
        office=config.office_name, mailbox=_mailbox(config), state=state, ref=r.ref)


def queue_reminders(ledger: Ledger, config: Config, campaign: Campaign, roster: Roster, cal: WorkCalendar,
                    today: date, *, templates: compose.Templates | None = None,
                    reminders: list[Reminder] | None = None) -> list[Reminder]:
    """Render and queue today's reminders; returns those newly queued (each exactly once)."""
    templates = templates or compose.Templates(config.templates)
    states = unit_states(ledger, campaign, roster, today)
    by_name = {s.unit.name: s for s in states}
    if reminders is None:
        reminders = plan_reminders(ledger, campaign, roster, cal, today, office_cc=config.digest_to,
                                   states=states)
    queued: list[Reminder] = []
    for r in reminders:
        if not r.to:
            log.warning("reminder %s skipped: unit has no address in units.csv", r.dedupe_key)
            continue
        subject, text, html = render(templates, config, campaign, r, by_name.get(r.unit.name))
        with ledger.transaction():
            if compose.queue(ledger, config, purpose="reminder", dedupe_key=r.dedupe_key, to=list(r.to),
                             cc=list(r.cc), subject=subject, text=text, html=html,
                             auto_submitted=compose.AUTO_GENERATED, unit=r.unit.name, campaign=campaign.id):
                queued.append(r)
    log.info("reminders queued for %s: %d", today.isoformat(), len(queued))
    return queued


# --- `mailbot remind --dry-run` ---------------------------------------------------------

def format_reminders(reminders: list[Reminder], today: date, cal: WorkCalendar, *, dry_run: bool = True) -> str:
    """Who gets what and why, as a Chinese table (for `remind --dry-run` and logs)."""
    day = cn_date_weekday(today)
    head = []
    if not cal.is_workday(today):
        head.append(f"{day}是{cal.describe(today)}，不是工作日，不发送催报。")
    note = cal.coverage_note(today.year)
    if note:
        head.append(note)
    if cal.is_workday(today) and not reminders:
        head.append(f"{day}没有需要发送的催报。")
    if not reminders:
        return "\n".join(head)
    verb = "将发送" if dry_run else "已排队发送"
    head.append(f"{day}{verb} {len(reminders)} 封催报：")
    rows = [[r.unit.name, r.label + "".join(f"、{a.label}" for a in r.also), r.due.isoformat(), r.step_label,
             "、".join(r.to) or "（名单中无邮箱，无法发送）", "、".join(r.cc) or "-", r.reason] for r in reminders]
    return "\n".join(head) + "\n" + render_table(["单位", "材料", "截止日期", "催报节点", "收件人", "抄送", "原因"], rows)


def run_remind(ledger: Ledger, config: Config, campaign: Campaign, roster: Roster, today: date, *,
               dry_run: bool = False, templates: compose.Templates | None = None,
               cal: WorkCalendar | None = None) -> tuple[list[Reminder], str]:
    """What `mailbot remind [--dry-run]` and the daemon call: (reminders, Chinese report)."""
    cal = cal or WorkCalendar.load(config.rules)
    if dry_run:
        found = plan_reminders(ledger, campaign, roster, cal, today, office_cc=config.digest_to)
        text = format_reminders(found, today, cal, dry_run=True)
        return found, (text + "\n\n" if text else "") + planned_volume(ledger, config, found)
    done = queue_reminders(ledger, config, campaign, roster, cal, today, templates=templates)
    return done, format_reminders(done, today, cal, dry_run=False)


def units_reminded(ledger: Ledger, campaign: Campaign, roster: Roster, cal: WorkCalendar, today: date, *,
                   states: list[UnitState] | None = None) -> set[str]:
    """Units one of whose steps of TODAY in CAMPAIGN is queued already, whatever their state now:
    a unit that sent the material after this morning's 催报 has had its mail today, and a second
    run of the day (`mailbot remind` by hand, a daemon restarted) must not chase it for another
    deadline or another campaign."""
    if not cal.is_workday(today):
        return set()
    policy = Policy.from_campaign(campaign)
    if states is None:
        states = unit_states(ledger, campaign, roster, today)
    dues: dict[str, list[tuple[str, date]]] = {}
    for kind in policy.kinds:
        if campaign.kind(kind).every is not None:
            for p in period_states(ledger, campaign, roster, kind, today, calendar=cal):
                dues.setdefault(p.unit.name, []).append((kind, p.due.due))
    for state in states:
        for kind in policy.kinds:
            due = state.deadlines.due_for(kind) if campaign.kind(kind).every is None else None
            if due is not None:
                dues.setdefault(state.unit.name, []).append((kind, due))
    return {unit for unit, pairs in dues.items()
            if any(day == today and ledger.is_queued(_key(campaign.id, unit, kind, due, step))
                   for kind, due in pairs for step, day, _n in policy.steps(due, cal))}


def one_per_unit(ledger: Ledger, plans: Sequence[Reminder], reminded: Collection[str] = ()) -> list[Reminder]:
    """Several campaigns' reminders of one day (each planned with include_queued=True): at most
    one mail per unit — none for a unit one of whose reminders of the day is queued already (its
    name in REMINDED, from `units_reminded` over every campaign), else its most urgent (overdue
    first, then the earliest due date)."""
    by_unit: dict[str, list[Reminder]] = {}
    for r in plans:
        by_unit.setdefault(r.unit.name, []).append(r)
    out = []
    for unit, items in by_unit.items():
        if unit in reminded or any(ledger.is_queued(r.dedupe_key) for r in items):
            continue
        out.append(min(items, key=lambda r: (-r.overdue, r.due)))
    return out


def planned_volume(ledger: Ledger, config: Config, reminders: Sequence[Reminder],
                   now: datetime | None = None) -> str:
    """Today's 催报 and the queue against [limits] send_per_day, in Chinese (`remind --dry-run`)."""
    from mailbot.mailout.limits import volume_report
    now = now or datetime.now(config.timezone)
    planned = [("reminder", len(r.to) + len(r.cc)) for r in reminders if r.to]
    return volume_report(ledger, config, now, planned, limited=not config.smtp.get("backend"))


__all__ = ["Policy", "Reminder", "plan_reminders", "queue_reminders", "format_reminders", "run_remind",
           "render", "planned_volume", "one_per_unit", "units_reminded"]
