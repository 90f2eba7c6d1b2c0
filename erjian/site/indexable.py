"""One indexable page per distinct answer (docs/indexing.md).

A region's pages say what its province's page says, place name aside, unless the data gives
the region something of its own: its own file sets a field it could inherit (authorities,
local office, exams, estimate, note, login methods, …) or a notice names it. A page without
anything of its own names, as its canonical page, the page it repeats: the same specialty's
page of the nearest ancestor region that has something of its own, else the province's
page. Only self-canonical pages enter the sitemap. Decided from the resolved data, never
from rendered text.
"""

from __future__ import annotations

import datetime as dt

from erjian.dates.planner import RegionView
from erjian.input import models as m
from erjian.input.resolve import Region, ResolvedSite


def has_own_answer(region: Region, notices) -> bool:
    """Whether the data says something about ``region`` that its province does not."""
    return bool(region.own) or any(region.key in n.regions for n in notices)


class Canonical:
    """The canonical page of every region and guide page of a site."""

    def __init__(self, site: ResolvedSite):
        self._by_key = {r.key: r for r in site.regions}
        self._own = {r.key for r in site.regions
                     if has_own_answer(r, site.notices_by_region[r.key])}

    def is_own(self, region: Region) -> bool:
        return region.key in self._own

    def _answering(self, region: Region, specialty: str | None):
        """The nearest of ``region`` and its ancestors with an answer of its own (and
        ``specialty``, when given); None when that is the province."""
        current: Region | None = region
        while current is not None:
            if current.key in self._own and (specialty is None
                                             or specialty in current.specialties):
                return current
            parent = f"{current.province.slug}/{current.parent}" if current.parent else None
            current = self._by_key.get(parent) if parent else None
        return None

    def region_page(self, region: Region) -> str:
        owner = self._answering(region, None)
        return owner.path if owner else f"{region.province.slug}/"

    def guide_page(self, region: Region, specialty: str) -> str:
        owner = self._answering(region, specialty)
        return f"{owner.path}{specialty}/" if owner else f"{region.province.slug}/"


def newest_fact(view: RegionView, notices, today: dt.date) -> dt.date | None:
    """The sitemap's lastmod of a region's pages: the newest date among the dated facts they
    show (notices about the region or its province, the published dates of the exam and
    stage sources and of the holiday arrangements the window is counted on, the dates the
    official links were checked), never after the build date; None when nothing is dated."""
    region = view.region
    days = [n.date for n in notices]
    days += [a.verified for a in region.authorities]
    for exam in region.exams:
        days.append(exam.source.published if exam.source else None)
        days += [s.source.published for s in map(exam.stage, m.RECORDED_STAGES)
                 if s and s.source]
    for cycle in view.cycles:
        days += [b.source.published for b in (*cycle.window.bases, *cycle.review.bases)
                 if b.source]
    return capped(days, today)


def capped(days, today: dt.date) -> dt.date | None:
    """The latest of ``days`` (None ignored), no later than ``today``."""
    known = [d for d in days if d is not None]
    return min(max(known), today) if known else None
