"""What a province unit consists of: its province page and feed, each region's page, guide
pages and calendar files, each with its key and how to render it, and the province's
products for the site-wide pages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from markupsafe import Markup

from erjian.core.memo import Memo
from erjian.dates.history import HISTORY_MIN_YEARS
from erjian.dates.planner import RegionView, standings
from erjian.input import models as m
from erjian.input.resolve import ResolvedSite
from erjian.site.feeds import calendar_template, fill_calendar
from erjian.site.file_list import UnitFiles, json_record, notice_feed, page
from erjian.site.indexable import Canonical, capped, newest_fact
from erjian.site.keys import Keys, digest, files_digest
from erjian.site.navigation import RegionTree
from erjian.site.redirects import add_redirects
from erjian.site.render import Renderer
from erjian.site.svg import PROVISIONAL, UNCONFIRMED, StageBar, WindowBar, cycle_timeline
from erjian.site.search_index import index_entry
from erjian.site.views import api_record, exam_event_ld, search_terms
from erjian.site.warnings import province_warnings

PRODUCTS = ("api", "search", "home", "timeline", "regions", "paths", "sitemap")


@dataclass(frozen=True)
class UnitProducts:
    """What a unit hands to the site-wide pages, kept with it in the manifest. ``digests``
    holds a digest of each of the ``PRODUCTS``, so that a site-wide page is rendered again
    only when some province's part of it changed."""

    home: Markup = Markup()
    api: list[str] = field(default_factory=list)           # api/regions.json records
    search: list[list] = field(default_factory=list)       # api/search.json entries
    timeline: list[dict] = field(default_factory=list)     # rows of the national timeline
    regions: dict[str, tuple[str, str]] = field(default_factory=dict)   # key: (name, path)
    paths: list[str] = field(default_factory=list)         # every file of the unit
    sitemap: list[tuple[str, str | None]] = field(default_factory=list)   # (path, lastmod)
    warnings: list = field(default_factory=list)
    digests: dict[str, str] = field(default_factory=lambda: dict.fromkeys(PRODUCTS, ""))

    @classmethod
    def empty(cls, regions: list[m.Region]) -> "UnitProducts":
        """Stand-in products of a unit that failed as a whole: only its regions' names, so
        that the site-wide pages can still be checked."""
        return cls(regions={r.key: (r.name, r.path) for r in regions})

    def digest_of(self, name: str) -> str:
        return self.digests[name]


