"""One build session: the input read and resolved, schedules planned, the renderer and the page
makers made, and each unit's files listed into a destination, in the manner of Zola's
``BuildMode``.

The command line's build and the preview run the same session; only the destination
differs. ``DiskDestination`` renders a file only when its key changed and stages it for
``incremental.IncrementalOutput`` to publish; ``MemoryDestination`` keeps each file's maker
and renders it when the preview is asked for it. Both hand the page makers a
``site.file_list.UnitFiles``, so a unit lists the same files, with the same keys and
renderings, wherever they go.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path
from typing import Callable, Protocol

from erjian.core.memo import NO_MEMO, Memo
from erjian.dates.history import resolve_with_history
from erjian.dates.planner import Planner
from erjian.input.resolve import ResolvedSite
from erjian.input.validate import InputCache, read_site
from erjian.output.incremental import IncrementalOutput
from erjian.output.jobs import SITE_UNIT
from erjian.site.file_list import UnitFiles
from erjian.site.keys import site_fingerprint
from erjian.site.navigation import RegionTree
from erjian.site.province_unit import ProvincePages, UnitProducts, province_key
from erjian.site.render import Renderer
from erjian.site.sitewide_unit import SitePages


class PageMakers:
    """What lists and renders a site's files, as the build, the preview and ``check`` all use
    it. ``bytecode``: the preview's in-memory Jinja cache (else the signed one under
    ``cache_dir``)."""

    def __init__(self, root: Path, site: ResolvedSite, planner: Planner, today: dt.date,
                 memo: Memo = NO_MEMO, cache_dir: Path | None = None, bytecode=None):
        self.root, self.site, self.today, self.planner = root, site, today, planner
        self.fingerprint = site_fingerprint(root, today, site.input.site)
        renderer = Renderer(root / "templates", site.input.site, site.input.sections,
                            cache_dir=cache_dir, memo=memo, bytecode=bytecode)
        self.province_pages = ProvincePages(renderer, site, RegionTree(site, planner), today,
                                            memo)
        self.site_pages = SitePages(renderer, site, planner, today, root)
        self._keys: dict[str, str] = {}

    def unit_key(self, slug: str) -> str:
        """Province ``slug``'s key: its files are kept when this is unchanged."""
        if slug not in self._keys:
            self._keys[slug] = province_key(self.site, self.root, self.fingerprint, slug)
        return self._keys[slug]


class Destination(Protocol):
    """Where a session's files go."""

    def unit_files(self, unit: str, unit_key: str, fingerprint: str) -> UnitFiles:
        """An empty list of ``unit``'s files, bound to this destination."""


class DiskDestination:
    """The published folder: each file rendered only when its key changed, staged, and
    published by ``output`` when every unit is done."""

    def __init__(self, output: IncrementalOutput):
        self.output = output

    def unit_files(self, unit: str, unit_key: str, fingerprint: str) -> UnitFiles:
        return UnitFiles(self.output.unit_writer(unit, unit_key), fingerprint)


class MemoryFiles(UnitFiles):
    """A unit's files in memory: each kept as its maker, rendered once when asked for. No
    file key is worked out: nothing here is compared with an earlier build."""

    def __init__(self, fingerprint: str):
        super().__init__(None, fingerprint)   # no sink: nothing is rendered when listed
        self.makers: dict[str, Callable[[], str | bytes]] = {}
        self.rendered: dict[str, bytes] = {}

    def add(self, path: str, key, render: Callable[[], str | bytes]) -> None:
        self.listed(path, key, render)
        self.makers[path] = render

    def content(self, path: str) -> bytes | None:
        """The bytes the build writes at ``path``; None when the unit has no such file."""
        if path not in self.rendered:
            make = self.makers.get(path)
            if make is None:
                return None
            made = make()
            self.rendered[path] = made.encode("utf-8") if isinstance(made, str) else made
        return self.rendered[path]


class MemoryDestination:
    """The preview's: files kept in memory, rendered on demand."""

    def unit_files(self, unit: str, unit_key: str, fingerprint: str) -> MemoryFiles:
        return MemoryFiles(fingerprint)


class BuildSession:
    """One state of the input, read, resolved and planned, able to list any unit's files into
    a destination. ``inputs``: a resident input cache (the preview's), else files unchanged
    since the last run come from the cache under ``cache_dir``."""

    def __init__(self, root: Path, today: dt.date, base_url: str | None = None,
                 cache_dir: Path | None = None, inputs: InputCache | None = None,
                 memo: Memo = NO_MEMO, bytecode=None):
        self.root, self.today = Path(root), today
        site = resolve_with_history(read_site(self.root, cache_dir=cache_dir, cache=inputs))
        if base_url:
            site.input.site = replace(site.input.site, base_url=base_url)
        self.site = site
        self.makers = PageMakers(self.root, site, Planner(site, today, memo), today, memo,
                                 cache_dir, bytecode)
        self.fingerprint = self.makers.fingerprint

    def unit_key(self, unit: str) -> str:
        return self.fingerprint if unit == SITE_UNIT else self.makers.unit_key(unit)

    def province_files(self, destination: Destination, slug: str,
                       products: bool = True) -> tuple[UnitFiles, UnitProducts | None]:
        """Province ``slug``'s files listed into ``destination``, and (unless ``products``
        is False) what the province contributes to the site-wide pages."""
        files = destination.unit_files(slug, self.unit_key(slug), self.fingerprint)
        made = self.makers.province_pages.add_unit(files, slug, self.unit_key(slug),
                                                   products=products)
        return files, made

    def site_files(self, destination: Destination, products: list[UnitProducts]) -> UnitFiles:
        """The site-wide files listed into ``destination``, from every province's
        ``products`` in site order."""
        files = destination.unit_files(SITE_UNIT, self.fingerprint, self.fingerprint)
        self.makers.site_pages.add_unit(files, products)
        return files
