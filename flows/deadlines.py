"""Working-day arithmetic for the disclosure deadlines (《政府信息公开条例》art. 26 and 33).

Working days exclude weekends and statutory holidays and include the make-up workdays (调休)
of the State Council's yearly arrangement. The `chinese-calendar` package carries those
arrangements for the years it ships (1.11.0: 2004-2026) and raises NotImplementedError for
any other year. A year it does not know must never crash anything: such a year is counted
weekends-only and every result that touched it is marked provisional, until an office loads
the arrangement published for that year from a JSON file:

    {"year": 2027, "holidays": ["2027-01-01", ...], "workdays": ["2027-02-07", ...]}

(`WorkCalendar.load_year_file(path)`, or `WorkCalendar.load(dir)` for a folder of them).
A loaded year takes precedence over the package's data for that year.

Pure apart from the explicit file loading functions: no Prefect, no database.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import chinese_calendar

PUBLICATION_WORKING_DAYS = 20  # art. 26: within 20 working days of creation or change
AT_RISK_WORKING_DAYS = 3  # this few working days left (or fewer) counts as at risk

DeadlineStatus = Literal["overdue", "at_risk", "ok"]


class HolidayFileError(ValueError):
    """A holiday arrangement file that cannot be used. The message names the file and why."""


@dataclass(frozen=True, slots=True)
class YearArrangement:
    """One year's official arrangement: the weekday holidays and the weekend make-up workdays
    (listing a weekend day as a holiday is allowed and changes nothing)."""

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]
    source: str = ""


@dataclass(frozen=True, slots=True)
class Deadline:
    due: date
    provisional: bool  # counted at least partly in a year without an official arrangement


def _as_date(value: date) -> date:
    # datetime is a date subclass; a deadline is a calendar date.
    return value.date() if isinstance(value, datetime) else value


def parse_year_arrangement(data: Mapping[str, Any], *, source: str = "") -> YearArrangement:
    """Validate one arrangement (the JSON shape above). Raises HolidayFileError on anything
    off: a missing year, a date outside the year, a day both holiday and workday, or a
    make-up workday that is not a Saturday or Sunday (调休 workdays always are)."""
    where = source or "holiday arrangement"
    if not isinstance(data, Mapping):
        raise HolidayFileError(f"{where}: expected a JSON object with year, holidays, workdays")
    year = data.get("year")
    if not isinstance(year, int) or isinstance(year, bool) or not 1949 <= year <= 9999:
        raise HolidayFileError(f"{where}: 'year' must be a year number, not {year!r}")
    unknown = set(data) - {"year", "holidays", "workdays", "source", "notes"}
    if unknown:
        raise HolidayFileError(f"{where}: unknown keys {', '.join(sorted(unknown))}")

    def dates(key: str) -> frozenset[date]:
        raw = data.get(key, [])
        if not isinstance(raw, list):
            raise HolidayFileError(f"{where}: '{key}' must be a list of YYYY-MM-DD dates")
        out: set[date] = set()
        for item in raw:
            try:
                day = date.fromisoformat(item) if isinstance(item, str) else None
            except ValueError:
                day = None
            if day is None:
                raise HolidayFileError(f"{where}: '{key}' holds {item!r}, not a YYYY-MM-DD date")
            if day.year != year:
                raise HolidayFileError(f"{where}: {item} in '{key}' is not in {year}")
            out.add(day)
        return frozenset(out)

    holidays, workdays = dates("holidays"), dates("workdays")
    both = sorted(holidays & workdays)
    if both:
        listed = ", ".join(d.isoformat() for d in both)
        raise HolidayFileError(f"{where}: {listed} listed both as holiday and as workday")
    weekday_workdays = sorted(d for d in workdays if d.weekday() < 5)
    if weekday_workdays:
        listed = ", ".join(d.isoformat() for d in weekday_workdays)
        raise HolidayFileError(
            f"{where}: make-up workdays must fall on a Saturday or Sunday; {listed} do not"
        )
    if not holidays:
        raise HolidayFileError(f"{where}: no holidays listed for {year}")
    return YearArrangement(year, holidays, workdays, source)


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("chinese-calendar")
    except PackageNotFoundError:  # vendored or renamed: the data is still there
        return "(version unknown)"


class WorkCalendar:
    """Which days are working days. Years come from loaded arrangements first, then from
    `chinese-calendar`; a year neither knows is weekends-only and `is_known(year)` is False."""

    def __init__(self, arrangements: Iterable[YearArrangement] = ()) -> None:
        self._loaded: dict[int, YearArrangement] = {}
        self._package_knows: dict[int, bool] = {}
        # Files load() could not use (strict=False): their years stay provisional.
        self.problems: list[str] = []
        # chinese-calendar answers in ~20 µs a day; a deadline asks about ~30 days and the
        # ingest flow asks for every document, so answers are remembered.
        self._workday_cache: dict[date, bool] = {}
        for arrangement in arrangements:
            self.add_year(arrangement)

    # -- loading ---------------------------------------------------------------------------

    @classmethod
    def load(cls, holidays_dir: Path | None, *, strict: bool = True) -> WorkCalendar:
        """A calendar with every `*.json` arrangement in `holidays_dir` loaded (a missing or
        None folder loads nothing). Two files for the same year are an error. With `strict`
        False, a file that cannot be used is skipped instead, with the reason in `problems`:
        a mistyped file must not stop intake; its year stays provisional until it is fixed."""
        calendar = cls()
        if holidays_dir is None or not Path(holidays_dir).is_dir():
            return calendar
        for path in sorted(Path(holidays_dir).glob("*.json")):
            try:
                arrangement = read_year_file(path)
                if arrangement.year in calendar._loaded:
                    raise HolidayFileError(
                        f"{path}: {arrangement.year} is already loaded from "
                        f"{calendar._loaded[arrangement.year].source}"
                    )
            except HolidayFileError as exc:
                if strict:
                    raise
                calendar.problems.append(str(exc))
                continue
            calendar.add_year(arrangement)
        return calendar

    def load_year_file(self, path: Path | str) -> YearArrangement:
        """Read one year's arrangement from a JSON file into this calendar (replacing an
        earlier one for that year) and return it."""
        arrangement = read_year_file(Path(path))
        self.add_year(arrangement)
        return arrangement

    def add_year(self, arrangement: YearArrangement) -> None:
        self._loaded[arrangement.year] = arrangement
        self._workday_cache.clear()

    @property
    def loaded_years(self) -> tuple[int, ...]:
        return tuple(sorted(self._loaded))

    def sources(self) -> dict[str, str]:
        """Where each year's arrangement comes from: "chinese-calendar <version>" for the
        years the package ships (one entry, "first-last"), the file for each loaded year."""
        first, last = min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year
        found = {f"{first}-{last}": f"chinese-calendar {_package_version()}"}
        found.update((str(year), str(a.source)) for year, a in sorted(self._loaded.items()))
        return found

    # -- questions -------------------------------------------------------------------------

    def is_known(self, year: int) -> bool:
        """True when an official arrangement is available for `year` (loaded or shipped)."""
        if year in self._loaded:
            return True
        if year not in self._package_knows:
            try:
                chinese_calendar.is_workday(date(year, 6, 1))
                self._package_knows[year] = True
            except NotImplementedError:
                self._package_knows[year] = False
        return self._package_knows[year]

    def is_workday(self, day: date) -> bool:
        day = _as_date(day)
        cached = self._workday_cache.get(day)
        if cached is None:
            cached = self._workday_cache[day] = self._compute_workday(day)
        return cached

    def _compute_workday(self, day: date) -> bool:
        loaded = self._loaded.get(day.year)
        if loaded is not None:
            if day in loaded.workdays:
                return True
            if day in loaded.holidays:
                return False
            return day.weekday() < 5
        if self.is_known(day.year):
            # The package's own rule (chinese_calendar.is_workday), from its published tables:
            # is_workday itself checks the year range on every call by scanning all of its
            # holidays (min and max of ~600 dates), ~40 µs a day; is_known checked it once.
            return day in chinese_calendar.workdays or (
                day.weekday() < 5 and day not in chinese_calendar.holidays
            )
        return day.weekday() < 5  # weekends only: provisional

    def add_working_days(self, start: date, working_days: int) -> Deadline:
        """The `working_days`-th working day after `start` (the day after `start` is the first
        day counted). Provisional if any day counted lies in an unknown year."""
        start = _as_date(start)
        if working_days < 0:
            raise ValueError(f"working_days must be 0 or more, not {working_days}")
        provisional = False
        day, counted = start, 0
        while counted < working_days:
            day += timedelta(days=1)
            provisional = provisional or not self.is_known(day.year)
            if self.is_workday(day):
                counted += 1
        return Deadline(day, provisional)

    def working_days_between(self, a: date, b: date) -> int:
        """Working days in (a, b] when b >= a; minus the working days in (b, a] when b < a.
        So `working_days_between(today, due)` is how many working days are left until the due
        date (0 on the due date itself), negative once it has passed."""
        a, b = _as_date(a), _as_date(b)
        sign = 1
        if b < a:
            a, b, sign = b, a, -1
        count, day = 0, a
        while day < b:
            day += timedelta(days=1)
            if self.is_workday(day):
                count += 1
        return sign * count


def read_year_file(path: Path) -> YearArrangement:
    """Read and validate one arrangement file; HolidayFileError says what is wrong with it."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise HolidayFileError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HolidayFileError(f"{path}: not valid UTF-8 JSON ({exc})") from None
    return parse_year_arrangement(data, source=str(path))


