"""WorkCalendar: statutory holidays, 调休 make-up days, unknown years, local overrides."""
from datetime import date

import pytest

from mailbot.office.workcalendar import CalendarError, WorkCalendar

D = date


def test_2022_mid_autumn_and_national_day():
    cal = WorkCalendar()
    for day in (D(2022, 9, 10), D(2022, 9, 11), D(2022, 9, 12)):
        assert not cal.is_workday(day)
    assert cal.holiday_name(D(2022, 9, 12)) == "中秋节"
    for n in range(1, 8):
        assert not cal.is_workday(D(2022, 10, n)), n
        assert cal.holiday_name(D(2022, 10, n)) == "国庆节"
    # 10-8 (Saturday) and 10-9 (Sunday) are 调休 working days
    assert cal.is_workday(D(2022, 10, 8)) and cal.is_workday(D(2022, 10, 9))
    assert cal.is_makeup_workday(D(2022, 10, 8))
    assert cal.describe(D(2022, 10, 8)) == "调休上班"
    assert cal.describe(D(2022, 9, 17)) == "周末"
    assert cal.is_workday(D(2022, 9, 13)) and cal.describe(D(2022, 9, 13)) == "工作日"


def test_arithmetic_skips_holidays():
    cal = WorkCalendar()
    assert cal.add_workdays(D(2022, 9, 30), 1) == D(2022, 10, 8)
    assert cal.add_workdays(D(2022, 10, 8), -1) == D(2022, 9, 30)
    assert cal.add_workdays(D(2022, 9, 9), 1) == D(2022, 9, 13)
    assert cal.add_workdays(D(2022, 8, 26), 0) == D(2022, 8, 26)
    assert cal.on_or_before(D(2022, 10, 5)) == D(2022, 9, 30)
    assert cal.on_or_after(D(2022, 10, 5)) == D(2022, 10, 8)
    assert cal.workdays_between(D(2022, 9, 30), D(2022, 10, 10)) == 3     # 10-8, 10-9, 10-10
    assert cal.workdays_between(D(2022, 10, 10), D(2022, 9, 30)) == -3
    assert len(cal.workdays(D(2022, 10, 1), D(2022, 10, 9))) == 2


def test_known_year_has_no_coverage_note():
    assert WorkCalendar().coverage_note(2022) is None
    assert WorkCalendar().known(2022)


def test_unknown_year_falls_back_to_weekdays_and_says_so():
    cal = WorkCalendar()
    assert not cal.known(2099)
    assert cal.is_workday(D(2099, 1, 1))          # a Thursday: Monday–Friday fallback
    assert not cal.is_workday(D(2099, 1, 3))      # Saturday
    note = cal.coverage_note(2099)
    assert note and "2099" in note and "周一至周五" in note and "workdays.toml" in note


def test_override_file(tmp_path):
    (tmp_path / "workdays.toml").write_text(
        "# 本地调整\nextra_workdays = [2022-10-02]\nextra_holidays = [2022-09-13, \"2099-01-01\"]\n",
        encoding="utf-8")
    cal = WorkCalendar.load(tmp_path)
    assert cal.is_workday(D(2022, 10, 2))
    assert not cal.is_workday(D(2022, 9, 13))
    assert cal.holiday_name(D(2022, 9, 13)) == "本地放假"
    assert not cal.is_workday(D(2099, 1, 1))
    assert "本地调整日" in cal.coverage_note(2099)


def test_missing_override_file_is_fine(tmp_path):
    assert WorkCalendar.load(tmp_path) == WorkCalendar()
    assert WorkCalendar.load(None) == WorkCalendar()


def test_shipped_example_file_parses():
    from pathlib import Path
    rules = Path(__file__).resolve().parent.parent / "rules"
    cal = WorkCalendar.load(rules)
    assert cal.source is not None and cal.is_workday(D(2022, 10, 8))


@pytest.mark.parametrize("body,needle", [
    ("extra_workdays = [\"2022-13-01\"]", "不是日期"),
    ("extra_workdays = [2022-10-02]\nextra_holidays = [2022-10-02]", "同时写在"),
    ("extra_workdays = [", "格式有误"),
])
def test_bad_override_file_is_a_chinese_error(tmp_path, body, needle):
    (tmp_path / "workdays.toml").write_text(body, encoding="utf-8")
    with pytest.raises(CalendarError, match=needle):
        WorkCalendar.load(tmp_path)


def test_the_library_is_asked_once_a_day_and_overrides_still_win(monkeypatch, tmp_path):
    """A day's 催报 walk the same weeks for every unit and deadline (add_workdays): the library's
    answer is remembered per date (it validates every call), below the local overrides."""
    from mailbot.office import workcalendar
    assert workcalendar._library_knows(2022)
    asked = []
    real = workcalendar._cc.is_workday
    monkeypatch.setattr(workcalendar._cc, "is_workday", lambda day: asked.append(day) or real(day))
    workcalendar._library_workday.cache_clear()
    cal = WorkCalendar()
    for _ in range(50):
        assert cal.add_workdays(D(2022, 9, 30), 1) == D(2022, 10, 8)
    assert sorted(asked) == [D(2022, 10, n) for n in range(1, 9)]
    (tmp_path / "workdays.toml").write_text("extra_holidays = [2022-10-08]\n", encoding="utf-8")
    local = WorkCalendar.load(tmp_path)
    assert not local.is_workday(D(2022, 10, 8)) and cal.is_workday(D(2022, 10, 8))
    assert local.add_workdays(D(2022, 9, 30), 1) == D(2022, 10, 9)
