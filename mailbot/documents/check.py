"""The campaign's [[checks]] as a small rule engine: document text + facts → findings → outcome.

Each check in the rules file is one small named rule citing its clause of the notice
(see rules/open-day-2022.toml for the format). A check has a `type` from a short list:

  require_all        every item must appear (a synonym in the text, or its facts found)
  require_any        at least one item must appear
  forbid             none of the words may appear (negated mentions — 不含/不邀请/不得冠以 — are fine)
  min_number         a numeric fact must be at least `min`
  date_window        activity dates inside the campaign window (提醒 after preferred_end)
  fixed_date         the unit's date fixed by the notice ([[activity.fixed]])
  lead_time          received → activity at least `days` (the announcement's notice period)
  adjustment_cutoff  an adjustment reported at least `days` before the activity
  due_date           received no later than the kind's due date (or activity + N days)
  seal               a scanned document carries a red official seal (公章) on its pages
  headings           every item is a heading: a line (or a numbering such as 一、 1. （一）) starts
                     with its title, so an introduction listing the sections does not count
  table              a statistics table is there: at least `min_found` of its row/column labels

Checks are validated and compiled once per campaign; a malformed one raises CampaignError
naming the check id and key. Decisions: no 错误 → 待审核; any 错误 → 需修改; unreadable → 需人工审核.

A kind with `empty_return_words` (a recurring return) accepts a short text saying there is
nothing to report (本月无内容报送) as the period's return: no rule runs, the outcome is 待审核 and
one 提醒 finding `empty-return` says so (progress.py shows 已提交（无内容）).
"""
from __future__ import annotations

import bisect
import re
import string
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Callable, Iterable

from mailbot.mailin.identify import kind_from_words
from mailbot.campaign import EMPTY_RETURN_RULE, Campaign, CampaignError, Roster
from mailbot.cndate import cn_date
from mailbot.documents.facts import FACT_NAMES, Facts, NormText, extract_facts
from mailbot.documents import template
from mailbot.table import render_table, width
from mailbot.vocab import Outcome, Severity


_NUMERIC_FACTS = ("participants", "actual_participants", "suggestions_count")

# Words that, before a forbidden word in the same clause, say it is NOT done (不含“两代表一委员”,
# 不邀请人大代表, 不得冠以“校园开放日”), and after it (人大代表除外). Language, not office rules;
# a check may replace them with `negations` / `negations_after`.
DEFAULT_NEGATIONS = ("不含", "不包含", "不包括", "不邀请", "不请", "不得", "不与", "不能", "不要", "不予",
                     "不应", "不宜", "不再", "不属于", "不在", "不参加", "不参与", "不安排", "不使用",
                     "不冠以", "不以", "不用", "不称", "不涉及", "不组织", "不作为", "不列入", "禁止",
                     "严禁", "避免", "排除", "杜绝", "勿", "未", "没有", "除", "并非", "而非", "不是")
DEFAULT_NEGATIONS_AFTER = ("除外", "不在", "不得", "不予", "不参加", "不参与", "不邀请", "不列入",
                           "以外", "不包括在内", "不含在内", "不在邀请")
_CLAUSE_BOUND = re.compile(r"[,;。!?\n\t]")


@dataclass(frozen=True)
class Finding:
    rule: str                     # the check id
    severity: str                 # 错误 | 提醒
    item: str                     # Chinese name of what is missing or wrong (温馨提示)
    message: str                  # what the department should do, in Chinese
    clause: str                   # clause of the notice, e.g. 二(五)
    span: tuple[int, int] | None = None   # where in the document text, when there is a place

    def as_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "severity": self.severity, "item": self.item,
                "message": self.message, "clause": self.clause}


@dataclass(frozen=True)
class CheckResult:
    kind: str
    outcome: str                  # 待审核 | 需修改 | 需人工审核
    facts: Facts
    findings: tuple[Finding, ...]

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == Severity.ERROR)


@dataclass(frozen=True)
class _Doc:
    """What a rule sees: the text (NFKC, spaces dropped) and the facts, plus who and when."""
    text: NormText
    facts: Facts
    campaign: Campaign
    roster: Roster
    kind: str
    unit: str | None
    received: date | None
    source: str = "text"                  # "ocr": the text was read from page images (a scan)
    pages: int = 0                        # pages of the document, when known
    seal_pages: tuple[int, ...] = ()      # 1-based pages on which documents/seal.py saw a red seal
    subject: str = ""                     # the mail's subject, when the document came by mail
    scanned_pages: tuple[int, ...] = ()   # the pages read from images (a PDF may mix); empty: all


def _compact(s: str) -> str:
    return NormText(s, drop_spaces=True).text


# --- compiling [[checks]] ----------------------------------------------------------------

