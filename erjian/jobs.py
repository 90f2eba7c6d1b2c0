"""What the site consists of: every output file, unit by unit, with its key and how to render
it; the province units run in forked worker processes when many changed.

A *key* is a hash of everything a file is made from (its data, the templates and shared
text, the generator's own code, the build date and the site settings). A unit is one
province (its province page and feed, region pages, guide pages and calendar files) or the
site-wide pages; see docs/architecture.md.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import hashlib
from pathlib import Path

from markupsafe import Markup

from . import models as m
from .errors import Problem, UserError
from .feeds import atom_feed, calendar_template, fill_calendar, robots, sitemap
from .memo import Memo
from .pages import Planner, RegionView, api_record, exam_event_ld, search_terms
from .render import Renderer, render_markdown_body
from .resolve import ResolvedSite
from .svg import WindowBar, cycle_timeline, national_timeline
from .write import IncrementalOutput

API_VERSION = 1
PARALLEL_FROM = 400      # regions to rebuild before forking workers pays off


def digest(*parts) -> str:
    """A key for cache decisions (not for security): BLAKE2b over the parts' reprs."""
    return hashlib.blake2b(repr(parts).encode("utf-8"), digest_size=16).hexdigest()


class Keys:
    """Digests of model objects, each computed once per build (shared objects such as a
    province's cycle or authorities are hashed once, not once per region)."""

    def __init__(self):
        self._memo: dict[int, tuple[object, str]] = {}

    def of(self, value) -> str:
        if value is None or isinstance(value, (str, int, bool, dt.date)):
            return repr(value)
        entry = self._memo.get(id(value))
        if entry is None:
            entry = self._memo[id(value)] = (value, digest(value))
        return entry[1]

    def region(self, view: RegionView) -> str:
        region = view.region
        parts = [self.of(getattr(region, f.name)) for f in dataclasses.fields(region)]
        return digest(parts, self.of(view.cycle), view.next_exam)


def files_digest(*folders_or_files: Path) -> str:
    """Hash of the files (paths and bytes) under the given folders and files."""
    hasher = hashlib.sha256()
    for entry in folders_or_files:
        paths = sorted(p for p in entry.rglob("*") if p.is_file()) if entry.is_dir() else (
            [entry] if entry.exists() else [])
        for path in paths:
            if "__pycache__" in path.parts:
                continue
            hasher.update(path.as_posix().encode())
            with open(path, "rb") as handle:
                hasher.update(hashlib.file_digest(handle, "sha256").digest())
    return hasher.hexdigest()


# --- running units in worker processes ----------------------------------------------------

_PLAN = None   # the SiteJobs of this build, set before forking workers, which inherit it


def _unit_in_worker(args):
    unit, unit_key, writer = args
    return _PLAN.build_province(unit, unit_key, writer)


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


# --- what the site consists of --------------------------------------------------------------

SITE_UNIT = "_site"


