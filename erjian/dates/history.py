"""The estimate held to account: every past exam whose real release date is recorded (a
``kind: release`` notice) checked against the window the method gives for it.

Pure: the resolved site and a calendar source come in; nothing is read or written. The
window is counted exactly as on the pages (erjian.dates.windows.release_window on the province's
calendar layers and estimate), so that the record shown is the record of what readers see.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Callable, Iterable

from erjian.core.errors import Problem
from erjian.dates.calendars import ONE_DAY, WorkCalendar, build_calendar
from erjian.dates.windows import release_window
from erjian.input import models as m
from erjian.input.yaml_loader import line_in_file
from erjian.input.resolve import ResolvedSite, resolve
from erjian.input.validate import SiteInput

# from_history: the recorded spans widened by this many working days on each side.
HISTORY_MARGIN = 5
# from_history needs at least this many recorded years; so does a province's own record.
HISTORY_MIN_YEARS = 3


@dataclass(frozen=True)
class Row:
    """One past exam with a recorded release date."""

    province: str          # slug
    province_name: str
    year: int
    sitting: str
    exam_end: dt.date
    earliest: dt.date
    latest: dt.date
    released: dt.date
    span: int              # working days from the exam's last day to the release
    off: int               # 0 inside; working days before (negative) or after (positive)
    notice: str            # the release notice's slug

    @property
    def inside(self) -> bool:
        return self.off == 0

    def key(self) -> tuple:
        """What a page shows of the row, for incremental keys."""
        return (self.province, self.year, self.sitting, self.exam_end.isoformat(),
                self.earliest.isoformat(), self.latest.isoformat(),
                self.released.isoformat(), self.span, self.off, self.notice)


@dataclass(frozen=True)
class Record:
    rows: tuple[Row, ...]

    @property
    def hits(self) -> int:
        return sum(1 for r in self.rows if r.inside)

    @property
    def total(self) -> int:
        return len(self.rows)

    @property
    def rate(self) -> float | None:
        return self.hits / self.total if self.rows else None

    def of(self, province: str) -> "Record":
        return Record(tuple(r for r in self.rows if r.province == province))

    def key(self) -> tuple:
        return tuple(r.key() for r in self.rows)


def working_days_between(calendar: WorkCalendar, after: dt.date, until: dt.date) -> int:
    """Working days in (after, until]; negative, counted the other way, when ``until`` is
    earlier."""
    if until < after:
        return -working_days_between(calendar, until, after)
    count, day = 0, after + ONE_DAY
    while day <= until:
        if calendar.is_working_day(day):
            count += 1
        day += ONE_DAY
    return count


def release_notices(notices: Iterable[m.Notice], province: m.Province
                    ) -> dict[tuple, m.Notice]:
    """The release notices about the province (or one of its regions), by (exam year,
    sitting); validation allows one per province, exam year and sitting."""
    found: dict[tuple, m.Notice] = {}
    prefix = f"{province.slug}/"
    for notice in sorted(notices, key=lambda n: (n.date, n.slug)):
        if notice.kind != "release" or not notice.release_date or notice.exam_year is None:
            continue
        if province.slug in notice.provinces or any(k.startswith(prefix)
                                                    for k in notice.regions):
            found[(notice.exam_year, notice.sitting)] = notice
    return found


def province_rows(province: m.Province, exams, estimate: m.Estimate,
                  calendar: WorkCalendar, notices: dict[tuple, m.Notice]) -> list[Row]:
    rows = []
    for exam in sorted(exams, key=lambda e: (e.year, e.first_day)):
        notice = notices.get(exam.key)
        if notice is None:
            continue
        window = release_window(calendar, exam.last_day, estimate.min_working_days,
                                estimate.max_working_days)
        released = notice.release_date
        if released < window.earliest:
            off = -working_days_between(calendar, released, window.earliest)
        elif released > window.latest:
            off = working_days_between(calendar, window.latest, released)
        else:
            off = 0
        rows.append(Row(province.slug, province.name, exam.year, exam.sitting, exam.last_day,
                        window.earliest, window.latest, released,
                        working_days_between(calendar, exam.last_day, released), off,
                        notice.slug))
    return rows


def backtest(site, calendar_for: Callable[[tuple], WorkCalendar]) -> Record:
    """Every province's recorded years in ``site`` (a resolve.ResolvedSite; not imported
    here, as resolve uses this module for from_history), sorted by province and year, each
    counted with the province's calendar and the estimate its pages use (for
    ``from_history``, the one taken from the record itself). ``calendar_for`` gives the
    calendar of a tuple of layer slugs (Planner.calendar)."""
    rows: list[Row] = []
    for province in sorted(site.provinces, key=lambda p: p.slug):
        notices = release_notices(site.input.notices, province)
        if not notices:
            continue
        rows += province_rows(province, province.exams, province.estimate,
                              calendar_for(tuple(province.calendar_layers)), notices)
    return Record(tuple(rows))


def recorded_spans(notices: Iterable[m.Notice], province: m.Province,
                   calendar: WorkCalendar) -> list[int]:
    """Working days from each recorded exam's last day to its real release."""
    found = release_notices(notices, province)
    return [working_days_between(calendar, exam.last_day, found[exam.key].release_date)
            for exam in province.exams if exam.key in found]


