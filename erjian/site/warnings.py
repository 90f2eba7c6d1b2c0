"""Warnings: input that is legal but suspect (a link not verified for months, an exam without
a source, a calendar year projected rather than published). The build and the preview count
them; ``python build.py check`` reports them with the errors, and ``--strict`` makes the ones
missing from the reviewed baseline fail the run (erjian/editor/baseline.py).

Each warning is found as a :class:`Finding`: the problem as shown to the editor plus a
``kind`` and a ``subject`` that say what it is about in words that survive unrelated edits
(a link's address, an exam's year), never a line number or a list position."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from erjian.core.errors import Problem
from erjian.dates.planner import Planner
from erjian.input import models as m
from erjian.input.yaml_loader import line_in_file
from erjian.input.resolve import sets_own


STALE_AFTER_DAYS = 180


def _line(root: Path, file: str, *path) -> int | None:
    return line_in_file(Path(root) / file, *path)


@dataclass(frozen=True)
class Finding:
    """One problem with what it is about: ``kind`` names the check (``unverified-link``,
    ``unsourced-exam``, ``unsourced-stage``, ``unwatched``, ``no-specialties``,
    ``projected-year``, ``input`` for the loader's
    warnings, ``error`` for errors); ``subject`` identifies the thing checked."""

    problem: Problem
    kind: str
    subject: str


def _warn(file, line, field, message, hint, kind: str, subject) -> Finding:
    return Finding(Problem(file, line, field, message, hint, severity="warning"), kind,
                   str(subject))


def normalised(text: str | None) -> str:
    """A field path or message without list positions and numbers, for matching a problem
    across edits that only move it ("authorities[2].verified" -> "authorities[].verified")."""
    text = re.sub(r"\[\d+\]", "[]", text or "")
    return re.sub(r"\d+", "#", " ".join(text.split()))


def generic(problem: Problem) -> Finding:
    """A problem found elsewhere (the loader, the validator), keyed on its message."""
    kind = "error" if problem.severity == "error" else "input"
    return Finding(problem, kind, normalised(problem.message))


def stale_links(root: Path, owners, today: dt.date):
    for owner in owners:
        if sets_own(owner, "authorities"):
            yield from _stale(root, owner.file, owner.authorities, today, ("authorities",))
        # a province's own field, which its regions only point to
        for i, body in enumerate(owner.exam_bodies if sets_own(owner, "exam_bodies") else ()):
            yield from _stale(root, owner.file, body.authorities, today,
                              ("exam_bodies", i, "authorities"))


def _stale(root: Path, file: str, authorities, today: dt.date, path: tuple):
    """The authorities never verified or verified too long ago; ``path`` leads to the list."""
    where = "".join(f"[{step + 1}]" if isinstance(step, int) else f".{step}"
                    for step in path).lstrip(".")
    for index, authority in enumerate(authorities):
        if authority.verified and (today - authority.verified).days <= STALE_AFTER_DAYS:
            continue
        age = ("has never been verified" if authority.verified is None else
               f"was last verified {(today - authority.verified).days} days ago")
        yield _warn(file, _line(root, file, *path, index), f"{where}[{index + 1}].verified",
                    f"link to {authority.name} {age}",
                    "open it, check it is the official site, and set 'verified' to "
                    "today's date", "unverified-link", authority.url)


def unsourced_exams(root: Path, owners):
    for owner in owners:
        if not sets_own(owner, "exams"):
            continue
        for index, exam in enumerate(owner.exams):
            if exam.source is None:
                yield _warn(owner.file, _line(root, owner.file, "exams", index),
                            f"exams[{index + 1}].source",
                            f"the {exam.year} exam days have no source",
                            "add 'source' with the title (and address) of the exam notice",
                            "unsourced-exam", exam.year)


def unsourced_stages(root: Path, owners):
    """Recorded stage dates (registration, audit, …) without the notice they come from."""
    for owner in owners:
        if not sets_own(owner, "exams"):
            continue
        for index, exam in enumerate(owner.exams):
            for key in m.RECORDED_STAGES:
                if (stage := exam.stage(key)) is not None and stage.source is None:
                    yield _warn(owner.file, _line(root, owner.file, "exams", index, key),
                                f"exams[{index + 1}].{key}.source",
                                f"the {exam.year} {m.STAGES[key].name} dates ({key}) have no "
                                "source", "add 'source' with the title and address of the "
                                "official notice that gives them", "unsourced-stage",
                                f"{exam.year} {exam.sitting} {key}")


def unwatched_bodies(root: Path, province):
    """An exam body (the province, or one of its ``exam_bodies``) whose authorities name no
    notice page: `harvest` watches nothing there. A warning (the baseline may hold it) until
    every exam body's pages are recorded."""
    bodies = [(province.name, province.authorities, "authorities", province.slug)]
    bodies += [(body.name, body.authorities, "exam_bodies", f"{province.slug}/{body.slug}")
               for body in province.exam_bodies]
    for name, authorities, field, key in bodies:
        if not any(authority.notices for authority in authorities):
            yield _warn(province.file, _line(root, province.file, field), field,
                        f"nothing to watch for {name}: no authority lists 'notices'",
                        "add 'notices: [{url: <the personnel-exam site's notice list or "
                        "home page>}]' to the authority that publishes the exam notices",
                        "unwatched", key)


