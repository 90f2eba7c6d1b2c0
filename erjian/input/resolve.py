"""Resolution: turn region files into complete regions by inheritance (province → parent
region → region), derive slugs, and attach notices and announced release dates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Optional

from erjian.core.errors import Problem, SiteError
from erjian.input import models as m
from erjian.input.link_policy import official_url_problem
from erjian.input.yaml_loader import line_in_file
from erjian.input.validate import DIVISIONS_FILE, SiteInput

_SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "自治州",
             "自治县", "自治旗", "地区", "新区", "林区", "省", "市", "区", "县", "盟", "旗")


def derive_stem(name: str) -> str:
    """The name without its administrative suffix (塔城地区 → 塔城), kept when too short."""
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


def derive_slug(name: str, reading=None) -> str:
    """URL segment for a Chinese place name: administrative suffix dropped, then pinyin
    (松江区 → songjiang, 马鞍山市 → maanshan), polyphonic place names in their reviewed
    reading (闵行区 → minhang, erjian/input/placenames.py). Empty when nothing usable remains.
    ``reading`` replaces the reader (pypinyin's ``lazy_pinyin`` gives the slugs made before
    the reviewed readings)."""
    if reading is None:
        from erjian.input.placenames import syllables as reading

    stem = derive_stem(name)
    syllables = reading(stem, errors=lambda text: [c for c in text.lower() if c.isalnum()])
    return "".join(ch for ch in "".join(syllables).lower() if ch.isascii() and ch.isalnum())


@dataclass(frozen=True)
class Region:
    """A region with everything it inherits filled in."""

    slug: str
    name: str
    level: str
    province: m.Province
    authorities: tuple
    login_methods: tuple
    specialties: tuple
    calendar_layers: tuple
    estimate: m.Estimate
    exams: tuple
    local_office: Optional[m.LocalOffice]
    post_exam_audit: Optional[bool]
    note: Optional[str]
    file: str
    code: Optional[str] = None
    parent: Optional[str] = None
    pinyin: Optional[str] = None
    own: frozenset = frozenset()   # the inheritable fields its own file sets
    exam_bodies: tuple = ()   # other bodies whose exam its candidates may sit (m.ExamBody)

    @property
    def key(self) -> str:
        return f"{self.province.slug}/{self.slug}"

    @property
    def path(self) -> str:
        return f"{self.province.slug}/{self.slug}/"

    @property
    def estimate_differs(self) -> bool:
        """Whether its release window is counted differently from its province's."""
        own, province = self.estimate, self.province.estimate
        return ((own.min_working_days, own.max_working_days, own.review_working_days)
                != (province.min_working_days, province.max_working_days,
                    province.review_working_days))


@dataclass(frozen=True)
class Announcement:
    """A release date confirmed by a notice."""

    date: dt.date
    notice: m.Notice


@dataclass
class ResolvedSite:
    input: SiteInput
    provinces: list[m.Province]
    regions: list[Region]
    regions_by_province: dict[str, list[Region]]
    notices_by_region: dict[str, list[m.Notice]]
    announcements: dict[tuple, Announcement]
    warnings: list[Problem] = field(default_factory=list)

    def announcement(self, region: Region, exam: m.Exam) -> Announcement | None:
        return self.announcements.get((region.key, exam.year, exam.sitting))


def resolve(site: SiteInput) -> ResolvedSite:
    """The site's regions complete. Estimates counted from history (from_history) are filled
    in before, by erjian.dates.history.apply_history."""
    problems: list[Problem] = []
    regions = _resolve_regions(site, problems)
    _check_layers(site, regions, problems)
    _check_links(site, regions, problems)
    _check_exam_bodies(site, regions, problems)
    _check_estimate_reasons(site, regions, problems)
    _check_audit_stages(site, regions, problems)
    by_key = {r.key: r for r in regions}
    notices_by_region, announcements = _attach_notices(site, regions, by_key, problems)
    errors = site.errors + [p for p in problems if p.severity == "error"]
    if errors:
        raise SiteError(errors)
    provinces = sorted(site.provinces.values(), key=lambda p: p.slug)
    by_province: dict[str, list[Region]] = {p.slug: [] for p in provinces}
    for region in regions:
        by_province[region.province.slug].append(region)
    return ResolvedSite(site, provinces, regions, by_province, notices_by_region,
                        announcements,
                        warnings=site.warnings + [p for p in problems if p.severity != "error"])