class SiteJobs:
    """Lists the output files that must be rendered, unit by unit: one unit per province,
    whose files are skipped as a whole when its key is unchanged, and one for the site-wide
    pages, which are assembled from the provinces' cached products."""

    def __init__(self, renderer: Renderer, site: ResolvedSite, planner: Planner,
                 today: dt.date, root: Path, fingerprint: str, memo: Memo):
        self.renderer, self.site, self.planner = renderer, site, planner
        self.today, self.root, self.fingerprint, self.memo = today, root, fingerprint, memo
        self.keys = Keys()
        self._views: dict[str, RegionView] = {}
        self._view_keys: dict[str, str] = {}
        self.regions = {r.key: r for r in site.regions}
        self.children_keys: dict[str, list[str]] = {}
        self.top_keys: dict[str, list[str]] = {p.slug: [] for p in site.provinces}
        for region in site.regions:
            parent = f"{region.province.slug}/{region.parent}" if region.parent else None
            if parent in self.regions:
                self.children_keys.setdefault(parent, []).append(region.key)
            else:
                self.top_keys[region.province.slug].append(region.key)
        self.fragments: dict[tuple, object] = {}
        self.products: dict[str, dict] = {}
        self.warnings: list[Problem] = []
        self.total_files = 0
        self._paths: list[str] = []
        self._writer = None

    def view(self, key: str) -> RegionView:
        """A region's computed schedule, worked out only for provinces that are rebuilt."""
        if key not in self._views:
            self._views[key] = self.planner.view(self.regions[key])
        return self._views[key]

    def view_key(self, key: str) -> str:
        if key not in self._view_keys:
            self._view_keys[key] = self.keys.region(self.view(key))
        return self._view_keys[key]

    def children(self, view: RegionView) -> list[RegionView]:
        return [self.view(k) for k in self.children_keys.get(view.region.key, [])]

    def top_level(self, province: str) -> list[RegionView]:
        return [self.view(k) for k in self.top_keys[province]]

    def add(self, path: str, key, render) -> None:
        """A file of the unit being built: rendered and staged unless its key shows that
        it is unchanged."""
        self._paths.append(path)
        file_key = digest(self.fingerprint, path, key)
        if self._writer.needs(path, file_key):
            self._writer.store(path, file_key, render())

    def page(self, template: str, page_path: str, **context):
        return lambda: self.renderer.page(template, page_path=page_path, today=self.today,
                                          **context)

    def relatives_key(self, views: list[RegionView]) -> str:
        """What a page shows of its relatives: names, addresses and specialties."""
        return digest([(v.region.name, v.region.path, v.region.specialties) for v in views])

    def parent_of(self, view: RegionView) -> RegionView | None:
        region = view.region
        key = f"{region.province.slug}/{region.parent}" if region.parent else None
        return self.view(key) if key in self.regions else None

    def siblings_of(self, view: RegionView) -> list[RegionView]:
        parent = self.parent_of(view)
        group = self.children(parent) if parent else self.top_level(
            view.region.province.slug)
        return [v for v in group if v is not view]

    def run(self, output: IncrementalOutput, workers: int, progress) -> None:
        """Build every province whose inputs changed (on every core when there are several),
        then the site-wide pages from all provinces' products."""
        global _PLAN
        changed = []
        for province in self.site.provinces:
            notices = _province_notices(self.site, province)
            unit_key = digest(self.fingerprint, files_digest(self.root / "regions" /
                                                              province.slug), notices)
            kept = output.keep_unit(province.slug, unit_key)
            if kept is not None:
                self._take(province.slug, kept)
            else:
                changed.append((province.slug, unit_key))
        total = len(self.site.regions) + len(self.site.provinces) + 1
        done = total - sum(len(self.site.regions_by_province[slug]) + 1 for slug, _ in changed)
        if progress:
            progress(done, total)
        for layers in {r.calendar_layers for r in self.site.regions}:
            self.planner.calendar(layers)   # here, so that the memo keeps what is built
        if changed:
            self.renderer.sections          # likewise for the compiled shared text
        size = {slug: len(self.site.regions_by_province[slug]) for slug, _ in changed}
        tasks = [(slug, key, output.unit_writer(slug, key))
                 for slug, key in sorted(changed, key=lambda c: -size[c[0]])]
        big = sum(size.values()) >= PARALLEL_FROM and len(tasks) > 1
        if workers > 1 and big:
            _PLAN = self
            gc.freeze()   # keep forked workers from copying the heap for the collector
            try:
                for result in _in_workers(tasks, min(workers, len(tasks))):
                    done = self._merge(output, result, done, total, progress)
            finally:
                gc.unfreeze()
                _PLAN = None
        else:
            for task in tasks:
                done = self._merge(output, self.build_province(*task), done, total, progress)
        writer = output.unit_writer(SITE_UNIT, self.fingerprint)
        self._build_site(writer, output)
        output.merge(writer.result({"paths": self._paths}))
        self.total_files += len(self._paths)
        if progress:
            progress(total, total)

    def _merge(self, output, result, done, total, progress) -> int:
        output.merge(result)
        self._take(result.unit, result.products)
        done += len(self.site.regions_by_province[result.unit]) + 1
        if progress:
            progress(done, total)
        return done

    def _take(self, unit: str, products: dict) -> None:
        self.products[unit] = products
        self.total_files += len(products["paths"])
        self.warnings.extend(products["warnings"])

    # -- one province ------------------------------------------------------------------------

    def build_province(self, slug: str, unit_key: str, writer):
        """Every file of one province, rendered and staged where changed (in a worker
        process when the build is large)."""
        site = self.site
        province = site.input.provinces[slug]
        notices = _province_notices(site, province)
        self._writer, self._paths = writer, []
        views = [self.view(r.key) for r in site.regions_by_province[slug]]
        summary = _province_summary(views)
        products = self._province_products(province, views, summary)
        top = self.top_level(slug)
        self.add(f"{slug}/index.html", (province, unit_key),
                 self.page("province.html", f"{slug}/", province=province,
                           summary=summary, top_level=top,
                           children={v.region.key: self.children(v) for v in top},
                           notices=notices))
        self.add(f"{slug}/feed.xml", notices,
                 lambda: _feed(self.renderer, f"{province.short_name}二建通知",
                               f"{slug}/feed.xml", f"{slug}/", notices, self.today))
        for view in views:
            self._region_jobs(province, view)
        products["paths"] = self._paths
        products["digests"] = {name: digest(products[name]) for name in
                               ("api", "search", "home", "timeline", "regions", "paths")}
        return writer.result(products)

    def _province_products(self, province: m.Province, views: list[RegionView],
                           summary: RegionView | None) -> dict:
        """What the site-wide pages need from this province, kept with its unit."""
        from .checks import province_warnings

        renderer = self.renderer
        records = [json_record(api_record(view, specialty, renderer.url(
            f"{view.region.path}{specialty.code}/")))
            for view in views for specialty in view.specialties]
        return {
            "home": Markup(renderer.page("_home_province.html", province=province,
                                         summary=summary,
                                         top_level=self.top_level(province.slug),
                                         today=self.today)),
            "api": records,
            "search": [_search_entry(view, self.parent_of(view), self.memo) for view in views],
            "timeline": _timeline_rows(province, views),
            "regions": {v.region.key: (v.region.name, v.region.path) for v in views},
            "warnings": province_warnings(self.site, province, views, self.today),
        }

    def _region_jobs(self, province: m.Province, view: RegionView) -> None:
        region = view.region
        notices = self.site.notices_by_region[region.key]
        parent = self.parent_of(view)
        siblings = self.siblings_of(view)
        children = self.children(view)
        relatives = (self.relatives_key([parent] if parent else []),
                     self.relatives_key(siblings), self.relatives_key(children))
        page_key = (self.view_key(region.key), relatives, notices)
        regions_of = lambda views: [v.region for v in views]  # noqa: E731
        self.add(f"{region.path}index.html", page_key,
                 self.page("region.html", region.path, view=view, province=province,
                           parent=parent.region if parent else None,
                           children=regions_of(children), notices=notices))
        for specialty in view.specialties:
            path = f"{region.path}{specialty.code}/"
            self.add(f"{path}index.html", (page_key, specialty.code),
                     lambda view=view, specialty=specialty, path=path: self._guide(
                         province, view, specialty, parent, siblings, children, notices,
                         path))
            ics_key = (region.name, region.key, self.keys.of(view.cycle), province.name,
                       specialty.code)
            self.add(f"{path}schedule.ics", ics_key,
                     lambda view=view, specialty=specialty, path=path: fill_calendar(
                         self._fragment(("ics", id(view.cycle), province.slug, specialty.code),
                                        lambda: calendar_template(view, specialty, self.today),
                                        markup=False),
                         view, specialty, self.renderer.abs_url(path), self.renderer.site.host))

    def _fragment(self, key: tuple, render, markup: bool = True):
        """``render()`` once per ``key`` per process (shared by every page that needs it)."""
        if key not in self.fragments:
            self.fragments[key] = Markup(render()) if markup else render()
        return self.fragments[key]

    def _guide(self, province, view, specialty, parent, siblings, children, notices,
               path) -> str:
        renderer, cycle, region = self.renderer, view.cycle, view.region
        schedule = self._fragment(("schedule", id(cycle), province.slug, view.next_exam),
                                  lambda: renderer.page(
                                      "_schedule.html", cycle=cycle, province=province,
                                      view=view, today=self.today,
                                      timeline_svg=_timeline_svg(cycle, self.today)))
        channels = self._fragment(("channels", id(region.authorities), province.slug),
                                  lambda: renderer.page(
                                      "_channels.html", authorities=region.authorities,
                                      province=province, today=self.today))
        sections = renderer.fill_sections(_section_values(view, specialty), self.fragments)
        group = parent.region.key if parent else f"{province.slug}:top"
        return renderer.page(
            "guide.html", view=view, region=region, province=province, specialty=specialty,
            cycle=cycle, schedule=schedule, channels=channels, sections=sections,
            parent=parent.region if parent else None,
            siblings=self._links(group, [view, *siblings], specialty) if siblings else "",
            children=self._links(region.key, children, specialty) if children else "",
            notices=notices, page_path=path, today=self.today,
            event_ld=exam_event_ld(view, specialty, renderer.abs_url(path)))

    def _links(self, group: str, views: list[RegionView], specialty: m.Specialty) -> Markup:
        """A group's links for one specialty, in the group's own order (the current region
        included, so that every page of the group shares one rendering)."""
        ordered = sorted(views, key=lambda v: (v.region.code or "", v.region.key))
        return self._fragment(("links", group, specialty.code), lambda: self.renderer.page(
            "_links.html", regions=[v.region for v in ordered], specialty=specialty))

    # -- site-wide pages ---------------------------------------------------------------------

    def _build_site(self, writer, output: IncrementalOutput) -> None:
        site, renderer, today = self.site, self.renderer, self.today
        inputs = site.input
        self._writer, self._paths = writer, []
        notices = sorted(inputs.notices, key=lambda n: (n.date, n.slug), reverse=True)
        products = [self.products[p.slug] for p in site.provinces]

        def part(name: str) -> str:
            """Changes only when some province's contribution to ``name`` changed."""
            return digest([p["digests"][name] for p in products])
        self.add("index.html", (part("home"), notices[:10]),
                 self.page("home.html", "", provinces=site.provinces,
                           fragments=[p["home"] for p in products], notices=notices[:10]))
        self.add("api/search.json", part("search"),
                 lambda: _json_lines([e for p in products for e in p["search"]]))
        province_names = [p.name for p in site.provinces]
        self.add("timeline/index.html", (part("timeline"), province_names),
                 lambda: _timeline_page(renderer, [r for p in products for r in p["timeline"]],
                                        [prov.name for prov, p in zip(site.provinces, products)
                                         if not p["timeline"]],
                                        today))
        planner = self.planner
        self.add("methodology/index.html",
                 (inputs.layers, inputs.calendar_years, planner.first_year, planner.last_year,
                  [p.estimate for p in site.provinces]),
                 self.page("methodology.html", "methodology/", layers=inputs.layers,
                           years=inputs.calendar_years, calendar=planner.calendar(()),
                           first_year=planner.first_year, last_year=planner.last_year,
                           defaults=m.Estimate(), provinces=site.provinces))
        self.add("notices/index.html", notices,
                 self.page("notices.html", "notices/", notices=notices))
        names = {k: v for p in products for k, v in p["regions"].items()}
        for notice in notices:
            regions = [names[k] for k in _notice_regions(site, notice)]
            self.add(f"notices/{notice.slug}/index.html", (notice, regions),
                     lambda notice=notice, regions=regions: renderer.page(
                         "notice.html", page_path=f"notices/{notice.slug}/", today=today,
                         notice=notice, body=render_markdown_body(notice.body),
                         regions=regions))
        self.add("feed.xml", notices,
                 lambda: _feed(renderer, f"{inputs.site.title}：通知", "feed.xml", "", notices,
                               today))
        self.add("404.html", (), self.page("404.html", "404.html"))
        self.add("api/regions.json", part("api"),
                 lambda: _api_document([r for p in products for r in p["api"]], today))
        for asset in sorted((self.root / "templates" / "static").glob("*")):
            if asset.is_file():
                data = asset.read_bytes()
                self.add(f"static/{asset.name}", hashlib.sha256(data).hexdigest(),
                         lambda data=data: data)
        own = list(self._paths)

        def sitemap_text() -> str:
            pages = sorted(path[: -len("index.html")] for p in [*products, {"paths": own}]
                           for path in p["paths"] if path.endswith("index.html"))
            return sitemap([renderer.abs_url(p) for p in pages])

        self.add("sitemap.xml", (part("paths"), own), sitemap_text)
        self.add("robots.txt", (), lambda: robots(renderer.abs_url("sitemap.xml")))


