"""The review loop: the office approves (已备案) or returns (退回修改) a unit's plan.

A decision applies to the unit's latest plan version (plan or adjustment, duplicates
ignored). Recording it and queueing the 审核结果 mail happen in one ledger transaction, and
the mail's dedupe key is `review:<campaign>:<message id>:<decision>`, so the same version
and decision is never mailed twice, whether it came from the command line or the workbook.

From the workbook: `apply_workbook_decisions` gets the 审核状态 cells the clerk changed
(workbook.keep_hand_columns detects the edits against the ledger, and workbook.compile
resets the column to the decision in force when a new version arrives, so an old 已备案
never approves a new version by itself).
"""
from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Mapping

from mailbot.mailout import compose
from mailbot.campaign import Campaign, Roster
from mailbot.config import Config
from mailbot.store.ledger import Ledger
from mailbot.office.progress import unit_state
from mailbot.vocab import DECISIONS, UnitStatus

log = logging.getLogger("mailbot.review")

VIAS = ("命令行", "跟踪表")
#: what a clerk may type for each decision (after NFKC and trimming)
ALIASES = {**{d.label: d for d in DECISIONS},
           "备案": UnitStatus.APPROVED, "通过": UnitStatus.APPROVED, "同意备案": UnitStatus.APPROVED,
           "退回": UnitStatus.RETURNED, "退回重报": UnitStatus.RETURNED}
DEFAULT_WORKBOOK_REASON = "请查看跟踪表中的备注，或与县政务公开办公室联系了解具体修改意见。"


class ReviewError(Exception):
    """A decision that cannot be recorded; the message is a Chinese sentence."""


@dataclass(frozen=True)
class ReviewResult:
    unit: str
    decision: UnitStatus     # 已备案 | 退回修改
    message: int | None      # the plan version's ledger message id
    version: int | None
    recorded: bool           # a new reviews row was written
    queued: bool             # a new 审核结果 mail was queued
    text: str                # Chinese, for the CLI / log

    def __str__(self) -> str:
        return self.text


def normalize_decision(value: str | None) -> UnitStatus | None:
    v = unicodedata.normalize("NFKC", value or "").strip()
    return ALIASES.get(v)


def _recipients(unit_emails: tuple[str, ...], from_addr: str) -> list[str]:
    """The unit's roster addresses, the plan's sender first when it is one of them."""
    sender = (from_addr or "").strip().lower()
    if sender in unit_emails:
        return [sender, *(e for e in unit_emails if e != sender)]
    return list(unit_emails)