def _resolve_regions(site: SiteInput, problems: list[Problem]) -> list[Region]:
    files_by_slug: dict[tuple[str, str], m.RegionFile] = {}
    ordered: list[tuple[str, m.RegionFile]] = []
    for region_file in site.regions:
        slug = region_slug(region_file)
        moved = _moved_address_problem(site, region_file, slug) if slug else None
        if moved:
            problems.append(moved)
        if not slug:
            problems.append(Problem(region_file.file, region_file.line_of("name"), "slug",
                                    f"no URL segment can be derived from '{region_file.name}'",
                                    "add 'slug: <latin letters>' to the file"))
            continue
        key = (region_file.province, slug)
        if key in files_by_slug:
            other = files_by_slug[key]
            problems.append(Problem(region_file.file, region_file.line_of("name"), "slug",
                                    f"slug '{slug}' is already used by {other.file} "
                                    f"({other.name}); two pages cannot share one address",
                                    "give one of them an explicit 'slug', e.g. "
                                    f"'{slug}-{derive_slug(site.provinces[region_file.province].name) if region_file.province in site.provinces else 'x'}'"))
            continue
        files_by_slug[key] = region_file
        ordered.append((slug, region_file))

    regions = []
    for slug, region_file in ordered:
        province = site.provinces.get(region_file.province)
        if province is None:
            continue  # reported by validation (folder without province.yaml)
        chain = _parent_chain(region_file, files_by_slug, problems)
        if chain is None:
            continue
        settings = {name: getattr(province, name) for name in m.INHERITABLE}
        for ancestor in reversed(chain):
            settings.update(ancestor.overrides)
        regions.append(Region(slug=slug, name=region_file.name, level=region_file.level,
                              province=province, file=region_file.file, code=region_file.code,
                              parent=region_file.parent, pinyin=region_file.pinyin,
                              own=frozenset(region_file.overrides),
                              exam_bodies=tuple(b for b in province.exam_bodies
                                                if slug in b.regions), **settings))
    return sorted(regions, key=lambda r: (r.province.slug, r.slug))


def region_slug(region_file: m.RegionFile) -> str:
    """The region's address segment: its own or its division's slug, else derived from the
    name (empty when nothing usable remains)."""
    return region_file.slug or derive_slug(region_file.name)


def _moved_address_problem(site: SiteInput, region_file: m.RegionFile,
                           slug: str) -> Problem | None:
    """A division's generated slug is its published address: a file that moves the region
    elsewhere must leave a redirect there (a line of divisions/moved/<province>.tsv, written
    by ``python build.py move``), and one that brings it back must drop that redirect."""
    published = region_file.division_slug
    if not published:
        return None
    province = region_file.province
    old, new = f"{province}/{published}/", f"{province}/{slug}/"
    moved = site.moved.get(province)
    entry = next((e for e in moved.entries if e.old == old), None) if moved else None
    line = region_file.line_of("slug") or region_file.line_of("name")
    if published == slug:
        if entry is None:
            return None
        return Problem(region_file.file, line, "slug",
                       f"{region_file.name} is at {old} again, but {moved.file} (line "
                       f"{entry.line}) still sends that address to {entry.new}",
                       f"record the return: python build.py move {entry.new} {old}")
    if entry is None:
        return Problem(region_file.file, line, "slug",
                       f"slug '{slug}' moves {region_file.name} from its published address "
                       f"{old} to {new}, and nothing would send readers from the old one",
                       f"record the move so that {old} redirects: python build.py move "
                       f"{old} {new} (or remove 'slug' to keep the address)")
    if entry.new != new:
        return Problem(region_file.file, line, "slug",
                       f"{moved.file} (line {entry.line}) sends {region_file.name}'s old "
                       f"address {old} to {entry.new}, but the region is now at {new}",
                       f"record the move: python build.py move {entry.new} {new}")
    return None


