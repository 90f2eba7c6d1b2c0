"""`python build.py new …`: minimal, valid files for editors to start from."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

from .divisions import MUNICIPALITIES as MUNICIPALITY_CODES, PROVINCES, division_level
from .load import load_yaml
from .models import LEVELS
from .resolve import derive_slug
from .validate import PLACEHOLDER

MUNICIPALITIES = {PROVINCES[code][0] for code in MUNICIPALITY_CODES}


class ScaffoldError(Exception):
    pass


def _yaml_text(text: str) -> str:
    """``text`` as a YAML scalar: bare when safe, else double-quoted."""
    if re.fullmatch(r"[\w（）·、，。\-]+", text) and not text[0].isdigit():
        return text
    return json.dumps(text, ensure_ascii=False)


def guess_level(name: str, province_slug: str) -> str:
    """The administrative level a name's suffix suggests (an editor can change it)."""
    return division_level(name, province_slug in MUNICIPALITIES)


def new_region(root: Path, province: str, name: str, level: str | None = None) -> Path:
    folder = Path(root) / "regions" / province
    if not (folder / "province.yaml").is_file():
        known = sorted(p.name for p in (Path(root) / "regions").iterdir()
                       if (p / "province.yaml").is_file())
        raise ScaffoldError(f"no province '{province}'; known: {', '.join(known)}")
    level = level or guess_level(name, province)
    if level not in LEVELS:
        raise ScaffoldError(f"level '{level}' is not one of {', '.join(LEVELS)}")
    slug = derive_slug(name)
    if not slug:
        raise ScaffoldError(f"cannot derive a slug from '{name}'")
    path = folder / f"{slug}.yaml"
    for existing in sorted(folder.glob("*.yaml")):
        data = load_yaml(existing, existing.name).data
        if not isinstance(data, dict) or existing.name == "province.yaml":
            continue
        if data.get("name") == name or (data.get("slug") or derive_slug(str(data.get("name", "")))) == slug:
            raise ScaffoldError(f"{existing.relative_to(root).as_posix()} already describes "
                                f"'{data.get('name')}' (slug '{slug}')")
    if path.exists():
        raise ScaffoldError(f"{path.relative_to(root).as_posix()} already exists")
    province_name = load_yaml(folder / "province.yaml", "province.yaml").data.get("name",
                                                                                  province)
    path.write_text(
        f"# {name} follows {province_name}'s arrangement: everything not set here is\n"
        f"# inherited from regions/{province}/province.yaml. See docs/editing.md.\n"
        f"name: {_yaml_text(name)}\nlevel: {level}\n", encoding="utf-8")
    return path


def new_notice(root: Path, title: str | None, today: dt.date, slug: str | None = None,
               kind: str = "general", provinces: tuple = (), regions: tuple = ()) -> Path:
    if not provinces and not regions:
        raise ScaffoldError("name at least one --province or --region the notice applies to")
    folder = Path(root) / "content" / "notices"
    folder.mkdir(parents=True, exist_ok=True)
    base = slug or f"{today.isoformat()}-{title and derive_slug(title) or 'notice'}"[:60]
    base = re.sub(r"[^a-z0-9-]+", "-", base.lower()).strip("-")
    path, n = folder / f"{base}.md", 2
    while path.exists():
        if slug:
            raise ScaffoldError(f"content/notices/{slug}.md already exists")
        path, n = folder / f"{base}-{n}.md", n + 1
    targets = ""
    if provinces:
        targets += f"provinces: [{', '.join(provinces)}]\n"
    if regions:
        targets += f"regions: [{', '.join(regions)}]\n"
    release = (f"exam_year: {today.year}\n"
               f"release_date: {PLACEHOLDER}YYYY-MM-DD   # as the official notice states it\n"
               ) if kind == "release" else ""
    path.write_text(
        f"---\n# Every {PLACEHOLDER} must be replaced before the site builds.\n"
        f"title: {_yaml_text(title or PLACEHOLDER + '通知标题')}\n"
        f"date: {today.isoformat()}\nkind: {kind}\n"
        f"{targets}{release}"
        f"source:\n  title: {PLACEHOLDER}官方通知的标题\n"
        f"  url: {PLACEHOLDER}https://官方通知的网址\n---\n"
        f"{PLACEHOLDER}用自己的话概括通知要点：什么事、什么时间、考生要做什么。\n",
        encoding="utf-8")
    return path
