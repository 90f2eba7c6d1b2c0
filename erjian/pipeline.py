"""The build, stage by stage: load+validate → resolve → calendars/cycles → render → write."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path

from . import models as m
from .errors import Problem
from .pages import Planner, RegionView, api_record
from .render import Renderer, render_markdown_body, to_json
from .resolve import ResolvedSite, resolve
from .validate import read_site
from .write import StagedOutput

API_VERSION = 1


@dataclass
class BuildResult:
    pages: int
    bytes: int
    warnings: list[Problem]
    seconds: float


def build(root: Path, out: Path, today: dt.date) -> BuildResult:
    """Build the site under ``root`` into ``out``; raises SiteError and leaves ``out``
    untouched if anything is wrong."""
    started = time.perf_counter()
    root = Path(root)
    site = resolve(read_site(root))
    planner = Planner(site, today)
    views = {r.key: planner.view(r) for r in site.regions}
    renderer = Renderer(root / "templates", site.input.site, site.input.sections, root)
    with StagedOutput(out) as output:
        _write_pages(output, renderer, site, views, planner, today, root)
    return BuildResult(output.count, output.bytes, site.warnings,
                       time.perf_counter() - started)


def _write_pages(output, renderer: Renderer, site: ResolvedSite, views: dict[str, RegionView],
                 planner: Planner, today: dt.date, root: Path) -> None:
    common = {"today": today}
    records = []
    by_province = {p.slug: [views[r.key] for r in site.regions_by_province[p.slug]]
                   for p in site.provinces}
    for province in site.provinces:
        province_views = by_province[province.slug]
        output.write(f"{province.slug}/index.html", renderer.page(
            "province.html", province=province, views=province_views,
            notices=_province_notices(site, province), **common))
        for view in province_views:
            region = view.region
            notices = site.notices_by_region[region.key]
            output.write(f"{region.path}index.html", renderer.page(
                "region.html", view=view, province=province, siblings=province_views,
                notices=notices, **common))
            for specialty in view.specialties:
                path = f"{region.path}{specialty.code}/"
                sections = renderer.fill_sections(_section_values(view, specialty))
                output.write(f"{path}index.html", renderer.page(
                    "guide.html", view=view, region=region, province=province,
                    specialty=specialty, cycle=view.cycle, sections=sections,
                    siblings=province_views, notices=notices, page_path=path, **common))
                records.append(api_record(view, specialty, renderer.url(path)))
    output.write("index.html", renderer.page(
        "home.html", provinces=site.provinces, by_province=by_province,
        notices=sorted(site.input.notices, key=lambda n: (n.date, n.slug), reverse=True)[:10],
        **common))
    output.write("methodology/index.html", renderer.page(
        "methodology.html", layers=site.input.layers, years=site.input.calendar_years,
        calendar=planner.calendar(()), first_year=planner.first_year,
        last_year=planner.last_year, defaults=m.Estimate(), provinces=site.provinces,
        **common))
    notices = sorted(site.input.notices, key=lambda n: (n.date, n.slug), reverse=True)
    output.write("notices/index.html", renderer.page("notices.html", notices=notices, **common))
    for notice in notices:
        output.write(f"notices/{notice.slug}/index.html", renderer.page(
            "notice.html", notice=notice, body=render_markdown_body(notice.body),
            regions=[views[k].region for k in _notice_regions(site, notice)], **common))
    output.write("404.html", renderer.page("404.html", **common))
    output.write("api/regions.json", to_json({
        "version": API_VERSION, "generated_for": today.isoformat(), "records": records}))
    for asset in sorted((root / "templates" / "static").glob("*")):
        if asset.is_file():
            output.write(f"static/{asset.name}", asset.read_bytes())


def _province_notices(site: ResolvedSite, province: m.Province) -> list[m.Notice]:
    keys = {r.key for r in site.regions_by_province[province.slug]}
    found = {n.slug: n for k in keys for n in site.notices_by_region[k]}
    found.update({n.slug: n for n in site.input.notices if province.slug in n.provinces})
    return sorted(found.values(), key=lambda n: (n.date, n.slug), reverse=True)


def _notice_regions(site: ResolvedSite, notice: m.Notice) -> list[str]:
    return [key for key, notices in site.notices_by_region.items() if notice in notices]


def _section_values(view: RegionView, specialty: m.Specialty) -> dict:
    """The placeholders shared guide text may use (listed in docs/data-model.md)."""
    region, cycle = view.region, view.cycle
    scores_sites = [a for a in region.authorities if a.role == "scores"]
    year = cycle.exam.year if cycle else None
    return {
        "region_name": region.name,
        "province_name": region.province.name,
        "province_short": region.province.short_name,
        "specialty_name": specialty.name,
        "practice_subject": specialty.practice_subject,
        "common_subjects": list(m.COMMON_SUBJECTS),
        "exam_year": year,
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
