"""Limits that keep the time to render a Markdown text linear in its size.

Python-Markdown reads inline syntax one paragraph at a time, and from every ``[`` (and every
``(`` that opens a link target) it reads ahead to the matching bracket, or to the end of the
paragraph when there is none. Brackets that are never closed, or that nest inside each other,
cost time in the square of the paragraph's length: 8,000 ``[`` took 10 s to render, 50 KB more
than five minutes. The HTML parser it runs over raw HTML does the same from every ``<tag``
not closed with ``>``, and lists nested a few hundred levels deep exhaust Python's stack.

What remains grows at most with the square of one text's size with a small factor (many
headings or code spans in a row: about 0.25 s for 5,000 characters, the worst found by a
random search), so with the size limit each character costs a bounded time.

:func:`check` counts all of this in one pass without rendering anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from erjian.core.errors import Problem

# Notices and guide sections are a few hundred characters; five thousand leaves room.
MAX_CHARS = 5_000
# Characters of reading ahead allowed: this many per character of text, plus an allowance
# so that a short text with a few stray brackets is never refused.
READ_AHEAD_PER_CHAR = 4
READ_AHEAD_ALLOWANCE = 20_000
# Lists and quotes inside each other; real notices use two or three levels.
MAX_NESTING = 16

_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_QUOTES = "'\""
# What a backslash escapes in Python-Markdown; before anything else it stands for itself.
_ESCAPABLE = frozenset("\\`*_{}[]()>#+-.!")
_ORDERED_MARKER = re.compile(r"\d{1,9}[.)](?=[ \t])")
_TAG_OPENER = re.compile(r"<(!--|!\[|[A-Za-z/!?])")
_TAG_CLOSERS = {"!--": "-->", "![": "]]>"}


@dataclass(frozen=True)
class Excess:
    """Why a text is refused: where (0-based line within the text), what and what to do."""

    line: int
    message: str
    hint: str


@dataclass(frozen=True)
class ReadAhead:
    """Characters a parser reads ahead, the openers never closed, and where the first of
    them (or else the costliest opener) is."""

    chars: int
    unclosed: int
    where: int


def check(text: str, raw_html: bool = False) -> Excess | None:
    """The first limit ``text`` exceeds, or None. ``raw_html`` when the text's HTML is
    parsed (guide text) rather than shown as text (notices, whose '<' are escaped)."""
    if len(text) > MAX_CHARS:
        return Excess(0, f"is {len(text):,} characters long; the limit is {MAX_CHARS:,}",
                      "keep to the essentials and link to the official notice for the rest")
    for number, line in enumerate(text.split("\n")):
        if (depth := nesting_depth(line)) > MAX_NESTING:
            return Excess(number, f"nests lists, quotes or indentation {depth} levels deep; "
                                  f"the limit is {MAX_NESTING}",
                          "flatten it: each '>', list marker or four spaces of indentation "
                          "at the start of a line is one level")
    budget = READ_AHEAD_PER_CHAR * len(text) + READ_AHEAD_ALLOWANCE
    brackets = bracket_read_ahead(text)
    if brackets.chars > budget:
        what = (f"{brackets.unclosed} '[' or link '(' never closed in their paragraph "
                "(the first on this line)" if brackets.unclosed else
                "brackets nested too deeply (the worst on this line)")
        return Excess(text.count("\n", 0, brackets.where),
                      f"has {what}: Markdown would read {brackets.chars:,} characters ahead "
                      f"to render {len(text):,}, over the limit of {budget:,}",
                      "close each '[' with ']' and each link's '(' with ')', write a bracket "
                      "meant as text as \\[ or 【, or split the paragraph with a blank line")
    if raw_html and (tags := tag_read_ahead(text)).chars > budget:
        return Excess(text.count("\n", 0, tags.where),
                      f"has HTML tags or comments that run on (the worst starts on this "
                      f"line): the HTML parser would read {tags.chars:,} characters ahead, "
                      f"over the limit of {budget:,}",
                      "close each tag with '>', or write a '<' meant as text as &lt;")
    return None


def problems(text: str, file: str, first_line: int, field: str = "body",
             raw_html: bool = False) -> list[Problem]:
    """:func:`check` as problems, for ``text`` starting at ``first_line`` of ``file``."""
    excess = check(text, raw_html)
    if excess is None:
        return []
    return [Problem(file, first_line + excess.line, field, f"{field} {excess.message}",
                    excess.hint)]


def bracket_read_ahead(text: str) -> ReadAhead:
    """What Python-Markdown reads ahead from brackets, paragraph by paragraph. Counted
    generously: brackets inside code count too, and a link target holding a quote runs to
    the end of its paragraph (the rules for link titles may make it)."""
    chars, unclosed, worst, start = 0, [], (0, 0), 0
    for separator in [*_BLANK_LINE.finditer(text), None]:
        end = separator.start() if separator else len(text)
        paragraph = _paragraph_read_ahead(text, start, end)
        chars += paragraph[0]
        unclosed += paragraph[1]
        worst = max(worst, paragraph[2])
        start = separator.end() if separator else end
    return ReadAhead(chars, len(unclosed), min(unclosed) if unclosed else worst[1])


def _paragraph_read_ahead(text: str, start: int, end: int):
    """(characters read ahead, unclosed openers, (costliest read-ahead, its opener))."""
    chars, worst = 0, (0, start)
    squares: list[int] = []      # offsets of open '['
    parens: list[list] = []      # open '(' of link targets: [offset, holds a quote]
    index = start
    while index < end:
        char = text[index]
        if char == "\\" and text[index + 1:index + 2] in _ESCAPABLE:
            index += 2           # an escaped character opens and closes nothing
            continue
        ahead = None
        if char == "[":
            squares.append(index)
        elif char == "]" and squares:
            opened = squares.pop()
            ahead = index - opened
        elif char == "(" and (parens or text[index - 1:index] == "]"):
            parens.append([index, False])
        elif char == ")" and parens:
            opened, quoted = parens.pop()
            ahead = (end if quoted else index) - opened
            if quoted and parens:
                parens[-1][1] = True
        elif char in _QUOTES and parens:
            parens[-1][1] = True
        if ahead is not None:
            chars += ahead
            worst = max(worst, (ahead, opened))
        index += 1
    still_open = squares + [opened for opened, _ in parens]
    chars += sum(end - opened for opened in still_open)
    return chars, still_open, worst


def nesting_depth(line: str) -> int:
    """Levels a line opens before its text: quote markers, list markers and every four
    columns of indentation (counted generously: indentation may only be a code block)."""
    depth, columns, index = 0, 0, 0
    while index < len(line):
        char = line[index]
        if char in " \t":
            columns += 4 if char == "\t" else 1
        elif char == ">" or (char in "-*+" and line[index + 1:index + 2] in (" ", "\t")):
            depth += 1
        elif marker := _ORDERED_MARKER.match(line, index):
            depth += 1
            index = marker.end()
            continue
        else:
            break
        index += 1
    return depth + columns // 4


def tag_read_ahead(text: str) -> ReadAhead:
    """What the HTML parser reads ahead from tag openers ('<a', '</', '<!--', '<![', '<?',
    ...) to where each one ends. The search for each kind of end only moves forward, so
    counting is linear."""
    next_end: dict[str, int] = {}
    chars, unclosed, worst = 0, 0, (0, 0)
    for match in _TAG_OPENER.finditer(text):
        closer = _TAG_CLOSERS.get(match.group(1), ">")
        if next_end.get(closer, -1) < match.end():
            found = text.find(closer, match.end())
            next_end[closer] = len(text) if found < 0 else found
        ahead = next_end[closer] - match.start()
        chars += ahead
        unclosed += next_end[closer] == len(text)
        worst = max(worst, (ahead, match.start()))
    return ReadAhead(chars, unclosed, worst[1])
