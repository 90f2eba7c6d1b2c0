"""Markdown stays linear (issue 9): text whose rendering would grow with the square of its
size, or recurse without end, is refused before rendering with its file and line."""

import inspect
import random
import sys
import time

import markdown.inlinepatterns
import pytest

from conftest import run_cli
from erjian.input import guide_text, markdown_limits
from erjian.input.markdown_limits import check
from erjian.site import render

NOTICE_HEAD = "---\ntitle: 测试\ndate: 2026-08-01\nkind: general\nprovinces: [anhui]\n---\n"
BODY_LINE = NOTICE_HEAD.count("\n") + 1

# Units that, repeated, made Python-Markdown (or its HTML parser) slow or crash.
PATHOLOGICAL = {
    "open-brackets": "[",
    "brackets-in-words": "a[b ",
    "image-openers": "![",
    "unclosed-link-targets": "[a](",
    "unclosed-reference": "[a][",
    "nested-list-markers": "- ",
    "unclosed-tags": "<a ",
    "entities": "&lt;",
    "code-span-runs": "``a`",
    "headings": "#\n",
    "deep-quotes": ">",
}


def repeat(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


class ReadAheadCounter:
    """Counts the characters Python-Markdown's link parsing reads: the steps of the loops
    in LinkInlineProcessor.getText and .getLink (shared by references and images)."""

    def __init__(self):
        cls = markdown.inlinepatterns.LinkInlineProcessor
        self.step_line = {}
        for method in (cls.getText, cls.getLink):
            lines, first = inspect.getsourcelines(method)
            steps = [first + i for i, line in enumerate(lines) if "c = data[pos]" in line]
            assert len(steps) == 1, f"{method.__name__} changed: update this counter"
            self.step_line[method.__code__] = steps[0]

    def read(self, function, *args) -> int:
        chars = 0

        def local(frame, event, arg):
            nonlocal chars
            if event == "line" and frame.f_lineno == self.step_line[frame.f_code]:
                chars += 1
            return local

        previous = sys.gettrace()
        sys.settrace(lambda frame, event, arg:
                     local if frame.f_code in self.step_line else None)
        try:
            function(*args)
        finally:
            sys.settrace(previous)
        return chars


def test_fifty_kb_pathological_notices_are_refused_quickly_with_file_and_line(site):
    notices = site / "content" / "notices"
    for name, unit in PATHOLOGICAL.items():
        (notices / f"{name}.md").write_text(NOTICE_HEAD + repeat(unit, 50_000),
                                            encoding="utf-8")
    started = time.perf_counter()
    code, _, stderr = run_cli("--root", str(site), "check")
    elapsed = time.perf_counter() - started
    assert code == 1
    for name in PATHOLOGICAL:
        assert (f"content/notices/{name}.md:{BODY_LINE}: [body] body is 50,000 characters "
                "long; the limit is 5,000") in stderr
    assert "Traceback" not in stderr
    assert elapsed < 5, elapsed   # generous: rendering one of them took minutes


def test_pathological_guide_text_is_refused_by_the_build(site, tmp_path):
    (site / "content" / "guide" / "70-extra.md").write_text(
        "---\ntitle: 其他\norder: 70\n---\n说明。\n\n" + repeat("<a ", 3_000),
        encoding="utf-8")
    code, _, stderr = run_cli("--root", str(site), "--out", str(tmp_path / "out"))
    assert code == 1
    assert "content/guide/70-extra.md:7: [body] body has HTML tags" in stderr
    assert "&lt;" in stderr     # the hint says how to write '<' as text
    assert not (tmp_path / "out" / "index.html").exists()


@pytest.mark.parametrize("text, line", [
    ("第一段。\n\n" + "[" * 4_000, 2),
    ("第一段。\n第二行\n" + repeat("a[b ", 4_000), 2),
    ("[" * 2_000 + "]" * 2_000, 0),                     # closed, but nested 2,000 deep
    ("链接：\n" + repeat("[a](", 4_000), 1),
    ("题目\n\n" + repeat('[a]("x) ', 4_000), 2),        # a title's quote hides the ')'
])
def test_brackets_read_far_ahead_are_refused_under_the_size_limit(text, line):
    excess = check(text)
    assert excess is not None and excess.line == line
    assert "Markdown would read" in excess.message and "\\[" in excess.hint


def test_escaped_brackets_are_not_counted():
    assert check("\\[" * 2_000) is None
    assert check("[" * 2_000) is not None


@pytest.mark.parametrize("text, line", [
    ("正文\n" + "- " * 40 + "x", 1),
    ("".join("    " * depth + "- 项\n" for depth in range(30)), 16),   # 16 indents + 1
    ("> " * 20 + "引用", 0),
    ("1. " * 20 + "x", 0),
])
def test_deep_nesting_is_refused_with_its_line(text, line):
    excess = check(text)
    assert excess is not None and excess.line == line and "levels deep" in excess.message


def test_unclosed_html_counts_only_where_html_is_parsed():
    text = repeat("<a ", 3_000)
    assert check(text, raw_html=True) is not None
    assert check(text, raw_html=False) is None      # a notice shows '<' as text
    assert "&lt;a" in render.render_markdown_body(text)


def test_ordinary_notice_text_is_accepted_and_rendered():
    text = ("据报道，放假时间为 **5月27日至5月31日**（共5天）。\n\n"
            "1. 打开[官方网站](https://www.xjrsks.com.cn/ \"新疆人事考试中心\")。\n"
            "    - 找到“成绩查询”[注1]\n"
            "        - 输入准考证号\n\n"
            "> 以正式通知为准。[见通知](https://www.gov.cn/)\n\n"
            "| 项目 | 日期 |\n| --- | --- |\n| 古尔邦节 | 5月27日 |\n\n"
            "`[code]` 和 \\[转义\\] 以及 a < b。\n")
    assert check(text) is None and check(text, raw_html=True) is None
    html = render.render_markdown_body(text)
    assert '<a href="https://www.gov.cn/" rel="noopener noreferrer">见通知</a>' in html
    assert "<table>" in html and "[注1]" in html


def test_text_over_the_limits_is_never_rendered():
    with pytest.raises(ValueError, match="refused before rendering"):
        render.render_markdown_body("[" * 4_000)
    with pytest.raises(ValueError, match="refused before rendering"):
        guide_text.markdown_to_html("x" * (markdown_limits.MAX_CHARS + 1))


@pytest.mark.slow
def test_refused_brackets_are_what_markdown_reads_quadratically():
    """The refusals are not arbitrary: on such text, Python-Markdown's own link parsing
    reads about four times as much when the text doubles."""
    counter = ReadAheadCounter()
    for unit in ("[", "a[b ", "[a](", "[a][", '[a]("x) '):
        assert check(repeat(unit, 4_000)) is not None
        read = [counter.read(guide_text._convert, repeat(unit, size)) for size in (250, 500)]
        assert read[1] > 3.5 * read[0], (unit, read)


@pytest.mark.slow
def test_accepted_text_is_read_a_bounded_number_of_times():
    """Property: over random bracket-heavy texts within the limits, what Python-Markdown's
    link parsing reads grows at most linearly with the text."""
    counter = ReadAheadCounter()
    tokens = ["[", "]", "(", ")", "![", "](", '"', "'", "a", " ", "\n", "\n\n", "\\", "`",
              "\\[", "[a](b)", "- ", "> ", "**"]
    rng = random.Random(9)
    accepted = 0
    for _ in range(120):
        alphabet = rng.sample(tokens, rng.randint(1, 5))
        size = rng.choice([300, 1_500, markdown_limits.MAX_CHARS])
        if rng.random() < 0.5:
            text = repeat("".join(rng.choices(alphabet, k=rng.randint(1, 5))), size)
        else:
            text = "".join(rng.choices(alphabet, k=size))[:size]
        if check(text) is not None:
            continue
        accepted += 1
        read = counter.read(render.render_markdown_body.__wrapped__, text)
        # Linear: about 25 times what the check allows at most (several link patterns
        # read from each '[', escapes and code spans become longer placeholders), where
        # 5,000 unclosed '[' would make it 37 million.
        assert read <= 100 * len(text) + 500_000, (text[:40], read)
    assert accepted > 40
