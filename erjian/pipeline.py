"""The build, stage by stage: load+validate → resolve → calendars/cycles → render → write.

Each output file is offered to the writer with a *key*: a hash of everything the file is made
from (its data, the templates and shared text, the generator's own code and the build date).
When the key and the file on disk are unchanged the page is not even rendered.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from markupsafe import Markup

from . import models as m
from .errors import Problem
from .feeds import atom_feed, region_calendar, robots, sitemap
from .pages import Planner, RegionView, api_record, exam_event_ld
from .render import Renderer, render_markdown_body, to_json
from .resolve import ResolvedSite, resolve
from .svg import WindowBar, cycle_timeline, national_timeline
from .validate import read_site
from .write import IncrementalOutput, WriteReport, manifest_path_for

API_VERSION = 1
PACKAGE_DIR = Path(__file__).resolve().parent

Progress = Callable[[int, int], None]


@dataclass
class BuildResult:
    report: WriteReport
    warnings: list[Problem]
    seconds: float
    pages: int = 0
    problems: list[Problem] = field(default_factory=list)

    def summary(self) -> str:
        r = self.report
        return (f"{r.written} written, {r.unchanged} unchanged, {r.removed} removed, "
                f"{len(self.warnings)} warnings, {self.seconds:.2f} s")


def digest(*parts) -> str:
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(repr(part).encode("utf-8"))
        hasher.update(b"\x00")
    return hasher.hexdigest()


def _files_digest(*folders_or_files: Path) -> str:
    hasher = hashlib.sha256()
    for entry in folders_or_files:
        paths = sorted(p for p in entry.rglob("*") if p.is_file()) if entry.is_dir() else (
            [entry] if entry.exists() else [])
        for path in paths:
            if "__pycache__" in path.parts:
                continue
            hasher.update(path.as_posix().encode())
            hasher.update(path.read_bytes())
    return hasher.hexdigest()


def check(root: Path) -> ResolvedSite:
    """Validate and resolve everything; raises SiteError. Writes nothing."""
    return resolve(read_site(Path(root)))


def build(root: Path, out: Path, today: dt.date, progress: Progress | None = None,
          cache_dir: Path | None = None, base_url: str | None = None) -> BuildResult:
    """Build the site under ``root`` into ``out``; raises SiteError and leaves ``out``
    untouched if anything is wrong. ``base_url`` overrides content/site.yaml's."""
    started = time.perf_counter()
    root = Path(root)
    site = check(root)
    if base_url:
        site.input.site = replace(site.input.site, base_url=base_url)
    planner = Planner(site, today)
    views = {r.key: planner.view(r) for r in site.regions}
    renderer = Renderer(root / "templates", site.input.site, site.input.sections, root)
    fingerprint = digest(_files_digest(root / "templates", root / "content" / "guide",
                                       root / "content" / "site.yaml", PACKAGE_DIR), today,
                         site.input.site)
    manifest = manifest_path_for(cache_dir or root / ".cache", out)
    with IncrementalOutput(out, manifest) as output:
        count = _offer_pages(output, renderer, site, views, planner, today, root, fingerprint,
                             progress)
    from .checks import collect_warnings

    warnings = site.warnings + collect_warnings(site, planner, today)
    return BuildResult(output.report, warnings, time.perf_counter() - started, count)


