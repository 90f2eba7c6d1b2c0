"""The site's folders, named once: the input the build reads (swept by validation, watched by
the preview, hashed into the keys) and the tool folders beside it, which together the output
may never be or be inside. A folder added here is swept, watched and protected everywhere."""

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

