"""Stage 1: YAML is read safely and every value remembers its line."""

import datetime as dt

import pytest

from conftest import ROOT
from erjian.input.characters import excerpt
from erjian.input.yaml_hints import display_width, show_line
from erjian.input.yaml_loader import LineDict, load_markdown, load_yaml, parse_yaml


def test_mapping_and_list_items_know_their_lines():
    data, problem = parse_yaml("name: 塔城地区\nexams:\n  - year: 2026\n  - year: 2027\n", "f.yaml")
    assert problem is None
    assert isinstance(data, LineDict)
    assert data.line_of("name") == 1 and data.line_of("exams") == 2
    assert data["exams"].line_of(1) == 4
    assert data["exams"][1].line == 4


def test_duplicate_key_is_an_error_naming_both_lines():
    data, problem = parse_yaml("name: a\nlevel: county\nname: b\n", "r.yaml")
    assert data is None
    assert problem.line == 3
    assert "duplicate key 'name'" in problem.message and "line 1" in problem.message


def test_aliases_are_refused():
    text = "a: &x [1, 2]\nb: *x\n"
    data, problem = parse_yaml(text, "r.yaml")
    assert data is None and problem.line == 1 and "alias" in problem.message


def test_alias_bomb_is_refused_quickly():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [*a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, "
              f"*a{i-1}, *a{i-1}, *a{i-1}]" for i in range(1, 10)]
    data, problem = parse_yaml("\n".join(lines) + "\n", "bomb.yaml")
    assert data is None and "alias" in problem.message


def test_deep_nesting_is_refused():
    data, problem = parse_yaml("a: " + "[" * 5000 + "]" * 5000 + "\n", "deep.yaml")
    assert data is None and "nested too deeply" in problem.message


def test_impossible_date_is_reported_with_its_line():
    data, problem = parse_yaml("year: 2026\ndays: [2026-02-30]\n", "p.yaml")
    assert data is None and problem.line == 2
    assert "2026-02-30" in problem.message and "not a real date" in problem.message


def test_valid_dates_become_dates():
    data, _ = parse_yaml("d: 2026-05-23\n", "p.yaml")
    assert data["d"] == dt.date(2026, 5, 23)


def test_tab_indentation_gives_a_line_and_a_hint():
    data, problem = parse_yaml("a:\n\tb: 1\n", "p.yaml")
    assert data is None and problem.line == 2
    assert "tab" in problem.hint


def test_arbitrary_python_tags_are_not_constructed():
    data, problem = parse_yaml("a: !!python/object/apply:os.system ['echo hi']\n", "p.yaml")
    assert data is None and problem is not None


def test_invalid_utf8_names_the_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"name: ok\nnote: \xff\xfe\n")
    loaded = load_yaml(path, "bad.yaml")
    assert loaded.data is None and loaded.problem.line == 2 and "UTF-8" in loaded.problem.message


def test_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "bom.yaml"
    path.write_bytes("\ufeffname: 松江区\n".encode("utf-8"))
    assert load_yaml(path, "bom.yaml").data == {"name": "松江区"}


