"""Validation: find the site's input files, load each one and turn it into typed models.

Every problem of the run is collected (with file, line and field) before anything fails, so an
editor fixes a whole batch at once instead of one error per build.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import stat
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path

from erjian.core import signed
from erjian.core.errors import Problem, display_path
from erjian.core.file_kinds import special_kind
from erjian.core.layout import SITE_PATHS, SiteLayout
from erjian.core.memo import write_pickle
from erjian.input import markdown_limits
from erjian.input import models as m
from erjian.input.guide_text import LINK_HINT, guide_problems, refused_links
from erjian.input.characters import escape_hidden, excerpt, find_hidden
from erjian.input.read_files import outside_problem, outside_root, read_text, special_problem
from erjian.input.yaml_loader import LineDict, Loaded, load_markdown, load_yaml
from erjian.input.schema import REJECTED, SLUG_PATTERN, SLUG_RULE, Context, Schema


@dataclass
class SiteInput:
    """Everything the build reads, validated but not yet resolved."""

    root: Path
    site: m.SiteConfig
    provinces: dict[str, m.Province]
    regions: list[m.RegionFile]
    notices: list[m.Notice]
    layers: dict[str, m.Layer]
    calendar_years: dict[str, dict[int, m.CalendarYear]]
    sections: list["Section"]
    moved: dict[str, "MovedFile"] = field(default_factory=dict)   # by province slug
    warnings: list[Problem] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class MovedFile:
    """A province's old addresses (divisions/moved/<province>.tsv), each line validated;
    whether each target is a page is checked when the pages are known (erjian.site.redirects)."""

    file: str
    entries: tuple[m.Moved, ...]


@dataclass(frozen=True)
class Section:
    """A block of shared guide text (content/guide/*.md), filled in per page."""

    slug: str
    title: str
    order: int
    body: str
    file: str


SECTION = Schema("guide section", {
    "title": m.Text("Heading shown on every guide page.", required=True, max_length=40),
    "order": m.Integer("Position on the page (ascending).", required=True, minimum=0,
                       maximum=1000),
}, help="Shared guide text: content/guide/<slug>.md.")


SKIPPED = object()   # Loaded.data of a file refused (and reported) before it was opened


def _check(schema: Schema, loaded: Loaded, problems: list[Problem],
           reviewed: tuple = ()) -> dict | None:
    """Validated values of one loaded file, or None; problems go to ``problems``.
    ``reviewed``: the official domains of content/site.yaml, for the link policy."""
    if loaded.problem:
        problems.append(loaded.problem)
        return None
    if loaded.data is SKIPPED:
        return None
    ctx = Context(loaded.display, reviewed=reviewed)
    data = loaded.data
    if data is None:
        ctx.error(1, None, f"is empty; expected the fields of a {schema.name}",
                  f"see docs/schema.md for the fields of a {schema.name}")
    else:
        values = schema.check(data, ctx, getattr(data, "line", 1) or 1)
    problems.extend(ctx.problems)
    return None if ctx.failed or data is None else values


def _line_of(loaded: Loaded, key: str) -> int:
    data = loaded.data
    return data.line_of(key) if isinstance(data, LineDict) else 1


class Reader:
    """How this run reads input: ``reader(path)`` is the path as an editor would type it;
    ``yaml``/``markdown`` load a file unless the sweep already refused it (then the data is
    SKIPPED and nothing more is reported). ``reviewed`` holds the official domains of
    content/site.yaml once it is read."""

    def __init__(self, root: Path):
        self.root = root
        self.refused: set[Path] = set()
        self.reviewed: tuple = ()

    def __call__(self, path: Path) -> str:
        # A file name may itself hold a bidi control; escaped, it cannot reorder the message.
        return escape_hidden(display_path(path, self.root))

    def skipped(self, path: Path) -> bool:
        return bool(self.refused) and (path in self.refused or
                                       any(parent in self.refused for parent in path.parents))

    def yaml(self, path: Path) -> Loaded:
        if self.skipped(path):
            return Loaded(path, self(path), data=SKIPPED)
        return load_yaml(path, self(path), self.root)

    def text(self, path: Path) -> tuple[str | None, Problem | None]:
        """A plain text file's text (None when refused, by the sweep or now)."""
        if self.skipped(path):
            return None, None
        return read_text(path, self(path), self.root)

    def markdown(self, path: Path) -> Loaded:
        if self.skipped(path):
            return Loaded(path, self(path), data=SKIPPED)
        return load_markdown(path, self(path), self.root)


def _sweep(root: Path, show: Reader, problems: list[Problem]) -> set[Path]:
    """Entries of the input folders that must not be read: symbolic links leaving the site's
    folder, and anything that is neither a regular file nor a folder (a FIFO would hang a
    read, a device such as /dev/zero never ends). Each is reported here, once. Every entry
    is checked, not only the files validation parses: the build also hashes whole folders
    and publishes templates/static/ as it is."""
    refused: set[Path] = set()
    for top in SiteLayout(root).input_paths():
        if _refuse_entry(top, root, show, problems, refused) or not top.is_dir():
            continue
        for base, dirs, files in os.walk(top):   # links to folders are listed, not followed
            for entry in sorted(dirs + files):
                _refuse_entry(Path(base) / entry, root, show, problems, refused)
            dirs[:] = [d for d in dirs if Path(base) / d not in refused]
    return refused


def _refuse_entry(path: Path, root: Path, show, problems, refused: set[Path]) -> bool:
    try:
        info = os.lstat(path)
    except OSError:
        return False
    if stat.S_ISLNK(info.st_mode):
        if outside_root(path, root):
            problems.append(outside_problem(path, show(path)))
            refused.add(path)
            return True
        try:
            info = os.stat(path)
        except OSError:
            return False   # a dangling link: reported by whatever reads it, if anything does
    kind = special_kind(info.st_mode)
    if kind and kind != "a folder":
        problems.append(special_problem(show(path), kind))
        refused.add(path)
        return True
    return False


def name_problem(path: Path, show, folder: bool = False) -> Problem | None:
    """A problem when the name of a file (without its extension) or of a folder is not a
    slug: names become parts of page addresses, or stand beside names that do."""
    name, suffix = (path.name, "") if folder else (path.stem, path.suffix)
    if re.fullmatch(SLUG_PATTERN, name):
        return None
    suggestion = suggest_slug(name)
    return Problem(show(path), None, None,
                   f"name '{excerpt(name)}' is not allowed: names of the site's files and "
                   f"folders use {SLUG_RULE}",
                   f"rename it to '{suggestion}{suffix}'" if suggestion
                   else f"rename it with {SLUG_RULE}")


def suggest_slug(text: str) -> str | None:
    """A slug close to ``text`` (Chinese in pinyin), or None when nothing usable remains."""
    from pypinyin import lazy_pinyin

    slug = re.sub(r"[^a-z0-9]+", "-", "".join(lazy_pinyin(text[:60])).lower()).strip("-")
    return slug if slug and slug not in SITE_PATHS else None


class InputCache:
    """Validated content of input files that have not changed since the last run (by path,
    modification time, size and the validator's own code), kept in ``.cache/inputs.pickle``.
    Only files without any problem are cached, so every problem is reported every run."""

    def __init__(self, cache_dir: Path | None):
        self.path = Path(cache_dir) / "inputs.pickle" if cache_dir else None
        self.code = _code_version() if cache_dir else None
        self.entries: dict = {}
        self.dirty = False
        self.context: tuple = ()   # what validation depends on beyond the file: the reviewed
        #                            official domains of content/site.yaml
        data = signed.load(self.path) if self.path else None
        if isinstance(data, dict) and data.get("code") == self.code:
            self.entries = data.get("files") or {}

    def get(self, kind: str, path: Path, problems: list[Problem], compute):
        try:
            info = path.stat()
        except OSError:
            return compute(problems)
        stamp = (kind, info.st_mtime_ns, info.st_size, self.context)
        hit = self.entries.get(str(path))
        if hit is not None and hit[0] == stamp:
            return hit[1]
        found: list[Problem] = []
        value = compute(found)
        problems.extend(found)
        if found:
            self.entries.pop(str(path), None)
        else:
            self.entries[str(path)] = (stamp, value)
        self.dirty = True
        return value

    def save(self) -> None:
        if not (self.path and self.dirty):
            return
        write_pickle(self.path, {"code": self.code, "files": self.entries})


def _code_version() -> str:
    """Changes whenever the code that reads and validates input changes: erjian/core and
    erjian/input, which import nothing else (tests/test_layers.py)."""
    package = Path(__file__).resolve().parents[1]
    hasher = hashlib.sha256()
    for path in [*sorted((package / "core").glob("*.py")),
                 *sorted((package / "input").glob("*.py"))]:
        hasher.update(path.relative_to(package).as_posix().encode())
        hasher.update(path.read_bytes())
    return hasher.hexdigest()


_CACHE: InputCache | None = None


def _cached(kind: str, path: Path, problems: list[Problem], compute):
    if _CACHE is None:
        return compute(problems)
    return _CACHE.get(kind, path, problems, compute)


def read_site(root: Path, cache_dir: Path | None = None,
              cache: InputCache | None = None) -> SiteInput:
    """Load and validate every input file under ``root``.

    Files with errors are left out and their problems kept in ``errors``, so that the next
    stage can still check the rest and the run reports everything at once. With a
    ``cache_dir``, files unchanged since the last run are not parsed again; a resident
    process (the preview) passes its own ``cache``, kept in memory between runs."""
    global _CACHE
    signed.never_trust_keys_under(root)
    _CACHE = cache if cache is not None else InputCache(cache_dir)
    try:
        return _read_site(Path(root))
    finally:
        if cache is None:
            _CACHE.save()
        _CACHE = None


def _read_site(root: Path) -> SiteInput:
    problems: list[Problem] = []
    show = Reader(root)
    show.refused = _sweep(root, show, problems)
    site = _read_site_config(root / "content" / "site.yaml", show, problems)
    if site is not None:
        show.reviewed = site.official_domains
        if _CACHE is not None:
            _CACHE.context = site.official_domains
    provinces, regions = _read_regions(root / "regions", show, problems)
    layers, years = _read_calendars(root / "calendars", show, problems)
    notices = _read_notices(root / "content" / "notices", show, problems)
    sections = _read_sections(root / "content" / "guide", show, problems)
    moved = _read_moved(root, provinces, show, problems)
    _check_dataset(root / "divisions" / "dataset.json", show, problems)

    return SiteInput(root, site, provinces, regions, notices, layers, years, sections, moved,
                     warnings=[p for p in problems if p.severity == "warning"],
                     errors=[p for p in problems if p.severity == "error"])


def _read_site_config(path: Path, show, problems) -> m.SiteConfig | None:
    if not path.exists():
        problems.append(Problem(show(path), None, None, "is missing",
                                "create it with 'title', 'description' and 'base_url'"))
        return None
    values = _check(m.SITE, show.yaml(path), problems)
    if values is None:
        return None
    years = tuple(range(values["first_calendar_year"], values["last_calendar_year"] + 1))
    return m.SiteConfig(values["title"], values["base_url"], values["description"], years,
                        tuple(values["official_domains"]))


def _yaml_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.yaml") if p.is_file())


def _read_regions(folder: Path, show, problems):
    provinces: dict[str, m.Province] = {}
    regions: list[m.RegionFile] = []
    if not folder.is_dir():
        problems.append(Problem(show(folder), None, None, "folder is missing",
                                "create regions/<province>/province.yaml"))
        return provinces, regions
    for stray in sorted(p for p in folder.iterdir()
                        if p.is_file() and p.suffix in (".yaml", ".yml")):
        problems.append(Problem(show(stray), None, None,
                                "is directly under regions/; every file belongs to a province "
                                "folder", "move it to regions/<province>/"))
    for province_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        if show.skipped(province_dir):
            continue
        problem = _province_folder_problem(province_dir, show)
        if problem:
            problems.append(problem)
            continue
        province_file = province_dir / "province.yaml"
        for yml in sorted(province_dir.glob("*.yml")):
            problems.append(Problem(show(yml), None, None, "has the extension .yml",
                                    "rename it to .yaml"))
        if not province_file.exists():
            problems.append(Problem(show(province_dir), None, None,
                                    "has no province.yaml, so its regions have no province",
                                    "add regions/%s/province.yaml" % province_dir.name))
            continue
        province = _cached("province", province_file, problems,
                           lambda found: _read_province(province_file, province_dir.name, show,
                                                        found))
        if province is None:
            continue
        provinces[province.slug] = province
        written = []
        for path in _yaml_files(province_dir):
            if path.name not in ("province.yaml", DIVISIONS_FILE):
                problem = name_problem(path, show)
                if problem:
                    problems.append(problem)
                    continue
                region = _cached("region", path, problems,
                                 lambda found, path=path: _read_region(
                                     path, province_dir.name, show, found))
                if region:
                    written.append(region)
        divisions = province_dir / DIVISIONS_FILE
        generated = _cached("divisions", divisions, problems,
                            lambda found: _read_divisions(divisions, province_dir.name, show,
                                                          found)) or []
        regions.extend(_overlay(generated, written, problems))
    return provinces, regions


DIVISIONS_FILE = "_divisions.yaml"


def _province_folder_problem(folder: Path, show) -> Problem | None:
    """A province's folder name is the first segment of its pages' addresses: it must be a
    slug and must not take a name the site itself writes at the top level."""
    if folder.name in SITE_PATHS:
        return Problem(show(folder), None, None,
                       f"folder name '{folder.name}' is the address of the site's own "
                       f"/{folder.name}{'' if '.' in folder.name else '/'}; a province "
                       "folder may not take it",
                       "name the folder after the province in pinyin, e.g. regions/anhui/")
    return name_problem(folder, show, folder=True)


def _read_divisions(path: Path, province: str, show, problems) -> list[m.RegionFile]:
    """The generated divisions of one province as region files (no overrides of their own)."""
    if not path.exists():
        return []
    loaded = show.yaml(path)
    values = _fast_divisions(loaded) or _check(m.DIVISIONS_FILE, loaded, problems,
                                               show.reviewed)
    if values is None:
        return []
    items = loaded.data["divisions"]
    return [m.RegionFile(name=d["name"], level=d["level"], province=province, slug=d["slug"],
                         parent=d.get("parent"), overrides={}, file=show(path),
                         field_lines=(("name", items.line_of(index)),), code=d["code"],
                         pinyin=d.get("pinyin"))
            for index, d in enumerate(values["divisions"])]


_CODE = re.compile(r"\d{6}")
_SLUG = re.compile(SLUG_PATTERN)
_PINYIN = re.compile(r"[a-z0-9 ]+")
_DIVISION_KEYS = {"code", "name", "level", "slug", "parent", "pinyin"}


def _fast_divisions(loaded: Loaded) -> dict | None:
    """The generated file's values when every record is plainly well formed; None sends the
    file through the full schema check, which explains any problem precisely."""
    data = loaded.data
    if loaded.problem or not isinstance(data, dict) or set(data) != {"dataset", "divisions"}:
        return None
    items = data["divisions"]
    if not isinstance(items, list):
        return None
    for item in items:
        if not (isinstance(item, dict) and set(item) <= _DIVISION_KEYS
                and isinstance(item.get("code"), str) and _CODE.fullmatch(item["code"])
                and isinstance(item.get("name"), str) and 0 < len(item["name"]) <= 40
                and find_hidden(item["name"], multiline=False) is None
                and unicodedata.is_normalized("NFC", item["name"])
                and item.get("level") in m.LEVELS
                and isinstance(item.get("slug"), str) and _SLUG.fullmatch(item["slug"])
                and (item.get("parent") is None or (isinstance(item["parent"], str)
                                                    and _SLUG.fullmatch(item["parent"])))
                and (item.get("pinyin") is None or (isinstance(item["pinyin"], str)
                                                    and _PINYIN.fullmatch(item["pinyin"])))):
            return None
    if not isinstance(data["dataset"], dict):
        return None
    return {"dataset": data["dataset"], "divisions": items}


def _overlay(generated: list[m.RegionFile], written: list[m.RegionFile],
             problems) -> list[m.RegionFile]:
    """Hand-written region files replace the generated division with the same code (or, when
    they give no code, the same name); the division's code, slug and parent are kept unless
    the file sets its own. In a province with generated divisions every file must match one
    (or say ``division: false``): a name that matches nothing would silently make a second
    page for the same place."""
    divisions = Divisions(generated)
    replaced: dict[str, m.RegionFile] = {}   # code → the file that replaces the division
    merged = []
    for region in written:
        problem = _wrapped_name_problem(region)
        if problem is None and generated:
            match, problem = divisions.match(region)
        else:
            match = None
        if problem is None and match is not None and match.code in replaced:
            problem = _same_division_problem(region, replaced[match.code], match)
        if problem is not None:
            problems.append(problem)
            continue
        if match is None:
            merged.append(region)
            continue
        replaced[match.code] = region
        merged.append(replace(region, code=match.code, slug=region.slug or match.slug,
                              parent=region.parent or match.parent,
                              pinyin=region.pinyin or match.pinyin, division_slug=match.slug))
    return merged + [g for g in generated if g.code not in replaced]


# Typed around a name, these become part of it (YAML takes only straight quotes as quotes,
# and the schema already strips ordinary and full-width spaces at the ends).
NAME_WRAPPERS = "“”‘’「」『』【】（）()《》〈〉[]\"'＂＇ \u3000"


def _wrapped_name_problem(region: m.RegionFile) -> Problem | None:
    """A problem when typographic quotes or brackets surround the region's name."""
    bare = region.name.strip(NAME_WRAPPERS)
    if bare == region.name or not bare:
        return None
    return Problem(region.file, region.line_of("name"), "name",
                   f"the name '{region.name}' has quotes or brackets around it; they would "
                   "become part of the region's name and of its address",
                   f"write the line as: name: {bare}")


class Divisions:
    """The generated divisions of one province, to find the one a hand-written file means."""

    def __init__(self, generated: list[m.RegionFile]):
        self.by_code = {g.code: g for g in generated}
        self.by_name: dict[str, list[m.RegionFile]] = {}
        for g in generated:
            self.by_name.setdefault(g.name, []).append(g)

    def match(self, region: m.RegionFile) -> tuple[m.RegionFile | None, Problem | None]:
        """The division ``region`` overrides (None for a file saying ``division: false``),
        or the problem that keeps it from matching exactly one."""
        if not region.division:
            return None, self._not_a_division_problem(region)
        if region.code:
            return self._by_code(region)
        candidates = self.by_name.get(region.name, [])
        if len(candidates) == 1:
            return candidates[0], None
        if candidates:
            return None, Problem(region.file, region.line_of("name"), "code",
                                 f"{len(candidates)} divisions are named '{region.name}'; "
                                 "say which one this file is",
                                 "add 'code:' with its GB/T 2260 code: " +
                                 ", ".join(c.code for c in candidates))
        return None, self._unknown_name_problem(region)

    def _by_code(self, region: m.RegionFile):
        match = self.by_code.get(region.code)
        if match is None:
            named = self.by_name.get(region.name, [])
            hint = (f"{region.name}'s code is {', '.join(n.code for n in named)}" if named
                    else f"check the code against {_divisions_file(region)}")
            return None, Problem(region.file, region.line_of("code"), "code",
                                 f"code {region.code} is not a division of "
                                 f"'{region.province}'", hint)
        if match.name != region.name:
            return None, Problem(region.file, region.line_of("name"), "name",
                                 f"code {match.code} is {match.name} in the division data, "
                                 f"but this file names it '{region.name}'",
                                 f"write the line as: name: {match.name} (if the place was "
                                 "renamed, the division data must say so first: python "
                                 "build.py import-divisions)")
        return match, None

    def _unknown_name_problem(self, region: m.RegionFile) -> Problem:
        close = difflib.get_close_matches(region.name, list(self.by_name), n=3, cutoff=0.5)
        guess = f" (did you mean {' or '.join(close)}?)" if close else ""
        return Problem(region.file, region.line_of("name"), "name",
                       f"'{region.name}' is not the name of any division of "
                       f"'{region.province}', so this file would make a page of its own "
                       "instead of completing a division's",
                       f"write the name exactly as in {_divisions_file(region)}{guess}; "
                       "for a region that is no administrative division, add "
                       "'division: false'")

    def _not_a_division_problem(self, region: m.RegionFile) -> Problem | None:
        same = self.by_code.get(region.code) or next(iter(self.by_name.get(region.name, [])),
                                                      None)
        if same is None:
            return None
        return Problem(region.file, region.line_of("division"), "division",
                       f"says 'division: false', but {same.name} is a division of "
                       f"'{region.province}' (code {same.code})",
                       "remove 'division: false': the file then completes that division's "
                       "page")


def _divisions_file(region: m.RegionFile) -> str:
    return f"regions/{region.province}/{DIVISIONS_FILE}"


def _same_division_problem(region: m.RegionFile, first: m.RegionFile,
                           division: m.RegionFile) -> Problem:
    return Problem(region.file, region.line_of("name"), "name",
                   f"{first.file} is already the file of {division.name} (code "
                   f"{division.code}); a division has one region file",
                   "merge the two files into one")


def _read_province(path: Path, folder: str, show, problems) -> m.Province | None:
    loaded = show.yaml(path)
    values = _check(m.PROVINCE, loaded, problems, show.reviewed)
    if values is None:
        return None
    slug = values.pop("slug") or folder
    if slug != folder:
        problems.append(Problem(show(path), _line_of(loaded, "slug"), "slug",
                                f"slug '{slug}' differs from the folder name '{folder}'",
                                "rename the folder or remove the slug"))
        return None
    return _province(slug, values, show(path))


def _province(slug: str, values: dict, file: str) -> m.Province:
    settings = _frozen({k: v for k, v in values.items() if v is not None})
    return m.Province(slug=slug, file=file, **settings)


def _frozen(settings: dict) -> dict:
    """Lists become tuples so that models stay hashable and immutable."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in settings.items()}


def _read_region(path: Path, folder_province: str, show, problems) -> m.RegionFile | None:
    loaded = show.yaml(path)
    values = _check(m.REGION, loaded, problems, show.reviewed)
    if values is None:
        return None
    province = values.pop("province") or folder_province
    if province != folder_province:
        problems.append(Problem(show(path), _line_of(loaded, "province"), "province",
                                f"says province '{province}' but is in the folder of "
                                f"'{folder_province}'",
                                f"move the file to regions/{province}/ or fix 'province'"))
        return None
    overrides = _frozen({k: values.pop(k) for k in m.INHERITABLE if values.get(k) is not None})
    code = values.pop("code")
    lines = tuple(loaded.data.key_lines.items()) if isinstance(loaded.data, LineDict) else ()
    return m.RegionFile(name=values["name"], level=values["level"], province=province,
                        slug=values["slug"], parent=values["parent"], overrides=overrides,
                        file=show(path), field_lines=lines, code=code,
                        division=values["division"] is not False)


def _read_calendars(folder: Path, show, problems):
    layers: dict[str, m.Layer] = {}
    years: dict[str, dict[int, m.CalendarYear]] = {}
    if not folder.is_dir():
        problems.append(Problem(show(folder), None, None, "folder is missing",
                                "it holds calendars/national/<year>.yaml"))
        return layers, years
    for layer_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        problem = None if show.skipped(layer_dir) else name_problem(layer_dir, show, folder=True)
        if problem:
            problems.append(problem)
        if problem or show.skipped(layer_dir):
            continue
        layer_file = layer_dir / "layer.yaml"
        if not layer_file.exists():
            problems.append(Problem(show(layer_dir), None, None, "has no layer.yaml",
                                    f"add {show(layer_file)} with 'name' and 'projection'"))
            continue
        values = _check(m.LAYER, show.yaml(layer_file), problems, show.reviewed)
        if values is not None:
            layers[layer_dir.name] = m.Layer(slug=layer_dir.name, file=show(layer_file),
                                             rules=tuple(values.pop("rules")), **values)
        layer_years: dict[int, m.CalendarYear] = {}
        for path in _yaml_files(layer_dir):
            if path.name == "layer.yaml":
                continue
            loaded = show.yaml(path)
            values = _check(m.CALENDAR_YEAR, loaded, problems, show.reviewed)
            if values is None:
                continue
            if path.stem != str(values["year"]):
                problems.append(Problem(show(path), _line_of(loaded, "year"), "year",
                                        f"year {values['year']} does not match the file name",
                                        f"name the file {values['year']}.yaml"))
                continue
            missing = _statutory_problem(layers.get(layer_dir.name), values, loaded, show(path))
            if missing:
                problems.append(missing)
                continue
            layer_years[values["year"]] = m.CalendarYear(
                layer=layer_dir.name, year=values["year"], source=values["source"],
                holidays=tuple(values["holidays"]), verified=values["verified"],
                file=show(path), omitted=tuple(values["omitted"]))
        years[layer_dir.name] = layer_years
    if "national" not in layers:
        problems.append(Problem(show(folder), None, None, "has no 'national' layer",
                                "add calendars/national/layer.yaml and one file per year"))
    return layers, years


def _statutory_problem(layer: m.Layer | None, values: dict, loaded: Loaded,
                       file: str) -> Problem | None:
    """A year of the national calendar that neither lists nor explains a statutory holiday:
    its days would silently count as working days. Only that calendar may omit one."""
    if layer is None:
        return None   # its layer.yaml is refused, and reported
    if layer.projection != "china_statutory":
        return Problem(file, _line_of(loaded, "omitted"), "omitted",
                       "only the national calendar, of the statutory holidays, can omit one",
                       "remove 'omitted'") if values["omitted"] else None
    named = {name for span in values["holidays"] for name in m.holidays_named(span.name)}
    named.update(o.holiday for o in values["omitted"])
    missing = [h for h in m.STATUTORY_HOLIDAYS if h not in named]
    if not missing:
        return None
    return Problem(file, _line_of(loaded, "holidays"), "holidays",
                   f"the {values['year']} arrangement lists no {'、'.join(missing)}; a year of "
                   f"the national calendar lists every statutory holiday "
                   f"({'、'.join(m.STATUTORY_HOLIDAYS)}), or its days would count as working days",
                   "add each as the State Council's notice gives it (a merged span names both, "
                   "e.g. '中秋节、国庆节'); if the file leaves one out on purpose, say so: "
                   f"omitted: [{{holiday: {missing[0]}, why: <why it is not listed>}}]")


def _read_moved(root: Path, provinces: dict, show, problems) -> dict[str, MovedFile]:
    """The moved addresses of each province that has a moved file."""
    found = {}
    for slug in sorted(provinces):
        path = m.moved_path(root, slug)
        if not os.path.lexists(path):
            continue
        text, problem = show.text(path)
        if problem:
            problems.append(problem)
        elif text is not None:
            entries = _moved_entries(text, slug, Context(show(path)), problems)
            if entries is not None:
                found[slug] = MovedFile(show(path), entries)
    problems.extend(_stray_moved_files(root, provinces, show))
    return found


def _stray_moved_files(root: Path, provinces: dict, show) -> list[Problem]:
    """Files of the moved folder that belong to no province: their redirects would never be
    published, silently. A folder of regions/ counts even when its province.yaml has errors
    of its own (those are reported; this would point the wrong way)."""
    folder = Path(root).joinpath(*m.MOVED_DIR)
    if not folder.is_dir() or folder.is_symlink():
        return []
    regions = Path(root) / "regions"
    folders = {p.name for p in regions.iterdir() if p.is_dir()} if regions.is_dir() else set()
    return [Problem(show(entry), None, None,
                    f"belongs to no province: moved files are named <province>.tsv after a "
                    f"folder of regions/ ('{excerpt(entry.stem)}' is none)",
                    "rename it after its province, or delete it if the province's addresses "
                    "are in its own file")
            for entry in sorted(folder.iterdir())
            if entry.suffix != ".tsv" or entry.stem not in set(provinces) | folders]


def _check_dataset(path: Path, show, problems) -> None:
    """divisions/dataset.json, which the methodology page quotes, held to the rules of every
    input file."""
    if not os.path.lexists(path):
        return
    text, problem = show.text(path)
    if problem:
        problems.append(problem)
    if text is None or problem:
        return
    try:
        data = json.loads(text)
    except ValueError as exc:
        problems.append(Problem(show(path), getattr(exc, "lineno", None), None,
                                f"is not valid JSON ({excerpt(getattr(exc, 'msg', exc))})",
                                m.MOVED_HINT))
        return
    _check(m.DATASET, Loaded(path, show(path), data=data), problems)


def _moved_entries(text: str, province: str, ctx: Context, problems) -> tuple | None:
    """Every entry line of a moved file, or None when any is wrong (all reported)."""
    entries: list[m.Moved] = []
    first: dict[str, int] = {}
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        entry = _moved_entry(line, number, province, ctx)
        if entry is None:
            continue
        if entry.old in first:
            ctx.error(number, "old", f"the old address '{entry.old}' is listed again (first "
                      f"on line {first[entry.old]})", "delete one of the two lines")
            continue
        first[entry.old] = number
        entries.append(entry)
    problems.extend(ctx.problems)
    return None if ctx.failed else tuple(entries)


def _moved_entry(line: str, number: int, province: str, ctx: Context) -> m.Moved | None:
    fields = line.split("\t")
    if len(fields) != len(m.MOVED_COLUMNS):
        ctx.error(number, None, f"has {len(fields)} tab-separated fields; a line has "
                  f"{len(m.MOVED_COLUMNS)}: {', '.join(m.MOVED_COLUMNS)}", m.MOVED_HINT)
        return None
    values = m.MOVED.check(dict(zip(m.MOVED_COLUMNS, fields)), ctx, number)
    if values is REJECTED:
        return None
    wrong = False
    for column in ("old", "new"):
        if not values[column].startswith(f"{province}/"):
            ctx.error(number, column, f"'{excerpt(values[column])}' is not an address of "
                      f"this province: in this file every address starts with '{province}/'",
                      m.MOVED_HINT)
            wrong = True
    if values["old"] == values["new"]:
        ctx.error(number, "new", f"'{values['old']}' redirects to itself", m.MOVED_HINT)
        wrong = True
    return None if wrong else m.Moved(**values, line=number)


PLACEHOLDER = "【待填写】"


def placeholders(loaded: Loaded) -> list[Problem]:
    """Every value or body line that still holds a scaffold's placeholder (``new notice``
    writes 【待填写】 wherever a person must supply a fact)."""
    found: list[Problem] = []

    def walk(data, path: str) -> None:
        if isinstance(data, LineDict):
            for key, value in data.items():
                field = f"{path}.{key}" if path else str(key)
                if isinstance(value, str) and PLACEHOLDER in value:
                    found.append(_placeholder(loaded, data.line_of(key), field))
                else:
                    walk(value, field)

    walk(loaded.data, "")
    for offset, line in enumerate(loaded.body.splitlines()):
        if PLACEHOLDER in line:
            found.append(_placeholder(loaded, loaded.body_line + offset, "body"))
    return found


def _placeholder(loaded: Loaded, line: int, field: str) -> Problem:
    return Problem(loaded.display, line, field,
                   f"still holds the placeholder {PLACEHOLDER} written by 'new notice'",
                   "replace it with the fact from the official notice (and delete the "
                   "marker); the notice cannot be published until then")


def _read_notices(folder: Path, show, problems) -> list[m.Notice]:
    notices: list[m.Notice] = []
    if not folder.is_dir():
        return notices
    owners: dict[str, str] = {}   # slug → file that took it
    for path in sorted(folder.glob("*.md")):
        problem = name_problem(path, show)
        if problem:
            problems.append(problem)
            continue
        notice = _cached("notice", path, problems,
                         lambda found, path=path: _read_notice(path, show, found))
        if notice is None:
            continue
        slug = notice.slug
        if slug in owners:
            problems.append(Problem(show(path), _line_of(show.markdown(path), "slug"), "slug",
                                    f"slug '{slug}' is already used by {owners[slug]}; two "
                                    f"notices cannot share the address notices/{slug}/",
                                    "rename one of the two files, or give one its own 'slug'"))
            continue
        owners[slug] = show(path)
        notices.append(notice)
    return notices


def _read_notice(path: Path, show, problems) -> m.Notice | None:
    """One notice file validated on its own (whether another file took its slug is the
    caller's to check), or None."""
    loaded = show.markdown(path)
    left = placeholders(loaded)
    if left:
        problems.extend(left)
        return None
    values = _check(m.NOTICE, loaded, problems, show.reviewed)
    if values is None:
        return None
    too_costly = markdown_limits.problems(loaded.body, show(path), loaded.body_line)
    if too_costly:   # before anything else reads the body
        problems.extend(too_costly)
        return None
    refused = refused_links(loaded.body, show.reviewed)
    for offset, reason in refused:
        problems.append(Problem(show(path), loaded.body_line + offset, "body",
                                f"link is refused: {reason}", LINK_HINT))
    if refused:
        return None
    values["provinces"] = tuple(values["provinces"])
    values["regions"] = tuple(values["regions"])
    return m.Notice(slug=values.pop("slug") or path.stem, body=loaded.body, file=show(path),
                    line=loaded.body_line, field_lines=tuple(loaded.data.key_lines.items()),
                    **values)


def _read_sections(folder: Path, show, problems) -> list[Section]:
    sections = []
    for path in sorted(folder.glob("*.md")) if folder.is_dir() else []:
        problem = name_problem(path, show)
        if problem:
            problems.append(problem)
            continue
        loaded = show.markdown(path)
        values = _check(SECTION, loaded, problems, show.reviewed)
        too_costly = markdown_limits.problems(loaded.body, show(path), loaded.body_line,
                                              raw_html=True)
        problems.extend(too_costly)
        refused = [] if too_costly else guide_problems(loaded.body, show(path),
                                                       loaded.body_line, show.reviewed)
        problems.extend(refused)
        if values is not None and not too_costly and not refused:
            sections.append(Section(path.stem, values["title"], values["order"], loaded.body,
                                    show(path)))
    return sorted(sections, key=lambda s: (s.order, s.slug))