class ProvincePages:
    """Lists the files of province units. Fragments shared by many pages (a schedule, a
    group's links, a filled guide section) are rendered once per process."""

    def __init__(self, renderer: Renderer, site: ResolvedSite, tree: RegionTree,
                 today: dt.date, memo: Memo):
        self.renderer, self.site, self.tree = renderer, site, tree
        self.today, self.memo = today, memo
        self.keys = Keys()
        self.canonical = Canonical(site)
        self.fragments: dict[tuple, object] = {}

    def prepare(self, rendering: bool) -> None:
        """Work every province shares, done before workers fork: the calendars (always, so
        that the memo keeps them) and, when some province is rendered, the shared text."""
        planner = self.tree.planner
        for layers in {r.calendar_layers for r in self.site.regions}:
            planner.calendar(layers)
        if rendering:
            self.renderer.sections

    def add_unit(self, files: UnitFiles, slug: str, unit_key: str,
                 products: bool = True) -> UnitProducts | None:
        """Lists every file of province ``slug``; returns its products for the site-wide
        pages (None when not asked for: the preview lists a province's pages first and
        works out its products only when a site-wide page needs them)."""
        site, tree = self.site, self.tree
        province = site.input.provinces[slug]
        notices = province_notices(site, province)
        views = [tree.view(r.key) for r in site.regions_by_province[slug]]
        summary = _province_summary(views)
        top = tree.top_level(slug)
        history = tree.planner.record.of(slug)
        files.add(f"{slug}/index.html", (province, unit_key, history.key()),
                  page(self.renderer, self.today, "province.html", f"{slug}/",
                       province=province, summary=summary, top_level=top,
                       standings=standings(summary, self.today) if summary else [],
                       children={v.region.key: tree.children(v) for v in top},
                       notices=notices, history=history,
                       history_min_years=HISTORY_MIN_YEARS))
        files.add(f"{slug}/feed.xml", notices,
                  lambda: notice_feed(self.renderer, f"{province.short_name}二建通知",
                                      f"{slug}/feed.xml", f"{slug}/", notices, self.today))
        for view in views:
            self._add_region(files, province, view)
        add_redirects(files, self.renderer, self.today, site.input.moved.get(slug), province,
                      {v.region.path: v.region.specialties for v in views})
        if not products:
            return None
        made = self._products(province, views, summary)
        made["paths"] = files.paths
        made["sitemap"] = self._sitemap_entries(province, views, notices)
        return UnitProducts(**made, digests={name: digest(made[name]) for name in PRODUCTS})

    def _products(self, province: m.Province, views: list[RegionView],
                  summary: RegionView | None) -> dict:
        """The fields of this province's ``UnitProducts`` but its paths and sitemap."""
        renderer, tree = self.renderer, self.tree
        records = [json_record(api_record(view, specialty, renderer.url(
            f"{view.region.path}{specialty.code}/")))
            for view in views for specialty in view.specialties]
        return {
            "home": Markup(renderer.page("_home_province.html", province=province,
                                         summary=summary,
                                         top_level=tree.top_level(province.slug),
                                         today=self.today)),
            "api": records,
            "search": [_search_entry(view, tree.parent_of(view), self.memo) for view in views],
            "timeline": _timeline_rows(province, views),
            "regions": {v.region.key: (v.region.name, v.region.path) for v in views},
            "warnings": province_warnings(self.site, province, views, self.today),
        }

    def _sitemap_entries(self, province: m.Province, views: list[RegionView],
                         notices: list[m.Notice]) -> list[tuple[str, str | None]]:
        """(page path, lastmod) of the province's self-canonical pages, its own first."""
        entries, newest = [], []
        for view in views:
            region = view.region
            lastmod = newest_fact(view, self.site.notices_by_region[region.key], self.today)
            newest.append(lastmod)
            if self.canonical.is_own(region):
                entries += [(path, _iso(lastmod)) for path in (
                    region.path, *(f"{region.path}{s.code}/" for s in view.specialties))]
        mine = capped([*newest, *(n.date for n in notices)], self.today)
        return [(f"{province.slug}/", _iso(mine)), *entries]

    def _add_region(self, files: UnitFiles, province: m.Province, view: RegionView) -> None:
        region, tree = view.region, self.tree
        notices = self.site.notices_by_region[region.key]
        parent = tree.parent_of(view)
        siblings = tree.siblings_of(view)
        children = tree.children(view)
        relatives = (_relatives_key([parent] if parent else []), _relatives_key(siblings),
                     _relatives_key(children))
        canonical = self.canonical.region_page(region)
        page_key = (self.keys.region(view), _cycles_key(self.keys, view), relatives, notices)
        files.add(f"{region.path}index.html", (page_key, canonical),
                  page(self.renderer, self.today, "region.html", region.path, view=view,
                       province=province, parent=parent.region if parent else None,
                       children=[v.region for v in children], notices=notices,
                       canonical_path=canonical))
        for specialty in view.specialties:
            path = f"{region.path}{specialty.code}/"
            canonical = self.canonical.guide_page(region, specialty.code)
            files.add(f"{path}index.html", (page_key, specialty.code, canonical),
                      lambda view=view, specialty=specialty, path=path, canonical=canonical:
                      self._guide(province, view, specialty, parent, siblings, children,
                                  notices, path, canonical))
            ics_key = (region.name, region.key, _cycles_key(self.keys, view), province.name,
                       specialty.code)
            files.add(f"{path}schedule.ics", ics_key,
                      lambda view=view, specialty=specialty, path=path: self._calendar(
                          province, view, specialty, path))

    def _fragment(self, key: tuple, render, markup: bool = True):
        """``render()`` once per ``key`` per process (shared by every page that needs it)."""
        if key not in self.fragments:
            self.fragments[key] = Markup(render()) if markup else render()
        return self.fragments[key]

    def _calendar(self, province: m.Province, view: RegionView, specialty: m.Specialty,
                  path: str) -> bytes:
        template = self._fragment(
            ("ics", tuple(id(c) for c in view.cycles), province.slug, specialty.code),
            lambda: calendar_template(view, specialty, self.today), markup=False)
        return fill_calendar(template, view, specialty, self.renderer.abs_url(path),
                             self.renderer.site.host)

    def _guide(self, province, view, specialty, parent, siblings, children, notices,
               path, canonical) -> str:
        renderer, cycle, region = self.renderer, view.cycle, view.region
        schedule = self._fragment(("schedule", tuple(id(c) for c in view.cycles),
                                   view.pending_year, province.slug, view.next_exam,
                                   region.post_exam_audit),
                                  lambda: renderer.page(
                                      "_schedule.html", cycle=cycle, province=province,
                                      view=view, today=self.today,
                                      post_exam_audit=region.post_exam_audit,
                                      timeline_svg=_timeline_svg(cycle, self.today)))
        channels = self._fragment(("channels", id(region.authorities), region.local_office,
                                   province.slug, region.exam_bodies),
                                  lambda: renderer.page(
                                      "_channels.html", authorities=region.authorities,
                                      local_office=region.local_office, province=province,
                                      exam_bodies=region.exam_bodies, today=self.today))
        sections = renderer.fill_sections(_section_values(view, specialty), self.fragments)
        group = parent.region.key if parent else f"{province.slug}:top"
        return renderer.page(
            "guide.html", view=view, region=region, province=province, specialty=specialty,
            cycle=cycle, schedule=schedule, channels=channels, sections=sections,
            parent=parent.region if parent else None,
            siblings=self._links(group, [view, *siblings], specialty) if siblings else "",
            children=self._links(region.key, children, specialty) if children else "",
            notices=notices, page_path=path, canonical_path=canonical, today=self.today,
            standings=standings(view, self.today),
            event_ld=exam_event_ld(view, specialty, renderer.abs_url(path)))

    def _links(self, group: str, views: list[RegionView], specialty: m.Specialty) -> Markup:
        """A group's links for one specialty, in the group's own order (the current region
        included, so that every page of the group shares one rendering)."""
        ordered = sorted(views, key=lambda v: (v.region.code or "", v.region.key))
        return self._fragment(("links", group, specialty.code), lambda: self.renderer.page(
            "_links.html", regions=[v.region for v in ordered], specialty=specialty))


