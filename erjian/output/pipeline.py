"""The build, stage by stage: load+validate → resolve → calendars/cycles → render → write.

``build`` opens a ``session.BuildSession`` (the whole input read and resolved, cheap:
unchanged files come from the input cache; schedules planned; the page makers made) and hands
it to ``jobs.Units`` with the disk destination: the provinces whose inputs did not change are
skipped, the rest's files are listed for ``incremental.IncrementalOutput``.

``check`` runs the same stages with the same page makers, but renders every file of every
unit in memory and discards it, collecting the problems of each stage instead of stopping
at the first (see ``erjian.editor.check.find_all``).
"""

from __future__ import annotations

import datetime as dt
import gc
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from erjian.core import signed
from erjian.core.errors import Problem, SiteError
from erjian.core.memo import NO_MEMO, Memo
from erjian.dates.planner import Planner
from erjian.input.resolve import ResolvedSite
from erjian.output.incremental import IncrementalOutput, UnitWriter, WriteReport, check_target
from erjian.output.jobs import PARALLEL_FROM, SITE_UNIT, Units
from erjian.output.session import BuildSession, DiskDestination, PageMakers
from erjian.site.file_list import UnitFiles
from erjian.site.province_unit import UnitProducts
from erjian.site.warnings import unique

Progress = Callable[[int, int], None]


@dataclass
class BuildResult:
    report: WriteReport
    warnings: list[Problem]
    seconds: float
    pages: int = 0

    def summary(self) -> str:
        r = self.report
        return (f"{r.written} written, {r.unchanged} unchanged, {r.removed} removed, "
                f"{len(self.warnings)} warnings, {self.seconds:.2f} s")


def build(root: Path, out: Path, today: dt.date, progress: Progress | None = None,
          cache_dir: Path | None = None, base_url: str | None = None,
          workers: int | None = None, clean: bool = False) -> BuildResult:
    """Build the site under ``root`` into ``out``; raises SiteError and leaves ``out``
    untouched if anything is wrong. ``base_url`` overrides content/site.yaml's; ``clean``
    ignores the cache and what earlier builds recorded, and writes every file afresh."""
    with signed.fresh(clean):
        return _build(Path(root), out, today, progress, cache_dir, base_url, workers, clean)


def _build(root, out, today, progress, cache_dir, base_url, workers, clean) -> BuildResult:
    started = time.perf_counter()
    check_target(out, root)
    cache_dir = Path(cache_dir or os.environ.get("ERJIAN_CACHE") or root / ".cache")
    signed.never_trust_keys_under(root)   # before the memo is read
    memo = Memo(cache_dir / "memo.pickle")
    session = BuildSession(root, today, base_url, cache_dir=cache_dir, memo=memo)
    with IncrementalOutput(out, clean=clean, root=root) as output:
        units = Units(session, DiskDestination(output))
        units.run(workers or default_workers(), progress)
    memo.save()
    warnings = unique(session.site.warnings + units.warnings)
    return BuildResult(output.report, warnings, time.perf_counter() - started,
                       units.total_files)


def default_workers() -> int:
    configured = os.environ.get("ERJIAN_WORKERS")
    return max(1, int(configured)) if configured else max(1, min(os.cpu_count() or 1, 8))


# -- check: every file rendered in memory, nothing written -----------------------------------

def render_problems(root: Path, site: ResolvedSite, planner: Planner, today: dt.date,
                    memo: Memo = NO_MEMO, workers: int | None = None) -> list[Problem]:
    """What the build would refuse while rendering (templates, guide text and its
    placeholders, redirect targets, notice bodies): every file of every unit is rendered
    by the build's page makers, in memory, and dropped."""
    makers = PageMakers(Path(root), site, planner, today, memo)
    return SiteCheck(makers).problems(workers or default_workers())


class DiscardingWriter(UnitWriter):
    """A unit writer that records nothing, so that every file is rendered, and keeps no
    bytes."""

    def __init__(self, unit: str):
        super().__init__(unit, "", None, {})

    def store(self, relative: str, key: str, content) -> None:
        if isinstance(content, str):
            content.encode("utf-8")   # fails where the build's write would


def _not_rendered() -> bytes:
    return b""


class CheckedFiles(UnitFiles):
    """A unit's files as ``check`` sees them: each rendered and dropped, a failure kept as
    its problems. Once the unit meets a problem already reported (a broken template or
    guide section fails every page that uses it, thousands of them, the same way), its
    other files are still listed (redirects are checked against the list) but no longer
    rendered."""

    def __init__(self, unit: str, fingerprint: str, seen: set[Problem]):
        super().__init__(DiscardingWriter(unit), fingerprint)
        self.seen = seen
        self.problems: list[Problem] = []
        self.rendering = True

    def add(self, path: str, key, render) -> None:
        try:
            super().add(path, key, render if self.rendering else _not_rendered)
        except SiteError as exc:
            self.rendering = not self.seen.issuperset(exc.problems)
            self.seen.update(exc.problems)
            self.problems.extend(exc.problems)


_CHECK = None   # the SiteCheck running, set before forking workers, which inherit it


def _province_in_worker(slug: str):
    return slug, _CHECK.province(slug)


class SiteCheck:
    """The units of the build, each rendered in memory: the provinces (in forked workers
    when the site is as large as a build would fork for), then the site-wide unit from
    their products."""

    def __init__(self, makers: PageMakers):
        self.makers = makers
        self.seen: set[Problem] = set()

    def problems(self, workers: int) -> list[Problem]:
        site = self.makers.site
        self.makers.province_pages.prepare(rendering=True)
        results = dict(self._provinces(workers))
        problems = [p for found, _ in results.values() for p in found]
        files = CheckedFiles(SITE_UNIT, self.makers.fingerprint, self.seen)
        try:
            self.makers.site_pages.add_unit(files, [results[p.slug][1]
                                                    for p in site.provinces])
        except SiteError as exc:
            problems.extend(exc.problems)
        return unique(problems + files.problems)

    def province(self, slug: str) -> tuple[list[Problem], UnitProducts]:
        """(problems, products) of one province unit; a unit that fails as a whole (a
        redirect to no page, say) gives stand-in products, so that the site-wide pages are
        still checked."""
        files = CheckedFiles(slug, self.makers.fingerprint, self.seen)
        try:
            return files.problems, self.makers.province_pages.add_unit(
                files, slug, self.makers.unit_key(slug))
        except SiteError as exc:
            return files.problems + exc.problems, UnitProducts.empty(
                self.makers.site.regions_by_province[slug])

    def _provinces(self, workers: int) -> list[tuple[str, tuple]]:
        site = self.makers.site
        slugs = sorted((p.slug for p in site.provinces),
                       key=lambda slug: -len(site.regions_by_province[slug]))
        if workers < 2 or len(slugs) < 2 or len(site.regions) < PARALLEL_FROM:
            return [(slug, self.province(slug)) for slug in slugs]
        return self._in_workers(slugs, min(workers, len(slugs)))

    def _in_workers(self, slugs: list[str], workers: int) -> list[tuple[str, tuple]]:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        global _CHECK
        _CHECK = self
        gc.freeze()   # keep forked workers from copying the heap for the collector
        try:
            with ProcessPoolExecutor(workers,
                                     mp_context=multiprocessing.get_context("fork")) as pool:
                return list(pool.map(_province_in_worker, slugs))
        finally:
            gc.unfreeze()
            _CHECK = None
