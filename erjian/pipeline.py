"""The build, stage by stage: load+validate → resolve → calendars/cycles → render → write.

``build`` reads and resolves the whole input (cheap: unchanged files come from the input
cache), plans schedules, and hands the output to ``jobs.Units``, which skips the provinces
whose inputs did not change and has ``provincepages`` and ``sitepages`` list the rest's
files for ``write.IncrementalOutput``.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from . import signed
from .checks import unique
from .errors import Problem
from .jobs import Units
from .keys import site_fingerprint
from .memo import Memo
from .navigation import RegionTree
from .pages import Planner
from .provincepages import ProvincePages
from .render import Renderer
from .resolve import resolve
from .sitepages import SitePages
from .validate import read_site
from .write import IncrementalOutput, WriteReport, check_target

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
    site = resolve(read_site(root, cache_dir=cache_dir))
    if base_url:
        site.input.site = replace(site.input.site, base_url=base_url)
    memo = Memo(cache_dir / "memo.pickle")
    planner = Planner(site, today, memo)
    fingerprint = site_fingerprint(root, today, site.input.site)
    renderer = Renderer(root / "templates", site.input.site, site.input.sections,
                        cache_dir=cache_dir, memo=memo)
    units = Units(site, root, fingerprint,
                  ProvincePages(renderer, site, RegionTree(site, planner), today, memo),
                  SitePages(renderer, site, planner, today, root))
    with IncrementalOutput(out, clean=clean, root=root) as output:
        units.run(output, workers or default_workers(), progress)
    memo.save()
    warnings = unique(site.warnings + units.warnings)
    return BuildResult(output.report, warnings, time.perf_counter() - started,
                       units.total_files)


def default_workers() -> int:
    configured = os.environ.get("ERJIAN_WORKERS")
    return max(1, int(configured)) if configured else max(1, min(os.cpu_count() or 1, 8))
