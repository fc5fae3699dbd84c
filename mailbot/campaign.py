"""The campaign (rules/*.toml) and the roster (rules/units.csv), loaded once and passed in.

Nothing here knows a year or a county: every date, list and name comes from the files.

A kind's due date takes one of four forms (docs/SPEC.md §4, "Campaign files"):

    due = 2023-01-31                       fixed: one date for every unit
    [kinds.K.due_by_unit]                  per unit: 单位 → date (others get `due`, if any)
    days_after_activity = 15               derived from the unit's activity date (with `due`
    days_before_activity = 3               as well: after an activity held later than `due`;
                                           the earlier of `due` and activity − days)
    every = "month", day = 10              recurring: each period's return is due on `day` of
                                           the month after the period, from first_period
                                           to last_period ("2023-01" … "2023-12")

and any of them may be moved off a weekend or holiday with shift = "next_workday" or
"previous_workday" (office/workcalendar.py). `Campaign.due_for` answers "the due date(s) of
kind K for unit U as of day D"; office/progress.py derives every deadline from it.
"""
from __future__ import annotations

import calendar as _months
import csv
import io
import re
import string
import tomllib
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from mailbot.vocab import PLAN_KINDS

if TYPE_CHECKING:
    from mailbot.office.workcalendar import WorkCalendar


class CampaignError(Exception):
    """A rules or roster file that cannot be used; the message is a Chinese sentence."""


#: the check finding that marks a 无内容 return (documents/check.py writes it, progress reads it)
EMPTY_RETURN_RULE = "empty-return"

SHIFTS = {"none": "不顺延", "next_workday": "顺延至下一个工作日", "previous_workday": "提前至上一个工作日"}
EVERY = {"month": ("每月", 1), "quarter": ("每季度", 3)}        # key → (Chinese, months per period)
_CN_QUARTER = "一二三四"


