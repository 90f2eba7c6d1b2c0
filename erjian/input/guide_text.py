"""The language of the site's own text, as validation reads it and the renderer fills it:
Markdown (guide text may hold HTML, notices may not), the links it makes, held to the link
policy, and the sandbox that fills guide text's {{ placeholders }}, with its bounds.

The input stage refuses what breaks these rules with a file and line; the renderer
(erjian.site.render) uses the same converters and sandbox, so what passed validation is
what is rendered.
"""

from __future__ import annotations

import datetime as dt
import threading
from html.parser import HTMLParser

from jinja2 import StrictUndefined, TemplateSyntaxError, nodes
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from erjian.core.errors import Problem
from erjian.input import markdown_limits
from erjian.input.link_policy import target_problem


WEEKDAYS = "一二三四五六日"


def cn_date(day: dt.date, weekday: bool = True) -> str:
    text = f"{day.year}年{day.month}月{day.day}日"
    return f"{text}（周{WEEKDAYS[day.weekday()]}）" if weekday else text


def cn_short_date(day: dt.date) -> str:
    return f"{day.month}月{day.day}日"


def markdown_to_html(text: str) -> str:
    """Guide text (raw HTML allowed) to HTML."""
    _refuse_over_limits(text, raw_html=True)
    return _convert(text)


def notice_html(text: str) -> str:
    """A notice body as Markdown renders it, before sanitizing: its '<' shown as text."""
    _refuse_over_limits(text, raw_html=False)
    return _convert(text.replace("<", "&lt;"))


_CONVERTERS = threading.local()


def _convert(text: str) -> str:
    """Markdown to HTML with one converter per thread, reset between texts (creating one
    costs more than converting a notice)."""
    converter = getattr(_CONVERTERS, "markdown", None)
    if converter is None:
        import markdown

        converter = _CONVERTERS.markdown = markdown.Markdown(
            extensions=["tables", "sane_lists"], output_format="html")
    return converter.reset().convert(text)


def _refuse_over_limits(text: str, raw_html: bool) -> None:
    """Validation refuses such text with its file and line (markdown_limits.problems); this
    guard only keeps any other path from rendering it for minutes."""
    excess = markdown_limits.check(text, raw_html)
    if excess is not None:
        raise ValueError(f"Markdown text refused before rendering: {excess.message}")


LINK_HINT = "link the official page itself, with https://"


# Attributes whose value a browser follows or fetches.
URL_ATTRIBUTES = frozenset({"href", "src", "action", "formaction", "data", "poster",
                            "background", "cite", "xlink:href"})


