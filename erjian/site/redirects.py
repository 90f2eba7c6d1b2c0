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
moved file is read and checked with the rest of the input (erjian.input.validate: the same
problems for ``check`` and ``build``); here only what needs the list of pages is checked.
``python build.py move`` writes the moved file (erjian.editor.move).
"""

from __future__ import annotations

import datetime as dt

from erjian.core.errors import Problem, SiteError
from erjian.input import models as m
from erjian.input.validate import MovedFile
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
    their paths. ``moved``: the province's validated moved file (erjian.input.validate), if
    any; ``specialties``: the specialty codes of each region page, by path."""
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
