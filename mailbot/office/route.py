"""Which collection (campaign) a mail belongs to, when one mailbox runs several.

Asked in this order; the first that names exactly one campaign decides, and says why:

1. threading — the mail answers one of our own mails (启动通知, 回执, 催报, 审核结果): its
   In-Reply-To / References name a Message-ID the ledger recorded for a campaign;
2. words — the campaign's `[campaign] keywords` (e.g. 开放日; 年度报告) in the subject and file
   names count 3, in the mail text or the documents' first lines 1; its kinds' keywords (实施方案,
   年度报告…) 1 each. The highest score wins when it is alone;
3. dates — of the campaigns still tied (or of all, when no word matched), the one collecting on
   the day the mail arrived (`accept_from`…`accept_until`; without them, two months either side
   of its dates; a recurring return without an end collects from its start on).

With one campaign configured, nothing is asked. A mail that fits none or several is held as
待分拣 with the candidates in its reason; `mailbot assign ID CAMPAIGN` files it. Steps 2–3 need
no ledger (`by_content`, run in the read-ahead worker); step 1 does (`route`, in the poll).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Iterable, Sequence

from mailbot.campaign import Campaign

SUBJECT_WEIGHT = 3
GRACE = timedelta(days=60)


@dataclass(frozen=True)
class Route:
    campaign: str | None                 # the campaign id, or None: 待分拣
    reason: str                          # Chinese: how it was decided (inspect, the ledger's reason)
    candidates: tuple[str, ...] = ()     # ids still possible when undecided
    scores: dict[str, int] = field(default_factory=dict)


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or ""))


def _dates(c: Campaign) -> list[date]:
    days = [d for d in (c.window_start, c.window_end, c.accept_from, c.accept_until) if d]
    for k in c.kinds.values():
        days += [d for d in (k.due, *(d for _u, d in k.due_by_unit)) if d]
        if k.every is not None:
            days.append(k.every.first)
    return days


def collecting(c: Campaign, day: date) -> bool:
    """Is C collecting on DAY? From accept_from (else two months before its first date) to
    accept_until (else two months after its last; a recurring return without an end: always)."""
    days = _dates(c)
    if not days:
        return True
    start = c.accept_from or (min(days) - GRACE)
    open_ended = any(k.every is not None and k.every.last is None for k in c.kinds.values())
    end = c.accept_until or (None if open_ended else max(days) + GRACE)
    return start <= day and (end is None or day <= end)


def keywords(c: Campaign) -> tuple[str, ...]:
    """`[campaign] keywords`: the words that name this collection (开放日; 年度报告…)."""
    words = (c.raw.get("campaign") or {}).get("keywords") or ()
    return tuple(w.strip() for w in words if isinstance(w, str) and w.strip())


def score(c: Campaign, heading: str, text: str) -> int:
    """How strongly HEADING (subject + file names) and TEXT (mail text, documents' first lines)
    speak of campaign C."""
    h, t = _norm(heading), _norm(text)
    total = 0
    for w in keywords(c):
        w = _norm(w)
        if w:
            total += SUBJECT_WEIGHT * (w in h) + (w in t)
    for k in c.kinds.values():
        total += any(_norm(w) in h for w in k.keywords if _norm(w))
    return total


def by_content(campaigns: Sequence[Campaign], *, subject: str, file_names: Iterable[str], text: str,
               received: date) -> Route:
    """Steps 2–3 (module docstring): words, then dates."""
    if len(campaigns) == 1:
        return Route(campaigns[0].id, "")
    heading = " ".join([subject or "", *(n or "" for n in file_names)])
    scores = {c.id: score(c, heading, text) for c in campaigns}
    best = max(scores.values())
    tied = [c for c in campaigns if scores[c.id] == best]
    if best > 0 and len(tied) == 1:
        return Route(tied[0].id, f"主题、文件名或内容中的词语指向“{tied[0].title}”", scores=scores)
    open_ = [c for c in tied if collecting(c, received)]
    if len(open_) == 1:
        why = "词语同样指向几项收集，" if best > 0 else "主题和内容中没有指明哪项收集，"
        return Route(open_[0].id, f"{why}按收到日期归入正在收集的“{open_[0].title}”", scores=scores)
    names = open_ or tied
    return Route(None, "无法判断属于哪项收集（" + "、".join(f"“{c.title}”" for c in names) + "都有可能）",
                 tuple(c.id for c in names), scores)


def by_thread(campaigns: Sequence[Campaign], answered: set[str]) -> Route | None:
    """Step 1: the campaigns our mails that this one answers belong to (Ledger.campaigns_answered)."""
    known = [c for c in campaigns if c.id in answered]
    if len(known) == 1:
        return Route(known[0].id, f"回复本办就“{known[0].title}”发出的邮件")
    return None
