"""`python build.py new …`: minimal, valid files for editors to start from.

An argument is held to the rules the loader applies to the file it ends up in (the same
field checks: NFC, no control, bidirectional or invisible characters, one line, the length
limit, slugs, a province that exists), and a value is written only through the YAML emitter.
Before anything is written, the text is parsed back and must give exactly the values meant
(so no name can add a key such as ``authorities:``), and the file is created exclusively:
an existing file or a symbolic link in its place is never written through.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import yaml

from erjian.core.errors import UserError
from erjian.editor.import_divisions import (MUNICIPALITIES as MUNICIPALITY_CODES, PROVINCES,
                                            division_level)
from erjian.input import models as m
from erjian.input.read_files import outside_root
from erjian.input.yaml_loader import load_yaml, parse_yaml
from erjian.input.models import LEVELS
from erjian.input.resolve import derive_slug
from erjian.input.schema import REJECTED, Context, Field
from erjian.input.validate import DIVISIONS_FILE, PLACEHOLDER

MUNICIPALITIES = {PROVINCES[code][0] for code in MUNICIPALITY_CODES}


class ScaffoldError(UserError):
    pass


def guess_level(name: str, province_slug: str) -> str:
    """The administrative level a name's suffix suggests (an editor can change it)."""
    return division_level(name, province_slug in MUNICIPALITIES)


def checked(field: Field, value, what: str, hint: str | None = None):
    """``value`` as the loader would read it from a file, or ScaffoldError saying what is
    wrong with it (``what``: how the message names the argument)."""
    ctx = Context(what)
    checked_value = field.check(value, ctx, 1)
    if checked_value is REJECTED:
        problem = ctx.problems[0]
        raise ScaffoldError(f"{what} {problem.message}", problem.hint or hint)
    return checked_value


def province_folder(root: Path, province: str) -> Path:
    """regions/<province>/ of an existing province, or ScaffoldError naming the known ones."""
    regions = Path(root) / "regions"
    folder = regions / province
    if (folder / "province.yaml").is_file() and not outside_root(folder, root):
        return folder
    known = sorted(p.name for p in regions.iterdir()
                   if (p / "province.yaml").is_file()) if regions.is_dir() else []
    raise ScaffoldError(f"no province '{province}'",
                        f"known: {', '.join(known)}" if known else
                        "create regions/<province>/province.yaml first")


def _region_files(root: Path, folder: Path):
    """(path, data) of each hand-written region file of a province folder; files the
    loader would refuse (links leaving the site, FIFOs, broken YAML) are skipped."""
    for path in sorted(folder.glob("*.yaml")):
        if path.name in ("province.yaml", DIVISIONS_FILE):
            continue
        data = load_yaml(path, path.name, root).data
        if isinstance(data, dict):
            yield path, data


def _region_slugs(root: Path, folder: Path) -> set[str]:
    """Slugs of a province's regions: generated divisions and hand-written files."""
    slugs = {str(data.get("slug") or derive_slug(str(data.get("name", ""))))
             for _, data in _region_files(root, folder)}
    generated = load_yaml(folder / DIVISIONS_FILE, DIVISIONS_FILE, root).data
    if isinstance(generated, dict) and isinstance(generated.get("divisions"), list):
        slugs.update(str(d.get("slug")) for d in generated["divisions"] if isinstance(d, dict))
    return slugs


def yaml_lines(values: dict) -> str:
    """``values`` as YAML mapping lines, written by the emitter (quoted where needed)."""
    return yaml.safe_dump(values, allow_unicode=True, sort_keys=False,
                          default_flow_style=False, width=float("inf"))


def proven(text: str, values: dict, display: str) -> str:
    """``text`` when it parses back to exactly ``values``; a value that could re-parse as
    structure never gets this far, but if one did, nothing is written."""
    data, problem = parse_yaml(text, display)
    if problem or data != values:
        raise ScaffoldError(f"{display} would not read back as the values given, so it was "
                            "not written", "report this; in the meantime write the file by hand")
    return text


def create(path: Path, text: str, root: Path) -> Path:
    """Writes a new file; refuses one that exists, a symbolic link in its place and a folder
    outside the site."""
    if outside_root(path.parent, root):
        raise ScaffoldError(f"{path.parent.relative_to(root).as_posix()} leads outside the "
                            "site's folder; nothing was written",
                            "replace the symbolic link with a real folder")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, 0o644)
    except FileExistsError:
        raise ScaffoldError(f"{path.relative_to(root).as_posix()} already exists") from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path