def test_oversized_file_is_refused(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("a: " + "x" * 1_100_000 + "\n")
    assert "limit" in load_yaml(path, "big.yaml").problem.message


def test_markdown_front_matter_lines_are_file_lines(tmp_path):
    path = tmp_path / "n.md"
    path.write_text("---\ntitle: t\ndate: 2026-02-30\n---\nbody\n", encoding="utf-8")
    loaded = load_markdown(path, "n.md")
    assert loaded.problem.line == 3


def test_markdown_without_front_matter(tmp_path):
    path = tmp_path / "n.md"
    path.write_text("# just text\n", encoding="utf-8")
    assert "front matter" in load_markdown(path, "n.md").problem.message


# --- line endings -----------------------------------------------------------------------------

def test_crlf_and_lone_cr_read_exactly_like_lf(tmp_path):
    text = "name: 马鞍山市\nexams:\n  - year: 2026\n    note: |\n      第一行\n      第二行\n"
    loaded = {}
    for name, ending in (("lf", "\n"), ("crlf", "\r\n"), ("cr", "\r")):
        path = tmp_path / f"{name}.yaml"
        path.write_bytes(text.replace("\n", ending).encode("utf-8"))
        loaded[name] = load_yaml(path, path.name)
    for name in ("crlf", "cr"):
        assert loaded[name].problem is None
        assert loaded[name].data == loaded["lf"].data
        assert loaded[name].data["exams"].line_of(0) == 3
    assert loaded["crlf"].data["exams"][0]["note"] == "第一行\n第二行\n"


def test_markdown_with_crlf_has_front_matter_and_the_same_body(tmp_path):
    text = "---\ntitle: 通知\ndate: 2026-08-10\n---\n第一段。\n\n第二段。\n"
    lf, crlf = tmp_path / "lf.md", tmp_path / "crlf.md"
    lf.write_bytes(text.encode("utf-8"))
    crlf.write_bytes(text.replace("\n", "\r\n").encode("utf-8"))
    a, b = load_markdown(lf, "lf.md"), load_markdown(crlf, "crlf.md")
    assert b.problem is None
    assert (b.data, b.body, b.body_line) == (a.data, a.body, a.body_line)
    assert "\r" not in b.body


def test_front_matter_values_know_their_file_lines(tmp_path):
    path = tmp_path / "n.md"
    path.write_text("---\ntitle: t\ndate: 2026-08-10\nsource:\n  url: https://a.gov.cn/\n---\nb\n",
                    encoding="utf-8")
    data = load_markdown(path, "n.md").data
    assert data.line_of("title") == 2 and data["source"].line_of("url") == 5


# --- characters that hide or reorder text ---------------------------------------------------

@pytest.mark.parametrize("char, name", [
    ("\u202e", "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
    ("\u200b", "U+200B (ZERO WIDTH SPACE)"),
    ("\u2066", "U+2066 (LEFT-TO-RIGHT ISOLATE)"),
    ("\u00ad", "U+00AD (SOFT HYPHEN)"),
    ("\x00", "U+0000 (control character)"),
    ("\x1b", "U+001B (control character)"),
    ("\x9b", "U+009B (control character)"),
])
def test_invisible_and_control_characters_in_a_file_are_named_with_line_and_column(
        tmp_path, char, name):
    path = tmp_path / "r.yaml"
    path.write_bytes(f"level: county\nname: 马鞍{char}山市\n".encode("utf-8"))
    problem = load_yaml(path, "r.yaml").problem
    assert problem is not None and problem.line == 2
    assert f"contains {name} at column 9" in problem.message


def test_tabs_newlines_and_ordinary_chinese_punctuation_are_not_hidden_characters(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("name: 马鞍山市\nnote: \"一、\t二·三（四）——五…\"\n# 注释\n", encoding="utf-8")
    loaded = load_yaml(path, "r.yaml")
    assert loaded.problem is None and loaded.data["note"] == "一、\t二·三（四）——五…"


def test_excerpt_keeps_one_line_and_shows_hidden_characters_as_escapes():
    assert excerpt("第一行\n第二行") == "第一行…"
    assert excerpt("ab\u202ecd") == "ab\\u202ecd"
    assert excerpt("x" * 100, 10) == "x" * 10 + "…"


def test_a_parse_error_quotes_the_offending_line_and_no_other():
    text = "secret-one: 1\nsecret-two: [2\nsecret-three: 3\n"
    data, problem = parse_yaml(text, "p.yaml")
    assert data is None and problem.line == 2
    shown = problem.message + (problem.hint or "")
    assert "secret-two: [2" in shown
    assert "secret-one" not in shown and "secret-three" not in shown


# --- files that are not ordinary files ------------------------------------------------------

def test_symbolic_link_leaving_the_root_is_refused_without_reading(tmp_path):
    root = tmp_path / "site"
    root.mkdir()
    outside = tmp_path / "secret.yaml"
    outside.write_text("name: geheim-123\n", encoding="utf-8")
    (root / "p.yaml").symlink_to(outside)
    loaded = load_yaml(root / "p.yaml", "p.yaml", root)
    assert loaded.data is None and "outside the site's folder" in loaded.problem.message
    assert "geheim" not in loaded.problem.message


def test_symbolic_link_inside_the_root_is_read(tmp_path):
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "a.yaml").write_text("name: 松江区\n", encoding="utf-8")
    (tmp_path / "p.yaml").symlink_to("shared/a.yaml")
    assert load_yaml(tmp_path / "p.yaml", "p.yaml", tmp_path).data == {"name": "松江区"}


def test_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    import os
    import signal

    path = tmp_path / "pipe.yaml"
    os.mkfifo(path)
    signal.signal(signal.SIGALRM, lambda *_: pytest.fail("reading a FIFO blocked"))
    signal.alarm(5)
    try:
        loaded = load_yaml(path, "pipe.yaml")
    finally:
        signal.alarm(0)
    assert loaded.data is None and "FIFO" in loaded.problem.message


def test_device_is_refused():
    from pathlib import Path

    loaded = load_yaml(Path("/dev/zero"), "zero.yaml")
    assert loaded.data is None and "is a device" in loaded.problem.message


def test_a_huge_file_is_read_only_up_to_the_limit(tmp_path):
    """A 4 GiB (sparse) file under a 1 GiB address-space limit: reading it whole would fail
    with MemoryError; reading at most limit + 1 bytes gives the size problem."""
    import subprocess
    import sys

    path = tmp_path / "huge.yaml"
    with open(path, "wb") as handle:
        handle.truncate(4 << 30)
    script = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from pathlib import Path\n"
        "from erjian.input.yaml_loader import load_yaml\n"
        f"print(load_yaml(Path({str(path)!r}), 'huge.yaml').problem.message)\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr[-500:]
    assert "is 4,294,967,296 bytes, over the 1,000,000-byte limit" in result.stdout



# --- YAML syntax errors in an editor's words ------------------------------------------------

def syntax_error(text):
    data, problem = parse_yaml(text, "r.yaml")
    assert data is None and problem is not None
    return problem


def caret_column(problem) -> int:
    """The display column (0-based, after the four-space indent) of the caret."""
    shown, caret = problem.message.split("\n")[1:3]
    assert caret.strip() == "^" and shown.startswith("    ")
    return len(caret) - 1 - 4


def test_full_width_colon_is_named_on_its_own_line_with_the_fix():
    problem = syntax_error("name: 塔城地区\nlevel： prefecture\nslug: tacheng\n")
    assert problem.line == 2
    assert "full-width colon '：'" in problem.message and "'level'" in problem.message
    assert "'level: prefecture'" in problem.hint
    assert problem.message.split("\n")[1] == "    level： prefecture"
    assert caret_column(problem) == len("level")


def test_caret_counts_chinese_characters_as_two_columns():
    problem = syntax_error("name：塔城地区\nlevel: prefecture\n")
    assert problem.line == 1 and caret_column(problem) == 4
    problem = syntax_error("name: 塔城地区\nnote: 时间: 8点\n")
    assert problem.line == 2 and "second ': '" in problem.message
    assert caret_column(problem) == display_width("note: 时间")
    assert "'note: \"时间: 8点\"'" in problem.hint


def test_full_width_space_as_indentation_and_after_a_colon():
    problem = syntax_error("local_office:\n\u3000\u3000name: 塔城\n  url: https://x.gov.cn/\n")
    assert problem.line == 2 and "indented with a full-width space (U+3000)" in problem.message
    problem = syntax_error("name:\u3000塔城地区\nlevel: prefecture\n")
    assert problem.line == 1 and "full-width space (U+3000) follows the colon" in problem.message
    assert "'name: 塔城地区'" in problem.hint


def test_curly_quotes_are_named():
    problem = syntax_error("name: “塔城: 地区”\nlevel: prefecture\n")
    assert problem.line == 1 and "curly quote '“'" in problem.message
    problem = syntax_error("name: '塔城地区’\nlevel: prefecture\n")
    assert problem.line == 1 and "closes with the curly quote '’'" in problem.message
    assert "'name: '塔城地区''" in problem.hint


def test_no_space_after_a_colon_is_named_only_when_it_breaks_the_file():
    assert parse_yaml("level:prefecture\n", "r.yaml") == ("level:prefecture", None)
    assert parse_yaml("url: https://x.gov.cn/a:b\n", "r.yaml")[1] is None
    problem = syntax_error("name:塔城地区\nlevel: prefecture\n")
    assert problem.line == 1 and "no space after the colon of 'name'" in problem.message


def test_a_line_without_its_colon_is_named_not_the_line_after_it():
    problem = syntax_error("name: 塔城地区\nlevel prefecture\nslug: tacheng\n")
    assert problem.line == 2 and "no ':' after its key" in problem.message
    assert "'level: prefecture'" in problem.hint


def test_a_key_indented_under_a_finished_value_names_both_lines():
    problem = syntax_error("name: 塔城地区\n  level: prefecture\n")
    assert problem.line == 2
    assert "indented further than the line above" in problem.message
    assert "line 1" in problem.message


def test_unclosed_brackets_and_quotes_are_named_where_they_open():
    problem = syntax_error("name: a\ndays: [2026-05-23, 2026-05-24\nslug: b\n")
    assert problem.line == 2 and "'[' opened here is not closed" in problem.message
    assert caret_column(problem) == len("days: ")
    problem = syntax_error("name: a\nauth: {title: x\nslug: b\n")
    assert problem.line == 2 and "'{' opened here is not closed with '}'" in problem.message
    problem = syntax_error("name: a\nnote: \"没有结束\nslug: b\n")
    assert problem.line == 2 and "quote \" opened here is never closed" in problem.message


def test_list_items_out_of_line():
    problem = syntax_error("exams:\n  - year: 2026\n   - year: 2027\n")
    assert problem.line == 3 and "does not line up with the one on line 2" in problem.message


def test_other_parser_problems_in_plain_words():
    assert "after the value" in syntax_error("name: \"塔城\" 地区\n").message
    assert "cannot start with '@'" in syntax_error("a: 1\nb: @x\n").message
    assert "second document" in syntax_error("a: 1\n---\nb: 2\n").message
    problem = syntax_error("a: !!python/object/apply:os.system ['echo hi']\n")
    assert "python/object/apply" in problem.message and "not allowed" in problem.message


def test_chinese_text_in_a_block_scalar_is_not_taken_for_a_slip():
    text = "note: |\n  \u3000\u3000注意：请按时查询。\nlevel prefecture\nslug: t\n"
    problem = syntax_error(text)
    assert problem.line == 3 and "no ':' after its key" in problem.message


def test_a_slip_in_front_matter_names_its_line_in_the_file(tmp_path):
    path = tmp_path / "n.md"
    path.write_text("---\ntitle: 通知\nkind： general\ndate: 2026-08-10\n---\n正文\n",
                    encoding="utf-8")
    problem = load_markdown(path, "n.md").problem
    assert problem.line == 3 and "full-width colon" in problem.message


def test_show_line_trims_long_lines_and_escapes_hidden_characters():
    shown, caret = show_line("x" * 200 + ":" + "y" * 200, 200).split("\n")
    assert shown.startswith("    …") and shown.endswith("…") and len(shown) <= 4 + 82
    assert shown[len(caret) - 1] == ":"
    shown, caret = show_line("a\u202eb: c", 3).split("\n")
    assert shown == "    a\\u202eb: c" and "\u202e" not in shown
    assert caret == " " * (4 + len("a\\u202eb")) + "^"
