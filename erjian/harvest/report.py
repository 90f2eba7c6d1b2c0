"""The harvest's Markdown report for the reviewer: conflicts first and loudly, then sources
that could not be read (blocked, layout changed, refused, failed), then each proposed change
with its evidence sentence and link, then the figures."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceStatus:
    """What became of one watched page."""

    name: str
    url: str
    file: str
    outcome: str     # 'read', 'unchanged', 'blocked', 'layout changed', 'refused', 'failed'
    detail: str = ""
    notice: bool = False   # a notice a list links (refused), not a watched page itself


TROUBLE = ("blocked", "layout changed", "refused", "failed")
HEADINGS = {"blocked": "Blocked: check by hand", "layout changed": "Layout changed",
            "refused": "Refused (link policy or robots.txt)", "failed": "Failed"}


def _cell(text: str) -> str:
    """Text from the web, safe inside a Markdown table cell or list item."""
    return " ".join(str(text).split()).replace("|", "\\|").replace("<", "&lt;")


def report(statuses, proposals, tally) -> str:
    lines = ["# Harvest report", ""]
    conflicts = proposals.of("conflict")
    if conflicts:
        lines += [f"## ⚠ CONFLICTS ({len(conflicts)}): a notice disagrees with a confirmed "
                  "fact", "", "Nothing was changed. Open the source and decide by hand.", ""]
        lines += _items(conflicts)
    for outcome in TROUBLE:
        hit = [s for s in statuses if s.outcome == outcome]
        if hit:
            lines += [f"## {HEADINGS[outcome]} ({len(hit)})", ""]
            lines += [f"- {_cell(s.name)} ({s.file}): <{s.url}> — {_cell(s.detail)}"
                      for s in hit] + [""]
    proposed = proposals.of("proposed")
    lines += [f"## Proposed changes ({len(proposed)})", ""]
    lines += _items(proposed) if proposed else ["Nothing new.", ""]
    unplaced = proposals.of("unplaced")
    if unplaced:
        lines += [f"## Found but not placed ({len(unplaced)})", ""] + _items(unplaced)
    sources = [s for s in statuses if not s.notice]
    read = sum(s.outcome == "read" for s in sources)
    unchanged = sum(s.outcome == "unchanged" for s in sources)
    counted = (f"{len(sources)} sources: {read} read, {unchanged} unchanged (304), "
               f"{sum(s.outcome in TROUBLE for s in sources)} not readable; "
               if sources else "")
    lines += ["## Figures", "", f"{counted}{tally.requests} requests, {tally.bytes} bytes.",
              ""]
    return "\n".join(lines)


def _items(changes) -> list[str]:
    lines = []
    for change in changes:
        lines += [f"- **{change.file}**: {_cell(change.what)}",
                  f"  - evidence: “{_cell(change.evidence)}”",
                  f"  - source: [{_cell(change.title)}](<{change.url}>)"]
    return lines + [""]