class _Spec:
    """Reads one [[checks]] table, raising CampaignError naming the check and the key."""

    def __init__(self, raw: Any, index: int, campaign: Campaign):
        self.campaign = campaign
        if not isinstance(raw, dict):
            raise self.error_at(f"第 {index + 1} 个 [[checks]]", "", "应为一个表（[[checks]] 下的若干 键 = 值）")
        self.raw = raw
        cid = raw.get("id")
        self.id = cid if isinstance(cid, str) and cid.strip() else f"第 {index + 1} 个"
        if not (isinstance(cid, str) and cid.strip()):
            raise self.error("id", "缺少或为空，请给每个检查起一个唯一的名字（如 announce-items）")

    def error_at(self, who: str, key: str, what: str) -> CampaignError:
        k = f"的 {key} " if key else ""
        return CampaignError(f"规则文件 {self.campaign.source} 中检查“{who}”{k}{what}。")

    def error(self, key: str, what: str) -> CampaignError:
        return self.error_at(self.id, key, what)

    def text(self, key: str, *, required: bool = True, default: str = "") -> str:
        v = self.raw.get(key, None)
        if v is None:
            if required:
                raise self.error(key, "缺失")
            return default
        if not isinstance(v, str) or (required and not v.strip()):
            raise self.error(key, f"应为非空文字，现为“{v}”")
        return v

    def number(self, key: str, *, required: bool = True, default: int | None = None) -> int | None:
        v = self.raw.get(key, None)
        if v is None:
            if required and default is None:
                raise self.error(key, "缺失（应为整数）")
            return default
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise self.error(key, f"应为不小于 0 的整数，现为“{v}”")
        return v

    def flag(self, key: str, default: bool) -> bool:
        v = self.raw.get(key, default)
        if not isinstance(v, bool):
            raise self.error(key, f"应为 true 或 false，现为“{v}”")
        return v

    def words(self, key: str, *, required: bool = False, raw: Any = None, where: str | None = None) -> tuple[str, ...]:
        v = self.raw.get(key) if raw is None else raw
        if v is None:
            if required:
                raise self.error(where or key, "缺失（应为文字列表，如 [\"温馨提示\", \"注意事项\"]）")
            return ()
        if not isinstance(v, list) or not all(isinstance(w, str) and w.strip() for w in v):
            raise self.error(where or key, f"应为非空文字的列表，现为“{v}”")
        if required and not v:
            raise self.error(where or key, "不能为空列表")
        return tuple(_compact(w) for w in v)

    def severity(self, key: str = "severity", default: str | None = None) -> str:
        v = self.raw.get(key, default)
        if v not in tuple(Severity):
            raise self.error(key, f"应为{'或'.join(f'“{s}”' for s in Severity)}，现为“{v}”")
        return Severity(v)

    def kinds(self) -> tuple[str, ...]:
        v = self.raw.get("kinds")
        if not isinstance(v, list) or not v or not all(isinstance(k, str) for k in v):
            raise self.error("kinds", f"应为材料类型列表，如 [\"plan\"]（可选：{'、'.join(self.campaign.kinds)}）")
        for k in v:
            if k not in self.campaign.kinds:
                raise self.error("kinds", f"中的“{k}”不是 [kinds] 中定义的类型（可选：{'、'.join(self.campaign.kinds)}）")
        return tuple(v)

    def message(self, key: str, allowed: Iterable[str], *, required: bool = True,
                default: str | None = None) -> str:
        v = self.raw.get(key, default)
        if v is None:
            if required:
                raise self.error(key, "缺失（应为告诉部门如何修改的一句话）")
            return ""
        if not isinstance(v, str) or not v.strip():
            raise self.error(key, f"应为非空文字，现为“{v}”")
        allowed = set(allowed)
        try:
            parts = list(string.Formatter().parse(v))
        except ValueError as exc:
            raise self.error(key, f"中的花括号不成对（{exc}）；要写花括号本身请用 {{{{ 和 }}}}") from None
        for _, name, spec, conv in parts:
            if name is None:
                continue
            if name not in allowed or spec or conv:
                raise self.error(key, f"中的占位符“{{{name}}}”不可用（可用：{'、'.join('{' + a + '}' for a in sorted(allowed))}）")
        return v

    def fact(self, key: str, choices: Iterable[str], default: str | None = None) -> str:
        v = self.raw.get(key, default)
        choices = tuple(choices)
        if v not in choices:
            raise self.error(key, f"应为 {'、'.join(choices)} 之一，现为“{v}”")
        return v

    def known(self, keys: Iterable[str]) -> None:
        extra = sorted(set(self.raw) - set(keys))
        if extra:
            raise self.error(extra[0], f"不是 {self.raw.get('type')} 类检查可用的键（可用：{'、'.join(sorted(keys))}）")


_COMMON_KEYS = ("id", "type", "kinds", "severity", "item", "message", "clause", "description")
_COMMON_PLACEHOLDERS = ("item", "kind", "unit", "clause")