def decide(ledger: Ledger, config: Config, campaign: Campaign, roster: Roster, unit: str, decision: str,
           reason: str | None, via: str, today: date, *,
           templates: compose.Templates | None = None) -> ReviewResult:
    """Record a decision on UNIT's latest plan version and queue the 审核结果 mail (once)."""
    chosen = normalize_decision(decision)
    if chosen is None:
        raise ReviewError(f"审核结论“{decision}”不认识，只能是“{UnitStatus.APPROVED}”或“{UnitStatus.RETURNED}”。")
    if via not in VIAS:
        raise ReviewError(f"审核来源“{via}”不认识，只能是{'、'.join(VIAS)}。")
    u = roster.by_name(unit)
    if u is None:
        raise ReviewError(f"单位名单 units.csv 中没有“{unit}”，请检查单位名称。")
    reason = (reason or "").strip()
    if chosen == UnitStatus.RETURNED and not reason:
        raise ReviewError(f"退回修改须写明原因，例如：mailbot review {u.name} --return \"缺少温馨提示\"。")
    state = unit_state(ledger, campaign, roster, u.name, today)
    plan = state.plan
    if plan is None:
        raise ReviewError(f"{u.name}尚未报送实施方案，无法审核。")
    label = campaign.kind(plan.kind).label if plan.kind in campaign.kinds else "实施方案"
    what = f"{u.name}第 {plan.version} 版{label}（{plan.received_at.date().isoformat()} 收到）"

    mine = [r for r in ledger.reviews() if r.message == plan.id and roster.same_unit(r.unit, u.name)]
    if mine and mine[-1].decision == chosen:
        return ReviewResult(u.name, chosen, plan.id, plan.version, False, False,
                            f"{what}已是“{chosen}”，未重复记录，也不再发送通知。")

    templates = templates or compose.Templates(config.templates)
    to = _recipients(u.emails, plan.from_addr)
    dl = state.deadlines
    ctx = dict(unit=u.name, decision=chosen.label, approved=chosen.approved, reason=reason, plan=plan, label=label,
               state=state,
               deadlines=dl, today=today, campaign=campaign, office=config.office_name,
               ref=f"{campaign.id}-{plan.id:04d}",
               announce_passed=bool(dl.announce_due and dl.announce_due < today),
               cutoff_passed=bool(dl.adjust_cutoff and dl.adjust_cutoff < today))
    subject, text, html = templates.render("review", **ctx)
    key = f"review:{campaign.id}:{plan.id}:{chosen}"
    with ledger.transaction():
        ledger.add_review(u.name, "plan", plan.id, chosen, reason or None, via)
        queued = bool(to) and compose.queue(
            ledger, config, purpose="review", dedupe_key=key, to=to, subject=subject, text=text, html=html,
            auto_submitted=compose.AUTO_GENERATED, unit=u.name, campaign=campaign.id)
    if not to:
        note = "名单中没有该单位的邮箱，未发送通知，请电话告知。"
    elif queued:
        note = f"审核结果已排队发送至 {'、'.join(to)}。"
    else:
        note = "同一版本的同一结论此前已通知过，不再重复发送。"
    log.info("review %s: %s v%s %s via %s (mail queued: %s)", u.name, plan.kind, plan.version, chosen, via, queued)
    return ReviewResult(u.name, chosen, plan.id, plan.version, True, queued,
                        f"已记录：{what}“{chosen}”" + (f"（原因：{reason}）" if reason else "") + f"。{note}")


def apply_workbook_decisions(ledger: Ledger, config: Config, campaign: Campaign, roster: Roster,
                             values: Mapping[str, str], today: date, *,
                             reasons: Mapping[str, str] | None = None,
                             templates: compose.Templates | None = None) -> list[ReviewResult]:
    """Turn 审核状态 edits from the workbook into decisions on each unit's current plan version.

    `values`: unit name → what the clerk typed, for the cells that changed (as returned by
    workbook.keep_hand_columns). A value that is already the decision in force on the
    unit's latest version changes nothing, so delivering the same edit twice is harmless;
    blank or unknown text is ignored. `reasons`: unit → the return reason; falls back to
    the unit's hand-kept 备注, then a default sentence. Returns what was recorded, plus a
    result (message None) for each edit that could not take effect (e.g. no plan yet)."""
    results: list[ReviewResult] = []
    hand = None
    for name, raw in values.items():
        u = roster.by_name(name)
        if u is None:
            log.warning("workbook names unknown unit %r; ignored", name)
            continue
        value = unicodedata.normalize("NFKC", "" if raw is None else str(raw)).strip()
        chosen = normalize_decision(value)
        if chosen is None:                       # cleared, or free text: not a decision
            continue
        reason = (reasons or {}).get(name) or (reasons or {}).get(u.name)
        if not reason and chosen == UnitStatus.RETURNED:
            if hand is None:
                hand = ledger.hand_kept()
            reason = hand.get((u.name, "备注")) or DEFAULT_WORKBOOK_REASON
        try:
            result = decide(ledger, config, campaign, roster, u.name, chosen, reason, "跟踪表", today,
                            templates=templates)
        except ReviewError as exc:
            result = ReviewResult(u.name, chosen, None, None, False, False,
                                  f"跟踪表中{u.name}的审核状态“{value}”未生效：{exc}")
        if result.recorded or result.message is None:   # skip "already so": nothing changed
            results.append(result)
    return results


__all__ = ["decide", "apply_workbook_decisions", "ReviewResult", "ReviewError", "normalize_decision",
           "ALIASES", "VIAS"]
