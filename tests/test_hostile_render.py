"""Hostile notice bodies and guide text: links are policed after Markdown has parsed them,
whatever construct holds them, and guide placeholders that would recurse, include other
templates or make huge values fail with the file's name (and line) instead of a traceback.
Each case fails `build` and `check` alike and leaves the published output as it was."""

import shutil

import pytest

from conftest import copy_site, run_cli, tree_digest
from erjian.core.errors import SiteError
from erjian.input.models import SiteConfig
from erjian.site import render

NOTICE_HEAD = "---\ntitle: 安徽省2026年二建成绩发布\ndate: 2026-08-10\nkind: general\n" \
              "provinces: [anhui]\n---\n"
BODY_LINE = 7      # the first line of a body after NOTICE_HEAD
GUIDE_HEAD = "---\ntitle: 其他\norder: 70\n---\n"
GUIDE_LINE = 5

NOTICE_CASES = [
    # (id, body, expected fragments: each with the body's line offset of the URL)
    ("reference definition inside a quote",
     "请[点这里][1]查询。\n\n> [1]: http://evil.example.com/phish\n",
     [(2, "'http://evil.example.com/phish' is not https://")]),
    ("reference definition inside a list item",
     "请[点这里][1]查询。\n\n- 说明\n- [1]: //evil.example.com/\n",
     [(3, "'//evil.example.com/' starts with '//'")]),
    ("look-alike reference inside a nested quote",
     "[查分][x]\n\n> 引用\n>\n> > [x]: https://www.apta.gov.cn.cx-query.com/login\n",
     [(4, "contains 'gov.cn' but belongs to another domain")]),
    ("reference definition indented inside an ordered list",
     "1. 第一步\n\n    [官网][g]\n\n    [g]: https://apta-gov-cn.com/\n",
     [(4, "imitates 'gov.cn'")]),
    ("javascript link with an entity in its scheme",
     "[点这里](java&#115;cript:alert(1))\n",
     [(0, "uses javascript:")]),
    ("two refused links on their own lines",
     "[甲](http://a.example.com/)\n\n[乙](https://b.gov.cn.example.com/)\n",
     [(0, "'http://a.example.com/' is not https://"),
      (2, "contains 'gov.cn' but belongs to another domain")]),
]

GUIDE_CASES = [
    # (id, body, expected fragments); a problem with a line is found by `check` as well,
    # one found only when the text is filled (no line) by the build alone
    ("including itself", "第一段。\n\n{% include '70-extra' %}\n",
     ["content/guide/70-extra.md:7: [body] guide text may not use {% include %}"]),
    ("extends", "{% extends '20-query-steps' %}\n",
     ["content/guide/70-extra.md:5: [body] guide text may not use {% extends %}"]),
    ("import", "说明\n{% import '20-query-steps' as q %}\n",
     ["content/guide/70-extra.md:6: [body] guide text may not use {% import %}"]),
    ("recursive macro", "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}\n",
     ["content/guide/70-extra.md:5: [body] guide text may not use {% macro %}"]),
    ("recursive loop",
     "{% for x in [[1]] recursive %}{{ loop(x) }}{% endfor %}\n",
     ["content/guide/70-extra.md:5: [body] guide text may not use a recursive {% for %}"]),
    ("nested loops that multiply their bounded ranges",
     "{% for a in range(1000) %}{% for b in range(1000) %}{% for c in range(1000) %}"
     "{% endfor %}{% endfor %}{% endfor %}\n",
     ["content/guide/70-extra.md:5: [body] guide text may not put a {% for %} loop inside "
      "another"]),
    ("a range of a billion numbers", "{{ range(10**9)|list }}\n",
     ["content/guide/70-extra.md: cannot be filled: range(1000000000,) would make more "
      "than 1,000 numbers"]),
    ("a range too big for Python", "{{ range(99999999999999999999999)|length }}\n",
     ["content/guide/70-extra.md: cannot be filled: range(99999999999999999999999,) would"]),
    ("a huge power", "{{ 2 ** 1000000000 }}\n",
     ["content/guide/70-extra.md: cannot be filled:", "too big a number"]),
    ("a huge repeated string", "{{ 'x' * 10**9 }}\n",
     ["content/guide/70-extra.md: cannot be filled: repeating makes a value longer"]),
    ("a string method making a huge string", "{{ 'x'.ljust(10**9) }}\n",
     ["content/guide/70-extra.md: cannot be filled:", "unsafe"]),
    ("a filter making a huge string", "{{ 'x'|center(10**9) }}\n",
     ["content/guide/70-extra.md:5: [body] placeholder syntax error: No filter named "
      "'center'"]),
    ("a plain-http link in raw HTML", "说明。\n\n<a href=\"http://evil.example.com/\">官网</a>\n",
     ["content/guide/70-extra.md:7: [body] link is refused: 'http://evil.example.com/' is "
      "not https://"]),
    ("a Markdown link to a look-alike", "见[官网](https://www.g0v.cn/)。\n",
     ["content/guide/70-extra.md:5: [body] link is refused:", "digits for letters"]),
]


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    base = tmp_path_factory.mktemp("published")
    site = copy_site(base / "site", provinces=("anhui",))
    out = base / "out"
    assert run_cli("--root", str(site), "--out", str(out), "--today", "2026-06-15")[0] == 0
    return site, out


