"""Stage 1: YAML is read safely and every value remembers its line."""

import datetime as dt

from erjian.load import LineDict, load_markdown, load_yaml, parse_yaml


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