def _parent_chain(region_file, files_by_slug, problems) -> list[m.RegionFile] | None:
    """The region followed by its ancestors (nearest first), or None on a cycle or a gap."""
    chain = [region_file]
    seen = {id(region_file)}
    current = region_file
    while current.parent:
        parent = files_by_slug.get((current.province, current.parent))
        if parent is None:
            problems.append(Problem(current.file, current.line_of("parent"), "parent",
                                    f"parent '{current.parent}' is not a region of "
                                    f"'{current.province}'",
                                    "use the slug of a region file in the same province folder"))
            return None
        if id(parent) in seen:
            names = " → ".join(r.name for r in chain + [parent])
            problems.append(Problem(region_file.file, region_file.line_of("parent"),
                                    "parent", f"inheritance cycle: {names}",
                                    "one region in the loop must stop naming a parent"))
            return None
        seen.add(id(parent))
        chain.append(parent)
        current = parent
    return chain


def sets_own(owner, field: str) -> bool:
    """True if ``owner`` is a province, or a region whose own file sets ``field``: inherited
    values are checked, and reported, once, in the file that sets them."""
    return not isinstance(owner, Region) or field in owner.own


def _check_layers(site: SiteInput, regions: list[Region], problems: list[Problem]) -> None:
    for owner in [*site.provinces.values(), *regions]:
        if not sets_own(owner, "calendar_layers"):
            continue
        for layer in owner.calendar_layers:
            if layer not in site.layers:
                problems.append(Problem(owner.file, None, "calendar_layers",
                                        f"calendar layer '{layer}' does not exist",
                                        "known layers: " + ", ".join(sorted(site.layers))))


def _check_estimate_reasons(site: SiteInput, regions: list[Region],
                            problems: list[Problem]) -> None:
    """A region whose window differs from its province's says why: its pages show the
    reason beside the window, so that a reader sees why the dates differ."""
    for region in regions:
        if sets_own(region, "estimate") and region.estimate_differs \
                and not region.estimate.basis:
            e, p = region.estimate, region.province.estimate
            problems.append(Problem(
                region.file, line_in_file(site.root / region.file, "estimate"), "estimate",
                f"the estimate ({e.min_working_days}–{e.max_working_days} working days, "
                f"review {e.review_working_days}) differs from {region.province.name}'s "
                f"({p.min_working_days}–{p.max_working_days}, review "
                f"{p.review_working_days}) without a reason",
                "add estimate.basis: one sentence, in Chinese, on why this region's scores "
                "come earlier or later (it is shown on the region's pages)"))


def _check_audit_stages(site: SiteInput, regions: list[Region],
                        problems: list[Problem]) -> None:
    """A recorded audit stage and ``post_exam_audit: false`` contradict each other: the pages
    would say there is no audit and give its dates. Reported once, in the file that says
    false."""
    reported: set[str] = set()
    for region in regions:
        if region.post_exam_audit is not False:
            continue
        years = [e.year for e in region.exams if e.stage("audit") is not None]
        owner = region if sets_own(region, "post_exam_audit") else region.province
        if not years or owner.file in reported:
            continue
        reported.add(owner.file)
        problems.append(Problem(
            owner.file, line_in_file(site.root / owner.file, "post_exam_audit"),
            "post_exam_audit", f"says {owner.name} holds no post-exam audit, but an audit "
            f"stage is recorded for {'、'.join(map(str, years))}",
            "remove the audit stage if the province has no audit, or set post_exam_audit: "
            "true if the notice announces one"))


