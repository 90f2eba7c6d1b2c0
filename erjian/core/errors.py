"""Problems found in the site's input, reported the way Zola does: file, position, what was
expected and what to do about it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong (or suspect) in one input file."""

    file: str
    line: int | None
    field: str | None
    message: str
    hint: str | None = None
    severity: str = "error"

    def format(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        field = f" [{self.field}]" if self.field else ""
        text = f"{self.severity}: {where}:{field} {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class SiteError(Exception):
    """Raised when the input cannot be built; carries every problem found in the run."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=_problem_order)
        super().__init__(self.report())

    def __reduce__(self):
        """Picklable, so that a problem found in a worker process reaches the build."""
        return (SiteError, (self.problems,))

    def report(self) -> str:
        count = len(self.problems)
        lines = [p.format() for p in self.problems]
        lines.append(f"{count} problem{'s' if count != 1 else ''} found; nothing was published.")
        return "\n".join(lines)


def _problem_order(problem: Problem):
    return (problem.file, problem.line or 0, problem.field or "", problem.message)


def display_path(path: Path, root: Path) -> str:
    """The path as an editor would type it: relative to the site root when possible."""
    text, base = str(path), str(root).rstrip("/") + "/"
    if text.startswith(base):
        return text[len(base):].replace("\\", "/")
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return text


class UserError(Exception):
    """A failure the person running the build can fix that is not about one input file (the
    output folder, the disk, a command-line value, a port): ``message`` says what is wrong,
    ``hint`` what to do. The command line prints both and exits 1, never a traceback."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message, self.hint = message, hint

    def report(self) -> str:
        text = f"error: {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text
