"""The provider's sending limits: which mail goes first, how much may go today and in this
quarter hour, and how long every mail waits after the provider refused for a limit.

NetEase does not publish the limits of a free 163.com mailbox; it enforces them with codes
(send.NETEASE_CODES). We keep under our own figures, counted from the ledger (what the server
accepted, counted in recipients: a digest to three office addresses counts three):

* ``[limits] send_per_day`` per local day (config timezone, 0:00) and ``send_per_15min`` per
  rolling quarter hour. Mail goes in priority order — 回执 and 审核结果, then 查询结果, then
  催报 and any other bulk mail, then 每日汇总 — oldest first within a priority. The last
  ``send_reserve`` of the day are kept for 回执 and 审核结果 (查询结果 may use half of them):
  when the day is nearly spent, low-priority mail waits and replies still go.
* A refusal that names a limit (send.ProviderLimit, or 554 DT:SPM) pauses all sending, kept in
  the ledger's meta so a restart or the next poll does not knock again: RATE 15 min,
  CONNECTIONS 5 min, SPAM 15 min (each doubled while refusals follow one another without a
  mail getting through, at most 2 h); QUOTA until the next local midnight — or 2 h when the
  quota was refused again within 2 h of a midnight resume (the provider's day is not ours).

Only the SMTP sender is limited; the outbox folder (demo, tests, no server) is not.
"""
from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Iterable, Sequence
from zoneinfo import ZoneInfo

from mailbot.config import Config
from mailbot.mailout.send import CONNECTIONS, QUOTA, RATE, SPAM, SendError
from mailbot.store.ledger import Ledger, OutgoingMail

log = logging.getLogger("mailbot.limits")

WINDOW = timedelta(minutes=15)

# purpose → priority (lower goes first); an unknown purpose (a future bulk mail) counts as bulk
PRIORITY = {"ack": 0, "review": 0, "query": 1, "reminder": 2, "announce": 2, "digest": 3}
BULK = 2
LABELS = {"ack": "回执", "review": "审核结果", "query": "查询结果", "reminder": "催报", "announce": "报送通知",
          "digest": "每日汇总"}

PAUSE_MINUTES = {RATE: 15, SPAM: 15, CONNECTIONS: 5}
MAX_PAUSE = timedelta(hours=2)
K_PAUSE = "send.pause"            # JSON Pause: the last pause (still remembered after it ends)
K_BUDGET_NOTE = "send.budget_day"  # the local day whose "budget nearly spent" event was written


def priority(purpose: str) -> int:
    return PRIORITY.get(purpose, BULK)


def label(purpose: str) -> str:
    return LABELS.get(purpose, purpose)


def in_order(rows: Iterable[OutgoingMail]) -> list[OutgoingMail]:
    """Due mail in the order it goes: by priority, then oldest first."""
    return sorted(rows, key=lambda r: (priority(r.purpose), r.id))


def local_day(at: datetime, tz: ZoneInfo) -> date:
    return at.astimezone(tz).date()


def next_midnight(at: datetime, tz: ZoneInfo) -> datetime:
    """The next local 0:00 after AT (the provider's day starts at Beijing midnight)."""
    return datetime.combine(local_day(at, tz) + timedelta(days=1), time(0), tz)


def hhmm(at: datetime, tz: ZoneInfo) -> str:
    local = at.astimezone(tz)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


# --- the day's and the quarter hour's budget ---------------------------------------------

@dataclass
class Budget:
    """What may still go now. ``admit`` answers None (go), "window" (the quarter hour is
    full: stop this batch) or "day" (this priority's share of the day is spent: skip)."""
    per_day: int
    per_15min: int
    reserve: int
    used_today: int
    window: list[tuple[datetime, int]]
    _counted: tuple[int, datetime | None, int] = field(default=(0, None, 0), repr=False, compare=False)

    @classmethod
    def from_ledger(cls, ledger: Ledger, config: Config, now: datetime) -> "Budget":
        tz = config.timezone
        start = datetime.combine(local_day(now, tz), time(0), tz)
        sent = ledger.sent_since(min(start, now - WINDOW))
        return cls(per_day=config.send_per_day, per_15min=config.send_per_15min, reserve=config.send_reserve,
                   used_today=sum(m.recipients for m in sent if m.sent_at >= start),
                   window=[(m.sent_at, m.recipients) for m in sent if m.sent_at > now - WINDOW])

    def ceiling(self, purpose: str) -> int:
        """How far into the day's budget mail of this purpose may go."""
        p = priority(purpose)
        if p == 0:
            return self.per_day
        if p == 1:
            return self.per_day - self.reserve // 2
        return self.per_day - self.reserve

    def in_window(self, now: datetime) -> int:
        cut = now - WINDOW
        counted, at_cut, total = self._counted     # a run asks with one NOW: add only what was spent since
        if at_cut != cut or counted > len(self.window):
            counted, total = 0, 0
        total += sum(n for at, n in self.window[counted:] if at > cut)
        self._counted = (len(self.window), cut, total)
        return total

    def admit(self, purpose: str, recipients: int, now: datetime) -> str | None:
        used = self.in_window(now)
        if used and used + recipients > self.per_15min:     # one big mail still goes into an empty window
            return "window"
        if self.used_today and self.used_today + recipients > self.ceiling(purpose):
            return "day"
        return None

    def spend(self, recipients: int, now: datetime) -> None:
        self.used_today += recipients
        self.window.append((now, recipients))

    def window_frees_at(self, now: datetime) -> datetime:
        live = [at for at, _ in self.window if at > now - WINDOW]
        return (min(live) + WINDOW) if live else now


