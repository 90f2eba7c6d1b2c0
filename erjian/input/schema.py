"""Self-validating field types, in the spirit of MkDocs' config options.

A :class:`Schema` is an ordered set of named :class:`Field` objects. ``Schema.check`` takes
one loaded mapping (a :class:`~erjian.input.yaml_loader.LineDict`), validates every key, and
records each problem with the file, line and dotted field name; it never stops at the first
problem. Each field also describes itself, which is what the editors' schema reference is
generated from.

One channel for failure: every ``check`` returns the validated value, or ``REJECTED`` after
adding its problems to the :class:`Context`. A simple field says what is wrong by raising
:class:`Invalid` from its ``value``; ``Field.check`` turns that into a problem at the field's
file and line, so nothing raised ever leaves a check.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass, field as dc_field, replace
from typing import Any, Callable

from erjian.core.errors import Problem
from erjian.core.limits import SUPPORTED_YEARS, YEARS_REASON
from erjian.input.link_policy import link_problem, reviewed_domain_problem
from erjian.input.characters import describe_char, excerpt, find_hidden, nfc
from erjian.input.yaml_loader import LineDict, LineList

MISSING = object()
REJECTED = object()   # what a check returns when it reported problems instead of a value


class Invalid(Exception):
    """Raised by a field's ``value`` (only there) for a value it rejects."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message, self.hint = message, hint


@dataclass
class Context:
    """Where problems of one file are collected."""

    file: str
    problems: list[Problem] = dc_field(default_factory=list)
    reviewed: tuple = ()   # official domains outside gov.cn (content/site.yaml), for links

    def error(self, line, field, message, hint=None):
        self.problems.append(Problem(self.file, line, field, message, hint))

    @property
    def failed(self) -> bool:
        return any(p.severity == "error" for p in self.problems)


def _type_name(value) -> str:
    if isinstance(value, (dict,)):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return f"'{str(value).lower()}' (true/false)"
    if isinstance(value, dt.date):
        return f"the date {value.isoformat()}"
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return f"'{excerpt(value, 40)}'"
    return excerpt(repr(value), 40)


class Field:
    kind = "value"

    def __init__(self, help: str = "", *, required: bool = False, default: Any = MISSING):
        self.help = help
        self.required = required
        self.default = default

    def check(self, value, ctx: Context, line: int, where: str = ""):
        """The validated value, or REJECTED with the problem added to ``ctx`` (at ``line``,
        under the dotted name ``where``)."""
        try:
            return self.value(value, ctx)
        except Invalid as exc:
            ctx.error(line, where or None, exc.message, exc.hint)
            return REJECTED

    def value(self, value, ctx: Context):
        """The validated value; raises Invalid saying what is wrong."""
        return value

    def describe(self) -> str:
        return self.kind


class Text(Field):
    """Text on one line unless ``multiline``; control, bidirectional and invisible characters
    are refused either way (characters.hidden_pattern), with the character and its position. The
    value is given in NFC, also when a YAML escape wrote it."""

    kind = "text"

    def __init__(self, help="", *, max_length: int = 2000, pattern: str | None = None,
                 pattern_hint: str | None = None, multiline: bool = False,
                 padded: bool = True, **kw):
        super().__init__(help, **kw)
        self.padded = padded
        self.max_length = max_length
        self.pattern = re.compile(pattern) if pattern else None
        self.pattern_hint = pattern_hint
        self.multiline = multiline

    def value(self, value, ctx):
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise Invalid(f"expected text, got {_type_name(value)}")
        text = nfc(str(value).strip())
        if not self.padded and text and str(value).strip() != str(value):
            hidden_text(nfc(str(value)), self.multiline)   # a line break is named as such
            raise Invalid(f"'{excerpt(value)}' has spaces around it (a full-width one is "
                          "easy to miss); a name is written alone", f"write it as: {excerpt(text)}")
        if not text:
            raise Invalid("must not be empty")
        if len(text) > self.max_length:
            raise Invalid(f"is {len(text)} characters long; at most {self.max_length} allowed")
        hidden_text(text, self.multiline)
        if self.pattern and not self.pattern.fullmatch(text):
            raise Invalid(f"'{excerpt(text)}' is not allowed here", self.pattern_hint)
        return text


def hidden_text(text: str, multiline: bool = False) -> None:
    """Raise Invalid naming the first refused character of a text value and where it is."""
    index = find_hidden(text, multiline)
    if index is None:
        return
    char = text[index]
    if char in "\t\n":
        what = "a tab" if char == "\t" else "a line break"
        raise Invalid(f"has {what} at character {index + 1}; this text is shown on one line",
                      "write it on one line")
    line = text.count("\n", 0, index)
    column = index - text.rfind("\n", 0, index)
    where = f"line {line + 1} of the text, character {column}" if line else (
        f"character {column}")
    raise Invalid(f"contains {describe_char(char)} at {where}; invisible and "
                  "direction-changing characters can make one text look like another",
                  "delete it (an escape such as \"\\u202e\" in quotes writes one too)")


