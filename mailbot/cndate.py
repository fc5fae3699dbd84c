"""Dates as a Chinese office writes them: 2022年8月24日, 8月24日, 星期三, 8月24日 10:30.

One place for every mail, workbook cell, digest line and CLI sentence that shows a date;
templates reach it through the `cn_date` and `weekday` filters (compose.Templates).
"""
from __future__ import annotations

from datetime import date, datetime, tzinfo
from typing import Any

WEEKDAYS = "一二三四五六日"


def cn_date(d: date) -> str:
    """2022年8月24日 (a datetime shows its date only)."""
    return f"{d.year}年{d.month}月{d.day}日"


def cn_datetime(dt: datetime, tz: tzinfo | None = None) -> str:
    """2022年8月24日 10:30, in TZ when given (an aware time is converted, a naive one kept)."""
    dt = _in(dt, tz)
    return f"{cn_date(dt)} {dt:%H:%M}"


def md(d: date | None) -> str:
    """8月24日; '' for None."""
    return "" if d is None else f"{d.month}月{d.day}日"


def md_time(value: datetime | str | None, tz: tzinfo | None = None) -> str:
    """8月24日 10:30 in TZ; an ISO string (as the ledger stores times) is parsed, an unreadable
    one shown as it is; '' for None."""
    if value is None:
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    value = _in(value, tz)
    return f"{md(value)} {value:%H:%M}"


def weekday(d: date) -> str:
    """星期三."""
    return "星期" + WEEKDAYS[d.weekday()]


def md_weekday(d: date) -> str:
    """8月24日（星期三）."""
    return f"{md(d)}（{weekday(d)}）"


def cn_date_weekday(d: date) -> str:
    """2022年8月24日（星期三）."""
    return f"{cn_date(d)}（{weekday(d)}）"


def template_date(value: Any) -> str:
    """The templates' `cn_date` filter: a datetime with its time, a date, or an ISO string's
    date; None → ''; anything else as it is."""
    if isinstance(value, datetime):
        return cn_datetime(value)
    if isinstance(value, date):
        return cn_date(value)
    if isinstance(value, str) and len(value) >= 10:
        try:
            return cn_date(date.fromisoformat(value[:10]))
        except ValueError:
            return value
    return "" if value is None else str(value)


def _in(dt: datetime, tz: tzinfo | None) -> datetime:
    return dt.astimezone(tz) if tz is not None and dt.tzinfo is not None else dt


__all__ = ["cn_date", "cn_datetime", "md", "md_time", "weekday", "md_weekday", "cn_date_weekday",
           "template_date", "WEEKDAYS"]