def json_record(value) -> str:
    """One compact JSON line (UTF-8 text, no \\u escapes)."""
    import json

    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _api_document(records: list[str], today: dt.date) -> str:
    """api/regions.json from pre-serialised records, one record per line."""
    head = f'{{"version":{API_VERSION},"generated_for":"{today.isoformat()}","records":[\n'
    return head + ",\n".join(records) + "\n]}\n"


def _json_lines(entries: list) -> str:
    return "[\n" + ",\n".join(json_record(e) for e in entries) + "\n]\n"


def _timeline_svg(cycle, today: dt.date):
    if cycle is None:
        return ""
    return Markup(cycle_timeline(
        cycle.exam.days, (cycle.milestones[1].first, cycle.milestones[1].last),
        cycle.announcement.date if cycle.announcement else None,
        (cycle.review.opens, cycle.review.closes), today,
        estimated_review=cycle.review.estimated))


def _province_summary(views: list[RegionView]) -> RegionView | None:
    """A view that speaks for the whole province when all its regions share one schedule;
    None when they differ."""
    if not views:
        return None
    first = views[0]
    same = all(v.cycle is first.cycle and v.next_exam == first.next_exam for v in views)
    return first if same else None


def _search_entry(view: RegionView, parent: RegionView | None, memo: Memo) -> list:
    """[name, page path, search terms, where] for the home page's filter."""
    region = view.region
    where = region.province.short_name + (f" · {parent.region.name}" if parent else "")
    return [region.name, region.path, search_terms(region, memo), where]