class Rule:
    """One compiled check. Subclasses read their keys in __init__ and find in run()."""
    type = ""
    keys: tuple[str, ...] = ()
    placeholders: tuple[str, ...] = ()
    item_required = True

    def __init__(self, spec: _Spec):
        spec.known(_COMMON_KEYS + self.keys)
        self.id = spec.id
        self.kinds = spec.kinds()
        self.severity = spec.severity()
        self.clause = spec.text("clause")
        self.item = spec.text("item", required=self.item_required)
        self.message = spec.message("message", _COMMON_PLACEHOLDERS + self.placeholders)
        self.campaign = spec.campaign

    def finding(self, doc: _Doc, *, item: str | None = None, severity: str | None = None,
                message: str | None = None, span: tuple[int, int] | None = None, **values: Any) -> Finding:
        item = item or self.item
        kind = doc.campaign.kinds[doc.kind].label if doc.kind in doc.campaign.kinds else doc.kind
        fmt = {"item": item, "kind": kind, "unit": doc.unit or "本单位", "clause": self.clause}
        fmt.update({k: (cn_date(v) if isinstance(v, date) else v) for k, v in values.items()})
        text = (message or self.message).format_map(fmt)
        return Finding(self.id, severity or self.severity, item, text, self.clause, span)

    def run(self, doc: _Doc) -> list[Finding]:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True)
class _Item:
    name: str
    words: tuple[str, ...]
    facts: tuple[tuple[str, ...], ...]     # all groups must hold; a group holds if any fact in it is found

    def present(self, doc: _Doc) -> bool:
        if self.facts and all(any(doc.facts.has(f) for f in group) for group in self.facts):
            return True
        return any(w in doc.text.text for w in self.words)


def _items(spec: _Spec, *, names_required: bool) -> tuple[_Item, ...]:
    raw = spec.raw.get("items")
    if not isinstance(raw, list) or not raw:
        raise spec.error("items", "缺失或为空（应为若干 [[checks.items]]，每项有 item 和 any 或 facts）")
    out = []
    for n, it in enumerate(raw, start=1):
        where = f"items 第 {n} 项"
        if not isinstance(it, dict):
            raise spec.error(where, "应为一个表（item = …, any = [...], facts = [...]）")
        extra = sorted(set(it) - {"item", "any", "facts"})
        if extra:
            raise spec.error(f"{where}的 {extra[0]}", "不是可用的键（可用：item、any、facts）")
        name = it.get("item")
        if name is None and names_required or name is not None and not (isinstance(name, str) and name.strip()):
            raise spec.error(f"{where}的 item", "应为非空文字（所缺事项的中文名称）")
        words = spec.words("any", raw=it.get("any", []), where=f"{where}的 any")
        groups = []
        facts = it.get("facts", [])
        if not isinstance(facts, list) or not all(isinstance(f, str) for f in facts):
            raise spec.error(f"{where}的 facts", f"应为事实名称的列表，现为“{facts}”")
        for f in facts:
            group = tuple(p.strip() for p in f.split("|"))
            for p in group:
                if p not in FACT_NAMES:
                    raise spec.error(f"{where}的 facts", f"中的“{p}”不是可用的事实（可用：{'、'.join(FACT_NAMES)}）")
            groups.append(group)
        if not words and not groups:
            raise spec.error(where, "需要 any（同义词）或 facts（事实）至少一个")
        out.append(_Item(name or (it.get("any") or [""])[0], words, tuple(groups)))
    return tuple(out)


class RequireAll(Rule):
    type = "require_all"
    keys = ("items",)
    placeholders = ("synonyms",)
    item_required = False

    def __init__(self, spec: _Spec):
        super().__init__(spec)
        self.items = _items(spec, names_required=True)

    def run(self, doc: _Doc) -> list[Finding]:
        out = []
        for it in self.items:
            if not it.present(doc):
                out.append(self.finding(doc, item=it.name, synonyms="、".join(it.words[:4]) or it.name))
        return out


class RequireAny(Rule):
    type = "require_any"
    keys = ("items",)
    placeholders = ("synonyms",)

    def __init__(self, spec: _Spec):
        super().__init__(spec)
        self.items = _items(spec, names_required=False)

    def run(self, doc: _Doc) -> list[Finding]:
        if any(it.present(doc) for it in self.items):
            return []
        return [self.finding(doc, synonyms="、".join(it.name for it in self.items))]


class Forbid(Rule):
    type = "forbid"
    keys = ("words", "ignore", "ignore_after", "negation", "negations", "negations_after")
    placeholders = ("words", "word")

    def __init__(self, spec: _Spec):
        super().__init__(spec)
        self.words = spec.words("words", required=True)
        self.ignore = spec.words("ignore")
        self.ignore_after = spec.words("ignore_after")
        self.negation = spec.flag("negation", True)
        self.neg_before = spec.words("negations") or DEFAULT_NEGATIONS
        self.neg_after = spec.words("negations_after") or DEFAULT_NEGATIONS_AFTER

    def negated(self, t: str, start: int, end: int) -> bool:
        s = start
        lo = max(0, start - 120)
        while s > lo and not _CLAUSE_BOUND.match(t[s - 1]):
            s -= 1
        e = end
        hi = min(len(t), end + 120)
        while e < hi and not _CLAUSE_BOUND.match(t[e]):
            e += 1
        before, after = t[s:start], t[end:e]
        if any(w in after[:8] for w in self.ignore_after):
            return True
        if not self.negation:
            return False
        for w in self.neg_before:
            k = before.rfind(w)
            if k == -1:
                continue
            # 除群众代表外还邀请人大代表: the 除…外 closed before the word, so the word is invited
            if w == "除" and re.search(r"除[^外]*(?:以外|之外|外)", before[k:]):
                continue
            return True
        return any(w in after for w in self.neg_after)

    def run(self, doc: _Doc) -> list[Finding]:
        t = doc.text.text
        masked = t
        for ig in self.ignore:
            masked = masked.replace(ig, "\0" * len(ig))
        hits: list[tuple[str, int, int]] = []
        for w in self.words:
            pos, seen = masked.find(w), 0
            while pos != -1 and seen < 500:          # bounded on hostile input
                seen += 1
                if not self.negated(t, pos, pos + len(w)):
                    hits.append((w, pos, pos + len(w)))
                    break
                pos = masked.find(w, pos + 1)
        if not hits:
            return []
        hits.sort(key=lambda h: h[1])
        words = "、".join(f"“{w}”" for w, _, _ in hits)
        w, s, e = hits[0]
        return [self.finding(doc, span=doc.text.span(s, e), words=words, word=w)]