SLUG_PATTERN = r"[a-z0-9]+(?:-[a-z0-9]+)*"
SLUG_RULE = "lowercase latin letters, digits and single hyphens"

class Slug(Text):
    kind = "slug"

    def __init__(self, help="", **kw):
        super().__init__(help, max_length=60, pattern=SLUG_PATTERN,
                         pattern_hint="use lowercase latin letters, digits and single hyphens, "
                                      "e.g. 'songjiang' or 'qiaoxi-shijiazhuang'", **kw)


class Integer(Field):
    kind = "integer"

    def __init__(self, help="", *, minimum: int | None = None, maximum: int | None = None, **kw):
        super().__init__(help, **kw)
        self.minimum, self.maximum = minimum, maximum

    def value(self, value, ctx):
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid(f"expected a whole number, got {_type_name(value)}")
        if self.minimum is not None and value < self.minimum:
            raise Invalid(f"{value} is below the minimum {self.minimum}")
        if self.maximum is not None and value > self.maximum:
            raise Invalid(f"{value} is above the maximum {self.maximum}")
        return value

    def describe(self):
        bounds = f" {self.minimum}–{self.maximum}" if self.minimum is not None else ""
        return f"integer{bounds}"


class Boolean(Field):
    kind = "true/false"

    def value(self, value, ctx):
        if not isinstance(value, bool):
            raise Invalid(f"expected true or false, got {_type_name(value)}")
        return value


class Date(Field):
    kind = "date (YYYY-MM-DD)"

    def value(self, value, ctx):
        if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
            if isinstance(value, str):
                raise Invalid(f"'{excerpt(value)}' is not a date in the form YYYY-MM-DD",
                              "write it like 2026-05-23, without quotes")
            raise Invalid(f"expected a date (YYYY-MM-DD), got {_type_name(value)}")
        if value.year not in SUPPORTED_YEARS:
            raise Invalid(f"{value.isoformat()} is outside the years this site covers "
                          f"({SUPPORTED_YEARS[0]}–{SUPPORTED_YEARS[-1]})",
                          YEARS_REASON if value.year > SUPPORTED_YEARS[-1] else None)
        return value


class Year(Integer):
    """A year within ``years`` (from ``minimum`` on, when given), saying why when later."""

    def __init__(self, help="", *, years: range = SUPPORTED_YEARS, minimum: int | None = None,
                 **kw):
        super().__init__(help, minimum=max(years[0], minimum or years[0]),
                         maximum=years[-1], **kw)

    def value(self, value, ctx):
        try:
            return super().value(value, ctx)
        except Invalid:
            if isinstance(value, bool) or not isinstance(value, int):
                raise
            raise Invalid(f"{value} is outside the years this site covers "
                          f"({self.minimum}–{self.maximum})",
                          YEARS_REASON if value > self.maximum else None) from None


LINK_HINT = ("give the https:// address of the page itself; a page without one, or on a site "
             "that imitates an official one, cannot be linked (name it in 'title' instead)")


class Url(Text):
    """A web address; with ``policy`` (the default) it must pass the link policy for every
    page a reader may follow (erjian.input.link_policy.link_problem). Official channels pass the
    stricter policy in resolve; the site's own base_url has its own rule."""

    kind = "URL (https://…)"

    def __init__(self, help="", *, policy: bool = True, **kw):
        super().__init__(help, **kw)
        self.policy = policy

    def value(self, value, ctx):
        text = super().value(value, ctx)
        if not re.fullmatch(r"https?://[A-Za-z0-9.-]+(?::\d+)?(?:/[^\s\"'<>]*)?", text):
            raise Invalid(f"'{excerpt(text)}' is not a web address",
                          "give the full address starting with https://")
        reason = link_problem(text, ctx.reviewed) if self.policy else None
        if reason:
            raise Invalid(reason, LINK_HINT)
        return text


class Domain(Text):
    """A reviewed official domain: a bare registrable domain, never a public suffix."""

    def __init__(self, help="", **kw):
        super().__init__(help, max_length=253, pattern=r"[a-z0-9-]+(\.[a-z0-9-]+)+",
                         pattern_hint="a bare domain such as 'xjrsks.com.cn'", **kw)

    def value(self, value, ctx):
        text = super().value(value, ctx)
        reason = reviewed_domain_problem(text)
        if reason:
            raise Invalid(reason, "list the official site's own domain, e.g. 'xjrsks.com.cn'")
        return text


