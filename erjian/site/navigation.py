"""The region tree of a site: each region's computed view, its parent, children and siblings,
and the top-level regions of each province. Nothing here renders."""

from __future__ import annotations

from erjian.dates.planner import Planner, RegionView
from erjian.input.resolve import Region, ResolvedSite


class RegionTree:
    """Regions by key and their family; a region's view (its computed schedule) is worked
    out on first use, so only for the provinces that are rebuilt."""

    def __init__(self, site: ResolvedSite, planner: Planner):
        self.planner = planner
        self.regions = {r.key: r for r in site.regions}
        self.children_keys: dict[str, list[str]] = {}
        self.top_keys: dict[str, list[str]] = {p.slug: [] for p in site.provinces}
        for region in site.regions:
            parent = _parent_key(region)
            if parent in self.regions:
                self.children_keys.setdefault(parent, []).append(region.key)
            else:
                self.top_keys[region.province.slug].append(region.key)
        self._views: dict[str, RegionView] = {}

    def view(self, key: str) -> RegionView:
        if key not in self._views:
            self._views[key] = self.planner.view(self.regions[key])
        return self._views[key]

    def children(self, view: RegionView) -> list[RegionView]:
        return [self.view(k) for k in self.children_keys.get(view.region.key, [])]

    def top_level(self, province: str) -> list[RegionView]:
        return [self.view(k) for k in self.top_keys[province]]

    def parent_of(self, view: RegionView) -> RegionView | None:
        key = _parent_key(view.region)
        return self.view(key) if key in self.regions else None

    def siblings_of(self, view: RegionView) -> list[RegionView]:
        parent = self.parent_of(view)
        group = self.children(parent) if parent else self.top_level(
            view.region.province.slug)
        return [v for v in group if v is not view]


def _parent_key(region: Region) -> str | None:
    return f"{region.province.slug}/{region.parent}" if region.parent else None