def _check_links(site: SiteInput, regions: list[Region], problems: list[Problem]) -> None:
    """Official channels (authorities, the pages of theirs the harvest watches, the local
    office) must pass the stricter link policy (erjian.input.link_policy.official_url_problem);
    each is checked once, in the file that sets it. They are checked here rather than by the schema so that a refused link does not also
    hide the file from the regions that inherit from it. Every other URL field passes the
    general link policy when its file is validated."""
    reviewed = site.site.official_domains if site.site else ()
    for owner in [*site.provinces.values(), *regions]:
        if sets_own(owner, "authorities"):
            for index, authority in enumerate(owner.authorities):
                _check_official(site, owner, authority.url, reviewed, problems,
                                f"authorities[{index + 1}].url", "authorities", index, "url")
                for n, watched in enumerate(authority.notices):   # harvest fetches these
                    _check_official(site, owner, watched.url, reviewed, problems,
                                    f"authorities[{index + 1}].notices[{n + 1}].url",
                                    "authorities", index, "notices", n, "url")
        if sets_own(owner, "local_office") and owner.local_office and owner.local_office.url:
            _check_official(site, owner, owner.local_office.url, reviewed, problems,
                            "local_office.url", "local_office", "url")
    for province in site.provinces.values():
        for i, body in enumerate(province.exam_bodies):
            for j, authority in enumerate(body.authorities):
                _check_official(site, province, authority.url, reviewed, problems,
                                f"exam_bodies[{i + 1}].authorities[{j + 1}].url",
                                "exam_bodies", i, "authorities", j, "url")
                for n, watched in enumerate(authority.notices):
                    _check_official(site, province, watched.url, reviewed, problems,
                                    f"exam_bodies[{i + 1}].authorities[{j + 1}].notices"
                                    f"[{n + 1}].url", "exam_bodies", i, "authorities", j,
                                    "notices", n, "url")


def _check_exam_bodies(site: SiteInput, regions: list[Region],
                       problems: list[Problem]) -> None:
    """Each exam body has its own slug in its province and names only the province's regions.
    The names are checked only where the province's generated divisions are there: a partial
    copy of the site (as in tests) has its hand-written regions alone."""
    slugs = {(r.province.slug, r.slug) for r in regions}
    for province in site.provinces.values():
        seen: set[str] = set()
        where = site.root / province.file
        complete = (where.parent / DIVISIONS_FILE).exists()
        for i, body in enumerate(province.exam_bodies):
            if body.slug in seen:
                problems.append(Problem(province.file,
                                        line_in_file(where, "exam_bodies", i, "slug"),
                                        f"exam_bodies[{i + 1}].slug",
                                        f"exam body '{body.slug}' is listed twice",
                                        "merge the two entries or give one another slug"))
            seen.add(body.slug)
            for j, slug in enumerate(body.regions):
                if complete and (province.slug, slug) not in slugs:
                    problems.append(Problem(
                        province.file, line_in_file(where, "exam_bodies", i, "regions", j),
                        f"exam_bodies[{i + 1}].regions[{j + 1}]",
                        f"'{slug}' is not a region of {province.name}",
                        f"use a region's slug, the last part of its address "
                        f"({province.slug}/<slug>/), as in {province.slug}/_divisions.yaml"))


OFFICIAL_HINT = ("link only the official site itself; a domain outside gov.cn must first be "
                 "reviewed and added to official_domains in content/site.yaml")


def _check_official(site, owner, url, reviewed, problems, field, *keys) -> None:
    reason = official_url_problem(url, reviewed)
    if reason:
        problems.append(Problem(owner.file, line_in_file(site.root / owner.file, *keys),
                                field, reason, OFFICIAL_HINT))


