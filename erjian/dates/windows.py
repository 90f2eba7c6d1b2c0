"""Windows: when scores are expected, when a review can be requested, and where each
milestone stands on a given day. Pure functions over a :class:`WorkCalendar`.

The release window is [last exam day + a working days, last exam day + b working days]. A
holiday inside that span pushes both ends later; a weekend made a working day (调休) pulls them
earlier. The explanation records both, per holiday, against a plain Monday–Friday count.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from erjian.dates.calendars import ONE_DAY, WorkCalendar, YearBasis, add_weekdays

UPCOMING, OPEN, ANNOUNCED, PAST = "upcoming", "open", "announced", "past"


@dataclass(frozen=True)
class HolidayEffect:
    """One holiday's effect on a counted span: weekdays it took off, weekend days it made
    working days."""

    name: str
    year: int
    layer: str
    weekdays_off: tuple[dt.date, ...]
    working_weekends: tuple[dt.date, ...]

    @property
    def net_days(self) -> int:
        """Working days the holiday cost: positive pushes the window later."""
        return len(self.weekdays_off) - len(self.working_weekends)


@dataclass(frozen=True)
class ReleaseWindow:
    exam_end: dt.date
    min_working_days: int
    max_working_days: int
    earliest: dt.date
    latest: dt.date
    weekday_earliest: dt.date
    weekday_latest: dt.date
    effects: tuple[HolidayEffect, ...]
    bases: tuple[YearBasis, ...]

    @property
    def delay_days(self) -> int:
        """Calendar days the holidays moved the latest date, against Monday–Friday counting."""
        return (self.latest - self.weekday_latest).days

    @property
    def provisional(self) -> bool:
        return any(b.provisional for b in self.bases)

    @property
    def provisional_bases(self) -> tuple[YearBasis, ...]:
        return tuple(b for b in self.bases if b.provisional)


@dataclass(frozen=True)
class ReviewWindow:
    """Requests for a score review are accepted from ``opens`` until ``closes``. When the release
    is only estimated, ``opens`` is the earliest possible and ``closes`` the latest."""

    opens: dt.date
    closes: dt.date
    working_days: int
    estimated: bool
    bases: tuple[YearBasis, ...]
    recorded: bool = False     # dates from the exam's own 'review' entry, not computed

    @property
    def provisional(self) -> bool:
        return any(b.provisional for b in self.bases)


def holiday_effects(calendar: WorkCalendar, after: dt.date, until: dt.date
                    ) -> tuple[HolidayEffect, ...]:
    """Holidays that changed the working-day count in (after, until], in date order."""
    off: dict[tuple, list] = {}
    worked: dict[tuple, list] = {}
    day = after + ONE_DAY
    while day <= until:
        if day.weekday() < 5 and (mark := calendar.day_off(day)):
            off.setdefault((mark.holiday, mark.year, mark.layer), []).append(day)
        elif day.weekday() >= 5 and (mark := calendar.working_weekend(day)):
            if calendar.is_working_day(day):
                worked.setdefault((mark.holiday, mark.year, mark.layer), []).append(day)
        day += ONE_DAY
    keys = sorted(set(off) | set(worked),
                  key=lambda k: min(off.get(k, []) + worked.get(k, [])))
    return tuple(HolidayEffect(name, year, layer, tuple(off.get((name, year, layer), ())),
                               tuple(worked.get((name, year, layer), ())))
                 for name, year, layer in keys)


def release_window(calendar: WorkCalendar, exam_end: dt.date, min_working_days: int,
                   max_working_days: int) -> ReleaseWindow:
    earliest = calendar.add_working_days(exam_end, min_working_days)
    latest = calendar.add_working_days(exam_end, max_working_days)
    return ReleaseWindow(
        exam_end=exam_end, min_working_days=min_working_days,
        max_working_days=max_working_days, earliest=earliest, latest=latest,
        weekday_earliest=add_weekdays(exam_end, min_working_days),
        weekday_latest=add_weekdays(exam_end, max_working_days),
        effects=holiday_effects(calendar, exam_end, latest),
        bases=calendar.bases_for(exam_end, latest))


def review_window(calendar: WorkCalendar, release_first: dt.date, release_last: dt.date,
                  working_days: int, estimated: bool) -> ReviewWindow:
    """Review requests open on the release day and close ``working_days`` working days later.

    The release day itself counts as the first day when it is a working day, as review notices
    usually say "自成绩发布之日起N个工作日内".
    """
    closes = _nth_working_day_from(calendar, release_last, working_days)
    return ReviewWindow(release_first, closes, working_days, estimated,
                        calendar.bases_for(release_first, closes))


def _nth_working_day_from(calendar: WorkCalendar, first: dt.date, count: int) -> dt.date:
    if calendar.is_working_day(first):
        return first if count == 1 else calendar.add_working_days(first, count - 1)
    return calendar.add_working_days(first, count)


def span_status(today: dt.date, first: dt.date, last: dt.date) -> str:
    if today < first:
        return UPCOMING
    if today <= last:
        return OPEN
    return PAST


def release_status(today: dt.date, window: ReleaseWindow, announced: dt.date | None) -> str:
    """Where the release stands: announced (date known, not yet reached), past (released or
    window over), open (inside the estimated window) or upcoming."""
    if announced:
        return ANNOUNCED if today < announced else PAST
    return span_status(today, window.earliest, window.latest)


def rolling_years(exam_year: int) -> tuple[int, int]:
    """The two consecutive exam years within which every subject must be passed, counting
    ``exam_year`` as the first."""
    return exam_year, exam_year + 1
