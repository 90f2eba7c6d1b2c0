"""`python build.py move OLD NEW`: an editor changed a region's slug; the old address is
recorded in the province's moved file (divisions/moved/<province>.tsv) so that it keeps working
as a redirect (erjian.site.redirects publishes it)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace

from erjian.core.errors import UserError
from erjian.input import models as m
from erjian.input.division_files import moved_text, read_moved
from erjian.input.resolve import region_slug
from erjian.input.schema import SLUG_PATTERN
from erjian.input.validate import read_site
from erjian.site.redirects import HINT_SHADOW


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
    entries = read_moved(path)
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
