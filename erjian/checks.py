"""Warnings: input that is legal but suspect. ``python build.py check`` reports them with the
errors; ``--strict`` makes them fail the run (what a site repository's CI should use)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from .errors import Problem, SiteError
from .load import line_in_file
from .pages import Planner
from .resolve import resolve, sets_own
from .validate import read_site

STALE_AFTER_DAYS = 180


def _line(root: Path, file: str, *path) -> int | None:
    return line_in_file(Path(root) / file, *path)


def _warn(file, line, field, message, hint) -> Problem:
    return Problem(file, line, field, message, hint, severity="warning")


def stale_links(root: Path, owners, today: dt.date):
    for owner in owners:
        if not sets_own(owner, "authorities"):
            continue
        for index, authority in enumerate(owner.authorities):
            if authority.verified and (today - authority.verified).days <= STALE_AFTER_DAYS:
                continue
            age = ("has never been verified" if authority.verified is None else
                   f"was last verified {(today - authority.verified).days} days ago")
            yield _warn(owner.file, _line(root, owner.file, "authorities", index),
                        f"authorities[{index + 1}].verified", f"link to {authority.name} {age}",
                        "open it, check it is the official site, and set 'verified' to "
                        "today's date")


def unsourced_exams(root: Path, owners):
    for owner in owners:
        if not sets_own(owner, "exams"):
            continue
        for index, exam in enumerate(owner.exams):
            if exam.source is None:
                yield _warn(owner.file, _line(root, owner.file, "exams", index),
                            f"exams[{index + 1}].source",
                            f"the {exam.year} exam days have no source",
                            "add 'source' with the title (and address) of the exam notice")


def regions_without_specialties(root: Path, regions):
    for region in regions:
        if not region.specialties:
            yield _warn(region.file, _line(root, region.file, "name"), "specialties",
                        f"{region.name} has no specialties, so it gets no guide page",
                        "list its specialties, or remove the empty 'specialties' override")


def projected_years(views):
    reported = set()
    for view in views:
        cycle = view.cycle
        if cycle is None:
            continue
        for basis in (*cycle.window.bases, *cycle.review.bases):
            if basis.projected and (basis.layer, basis.year) not in reported:
                reported.add((basis.layer, basis.year))
                yield _warn(f"calendars/{basis.layer}", None, None,
                            f"{basis.year} has no arrangement file; {basis.layer_name} is "
                            "projected and the dates that depend on it are shown as "
                            "provisional",
                            f"add calendars/{basis.layer}/{basis.year}.yaml once the official "
                            "arrangement is published")


def province_warnings(site, province, views, today: dt.date) -> list[Problem]:
    """Warnings about one province and its regions."""
    root = site.input.root
    regions = [v.region for v in views]
    owners = [province, *regions]
    return [*stale_links(root, owners, today), *unsourced_exams(root, owners),
            *regions_without_specialties(root, regions), *projected_years(views)]


def unique(problems: list[Problem]) -> list[Problem]:
    """Each problem once (the same projected year is found by every province using it)."""
    return sorted(set(problems), key=lambda p: (p.file, p.line or 0, p.field or "", p.message))


def run_checks(root: Path, today: dt.date) -> list[Problem]:
    """Every error and warning of the site, without writing anything."""
    try:
        site = resolve(read_site(Path(root)))
    except SiteError as exc:
        return exc.problems
    planner = Planner(site, today)
    warnings = list(site.warnings)
    for province in site.provinces:
        views = [planner.view(r) for r in site.regions_by_province[province.slug]]
        warnings.extend(province_warnings(site, province, views, today))
    return unique(warnings)
