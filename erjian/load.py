"""Stage 1 — load: read YAML and Markdown files into plain Python data that remembers where
every mapping, key and list item came from (so that later stages can name the line).

YAML is parsed with PyYAML's safe loader, with three changes: duplicate keys are an error
(PyYAML silently keeps the last one), anchors/aliases are refused (no alias bombs, and the
data stays a tree), and an impossible date such as ``2026-02-30`` is reported with its line
instead of crashing the loader.

Before parsing, a file must be a regular file inside the site (a symbolic link that leaves it,
a FIFO or a device is refused without being opened or read), is read only up to its size limit,
has its line endings made LF, and may not contain control, bidirectional or invisible characters
(see ``HIDDEN``). Messages never quote more of a file than the line they point at.
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

from .errors import Problem

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
# pass on into pages, feeds and .ics files. Tab and newline are the only controls allowed, and
# only where a text may have several lines.
HIDDEN = re.compile(
    "["
    "\x00-\x08\x0b-\x1f\x7f-\x9f"   # C0 controls but tab and newline; DEL; C1 controls
    "\u00ad\u034f\u061c"            # soft hyphen, grapheme joiner, Arabic letter mark
    "\u115f\u1160\u3164\uffa0"      # Hangul fillers (blank 'letters')
    "\u180e"                        # Mongolian vowel separator
    "\u200b-\u200f"                 # zero-width space, joiners, LRM, RLM
    "\u2028-\u202e"                 # line/paragraph separators, bidi embeddings, overrides
    "\u2060-\u206f"                 # word joiner, invisible operators, bidi isolates
    "\ufe00-\ufe0f\ufeff"           # variation selectors, BOM (zero-width no-break space)
    "\ufff9-\ufffb"                 # interlinear annotation
    "\U000e0000-\U000e007f"         # tag characters
    "\U000e0100-\U000e01ef"         # more variation selectors
    "]")
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
    patterns = (HIDDEN,) if multiline else (HIDDEN, LINE_BREAKS)
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
    return HIDDEN.sub(lambda m: f"\\u{ord(m.group()):04x}" if ord(m.group()) < 0x10000
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


def _read_text(path: Path, display: str,
               root: Path | None = None) -> tuple[str | None, Problem | None]:
    """The file's text with LF line endings, or the reason it was not read."""
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
    text = text.replace("\r\n", "\n").replace("\r", "\n")
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


def special_kind(mode: int) -> str | None:
    """What a non-regular file is ('a FIFO', 'a device', ...), or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


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


def _tab_near(text: str, mark) -> bool:
    """True when the line the parser stopped at (or the one before) is indented with tabs."""
    if mark is None:
        return "\t" in text
    lines = text.splitlines()
    for index in (mark.line, mark.line - 1):
        if 0 <= index < len(lines):
            line = lines[index]
            if "\t" in line[: len(line) - len(line.lstrip())]:
                return True
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
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + first_line if mark else None
        message = f"is not valid YAML: {excerpt(exc.problem or exc.context, 120)}"
        hint = ("indent with spaces, not tabs" if _tab_near(text, mark) else
                "check the indentation and the ':' after each key")
        return None, Problem(display, line, None, message, hint)
    except yaml.YAMLError as exc:
        return None, Problem(display, None, None, f"is not valid YAML: {excerpt(exc, 120)}")
    except RecursionError:
        return None, Problem(display, None, None, "is nested too deeply to be site data")
    return data, None


def load_yaml(path: Path, display: str, root: Path | None = None) -> Loaded:
    """A YAML file; with ``root``, a symbolic link leaving it is refused unopened."""
    text, problem = _read_text(path, display, root)
    if problem:
        return Loaded(path, display, problem=problem)
    data, problem = parse_yaml(text, display)
    return Loaded(path, display, data=data, problem=problem)


_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?---[ \t]*(?:\n|\Z)", re.S)


def load_markdown(path: Path, display: str, root: Path | None = None) -> Loaded:
    """A Markdown file with YAML front matter between two ``---`` lines (CRLF or LF)."""
    text, problem = _read_text(path, display, root)
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
