"""The publish policy of ``python build.py check``: errors always fail; with ``--strict``,
warnings fail only when they are new against the committed, reviewed baseline
(``.check-baseline.json``), which ``check --update-baseline`` writes.

A baseline entry says which warnings are accepted for now: the file, the field path without
list positions, the kind of warning, its subject (a link's address, an exam's year, the
normalised message for the loader's warnings) and how many times it occurs. No line number:
moving a warning within its file, or editing something else, never makes it new. Entries are
sorted and written as indented JSON so a review sees exactly what was accepted or fixed."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from erjian.core.errors import UserError
from erjian.site.warnings import Finding, normalised

BASELINE_NAME = ".check-baseline.json"
VERSION = 1
ABOUT = ("Warnings accepted for publishing (python build.py check --strict). Written by "
         "python build.py check --update-baseline; review every change. See docs/deploy.md.")

Key = tuple[str, str, str, str]   # file, field, kind, subject


def key(finding: Finding) -> Key:
    """What a warning is, independent of where in its file it currently is."""
    problem = finding.problem
    return (problem.file, normalised(problem.field), finding.kind, finding.subject)


@dataclass
class Verdict:
    """Findings sorted by what the policy makes of them."""

    errors: list[Finding] = field(default_factory=list)
    new: list[Finding] = field(default_factory=list)        # warnings not in the baseline
    accepted: list[Finding] = field(default_factory=list)   # warnings the baseline allows
    fixed: list[dict] = field(default_factory=list)         # baseline entries gone (part or all)

    @property
    def warnings(self) -> list[Finding]:
        return [*self.accepted, *self.new]


def entries(findings: list[Finding]) -> list[dict]:
    """Baseline entries for the warnings among ``findings``, sorted, with their counts."""
    counts = Counter(key(f) for f in findings if f.problem.severity != "error")
    return [{"file": k[0], "field": k[1], "kind": k[2], "subject": k[3], "count": n}
            for k, n in sorted(counts.items())]


def dumps(findings: list[Finding]) -> str:
    document = {"about": ABOUT, "version": VERSION, "warnings": entries(findings)}
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def write(path: Path, findings: list[Finding]) -> int:
    """Writes the baseline for ``findings``; returns how many warnings it accepts."""
    path.write_text(dumps(findings), encoding="utf-8")
    return sum(e["count"] for e in entries(findings))


def load(path: Path) -> Counter:
    """The accepted count per key; UserError when the file is not a baseline."""
    hint = f"regenerate it with python build.py check --update-baseline --baseline {path}"
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        accepted = Counter()
        for entry in document["warnings"]:
            name = (entry["file"], entry["field"], entry["kind"], str(entry["subject"]))
            accepted[name] += int(entry["count"])
    except FileNotFoundError:
        raise UserError(f"no baseline at {path}", hint) from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UserError(f"{path} is not a check baseline ({exc})", hint) from None
    return accepted


def judge(findings: list[Finding], accepted: Counter | None) -> Verdict:
    """Splits ``findings``; with no baseline every warning is new. When a key occurs more
    often than the baseline allows, its last occurrences (by line) are the new ones."""
    verdict, seen = Verdict(), Counter()
    for finding in findings:
        if finding.problem.severity == "error":
            verdict.errors.append(finding)
            continue
        name = key(finding)
        seen[name] += 1
        allowed = accepted[name] if accepted else 0
        (verdict.accepted if seen[name] <= allowed else verdict.new).append(finding)
    if verdict.errors:   # warnings were not all looked for: none counts as fixed
        return verdict
    for name, count in sorted((accepted or Counter()).items()):
        if seen[name] < count:
            verdict.fixed.append({"file": name[0], "field": name[1], "kind": name[2],
                                  "subject": name[3], "count": count - seen[name]})
    return verdict


def baseline_path(root: Path, given: Path | None) -> Path | None:
    """The baseline to judge against: the one given, else ``<root>/.check-baseline.json``
    when it exists, else none."""
    if given is not None:
        return given if given.is_absolute() else Path.cwd() / given
    default = Path(root) / BASELINE_NAME
    return default if default.is_file() else None