def province_key(site: ResolvedSite, root: Path, fingerprint: str, slug: str) -> str:
    """A province unit's key: its input folder, its moved addresses (as validated), the
    notices about it and the site-wide fingerprint."""
    province = site.input.provinces[slug]
    return digest(fingerprint, files_digest(Path(root) / "regions" / slug),
                  site.input.moved.get(slug), province_notices(site, province))


def province_notices(site: ResolvedSite, province: m.Province) -> list[m.Notice]:
    """The notices about the province or any of its regions, newest first."""
    keys = {r.key for r in site.regions_by_province[province.slug]}
    found = {n.slug: n for k in keys for n in site.notices_by_region[k]}
    found.update({n.slug: n for n in site.input.notices if province.slug in n.provinces})
    return sorted(found.values(), key=lambda n: (n.date, n.slug), reverse=True)


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def _cycles_key(keys, view: RegionView) -> tuple:
    """Every cycle a region's pages show (the leading one is also in ``keys.region``), and
    the year of an unrecorded next exam they lead with."""
    return tuple(keys.of(c) for c in view.cycles), view.pending_year


def _relatives_key(views: list[RegionView]) -> str:
    """What a page shows of its relatives: names, addresses and specialties."""
    return digest([(v.region.name, v.region.path, v.region.specialties) for v in views])


def _timeline_svg(cycle, today: dt.date):
    if cycle is None:
        return ""
    return Markup(cycle_timeline(
        cycle.exam.days, (cycle.release.first, cycle.release.last),
        cycle.announcement.date if cycle.announcement else None,
        (cycle.review.opens, cycle.review.closes), today,
        estimated_review=cycle.review.estimated, exam_confirmed=cycle.exam.confirmed,
        provisional_release=cycle.release.provisional,
        review_flag=_review_flag(cycle.milestone("review")),
        stages=tuple(StageBar(m.STAGES[ms.key].short, ms.first, ms.last, not ms.provisional)
                     for ms in cycle.milestones if ms.key in m.RECORDED_STAGES
                     and ms.key != "review")))


