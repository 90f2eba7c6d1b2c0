"""YAML syntax errors in an editor's words.

libyaml reports where it gave up, in its own words, often one line after the mistake. A
syntax error is explained in two steps: first the file is searched, up to where the parser
stopped, for the slips editors typing Chinese make (a full-width colon or space, curly
quotes, a tab, no space after ':'); a slip counts only if correcting that one line lets the
parser get further. Otherwise the parser's own problem is put in plain words, at the line
its marks point to. The message shows that one line with a caret under the column.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import yaml

from erjian.core.errors import Problem
from erjian.input.characters import escape_hidden, excerpt

_Base = yaml.CSafeLoader if getattr(yaml, "__with_libyaml__", False) else yaml.SafeLoader


@dataclass(frozen=True)
class Slip:
    """A mistake on one line: where (0-based line and column), what, how to fix it, and the
    line corrected (one or more ways; used to check that the slip is what stopped the
    parser)."""

    index: int
    column: int
    message: str
    hint: str
    fixed: tuple[str, ...] = ()


_CURLY_QUOTES = {"“": '"', "”": '"', "＂": '"', "‘": "'", "’": "'", "＇": "'"}
_LEAD = r"^([ \t\u3000]*(?:-[ \t\u3000]+)?)"   # indentation and a list item's '- '
_KEY = r"([^\s:：#'\"“”‘’＂＇\[\]{},&*!|>%@`-][^:：#\"'\[\]{}]{0,60}?)"
_FULLWIDTH_COLON = re.compile(_LEAD + _KEY + r"[ \u3000]*：[ \u3000]*")
_IDEOGRAPHIC_AFTER_COLON = re.compile(_LEAD + _KEY + r":(\u3000[ \u3000]*)")
_NO_SPACE_AFTER_COLON = re.compile(_LEAD + r"([A-Za-z_][\w-]*):(?=[^\s:/])")
_QUOTED_VALUE = re.compile(_LEAD + _KEY + r":[ ]+([\"'“”‘’＂＇])")


def _indent_of(line: str) -> str:
    """Leading whitespace, including a list item's '- ' and the whitespace after it."""
    match = re.match(r"[ \t\u3000]*(?:-[ \t\u3000]+)?", line)
    return match.group()


def _tab_slip(index: int, line: str) -> Slip | None:
    indent = _indent_of(line)
    if "\t" not in indent:
        return None
    return Slip(index, indent.index("\t"),
                "the line is indented with a tab; YAML indentation must be ordinary spaces",
                "indent with spaces, not tabs",
                _reindented(line, indent, "\t"))


def _ideographic_indent_slip(index: int, line: str) -> Slip | None:
    indent = _indent_of(line)
    if "\u3000" not in indent:
        return None
    return Slip(index, indent.index("\u3000"),
                "the line is indented with a full-width space (U+3000); YAML indentation "
                "must be ordinary spaces",
                "delete the full-width spaces and indent with ordinary spaces, lined up with "
                "the lines around it",
                _reindented(line, indent, "\u3000"))


def _reindented(line: str, indent: str, char: str) -> tuple[str, ...]:
    """The line with ``char`` in its indentation made one or two spaces, or left out."""
    rest = line[len(indent):]
    return (indent.replace(char, "  ") + rest, indent.replace(char, " ") + rest, "")


def _fullwidth_colon_slip(index: int, line: str) -> Slip | None:
    match = _FULLWIDTH_COLON.match(line)
    if not match:
        return None
    lead, key, value = match.group(1), match.group(2).rstrip(" \u3000"), line[match.end():]
    fixed = f"{lead}{key}: {value}" if value else f"{lead}{key}:"
    how = "an ordinary colon and a space" if value else "an ordinary colon"
    return Slip(index, line.index("：", match.start(2)),
                f"a full-width colon '：' follows the key '{excerpt(key, 40)}'; YAML only "
                "understands the ordinary colon ':'",
                f"write '{excerpt(fixed.strip(), 60)}' with {how} (switch the input method "
                "to half-width punctuation for keys)", (fixed,))


def _ideographic_space_slip(index: int, line: str) -> Slip | None:
    match = _IDEOGRAPHIC_AFTER_COLON.match(line)
    if not match:
        return None
    fixed = line[: match.start(3)] + " " + line[match.end(3):]
    return Slip(index, match.start(3),
                f"a full-width space (U+3000) follows the colon of '{excerpt(match.group(2), 40)}';"
                " YAML needs an ordinary space after ':'",
                f"write '{excerpt(fixed.strip(), 60)}' with an ordinary space", (fixed,))


def _no_space_slip(index: int, line: str) -> Slip | None:
    match = _NO_SPACE_AFTER_COLON.match(line)
    if not match:
        return None
    colon = match.end()
    fixed = line[:colon] + " " + line[colon:]
    return Slip(index, colon,
                f"there is no space after the colon of '{excerpt(match.group(2), 40)}', so YAML "
                "reads the key and the value as one piece of text",
                f"add a space: '{excerpt(fixed.strip(), 60)}'", (fixed,))


