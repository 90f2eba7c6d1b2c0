"""The site's folders, named once: the input the build reads (swept by validation, watched by
the preview, hashed into the keys) and the tool folders beside it, which together the output
may never be or be inside. A folder added here is swept, watched and protected everywhere.
Also the output's own top-level names, which no province may take."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# Top-level folders the build reads.
INPUT_FOLDERS = ("content", "regions", "calendars", "templates", "divisions")
# Parts of the input every output file is made from (the site-wide fingerprint); the rest of
# the input (a province's folder, notices, moved addresses) enters the keys of the units it
# feeds, so that editing one region does not re-render the whole site.
SITE_WIDE_INPUT = ("templates", "content/guide", "content/site.yaml", "calendars")
UNIT_INPUT = ("regions", "content/notices", "divisions")
# Folders of the repository that are not input but must not be overwritten either.
TOOL_FOLDERS = ("erjian", "tests", "docs", ".git", ".github", ".cache", ".venv", "node_modules")
# Top-level folders the output may never be or be inside.
PROTECTED = INPUT_FOLDERS + TOOL_FOLDERS
# The output's layout: every top-level name the site writes itself
# (erjian/site/sitewide_unit.py, SitePages.add_unit) or that browsers and crawlers ask a site
# for. A province's folder becomes a top-level segment too, so it may not take one of these
# (regions/notices/ would replace the site's /notices/); input validation refuses such a slug,
# which is why this list is down here and not in the site stage. tests/test_names.py checks
# that a build writes nothing at the top level outside this list and the provinces' folders.
SITE_PATHS = frozenset({
    "index.html", "404.html", "feed.xml", "sitemap.xml", "robots.txt",
    "api", "methodology", "notices", "static", "timeline",
    "favicon.ico", ".well-known",
    ".erjian-site",   # the output folder's marker (erjian/output/owned_folder.py)
})


@dataclass(frozen=True)
class SiteLayout:
    """The folders of the site whose repository is ``root``."""
    root: Path

    def input_paths(self) -> tuple[Path, ...]:
        return tuple(Path(self.root) / name for name in INPUT_FOLDERS)

    def site_wide_paths(self) -> tuple[Path, ...]:
        return tuple(Path(self.root) / part for part in SITE_WIDE_INPUT)

    def protected_paths(self) -> tuple[Path, ...]:
        return tuple(Path(self.root) / name for name in PROTECTED)

