"""Rendering: Jinja2 templates (autoescaped) and the shared guide text from
``content/guide`` turned into page files.

Shared guide text is Markdown with ``{{ placeholders }}``: it is converted to HTML once, compiled
once as a sandboxed template, and only filled per page, so 19,000 pages do not mean 19,000
Markdown conversions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from jinja2 import (Environment, FileSystemLoader, FunctionLoader, StrictUndefined,
                    TemplateError, TemplateSyntaxError, meta, select_autoescape)
from markupsafe import Markup

from erjian.core import signed
from erjian.core.errors import Problem, SiteError
from erjian.core.memo import library_version
from erjian.input import models as m
from erjian.input.guide_text import (LINK_HINT, PLACEHOLDER_HINT, cn_date, cn_short_date,
                                     forbidden_tags, guide_sandbox, link_targets,
                                     markdown_to_html, nesting_problem, notice_html,
                                     refused_targets)
from erjian.input.link_policy import target_problem

# Only this site's own script and stylesheet run; no inline script (JSON-LD blocks are data,
# not executed), nothing from elsewhere, no forms, no plugins, no <base> rewriting.
CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; "
                           "img-src 'self'; connect-src 'self'; base-uri 'none'; "
                           "form-action 'none'; object-src 'none'")

# The badge text of each stage's status. Each badge carries its labels (data-labels), so the
# browser-side refresh (site.js) never keeps a copy of its own.
STATUS_LABELS = {
    "registration": {"upcoming": "未开始", "open": "报名中", "past": "已截止"},
    "admit_card": {"upcoming": "未开始", "open": "可打印", "past": "已截止"},
    "exam": {"upcoming": "未开始", "open": "考试中", "past": "已结束"},
    "release": {"upcoming": "尚未开始", "open": "预计窗口内", "announced": "已公布日期",
                "past": "已过"},
    "pass_marks": {"upcoming": "未公布", "open": "公布中", "past": "已公布"},
    "review": {"upcoming": "未开始", "open": "可申请", "past": "已截止"},
    "audit": {"upcoming": "未开始", "open": "审核中", "past": "已结束"},
    "certificate": {"upcoming": "未开始", "open": "发放中", "past": "已开始发放"},
}
STATUS_ORDER = ("upcoming", "open", "past", "announced")
BADGE_LABELS = {key: "|".join(labels.get(s, "") for s in STATUS_ORDER)
                for key, labels in STATUS_LABELS.items()}
MILESTONE_NAMES = {key: kind.name for key, kind in m.STAGES.items()}


def _placeholders(env, source: str) -> tuple:
    return tuple(sorted(meta.find_undeclared_variables(env.parse(source))))


class RefusedLink(ValueError):
    """A link the policy refuses reached the renderer: (line offset within the text, reason).
    Validation refuses such a file first, with its line; this is the last guard."""


@dataclass(frozen=True)
class CompiledSection:
    slug: str
    title: str
    template: object
    file: str
    uses: tuple = ()


class Renderer:
    """Holds the compiled templates; ``page`` renders one page to text."""

    def __init__(self, templates_dir: Path, site: m.SiteConfig, sections,
                 cache_dir: Path | None = None, memo=None, bytecode=None):
        """``bytecode``: a Jinja bytecode cache to use instead of the signed one under
        ``cache_dir`` (the preview keeps one in memory across its generations)."""
        self.site = site
        self.memo = memo
        if bytecode is None and cache_dir is not None:
            bytecode = signed.bytecode_cache(Path(cache_dir) / "jinja")
        self.env = Environment(
            loader=FileSystemLoader(str(templates_dir)), bytecode_cache=bytecode,
            autoescape=select_autoescape(["html", "xml"], default_for_string=True),
            undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
            keep_trailing_newline=True)
        self.env.filters.update(cn_date=cn_date, cn_short_date=cn_short_date)
        self.env.globals.update(url=self.url, abs_url=self.abs_url, site=site,
                                status_labels=STATUS_LABELS, badge_labels=BADGE_LABELS,
                                milestone_names=MILESTONE_NAMES,
                                models=m, breadcrumb_ld=self.breadcrumb_ld,
                                milestones_json=milestones_json,
                                csp=Markup(CONTENT_SECURITY_POLICY))
        self._base_path, self._base_url = site.base_path, site.base_url
        self.env.filters["jsonld"] = json_ld
        self._raw_sections = sections
        self._sections = None

    def url(self, path: str = "") -> str:
        """Site-absolute URL for a page path such as 'xinjiang/tacheng/jidian/'."""
        return self._base_path + path.lstrip("/")

    def abs_url(self, path: str = "") -> str:
        """Absolute URL (scheme and host included) for canonical links, feeds and calendars."""
        return self._base_url + path.lstrip("/")

    def breadcrumb_ld(self, crumbs, page_path: str) -> dict:
        """schema.org BreadcrumbList for the (label, path or None) crumbs of a page."""
        return {"@context": "https://schema.org", "@type": "BreadcrumbList",
                "itemListElement": [
                    {"@type": "ListItem", "position": index, "name": label,
                     "item": self.abs_url(page_path if path is None else path)}
                    for index, (label, path) in enumerate(crumbs, start=1)]}

    def _compile_sections(self, sections) -> list[CompiledSection]:
        """Markdown → HTML → sandboxed template, each step kept between builds (the memo for
        the HTML and the placeholders used, Jinja's bytecode cache for the template)."""
        sources = {}
        sandbox = guide_sandbox(loader=FunctionLoader(lambda name: sources.get(name)),
                                bytecode_cache=self.env.bytecode_cache)
        memo = self.memo
        compiled, problems = [], []
        for section in sections:
            source = (memo.get(("markdown", section.body, library_version("markdown")),
                               lambda body=section.body: markdown_to_html(body))
                      if memo else markdown_to_html(section.body))
            sources[section.slug] = source
            refused = self._refused_in_guide(sandbox, section, source)
            if refused:
                problems.extend(refused)
                continue
            try:
                template = sandbox.get_template(section.slug)
                uses = (memo.get(("uses", source), lambda: _placeholders(sandbox, source))
                        if memo else _placeholders(sandbox, source))
            except TemplateSyntaxError as exc:
                problems.append(Problem(section.file, exc.lineno, None,
                                        f"placeholder syntax error: {exc.message}",
                                        PLACEHOLDER_HINT))
                continue
            except RecursionError:
                problems.append(nesting_problem(section.file))
                continue
            compiled.append(CompiledSection(section.slug, section.title, template,
                                            section.file, uses))
        if problems:
            raise SiteError(problems)
        return compiled

    def _refused_in_guide(self, sandbox, section, source: str) -> list[Problem]:
        """What validation refuses in guide text (``guide_problems``), checked again on the
        HTML about to be compiled, whatever path it came by (lines unknown here)."""
        problems = [Problem(section.file, None, "body", f"link is refused: {reason}",
                            LINK_HINT)
                    for reason in {target_problem(t, self.site.official_domains)
                                   for t in link_targets(source)} - {None}]
        try:
            tree = sandbox.parse(source)
        except (TemplateSyntaxError, RecursionError):
            return problems   # reported with the compilation's own message
        return problems + [Problem(section.file, None, "body", message, PLACEHOLDER_HINT)
                           for _, message in forbidden_tags(tree)]

    @property
    def sections(self) -> list[CompiledSection]:
        """The shared guide text, compiled on first use (Markdown is not even imported by a
        build that renders no guide page)."""
        if self._sections is None:
            self._sections = self._compile_sections(self._raw_sections)
        return self._sections

    def fill_sections(self, values: dict, cache: dict | None = None
                      ) -> list[tuple[CompiledSection, Markup]]:
        """Each section filled with ``values``; with a ``cache``, a section is rendered once
        per distinct combination of the placeholders it actually uses."""
        filled = []
        for section in self.sections:
            key = ("section", section.slug, *(values.get(n) for n in section.uses))
            if cache is not None and key in cache:
                filled.append((section, cache[key]))
                continue
            try:
                html = Markup(section.template.render(values))
            except (TemplateError, OverflowError, RecursionError) as exc:
                raise SiteError([_fill_problem(section.file, exc)]) from None
            if cache is not None:
                cache[key] = html
            filled.append((section, html))
        return filled

    def notice_body(self, notice: m.Notice) -> Markup:
        """A notice's body as published. A link the policy refuses fails the build here
        too, should validation ever have let one through."""
        try:
            return render_markdown_body(notice.body, self.site.official_domains)
        except RefusedLink as exc:
            line, reason = exc.args
            raise SiteError([Problem(notice.file, notice.line + line, "body",
                                     f"link is refused: {reason}", LINK_HINT)]) from None

    def page(self, template: str, **context) -> str:
        try:
            return self.env.get_template(template).render(**context)
        except TemplateSyntaxError as exc:
            raise SiteError([Problem(f"templates/{exc.name or template}", exc.lineno, None,
                                     f"template syntax error: {exc.message}")]) from None
        except TemplateError as exc:
            raise SiteError([Problem(f"templates/{template}", None, None,
                                     f"template failed: {exc}")]) from None


def _fill_problem(file: str, exc: Exception) -> Problem:
    """Why a guide section could not be filled, as a problem of its file."""
    if isinstance(exc, RecursionError):
        return Problem(file, None, None, "cannot be filled: its placeholders repeat without "
                       "end", PLACEHOLDER_HINT)
    if isinstance(exc, OverflowError):
        return Problem(file, None, None, f"cannot be filled: a number is too big ({exc})",
                       PLACEHOLDER_HINT)
    return Problem(file, None, None, f"cannot be filled: {exc}",
                   "use only the placeholders listed in docs/editing.md")


NOTICE_TAGS = {"p", "br", "strong", "em", "a", "ul", "ol", "li", "blockquote", "code",
               "pre", "h2", "h3", "h4", "table", "thead", "tbody", "tr", "th", "td", "hr"}


@lru_cache(maxsize=256)
def render_markdown_body(text: str, reviewed: tuple = ()) -> Markup:
    """A notice body: Markdown from an editor. Raw HTML is shown as text, and the result
    passes an allow-list sanitizer (nh3): only plain formatting and links to web addresses
    or to this site survive, every link with rel="noopener noreferrer"; a link the policy
    refuses (``reviewed``: the reviewed official domains) raises RefusedLink. Kept per
    body: a notice appears on its own page and in several feeds."""
    import nh3

    html = nh3.clean(notice_html(text), tags=NOTICE_TAGS, attributes={"a": {"href", "title"}},
                     url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer")
    refused = refused_targets(text, link_targets(html), reviewed)
    if refused:
        raise RefusedLink(*refused[0])
    return Markup(html)


def json_ld(data) -> Markup:
    """JSON for a <script type="application/ld+json"> block: UTF-8 text rather than \\u
    escapes (half the bytes for Chinese), with <, > and & escaped so it cannot close the
    script element."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return Markup(text.replace("&", "\\u0026").replace("<", "\\u003c")
                  .replace(">", "\\u003e"))


def milestones_json(view) -> str:
    """The milestones of every cycle a region's pages show, earliest exam first, as compact
    JSON for the browser-side next step (site.js): key, first, last, fixed (1 when the
    dates are not an estimate: an announced release, a recorded stage), provisional, and the
    name of a stage other than exam, release and review."""
    return json.dumps([[ms.key, ms.first.isoformat(), ms.last.isoformat(),
                        int(not ms.estimated), int(ms.provisional)]
                       + ([] if ms.key in ("exam", "release", "review")
                          else [MILESTONE_NAMES[ms.key]])
                       for cycle in view.chronological for ms in cycle.milestones],
                      ensure_ascii=False, separators=(",", ":"))