def history_estimate(estimate: m.Estimate, spans: list[int]) -> m.Estimate | None:
    """The estimate from a province's own record: the smallest and largest recorded span
    widened by HISTORY_MARGIN working days each side (kept within the schema's bounds);
    None with fewer than HISTORY_MIN_YEARS recorded spans."""
    from dataclasses import replace

    if len(spans) < HISTORY_MIN_YEARS:
        return None
    low = max(10, min(spans) - HISTORY_MARGIN)
    high = min(m.MAX_RELEASE_WORKING_DAYS, max(spans) + HISTORY_MARGIN)
    basis = (f"按本省近{len(spans)}年实际出分间隔（考试结束后第{min(spans)}–{max(spans)}个"
             f"工作日）各放宽{HISTORY_MARGIN}个工作日")
    return replace(estimate, min_working_days=low, max_working_days=max(low, high),
                   basis=basis)


def resolve_with_history(inputs: SiteInput) -> ResolvedSite:
    """The site resolved after every ``estimate: {from_history: true}`` is counted from the
    province's record: how each command (build, check, preview, backtest) resolves it."""
    return resolve(apply_history(inputs))


def apply_history(site: SiteInput) -> SiteInput:
    """Provinces and region files that say ``estimate: {from_history: true}`` get the
    estimate of the province's own record (history_estimate); too short a record is an
    error of the file that says from_history."""
    provinces, problems = dict(site.provinces), []
    for slug, province in site.provinces.items():
        if province.estimate.from_history:
            provinces[slug] = replace(province, estimate=_history_estimate(
                site, province, province.estimate, province.file, problems))
    regions = [_region_with_history(site, region_file, problems)
               for region_file in site.regions]
    return replace(site, provinces=provinces, regions=regions, errors=site.errors + problems)


def _region_with_history(site: SiteInput, region_file: m.RegionFile,
                         problems: list[Problem]) -> m.RegionFile:
    """``region_file`` with its own from_history estimate counted from its province's
    record (regions below it inherit the result)."""
    estimate = region_file.overrides.get("estimate")
    province = site.provinces.get(region_file.province)
    if estimate is None or not estimate.from_history or province is None:
        return region_file
    counted = _history_estimate(site, province, estimate, region_file.file, problems)
    return replace(region_file, overrides={**region_file.overrides, "estimate": counted})


def _history_estimate(site: SiteInput, province: m.Province, estimate: m.Estimate,
                      file: str, problems: list[Problem]) -> m.Estimate:
    """``estimate`` counted from the province's recorded releases; an error (and
    ``estimate`` unchanged) with fewer than HISTORY_MIN_YEARS of them."""
    found = release_notices(site.notices, province)
    exams = [e for e in province.exams if e.key in found]
    spans: list[int] = []
    if len(exams) >= HISTORY_MIN_YEARS:
        slugs = ("national", *province.calendar_layers)
        if all(s in site.layers for s in slugs):
            first = min(e.last_day.year for e in exams)
            last = max(found[e.key].release_date.year for e in exams)
            calendar = build_calendar([site.layers[s] for s in slugs],
                                      {s: site.calendar_years.get(s, {}) for s in slugs},
                                      first, last)
            spans = recorded_spans(site.notices, province, calendar)
    made = history_estimate(estimate, spans)
    if made is None:
        problems.append(Problem(
            file, line_in_file(site.root / file, "estimate", "from_history"),
            "estimate.from_history",
            f"from_history needs at least {HISTORY_MIN_YEARS} past exams of "
            f"{province.name} with a recorded release date (a 'kind: release' notice with "
            f"release_date and exam_year); {len(exams)} found",
            "add the missing release notices, or remove from_history and set "
            "min_working_days and max_working_days"))
        return estimate
    return made