def _curly_quote_slip(index: int, line: str) -> Slip | None:
    match = _QUOTED_VALUE.match(line)
    if not match:
        return None
    quote, start, rest = match.group(3), match.start(3), line[match.end():]
    fixed = line[:start] + "".join(_CURLY_QUOTES.get(char, char) for char in line[start:])
    key = excerpt(match.group(2), 40)
    if quote in _CURLY_QUOTES:
        return Slip(index, start,
                    f"the value of '{key}' starts with the full-width or curly quote '{quote}'; "
                    "YAML only counts the straight quotes \" and ' as quotes",
                    f"use straight quotes: '{excerpt(fixed.strip(), 60)}' (or no quotes)", (fixed,))
    curly = next((char for char in rest if char in _CURLY_QUOTES), None)
    if curly is None or quote in rest:
        return None
    return Slip(index, start + 1 + rest.index(curly),
                f"the value of '{key}' opens with the straight quote {quote} but closes with the "
                f"curly quote '{curly}', so the quote is never closed",
                f"end it with the same straight quote: '{excerpt(fixed.strip(), 60)}'", (fixed,))


_SLIP_FINDERS = (_tab_slip, _ideographic_indent_slip, _fullwidth_colon_slip,
                 _ideographic_space_slip, _curly_quote_slip, _no_space_slip)
_MAX_TRIALS = 12


def _stop(exc) -> tuple[int, int]:
    """Where the parser gave up, as (line, column), 0-based."""
    mark = exc.problem_mark or exc.context_mark
    return (mark.line, mark.column) if mark else (0, 0)


def _gets_further(lines: list[str], index: int, fixed: str, stop: tuple[int, int]) -> bool:
    """True when the text with line ``index`` replaced parses, or fails later than ``stop``."""
    trial = lines[:index] + [fixed] + lines[index + 1:]
    try:
        for _ in yaml.parse("\n".join(trial), Loader=_Base):
            pass
    except yaml.MarkedYAMLError as exc:
        return _stop(exc) > stop
    except (yaml.YAMLError, RecursionError):
        return False
    return True


def find_slip(lines: list[str], exc) -> Slip | None:
    """The known slip nearest to where the parser stopped (searching back from there) whose
    correction lets the parser get further. An innocent slip cannot pass that test, so
    searching backwards finds the one the parser tripped on, in few trials."""
    stop = _stop(exc)
    last = min(max(stop[0], exc.context_mark.line if exc.context_mark else 0), len(lines) - 1)
    trials = 0
    for index in range(last, -1, -1):
        for finder in _SLIP_FINDERS:
            slip = finder(index, lines[index])
            if slip is None:
                continue
            trials += 1
            if any(_gets_further(lines, index, fixed, stop) for fixed in slip.fixed):
                return slip
            if trials >= _MAX_TRIALS:
                return None
    return None


def _previous_content(lines: list[str], index: int) -> int | None:
    """Index of the nearest line above ``index`` that is neither blank nor a comment."""
    for earlier in range(min(index, len(lines)) - 1, -1, -1):
        stripped = lines[earlier].strip()
        if stripped and not stripped.startswith("#"):
            return earlier
    return None


def _at(mark) -> tuple[int, int]:
    return mark.line, mark.column


def _char_at(lines: list[str], index: int, column: int) -> str:
    return lines[index][column] if index < len(lines) and column < len(lines[index]) else ""