# --- pauses after a refusal ------------------------------------------------------------

@dataclass(frozen=True)
class Pause:
    until: str           # ISO time: no mail is tried before it
    kind: str            # RATE | QUOTA | CONNECTIONS | SPAM
    code: str            # the provider's code, e.g. "MI:STC"
    text: str            # Chinese, for status, digest, events and the CLI
    streak: int          # refusals in a row without a mail getting through
    since: str           # ISO time the pause began

    @property
    def until_at(self) -> datetime:
        return datetime.fromisoformat(self.until)

    def active(self, now: datetime) -> bool:
        return now < self.until_at


def current_pause(ledger: Ledger) -> Pause | None:
    """The last pause (it may have ended: check ``active``)."""
    raw = ledger.get_meta(K_PAUSE)
    if not raw:
        return None
    try:
        return Pause(**json.loads(raw))
    except (TypeError, ValueError):
        return None


def pause_note(ledger: Ledger, now: datetime) -> str | None:
    """The Chinese sentence to show while sending is paused, else None (status, doctor)."""
    p = current_pause(ledger)
    return p.text if p is not None and p.active(now) else None


def start_pause(ledger: Ledger, config: Config, exc: SendError, now: datetime, *, sent_today: int) -> Pause:
    """Record how long every mail waits after EXC (a refusal naming a limit)."""
    tz = config.timezone
    queue = ledger.queued_outgoing()
    waiting = len(queue)
    digest = "（包括每日汇总）" if any(r.purpose == "digest" for r in queue) else ""
    prev = current_pause(ledger)
    kind = exc.limit or RATE
    again = prev is not None and prev.streak > 0 and prev.kind == kind and now - prev.until_at < MAX_PAUSE
    streak = prev.streak + 1 if again else 1
    code = exc.provider_code or str(exc.code or "")
    where = f"{exc.code or ''} {exc.smtp_text}".strip()
    if kind == QUOTA:
        until = next_midnight(now, tz)
        resumed = prev is not None and prev.kind == QUOTA and now - prev.until_at < MAX_PAUSE
        if resumed:                                    # the provider's day did not start at our midnight
            until = now + MAX_PAUSE
        text = (f"网易邮箱今天的发信数量已用完（{where}）：暂停发信至 {hhmm(until, tz)}，"
                f"待发的 {waiting} 封邮件{digest}保留在队列中，届时自动发出。"
                f"今天本程序已发出 {sent_today} 封（按收件人计）；如经常出现，请把 config.ini [limits] "
                f"send_per_day 调低到此数以下。")
    else:
        minutes = PAUSE_MINUTES.get(kind, 15) * 2 ** (streak - 1)
        until = now + min(timedelta(minutes=minutes), MAX_PAUSE)
        what = {RATE: "短时间内发信过多", CONNECTIONS: "同时连接过多（可能有其他电脑或手机客户端同时在用此邮箱发信）",
                SPAM: "邮件被判定为垃圾邮件"}.get(kind, "发信受限")
        text = (f"网易邮箱提示{what}（{where}）：暂停发信至 {hhmm(until, tz)}，"
                f"待发的 {waiting} 封邮件保留在队列中，届时自动续发。")
    if until.microsecond:                                  # stored to the second: never earlier than meant
        until = until.replace(microsecond=0) + timedelta(seconds=1)
    pause = Pause(until=until.isoformat(timespec="seconds"), kind=kind, code=code, text=text,
                  streak=streak, since=now.isoformat(timespec="seconds"))
    ledger.set_meta(K_PAUSE, json.dumps(asdict(pause), ensure_ascii=False))
    log.warning("smtp provider limit %s (%s): sending paused until %s", code, kind, pause.until)
    return pause


