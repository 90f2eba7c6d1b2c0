"""Loading: read YAML and Markdown files into plain Python data that remembers where
every mapping, key and list item came from (so that later stages can name the line).

YAML is parsed with PyYAML's safe loader, with three changes: duplicate keys are an error
(PyYAML silently keeps the last one), anchors/aliases are refused (no alias bombs, and the
data stays a tree), and an impossible date such as ``2026-02-30`` is reported with its line
instead of crashing the loader. A syntax error is reported on the line the mistake is on, in
plain words, with that line and a caret (``syntax_problem``).

Before parsing, a file must be a regular file inside the site (a symbolic link that leaves it,
a FIFO or a device is refused without being opened or read), is read only up to its size limit,
has its line endings made LF and its text put in Unicode NFC, and may not contain control,
bidirectional or invisible characters (see ``hidden_pattern``). Messages never quote more of a
file than the line they point at.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import stat
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from erjian.core.errors import Problem
from erjian.core.file_kinds import special_kind

MAX_FILE_BYTES = 1_000_000


class LineDict(dict):
    """A YAML mapping that knows its own line and the line of each key (1-based)."""

    line: int = 0
    key_lines: dict

    def line_of(self, key) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list):
    """A YAML sequence that knows its own line and the line of each item (1-based)."""

    line: int = 0
    item_lines: list

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


class _InputError(Exception):
    def __init__(self, line: int | None, message: str, hint: str | None = None):
        super().__init__(message)
        self.line, self.message, self.hint = line, message, hint


_DATE_RE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")

# Characters refused in every input file and every text value: they are invisible or change
# the direction of the text around them, so two names that look identical can differ (马鞍山市
# beside 马鞍\u200b山市), a reviewer can be shown something other than what is built, and they
# pass on into pages, feeds and .ics files. The set is the standard's, not a hand list:
#
# - the general categories Cc (controls), Cf (format characters: zero-width space and joiners,
#   bidi marks, embeddings, overrides and isolates, soft hyphen, BOM, tags, U+1D173 musical
#   beams, U+1BCA0 shorthand overlaps, ...), Cs (surrogates, reachable only through a YAML
#   escape) and Zl/Zp (line and paragraph separators), from unicodedata;
# - the rest of Unicode's Default_Ignorable_Code_Point: Other_Default_Ignorable_Code_Point and
#   Variation_Selector as PropList.txt lists them (unicodedata does not expose either), which
#   adds combining joiners (U+034F, U+17B4, U+17B5), Hangul fillers, the Mongolian free
#   variation selectors (U+180B–U+180F), the variation selectors and reserved ignorables.
#
# Tab and newline are the only controls allowed, and only where a text may have several
# lines. Deliberately refused with them: the zero-width joiner and variation selectors of
# emoji sequences (a single emoji is accepted; 👨‍👩‍👧 and ❤️ are not, and nothing the site
# publishes needs them) and ideographic variation sequences (the base character is kept
# when the selector is deleted). Private-use and unassigned code points are not refused:
# they are visible (a glyph or a box), and rare characters of place names were once
# private-use. Text is compared in NFC (``read_text``, ``nfc``), so two spellings of one
# name are one name.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_IGNORABLE_RANGES = (   # PropList.txt (Unicode 15.1): Other_Default_Ignorable_Code_Point
    (0x034F, 0x034F), (0x115F, 0x1160), (0x17B4, 0x17B5), (0x2065, 0x2065), (0x3164, 0x3164),
    (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0xE0000, 0xE0000), (0xE0002, 0xE001F),
    (0xE0080, 0xE00FF), (0xE01F0, 0xE0FFF),
    # Variation_Selector
    (0x180B, 0x180D), (0x180F, 0x180F), (0xFE00, 0xFE0F), (0xE0100, 0xE01EF),
)
_ALLOWED_CONTROLS = frozenset("\t\n")


@lru_cache(maxsize=1)
def hidden_pattern() -> re.Pattern:
    """One character class of every refused character, built on first use from the Unicode
    database of this Python (one pass over the code points, about a tenth of a second)."""
    points = [code for code in range(0x110000)
              if unicodedata.category(chr(code)) in _REFUSED_CATEGORIES
              and chr(code) not in _ALLOWED_CONTROLS]
    ranges: list[list[int]] = []
    for code in sorted(set(points).union(*(range(a, b + 1) for a, b in _IGNORABLE_RANGES))):
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    return re.compile("[" + "".join(f"\\U{a:08x}" + (f"-\\U{b:08x}" if b != a else "")
                                    for a, b in ranges) + "]")


def nfc(text: str) -> str:
    """``text`` in Unicode normalisation form C: 'é' typed as e + U+0301 and 'é' typed as one
    character become the same text, so they name the same region."""
    return unicodedata.normalize("NFC", text)


LINE_BREAKS = re.compile("[\t\n]")


def describe_char(char: str) -> str:
    """``U+202E (RIGHT-TO-LEFT OVERRIDE)``; controls, which have no name, say so."""
    name = unicodedata.name(char, "")
    if not name:
        name = "control character" if unicodedata.category(char) == "Cc" else "unnamed"
    return f"U+{ord(char):04X} ({name})"


def find_hidden(text: str, multiline: bool = True) -> int | None:
    """Index of the first character refused in ``text`` (tab and newline are refused too
    unless ``multiline``), or None."""
    patterns = (hidden_pattern(),) if multiline else (hidden_pattern(), LINE_BREAKS)
    found = [match.start() for match in (p.search(text) for p in patterns) if match]
    return min(found) if found else None


def excerpt(value, limit: int = 60) -> str:
    """A value as it may appear in a message: its first line, at most ``limit`` characters,
    with refused characters written as escapes (so a message can neither leak a file nor be
    reordered by a bidi control)."""
    text = str(value)
    cut = text.split("\n", 1)[0][:limit]
    return escape_hidden(cut).replace("\t", "\\t") + ("…" if len(cut) < len(text) else "")


def escape_hidden(text: str) -> str:
    """``text`` with every refused character written as a \\u escape."""
    return hidden_pattern().sub(lambda m: f"\\u{ord(m.group()):04x}" if ord(m.group()) < 0x10000
                                else f"\\U{ord(m.group()):08x}", text)


_Base = yaml.CSafeLoader if getattr(yaml, "__with_libyaml__", False) else yaml.SafeLoader
MAX_DEPTH = 100


class _SiteLoader(_Base):
    """Safe loader (libyaml's parser when available) building LineDict/LineList and rejecting
    what the site does not allow."""

    def construct_object(self, node, deep=False):
        if node in self.constructed_objects or node in self.recursive_objects:
            raise _InputError(
                node.start_mark.line + 1,
                "the value anchored here (&name) is used again through an alias (*name); "
                "aliases are not allowed",
                "write the value out in full each time",
            )
        return super().construct_object(node, deep)

    def construct_yaml_map(self, node):
        data = LineDict()
        data.line = node.start_mark.line + 1
        data.key_lines = {}
        yield data
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, float, bool, dt.date)) and key is not None:
                raise _InputError(key_node.start_mark.line + 1, "a mapping key must be plain text")
            if key in data.key_lines:
                raise _InputError(
                    key_node.start_mark.line + 1,
                    f"duplicate key '{excerpt(key, 40)}' (first given on line "
                    f"{data.key_lines[key]})",
                    "remove one of the two; YAML would silently keep only the last",
                )
            data.key_lines[key] = key_node.start_mark.line + 1
            data[key] = self.construct_object(value_node, deep=True)

    def construct_yaml_seq(self, node):
        data = LineList()
        data.line = node.start_mark.line + 1
        data.item_lines = [item.start_mark.line + 1 for item in node.value]
        yield data
        data.extend(self.construct_object(item, deep=True) for item in node.value)

    def construct_yaml_timestamp(self, node):
        text = self.construct_scalar(node)
        if _DATE_RE.match(text):
            try:
                year, month, day = (int(part) for part in text.split("-"))
                return dt.date(year, month, day)
            except ValueError as exc:
                raise _InputError(
                    node.start_mark.line + 1,
                    f"'{excerpt(text)}' is not a real date ({exc})",
                    "check the day and month; dates are written YYYY-MM-DD",
                ) from None
        raise _InputError(
            node.start_mark.line + 1,
            f"'{excerpt(text)}' has a time; only dates are used here",
            "write the date alone as YYYY-MM-DD",
        )


_SiteLoader.add_constructor("tag:yaml.org,2002:map", _SiteLoader.construct_yaml_map)
_SiteLoader.add_constructor("tag:yaml.org,2002:seq", _SiteLoader.construct_yaml_seq)
_SiteLoader.add_constructor("tag:yaml.org,2002:timestamp", _SiteLoader.construct_yaml_timestamp)


@dataclass
class Loaded:
    """What one file contributed: its data (None when unreadable) and what was wrong."""

    path: Path
    display: str
    data: object = None
    body: str = ""
    body_line: int = 0
    problem: Problem | None = None


def read_text(path: Path, display: str,
              root: Path | None = None) -> tuple[str | None, Problem | None]:
    """The file's text with LF line endings, in NFC, or the reason it was not read (refused
    characters included)."""
    raw, problem = read_bounded(path, display, root)
    if problem:
        return None, problem
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, Problem(
            display, line, None,
            f"is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})",
            "save the file as UTF-8",
        )
    text = nfc(text.replace("\r\n", "\n").replace("\r", "\n"))
    return text, hidden_problem(text, display)


def hidden_problem(text: str, display: str) -> Problem | None:
    """A problem naming the first refused character of a file's text, with line and column."""
    index = find_hidden(text)
    if index is None:
        return None
    line = text.count("\n", 0, index) + 1
    column = index - text.rfind("\n", 0, index)
    return Problem(display, line, None,
                   f"contains {describe_char(text[index])} at column {column}; invisible and "
                   "direction-changing characters can make one text look like another",
                   "delete it (retype the line if you cannot see where it is)")