NAME_HINT = "give the official name on one line, e.g. 喀什地区"


def new_region(root: Path, province: str, name: str, level: str | None = None) -> Path:
    root = Path(root)
    folder = province_folder(root, province)
    name = checked(m.REGION.fields["name"], name, "the name", NAME_HINT)
    level = level or guess_level(name, province)
    if level not in LEVELS:
        raise ScaffoldError(f"level '{level}' is not one of {', '.join(LEVELS)}")
    slug = derive_slug(name)
    if not slug:
        raise ScaffoldError(f"cannot derive a slug from '{name}'",
                            "write the file by hand with a 'slug:' in latin letters")
    for existing, data in _region_files(root, folder):
        if data.get("name") == name or (data.get("slug") or
                                        derive_slug(str(data.get("name", "")))) == slug:
            raise ScaffoldError(f"{existing.relative_to(root).as_posix()} already describes "
                                f"'{data.get('name')}' (slug '{slug}')")
    province_name = load_yaml(folder / "province.yaml", "province.yaml", root).data.get(
        "name", province)
    path = folder / f"{slug}.yaml"
    values = {"name": name, "level": level}
    text = (f"# {name} follows {province_name}'s arrangement: everything not set here is\n"
            f"# inherited from regions/{province}/province.yaml. See docs/editing.md.\n"
            + yaml_lines(values))
    return create(path, proven(text, values, path.relative_to(root).as_posix()), root)


def _notice_targets(root: Path, provinces: tuple, regions: tuple) -> dict:
    """The provinces and regions a notice applies to, each checked to exist."""
    if not provinces and not regions:
        raise ScaffoldError("name at least one --province or --region the notice applies to")
    for province in provinces:
        province_folder(root, checked(m.NOTICE.fields["provinces"].item, province,
                                      "--province"))
    for key in regions:
        province, _, region = checked(m.NOTICE.fields["regions"].item, key,
                                      "--region").partition("/")
        if region not in _region_slugs(root, province_folder(root, province)):
            raise ScaffoldError(f"no region '{region}' in regions/{province}/",
                                "give the region's address as in its page's URL, e.g. "
                                "xinjiang/tacheng")
    targets = {}
    if provinces:
        targets["provinces"] = list(provinces)
    if regions:
        targets["regions"] = list(regions)
    return targets


def new_notice(root: Path, title: str | None, date: dt.date, slug: str | None = None,
               kind: str = "general", provinces: tuple = (), regions: tuple = ()) -> Path:
    """A notice dated ``date`` (the file's name starts with it). What only the official
    notice can say (for a release, the exam year and the release date) is left as a
    placeholder the build refuses until it is replaced."""
    root = Path(root)
    if title is not None:
        title = checked(m.NOTICE.fields["title"], title, "the title")
    if slug is not None:
        slug = checked(m.NOTICE.fields["slug"], slug, "--slug")
    kind = checked(m.NOTICE.fields["kind"], kind, "--kind")
    targets = _notice_targets(root, tuple(provinces), tuple(regions))
    folder = root / "content" / "notices"
    folder.mkdir(parents=True, exist_ok=True)
    base = slug or f"{date.isoformat()}-{title and derive_slug(title) or 'notice'}"[:60]
    base = re.sub(r"[^a-z0-9-]+", "-", base.lower()).strip("-")
    path, n = folder / f"{base}.md", 2
    while os.path.lexists(path):
        if slug:
            raise ScaffoldError(f"content/notices/{slug}.md already exists")
        path, n = folder / f"{base}-{n}.md", n + 1
    values = {"title": title or PLACEHOLDER + "通知标题", "date": date, "kind": kind,
              **targets}
    release = {"exam_year": f"{PLACEHOLDER}YYYY",
               "release_date": f"{PLACEHOLDER}YYYY-MM-DD"} if kind == "release" else {}
    source = {"source": {"title": f"{PLACEHOLDER}官方通知的标题",
                         "url": f"{PLACEHOLDER}https://官方通知的网址"}}
    release_lines = ("# The year of the exam whose scores are released, and the release date,\n"
                     "# both as the official notice states them.\n"
                     + yaml_lines(release)) if release else ""
    front = (f"# Every {PLACEHOLDER} must be replaced before the site builds.\n"
             + yaml_lines(values) + release_lines + yaml_lines(source))
    proven(front, {**values, **release, **source}, path.relative_to(root).as_posix())
    return create(path, f"---\n{front}---\n"
                  f"{PLACEHOLDER}用自己的话概括通知要点：什么事、什么时间、考生要做什么。\n", root)
