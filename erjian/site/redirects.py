"""Pages at old addresses: every entry of ``divisions/moved/<province>.tsv`` (written by
``import-divisions``, never shortened) becomes a small page at its old path, and at the old
path of each specialty page, that sends the reader on to the successor's page with a
meta refresh (no script: the site's CSP allows none inline), names both places and says why.
An old specialty page's ``schedule.ics`` is published again with the successor's events, so
calendar subscriptions made at the old address keep working.

They belong to the province's unit, so incremental builds, the preview and atomic publishing
treat them like every other page. They are not regions: not in the sitemap, the search index
or any list of links. A redirect may never take the place of a real page, and must point to a
page of the province that the build writes; either mistake stops the build. Each line of the
moved file is read and checked with the rest of the input (erjian.input.validate: the same problems
for ``check`` and ``build``); here only what needs the list of pages is checked.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace

from erjian.core.errors import Problem, SiteError, UserError
from erjian.input import models as m
from erjian.input.division_files import moved_text, read_moved
from erjian.input.resolve import region_slug
from erjian.input.schema import SLUG_PATTERN
from erjian.input.validate import MovedFile, read_site
from erjian.site.render import Renderer

HINT_SHADOW = ("an old address must stay a redirect: give the region file another 'slug', or "
               "if the old address really should show a page again, delete its line from the "
               "moved file and say so in the commit")
HINT_TARGET = ("the target must be a page of the same province that the build writes: run "
               "`python build.py import-divisions` again, or point the line at the region's "
               "current address")


def add_redirects(files, renderer: Renderer, today: dt.date, moved: MovedFile | None,
                  province: m.Province, specialties: dict[str, tuple]) -> list[str]:
    """Adds the province's redirect pages to ``files`` (after its real pages) and returns
    their paths. ``moved``: the province's validated moved file (erjian.input.validate), if any;
    ``specialties``: the specialty codes of each region page, by path."""
    if moved is None:
        return []
    real = set(files.paths)
    pages: list[tuple[str, str, m.Moved, str | None]] = []
    problems = []
    for entry in moved.entries:
        if f"{entry.new}index.html" not in real:
            problems.append(Problem(moved.file, entry.line, "new", f"the redirect from "
                                    f"'{entry.old}' points to '{entry.new}', which is not a "
                                    "page of the site", HINT_TARGET))
            continue
        codes = dict.fromkeys((*province.specialties, *specialties.get(entry.new, ())))
        pages.append((f"{entry.old}index.html", entry.new, entry, None))
        for code in codes:
            target = f"{entry.new}{code}/"
            pages.append((f"{entry.old}{code}/index.html",
                          target if f"{target}index.html" in real else entry.new, entry, code))
    for source, _, entry, _ in pages:
        if source in real:
            problems.append(Problem(moved.file, entry.line, "old", f"the old address "
                                    f"'{source[:-len('index.html')]}' of {entry.old_name} is "
                                    "also a page of the site; a redirect may not replace it",
                                    HINT_SHADOW))
    if problems:
        raise SiteError(problems)
    written: dict[str, None] = {}
    for source, target, entry, code in pages:
        if source in written:
            continue
        specialty = m.SPECIALTIES[code].name if code in m.SPECIALTIES else None
        files.add(source, (entry, target, specialty),
                  lambda entry=entry, target=target, specialty=specialty: renderer.page(
                      "redirect.html", page_path=target, today=today, entry=entry,
                      specialty=specialty, province=province))
        written[source] = None
        old_folder = source[:-len("index.html")]
        if code and f"{old_folder}schedule.ics" not in real and files.copy_calendar(
                f"{target}schedule.ics", f"{old_folder}schedule.ics"):
            written[f"{old_folder}schedule.ics"] = None
    return list(written)


# ---------------------------------------------------------------------------------------
# `python build.py move OLD NEW`: an editor changed a region's slug; the old address is
# recorded in the province's moved file so that it keeps working as a redirect.

MOVE_USAGE = "python build.py move <province>/<old slug>/ <province>/<new slug>/"


def record_move(root, old: str, new: str, today: dt.date) -> str:
    """Records in divisions/moved/<province>.tsv that the region now at ``new`` was at
    ``old``, and returns what was done. Redirects that pointed to ``old`` now point to
    ``new``; a redirect from ``new`` back to ``old`` (the region returns) is dropped. Raises
    UserError when the move would leave a wrong record."""
    old, new = _address(old), _address(new)
    province = old.split("/")[0]
    if new.split("/")[0] != province or old == new:
        raise UserError(f"cannot move {old} to {new}: both addresses must be of the same "
                        "province, and differ", f"usage: {MOVE_USAGE}")
    site = read_site(root)
    if province not in site.provinces:
        raise UserError(f"'{province}' is not a province of the site",
                        "known provinces: " + ", ".join(sorted(site.provinces)))
    at = {f"{r.province}/{region_slug(r)}/": r for r in site.regions if r.province == province}
    region = at.get(new)
    if region is None:
        raise UserError(f"no region is at {new}", "set the new 'slug' in the region's file "
                        "first (and fix any error `python build.py check` reports for it), "
                        "then run this command again")
    if old in at:
        raise UserError(f"{old} is still the address of {at[old].name} ({at[old].file}); an "
                        "address that shows a page cannot redirect",
                        "check the old address: it is the one the region had before")
    path = m.moved_path(root, province)
    try:
        entries = read_moved(path)
    except ValueError as exc:
        raise UserError(str(exc), "run `python build.py check` and fix the moved file first")
    _check_move(old, new, region, entries)
    if any(e.old == old and e.new == new for e in entries):
        return f"{old} already redirects to {new}; nothing to record"
    kept = []
    for entry in entries:
        if entry.old == new:
            continue   # the region is back at its old address: it shows the page again
        if old in (entry.old, entry.new):
            entry = replace(entry, new=new, new_name=region.name)
        kept.append(entry)
    if not any(e.old == old for e in kept):
        kept.append(m.Moved(old, new, "address", region.name, region.name,
                            f"python build.py move ({today.isoformat()})"))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(moved_text(site.provinces[province].name, kept), encoding="utf-8")
    return f"recorded in {m.MOVED_DIR[0]}/{m.MOVED_DIR[1]}/{path.name}: {old} → {new}"


def _address(text: str) -> str:
    """``province/slug/`` (the final '/' may be left out)."""
    address = text if text.endswith("/") else f"{text}/"
    if not re.fullmatch(rf"{SLUG_PATTERN}/{SLUG_PATTERN}/", address):
        raise UserError(f"'{text}' is not an address of a region page", f"{m.ADDRESS_RULE}; "
                        f"usage: {MOVE_USAGE}")
    return address


def _check_move(old: str, new: str, region, entries: list[m.Moved]) -> None:
    """Refuses a move the site's records contradict: from an address the division never
    had, or onto an address that redirects elsewhere."""
    back = next((e for e in entries if e.old == new and e.new != old), None)
    if back is not None:
        raise UserError(f"{new} is an old address that redirects to {back.new} (line "
                        f"{back.line} of the moved file); a redirect stays", HINT_SHADOW)
    if not region.division_slug:
        return   # a region that is no division: only the editor knows its old address
    published = f"{region.province}/{region.division_slug}/"
    if old != published and not any(old in (e.old, e.new) and e.new_name == region.name
                                     for e in entries):
        raise UserError(f"{region.name} was never at {old}: the division data gives it "
                        f"{published}, and the moved file has no line of it at {old}",
                        f"python build.py move {published} {new}" if new != published
                        else "check the old address: it is the one the region had before")