def _offer_pages(output, renderer: Renderer, site: ResolvedSite,
                 views: dict[str, RegionView], planner: Planner, today: dt.date, root: Path,
                 fingerprint: str, progress: Progress | None) -> int:
    view_keys = {key: digest(view) for key, view in views.items()}
    by_province = {p.slug: [views[r.key] for r in site.regions_by_province[p.slug]]
                   for p in site.provinces}
    notices = sorted(site.input.notices, key=lambda n: (n.date, n.slug), reverse=True)
    guides = sum(len(v.region.specialties) for v in views.values())
    total = len(views) + 2 * guides + 2 * len(site.provinces) + len(notices) + 10
    done = 0
    html_pages: list[str] = []

    def offer(path, key, render):
        nonlocal done
        output.offer(path, digest(fingerprint, path, key), render)
        if path.endswith("index.html"):
            html_pages.append(path[: -len("index.html")])
        done += 1
        if progress:
            progress(done, total)

    def page(template, page_path, **context):
        return lambda: renderer.page(template, page_path=page_path, today=today, **context)

    for province in site.provinces:
        province_views = by_province[province.slug]
        province_notices = _province_notices(site, province)
        siblings_key = digest([view_keys[v.region.key] for v in province_views])
        offer(f"{province.slug}/index.html", (province, siblings_key, province_notices),
              page("province.html", f"{province.slug}/", province=province,
                   views=province_views, notices=province_notices))
        offer(f"{province.slug}/feed.xml", province_notices,
              lambda: _feed(renderer, f"{province.short_name}二建通知",
                            f"{province.slug}/feed.xml", f"{province.slug}/",
                            province_notices, today))
        for view in province_views:
            region = view.region
            region_notices = site.notices_by_region[region.key]
            page_key = (view_keys[region.key], siblings_key, region_notices)
            offer(f"{region.path}index.html", page_key,
                  page("region.html", region.path, view=view, province=province,
                       siblings=province_views, notices=region_notices))
            for specialty in view.specialties:
                path = f"{region.path}{specialty.code}/"
                offer(f"{path}index.html", (page_key, specialty),
                      lambda: _guide_page(renderer, view, province, specialty,
                                          province_views, region_notices, path, today))
                offer(f"{path}schedule.ics", (view_keys[region.key], specialty),
                      lambda: region_calendar(view, specialty, renderer.abs_url(path),
                                              renderer.site.host, today))

    all_views = digest(sorted(view_keys.items()))
    offer("index.html", (all_views, site.provinces, notices[:10]),
          page("home.html", "", provinces=site.provinces, by_province=by_province,
               notices=notices[:10]))
    offer("timeline/index.html", all_views, lambda: _timeline_page(renderer, site, views, today))
    inputs = site.input
    offer("methodology/index.html",
          (inputs.layers, inputs.calendar_years, planner.first_year, planner.last_year,
           [p.estimate for p in site.provinces]),
          page("methodology.html", "methodology/", layers=inputs.layers,
               years=inputs.calendar_years, calendar=planner.calendar(()),
               first_year=planner.first_year, last_year=planner.last_year,
               defaults=m.Estimate(), provinces=site.provinces))
    offer("notices/index.html", notices, page("notices.html", "notices/", notices=notices))
    for notice in notices:
        regions = [views[k].region for k in _notice_regions(site, notice)]
        offer(f"notices/{notice.slug}/index.html", (notice, [r.path for r in regions]),
              page("notice.html", f"notices/{notice.slug}/", notice=notice,
                   body=render_markdown_body(notice.body), regions=regions))
    offer("feed.xml", notices,
          lambda: _feed(renderer, f"{inputs.site.title}：通知", "feed.xml", "", notices, today))
    offer("404.html", (), page("404.html", "404.html"))
    offer("api/regions.json", all_views, lambda: _api(renderer, site, views, today))
    for asset in sorted((root / "templates" / "static").glob("*")):
        if asset.is_file():
            data = asset.read_bytes()
            offer(f"static/{asset.name}", hashlib.sha256(data).hexdigest(), lambda: data)
    pages = sorted(html_pages)
    offer("sitemap.xml", pages, lambda: sitemap([renderer.abs_url(p) for p in pages]))
    offer("robots.txt", (), lambda: robots(renderer.abs_url("sitemap.xml")))
    return done


