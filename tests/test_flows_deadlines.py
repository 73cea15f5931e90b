"""Working-day deadlines across the Spring Festival and National Day, and unknown years."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gongkai.flows.deadlines import (
    AT_RISK_WORKING_DAYS,
    Deadline,
    HolidayFileError,
    WorkCalendar,
    parse_year_arrangement,
    publication_deadline,
    status,
    working_days_between,
)

D = date.fromisoformat


def _days(first: str, last: str) -> list[date]:
    start, end = D(first), D(last)
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def _weekdays(first: str, last: str) -> list[date]:
    return [d for d in _days(first, last) if d.weekday() < 5]


def test_hongshan_2020_53_across_national_day() -> None:
    # 鸿政〔2020〕53号, 成文日期 2020-09-15 (Tuesday). Counted by hand from the State Council's
    # 2020 arrangement (国办发明电〔2019〕16号): 国庆+中秋 10-01..10-08 off; Sunday 09-27
    # and Saturday 10-10 are make-up workdays.
    by_hand = [
        *_weekdays("2020-09-16", "2020-09-25"),  # 8
        D("2020-09-27"),  # Sunday, 调休 workday: 9
        *_weekdays("2020-09-28", "2020-09-30"),  # 12
        D("2020-10-09"),  # Friday: 13
        D("2020-10-10"),  # the 调休 Saturday: 14
        *_weekdays("2020-10-12", "2020-10-19"),  # 20
    ]
    assert len(by_hand) == 20
    calendar = WorkCalendar()
    assert [d for d in _days("2020-09-16", "2020-10-19") if calendar.is_workday(d)] == by_hand
    assert publication_deadline(D("2020-09-15"), calendar=calendar) == Deadline(
        D("2020-10-19"), provisional=False
    )
    # Weekends-only counting would have said 10-13: the holidays matter.
    assert _weekdays("2020-09-16", "2020-10-13")[-1] == D("2020-10-13")
    assert len(_weekdays("2020-09-16", "2020-10-13")) == 20


def test_spring_festival_2024() -> None:
    # 2024: 02-10..02-17 off; Sundays 02-04 and 02-18 are workdays.
    calendar = WorkCalendar()
    assert calendar.is_workday(D("2024-02-04")) and calendar.is_workday(D("2024-02-18"))
    assert not any(calendar.is_workday(d) for d in _days("2024-02-10", "2024-02-17"))
    # 02-02, 02-04..02-09 = 7; 02-18..02-23 = 13; 02-26..03-01 = 18; 03-04, 03-05 = 20
    assert publication_deadline(D("2024-02-01"), calendar=calendar) == Deadline(
        D("2024-03-05"), False
    )


def test_spring_festival_2025_with_its_saturday_workday() -> None:
    # 2025: 01-28..02-04 off; Sunday 01-26 and Saturday 02-08 are workdays.
    calendar = WorkCalendar()
    assert calendar.is_workday(D("2025-01-26")) and calendar.is_workday(D("2025-02-08"))
    assert not calendar.is_workday(D("2025-02-04"))
    # 01-21..01-24 = 4, 01-26 = 5, 01-27 = 6, 02-05..02-08 = 10, 02-10..02-14 = 15,
    # 02-17..02-21 = 20
    due = publication_deadline(D("2025-01-20"), calendar=calendar)
    assert due == Deadline(D("2025-02-21"), provisional=False)
    assert working_days_between(D("2025-01-20"), due.due, calendar=calendar) == 20


def test_the_creation_day_is_day_zero() -> None:
    calendar = WorkCalendar()
    # Friday 2024-03-01: the next working day is Monday 03-04.
    assert publication_deadline(D("2024-03-01"), working_days=1, calendar=calendar).due == D(
        "2024-03-04"
    )
    assert publication_deadline(D("2024-03-01"), working_days=0, calendar=calendar).due == D(
        "2024-03-01"
    )
    with pytest.raises(ValueError):
        publication_deadline(D("2024-03-01"), working_days=-1, calendar=calendar)


def test_december_2026_reaches_into_2027_without_crashing() -> None:
    calendar = WorkCalendar()
    assert not calendar.is_known(2027)
    due = publication_deadline(D("2026-12-15"), calendar=calendar)
    # 12-16..12-31: 12 working days; 2027 weekends only: 01-01 (Fri) 13, 01-04..08 18,
    # 01-11 19, 01-12 20.
    assert due == Deadline(D("2027-01-12"), provisional=True)
    # Entirely inside a known year: not provisional.
    assert not publication_deadline(D("2026-11-02"), calendar=calendar).provisional
    assert status(due, D("2027-01-11"), calendar=calendar) == "at_risk"


def _write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


ARRANGEMENT_2027 = {
    "year": 2027,
    # An arrangement as an office would type it from the State Council notice (here a
    # New Year's holiday of three days and a make-up Saturday, for the test).
    "holidays": ["2027-01-01", "2027-01-02", "2027-01-03"],
    "workdays": ["2027-01-09"],
}


def test_a_loaded_2027_file_makes_the_deadline_final(tmp_path: Path) -> None:
    calendar = WorkCalendar()
    calendar.load_year_file(_write(tmp_path / "2027.json", ARRANGEMENT_2027))
    assert calendar.is_known(2027) and calendar.loaded_years == (2027,)
    assert not calendar.is_workday(D("2027-01-01"))
    assert calendar.is_workday(D("2027-01-09"))  # the make-up Saturday
    # 12 in December; 01-04..08 = 17, 01-09 = 18, 01-11 = 19, 01-12 = 20
    assert publication_deadline(D("2026-12-15"), calendar=calendar) == Deadline(
        D("2027-01-12"), provisional=False
    )
    # Without the Saturday it would be 01-13.
    other = WorkCalendar()
    other.load_year_file(_write(tmp_path / "b.json", {**ARRANGEMENT_2027, "workdays": []}))
    assert publication_deadline(D("2026-12-15"), calendar=other).due == D("2027-01-13")


def test_load_a_holidays_folder(tmp_path: Path) -> None:
    assert WorkCalendar.load(None).loaded_years == ()
    assert WorkCalendar.load(tmp_path / "missing").loaded_years == ()
    _write(tmp_path / "2027.json", ARRANGEMENT_2027)
    _write(tmp_path / "2028.json", {"year": 2028, "holidays": ["2028-01-01"]})
    (tmp_path / "README.txt").write_text("not a year file", encoding="utf-8")
    calendar = WorkCalendar.load(tmp_path)
    assert calendar.loaded_years == (2027, 2028)
    assert not calendar.is_workday(D("2028-01-01"))  # a Saturday anyway
    _write(tmp_path / "again.json", ARRANGEMENT_2027)
    with pytest.raises(HolidayFileError, match="2027 is already loaded"):
        WorkCalendar.load(tmp_path)
    # Not strict (how the service loads it): the unusable file is skipped and named.
    (tmp_path / "typo.json").write_text('{"year": 2029, "holidays": [', encoding="utf-8")
    lenient = WorkCalendar.load(tmp_path, strict=False)
    assert lenient.loaded_years == (2027, 2028)
    assert len(lenient.problems) == 2
    assert "2027 is already loaded" in lenient.problems[0]  # again.json, read first
    assert "typo.json: not valid UTF-8 JSON" in lenient.problems[1]
    assert not lenient.is_known(2029)
    sources = lenient.sources()
    assert sources["2027"].endswith("2027.json") and sources["2028"].endswith("2028.json")
    assert any(v.startswith("chinese-calendar ") for v in sources.values())


def test_a_loaded_year_overrides_the_package(tmp_path: Path) -> None:
    calendar = WorkCalendar()
    assert not calendar.is_workday(D("2026-10-01"))
    calendar.load_year_file(
        _write(tmp_path / "2026.json", {"year": 2026, "holidays": ["2026-05-01"]})
    )
    assert calendar.is_workday(D("2026-10-01"))  # the office's file is what counts


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "expected a JSON object"),
        ({"holidays": []}, "'year' must be a year number"),
        ({"year": "2027", "holidays": []}, "'year' must be a year number"),
        ({"year": 2027, "holidays": "2027-01-01"}, "must be a list"),
        ({"year": 2027, "holidays": ["2027-02-30"]}, "not a YYYY-MM-DD date"),
        ({"year": 2027, "holidays": ["2026-12-31"]}, "is not in 2027"),
        ({"year": 2027, "holidays": ["2027-01-01"], "workdays": ["2027-01-01"]}, "both"),
        ({"year": 2027, "holidays": ["2027-01-01"], "workdays": ["2027-01-04"]}, "Saturday"),
        ({"year": 2027, "holidays": []}, "no holidays"),
        ({"year": 2027, "holidays": ["2027-01-01"], "holiday": []}, "unknown keys holiday"),
    ],
)
def test_bad_arrangements_are_refused(data: object, message: str) -> None:
    with pytest.raises(HolidayFileError, match=message):
        parse_year_arrangement(data, source="x.json")  # type: ignore[arg-type]


def test_unreadable_files(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(HolidayFileError, match=r"bad\.json: not valid UTF-8 JSON"):
        WorkCalendar().load_year_file(tmp_path / "bad.json")
    with pytest.raises(HolidayFileError, match="cannot be read"):
        WorkCalendar().load_year_file(tmp_path / "none.json")


def test_working_days_between() -> None:
    calendar = WorkCalendar()
    assert working_days_between(D("2020-09-30"), D("2020-10-09"), calendar=calendar) == 1
    assert working_days_between(D("2020-10-09"), D("2020-09-30"), calendar=calendar) == -1
    assert working_days_between(D("2020-10-09"), D("2020-10-09"), calendar=calendar) == 0
    assert working_days_between(D("2020-09-30"), D("2020-10-12")) == 3  # package calendar
    assert calendar.working_days_between(D("2020-09-15"), D("2020-10-19")) == 20


def test_status() -> None:
    calendar = WorkCalendar()
    due = Deadline(D("2020-10-19"), False)
    assert status(due, D("2020-10-20"), calendar=calendar) == "overdue"
    assert status(due, D("2020-10-19"), calendar=calendar) == "at_risk"  # 0 left
    # 10-14 (Wed): 10-15, 16, 19 left = 3
    assert AT_RISK_WORKING_DAYS == 3
    assert status(due, D("2020-10-14"), calendar=calendar) == "at_risk"
    assert status(due, D("2020-10-13"), calendar=calendar) == "ok"  # 4 left
    assert status(due, D("2020-10-14")) == "at_risk"  # the package's calendar by default
    # Across the holiday from 09-30: 10-09..10-19 (with Saturday 10-10) = 8 left.
    assert calendar.working_days_between(D("2020-09-30"), D("2020-10-19")) == 8
    assert status(D("2020-10-19"), D("2020-09-30"), calendar=calendar) == "ok"


@settings(max_examples=150, deadline=None)
@given(
    start=st.dates(min_value=date(2004, 1, 1), max_value=date(2030, 12, 31)),
    n=st.integers(min_value=0, max_value=45),
)
def test_counting_forward_and_back_agree(start: date, n: int) -> None:
    calendar = WorkCalendar()
    due = calendar.add_working_days(start, n)
    assert calendar.working_days_between(start, due.due) == n
    if n:
        assert calendar.is_workday(due.due)
    # The days counted are (start, due]: their years decide whether the result is provisional.
    first = start + timedelta(days=1)
    counted_years = set(range(first.year, due.due.year + 1)) if due.due > start else set()
    assert due.provisional == any(not calendar.is_known(y) for y in counted_years)


def test_every_day_the_package_knows_is_answered_as_the_package_does() -> None:
    import chinese_calendar

    calendar = WorkCalendar()
    first, last = min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year
    days = _days(f"{first}-01-01", f"{last}-12-31")
    assert len(days) > 365 * 10
    assert [calendar.is_workday(d) for d in days] == [chinese_calendar.is_workday(d)
                                                       for d in days]  # fmt: skip