class Choice(Field):
    def __init__(self, choices: dict[str, str], help="", **kw):
        super().__init__(help, **kw)
        self.choices = choices

    def value(self, value, ctx):
        if isinstance(value, str) and value in self.choices:
            return value
        hint = _did_you_mean(str(value), self.choices) or (
            "one of: " + ", ".join(self.choices))
        raise Invalid(f"{_type_name(value)} is not one of the allowed values", hint)

    def describe(self):
        return "one of " + ", ".join(f"`{k}`" for k in self.choices)


class ListOf(Field):
    def __init__(self, item: Field, help="", *, min_items: int = 0, max_items: int = 10_000,
                 unique: bool = False, **kw):
        super().__init__(help, **kw)
        self.item, self.min_items, self.max_items, self.unique = item, min_items, max_items, unique

    def check(self, value, ctx, line, where=""):
        problem = self._shape_problem(value)
        if problem:
            ctx.error(line, where or None, *problem)
            return REJECTED
        result, failed = [], False
        for index, item in enumerate(value):
            item_line = value.line_of(index) if isinstance(value, LineList) else line
            item_where = f"{where}[{index + 1}]"
            checked = self.item.check(item, ctx, item_line, item_where)
            if checked is REJECTED:
                failed = True
            elif self.unique and checked in result:
                ctx.error(item_line, item_where, f"{_type_name(item)} is listed twice",
                          "remove the repeated item")
                failed = True
            else:
                result.append(checked)
        return REJECTED if failed else result

    def _shape_problem(self, value) -> tuple[str, str | None] | None:
        """(message, hint) when ``value`` is no list or has too few or too many items."""
        if not isinstance(value, list):
            return (f"expected a list, got {_type_name(value)}",
                    "write the items one per line, each starting with '- '")
        if len(value) < self.min_items:
            return f"needs at least {self.min_items} item(s), has {len(value)}", None
        if len(value) > self.max_items:
            return f"has {len(value)} items; at most {self.max_items} allowed", None
        return None

    def describe(self):
        return f"list of {self.item.describe()}"


class Record(Field):
    """A nested mapping validated by its own schema and turned into ``build(values)``."""

    def __init__(self, schema: "Schema", help="", **kw):
        super().__init__(help, **kw)
        self.schema = schema

    def check(self, value, ctx, line, where=""):
        values = self.schema.check(value, ctx, line, prefix=f"{where}." if where else "")
        return REJECTED if values is REJECTED else self.schema.build(values)

    def describe(self):
        return f"mapping ({self.schema.name})"


class Schema:
    """Named fields for one kind of mapping, plus an optional cross-field check."""

    def __init__(self, name: str, fields: dict[str, Field], *,
                 build: Callable[[dict], Any] = dict,
                 cross_check: Callable[[dict, Context, LineDict], None] | None = None,
                 help: str = ""):
        self.name, self.fields, self.build, self.cross_check, self.help = (
            name, fields, build, cross_check, help)

    def check(self, data, ctx: Context, line: int = 1, prefix: str = ""):
        """Validated values by field name, or REJECTED if anything was wrong (every problem
        added to ``ctx``). ``line`` is where ``data`` starts when it carries no lines."""
        if not isinstance(data, dict):
            got = "text" if isinstance(data, str) else _type_name(data)  # may span lines
            ctx.error(line, prefix[:-1] or None,
                      f"expected a mapping of {self.name} fields, got {got}",
                      "write 'key: value' lines")
            return REJECTED
        before = len([p for p in ctx.problems if p.severity == "error"])
        lines = data.line_of if isinstance(data, LineDict) else (lambda key: line)
        for key in data:
            if key not in self.fields:
                hint = _did_you_mean(str(key)[:100], self.fields) or (
                    "known fields: " + ", ".join(self.fields))
                ctx.error(lines(key), prefix + excerpt(key, 40),
                          f"unknown field '{excerpt(key, 40)}' in {self.name}", hint)
        values = {}
        for name, spec in self.fields.items():
            where = prefix + name
            if name not in data or data[name] is None:
                if spec.required:
                    ctx.error(getattr(data, "line", line), where,
                              f"required field '{name}' is missing from {self.name}",
                              spec.help or None)
                elif spec.default is not MISSING:
                    values[name] = spec.default() if callable(spec.default) else spec.default
                else:
                    values[name] = None
                continue
            checked = spec.check(data[name], ctx, lines(name), where)
            if checked is not REJECTED:
                values[name] = checked
        after = len([p for p in ctx.problems if p.severity == "error"])
        if after != before:
            return REJECTED
        if self.cross_check:
            start = len(ctx.problems)
            self.cross_check(values, ctx, data)
            ctx.problems[start:] = [replace(p, field=prefix + (p.field or ""))
                                    for p in ctx.problems[start:]]
            if len([p for p in ctx.problems if p.severity == "error"]) != before:
                return REJECTED
        return values


def _did_you_mean(word: str, options) -> str | None:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None