def translate(lines: list[str], exc) -> Slip:
    """The parser's problem in plain words, at the line the mistake is on."""
    problem, context = exc.problem or "", exc.context or ""
    pm, cm = exc.problem_mark, exc.context_mark
    index, column = _at(pm or cm) if (pm or cm) else (0, 0)
    if "could not find expected ':'" in problem and cm:
        index, column = _at(cm)
        return Slip(index, column,
                    "this line has no ':' after its key; inside a mapping each line is "
                    "'key: value' (text that goes on from the line above must be indented "
                    "further than its key)", _missing_colon_hint(lines[index]))
    if "mapping values are not allowed" in problem:
        return _colon_in_value(lines, index, column)
    if "expected '-' indicator" in problem and cm:
        return Slip(index, column,
                    f"this list item does not line up with the one on line {cm.line + 1} "
                    f"(whose '-' is in column {cm.column + 1})",
                    "start every item of one list with '- ' in the same column")
    if "did not find expected key" in problem:
        return _unexpected_in_mapping(lines, index, column)
    if "did not find expected ','" in problem and cm:
        bracket = _char_at(lines, cm.line, cm.column) or "["
        closing = "]" if bracket == "[" else "}"
        return Slip(cm.line, cm.column,
                    f"the '{bracket}' opened here is not closed with '{closing}' on this line",
                    f"close it with '{closing}' (items separated by ', '), or write one "
                    "'- item' per line instead")
    if "end of stream" in problem and "quoted scalar" in context and cm:
        quote = _char_at(lines, cm.line, cm.column) or '"'
        return Slip(cm.line, cm.column, f"the quote {quote} opened here is never closed",
                    f"end the value with the same straight quote {quote} on this line")
    if "unknown escape character" in problem:
        return Slip(index, column, "inside double quotes a backslash starts an escape, and "
                    "this one is not valid",
                    "use single quotes for text with backslashes, or write each '\\' as '\\\\'")
    if "cannot start any token" in problem:
        char = _char_at(lines, index, column)
        if char == "\t":
            return Slip(index, column, "a tab is used for indentation or spacing; YAML only "
                        "allows ordinary spaces there", "indent with spaces, not tabs")
        return Slip(index, column, f"a value cannot start with '{excerpt(char, 1)}' unless it "
                    "is in quotes", "put the value in quotes")
    if "another document" in problem:
        return Slip(index, column, "a line '---' here starts a second document; a site file "
                    "holds only one", "remove this '---' line")
    if "constructor for the tag" in problem:
        tag = re.search(r"tag '([^']*)'", problem)
        return Slip(index, column, f"the tag '{excerpt(tag.group(1) if tag else '?', 80)}' is "
                    "not allowed; site files use no '!' tags",
                    "remove it; if the '!' belongs to the text, put the value in quotes")
    return Slip(index, column, f"the parser stopped here ({excerpt(problem or context, 120)})",
                "check the indentation and the ':' after each key")


def _missing_colon_hint(line: str) -> str:
    words = line.strip().split(None, 1)
    if len(words) == 2:
        return f"add the ':' and a space after the key: '{excerpt(': '.join(words), 60)}'"
    return "add the ':' and a space after the key, or indent the text under the key it belongs to"


def _colon_in_value(lines: list[str], index: int, column: int) -> Slip:
    """'mapping values are not allowed': a second ': ' on a line, or a key indented under a
    line that already has its value."""
    line = lines[index] if index < len(lines) else ""
    key_colon = line.find(": ", len(_indent_of(line)))
    if 0 <= key_colon < column:
        key, value = line[:key_colon].strip(), line[key_colon + 2:].strip()
        return Slip(index, column, "a second ': ' on this line; a value that contains ': ' "
                    "must be put in quotes",
                    f"put the value in quotes: '{excerpt(key, 40)}: \"{excerpt(value, 60)}\"'")
    above = _previous_content(lines, index)
    where = f"line {above + 1}" if above is not None else "the line above"
    return Slip(index, len(_indent_of(line)),
                f"this key is indented further than the line above it, so YAML reads it as "
                f"part of the value on {where}",
                f"line it up with the other keys of its mapping; if it belongs under {where}, "
                "leave nothing after the ':' there")


def _unexpected_in_mapping(lines: list[str], index: int, column: int) -> Slip:
    """'did not find expected key': something after a finished value, or a line out of line."""
    line = lines[index] if index < len(lines) else ""
    if column > len(_indent_of(line)):
        char = excerpt(_char_at(lines, index, column), 1)
        return Slip(index, column, f"unexpected '{char}' after the value; the line should have "
                    "ended before it",
                    "put the whole value in quotes, or remove what follows it")
    return Slip(index, column,
                "this line does not line up with the lines above it (the keys of one mapping "
                "start in the same column; list items start with '- ')",
                "check its indentation against the lines above")


def show_line(line: str, column: int, limit: int = 80) -> str:
    """The line (at most ``limit`` characters around ``column``, half as many when it has wide
    characters; refused characters escaped) and a caret under the column, each indented by
    four spaces."""
    if display_width(line) > len(line):
        limit //= 2
    start = max(0, min(column - limit // 2, len(line) - limit)) if len(line) > limit else 0
    left = ("…" if start else "") + _visible(line[start:column])
    right = _visible(line[column:start + limit]) + ("…" if start + limit < len(line) else "")
    return f"    {left}{right}\n    {' ' * display_width(left)}^"


def _visible(text: str) -> str:
    return escape_hidden(text).replace("\t", "\\t")


def display_width(text: str) -> int:
    """Columns a terminal gives ``text``: wide and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def syntax_problem(text: str, exc, display: str, first_line: int = 1) -> Problem:
    """A YAML syntax error as an editor can act on it: the line the mistake is on, what is
    wrong in plain words, that line with a caret, and the fix."""
    lines = text.split("\n")
    slip = None
    if not isinstance(exc, yaml.constructor.ConstructorError):
        slip = find_slip(lines, exc)
    slip = slip or translate(lines, exc)
    message = f"is not valid YAML: {slip.message}"
    if slip.index < len(lines) and lines[slip.index].strip():
        message += "\n" + show_line(lines[slip.index], slip.column)
    return Problem(display, slip.index + first_line, None, message, slip.hint)