class MinNumber(Rule):
    type = "min_number"
    keys = ("fact", "min")
    placeholders = ("value", "min")

    def __init__(self, spec: _Spec):
        super().__init__(spec)
        self.fact = spec.fact("fact", _NUMERIC_FACTS)
        self.min = spec.number("min")

    def run(self, doc: _Doc) -> list[Finding]:
        # a range (25至30名) is checked at its low end and named whole: 参加人数为 20至40 人
        f = doc.facts.get(self.fact)
        if f is None or not isinstance(f.value, int) or f.value >= self.min:
            return []
        r = doc.facts.participants_range
        value = f"{r.value[0]}至{r.value[1]}" if r is not None and r.span == f.span else f.value
        return [self.finding(doc, span=f.span, value=value, min=self.min)]


class DateWindow(Rule):
    type = "date_window"
    keys = ("fact", "preferred_severity", "preferred_message")
    placeholders = ("date", "window_start", "window_end", "preferred_end")

    def __init__(self, spec: _Spec):
        super().__init__(spec)
        self.fact = spec.fact("fact", ("activity_dates", "held_dates"), default="activity_dates")
        self.preferred_severity = spec.severity("preferred_severity", default=Severity.HINT)
        self.preferred_message = spec.message("preferred_message", _COMMON_PLACEHOLDERS + self.placeholders,
                                              required=False)

    def run(self, doc: _Doc) -> list[Finding]:
        c = doc.campaign
        window = dict(window_start=c.window_start, window_end=c.window_end, preferred_end=c.preferred_end)
        facts = doc.facts.get(self.fact)
        spans = {f.value: f.span for f in facts}
        checks: list[tuple[date, date, tuple[int, int] | None]] = [(d, d, spans[d]) for d in sorted(spans)]
        if not checks and doc.facts.activity_month is not None:
            m = doc.facts.activity_month
            y, mo = int(m.value[:4]), int(m.value[5:7])
            first = date(y, mo, 1)
            last = (date(y + mo // 12, mo % 12 + 1, 1) - timedelta(days=1))
            checks.append((first, last, m.span))
        for first, last, span in checks:
            if last < c.window_start or first > c.window_end:
                return [self.finding(doc, span=span, date=first, **window)]
        if self.preferred_message:
            for first, last, span in checks:
                if first > c.preferred_end:
                    return [self.finding(doc, span=span, severity=self.preferred_severity,
                                         message=self.preferred_message, date=first, **window)]
        return []


class FixedDate(Rule):
    type = "fixed_date"
    keys = ()
    placeholders = ("date", "fixed")

    def run(self, doc: _Doc) -> list[Finding]:
        if not doc.unit:
            return []
        fixed = doc.campaign.fixed_date_for(doc.roster, doc.unit)
        dates = doc.facts.activity_dates
        if fixed is None or not dates or any(f.value == fixed for f in dates):
            return []
        first = min(dates, key=lambda f: f.value)
        return [self.finding(doc, span=first.span, date=first.value, fixed=fixed)]


class LeadTime(Rule):
    type = "lead_time"
    keys = ("days",)
    placeholders = ("date", "days", "received", "actual", "latest")

    def __init__(self, spec: _Spec):
        super().__init__(spec)
        self.days = spec.number("days", required=False, default=spec.campaign.announce_days_before)

    def run(self, doc: _Doc) -> list[Finding]:
        dates = doc.facts.activity_dates
        if doc.received is None or not dates:
            return []
        first = min(dates, key=lambda f: f.value)
        actual = (first.value - doc.received).days
        if actual >= self.days:
            return []
        return [self.finding(doc, span=first.span, date=first.value, days=self.days, received=doc.received,
                             actual=actual, latest=first.value - timedelta(days=self.days))]


class AdjustmentCutoff(Rule):
    type = "adjustment_cutoff"
    keys = ("days",)
    placeholders = ("date", "days", "received", "actual")

    def __init__(self, spec: _Spec):
        super().__init__(spec)
        default = None
        for k in self.kinds:
            default = default or spec.campaign.kinds[k].days_before_activity
        self.days = spec.number("days", required=default is None, default=default)

    def run(self, doc: _Doc) -> list[Finding]:
        facts = list(doc.facts.original_dates) + list(doc.facts.activity_dates)
        if doc.received is None or not facts:
            return []
        first = min(facts, key=lambda f: f.value)
        actual = (first.value - doc.received).days
        if actual >= self.days:
            return []
        return [self.finding(doc, span=first.span, date=first.value, days=self.days, received=doc.received,
                             actual=actual)]


class DueDate(Rule):
    type = "due_date"
    keys = ("after_activity",)
    placeholders = ("due", "received", "days_late")

    def __init__(self, spec: _Spec):
        super().__init__(spec)
        after = spec.raw.get("after_activity")
        if after is not None:
            if after not in spec.campaign.kinds or spec.campaign.kinds[after].days_after_activity is None:
                with_days = [k for k, v in spec.campaign.kinds.items() if v.days_after_activity is not None]
                raise spec.error("after_activity", f"应为设有 days_after_activity 的材料类型（可选：{'、'.join(with_days) or '无'}），现为“{after}”")
        self.after = after

    def due(self, doc: _Doc) -> date | None:
        due = None
        if doc.kind in doc.campaign.kinds:
            c = doc.campaign
            if c.kinds[doc.kind].every is not None:
                period = c.period_of(doc.kind, doc.received, doc.subject) if doc.received else None
                due = period.due if period else None
            else:
                dues = c.due_for(doc.kind, doc.unit, roster=doc.roster)
                due = dues[0].due if dues else None
        if self.after:
            dates = doc.facts.dates("held_dates") or doc.facts.dates("activity_dates")
            if dates:
                later = max(dates) + timedelta(days=doc.campaign.kinds[self.after].days_after_activity or 0)
                due = later if due is None else max(due, later)
        return due

    def run(self, doc: _Doc) -> list[Finding]:
        due = self.due(doc)
        if doc.received is None or due is None or doc.received <= due:
            return []
        return [self.finding(doc, due=due, received=doc.received, days_late=(doc.received - due).days)]


def _page_list(pages: Iterable[int]) -> str:
    """第1–2、4页: pages in runs, the way a clerk writes them."""
    runs: list[list[int]] = []
    for p in sorted(set(pages)):
        if runs and p == runs[-1][1] + 1:
            runs[-1][1] = p
        else:
            runs.append([p, p])
    if not runs:
        return ""
    return "第" + "、".join(f"{a}" if a == b else f"{a}–{b}" for a, b in runs) + "页"


class Seal(Rule):
    """A red official seal (公章) on a scanned document: `pages` says where — "any" page (the
    default), the "last" page, or "every" page. Only a document read from page images (a scan,
    source "ocr") can show one; an electronic document (.docx, a PDF with its own text) cannot,
    so it passes — or gets `electronic_message` as a 提醒 when the campaign writes one."""
    type = "seal"
    keys = ("pages", "electronic_message")
    placeholders = ("missing", "pages")

    def __init__(self, spec: _Spec):
        super().__init__(spec)
        self.where = spec.fact("pages", ("any", "last", "every"), default="any")
        self.electronic_message = spec.message("electronic_message", _COMMON_PLACEHOLDERS,
                                               required=False)

    def run(self, doc: _Doc) -> list[Finding]:
        seals = set(doc.seal_pages)
        if doc.source != "ocr":
            if seals or not self.electronic_message:
                return []
            return [self.finding(doc, severity=Severity.HINT, message=self.electronic_message)]
        n = doc.pages
        # only scanned pages can show a seal: a page with its own text layer is judged like a .docx
        scanned = [p for p in range(1, n + 1) if not doc.scanned_pages or p in doc.scanned_pages]
        if self.where == "any":
            missing = [] if seals else scanned
            lacking = not seals
        elif self.where == "last":
            missing = [n] if n and n in scanned and n not in seals else []
            lacking = bool(missing) or (not n and not seals)
        else:
            missing = [p for p in scanned if p not in seals]
            lacking = bool(missing) or (not n and not seals)
        if not lacking:
            return []
        return [self.finding(doc, missing=_page_list(missing), pages=n or "")]


# a heading's numbering, on NFKC text without spaces: 一、 十二. 1、 2) (一) 第一部分 第三章
# (at a line's start or after a sentence: 统一、规范 is no numbering)
_NUMBERING = re.compile(r"(?:^|(?<=[。;!?:\t]))(?:第[一二三四五六七八九十]{1,3}(?:部分|章|节)|"
                        r"[一二三四五六七八九十]{1,3}(?=[、.:,])|\d{1,2}(?=[、.:,)])|"
                        r"\([一二三四五六七八九十\d]{1,3}\))[、.:,)]?", re.M)
_HEADING_PREFIX = 16        # characters allowed between a numbering and the title (四、因政府信息公开工作被申请行政复议…)


class Headings(Rule):
    """Each item is a section heading of the document: a line starts with one of its titles
    (`any`), or a numbering (一、 1. （一） 第一部分) is followed within a few characters by one.
    Spaces and full/half-width punctuation do not matter. A sentence that lists the sections
    (全文包括总体情况、主动公开政府信息情况……) is not a heading, so the finding names each
    section the document lacks."""
    type = "headings"
    keys = ("items",)
    placeholders = ("synonyms",)
    item_required = False

    def __init__(self, spec: _Spec):
        super().__init__(spec)
        self.items = _items(spec, names_required=True)
        for n, it in enumerate(self.items, start=1):
            if it.facts or not it.words:
                raise spec.error(f"items 第 {n} 项", "只用 any（标题的写法），不用 facts")

    def run(self, doc: _Doc) -> list[Finding]:
        t = doc.text.text
        numbered = [m.end() for m in _NUMBERING.finditer(t)]          # ascending
        out = []
        for it in self.items:
            if not any(_heading_at(t, i, numbered) for w in it.words for i in _occurrences(t, w)):
                out.append(self.finding(doc, item=it.name, synonyms="、".join(it.words[:3])))
        return out


def _occurrences(text: str, word: str, cap: int = 5000):
    """Where WORD occurs in TEXT (the first CAP times: a heading is never the 5001st mention)."""
    i = text.find(word)
    while i != -1 and cap:
        yield i
        cap -= 1
        i = text.find(word, i + 1)


def _heading_at(t: str, i: int, numbered: list[int]) -> bool:
    """The text at I begins a heading: at most _HEADING_PREFIX characters after a numbering on the
    same line, at its line's start (after tabs), or after a bare Chinese numeral (一　总体情况, the
    space dropped) opening a line of at most 40 characters. Looks at most 40 characters around I."""
    k = bisect.bisect_right(numbered, i)
    if k and i - numbered[k - 1] <= _HEADING_PREFIX and "\n" not in t[numbered[k - 1]:i]:
        return True
    lo = max(0, i - 40)
    nl = t.rfind("\n", lo, i)
    if nl == -1 and lo > 0:
        return False                                  # the line began further back: a sentence
    before = t[nl + 1:i]
    if not before.strip("\t"):
        return True
    bare = re.match(r"\t*[一二三四五六七八九十]{1,2}", before)
    short = t.find("\n", i, nl + 42) != -1 or len(t) <= nl + 42
    return bool(bare) and len(before) - bare.end() <= _HEADING_PREFIX and short


class Table(Rule):
    """A statistics table is in the document: at least `min_found` of its `labels` (row and column
    headings such as 规章, 行政规范性文件, 本年制发件数) appear. A label may list alternatives as
    "a|b". Counting labels, not table cells, holds for a .docx table, a PDF's text layer and a
    scan's OCR alike; labels specific to the table keep a paragraph that merely mentions one or
    two from passing."""
    type = "table"
    keys = ("labels", "min_found")
    placeholders = ("found", "min", "missing")

    def __init__(self, spec: _Spec):
        super().__init__(spec)
        raw = spec.raw.get("labels")
        spec.words("labels", required=True)                  # a list of non-empty words, or a Chinese error
        self.labels = tuple((w, tuple(_compact(a) for a in w.split("|") if a.strip())) for w in raw)
        self.min = spec.number("min_found", required=False, default=len(self.labels))
        if not 1 <= self.min <= len(self.labels):
            raise spec.error("min_found", f"应在 1 到 labels 的项数 {len(self.labels)} 之间，现为“{self.min}”")

    def run(self, doc: _Doc) -> list[Finding]:
        t = re.sub(r"[\n\t]", "", doc.text.text)      # a label wrapped in its cell is still the label
        missing = [w.split("|")[0] for w, alts in self.labels if not any(a in t for a in alts)]
        found = len(self.labels) - len(missing)
        if found >= self.min:
            return []
        return [self.finding(doc, found=found, min=self.min, missing="、".join(missing[:6]) +
                             ("等" if len(missing) > 6 else ""))]


RULE_TYPES: dict[str, type[Rule]] = {r.type: r for r in (
    RequireAll, RequireAny, Forbid, MinNumber, DateWindow, FixedDate, LeadTime, AdjustmentCutoff, DueDate,
    Seal, Headings, Table)}

_COMPILED: dict[int, tuple[Campaign, tuple[Rule, ...]]] = {}


def compile_checks(campaign: Campaign) -> tuple[Rule, ...]:
    """The campaign's [[checks]] compiled (once per campaign object); CampaignError if malformed."""
    hit = _COMPILED.get(id(campaign))
    if hit is not None and hit[0] is campaign:
        return hit[1]
    rules: list[Rule] = []
    seen: set[str] = set()
    for n, raw in enumerate(campaign.checks):
        spec = _Spec(raw, n, campaign)
        if spec.id in seen:
            raise spec.error("id", "重复，每个检查的 id 须唯一")
        seen.add(spec.id)
        t = raw.get("type")
        if t not in RULE_TYPES:
            raise spec.error("type", f"“{t}”不是可用的类型（可用：{'、'.join(RULE_TYPES)}）")
        rules.append(RULE_TYPES[t](spec))
    if len(_COMPILED) > 16:
        _COMPILED.clear()
    compiled = tuple(rules)
    _COMPILED[id(campaign)] = (campaign, compiled)
    return compiled


# --- checking ----------------------------------------------------------------------------

def _outcome(findings: Iterable[Finding]) -> str:
    return Outcome.FIX if any(f.severity == Severity.ERROR for f in findings) else Outcome.OK


#: an empty return is a short note: more Chinese characters than this is a real return that
#: happens to say 本月无… somewhere
EMPTY_RETURN_MAX_CHARS = 120


def empty_return_word(text: str, subject: str, campaign: Campaign, kind: str) -> str | None:
    """The empty_return_words entry that makes this document a 无内容 return (a short text, or
    an empty one under a subject, saying there is nothing to report), else None."""
    words = campaign.kinds[kind].empty_return_words
    if not words or len(re.findall(r"[\u4e00-\u9fff]", text or "")) > EMPTY_RETURN_MAX_CHARS:
        return None
    where = _compact(text) + "\n" + _compact(subject)
    return next((w for w in words if _compact(w) in where), None)


def check_text(text: str, *, campaign: Campaign, roster: Roster | None, kind: str, unit: str | None,
               received: date | None, source: str = "text", pages: int = 0,
               seal_pages: Iterable[int] = (), subject: str = "", scanned_pages: Iterable[int] = ()) -> CheckResult:
    """Facts and findings of one document's text, for a kind of submission. `source` "ocr" says
    the text was read from page images; `pages` and `seal_pages` (1-based, where a red seal was
    seen) are what the `seal` rule checks; `subject` (the mail's) may say 无内容报送 and names
    a recurring return's period."""
    if kind not in campaign.kinds:
        raise ValueError(f"未知的材料类型“{kind}”（可选：{'、'.join(campaign.kinds)}）。")
    rules = compile_checks(campaign)
    text = template.answers_only(text, campaign)     # a 填报表's rows left empty answer nothing
    facts = extract_facts(text, kind=kind, year=campaign.window_start.year, received=received)
    word = empty_return_word(text, subject, campaign, kind)
    if word is not None:
        label = campaign.kinds[kind].label
        return CheckResult(kind, Outcome.OK, facts, (Finding(
            EMPTY_RETURN_RULE, Severity.HINT, "无内容报送",
            f"来件写明“{word}”，已按本期{label}无内容报送登记（已提交（无内容））。如本期实有信息，请补报。", ""),))
    if len(re.findall(r"[\u4e00-\u9fff]", text or "")) < 20:
        return CheckResult(kind, Outcome.HUMAN, facts, (Finding(
            "no-text", Severity.HINT, "文字内容",
            "文档中几乎没有可识别的文字（可能是扫描件、图片或空文档），需人工审核。", ""),))
    roster = roster if roster is not None else Roster((), campaign.region)
    known = roster.by_name(unit) if unit else None
    n = pages if isinstance(pages, int) and not isinstance(pages, bool) and 0 < pages < 100_000 else 0
    seals = tuple(sorted({p for p in (seal_pages if isinstance(seal_pages, (tuple, list, set, frozenset)) else ())
                          if isinstance(p, int) and not isinstance(p, bool) and 0 < p and (not n or p <= n)}))
    scanned = tuple(sorted({p for p in (scanned_pages if isinstance(scanned_pages, (tuple, list, set, frozenset)) else ())
                            if isinstance(p, int) and not isinstance(p, bool) and 0 < p and (not n or p <= n)}))
    doc = _Doc(NormText(text, drop_spaces=True), facts, campaign, roster, kind,
               known.name if known else unit, received, source if source in ("text", "ocr") else "text",
               n, seals, subject or "", scanned)
    findings: list[Finding] = []
    for r in rules:
        if kind in r.kinds:
            findings.extend(r.run(doc))
    return CheckResult(kind, _outcome(findings), facts, tuple(findings))


def check_document(doc: Any, *, campaign: Campaign, roster: Roster | None, kind: str | None,
                   unit: str | None, received: date | None, subject: str = "") -> CheckResult:
    """check_text on a docread.DocText (SUBJECT: the mail's); an unreadable document goes to a human."""
    if kind is None:
        kind = guess_kind(doc.name, doc.text if doc.readable else "", campaign)
    if not doc.readable:
        reason = (doc.reason or "无法读取文字").rstrip("。. ")
        tail = "。" if "人工审核" in reason else "，需人工审核。"
        return CheckResult(kind, Outcome.HUMAN, Facts(), (Finding(
            "unreadable", Severity.HINT, "无法读取", f"{doc.name}：{reason}{tail}", ""),))
    # source, pages, seal_pages: what docread knows of a scan (absent on older DocTexts)
    return check_text(doc.text, campaign=campaign, roster=roster, kind=kind, unit=unit, received=received,
                      source=getattr(doc, "source", "text") or "text", pages=getattr(doc, "pages", 0) or 0,
                      seal_pages=getattr(doc, "seal_pages", ()) or (), subject=subject,
                      scanned_pages=getattr(doc, "ocr_pages", ()) or ())


def guess_kind(file_name: str, text: str, campaign: Campaign) -> str:
    """Kind from the file name, else the document's title lines, else the first kind 'plan'."""
    name = re.sub(r"\.[A-Za-z0-9]{1,5}$", "", Path(file_name or "").name)
    found = kind_from_words(name, campaign)
    if found:
        return found
    # the title: the first short lines (a body sentence may say 如有调整 about any plan)
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()][:3]
    title = "\n".join(ln for ln in lines if len(ln) <= 50 and not ln.endswith(("。", ".", "；", ";")))
    found = kind_from_words(title, campaign)
    if found:
        return found
    return "plan" if "plan" in campaign.kinds else campaign.kind_order[-1]


def _read_default(data: bytes, name: str) -> list[Any]:
    from mailbot.documents import docsandbox
    return docsandbox.read_mail_documents([(data, name)])[0]


def _result_json(file: str, result: CheckResult, campaign: Campaign, warnings: Iterable[str] = (),
                 doc: Any = None) -> dict[str, Any]:
    kind = campaign.kinds.get(result.kind)
    return {"file": file, "kind": result.kind, "kind_label": kind.label if kind else result.kind,
            "outcome": result.outcome, "facts": result.facts.as_json(),
            "findings": [f.as_json() for f in result.findings], "warnings": list(warnings),
            # how the text was read: "ocr" (a scan: ocr_pages recognised, seal_pages with a red seal)
            "source": getattr(doc, "source", "text") or "text", "pages": getattr(doc, "pages", 0) or 0,
            "ocr_pages": list(getattr(doc, "ocr_pages", ()) or ()),
            "seal_pages": list(getattr(doc, "seal_pages", ()) or ())}


def check_files(paths: list[Path], *, campaign: Campaign, roster: Roster | None, kind: str | None,
                unit: str | None, received: date | None,
                read: Callable[[bytes, str], list[Any]] | None = None) -> list[dict[str, Any]]:
    """SPEC §4 `check --json` objects: one per document (a zip gives one per document inside)."""
    read = read or _read_default
    out: list[dict[str, Any]] = []
    for path in paths:
        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            r = CheckResult(kind or "plan", Outcome.HUMAN, Facts(), (Finding(
                "unreadable", Severity.HINT, "无法读取", f"无法打开文件：{exc.strerror or exc}。", ""),))
            out.append(_result_json(str(path), r, campaign))
            continue
        docs = list(read(data, path.name))
        if not docs:
            r = CheckResult(kind or guess_kind(path.name, "", campaign), Outcome.HUMAN, Facts(), (Finding(
                "unreadable", Severity.HINT, "无法读取", f"{path.name} 中没有可检查的文档，需人工审核。", ""),))
            out.append(_result_json(str(path), r, campaign))
            continue
        for d in docs:
            name = d.name or path.name
            if name == path.name:
                label = str(path)
            elif name.startswith(path.name + "/"):
                label = str(path.parent / name) if str(path.parent) != "." else name
            else:
                label = f"{path}/{name}"
            r = check_document(d, campaign=campaign, roster=roster, kind=kind, unit=unit, received=received)
            out.append(_result_json(label, r, campaign, getattr(d, "warnings", ()) or (), d))
    return out


def _short(v: Any, n: int = 24) -> str:
    if v is None or v == [] or v == "":
        return "—"
    if isinstance(v, list):
        v = "、".join(str(x) for x in v)
    s = str(v).replace("\n", " ").replace("\t", " ")
    out, w = "", 0
    for ch in s:
        cw = width(ch)
        if w + cw > n:
            return out + "…"
        out += ch
        w += cw
    return out


def format_table(results: list[dict[str, Any]]) -> str:
    """A readable Chinese report of `check_files` results for the terminal."""
    if not results:
        return "没有检查任何文件。"
    header = ("文件", "类型", "结论", "错误", "提醒", "活动日期", "人数", "开放主题")
    rows = []
    for r in results:
        f = r.get("facts") or {}
        errs = sum(1 for x in r["findings"] if x["severity"] == Severity.ERROR)
        rows.append((_short(r["file"], 36), r.get("kind_label", r["kind"]), r["outcome"], str(errs),
                     str(len(r["findings"]) - errs),
                     _short(f.get("activity_dates") or f.get("activity_month"), 24),
                     _short(f.get("participants") if f.get("participants") is not None else f.get("actual_participants")),
                     _short(f.get("theme"), 24)))
    parts = [render_table(header, rows)]
    for r in results:
        if not r["findings"] and not r.get("warnings"):
            continue
        f = r.get("facts") or {}
        parts.append("")
        parts.append(f"■ {r['file']}（{r.get('kind_label', r['kind'])}，{r['outcome']}）")
        facts_line = "，".join(f"{k}：{_short(f.get(key), 30)}" for k, key in (
            ("联系人", "contact"), ("电话", "phone"), ("地点", "place")) if f.get(key))
        if facts_line:
            parts.append(f"  {facts_line}")
        for x in r["findings"]:
            clause = f"（依据：{x['clause']}）" if x.get("clause") else ""
            parts.append(f"  [{x['severity']}] {x['item']}：{x['message']}{clause}")
        for w in r.get("warnings") or ():
            parts.append(f"  [说明] {w}")
    n_fix = sum(1 for r in results if r["outcome"] == Outcome.FIX)
    n_human = sum(1 for r in results if r["outcome"] == Outcome.HUMAN)
    parts.append("")
    parts.append(f"共 {len(results)} 份文档：需修改 {n_fix} 份，需人工审核 {n_human} 份，"
                 f"其余 {len(results) - n_fix - n_human} 份待审核。")
    return "\n".join(parts)