def _timeline_rows(province: m.Province, views: list[RegionView]) -> list[dict]:
    """One row per distinct release window of the province (regions sharing it grouped)."""
    groups: dict[tuple, list] = {}
    for view in views:
        if view.cycle is None:
            continue
        release = view.cycle.milestones[1]
        key = (release.first, release.last, not release.estimated, release.provisional)
        groups.setdefault(key, []).append(view.region)
    rows = []
    for (first, last, announced, provisional), regions in sorted(groups.items()):
        names = "、".join(r.name for r in regions[:3]) + (
            f"等{len(regions)}个地区" if len(regions) > 3 else "")
        target = regions[0].path if len(regions) == 1 else f"{province.slug}/"
        label = f"{province.short_name} {names if len(groups) > 1 else ''}".strip()
        rows.append({"province": province.name, "regions": names, "first": first,
                     "last": last, "announced": announced, "provisional": provisional,
                     "href_path": target,
                     "bar": WindowBar(province.short_name, label, first, last, announced,
                                      provisional)})
    return rows


def _timeline_page(renderer: Renderer, rows: list[dict], missing: list[str],
                   today: dt.date) -> str:
    svg = Markup(national_timeline([r["bar"] for r in rows], today))
    return renderer.page("timeline.html", page_path="timeline/", today=today, bars=rows,
                         svg=svg, missing=missing)


def _feed(renderer: Renderer, title: str, feed_path: str, site_path: str, notices,
          today: dt.date) -> bytes:
    return atom_feed(title, renderer.abs_url(feed_path), renderer.abs_url(site_path), notices,
                     lambda n: renderer.abs_url(f"notices/{n.slug}/"), render_markdown_body,
                     today)


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
    }