@dataclass(frozen=True)
class Recurrence:
    """A return due every period: the return for a period is due on `day` of the month after it
    (day 31 means the month's last day), from the period starting `first` to the one starting `last`."""
    every: str                    # month | quarter
    day: int
    first: date                   # first day of the first period
    last: date | None = None      # first day of the last period (None: no end)

    @property
    def months(self) -> int:
        return EVERY[self.every][1]

    def _start(self, n: int) -> date:
        m = self.first.month - 1 + n * self.months
        return date(self.first.year + m // 12, m % 12 + 1, 1)

    def periods(self, through: date | None) -> list[tuple[date, date]]:
        """(first day, last day) of each period that has begun by THROUGH (all, when None)."""
        out, n = [], 0
        while True:
            start = self._start(n)
            if (self.last is not None and start > self.last) or (through is not None and start > through):
                return out
            if self.last is None and through is None:
                raise ValueError("an open-ended recurrence needs a day to count to")
            out.append((start, self._start(n + 1) - timedelta(days=1)))
            n += 1

    def due_of(self, end: date) -> date:
        """The unshifted due date of the period ending END: `day` of the next month."""
        nxt = end + timedelta(days=1)
        return nxt.replace(day=min(self.day, _months.monthrange(nxt.year, nxt.month)[1]))

    def key(self, start: date) -> str:
        """2023-03 (a month) / 2023-Q1 (a quarter)."""
        if self.every == "quarter":
            return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
        return f"{start:%Y-%m}"

    def label(self, start: date) -> str:
        """2023年3月 / 2023年第一季度 — the period as the office writes it."""
        if self.every == "quarter":
            return f"{start.year}年第{_CN_QUARTER[(start.month - 1) // 3]}季度"
        return f"{start.year}年{start.month}月"

    def named_in(self, text: str, received: date) -> date | None:
        """The first day of the period TEXT names (2023年3月, 3月份, 三月, 一季度), else None. A
        month without a year is the latest such month that began by RECEIVED."""
        t = unicodedata.normalize("NFKC", text or "")
        if self.every == "quarter":
            m = re.search(r"(?:(\d{4})年)?(?:第)?([1-4一二三四])季度", t)
            if not m:
                return None
            q = int(m.group(2)) if m.group(2).isdigit() else _CN_QUARTER.index(m.group(2)) + 1
            month = 3 * q - 2
        else:
            m = re.search(r"(?:(\d{4})年)?(1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九])月", t)
            if not m:
                return None
            g = m.group(2)
            month = int(g) if g.isdigit() else ("一二三四五六七八九十".index(g) + 1 if len(g) == 1
                                                else 10 + " 一二".index(g[1]))
        year = int(m.group(1)) if m.group(1) else received.year - (1 if month > received.month else 0)
        start = date(year, month, 1)
        return start if self.first <= start and (self.last is None or start <= self.last) else None

    def describe(self) -> str:
        """每月的于次月10日前报送 — for the kickoff mail and the office's eyes."""
        day = "最后一日" if self.day >= 31 else f"{self.day}日"
        after = "次月" if self.every == "month" else "季度结束后次月"
        return f"{EVERY[self.every][0]}一期，于{after}{day}前报送"


@dataclass(frozen=True)
class Due:
    """One due date of a kind for a unit: the kind's only one, or one period's (recurring kinds)."""
    kind: str
    due: date
    period: str | None = None         # 2023-03 / 2023-Q1 for a recurring kind
    label: str = ""                   # 2023年3月 — the period as the office writes it
    start: date | None = None         # the period's first and last day
    end: date | None = None


@dataclass(frozen=True)
class Kind:
    key: str                      # plan | adjustment | summary | feedback
    label: str                    # 实施方案 | 调整 | 开展情况 | 反馈
    keywords: tuple[str, ...]
    clause: str
    due: date | None = None                       # fixed: the same date for every unit
    days_before_activity: int | None = None       # derived from the unit's activity date
    days_after_activity: int | None = None
    due_by_unit: tuple[tuple[str, date], ...] = ()   # per unit: (单位 as written, date)
    every: Recurrence | None = None               # recurring: one due date per period
    shift: str = "none"                           # none | next_workday | previous_workday
    empty_return_words: tuple[str, ...] = ()      # 无内容报送, 本月无: such a mail is the period's return
    ask: str = ""                                 # the 催报's request, with {mailbox} {due} {notice} …

    @property
    def plan_like(self) -> bool:
        """A plan or its adjustment: carries the activity (announcement, paper copy apply)."""
        return self.key in PLAN_KINDS

    @property
    def has_due(self) -> bool:
        """A due date in some form: a unit that never sends this kind is missing something."""
        return bool(self.due or self.due_by_unit or self.every or self.days_after_activity is not None)

    def ask_text(self, **values: Any) -> str:
        """The 催报's request for this kind, its {placeholders} filled from VALUES."""
        return self.ask.format_map(_Blank(values))

    def ask_html(self, **values: Any) -> Any:
        """ask_text for an HTML mail: every part escaped, the mailbox in bold."""
        from markupsafe import Markup, escape
        if "mailbox" in values:
            values["mailbox"] = Markup("<b>%s</b>") % values["mailbox"]
        return Markup(escape(self.ask)).format_map(_Blank(values))


class _Blank(dict):
    """format_map values: a placeholder the caller has no value for reads as nothing."""
    def __missing__(self, key: str) -> str:
        return ""


@dataclass(frozen=True)
class Unit:
    name: str                     # as written in 单位
    emails: tuple[str, ...]       # lowercased
    contact: str = ""
    phone: str = ""
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Campaign:
    id: str
    title: str
    region: str
    office: str
    notice: str
    official_name: str
    paper_copy: str
    kinds: dict[str, Kind]
    kind_order: tuple[str, ...]
    window_start: date
    preferred_end: date
    window_end: date
    announce_days_before: int
    window_clause: str
    announce_clause: str
    fixed_dates: tuple[tuple[date, tuple[str, ...]], ...]   # (date, unit names as in the file)
    checks: tuple[dict[str, Any], ...]                      # raw [[checks]], compiled by check.py
    reminders: dict[str, Any]                               # raw [reminders], used by remind.py
    source: Path
    raw: dict[str, Any] = field(repr=False, default_factory=dict)
    accept_from: date | None = None    # mail that arrived before this is kept but not filed
    supplement_words: tuple[str, ...] = ()   # [supplements] words: 签到表, 照片… (office/supplement.py)
    revision_words: tuple[str, ...] = ()     # [supplements] revision_words: 修改, 调整… (a new version)
    accept_until: date | None = None   # the last day this campaign's mail is expected (routing)
    words: dict[str, str] = field(default_factory=dict)   # [wording]: name, basis, publish … (templates)

    def kind(self, key: str) -> Kind:
        return self.kinds[key]

    @property
    def has_activity(self) -> bool:
        """The campaign has an [activity] (dates, window, announcement): the open-day model."""
        return isinstance(self.raw.get("activity"), dict)

    @property
    def name(self) -> str:
        """The collection as mails name it (“政府开放日”, 年度报告): [wording] name."""
        return self.words.get("name") or self.title

    @property
    def basis(self) -> str:
        """What clause numbers refer to (实施方案 in “依据：实施方案二(五)”): [wording] basis."""
        return self.words.get("basis") or self.notice or "通知"

    def due_for(self, kind: str, unit: str | None = None, today: date | None = None,
                calendar: "WorkCalendar | None" = None, *, activity: date | None = None,
                roster: "Roster | None" = None) -> tuple[Due, ...]:
        """The due date(s) of KIND for UNIT as of TODAY, oldest first.

        A recurring kind has one per period begun by TODAY (every period when TODAY is None);
        any other kind at most one: UNIT's own date (due_by_unit), else the fixed `due`, combined
        with its activity-derived date when ACTIVITY is known — activity + days_after_activity
        when there is no fixed date or the activity is held after it, and the earlier of the
        fixed date and activity − days_before_activity.
        None (empty) when it cannot be known yet (derived, no activity date). Dates are then
        moved off non-working days by the kind's `shift`, on CALENDAR (default: the national one)."""
        k = self.kinds[kind]
        if k.every is not None:
            r = k.every
            return tuple(Due(kind, self._shift(k, r.due_of(end), calendar), r.key(start), r.label(start), start, end)
                         for start, end in r.periods(today))
        day = k.due
        if unit and k.due_by_unit:
            roster = roster if roster is not None else Roster((), self.region)
            day = next((d for name, d in k.due_by_unit if roster.same_unit(unit, name)), day)
        if activity is not None and k.days_after_activity is not None and (day is None or activity > day):
            day = activity + timedelta(days=k.days_after_activity)
        if activity is not None and k.days_before_activity is not None:
            before = activity - timedelta(days=k.days_before_activity)
            day = before if day is None else min(day, before)
        return () if day is None else (Due(kind, self._shift(k, day, calendar)),)

    def period_of(self, kind: str, received: date, text: str = "",
                  calendar: "WorkCalendar | None" = None) -> Due | None:
        """The period a return of recurring KIND received on RECEIVED answers: the one its TEXT
        (subject, file name) names, else the last one that ended before RECEIVED (a monthly
        return reports on a month gone by); None outside the campaign's periods."""
        k = self.kinds[kind]
        if k.every is None:
            return None
        periods = k.every.periods(received)
        start = k.every.named_in(text, received)
        if start is None:
            ended = [p for p in periods if p[1] < received]
            start = ended[-1][0] if ended else None
        if start is None:
            return None
        r, end = k.every, k.every.periods(start)[-1][1]
        return Due(kind, self._shift(k, r.due_of(end), calendar), r.key(start), r.label(start), start, end)

    def _shift(self, k: Kind, day: date, calendar: "WorkCalendar | None") -> date:
        if k.shift == "none":
            return day
        if calendar is None:
            from mailbot.office.workcalendar import WorkCalendar
            calendar = WorkCalendar()
        return calendar.on_or_after(day) if k.shift == "next_workday" else calendar.on_or_before(day)

    def fixed_date_for(self, roster: "Roster", unit: str) -> date | None:
        """The activity date the notice fixes for this unit, if any."""
        for day, names in self.fixed_dates:
            if any(roster.same_unit(unit, n) for n in names):
                return day
        return None


def _clean(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").strip()


class Roster:
    """Departments of the campaign: lookup by address and by loosely written name."""

    def __init__(self, units: Iterable[Unit], region: str = ""):
        self.units: tuple[Unit, ...] = tuple(units)
        self.region = _clean(region)
        self._by_email: dict[str, Unit] = {}
        for u in self.units:
            for e in u.emails:
                self._by_email.setdefault(e, u)
        # Longest names first so 县人力资源和社会保障局 wins over a shorter alias.
        names: list[tuple[str, Unit]] = []
        for u in self.units:
            for n in (u.name, *u.aliases):
                key = self.name_key(n)
                if len(key) >= 2:
                    names.append((key, u))
        names.sort(key=lambda p: -len(p[0]))
        self._names = names
        self._by_name: dict[str, Unit | None] = {}     # by_name's answers (the roster never changes)

    def name_key(self, name: str) -> str:
        """西吉县民政局, 县民政局, 民政局 → 民政局; also drops 和 so 人力资源和社会保障局 = 人力资源社会保障局."""
        n = re.sub(r"\s+", "", _clean(name))
        if self.region and n.startswith(self.region):
            n = n[len(self.region):]
        if n.startswith("县"):
            n = n[1:]
        return n.replace("和", "")

    def by_email(self, address: str) -> Unit | None:
        return self._by_email.get((address or "").strip().lower())

    def by_name(self, name: str) -> Unit | None:
        if name in self._by_name:
            return self._by_name[name]
        key = self.name_key(name)
        unit = next((u for k, u in self._names if k == key), None)
        if len(self._by_name) < 4096:
            self._by_name[name] = unit
        return unit

    def find_in_text(self, text: str) -> Unit | None:
        """The unit whose name or alias appears in free text (subject, file name)."""
        t = re.sub(r"\s+", "", _clean(text)).replace("和", "")
        for k, u in self._names:
            if k in t:
                return u
        return None

    def same_unit(self, a: str, b: str) -> bool:
        ua, ub = self.by_name(a), self.by_name(b)
        if ua is not None and ub is not None:
            return ua is ub
        return self.name_key(a) == self.name_key(b)

    def get(self, name: str) -> Unit:
        u = self.by_name(name)
        if u is None:
            raise CampaignError(f"名单 units.csv 中没有单位“{name}”。")
        return u


ROSTER_HEADER = ("单位", "邮箱", "联系人", "电话", "别名")


def _split_multi(value: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in re.split(r"[;；,，\s]+", value or "") if p.strip())


def _decode_roster(data: bytes, path: Path) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise CampaignError(f"无法读取名单 {path}：既不是 UTF-8 也不是 GBK 编码（第 {exc.start} 字节）。"
                            "请在 Excel/WPS 中另存为“CSV（逗号分隔）”。") from None


def load_roster(path: Path, region: str = "") -> Roster:
    """Read units.csv saved as UTF-8 (with or without BOM) or GBK/GB18030."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise CampaignError(f"无法打开单位名单 {path}：{exc.strerror or exc}。") from None
    text = _decode_roster(data, path)
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise CampaignError(f"单位名单 {path} 是空的。第一行应为：{','.join(ROSTER_HEADER)}")
    header = [_clean(h) for h in rows[0]]
    missing = [h for h in ROSTER_HEADER[:2] if h not in header]
    if missing:
        raise CampaignError(f"单位名单 {path} 的第一行缺少列：{'、'.join(missing)}。"
                            f"第一行应为：{','.join(ROSTER_HEADER)}")
    col = {h: header.index(h) for h in ROSTER_HEADER if h in header}

    def cell(row: list[str], h: str) -> str:
        i = col.get(h)
        return _clean(row[i]) if i is not None and i < len(row) else ""

    units, seen = [], set()
    for lineno, row in enumerate(rows[1:], start=2):
        name = cell(row, "单位")
        if not name:
            continue
        if name in seen:
            raise CampaignError(f"单位名单 {path} 第 {lineno} 行：单位“{name}”重复出现。")
        seen.add(name)
        emails = tuple(e.lower() for e in _split_multi(cell(row, "邮箱")))
        for e in emails:
            if "@" not in e:
                raise CampaignError(f"单位名单 {path} 第 {lineno} 行：邮箱“{e}”格式不对。")
        aliases = tuple(a for a in re.split(r"[;；]", cell(row, "别名")) if a.strip())
        units.append(Unit(name=name, emails=emails, contact=cell(row, "联系人"),
                          phone=cell(row, "电话"), aliases=tuple(a.strip() for a in aliases)))
    return Roster(units, region=region)


def _req(table: dict, key: str, path: Path, where: str) -> Any:
    if key not in table:
        raise CampaignError(f"规则文件 {path} 的 [{where}] 缺少 {key}。")
    return table[key]


def _date(value: Any, path: Path, where: str) -> date:
    if isinstance(value, date):
        return value
    raise CampaignError(f"规则文件 {path} 的 {where} 应为日期（写成 年-月-日，不加引号），现为“{value}”。")


def _days(value: Any, path: Path, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise CampaignError(f"规则文件 {path} 的 {where} 应为不小于 0 的整数（天数），现为“{value}”。")
    return value


def _words(value: Any, path: Path, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(w, str) and w.strip() for w in value):
        raise CampaignError(f"规则文件 {path} 的 {where} 应为词语列表，如 [\"无内容报送\", \"本月无\"]，现为“{value}”。")
    return tuple(w.strip() for w in value)


def _text_with(value: Any, allowed: Iterable[str], path: Path, where: str) -> str:
    """A sentence whose {placeholders} are all in ALLOWED (checked now, filled when a mail is written)."""
    if not isinstance(value, str) or not value.strip():
        raise CampaignError(f"规则文件 {path} 的 {where} 应为非空文字，现为“{value}”。")
    try:
        names = [n for _, n, _, _ in string.Formatter().parse(value) if n is not None]
    except ValueError:
        raise CampaignError(f"规则文件 {path} 的 {where} 中的花括号不成对；要写花括号本身请用 {{{{ 和 }}}}。") from None
    for n in names:
        if n not in allowed:
            raise CampaignError(f"规则文件 {path} 的 {where} 中的“{{{n}}}”不可用"
                                f"（可用：{'、'.join('{' + a + '}' for a in allowed)}）。")
    return value.strip()


def _month(value: Any, path: Path, where: str) -> date:
    m = re.fullmatch(r"(\d{4})-(\d{1,2})", value.strip()) if isinstance(value, str) else None
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise CampaignError(f"规则文件 {path} 的 {where} 应为年月，写成 \"2023-01\"（加引号），现为“{value}”。")
    return date(int(m.group(1)), int(m.group(2)), 1)


#: placeholders a kind's `ask` (the 催报's request) may use
ASK_PLACEHOLDERS = ("mailbox", "due", "notice", "label", "unit", "name", "period")
_KIND_KEYS = ("label", "keywords", "clause", "due", "due_by_unit", "days_before_activity", "days_after_activity",
              "every", "day", "first_period", "last_period", "shift", "empty_return_words", "ask")


def _kind(key: str, k: Any, path: Path) -> Kind:
    """One [kinds.KEY] table, checked: Chinese errors name the file and the key."""
    where = f"[kinds.{key}]"
    if not isinstance(k, dict):
        raise CampaignError(f"规则文件 {path} 的 {where} 应为一个表（label = \"…\"、due = …）。")
    extra = sorted(set(k) - set(_KIND_KEYS))
    if extra:
        raise CampaignError(f"规则文件 {path} 的 {where} 中的 {extra[0]} 不是可用的键"
                            f"（可用：{'、'.join(_KIND_KEYS)}）。")
    label = _req(k, "label", path, f"kinds.{key}")
    by_unit = k.get("due_by_unit", {})
    if not isinstance(by_unit, dict):
        raise CampaignError(f"规则文件 {path} 的 {where} due_by_unit 应为一个表：每行 \"单位名称\" = 日期。")
    every = None
    if "every" in k:
        if k["every"] not in EVERY:
            raise CampaignError(f"规则文件 {path} 的 {where} every 应为 {' 或 '.join(f'“{e}”' for e in EVERY)}"
                                f"（{'、'.join(v[0] for v in EVERY.values())}），现为“{k['every']}”。")
        clash = [c for c in ("due", "due_by_unit", "days_before_activity", "days_after_activity") if c in k]
        if clash:
            raise CampaignError(f"规则文件 {path} 的 {where} 写了 every（按期报送），就不能再写 {clash[0]}。")
        day = k.get("day")
        if isinstance(day, bool) or not isinstance(day, int) or not 1 <= day <= 31:
            raise CampaignError(f"规则文件 {path} 的 {where} day 应为 1 到 31 的整数（每期截止于下月几日），现为“{day}”。")
        first = _month(_req(k, "first_period", path, f"kinds.{key}"), path, f"{where} first_period")
        last = _month(k["last_period"], path, f"{where} last_period") if "last_period" in k else None
        months = EVERY[k["every"]][1]
        if (first.month - 1) % months or (last is not None and (last.month - 1) % months):
            raise CampaignError(f"规则文件 {path} 的 {where} 按季度报送时，first_period 和 last_period "
                                f"应为季度的第一个月（01、04、07、10）。")
        if last is not None and last < first:
            raise CampaignError(f"规则文件 {path} 的 {where} last_period 早于 first_period。")
        every = Recurrence(k["every"], day, first, last)
    else:
        for c in ("day", "first_period", "last_period"):
            if c in k:
                raise CampaignError(f"规则文件 {path} 的 {where} 的 {c} 只用于按期报送，请同时写 every = \"month\"。")
    shift = k.get("shift", "none")
    if shift not in SHIFTS:
        raise CampaignError(f"规则文件 {path} 的 {where} shift 应为 "
                            f"{'、'.join(f'“{a}”（{b}）' for a, b in SHIFTS.items())} 之一，现为“{shift}”。")
    return Kind(
        key=key, label=label, keywords=_words(k.get("keywords", []), path, f"{where} keywords") if k.get("keywords") else (),
        clause=k.get("clause", ""),
        due=_date(k["due"], path, f"{where} due") if "due" in k else None,
        days_before_activity=_days(k.get("days_before_activity"), path, f"{where} days_before_activity"),
        days_after_activity=_days(k.get("days_after_activity"), path, f"{where} days_after_activity"),
        due_by_unit=tuple((str(n), _date(d, path, f"{where} due_by_unit 中“{n}”的日期")) for n, d in by_unit.items()),
        every=every, shift=shift,
        empty_return_words=_words(k["empty_return_words"], path, f"{where} empty_return_words")
        if "empty_return_words" in k else (),
        ask=_text_with(k["ask"], ASK_PLACEHOLDERS, path, f"{where} ask") if "ask" in k else
        f"请按{{notice}}要求，将本单位{label}发送至 {{mailbox}}（邮件主题请注明单位名称和“{label}”）。")


#: [wording]: the campaign's words for the mails (templates/*.j2 read them as campaign.words.KEY):
#: name (before a kind's label), basis (before a clause number), publish, publish_items, approved_note
WORDING_KEYS = ("name", "basis", "publish", "publish_items", "approved_note")


def _wording(table: Any, path: Path) -> dict[str, str]:
    if not isinstance(table, dict):
        raise CampaignError(f"规则文件 {path} 的 [wording] 应为一个表（name = \"…\"）。")
    extra = sorted(set(table) - set(WORDING_KEYS))
    if extra:
        raise CampaignError(f"规则文件 {path} 的 [wording] 中的 {extra[0]} 不是可用的键（可用：{'、'.join(WORDING_KEYS)}）。")
    for key, value in table.items():
        if not isinstance(value, str):
            raise CampaignError(f"规则文件 {path} 的 [wording] {key} 应为文字，现为“{value}”。")
    return {key: table.get(key, "").strip() for key in WORDING_KEYS}


def load_campaign(path: Path) -> Campaign:
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise CampaignError(f"无法打开规则文件 {path}：{exc.strerror or exc}。") from None
    except tomllib.TOMLDecodeError as exc:
        raise CampaignError(f"规则文件 {path} 格式有误：{exc}。") from None
    c = _req(raw, "campaign", path, "campaign")
    table = _req(raw, "kinds", path, "kinds")
    if not isinstance(table, dict) or not table:
        raise CampaignError(f"规则文件 {path} 的 [kinds] 应至少有一类材料（[kinds.代号]）。")
    kinds = {key: _kind(key, k, path) for key, k in table.items()}
    order = tuple(c.get("kind_order", raw.get("kind_order", list(kinds))))
    for k in order:
        if k not in kinds:
            raise CampaignError(f"规则文件 {path} 的 kind_order 中“{k}”没有对应的 [kinds.{k}]。")
    cid = str(_req(c, "id", path, "campaign"))
    if not cid or re.search(r"[\\/:*?\"<>|]", cid):
        raise CampaignError(f"规则文件 {path} 的 campaign.id “{cid}”不能为空，也不能含 \\ / : * ? \" < > |。")
    accept_from = _date(c["accept_from"], path, "[campaign] accept_from") if "accept_from" in c else None
    accept_until = _date(c["accept_until"], path, "[campaign] accept_until") if "accept_until" in c else None
    if accept_from and accept_until and accept_until < accept_from:
        raise CampaignError(f"规则文件 {path} 的 [campaign] accept_until 早于 accept_from。")
    a = raw.get("activity")
    if a is not None:
        # the open-day model: a plan with an activity date, then a summary of it
        if not isinstance(a, dict):
            raise CampaignError(f"规则文件 {path} 的 [activity] 应为一个表。")
        for need in ("plan", "summary"):
            if need not in kinds:
                raise CampaignError(f"规则文件 {path} 有 [activity]（活动），缺少 [kinds.{need}]。")
        window = dict(
            window_start=_date(_req(a, "window_start", path, "activity"), path, "activity.window_start"),
            preferred_end=_date(a.get("preferred_end", a.get("window_end")), path, "activity.preferred_end"),
            window_end=_date(_req(a, "window_end", path, "activity"), path, "activity.window_end"))
        fixed = tuple(
            (_date(_req(f, "date", path, "activity.fixed"), path, "activity.fixed.date"),
             tuple(_req(f, "units", path, "activity.fixed")))
            for f in a.get("fixed", ()))
    else:
        # a collection without an activity: its window is the accept window
        for key, value in (("accept_from", accept_from), ("accept_until", accept_until)):
            if value is None:
                raise CampaignError(f"规则文件 {path} 没有 [activity]，[campaign] 须写收件时间 {key}"
                                    f"（如 accept_from = 2023-01-01，accept_until = 2023-03-31）。")
        a, fixed = {}, ()
        window = dict(window_start=accept_from, preferred_end=accept_until, window_end=accept_until)
    return Campaign(
        id=cid, title=c.get("title", cid), region=c.get("region", ""), office=c.get("office", ""),
        notice=c.get("notice", ""), official_name=c.get("official_name", ""),
        paper_copy=c.get("paper_copy", ""), kinds=kinds, kind_order=order, **window,
        announce_days_before=int(a.get("announce_days_before", 15)),
        window_clause=a.get("window_clause", ""), announce_clause=a.get("announce_clause", ""),
        fixed_dates=fixed, checks=tuple(raw.get("checks", ())),
        reminders=dict(raw.get("reminders", {})), source=path, raw=raw,
        accept_from=accept_from, accept_until=accept_until,
        words=_wording(raw.get("wording", {}), path),
        **_supplement_words(raw.get("supplements", {}), path))


def _supplement_words(table: Any, path: Path) -> dict[str, tuple[str, ...]]:
    from mailbot.office.supplement import DEFAULT_REVISION_WORDS, DEFAULT_WORDS
    if not isinstance(table, dict):
        raise CampaignError(f"规则文件 {path} 的 [supplements] 应为一个表。")
    out = {}
    for key, attr, default in (("words", "supplement_words", DEFAULT_WORDS),
                               ("revision_words", "revision_words", DEFAULT_REVISION_WORDS)):
        value = table.get(key, list(default))
        if not isinstance(value, list) or not all(isinstance(w, str) and w.strip() for w in value):
            raise CampaignError(f"规则文件 {path} 的 [supplements] {key} 应为词语列表，如 [\"签到表\", \"照片\"]。")
        out[attr] = tuple(w.strip() for w in value)
    return out