def outside_root(path: Path, root: Path) -> bool:
    """True when ``path`` (after following every symbolic link) is not inside ``root``."""
    real, base = os.path.realpath(path), os.path.realpath(root)
    return real != base and not real.startswith(base.rstrip(os.sep) + os.sep)


_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)


def read_bounded(path: Path, display: str, root: Path | None = None,
                 limit: int | None = None) -> tuple[bytes | None, Problem | None]:
    """At most ``limit`` + 1 bytes of a regular file. A symbolic link leaving ``root`` is
    refused without being opened, a FIFO or a device without being read: it is checked
    before opening, and again on the open file (opened non-blocking, so a FIFO swapped in
    meanwhile cannot hang the build)."""
    limit = MAX_FILE_BYTES if limit is None else limit
    if root is not None and outside_root(path, root):
        return None, outside_problem(path, display)
    try:
        kind = special_kind(os.stat(path).st_mode)
        fd = None if kind else os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        return None, Problem(display, None, None, f"cannot be read: {exc.strerror}")
    if fd is None:
        return None, special_problem(display, kind)
    try:
        info = os.fstat(fd)
        kind = special_kind(info.st_mode)
        if kind:
            return None, special_problem(display, kind)
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        return None, Problem(display, None, None, f"cannot be read: {exc.strerror}")
    finally:
        os.close(fd)
    if size > limit:
        length = f"is {info.st_size:,} bytes," if info.st_size > limit else "is"
        return None, Problem(
            display, None, None,
            f"{length} over the {limit:,}-byte limit for one input file",
            "split it, or check that it is the file you meant to add",
        )
    return b"".join(chunks), None


