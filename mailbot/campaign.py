"""The campaign (rules/*.toml) and the roster (rules/units.csv), loaded once and passed in.

Nothing here knows a year or a county: every date, list and name comes from the files.
"""
from __future__ import annotations

import csv
import io
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Iterable

from mailbot.vocab import PLAN_KINDS


class CampaignError(Exception):
    """A rules or roster file that cannot be used; the message is a Chinese sentence."""


@dataclass(frozen=True)
class Kind:
    key: str                      # plan | adjustment | summary | feedback
    label: str                    # 实施方案 | 调整 | 开展情况 | 反馈
    keywords: tuple[str, ...]
    clause: str
    due: date | None = None
    days_before_activity: int | None = None
    days_after_activity: int | None = None

    @property
    def plan_like(self) -> bool:
        """A plan or its adjustment: carries the activity (announcement, paper copy apply)."""
        return self.key in PLAN_KINDS


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

    def kind(self, key: str) -> Kind:
        return self.kinds[key]

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
        key = self.name_key(name)
        for k, u in self._names:
            if k == key:
                return u
        return None

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
    raise CampaignError(f"规则文件 {path} 的 {where} 应为日期（如 2022-08-26），现为“{value}”。")


def load_campaign(path: Path) -> Campaign:
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise CampaignError(f"无法打开规则文件 {path}：{exc.strerror or exc}。") from None
    except tomllib.TOMLDecodeError as exc:
        raise CampaignError(f"规则文件 {path} 格式有误：{exc}。") from None
    c = _req(raw, "campaign", path, "campaign")
    kinds: dict[str, Kind] = {}
    for key, k in _req(raw, "kinds", path, "kinds").items():
        kinds[key] = Kind(
            key=key, label=_req(k, "label", path, f"kinds.{key}"),
            keywords=tuple(k.get("keywords", ())), clause=k.get("clause", ""),
            due=_date(k["due"], path, f"kinds.{key}.due") if "due" in k else None,
            days_before_activity=k.get("days_before_activity"),
            days_after_activity=k.get("days_after_activity"))
    for need in ("plan", "summary"):
        if need not in kinds:
            raise CampaignError(f"规则文件 {path} 缺少 [kinds.{need}]。")
    order = tuple(c.get("kind_order", raw.get("kind_order", list(kinds))))
    for k in order:
        if k not in kinds:
            raise CampaignError(f"规则文件 {path} 的 kind_order 中“{k}”没有对应的 [kinds.{k}]。")
    a = _req(raw, "activity", path, "activity")
    fixed = tuple(
        (_date(_req(f, "date", path, "activity.fixed"), path, "activity.fixed.date"),
         tuple(_req(f, "units", path, "activity.fixed")))
        for f in a.get("fixed", ()))
    cid = str(_req(c, "id", path, "campaign"))
    if not cid or re.search(r"[\\/:*?\"<>|]", cid):
        raise CampaignError(f"规则文件 {path} 的 campaign.id “{cid}”不能为空，也不能含 \\ / : * ? \" < > |。")
    return Campaign(
        id=cid, title=c.get("title", cid), region=c.get("region", ""), office=c.get("office", ""),
        notice=c.get("notice", ""), official_name=c.get("official_name", ""),
        paper_copy=c.get("paper_copy", ""), kinds=kinds, kind_order=order,
        window_start=_date(_req(a, "window_start", path, "activity"), path, "activity.window_start"),
        preferred_end=_date(a.get("preferred_end", a.get("window_end")), path, "activity.preferred_end"),
        window_end=_date(_req(a, "window_end", path, "activity"), path, "activity.window_end"),
        announce_days_before=int(a.get("announce_days_before", 15)),
        window_clause=a.get("window_clause", ""), announce_clause=a.get("announce_clause", ""),
        fixed_dates=fixed, checks=tuple(raw.get("checks", ())),
        reminders=dict(raw.get("reminders", {})), source=path, raw=raw,
        accept_from=_date(c["accept_from"], path, "campaign.accept_from") if "accept_from" in c else None,
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
