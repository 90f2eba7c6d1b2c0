"""Units and their scheduling: which units must be rebuilt, running them in this process or
in forked worker processes, and merging their results into the output.

A unit is one province (see ``site.province_unit``) or the site-wide pages
(``site.sitewide_unit``). A province's key hashes its input folder, the notices that concern
it and the site-wide fingerprint; a province whose key is unchanged is skipped as a whole
and its products for the site-wide pages come from the manifest. See docs/architecture.md.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import TYPE_CHECKING

from erjian.core.errors import Problem, UserError
from erjian.output.incremental import IncrementalOutput, UnitResult
from erjian.site.province_unit import UnitProducts

if TYPE_CHECKING:
    from erjian.output.session import BuildSession, DiskDestination

PARALLEL_FROM = 400      # regions to rebuild before forking workers pays off
SITE_UNIT = "_site"

_UNITS = None   # the Units of this build, set before forking workers, which inherit it


def _unit_in_worker(slug: str) -> UnitResult:
    return _UNITS.build_province(slug)


def _in_workers(tasks: list, workers: int):
    """The results of ``tasks`` from forked worker processes, as they finish. A worker that
    dies (killed, out of memory) fails the build instead of leaving it waiting forever."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        futures = [pool.submit(_unit_in_worker, task) for task in tasks]
        try:
            for future in as_completed(futures):
                yield future.result()
        except BrokenProcessPool:
            raise UserError("a build worker process died before finishing (killed, or out "
                            "of memory); nothing was published",
                            "build again; if it happens again, build with fewer workers, "
                            "e.g. ERJIAN_WORKERS=1") from None


class Units:
    """Builds the units whose keys changed, listed by ``session`` into the disk
    ``destination``, then the site-wide unit from every province's products (rebuilt or
    kept)."""

    def __init__(self, session: "BuildSession", destination: "DiskDestination"):
        self.session, self.site = session, session.site
        self.destination, self.output = destination, destination.output
        self.products: dict[str, UnitProducts] = {}
        self.warnings: list[Problem] = []
        self.total_files = 0

    def run(self, workers: int, progress) -> None:
        """Build every province whose inputs changed (on every core when there are several),
        then the site-wide pages from all provinces' products."""
        output = self.output
        changed = self._keep_unchanged(output)
        total = len(self.site.regions) + len(self.site.provinces) + 1
        done = total - sum(self._size(slug) + 1 for slug in changed)
        if progress:
            progress(done, total)
        self.session.makers.province_pages.prepare(rendering=bool(changed))
        tasks = sorted(changed, key=lambda slug: -self._size(slug))
        big = sum(self._size(slug) for slug in changed) >= PARALLEL_FROM and len(tasks) > 1
        if workers > 1 and big:
            with self._inherited_by_workers():
                for result in _in_workers(tasks, min(workers, len(tasks))):
                    done = self._merge(output, result, done, total, progress)
        else:
            for task in tasks:
                done = self._merge(output, self.build_province(task), done, total, progress)
        self._build_site(output)
        if progress:
            progress(total, total)

    def _keep_unchanged(self, output: IncrementalOutput) -> list[str]:
        """Takes the products of provinces whose key is unchanged; returns the others."""
        changed = []
        for province in self.site.provinces:
            kept = output.keep_unit(province.slug, self.session.unit_key(province.slug))
            if kept is not None:
                self._take(province.slug, kept)
            else:
                changed.append(province.slug)
        return changed

    def _size(self, slug: str) -> int:
        return len(self.site.regions_by_province[slug])

    @contextmanager
    def _inherited_by_workers(self):
        """This build's state made available to the workers forked meanwhile."""
        global _UNITS
        _UNITS = self
        gc.freeze()   # keep forked workers from copying the heap for the collector
        try:
            yield
        finally:
            gc.unfreeze()
            _UNITS = None

    def build_province(self, slug: str) -> UnitResult:
        """Every file of one province, rendered and staged where changed (in a worker
        process when the build is large)."""
        files, products = self.session.province_files(self.destination, slug)
        return files.writer.result(products)

    def _build_site(self, output: IncrementalOutput) -> None:
        files = self.session.site_files(self.destination,
                                        [self.products[p.slug] for p in self.site.provinces])
        output.merge(files.writer.result(UnitProducts(paths=files.paths)))
        self.total_files += len(files.paths)

    def _merge(self, output, result: UnitResult, done: int, total: int, progress) -> int:
        output.merge(result)
        self._take(result.unit, result.products)
        done += self._size(result.unit) + 1
        if progress:
            progress(done, total)
        return done

    def _take(self, unit: str, products: UnitProducts) -> None:
        self.products[unit] = products
        self.total_files += len(products.paths)
        self.warnings.extend(products.warnings)