class _LinkTargets(HTMLParser):
    """Collects every URL attribute value of an HTML text, entities decoded as a browser
    decodes them, in document order."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.targets: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value and name in URL_ATTRIBUTES:
                self.targets.append(value)
            elif value and name == "srcset":
                self.targets.extend(c.split()[0] for c in value.split(",") if c.split())


def link_targets(html_text: str) -> list[str]:
    """Every link target (href, src, …) of ``html_text``."""
    parser = _LinkTargets()
    parser.feed(html_text)
    parser.close()
    return parser.targets


def refused_links(text: str, reviewed: tuple = (), guide: bool = False
                  ) -> list[tuple[int, str]]:
    """The links ``text`` renders to that the link policy (erjian.input.link_policy) refuses, each as
    (line offset within ``text`` of its URL, reason). Read from the HTML that Markdown
    produced, so a reference definition inside a quote or a list item, an autolink or raw
    HTML is policed like any other link. ``guide``: guide text (raw HTML allowed)."""
    rendered = markdown_to_html(text) if guide else notice_html(text)
    return refused_targets(text, link_targets(rendered), reviewed)


def refused_targets(text: str, targets: list[str], reviewed: tuple) -> list[tuple[int, str]]:
    """(line, reason) of each refused target, the line being where its URL text occurs in
    ``text`` (best effort: the first line when Markdown rewrote the URL)."""
    found, searched_from = [], {}
    for target in targets:
        reason = target_problem(target, reviewed)
        if reason is None:
            continue
        at = text.find(target, searched_from.get(target, 0))
        if at < 0:
            at = text.find(target)
        searched_from[target] = at + 1
        line = text.count("\n", 0, at) if at >= 0 else 0
        if (line, reason) not in found:
            found.append((line, reason))
    return sorted(found)


def guide_problems(text: str, file: str, first_line: int, reviewed: tuple = ()
                   ) -> list[Problem]:
    """What validation refuses in a block of guide text starting at ``first_line`` of
    ``file``: template tags it may not use and links the link policy refuses."""
    problems = [Problem(file, first_line + line, "body", f"link is refused: {reason}",
                        LINK_HINT)
                for line, reason in refused_links(text, reviewed, guide=True)]
    sandbox = guide_sandbox()
    try:
        tree = sandbox.parse(text)
        sandbox.compile(tree)    # unknown filters and tests are found here
    except TemplateSyntaxError as exc:
        return problems + [Problem(file, first_line + (exc.lineno or 1) - 1, "body",
                                   f"placeholder syntax error: {exc.message}",
                                   PLACEHOLDER_HINT)]
    except RecursionError:
        return problems + [nesting_problem(file)]
    return problems + [Problem(file, first_line + node.lineno - 1, "body", message,
                               PLACEHOLDER_HINT)
                       for node, message in forbidden_tags(tree)]


PLACEHOLDER_HINT = ("guide text is filled with placeholders only: {{ region_name }}, "
                    "{% if %} and {% for %} (see docs/editing.md)")


# Tags that would let guide text run other templates or itself (recursion without end).
_FORBIDDEN_TAGS = {nodes.Include: "include", nodes.Extends: "extends",
                   nodes.Import: "import", nodes.FromImport: "from … import",
                   nodes.Macro: "macro", nodes.CallBlock: "call"}


def forbidden_tags(tree: nodes.Template) -> list[tuple[nodes.Node, str]]:
    """The tags of a parsed guide text that guide text may not use, with why."""
    found = []
    for node in tree.find_all((*_FORBIDDEN_TAGS, nodes.For)):
        if isinstance(node, nodes.For):
            if node.recursive:
                found.append((node, "guide text may not use a recursive {% for %} loop"))
            elif any(True for _ in node.find_all(nodes.For)):
                found.append((node, "guide text may not put a {% for %} loop inside "
                                    "another (each loop runs at most "
                                    f"{MAX_GUIDE_RANGE:,} times; nested, they multiply)"))
            continue
        found.append((node, f"guide text may not use {{% {_FORBIDDEN_TAGS[type(node)]} %}}: "
                            "a guide section includes, imports or defines no other "
                            "template"))
    return found


def nesting_problem(file: str) -> Problem:
    return Problem(file, None, "body", "placeholders nested too deeply to be read",
                   PLACEHOLDER_HINT)


# Guide text needs small numbers and short strings; these bounds keep a placeholder from
# making a huge one (which would take all memory or time) instead of failing with a message.
MAX_GUIDE_RANGE = 1_000


MAX_GUIDE_LENGTH = 100_000


MAX_GUIDE_BITS = 1_024


GUIDE_FILTERS = frozenset({"cn_date", "cn_short_date", "default", "d", "e", "escape",
                           "first", "last", "join", "length", "count", "lower", "upper",
                           "capitalize", "title", "trim", "string", "int", "float", "round",
                           "abs", "sort", "unique", "min", "max", "sum", "list", "reverse",
                           "select", "reject", "selectattr", "rejectattr", "map",
                           "truncate", "striptags"})


def guide_range(*args) -> range:
    """``range`` for guide text: at most MAX_GUIDE_RANGE numbers."""
    numbers = range(*args)
    try:
        size = len(numbers)
    except OverflowError:
        size = None
    if size is None or size > MAX_GUIDE_RANGE:
        raise SecurityError(f"range{args} would make more than {MAX_GUIDE_RANGE:,} numbers; "
                            "guide text may not make more")
    return numbers


def guide_sandbox(**options) -> "GuideSandbox":
    sandbox = GuideSandbox(autoescape=True, undefined=StrictUndefined, **options)
    sandbox.filters.update(cn_date=cn_date, cn_short_date=cn_short_date)
    return sandbox


class GuideSandbox(SandboxedEnvironment):
    """The sandbox that fills guide text: ``range`` bounded, a few filters, no methods of
    strings, lists or dicts (``'x'.ljust(10**9)``, ``a.extend(a)``), ``*`` and ``**`` that
    refuse to make a huge number or string, and no ``%`` formatting of strings."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def __init__(self, **options):
        super().__init__(**options)
        self.globals["range"] = guide_range
        self.filters = {name: f for name, f in self.filters.items() if name in GUIDE_FILTERS}

    def is_safe_attribute(self, obj, attr, value) -> bool:
        if callable(value) and isinstance(obj, (str, bytes, list, dict, tuple, set,
                                                int, float)):
            return False
        return super().is_safe_attribute(obj, attr, value)

    def call_binop(self, context, operator, left, right):
        if operator == "%" and isinstance(left, str):
            raise SecurityError("guide text may not format strings with %")
        if _result_bits(operator, left, right) > MAX_GUIDE_BITS:
            raise SecurityError(f"{operator} makes a number of more than {MAX_GUIDE_BITS:,} "
                                "bits, too big a number for guide text")
        if operator == "*" and _repeated_length(left, right) > MAX_GUIDE_LENGTH:
            raise SecurityError(f"repeating makes a value longer than {MAX_GUIDE_LENGTH:,}, "
                                "too long for guide text")
        return super().call_binop(context, operator, left, right)


def _result_bits(operator: str, left, right) -> int:
    """About the bits of an integer ``left ** right`` or ``left * right`` (else 0; floats
    overflow with an error of their own)."""
    if not (type(left) is int and type(right) is int):
        return 0
    if operator == "**":
        return abs(left).bit_length() * right if right > 0 and abs(left) > 1 else 0
    return left.bit_length() + right.bit_length() if operator == "*" else 0


def _repeated_length(left, right) -> int:
    """Length of ``left * right`` when it repeats a string or sequence (else 0)."""
    for value, count in ((left, right), (right, left)):
        if isinstance(value, (str, list, tuple)) and isinstance(count, int):
            return len(value) * count
    return 0
