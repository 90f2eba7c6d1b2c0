"""What the site-wide unit consists of: home, timeline, methodology, notices, feeds, the API,
static assets, sitemap and robots.txt, assembled from the provinces' products."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from pathlib import Path

from markupsafe import Markup

from erjian.dates.history import HISTORY_MARGIN, HISTORY_MIN_YEARS
from erjian.dates.planner import Planner
from erjian.input import models as m
from erjian.input.division_files import dataset_info
from erjian.input.resolve import ResolvedSite
from erjian.site.feeds import recent_notices, robots, sitemaps
from erjian.site.file_list import UnitFiles, json_record, notice_feed, page
from erjian.site.indexable import capped
from erjian.site.keys import digest
from erjian.site.province_unit import UnitProducts
from erjian.site.render import Renderer
from erjian.site.search_index import SHARD_KEYS, search_shards
from erjian.site.svg import national_timeline

API_VERSION = 1


class SitePages:
    """Lists the files of the site-wide unit. A page made from the provinces' products
    changes only when some province's contribution to it changed."""

    def __init__(self, renderer: Renderer, site: ResolvedSite, planner: Planner,
                 today: dt.date, root: Path):
        self.renderer, self.site, self.planner = renderer, site, planner
        self.today, self.root = today, root

    def add_unit(self, files: UnitFiles, products: list[UnitProducts]) -> UnitProducts:
        """Lists every site-wide file; ``products`` are the provinces', in site order.
        Returns the site-wide unit's own products (its paths)."""
        site, renderer, today = self.site, self.renderer, self.today
        inputs = site.input
        notices = sorted(inputs.notices, key=lambda n: (n.date, n.slug), reverse=True)

        def part(name: str) -> str:
            return digest([p.digest_of(name) for p in products])
        files.add("index.html", (part("home"), notices[:10]),
                  page(renderer, today, "home.html", "", provinces=site.provinces,
                       fragments=[p.home for p in products], notices=notices[:10]))
        @functools.cache
        def search_json() -> str:
            return _json_lines([e[:4] for p in products for e in p.search])

        @functools.cache
        def regions_json() -> str:
            return _api_document([r for p in products for r in p.api], today)
        files.add("api/search.json", part("search"), search_json)
        shards = functools.cache(
            lambda: search_shards([e[4] for p in products for e in p.search]))
        for key in SHARD_KEYS:
            files.add(f"api/search/{key}.json", (part("search"), key),
                      lambda key=key: shards()[key])
        province_names = [p.name for p in site.provinces]
        files.add("timeline/index.html", (part("timeline"), province_names),
                  lambda: _timeline_page(renderer,
                                         [r for p in products for r in p.timeline],
                                         [prov.name for prov, p in zip(site.provinces,
                                                                       products)
                                          if not p.timeline],
                                         today))
        self._add_methodology(files)
        files.add("notices/index.html", notices,
                  page(renderer, today, "notices.html", "notices/", notices=notices))
        names = {k: v for p in products for k, v in p.regions.items()}
        regions_of = _regions_by_notice(site)
        for notice in notices:
            regions = [names[k] for k in regions_of.get(notice.slug, ())]
            files.add(f"notices/{notice.slug}/index.html", (notice, regions),
                      lambda notice=notice, regions=regions: renderer.page(
                          "notice.html", page_path=f"notices/{notice.slug}/", today=today,
                          notice=notice, body=renderer.notice_body(notice),
                          regions=regions))
        files.add("feed.xml", recent_notices(notices),
                  lambda: notice_feed(renderer, f"{inputs.site.title}：通知", "feed.xml", "",
                                      notices, today))
        files.add("404.html", (), page(renderer, today, "404.html", "404.html"))
        files.add("api/regions.json", part("api"), regions_json)
        files.add("api/index.html", (part("api"), part("search")),
                  lambda: renderer.page("api.html", page_path="api/", today=today, sizes={
                      "regions": _size(regions_json()), "search": _size(search_json())}))
        self._add_static(files)
        entries = _sitewide_entries(notices, products, today)
        for name, text in sitemaps(entries, renderer.abs_url).items():
            files.add(name, (entries, name), lambda text=text: text)
        files.add("robots.txt", (), lambda: robots(renderer.abs_url("sitemap.xml")))
        return UnitProducts(paths=files.paths)

    def _add_methodology(self, files: UnitFiles) -> None:
        inputs, planner, provinces = self.site.input, self.planner, self.site.provinces
        record = planner.record
        divisions = dataset_info(self.root)
        files.add("methodology/index.html",
                  (inputs.layers, inputs.calendar_years, planner.first_year, planner.last_year,
                   [p.estimate for p in provinces], record.key(),
                   [(p.slug, p.name) for p in provinces], divisions),
                  page(self.renderer, self.today, "methodology.html", "methodology/",
                       layers=inputs.layers, years=inputs.calendar_years,
                       calendar=planner.calendar(()), first_year=planner.first_year,
                       last_year=planner.last_year, defaults=m.Estimate(),
                       provinces=provinces, record=record, history_margin=HISTORY_MARGIN,
                       history_min_years=HISTORY_MIN_YEARS, divisions=divisions))

    def _add_static(self, files: UnitFiles) -> None:
        for asset in sorted((self.root / "templates" / "static").glob("*")):
            if asset.is_file():
                data = asset.read_bytes()
                files.add(f"static/{asset.name}", hashlib.sha256(data).hexdigest(),
                          lambda data=data: data)


