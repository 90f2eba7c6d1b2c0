"""Calendars: China's working-day calendar, national plus regional layers.

Pure computation: the inputs are validated calendar years and layers; nothing here reads a
file. A year that has no published arrangement is projected from the statutory holiday rules
(the ``holidays`` package for the national calendar, ``hijridate`` for Islamic holidays) and is
marked ``projected``; every result that touches such a year is provisional.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from erjian.core.limits import CALENDAR_YEARS
from erjian.input.models import CalendarYear, HolidaySpan, Layer, Source

ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class YearBasis:
    """How one layer's year is known: published and checked, published but unchecked, or
    projected."""

    layer: str
    layer_name: str
    year: int
    projected: bool
    verified: bool
    source: Source | None

    @property
    def provisional(self) -> bool:
        return self.projected or not self.verified


@dataclass(frozen=True)
class Mark:
    """Why a date is special: its holiday name and the layer that says so."""

    holiday: str
    layer: str
    year: int


class WorkCalendar:
    """Days off and weekend working days of a set of layers over a span of years."""

    def __init__(self, days_off: dict[dt.date, Mark], working_weekends: dict[dt.date, Mark],
                 bases: tuple[YearBasis, ...], first_year: int, last_year: int):
        self._days_off = days_off
        self._working_weekends = working_weekends
        self.bases = bases
        self.first_year, self.last_year = first_year, last_year

    def is_working_day(self, day: dt.date) -> bool:
        if day in self._days_off:
            return False
        if day in self._working_weekends:
            return True
        return day.weekday() < 5

    def day_off(self, day: dt.date) -> Mark | None:
        """The holiday that makes ``day`` a day off (None on ordinary weekends too)."""
        return self._days_off.get(day)

    def working_weekend(self, day: dt.date) -> Mark | None:
        return self._working_weekends.get(day)

    def add_working_days(self, start: dt.date, count: int) -> dt.date:
        """The ``count``-th working day after ``start`` (``start`` itself is not counted)."""
        if count < 1:
            raise ValueError("count must be at least 1")
        day, remaining = start, count
        while remaining:
            day += ONE_DAY
            if day.year > self.last_year:
                raise ValueError(f"{day.isoformat()} is past the calendar's last year "
                                 f"{self.last_year}")
            if self.is_working_day(day):
                remaining -= 1
        return day

    def bases_for(self, first: dt.date, last: dt.date) -> tuple[YearBasis, ...]:
        years = set(range(first.year, last.year + 1))
        return tuple(b for b in self.bases if b.year in years)


def add_weekdays(start: dt.date, count: int) -> dt.date:
    """The ``count``-th Monday–Friday after ``start``, ignoring holidays: the baseline that shows
    how much the holidays pushed a window."""
    day, remaining = start, count
    while remaining:
        day += ONE_DAY
        if day.weekday() < 5:
            remaining -= 1
    return day


# --- projection -----------------------------------------------------------------------------

_PROJECTION_SOURCE = Source(title="按《全国年节及纪念日放假办法》规定的法定节日推算"
                                  "（holidays 库），当年国务院办公厅放假安排尚未收录")


def _base_name(name: str) -> str:
    name = name.split("（")[0]
    return "春节" if name == "农历除夕" else name


@lru_cache(maxsize=64)
def project_national_year(year: int) -> CalendarYear:
    """Statutory holidays of ``year`` as the ``holidays`` package computes them (lunar dates
    included). Weekend working days cannot be projected: they exist only once announced."""
    import holidays

    table = holidays.China(years=year, language="zh_CN")
    days = sorted((day, _base_name(name)) for day, name in table.items() if day.year == year)
    return CalendarYear(layer="national", year=year, source=_PROJECTION_SOURCE,
                        holidays=_spans(days), verified=False, projected=True)


def project_islamic_year(layer: Layer, year: int) -> CalendarYear:
    """Days off for ``layer``'s Islamic holidays in ``year`` (Umm al-Qura dates)."""
    from hijridate import Gregorian, Hijri

    days = []
    hijri_year = Gregorian(year, 1, 1).to_hijri().year
    for rule in layer.rules:
        for candidate in (hijri_year, hijri_year + 1):
            first = Hijri(candidate, rule.hijri_month, rule.hijri_day).to_gregorian()
            first = dt.date(first.year, first.month, first.day)
            if first.year == year:
                days.extend((first + ONE_DAY * i, rule.name) for i in range(rule.days_off))
    source = Source(title=f"按{layer.name}的规定推算（hijridate 库，乌姆库拉历），"
                          "当年自治区放假通知尚未收录")
    return CalendarYear(layer=layer.slug, year=year, source=source,
                        holidays=_spans(sorted(days)), verified=False, projected=True)


def _spans(days: list[tuple[dt.date, str]]) -> tuple[HolidaySpan, ...]:
    """Group consecutive days of the same holiday (weekends in between allowed) into spans."""
    spans: list[list] = []
    for day, name in days:
        if spans and spans[-1][0] == name and _only_weekend_between(spans[-1][2], day):
            spans[-1][2] = day
        else:
            spans.append([name, day, day])
    return tuple(HolidaySpan(name, first, last, ()) for name, first, last in spans)


def _only_weekend_between(earlier: dt.date, later: dt.date) -> bool:
    day = earlier + ONE_DAY
    while day < later:
        if day.weekday() < 5:
            return False
        day += ONE_DAY
    return True


# --- assembly -------------------------------------------------------------------------------

def year_or_projection(layer: Layer, known: dict[int, CalendarYear], year: int) -> CalendarYear:
    if year in known:
        return known[year]
    if layer.projection == "china_statutory":
        return project_national_year(year)
    return project_islamic_year(layer, year)


def build_calendar(layers: list[Layer], years_by_layer: dict[str, dict[int, CalendarYear]],
                   first_year: int, last_year: int) -> WorkCalendar:
    """The working-day calendar of ``layers`` (national first) for the given years.

    A day off in any layer is a day off; a weekend day is a working day when a layer's
    arrangement says so and no layer gives it off. Only years in ``limits.CALENDAR_YEARS``
    can be projected; validation keeps every date within reach of them.
    """
    if first_year <= last_year and (first_year not in CALENDAR_YEARS
                                    or last_year not in CALENDAR_YEARS):
        raise ValueError(f"calendar years {first_year}–{last_year} are outside "
                         f"{CALENDAR_YEARS[0]}–{CALENDAR_YEARS[-1]}")
    days_off: dict[dt.date, Mark] = {}
    working: dict[dt.date, Mark] = {}
    bases = []
    for layer in layers:
        known = years_by_layer.get(layer.slug, {})
        for year in range(first_year, last_year + 1):
            cal_year = year_or_projection(layer, known, year)
            bases.append(YearBasis(layer.slug, layer.name, year, cal_year.projected,
                                   cal_year.verified, cal_year.source))
            for span in cal_year.holidays:
                mark = Mark(span.name, layer.slug, year)
                day = span.first_day_off
                while day <= span.last_day_off:
                    days_off.setdefault(day, mark)
                    day += ONE_DAY
                for weekend_day in span.working_weekends:
                    working.setdefault(weekend_day, mark)
    for day in days_off:
        working.pop(day, None)
    return WorkCalendar(days_off, working, tuple(bases), first_year, last_year)