def special_problem(display: str, kind: str) -> Problem:
    return Problem(display, None, None, f"is {kind}, not a regular file; it was not read",
                   "replace it with an ordinary text file")


def outside_problem(path: Path, display: str) -> Problem:
    return Problem(display, None, None,
                   "is a symbolic link to a place outside the site's folder; it was not opened",
                   "copy the file into the site instead of linking to it")


def _too_deep(text: str) -> bool:
    """Flow collections nested deeper than any site file needs (and deep enough to exhaust
    the parser's stack)."""
    if text.count("[") + text.count("{") < MAX_DEPTH:
        return False
    depth = 0
    for char in text:
        if char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif char in "]}" and depth:
            depth -= 1
    return False


def parse_yaml(text: str, display: str, first_line: int = 1):
    """Parse YAML text; returns (data, problem). ``first_line`` offsets reported lines."""
    if _too_deep(text):
        return None, Problem(display, None, None, "is nested too deeply to be site data",
                             f"no list or mapping needs more than {MAX_DEPTH} levels")
    try:
        data = yaml.load(text, Loader=_SiteLoader)  # noqa: S506 - _SiteLoader is a SafeLoader
    except _InputError as exc:
        return None, Problem(display, exc.line + first_line - 1, None, exc.message, exc.hint)
    except yaml.MarkedYAMLError as exc:
        return None, syntax_problem(text, exc, display, first_line)
    except yaml.YAMLError as exc:
        return None, Problem(display, None, None, f"is not valid YAML: {excerpt(exc, 120)}")
    except RecursionError:
        return None, Problem(display, None, None, "is nested too deeply to be site data")
    return data, None


