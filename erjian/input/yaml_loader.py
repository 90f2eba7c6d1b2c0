"""Loading YAML and Markdown files into plain Python data that remembers where every
mapping, key and list item came from (so that later stages can name the line).

YAML is parsed with PyYAML's safe loader, with three changes: duplicate keys are an error
(PyYAML silently keeps the last one), anchors/aliases are refused (no alias bombs, and the
data stays a tree), and an impossible date such as ``2026-02-30`` is reported with its line
instead of crashing the loader. A syntax error is reported on the line the mistake is on, in
plain words, with that line and a caret (erjian.input.yaml_hints). Files are read through
erjian.input.read_files; messages never quote more of a file than the line they point at.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from erjian.core.errors import Problem
from erjian.input.characters import excerpt
from erjian.input.read_files import read_text
from erjian.input.yaml_hints import syntax_problem


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
            "start the file with a '---' line, the fields (title, date, kind, ...), and "
            "another '---'",
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