def _guide_page(renderer, view, province, specialty, siblings, notices, path, today) -> str:
    sections = renderer.fill_sections(_section_values(view, specialty))
    cycle = view.cycle
    svg = Markup(cycle_timeline(
        cycle.exam.days, (cycle.milestones[1].first, cycle.milestones[1].last),
        cycle.announcement.date if cycle.announcement else None,
        (cycle.review.opens, cycle.review.closes), today,
        estimated_review=cycle.review.estimated)) if cycle else ""
    return renderer.page("guide.html", view=view, region=view.region, province=province,
                         specialty=specialty, cycle=cycle, sections=sections,
                         siblings=siblings, notices=notices, page_path=path, today=today,
                         timeline_svg=svg,
                         event_ld=exam_event_ld(view, specialty, renderer.abs_url(path)))


def _timeline_page(renderer: Renderer, site: ResolvedSite, views, today: dt.date) -> str:
    """One bar per province and distinct release window (regions sharing it grouped)."""
    rows = []
    for province in site.provinces:
        groups: dict[tuple, list] = {}
        for region in site.regions_by_province[province.slug]:
            cycle = views[region.key].cycle
            if cycle is None:
                continue
            release = cycle.milestones[1]
            key = (release.first, release.last, not release.estimated, release.provisional)
            groups.setdefault(key, []).append(region)
        for (first, last, announced, provisional), regions in sorted(groups.items()):
            names = "、".join(r.name for r in regions[:3]) + (
                f"等{len(regions)}个地区" if len(regions) > 3 else "")
            target = regions[0].path if len(regions) == 1 else f"{province.slug}/"
            rows.append({"province": province.name, "regions": names, "first": first,
                         "last": last, "announced": announced, "provisional": provisional,
                         "href_path": target,
                         "bar": WindowBar(province.short_name, f"{province.short_name} "
                                          f"{names if len(groups) > 1 else ''}".strip(),
                                          first, last, announced, provisional)})
    svg = Markup(national_timeline([r["bar"] for r in rows], today))
    return renderer.page("timeline.html", page_path="timeline/", today=today, bars=rows,
                         svg=svg)


def _feed(renderer: Renderer, title: str, feed_path: str, site_path: str, notices,
          today: dt.date) -> bytes:
    return atom_feed(title, renderer.abs_url(feed_path), renderer.abs_url(site_path), notices,
                     lambda n: renderer.abs_url(f"notices/{n.slug}/"), render_markdown_body,
                     today)


def _api(renderer: Renderer, site: ResolvedSite, views: dict[str, RegionView],
         today: dt.date) -> str:
    records = [api_record(views[r.key], specialty,
                          renderer.url(f"{r.path}{specialty.code}/"))
               for r in site.regions for specialty in views[r.key].specialties]
    return to_json({"version": API_VERSION, "generated_for": today.isoformat(),
                    "records": records})


def _province_notices(site: ResolvedSite, province: m.Province) -> list[m.Notice]:
    keys = {r.key for r in site.regions_by_province[province.slug]}
    found = {n.slug: n for k in keys for n in site.notices_by_region[k]}
    found.update({n.slug: n for n in site.input.notices if province.slug in n.provinces})
    return sorted(found.values(), key=lambda n: (n.date, n.slug), reverse=True)


def _notice_regions(site: ResolvedSite, notice: m.Notice) -> list[str]:
    return [key for key, notices in site.notices_by_region.items() if notice in notices]


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
        "common_subjects": list(m.COMMON_SUBJECTS),
        "exam_year": cycle.exam.year if cycle else None,
        "rolling_first": cycle.rolling[0] if cycle else None,
        "rolling_second": cycle.rolling[1] if cycle else None,
        "review_working_days": region.estimate.review_working_days,
        "review_closes": cycle.review.closes if cycle else None,
        "review_estimated": cycle.review.estimated if cycle else True,
        "login_methods": list(region.login_methods),
        "login_labels": [m.LOGIN_METHODS[c] for c in region.login_methods],
        "post_exam_audit": region.post_exam_audit,
        "scores_site": scores_sites[0].name if scores_sites else None,
        "local_office": region.local_office.name if region.local_office else None,
        "local_office_phone": region.local_office.phone if region.local_office else None,
    }