# --- YAML syntax errors in an editor's words -----------------------------------------------
#
# libyaml reports where it gave up, in its own words, often one line after the mistake. A
# syntax error is explained in two steps: first the file is searched, up to where the parser
# stopped, for the slips editors typing Chinese make (a full-width colon or space, curly
# quotes, a tab, no space after ':'); a slip counts only if correcting that one line lets the
# parser get further. Otherwise the parser's own problem is put in plain words, at the line
# its marks point to. The message shows that one line with a caret under the column.


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


def load_yaml(path: Path, display: str, root: Path | None = None) -> Loaded:
    """A YAML file; with ``root``, a symbolic link leaving it is refused unopened."""
    text, problem = read_text(path, display, root)
    if problem:
        return Loaded(path, display, problem=problem)
    data, problem = parse_yaml(text, display)
    return Loaded(path, display, data=data, problem=problem)


_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?---[ \t]*(?:\n|\Z)", re.S)


def load_markdown(path: Path, display: str, root: Path | None = None) -> Loaded:
    """A Markdown file with YAML front matter between two ``---`` lines (CRLF or LF)."""
    text, problem = read_text(path, display, root)
    if problem:
        return Loaded(path, display, problem=problem)
    match = _FRONT_MATTER.match(text)
    if not match:
        return Loaded(path, display, problem=Problem(
            display, 1, None, "has no front matter",
            "start the file with a '---' line, the fields (title, date, kind, ...), and another '---'",
        ))
    # Parsed with an empty first line in place of the opening '---', so that every line the
    # data remembers is its line in the file.
    data, problem = parse_yaml("\n" + (match.group(1) or ""), display)
    body_line = text[: match.end()].count("\n") + 1
    return Loaded(path, display, data=data, body=text[match.end():], body_line=body_line,
                  problem=problem)


@lru_cache(maxsize=64)
def _lines_of(path: Path, mtime_ns: int, size: int):
    """The loaded file, once per version of it (several messages may point into one file)."""
    return load_yaml(path, str(path)).data


def line_in_file(path: Path, *keys) -> int | None:
    """Line of the value at ``keys`` (mapping keys and list indexes) in a YAML file, best
    effort; for messages about values that were valid when loaded but are refused later."""
    path = Path(path)
    try:
        stat = path.stat()
    except OSError:
        return None
    node, line = _lines_of(path, stat.st_mtime_ns, stat.st_size), None
    for step in keys:
        if isinstance(node, LineDict) and step in node:
            line, node = node.line_of(step), node[step]
        elif isinstance(node, LineList) and isinstance(step, int) and step < len(node):
            line, node = node.line_of(step), node[step]
        else:
            break
    return line