def regions_without_specialties(root: Path, regions):
    for region in regions:
        if not region.specialties:
            yield _warn(region.file, _line(root, region.file, "name"), "specialties",
                        f"{region.name} has no specialties, so it gets no guide page",
                        "list its specialties, or remove the empty 'specialties' override",
                        "no-specialties", region.name)


def projected_years(views):
    reported = set()
    for view in views:
        for basis in (b for cycle in view.cycles for b in (*cycle.window.bases,
                                                             *cycle.review.bases)):
            if basis.projected and (basis.layer, basis.year) not in reported:
                reported.add((basis.layer, basis.year))
                yield _warn(f"calendars/{basis.layer}", None, None,
                            f"{basis.year} has no arrangement file; {basis.layer_name} is "
                            "projected and the dates that depend on it are shown as "
                            "provisional",
                            f"add calendars/{basis.layer}/{basis.year}.yaml once the official "
                            "arrangement is published", "projected-year", basis.year)


def province_findings(site, province, views, today: dt.date) -> list[Finding]:
    """Warnings about one province and its regions, each with what it is about."""
    root = site.input.root
    regions = [v.region for v in views]
    owners = [province, *regions]
    return [*stale_links(root, owners, today), *unsourced_exams(root, owners),
            *unsourced_stages(root, owners), *unwatched_bodies(root, province),
            *regions_without_specialties(root, regions), *projected_years(views)]


def province_warnings(site, province, views, today: dt.date) -> list[Problem]:
    """Warnings about one province and its regions."""
    return [f.problem for f in province_findings(site, province, views, today)]


def unique(problems: list[Problem]) -> list[Problem]:
    """Each problem once (the same projected year is found by every province using it)."""
    return sorted(set(problems), key=lambda p: (p.file, p.line or 0, p.field or "", p.message))


def unique_findings(findings: list[Finding]) -> list[Finding]:
    """Each problem once, in the order of :func:`unique`."""
    by_problem = {f.problem: f for f in findings}
    return [by_problem[p] for p in unique(list(by_problem))]


def site_findings(site, planner: Planner, today: dt.date) -> list[Finding]:
    """The warnings of a resolved site: the loader's and every province's (the build's
    and the preview's count)."""
    findings = [generic(p) for p in site.warnings]
    for province in site.provinces:
        views = [planner.view(r) for r in site.regions_by_province[province.slug]]
        findings.extend(province_findings(site, province, views, today))
    return unique_findings(findings)