def fails_clearly(published, tmp_path, path: str, text: str) -> tuple[str, str]:
    """stderr of `build` and of `check` with ``text`` written at ``path``; asserts that the
    build fails without a traceback and publishes nothing, and that check answers without
    a traceback."""
    site = tmp_path / "site"
    shutil.copytree(published[0], site, ignore=shutil.ignore_patterns(".cache"))
    out = tmp_path / "out"
    shutil.copytree(published[1], out)
    before = tree_digest(out)
    (site / path).write_text(text, encoding="utf-8")
    code, stdout, stderr = run_cli("--root", str(site), "--out", str(out), "--today",
                                   "2026-06-16")
    assert code == 1, stdout
    assert "Traceback" not in stderr and "nothing was published" in stderr
    assert tree_digest(out) == before
    check_code, _, check_err = run_cli("--root", str(site), "check", "--today", "2026-06-16")
    assert check_code in (0, 1) and "Traceback" not in check_err
    return stderr, check_err


@pytest.mark.parametrize("body, expected", [c[1:] for c in NOTICE_CASES],
                         ids=[c[0] for c in NOTICE_CASES])
def test_refused_links_in_any_construct_are_reported_with_their_line(published, tmp_path,
                                                                      body, expected):
    for stderr in fails_clearly(published, tmp_path, "content/notices/bad.md",
                                NOTICE_HEAD + body):
        lines = stderr.splitlines()
        for offset, reason in expected:
            where = f"content/notices/bad.md:{BODY_LINE + offset}: [body] link is refused: "
            assert any(where in line and reason in line for line in lines), stderr


@pytest.mark.parametrize("body, expected", [c[1:] for c in GUIDE_CASES],
                         ids=[c[0] for c in GUIDE_CASES])
@pytest.mark.slow
def test_guide_text_that_would_recurse_or_explode_fails_with_a_message(published, tmp_path,
                                                                       body, expected):
    build_err, check_err = fails_clearly(published, tmp_path, "content/guide/70-extra.md",
                                         GUIDE_HEAD + body)
    for fragment in expected:
        assert fragment in build_err, build_err
        if fragment.startswith("content/guide/70-extra.md:") and "[body]" in fragment:
            assert fragment in check_err, check_err


def test_the_renderer_refuses_a_link_that_validation_let_through():
    """Defence in depth: a notice that reached the renderer without validation still
    cannot publish a refused link."""
    body = "[点这里][1]\n\n> [1]: http://evil.example.com/phish\n"
    with pytest.raises(render.RefusedLink) as caught:
        render.render_markdown_body(body)
    assert caught.value.args == (2, "'http://evil.example.com/phish' is not https://; pages "
                                    "link only over https, so that nobody on the way can "
                                    "change what the reader sees")

    class Notice:
        file, line = "content/notices/bad.md", 7

    Notice.body = body
    site = SiteConfig("站", "https://erjian.example.org/", "说明", ())
    renderer = render.Renderer(copy_site.__globals__["ROOT"] / "templates", site, [])
    with pytest.raises(SiteError) as failed:
        renderer.notice_body(Notice)
    problem = failed.value.problems[0]
    assert (problem.file, problem.line, problem.field) == ("content/notices/bad.md", 9, "body")
    assert "is not https://" in problem.message


def test_allowed_links_in_quotes_and_lists_are_published(published, tmp_path):
    site = tmp_path / "site"
    shutil.copytree(published[0], site, ignore=shutil.ignore_patterns(".cache"))
    (site / "content/notices/good.md").write_text(
        NOTICE_HEAD + "[官网][1]、[本站](/anhui/)、[邮件](mailto:a@example.com)\n\n"
        "> [1]: https://www.apta.gov.cn/\n", encoding="utf-8")
    out = tmp_path / "out"
    code, _, stderr = run_cli("--root", str(site), "--out", str(out), "--today", "2026-06-16")
    assert code == 0, stderr
    page = (out / "notices/good/index.html").read_text(encoding="utf-8")
    assert 'href="https://www.apta.gov.cn/"' in page and 'href="/anhui/"' in page