def _review_flag(review) -> str:
    """How the review bar is marked: 未核实 when recorded unconfirmed, 暂定 when computed on a
    projected or unchecked calendar year."""
    if not review.provisional:
        return ""
    return UNCONFIRMED if review.recorded else PROVISIONAL


def _province_summary(views: list[RegionView]) -> RegionView | None:
    """A view that speaks for the whole province when all its regions share one schedule;
    None when they differ."""
    if not views:
        return None
    first = views[0]
    same = all(v.cycle is first.cycle and v.next_exam == first.next_exam
               and v.pending_year == first.pending_year for v in views)
    return first if same else None


def _search_entry(view: RegionView, parent: RegionView | None, memo: Memo) -> list:
    """[name, page path, search terms, where] for api/search.json, and what the home
    page's compact index needs (``index_entry``)."""
    region = view.region
    where = region.province.short_name + (f" · {parent.region.name}" if parent else "")
    return [region.name, region.path, search_terms(region, memo), where,
            index_entry(region, where, memo)]


def _timeline_rows(province: m.Province, views: list[RegionView]) -> list[dict]:
    """One row per distinct release window of the province (regions sharing it grouped)."""
    groups: dict[tuple, list] = {}
    for view in views:
        if view.cycle is None:
            continue
        release = view.cycle.release
        key = (release.first, release.last, not release.estimated, release.provisional,
               view.cycle.exam.year, view.cycle.stages(), view.region.post_exam_audit)
        groups.setdefault(key, []).append(view.region)
    rows = []
    total = sum(1 for view in views if view.cycle is not None)
    for n, ((first, last, announced, provisional, year, stages, audit), regions) in enumerate(
            sorted(groups.items(), key=lambda item: item[0][:5])):
        names = _group_name(regions, total)
        target = regions[0].path if len(regions) == 1 else f"{province.slug}/"
        label = province.short_name + (GROUP_MARKS[n % len(GROUP_MARKS)] if len(groups) > 1
                                       else "")
        rows.append({"province": province.name, "label": label, "regions": names,
                     "first": first,
                     "last": last, "announced": announced, "provisional": provisional,
                     "href_path": target, "year": year, "stages": stages,
                     "post_exam_audit": audit,
                     "bar": WindowBar(province.short_name, label, first, last, announced,
                                      provisional)})
    return rows


GROUP_MARKS = "①②③④⑤⑥⑦⑧⑨⑩"


def _group_name(regions: list, total: int) -> str:
    """Regions sharing a timeline row, named so a reader can scan them: every region of the
    province, or its top-level regions by name with their subdivisions counted."""
    if len(regions) == total:
        return f"全部{total}个地区" if total > 1 else regions[0].name
    slugs = {r.slug for r in regions}
    tops = [r for r in regions if r.parent not in slugs]
    names = "、".join(r.name for r in tops[:4]) + (f"等{len(tops)}个地区" if len(tops) > 4
                                                   else "")
    below = len(regions) - len(tops)
    return names + (f"（含下辖{below}个县、市、区）" if below else "")


def _section_values(view: RegionView, specialty: m.Specialty) -> dict:
    """The placeholders shared guide text may use (listed in docs/editing.md)."""
    region, cycle = view.region, view.cycle
    scores_sites = [a for a in region.authorities if a.role == "scores"]
    return {
        "region_name": region.name,
        "province_name": region.province.name,
        "province_short": region.province.short_name,
        "specialty_name": specialty.name,
        "practice_subject": specialty.practice_subject,
        "common_subjects": tuple(m.COMMON_SUBJECTS),
        "exam_year": cycle.exam.year if cycle else None,
        "rolling_first": cycle.rolling[0] if cycle else None,
        "rolling_second": cycle.rolling[1] if cycle else None,
        "review_working_days": region.estimate.review_working_days,
        "review_closes": cycle.review.closes if cycle else None,
        "review_estimated": cycle.review.estimated if cycle else True,
        "login_methods": tuple(region.login_methods),
        "login_labels": tuple(m.LOGIN_METHODS[c] for c in region.login_methods),
        "post_exam_audit": region.post_exam_audit,
        "scores_site": scores_sites[0].name if scores_sites else None,
        "local_office": region.local_office.name if region.local_office else None,
        "local_office_phone": region.local_office.phone if region.local_office else None,
        "exam_bodies": tuple(body.name for body in region.exam_bodies),
    }
