"""``check``'s report for GitHub Actions: one workflow command per problem, so each shows as
an annotation on its file and line, and a Markdown table for the job summary
(``$GITHUB_STEP_SUMMARY``)."""

from __future__ import annotations

import html
import re
import sys

from erjian.editor.baseline import Verdict
from erjian.site.warnings import Finding


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def command(level: str, message: str, file: str | None = None, line: int | None = None,
            title: str | None = None) -> str:
    """``::warning file=…,line=…,title=…::message``, escaped as GitHub requires."""
    props = [f"file={_property(file)}" if file else None,
             f"line={line}" if file and line else None,
             f"title={_property(title)}" if title else None]
    joined = ",".join(p for p in props if p)
    return f"::{level}{' ' + joined if joined else ''}::{_data(message)}"


def annotation(finding: Finding, level: str, label: str) -> str:
    problem = finding.problem
    message = problem.message + (f"\nhint: {problem.hint}" if problem.hint else "")
    title = f"{label}: {problem.field}" if problem.field else label
    return command(level, message, problem.file, problem.line, title)


def annotations(verdict: Verdict, strict: bool) -> list[str]:
    """Errors as errors; warnings as warnings, except new ones under ``--strict``, which fail
    the run and are shown as errors; fixed baseline entries as notices."""
    lines = [annotation(f, "error", "error") for f in verdict.errors]
    new_level, new_label = ("error", "new warning") if strict else ("warning", "warning")
    lines += [annotation(f, new_level, new_label) for f in verdict.new]
    lines += [annotation(f, "warning", "warning (in the baseline)") for f in verdict.accepted]
    lines += [command("notice", f"fixed: {fixed_text(e)}; remove it with --update-baseline",
                      e["file"], None, "fixed baseline entry") for e in verdict.fixed]
    return lines


def fixed_text(entry: dict) -> str:
    return (f"{entry['file']} [{entry['field']}] {entry['kind']} {entry['subject']} "
            f"(x{entry['count']}) no longer occurs")


# Everything quoted in the summary comes from input (file names, field names, messages that
# quote values): a name such as ``a` [x](https://…) `b.yaml`` must stay text, never close a
# code span and become a link, an image or HTML. CommonMark lets any ASCII punctuation be
# backslash-escaped; a code span is closed only by a backtick run of its own fence's length.
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())


def _text(text: str | None) -> str:
    """Literal text in a table cell: every punctuation mark escaped."""
    return _PUNCTUATION.sub(r"\\\1", _one_line(text))


def _code(text: str | None) -> str:
    """Literal text as a code span in a table cell: a fence longer than any backtick run in
    it, padded where it begins or ends with a backtick; ``|`` escaped for the table (GFM)."""
    body = _one_line(text).replace("|", "\\|")
    if not body:
        return ""
    fence = "`" * (max((len(run) for run in re.findall("`+", body)), default=0) + 1)
    pad = " " if body.startswith("`") or body.endswith("`") else ""
    return f"{fence}{pad}{body}{pad}{fence}"


def _row(status: str, finding: Finding) -> str:
    p = finding.problem
    where = p.file if p.line is None else f"{p.file}:{p.line}"
    return f"| {status} | {_code(where)} | {_text(p.field)} | {_text(p.message)} |"


def summary(verdict: Verdict, strict: bool, verdict_line: str) -> str:
    """The job summary: the verdict and a table of every problem and fixed entry."""
    new_status = "**new** (fails)" if strict else "warning"
    rows = [_row("**error**", f) for f in verdict.errors]
    rows += [_row(new_status, f) for f in verdict.new]
    rows += [_row("accepted (baseline)", f) for f in verdict.accepted]
    rows += [f"| fixed | {_code(e['file'])} | {_text(e['field'])} | "
             f"{_text(fixed_text(e))}: remove it with `--update-baseline` |"
             for e in verdict.fixed]
    text = f"### build.py check\n\n{verdict_line}\n"
    if rows:
        text += "\n| status | where | field | message |\n| --- | --- | --- | --- |\n"
        text += "\n".join(rows) + "\n"
    return text + "\n"


def preformatted(text: str) -> str:
    """``text`` as a preformatted block of a Markdown job summary, shown exactly as it is:
    an HTML ``<pre>`` with the text escaped, so no line of it can end the block (as a ``````
    line ends a fenced one) or become a link."""
    return f"<pre>\n{html.escape(text, quote=False)}</pre>\n"


def main(argv: list[str]) -> int:
    """``python -m erjian.editor.github_report FILE...``: the files as one preformatted block, for a
    workflow's job summary."""
    text = "".join(open(name, encoding="utf-8", errors="replace").read() for name in argv)
    sys.stdout.write(preformatted(text))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
