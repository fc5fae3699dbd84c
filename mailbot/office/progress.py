"""Where each department stands: deadlines and the status of each kind of submission.

`unit_states(ledger, campaign, roster, today)` reads the ledger once and returns one
`UnitState` per roster unit, in roster order. The workbook, the digest, reminders, the
review loop and `mailbot status` all read these; none recomputes a deadline itself.

Rules (SPEC §2, the notice's clauses in the campaign file):

* activity date: the latest filed plan/adjustment (by arrival) whose facts carry an
  activity date, else the date the notice fixes for the unit (二(一)), else unknown;
* every due date is the campaign file's, through `Campaign.due_for` (fixed, per unit, derived
  from the activity date, or one per period of a recurring kind): plan due; adjustment
  cut-off: activity − kinds.adjustment.days_before_activity (三(四)); summary due: its own, or
  activity + the feedback window when the activity is later (三(四), 三(一)); feedback due:
  activity + kinds.feedback.days_after_activity; announcement due: activity −
  [activity] announce_days_before (二(五));
* a recurring kind (`every = "month"`) has a status per unit and period (`period_states`): a
  return is attributed to the period its subject names, else to the last one ended before it
  arrived; one that says 无内容报送 (the kind's empty_return_words) is 已提交（无内容）;
* a review decision applies to the plan version it was made on; a newer version starts
  at its own check outcome;
* 逾期未提交 once today is past the due date and nothing of that kind arrived.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Iterable, Mapping

from mailbot.campaign import EMPTY_RETURN_RULE, Campaign, Due, Roster, Unit
from mailbot.office.workcalendar import WorkCalendar
from mailbot.store.ledger import Ledger, Message, Review
from mailbot.vocab import DECISIONS, PLAN_KINDS, DateSource, Kind, Outcome, Severity, UnitStatus


@dataclass(frozen=True)
class Deadlines:
    """A unit's due dates in the open-day shape (plan, announcement, adjustment, summary,
    feedback), plus every single-date kind of any campaign in `by_kind`."""
    plan_due: date | None
    announce_due: date | None
    adjust_cutoff: date | None
    summary_due: date | None
    feedback_due: date | None
    by_kind: Mapping[str, date | None] = field(default_factory=dict, compare=False)

    def due_for(self, kind: str) -> date | None:
        """The due date of a kind of submission (plan | summary | feedback | any other single-date kind)."""
        fixed = {"plan": self.plan_due, "summary": self.summary_due, "feedback": self.feedback_due}
        return fixed[kind] if kind in fixed else self.by_kind.get(kind)


@dataclass(frozen=True)
class UnitState:
    unit: Unit
    activity_date: date | None
    activity_source: DateSource | None
    theme: str | None
    participants: int | None
    plan_status: UnitStatus              # 未提交 | 逾期未提交 | 需修改 | 待审核 | 已备案 | 退回修改
    plan: Message | None                 # latest non-duplicate filed plan/adjustment
    problems: tuple[str, ...]            # error findings of that version, "item：text"
    summary_status: UnitStatus           # 未提交 | 逾期未提交 | 待审核 | 需修改 | 需人工审核 | 已提交
    summary: Message | None
    feedback_status: UnitStatus
    feedback: Message | None
    deadlines: Deadlines
    reminders_sent: int
    last_review: Review | None           # latest review of this unit's plan (any version)
    # every other single-date kind of the campaign (年度报告 …): kind → (status, latest submission)
    others: Mapping[str, tuple[UnitStatus, Message | None]] = field(default_factory=dict, compare=False)

    @property
    def name(self) -> str:
        return self.unit.name

    def status_for(self, kind: str) -> UnitStatus:
        fixed = {"plan": self.plan_status, "summary": self.summary_status, "feedback": self.feedback_status}
        return fixed[kind] if kind in fixed else self.others[kind][0]

    def submission_for(self, kind: str) -> Message | None:
        fixed = {"plan": self.plan, "summary": self.summary, "feedback": self.feedback}
        return fixed[kind] if kind in fixed else self.others[kind][1]

    def passing(self, kind: str) -> bool:
        """True when an acceptable submission of this kind is in (no reminder needed)."""
        return self.status_for(kind).passing


# --- small pure helpers ---------------------------------------------------------------

def first_activity_date(facts: dict) -> date | None:
    """The earliest valid ISO date in facts['activity_dates'], else None."""
    found: list[date] = []
    for value in facts.get("activity_dates") or ():
        try:
            found.append(date.fromisoformat(str(value)[:10]))
        except ValueError:
            continue
    return min(found) if found else None


def _int_or_none(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _latest(messages: Iterable[Message]) -> Message | None:
    best = None
    for m in messages:
        if best is None or (m.received_at, m.id) >= (best.received_at, best.id):
            best = m
    return best


def deadlines_for(campaign: Campaign, activity: date | None, *, unit: str | None = None,
                  roster: Roster | None = None, today: date | None = None,
                  calendar: WorkCalendar | None = None) -> Deadlines:
    """A unit's due dates given its activity date (None when not known yet), each as
    `Campaign.due_for` gives it; recurring kinds are left to `period_states`."""
    def due(kind: str) -> date | None:
        if kind not in campaign.kinds or campaign.kinds[kind].every is not None:
            return None
        dues = campaign.due_for(kind, unit, today, calendar, activity=activity, roster=roster)
        return dues[0].due if dues else None

    by_kind = {k: due(k) for k in campaign.kinds}
    plan_due, summary_due = by_kind.get(Kind.PLAN), by_kind.get(Kind.SUMMARY)
    feedback = campaign.kinds.get(Kind.FEEDBACK)
    summary = campaign.kinds.get(Kind.SUMMARY)
    if (activity is not None and summary is not None and summary.days_after_activity is None
            and feedback is not None and feedback.days_after_activity is not None):
        # rules files written before a summary had its own days_after_activity said this in a
        # comment only: after an activity held later than the summary's date, the feedback window
        if summary_due is None or activity > summary_due:
            summary_due = activity + timedelta(days=feedback.days_after_activity)
    announce_due = None
    if activity is not None and campaign.has_activity:
        announce_due = activity - timedelta(days=campaign.announce_days_before)
    if campaign.has_activity:
        # an activity campaign always tracks a plan and a summary: without dates, its window's ends
        plan_due = plan_due or campaign.window_start
        summary_due = summary_due or campaign.window_end
    by_kind.update({Kind.PLAN: plan_due, Kind.SUMMARY: summary_due} if campaign.has_activity else {})
    return Deadlines(plan_due=plan_due, announce_due=announce_due, adjust_cutoff=by_kind.get(Kind.ADJUSTMENT),
                     summary_due=summary_due, feedback_due=by_kind.get(Kind.FEEDBACK), by_kind=by_kind)


def _plain_status(msg: Message | None, due: date | None, today: date) -> UnitStatus:
    """Status of a summary/feedback: none → 未提交/逾期未提交; else its check outcome."""
    if msg is None:
        return UnitStatus.OVERDUE if due is not None and today > due else UnitStatus.NOT_SUBMITTED
    if msg.outcome in tuple(Outcome):
        return UnitStatus.of(msg.outcome)
    return UnitStatus.SUBMITTED


def plan_status(plan: Message | None, review: Review | None, due: date | None, today: date) -> UnitStatus:
    if plan is None:
        return UnitStatus.OVERDUE if due is not None and today > due else UnitStatus.NOT_SUBMITTED
    if review is not None and review.message == plan.id and review.decision in DECISIONS:
        return UnitStatus(review.decision)
    if plan.outcome == Outcome.FIX:
        return UnitStatus.NEEDS_FIX
    return UnitStatus.PENDING            # 待审核 and 需人工审核 both wait for the office


# --- the one entry point ----------------------------------------------------------------

def unit_states(ledger: Ledger, campaign: Campaign, roster: Roster, today: date, *,
                only: Unit | None = None, calendar: WorkCalendar | None = None) -> list[UnitState]:
    """One UnitState per roster unit, in roster order (or just ONLY's: reads only its rows)."""
    by_unit: dict[str, dict[str, list[Message]]] = defaultdict(lambda: defaultdict(list))
    names = None
    if only is not None:
        # the unit as the ledger spells it: usually only.name, but a renamed 单位 keeps old rows
        names = [n for n in ledger.filed_unit_names() if n == only.name or roster.by_name(n) is only] \
            or [only.name]
    for m in ledger.current_submissions(names, campaign=campaign.id):
        u = roster.by_name(m.unit) if m.unit else None
        if u is None:
            continue
        by_unit[u.name][m.kind or ""].append(m)

    reviews: dict[str, Review] = {}
    for r in ledger.reviews(campaign=campaign.id):
        if r.kind not in PLAN_KINDS:
            continue
        u = roster.by_name(r.unit)
        if u is not None:
            reviews[u.name] = r            # ordered by id: the last one wins

    sent: dict[str, int] = defaultdict(int)
    for name, n in ledger.reminders_per_unit(campaign.id).items():
        u = roster.by_name(name)
        if u is not None:
            sent[u.name] += n

    error_findings: dict[int, tuple[str, ...]] = {}

    def problems_of(msg: Message | None) -> tuple[str, ...]:
        if msg is None:
            return ()
        if msg.id not in error_findings:
            error_findings[msg.id] = tuple(
                f"{f.item}：{f.text}" for f in ledger.findings(msg.id) if f.severity == Severity.ERROR)
        return error_findings[msg.id]

    states: list[UnitState] = []
    for unit in ((only,) if only else roster.units):
        mine = by_unit.get(unit.name, {})
        plan = _latest([m for k in PLAN_KINDS for m in mine.get(k, ())])

        # the newest plan or adjustment that names a date (older ones' facts are never decoded)
        plans = sorted((m for k in PLAN_KINDS for m in mine.get(k, ())), key=lambda m: (m.received_at, m.id))
        source_msg = next((m for m in reversed(plans) if first_activity_date(m.facts) is not None), None)
        if source_msg is not None:
            activity = first_activity_date(source_msg.facts)
            activity_source = DateSource.ADJUSTMENT if source_msg.kind == Kind.ADJUSTMENT else DateSource.PLAN
        else:
            activity = campaign.fixed_date_for(roster, unit.name)
            activity_source = DateSource.NOTICE if activity is not None else None

        facts = plan.facts if plan is not None else {}
        theme = facts.get("theme") or None
        participants = _int_or_none(facts.get("participants"))
        if plan is not None and plan.kind == Kind.ADJUSTMENT:
            # An adjustment often only moves the date: keep the plan's theme and headcount.
            base = _latest(mine.get(Kind.PLAN, ()))
            if base is not None:
                theme = theme or base.facts.get("theme") or None
                if participants is None:
                    participants = _int_or_none(base.facts.get("participants"))

        dl = deadlines_for(campaign, activity, unit=unit.name, roster=roster, today=today, calendar=calendar)
        review = reviews.get(unit.name)
        summary = _latest(mine.get(Kind.SUMMARY, ()))
        feedback = _latest(mine.get(Kind.FEEDBACK, ()))
        states.append(UnitState(
            unit=unit, activity_date=activity, activity_source=activity_source,
            theme=theme, participants=participants,
            plan_status=plan_status(plan, review, dl.plan_due, today), plan=plan,
            problems=problems_of(plan),
            summary_status=_plain_status(summary, dl.summary_due, today), summary=summary,
            feedback_status=_plain_status(feedback, dl.feedback_due, today), feedback=feedback,
            deadlines=dl, reminders_sent=sent.get(unit.name, 0), last_review=review,
            others={k: (_plain_status(m := _latest(mine.get(k, ())), dl.by_kind.get(k), today), m)
                    for k, kind in campaign.kinds.items()
                    if k not in (*PLAN_KINDS, Kind.SUMMARY, Kind.FEEDBACK) and kind.every is None}))
    return states


# --- recurring kinds: one status per unit and period -----------------------------------------

@dataclass(frozen=True)
class PeriodState:
    unit: Unit
    due: Due                              # the period (due.period, due.label) and its due date
    status: UnitStatus                    # 未提交 | 逾期未提交 | 已提交（无内容） | 待审核 | 需修改 | 需人工审核
    submission: Message | None            # the latest return filed for that period


def empty_return(campaign: Campaign, msg: Message, findings: Iterable = ()) -> bool:
    """A filed return that says there is nothing to report: its subject holds one of the kind's
    empty_return_words, or the check marked its text so (rule `empty-return`)."""
    kind = campaign.kinds.get(msg.kind or "")
    if kind is None or not kind.empty_return_words:
        return False
    if any(w in _compact(msg.subject) for w in map(_compact, kind.empty_return_words)):
        return True
    return any(f.rule == EMPTY_RETURN_RULE for f in findings)


def _compact(text: str) -> str:
    import unicodedata
    return "".join(unicodedata.normalize("NFKC", text or "").split())


def period_states(ledger: Ledger, campaign: Campaign, roster: Roster, kind: str, today: date, *,
                  calendar: WorkCalendar | None = None) -> list[PeriodState]:
    """For recurring KIND: one PeriodState per roster unit (roster order) and period begun by
    TODAY (oldest first). A return counts for the period `Campaign.period_of` gives it."""
    periods = campaign.due_for(kind, None, today, calendar)
    filed: dict[tuple[str, str], Message] = {}
    for m in ledger.current_submissions(campaign=campaign.id):
        u = roster.by_name(m.unit) if m.unit and m.kind == kind else None
        received = m.received_at.date()
        due = campaign.period_of(kind, received, m.subject, calendar) if u is not None else None
        if due is not None:
            key = (u.name, due.period)
            if key not in filed or (m.received_at, m.id) >= (filed[key].received_at, filed[key].id):
                filed[key] = m
    out: list[PeriodState] = []
    for unit in roster.units:
        for due in periods:
            m = filed.get((unit.name, due.period))
            if m is None:
                status = UnitStatus.OVERDUE if today > due.due else UnitStatus.NOT_SUBMITTED
            elif empty_return(campaign, m, ledger.findings(m.id)):
                status = UnitStatus.EMPTY_RETURN
            else:
                status = _plain_status(m, due.due, today)
            out.append(PeriodState(unit, due, status, m))
    return out


def unit_state(ledger: Ledger, campaign: Campaign, roster: Roster, unit: str, today: date) -> UnitState:
    """The state of one unit, named loosely (民政局 = 西吉县民政局)."""
    return unit_states(ledger, campaign, roster, today, only=roster.get(unit))[0]


__all__ = ["Deadlines", "UnitState", "unit_states", "unit_state", "deadlines_for", "plan_status",
           "first_activity_date", "PeriodState", "period_states", "empty_return"]
