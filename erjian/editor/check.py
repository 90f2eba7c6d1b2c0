"""``python build.py check``: every error and warning of the site, found by running the
build's stages with the pages rendered in memory and dropped, writing nothing. The warnings
themselves are found by erjian.site.warnings (the build and the preview count them too)."""

from __future__ import annotations

import datetime as dt
import traceback
from dataclasses import replace
from pathlib import Path

from erjian.core.errors import Problem, SiteError, UserError
from erjian.core.memo import Memo
from erjian.dates.history import resolve_with_history
from erjian.dates.planner import Planner, future_releases
from erjian.input.validate import read_site
from erjian.output.pipeline import render_problems
from erjian.site.warnings import Finding, generic, site_findings, unique_findings


class CheckStopped(UserError):
    """A stage of ``check`` failed in a way no input should cause: a bug, reported as one
    message naming the stage (never a traceback), after the problems found before it."""

    def __init__(self, stage: str, exc: Exception, findings: list[Finding]):
        super().__init__(f"check stopped unexpectedly while {stage}: "
                         f"{type(exc).__name__}: {exc}{_raised_at(exc)}",
                         "this is a bug in the generator, not a problem of the input: "
                         "report it with this message")
        self.findings = findings

    def report(self) -> str:
        return "\n".join([*(f.problem.format() for f in self.findings), super().report()])


def _raised_at(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return ""
    path = Path(frames[-1].filename)
    package = next((folder for folder in path.parents if folder.name == "erjian"), None)
    shown = path.relative_to(package.parent).as_posix() if package else path.name
    return f" (at {shown}:{frames[-1].lineno})"


def _stage(name: str, findings: list[Finding], run):
    """``run()``'s result, or None when it failed: a SiteError's problems join
    ``findings``; anything else but a UserError or an explained system error (both
    reported by the command line) stops the check as a bug."""
    from erjian.core.oserror_messages import explain_os_error

    try:
        return run()
    except SiteError as exc:
        findings.extend(generic(p) for p in exc.problems)
    except UserError:
        raise
    except Exception as exc:
        if isinstance(exc, OSError) and explain_os_error(exc) is not None:
            raise
        raise CheckStopped(name, exc, unique_findings(findings)) from None
    return None


def _late_releases_as_general(inputs, site, today: dt.date):
    """The site with its release notices dated after ``today`` kept as 'general', as the
    build's message advises, so that its pages are still checked in the same run."""
    late = {p.file for p in future_releases(site, today)}
    return resolve_with_history(replace(inputs, notices=[
        replace(n, kind="general", release_date=None) if n.file in late else n
        for n in inputs.notices]))


def find_all(root: Path, today: dt.date, workers: int | None = None) -> list[Finding]:
    """Every error and warning of the site with what each is about, writing nothing: the
    build's stages, its pages rendered in memory and dropped. Each stage's problems are
    collected; a stage runs when the ones it needs succeeded. Raises CheckStopped on a
    failure that is a bug."""
    findings: list[Finding] = []
    memo = Memo(None)   # in memory: check writes nothing
    inputs = _stage("reading and validating the input", findings,
                    lambda: read_site(Path(root)))
    site = inputs and _stage("resolving regions and notices", findings,
                             lambda: resolve_with_history(inputs))
    if site is None:
        return unique_findings(findings)
    planner = _stage("planning the schedules", findings, lambda: Planner(site, today, memo))
    if planner is None:   # release notices dated after today: go on as the message advises
        site = _stage("planning the schedules", findings,
                      lambda: _late_releases_as_general(inputs, site, today))
        planner = site and _stage("planning the schedules", findings,
                                  lambda: Planner(site, today, memo))
    if planner is None:
        return unique_findings(findings)
    findings.extend(_stage("finding warnings", findings,
                           lambda: site_findings(site, planner, today)) or ())
    problems = _stage("rendering every page in memory", findings,
                      lambda: render_problems(root, site, planner, today, memo, workers))
    findings.extend(generic(p) for p in problems or ())
    return unique_findings(findings)


def run_checks(root: Path, today: dt.date) -> list[Problem]:
    """Every error and warning of the site, without writing anything."""
    return [f.problem for f in find_all(root, today)]