def got_through(ledger: Ledger) -> None:
    """A mail was accepted: the next refusal starts a fresh streak."""
    p = current_pause(ledger)
    if p is not None and p.streak:
        ledger.set_meta(K_PAUSE, json.dumps(asdict(Pause(**{**asdict(p), "streak": 0})), ensure_ascii=False))


def note_budget_once(ledger: Ledger, config: Config, now: datetime, budget: Budget, held: Counter) -> str | None:
    """The Chinese line for a day whose budget held mail back; written as a ledger event once a day."""
    tz = config.timezone
    later = "、".join(f"{label(p)} {n} 封" for p, n in sorted(held.items(), key=lambda kv: priority(kv[0]))
                     if p != "reminder")
    text = (f"今天已发出 {budget.used_today} 封（按收件人计），接近每日上限 {budget.per_day}"
            f"（最后 {budget.reserve} 封留给回执和审核结果）：")
    if later:
        text += f"{later}明天发出"
    if held.get("reminder"):
        text += ("；" if later else "") + f"催报 {held['reminder']} 封今天发不出，过期不再补发（下一次催报照常）"
    text += "。如经常出现，可调高 config.ini [limits] send_per_day（不要超过邮箱服务商的限额）。"
    day = local_day(now, tz).isoformat()
    if ledger.get_meta(K_BUDGET_NOTE) != day:
        ledger.set_meta(K_BUDGET_NOTE, day)
        ledger.event("send", "warning", text)
    return text


# --- `mailbot remind --dry-run`: today's planned volume ----------------------------------

def volume_report(ledger: Ledger, config: Config, now: datetime, planned: Sequence[tuple[str, int]],
                  *, limited: bool = True) -> str:
    """Today's planned mail against the day's budget, in Chinese. PLANNED: (purpose, recipients)
    of mail not yet queued (today's 催报); the queue and what went out today come from the ledger."""
    tz = config.timezone
    budget = Budget.from_ledger(ledger, config, now)
    queued = ledger.queued_outgoing()
    new = Counter(p for p, _ in planned)
    new_rcpt = sum(n for _, n in planned)
    waiting = Counter(r.purpose for r in queued)
    waiting_rcpt = sum(len(r.recipients) for r in queued)
    lines = [f"今日发信量（每日上限 {budget.per_day} 个收件人，其中最后 {budget.reserve} 个留给回执和审核结果；"
             f"每 15 分钟最多 {budget.per_15min} 个）："]
    if planned:
        lines.append("  将排队：" + "、".join(f"{label(p)} {n} 封" for p, n in _by_priority(new))
                     + f"（收件人 {new_rcpt} 个）")
    else:
        lines.append("  将排队：无")
    if queued:
        lines.append("  队列中待发：" + "、".join(f"{label(p)} {n} 封" for p, n in _by_priority(waiting))
                     + f"（收件人 {waiting_rcpt} 个）")
    else:
        lines.append("  队列中待发：无")
    lines.append(f"  今天已发出：{budget.used_today} 个收件人")
    total = budget.used_today + new_rcpt + waiting_rcpt
    lines.append(f"  合计：{total} / {budget.per_day}")
    if not limited:
        lines.append("  （当前发件方式为 outbox 文件夹，不受邮箱服务商的发信限额约束。）")
        return "\n".join(lines)
    bulk = new_rcpt + sum(len(r.recipients) for r in queued if priority(r.purpose) >= BULK)
    high = waiting_rcpt - sum(len(r.recipients) for r in queued if priority(r.purpose) >= BULK)
    room = budget.per_day - budget.reserve - budget.used_today - high     # replies go first and count too
    if bulk > max(0, room):
        lines.append(f"  注意：超出 {bulk - max(0, room)} 个收件人，催报和每日汇总今天发不完："
                     "每日汇总明天发出，当天发不出的催报过期作废（下一次催报照常）。"
                     "如确需多发，请调高 [limits] send_per_day。")
    batches = -(-(new_rcpt + waiting_rcpt) // budget.per_15min) if (new_rcpt + waiting_rcpt) else 0
    if batches > 1:
        lines.append(f"  按每 15 分钟 {budget.per_15min} 个分 {batches} 批发出，约需 {(batches - 1) * 15} 分钟以上；"
                     "回执和审核结果优先。")
    pause = pause_note(ledger, now)
    if pause:
        lines.append(f"  发信暂停中：{pause}")
    return "\n".join(lines)


def _by_priority(c: Counter) -> list[tuple[str, int]]:
    return sorted(c.items(), key=lambda kv: (priority(kv[0]), kv[0]))


__all__ = ["PRIORITY", "Budget", "Pause", "priority", "label", "in_order", "next_midnight", "current_pause",
           "pause_note", "start_pause", "got_through", "note_budget_once", "volume_report"]