def _attach_notices(site, regions, by_key, problems):
    notices_by_region: dict[str, list[m.Notice]] = {r.key: [] for r in regions}
    announcements: dict[tuple, Announcement] = {}
    releases: dict[tuple, m.Notice] = {}   # (province, exam year, sitting) → its notice
    by_province: dict[str, list[Region]] = {}
    for region in regions:
        by_province.setdefault(region.province.slug, []).append(region)
    for notice in sorted(site.notices, key=lambda n: (n.date, n.slug)):
        targets: dict[str, Region] = {}
        for slug in notice.provinces:
            if slug not in site.provinces:
                problems.append(Problem(notice.file, None, "provinces",
                                        f"names unknown province '{slug}'",
                                        "known provinces: " + ", ".join(sorted(site.provinces)),
                                        severity="warning"))
            for region in by_province.get(slug, []):
                targets[region.key] = region
        for key in notice.regions:
            if key not in by_key:
                problems.append(Problem(notice.file, None, "regions",
                                        f"names unknown region '{key}'",
                                        "write province/region slugs as in the page address",
                                        severity="warning"))
                continue
            targets[key] = by_key[key]
        if notice.kind == "release" and notice.release_date:
            problems.extend(_release_problems(site, notice, targets.values(), releases))
        for key in targets:
            notices_by_region[key].append(notice)
            if notice.kind == "release" and notice.release_date:
                announcements[(key, notice.exam_year, notice.sitting)] = Announcement(
                    notice.release_date, notice)
    return notices_by_region, announcements


def _release_problems(site, notice: m.Notice, targets, releases: dict) -> list[Problem]:
    """What keeps a release notice from agreeing with the exams it is about: its exam must
    be recorded for every province it names (directly or through its regions), be over by
    its release_date, and have no other release notice. ``releases`` records the notice
    taken for each (province, year, sitting)."""
    found = []
    for owner in _exam_owners(site, notice, targets):
        exam = next((e for e in owner.exams if e.key == (notice.exam_year, notice.sitting)),
                    None)
        if exam is None:
            found.append(_unrecorded_exam(notice, owner))
        elif notice.release_date <= exam.last_day:
            found.append(Problem(
                notice.file, notice.line_of("release_date"), "release_date",
                f"release_date {notice.release_date.isoformat()} is not after "
                f"{_exam_name(notice)} of {owner.name}, which ends "
                f"{exam.last_day.isoformat()}",
                "scores are released after the exam: check release_date and exam_year "
                "against the official notice"))
    provinces = {*(s for s in notice.provinces if s in site.provinces),
                 *(r.province.slug for r in targets)}
    for slug in sorted(provinces):
        other = releases.setdefault((slug, notice.exam_year, notice.sitting), notice)
        if other is not notice:
            found.append(Problem(
                notice.file, notice.line_of("exam_year"), "exam_year",
                f"{other.file} already gives the release date of {_exam_name(notice)} of "
                f"{site.provinces[slug].name}; an exam has one release notice",
                "check exam_year (and sitting) of both notices against their official "
                "notices; if both are about the same exam, delete the one that is wrong"))
    return found


def _exam_owners(site, notice: m.Notice, targets) -> list:
    """The provinces and regions whose own exams a release notice must agree with: the
    provinces it names, and the file that sets the exams of each region it reaches."""
    owners = {site.provinces[s].file: site.provinces[s]
              for s in notice.provinces if s in site.provinces}
    for region in targets:
        owner = region if sets_own(region, "exams") else region.province
        owners.setdefault(owner.file, owner)
    return list(owners.values())


def _exam_name(notice: m.Notice) -> str:
    sitting = "" if notice.sitting == "main" else f" {notice.sitting} sitting"
    return f"the {notice.exam_year}{sitting} exam"


def _unrecorded_exam(notice: m.Notice, owner) -> Problem:
    recorded = ", ".join(f"{e.year}" + ("" if e.sitting == "main" else f" {e.sitting}")
                         for e in owner.exams) or "none"
    return Problem(notice.file, notice.line_of("exam_year"), "exam_year",
                   f"{_exam_name(notice)} is not a recorded exam of {owner.name} "
                   f"({owner.file} records: {recorded}), so this release date would "
                   "confirm nothing",
                   "set exam_year (and sitting) to the exam the official notice is about; "
                   f"if that exam is missing, add it to 'exams' in {owner.file} first")