def _sitewide_entries(notices: list[m.Notice], products: list[UnitProducts],
                      today: dt.date) -> list[tuple[str, str | None]]:
    """(page path, lastmod) of every page in the sitemap, sorted by path. The home page and
    the national timeline sum up every province: their lastmod is the newest of the site;
    a notice's page has the notice's date; the method and data pages carry none."""
    provinces = [e for p in products for e in p.sitemap]
    newest = capped([dt.date.fromisoformat(d) for _, d in provinces if d]
                    + [n.date for n in notices], today)
    newest_notice = capped([n.date for n in notices], today)
    own = [("", newest), ("timeline/", newest), ("methodology/", None), ("api/", None),
           ("notices/", newest_notice),
           *((f"notices/{n.slug}/", capped([n.date], today)) for n in notices)]
    return sorted([*((path, d.isoformat() if d else None) for path, d in own), *provinces])


def _size(text: str) -> dict:
    """A file's size for readers: rounded, in KB below 1 MB, and whether it is large."""
    size = len(text.encode())
    if size < 1024 * 1024:
        return {"label": f"约 {max(1, round(size / 1024))} KB", "large": False}
    return {"label": f"约 {size / 1024 / 1024:.0f} MB", "large": True}


def _api_document(records: list[str], today: dt.date) -> str:
    """api/regions.json from pre-serialised records, one record per line."""
    head = f'{{"version":{API_VERSION},"generated_for":"{today.isoformat()}","records":[\n'
    return head + ",\n".join(records) + "\n]}\n"


def _json_lines(entries: list) -> str:
    return "[\n" + ",\n".join(json_record(e) for e in entries) + "\n]\n"


def _timeline_page(renderer: Renderer, rows: list[dict], missing: list[str],
                   today: dt.date) -> str:
    svg = Markup(national_timeline([r["bar"] for r in rows], today))
    return renderer.page("timeline.html", page_path="timeline/", today=today, bars=rows,
                         svg=svg, missing=missing)


def _regions_by_notice(site: ResolvedSite) -> dict[str, list[str]]:
    """The keys of the regions each notice concerns, by notice slug, in site order. One pass
    over ``notices_by_region``: searching it once per notice took a minute for 5,000."""
    regions: dict[str, list[str]] = {}
    for key, notices in site.notices_by_region.items():
        for notice in notices:
            regions.setdefault(notice.slug, []).append(key)
    return regions