def publication_deadline(
    created: date,
    *,
    working_days: int = PUBLICATION_WORKING_DAYS,
    calendar: WorkCalendar,
) -> Deadline:
    """The date by which a document to be disclosed actively must be published: the
    `working_days`-th working day after its 成文日期 (art. 26, 20 working days).

    Counting convention: the 成文日期 itself is day 0 and is never counted; the first working
    day after it is day 1, and the deadline is the last day of the period (published on that
    day is in time). E.g. 2020-09-15 (a Tuesday) + 20 working days is 2020-10-20: the
    国庆+中秋 holiday 10-01..08 is skipped and the 调休 workdays 09-27 (Sunday) and 10-10
    (Saturday) count.
    """
    return calendar.add_working_days(created, working_days)


_PACKAGE_CALENDAR: WorkCalendar | None = None


def package_calendar() -> WorkCalendar:
    """A shared calendar of what `chinese-calendar` ships, nothing loaded (the default of the
    functions below; an office's calendar with loaded years is passed explicitly)."""
    global _PACKAGE_CALENDAR
    if _PACKAGE_CALENDAR is None:
        _PACKAGE_CALENDAR = WorkCalendar()
    return _PACKAGE_CALENDAR


def working_days_between(a: date, b: date, *, calendar: WorkCalendar | None = None) -> int:
    """See `WorkCalendar.working_days_between`."""
    return (calendar or package_calendar()).working_days_between(a, b)


def status(
    deadline: Deadline | date,
    today: date,
    *,
    calendar: WorkCalendar | None = None,
    at_risk_days: int = AT_RISK_WORKING_DAYS,
) -> DeadlineStatus:
    """overdue: the due date has passed; at_risk: `at_risk_days` working days or fewer are
    left (the due date itself counts as 0 left); ok otherwise."""
    due = deadline.due if isinstance(deadline, Deadline) else _as_date(deadline)
    today = _as_date(today)
    if due < today:
        return "overdue"
    if working_days_between(today, due, calendar=calendar) <= at_risk_days:
        return "at_risk"
    return "ok"
