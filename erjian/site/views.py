"""What each page shows, as plain data for the templates (and the JSON API).

Work shared by many pages is done once: a calendar per distinct set of layers, a cycle per
distinct (calendar, exam, estimate, announcement), and the province-level lists per province.
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
from erjian.input import placenames
from erjian.input.resolve import Region, ResolvedSite, derive_stem


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


def search_terms(region: Region, memo: Memo = NO_MEMO) -> str:
    """What the home page's filter matches: the names, their full pinyin and initials
    (塔城地区 → tacheng, tachengdiqu, tc, tcdq), and the slugs."""
    names = {region.name, derive_stem(region.name)}
    terms = set(names) | {region.slug, region.province.slug, region.province.short_name}
    if region.pinyin:
        terms.update(region.pinyin.split())
    else:
        for name in names:
            terms.update(memo.get(("pinyin", name, library_version("pypinyin"),
                                   placenames.version()),
                                  lambda name=name: placenames.forms(name)))
    return " ".join(sorted(t for t in terms if t))


def exam_event_ld(view: RegionView, specialty: m.Specialty, page_url: str) -> dict | None:
    """schema.org Event for the exam sitting a guide page is about."""
    cycle = view.cycle
    if cycle is None:
        return None
    region, exam = view.region, cycle.exam
    scores = [a for a in region.authorities if a.role in ("scores", "exam")]
    event = {
        "@context": "https://schema.org", "@type": "Event",
        "name": f"{exam.year}年度二级建造师执业资格考试（{specialty.name}，"
                f"{region.province.short_name}）",
        "startDate": exam.first_day.isoformat(), "endDate": exam.last_day.isoformat(),
        "eventStatus": "https://schema.org/EventScheduled",
        "eventAttendanceMode": "https://schema.org/OfflineEventAttendanceMode",
        "location": {"@type": "Place", "name": region.name,
                     "address": {"@type": "PostalAddress", "addressRegion":
                                 region.province.name, "addressLocality": region.name,
                                 "addressCountry": "CN"}},
        "url": page_url,
        "description": "考试日期未经官方通知核实" if not exam.confirmed else
                       f"{region.province.name}统一组织的二级建造师考试",
    }
    if scores:
        event["organizer"] = {"@type": "Organization", "name": scores[0].name,
                              "url": scores[0].url}
    return event


def _source(source: m.Source | None) -> dict | None:
    if source is None:
        return None
    return {"title": source.title, "document": source.document,
            "published": source.published.isoformat() if source.published else None,
            "url": source.url}


def _basis(basis) -> dict:
    return {"layer": basis.layer, "year": basis.year, "projected": basis.projected,
            "verified": basis.verified}


def api_record(view: RegionView, specialty: m.Specialty, page_url: str) -> dict:
    """One record of api/regions.json (documented field by field in docs/api.md). The
    top-level ``exam``, ``release``, ``review`` and ``rolling_validity_years`` describe the
    leading cycle; ``cycles`` lists every cycle the page shows, leading first."""
    region, cycle = view.region, view.cycle
    record = {
        "province": {"slug": region.province.slug, "name": region.province.name},
        "region": {"slug": region.slug, "name": region.name, "level": region.level},
        "specialty": {"code": specialty.code, "name": specialty.name},
        "url": page_url,
        "exam": None, "release": None, "review": None,
        "authorities": [{"name": a.name, "url": a.url, "role": a.role,
                         "verified": a.verified.isoformat() if a.verified else None}
                        for a in region.authorities],
        "rolling_validity_years": None,
        "cycles": [],
        "next_exam_unrecorded": None,
    }
    if view.pending_year is not None:
        record["next_exam_unrecorded"] = {"year": view.pending_year,
                                          "usual_timing": m.STAGES["exam"].usual}
    if cycle is None:
        return record
    record.update(_cycle_record(cycle))
    record["cycles"] = [_cycle_record(c) for c in view.cycles]
    return record


def _cycle_record(cycle: Cycle) -> dict:
    exam, window = cycle.exam, cycle.window
    announced = cycle.announcement
    return {
        "exam": {"year": exam.year, "sitting": exam.sitting,
                 "days": [d.isoformat() for d in exam.days],
                 "confirmed": exam.confirmed, "source": _source(exam.source)},
        "release": {
            "status": cycle.release_status,
            "earliest": window.earliest.isoformat(),
            "latest": window.latest.isoformat(),
            "working_days": [window.min_working_days, window.max_working_days],
            "announced_date": announced.date.isoformat() if announced else None,
            "announcement": ({"title": announced.notice.title, "source": _source(
                announced.notice.source)} if announced else None),
            "provisional": window.provisional,
            "calendar_basis": [_basis(b) for b in window.bases],
        },
        "review": {
            "opens": cycle.review.opens.isoformat(), "closes": cycle.review.closes.isoformat(),
            "working_days": cycle.review.working_days, "estimated": cycle.review.estimated,
            "provisional": cycle.review.provisional,
            "recorded": cycle.review.recorded,
            "status": cycle.milestone("review").status,
        },
        "rolling_validity_years": list(cycle.rolling),
        "stages": [_stage_record(key, ms) for key, ms in cycle.stages()],
    }


def _stage_record(key: str, ms) -> dict:
    """One stage of a cycle: its dates when recorded or computed, else its usual timing."""
    kind = m.STAGES[key]
    if ms is None:
        return {"key": key, "name": kind.name, "first": None, "last": None, "status": None,
                "recorded": False, "estimated": False, "provisional": False,
                "source": None, "note": None, "usual_timing": kind.usual}
    return {"key": key, "name": kind.name, "first": ms.first.isoformat(),
            "last": ms.last.isoformat(), "status": ms.status, "recorded": ms.recorded,
            "estimated": ms.estimated, "provisional": ms.provisional,
            "source": _source(ms.source), "note": ms.note, "usual_timing": None}
