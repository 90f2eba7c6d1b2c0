"""Every region's schedule on the build date: the exam sitting it leads with and its cycles
(release window or announced date, review window, statuses).

Work shared by many regions is done once: a calendar per distinct set of layers and a cycle
per distinct (calendar, exam, estimate, announcement).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Optional

from erjian.core.errors import Problem, SiteError
from erjian.core.limits import WINDOW_YEARS
from erjian.core.memo import NO_MEMO, Memo, library_version
from erjian.dates.calendars import WorkCalendar, build_calendar
from erjian.dates.cycles import Cycle, compute_cycle, focus_exam, order_cycles, upcoming_exam
from erjian.input import models as m
from erjian.input.resolve import Region, ResolvedSite


@dataclass(frozen=True)
class RegionView:
    """A region with its computed schedules.

    ``cycles`` are the exam sittings the pages show, the one they lead with first (see
    ``cycles.order_cycles``); ``cycle`` is that leading one. ``pending_year`` is set when the
    focus cycle is over and the next exam is not recorded: pages then lead with the usual
    timing of that year's exam, before ``cycle``. ``next_exam`` is the next recorded sitting
    that has not started (it has its cycle in ``cycles``)."""

    region: Region
    cycle: Optional[Cycle]
    next_exam: Optional[m.Exam]
    cycles: tuple[Cycle, ...] = ()
    pending_year: Optional[int] = None

    @property
    def specialties(self) -> list[m.Specialty]:
        return [m.SPECIALTIES[code] for code in self.region.specialties]

    @property
    def chronological(self) -> tuple[Cycle, ...]:
        """The cycles the pages show, earliest exam first."""
        return tuple(sorted(self.cycles, key=lambda c: c.exam.first_day))

    def next_step(self):
        """(cycle, milestone) of the first stage not over yet across every cycle shown, or
        (latest cycle, None) when all are over."""
        for cycle in self.chronological:
            milestone = cycle.next_milestone()
            if milestone is not None:
                return cycle, milestone
        return self.chronological[-1], None


def future_releases(site: ResolvedSite, today: dt.date) -> list[Problem]:
    """Release notices dated after the build date: the pages would call a release that has
    not happened 'confirmed by an official notice'."""
    return [Problem(notice.file, _front_matter_line(site.input.root / notice.file,
                                                    "release_date"), "release_date",
                    f"{notice.release_date.isoformat()} is after the build date "
                    f"{today.isoformat()}: a release notice records scores that have been "
                    "released", "until that day keep the notice as kind 'general' (the "
                    "estimate stays on the pages), or check the date")
            for notice in site.input.notices
            if notice.kind == "release" and notice.release_date
            and notice.release_date > today]


def _front_matter_line(path, key: str) -> int | None:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeError):
        return None
    return next((n for n, line in enumerate(lines, 1) if line.startswith(f"{key}:")), None)


class Planner:
    """Computes every region's schedule on ``today``, sharing calendars and cycles.
    Calendars are kept in ``memo`` between runs, keyed by the data and library versions
    they are built from."""

    def __init__(self, site: ResolvedSite, today: dt.date, memo: Memo = NO_MEMO):
        self.site, self.today, self.memo = site, today, memo
        future = future_releases(site, today)
        if future:
            raise SiteError(future)
        inputs = site.input
        years = [e.year for r in site.regions for e in r.exams]
        years += [e.year for p in site.provinces for e in p.exams]
        # Every schedule is counted from an exam's last day or an announced release date.
        starts = [*years, *(a.date.year for a in site.announcements.values())]
        self.first_year = min([*inputs.site.calendar_years, *starts])
        self.last_year = max([*inputs.site.calendar_years, *(y + WINDOW_YEARS for y in starts)])
        self._calendars: dict[tuple, WorkCalendar] = {}
        self._cycles: dict[tuple, Cycle] = {}
        self._record = None

    @property
    def record(self):
        """Every recorded past release against the estimate (erjian.dates.history)."""
        if self._record is None:
            from erjian.dates.history import backtest

            self._record = backtest(self.site, self.calendar)
        return self._record

    def calendar(self, layer_slugs: tuple[str, ...]) -> WorkCalendar:
        key = ("national", *layer_slugs)
        if key not in self._calendars:
            inputs = self.site.input
            layers = [inputs.layers[slug] for slug in key]
            data = {slug: inputs.calendar_years.get(slug, {}) for slug in key}
            memo_key = ("calendar", repr(layers), repr(data), self.first_year, self.last_year,
                        library_version("holidays"), library_version("hijridate"))
            self._calendars[key] = self.memo.get(memo_key, lambda: build_calendar(
                layers, data, self.first_year, self.last_year))
        return self._calendars[key]

    def _cycle(self, region: Region, exam: m.Exam) -> Cycle:
        announcement = self.site.announcement(region, exam)
        key = (region.calendar_layers, exam, region.estimate, announcement)
        if key not in self._cycles:
            self._cycles[key] = compute_cycle(self.calendar(region.calendar_layers), exam,
                                              region.estimate, announcement, self.today)
        return self._cycles[key]

    def view(self, region: Region) -> RegionView:
        exam = focus_exam(region.exams, self.today)
        upcoming = upcoming_exam(region.exams, self.today)
        if upcoming is exam:
            upcoming = None
        if exam is None:
            return RegionView(region, None, None)
        following = self._cycle(region, upcoming) if upcoming is not None else None
        cycles, pending = order_cycles(self._cycle(region, exam), following)
        return RegionView(region, cycles[0], upcoming, cycles, pending)


@dataclass(frozen=True)
class Standing:
    """Where a region's exam cycle stands from ``since`` on, until the next Standing.

    ``phase`` is one of: ``ahead`` (the exam is not over), ``marking`` (exam over, release
    not yet due or announced for a later day), ``window`` (inside the estimated release
    window), ``released`` (the announced date has come or the window is over). ``review`` is the cycle's review milestone while it is still to come
    or open after the release, else None; ``next_cycle`` the recorded sitting that follows,
    ``next_year`` the year of an unrecorded one."""

    since: dt.date
    phase: str
    cycle: Cycle
    review: object = None
    next_cycle: Optional[Cycle] = None
    next_year: Optional[int] = None


def standings(view: RegionView, today: dt.date) -> list[Standing]:
    """The status line of every period from the build date on: the one in force on
    ``today`` first, then each later change, so that a page read weeks later (by a browser
    that knows its date) says where the cycle stands then. Empty without a recorded exam."""
    cycles = view.chronological
    points: list[Standing] = []
    start = dt.date.min
    for n, cycle in enumerate(cycles):
        following = cycles[n + 1] if n + 1 < len(cycles) else None
        points += _cycle_standings(cycle, following, start)
        start = points[-1].since
    points.sort(key=lambda p: p.since)
    points = list({p.since: p for p in points}.values())
    current = [p for p in points if p.since <= today]
    return current[-1:] + [p for p in points if p.since > today]


def _cycle_standings(cycle: Cycle, following: Optional[Cycle],
                     start: dt.date) -> list[Standing]:
    """A cycle's periods from ``start`` on; the last one begins where the cycle is over for
    the reader (release and review past) and the following sitting takes over."""
    exam, release, review = cycle.exam, cycle.release, cycle.milestone("review")
    after = {"next_cycle": following,
             "next_year": None if following else exam.year + 1}
    points = [Standing(start, "ahead", cycle),
              Standing(exam.last_day + dt.timedelta(days=1), "marking", cycle)]
    if not cycle.announcement:
        points.append(Standing(release.first, "window", cycle))
    released = release.last + dt.timedelta(days=1) if not cycle.announcement else release.first
    if review.last >= released:
        points.append(Standing(released, "released", cycle, review=review, **after))
    closed = max(released, review.last + dt.timedelta(days=1))
    points.append(Standing(closed, "released", cycle, **after))
    return sorted(points, key=lambda p: p.since)
