"""What each page shows, as plain data for the templates (and the JSON API): a region's
search terms, its exam as structured data, its JSON record. The schedules themselves come
from erjian.dates.planner."""

from __future__ import annotations

from erjian.core.memo import NO_MEMO, Memo, library_version
from erjian.dates.cycles import Cycle
from erjian.dates.planner import RegionView
from erjian.input import models as m
from erjian.input import placenames
from erjian.input.resolve import Region, derive_stem


def search_forms(region: Region, memo: Memo = NO_MEMO) -> tuple[str, str, str, str]:
    """Full pinyin and initials of the name without its suffix and of the whole name
    (塔城地区 → tacheng, tc, tachengdiqu, tcdq), in the reviewed place-name readings."""
    stem = derive_stem(region.name)
    if region.pinyin:
        forms = region.pinyin.split()
        if len(forms) == 4:
            return forms[2], forms[3], forms[0], forms[1]
        if len(forms) == 2:
            return forms[0], forms[1], forms[0], forms[1]

    def read(name: str) -> tuple[str, str]:
        return memo.get(("pinyin", name, library_version("pypinyin"), placenames.version()),
                        lambda: placenames.forms(name))
    return (*read(stem), *read(region.name))


def search_terms(region: Region, memo: Memo = NO_MEMO) -> str:
    """What the home page's filter matches: the names, their full pinyin and initials
    (塔城地区 → tacheng, tachengdiqu, tc, tcdq), and the slugs."""
    names = {region.name, derive_stem(region.name)}
    terms = set(names) | {region.slug, region.province.slug, region.province.short_name}
    terms.update(search_forms(region, memo))
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
