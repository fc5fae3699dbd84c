"""Working days: Chinese statutory holidays and 调休 make-up days, plus local overrides.

Source of truth is the `chinesecalendar` package (import `chinese_calendar`), which knows
the State Council's holiday arrangement for the years it ships (a new year arrives each
November). For a year it does not know it raises NotImplementedError; we then fall back
to Monday–Friday and say so (`coverage_note`) in `doctor` and the daily digest, so the
office can add the year's arrangement to `rules/workdays.toml` by hand:

    extra_workdays = [2027-02-07]        # 调休上班 (a Saturday or Sunday that is worked)
    extra_holidays = [2027-02-08]        # 放假 (a weekday off)

Local overrides always win over the library.
"""
from __future__ import annotations

import tomllib
from functools import lru_cache
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Iterable

try:  # the package is a declared dependency, but a broken install must not stop the daemon
    import chinese_calendar as _cc
except ImportError:  # pragma: no cover
    _cc = None

OVERRIDE_FILE = "workdays.toml"

_HOLIDAY_NAMES = {
    "New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节", "Dragon Boat Festival": "端午节", "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节", "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


@lru_cache(maxsize=None)
def _library_knows(year: int) -> bool:
    if _cc is None:
        return False
    try:
        _cc.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


@lru_cache(maxsize=4096)
def _library_workday(day: date) -> bool:
    """The library's answer for DAY (a year it knows), remembered: chinesecalendar validates its
    argument on every call (~20 µs here), and a day's reminders ask about the same few weeks for every
    unit and deadline (add_workdays walks them day by day)."""
    return bool(_cc.is_workday(day))


class CalendarError(Exception):
    """A workdays.toml that cannot be used; the message is a Chinese sentence."""


def _dates(values: Iterable, path: Path, key: str) -> frozenset[date]:
    out = set()
    for v in values:
        if isinstance(v, date):
            out.add(v)
            continue
        try:
            out.add(date.fromisoformat(str(v).strip()))
        except ValueError:
            raise CalendarError(f"{path} 的 {key} 中“{v}”不是日期，应写成 2022-10-08 这样的格式。") from None
    return frozenset(out)


@dataclass(frozen=True)
class WorkCalendar:
    extra_workdays: frozenset[date] = field(default_factory=frozenset)
    extra_holidays: frozenset[date] = field(default_factory=frozenset)
    source: Path | None = None            # the override file, when one was read
    use_library: bool = True              # False: plain Monday–Friday (tests, no package)

    # --- construction --------------------------------------------------------------
    @classmethod
    def load(cls, rules_dir: Path | str | None) -> "WorkCalendar":
        """The calendar with `rules_dir/workdays.toml` applied when that file exists.

        Accepts the rules folder or the file itself."""
        if rules_dir is None:
            return cls()
        path = Path(rules_dir)
        if path.is_dir() or path.suffix != ".toml":
            path = path / OVERRIDE_FILE
        if not path.is_file():
            return cls()
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))
        except OSError as exc:
            raise CalendarError(f"无法读取工作日文件 {path}：{exc.strerror or exc}。") from None
        except tomllib.TOMLDecodeError as exc:
            raise CalendarError(f"工作日文件 {path} 格式有误：{exc}。") from None
        work = _dates(raw.get("extra_workdays", ()), path, "extra_workdays")
        off = _dates(raw.get("extra_holidays", ()), path, "extra_holidays")
        both = sorted(work & off)
        if both:
            raise CalendarError(f"工作日文件 {path} 中 {both[0].isoformat()} 同时写在 extra_workdays 和 "
                                f"extra_holidays 里，请删掉其中一处。")
        return cls(extra_workdays=work, extra_holidays=off, source=path)

    # --- questions -------------------------------------------------------------------
    def known(self, year: int) -> bool:
        """True when the holiday arrangement of `year` is in the library."""
        return self.use_library and _library_knows(year)

    def is_workday(self, day: date) -> bool:
        if day in self.extra_workdays:
            return True
        if day in self.extra_holidays:
            return False
        if self.use_library and _library_knows(day.year):
            return _library_workday(day)
        return day.weekday() < 5

    def holiday_name(self, day: date) -> str | None:
        """Chinese name of the statutory holiday on `day`, '周末' on a plain weekend, else None."""
        if self.is_workday(day):
            return None
        if day in self.extra_holidays:
            return "本地放假"
        if self.use_library and _library_knows(day.year):
            on, name = _cc.get_holiday_detail(day)
            if on and name:
                return _HOLIDAY_NAMES.get(name, name)
        return "周末"

    def is_makeup_workday(self, day: date) -> bool:
        """A Saturday/Sunday that is worked (调休上班)."""
        return day.weekday() >= 5 and self.is_workday(day)

    def describe(self, day: date) -> str:
        """'工作日' / '调休上班' / '国庆节' / '周末' — for tables and logs."""
        if self.is_workday(day):
            return "调休上班" if self.is_makeup_workday(day) else "工作日"
        return self.holiday_name(day) or "休息日"

    # --- arithmetic ------------------------------------------------------------------
    def on_or_before(self, day: date) -> date:
        """`day` if it is a working day, else the last working day before it."""
        while not self.is_workday(day):
            day -= timedelta(days=1)
        return day

    def on_or_after(self, day: date) -> date:
        while not self.is_workday(day):
            day += timedelta(days=1)
        return day

    def add_workdays(self, day: date, n: int) -> date:
        """The n-th working day after `day` (n > 0) or before it (n < 0); n = 0 → `day`."""
        step = 1 if n >= 0 else -1
        left = abs(n)
        while left:
            day += timedelta(days=step)
            if self.is_workday(day):
                left -= 1
        return day

    def workdays_between(self, start: date, end: date) -> int:
        """Working days in (start, end]; negative when end < start."""
        if end < start:
            return -self.workdays_between(end, start)
        n, day = 0, start
        while day < end:
            day += timedelta(days=1)
            if self.is_workday(day):
                n += 1
        return n

    def workdays(self, start: date, end: date) -> list[date]:
        """Working days in [start, end]."""
        out, day = [], start
        while day <= end:
            if self.is_workday(day):
                out.append(day)
            day += timedelta(days=1)
        return out

    # --- for doctor and the digest -----------------------------------------------------
    def coverage_note(self, year: int) -> str | None:
        """None when `year` is fully known; else a Chinese sentence saying what we assume."""
        if self.known(year):
            return None
        local = sorted(d for d in (*self.extra_workdays, *self.extra_holidays) if d.year == year)
        where = str(self.source) if self.source else f"rules/{OVERRIDE_FILE}"
        if not self.use_library or _cc is None:
            lead = "未安装节假日数据包 chinesecalendar"
        else:
            lead = f"节假日数据包 chinesecalendar 还没有 {year} 年的放假安排"
        tail = (f"；已按 {where} 中的 {len(local)} 个本地调整日计算" if local else
                f"；请在国务院办公厅公布 {year} 年放假安排后升级该数据包（pip install -U chinesecalendar），"
                f"或把放假和调休上班日期写入 {where}")
        return f"{lead}，{year} 年暂按周一至周五为工作日计算{tail}。"

    def coverage_notes(self, years: Iterable[int]) -> list[str]:
        return [n for n in (self.coverage_note(y) for y in sorted(set(years))) if n]


__all__ = ["WorkCalendar", "CalendarError", "OVERRIDE_FILE"]
