"""Stages 2 and 3: every problem of a run is reported with file, line, field and a hint."""

import shutil

import pytest

from conftest import ROOT, copy_site, run_cli
from erjian.core.errors import SiteError
from erjian.input.resolve import derive_slug, resolve
from erjian.input.validate import read_site


def problems_of(root):
    with pytest.raises(SiteError) as info:
        resolve(read_site(root))
    return info.value.problems


def write(root, relative, text):
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_misspelled_key_gets_a_did_you_mean_hint(site):
    write(site, "regions/xinjiang/kashi.yaml",
          "name: 喀什地区\nlevel: prefecture\nauthorites: []\n")
    [problem] = problems_of(site)
    assert (problem.file, problem.line, problem.field) == ("regions/xinjiang/kashi.yaml", 3,
                                                           "authorites")
    assert "did you mean 'authorities'" in problem.hint


def test_all_problems_of_a_run_are_reported_together(site):
    write(site, "regions/xinjiang/a.yaml", "name: 阿勒泰地区\nlevel: prefectur\n")
    write(site, "regions/anhui/b.yaml", "level: county\n")
    write(site, "regions/guangdong/c.yaml",
          "name: 潮州市\nlevel: prefecture_city\nexams:\n  - year: 2026\n    days: [2026-06-31]\n")
    problems = problems_of(site)
    where = {(p.file, p.line) for p in problems}
    assert ("regions/xinjiang/a.yaml", 2) in where
    assert ("regions/anhui/b.yaml", 1) in where
    assert ("regions/guangdong/c.yaml", 5) in where
    level = next(p for p in problems if p.file.endswith("a.yaml"))
    assert "prefecture" in level.hint


def test_nested_list_item_errors_point_at_the_item(site):
    write(site, "regions/anhui/chuzhou.yaml",
          "name: 滁州市\nlevel: prefecture_city\nauthorities:\n"
          "  - name: 安徽省人事考试网\n    url: https://www.apta.gov.cn/\n    role: scores\n"
          "  - name: 假网站\n    url: javascript:alert(1)\n    role: scores\n")
    [problem] = problems_of(site)
    assert problem.line == 8 and problem.field == "authorities[2].url"
    assert "https://" in problem.hint


def test_wrong_type_says_what_was_expected(site):
    write(site, "regions/anhui/x.yaml", "name: 宣城市\nlevel: prefecture_city\n"
                                        "specialties: kuangye\n")
    [problem] = problems_of(site)
    assert problem.line == 3 and "expected a list" in problem.message


def test_date_given_as_text_in_wrong_format(site):
    write(site, "regions/anhui/x.yaml", "name: 宣城市\nlevel: prefecture_city\nexams:\n"
                                        "  - year: 2026\n    days: ['2026/05/23']\n")
    [problem] = problems_of(site)
    assert problem.line == 5 and "YYYY-MM-DD" in problem.message


def test_duplicate_slugs_are_refused(site):
    write(site, "regions/xinjiang/tacheng2.yaml", "name: 塔城市\nlevel: county\n")
    [problem] = problems_of(site)
    assert "tacheng" in problem.message and "regions/xinjiang/tacheng.yaml" in problem.message
    assert "slug" in problem.hint


def test_parent_cycle_is_reported(site):
    write(site, "regions/guangdong/a.yaml", "name: 甲县\nlevel: county\nslug: jia\nparent: yi\n")
    write(site, "regions/guangdong/b.yaml", "name: 乙县\nlevel: county\nslug: yi\nparent: jia\n")
    cycles = [(p.file, p.line, p.field, p.message, p.hint) for p in problems_of(site)
              if "cycle" in p.message]
    hint = "one region in the loop must stop naming a parent"
    assert sorted(cycles) == [
        ("regions/guangdong/a.yaml", 4, "parent", "inheritance cycle: 甲县 → 乙县 → 甲县", hint),
        ("regions/guangdong/b.yaml", 4, "parent", "inheritance cycle: 乙县 → 甲县 → 乙县", hint)]


def test_folder_without_province_file(site):
    write(site, "regions/hebei/shijiazhuang.yaml", "name: 石家庄市\nlevel: prefecture_city\n")
    [problem] = problems_of(site)
    assert problem.file == "regions/hebei" and "province.yaml" in problem.message


def test_region_naming_another_province(site):
    write(site, "regions/anhui/x.yaml", "name: 宣城市\nlevel: prefecture_city\nprovince: hebei\n")
    [problem] = problems_of(site)
    assert problem.line == 3 and problem.field == "province"


def test_unknown_calendar_layer(site):
    write(site, "regions/anhui/x.yaml", "name: 宣城市\nlevel: prefecture_city\n"
                                        "calendar_layers: [xizang]\n")
    [problem] = problems_of(site)
    assert "xizang" in problem.message and "xinjiang" in problem.hint


def test_empty_file_and_list_file(site):
    write(site, "regions/anhui/empty.yaml", "")
    write(site, "regions/anhui/list.yaml", "- name: 宣城市\n")
    problems = problems_of(site)
    messages = {p.file: p.message for p in problems}
    assert "is empty" in messages["regions/anhui/empty.yaml"]
    assert "expected a mapping" in messages["regions/anhui/list.yaml"]


def test_slug_cannot_escape_the_output_folder(site):
    write(site, "regions/anhui/x.yaml", "name: 宣城市\nlevel: prefecture_city\nslug: ../../etc\n")
    [problem] = problems_of(site)
    assert problem.field == "slug" and problem.line == 3


def test_exam_days_out_of_order(site):
    write(site, "regions/anhui/x.yaml", "name: 宣城市\nlevel: prefecture_city\nexams:\n"
                                        "  - year: 2026\n    days: [2026-05-24, 2026-05-23]\n")
    [problem] = problems_of(site)
    assert "order" in problem.message and problem.line == 5


def test_notice_naming_unknown_region_is_a_warning(site):
    write(site, "content/notices/x.md", "---\ntitle: t\ndate: 2026-08-01\nkind: general\n"
                                        "regions: [xinjiang/kashi]\n---\nbody\n")
    resolved = resolve(read_site(site))
    assert any("xinjiang/kashi" in w.message for w in resolved.warnings)


@pytest.mark.parametrize("name,slug", [("松江区", "songjiang"), ("塔城地区", "tacheng"),
                                       ("梅州市", "meizhou"), ("马鞍山市", "maanshan"),
                                       ("新疆维吾尔自治区", "xinjiang"), ("重庆市", "chongqing"),
                                       ("城区", "chengqu")])
def test_slug_is_derived_with_pinyin(name, slug):
    assert derive_slug(name) == slug


def test_region_inherits_from_province_and_may_override(site):
    write(site, "regions/xinjiang/kashi.yaml",
          "name: 喀什地区\nlevel: prefecture\nspecialties: [jianzhu, kuangye]\n"
          "local_office:\n  name: 喀什地区人事考试中心\n")
    resolved = resolve(read_site(site))
    kashi = next(r for r in resolved.regions if r.slug == "kashi")
    province = resolved.input.provinces["xinjiang"]
    assert kashi.specialties == ("jianzhu", "kuangye")
    assert kashi.authorities == province.authorities
    assert kashi.calendar_layers == ("xinjiang",)
    assert kashi.local_office.name == "喀什地区人事考试中心"
    assert province.local_office is None


def test_region_inherits_from_its_parent_before_the_province(site):
    write(site, "regions/guangdong/meizhou.yaml",
          "name: 梅州市\nlevel: prefecture_city\nspecialties: [kuangye]\n")
    write(site, "regions/guangdong/meixian.yaml",
          "name: 梅县区\nlevel: district\nparent: meizhou\n")
    resolved = resolve(read_site(site))
    meixian = next(r for r in resolved.regions if r.slug == "meixian")
    assert meixian.specialties == ("kuangye",)


def test_cross_field_problem_in_a_nested_record_names_the_full_field(site):
    write(site, "regions/anhui/x.yaml", "name: 宣城市\nlevel: prefecture_city\nexams:\n"
                                        "  - year: 2025\n    days: [2026-05-23]\n")
    [problem] = problems_of(site)
    assert problem.field == "exams[1].days" and "2025" in problem.message


def test_file_errors_and_cross_file_errors_are_reported_in_one_run(site):
    write(site, "regions/xinjiang/tacheng2.yaml", "name: 塔城市\nlevel: county\n")  # slug clash
    write(site, "regions/anhui/x.yaml", "name: 宣城市\nlevel: nowhere\n")           # bad value
    problems = problems_of(site)
    assert {p.file for p in problems} == {"regions/xinjiang/tacheng2.yaml",
                                         "regions/anhui/x.yaml"}


def test_inherited_value_is_reported_once_in_the_file_that_sets_it(site):
    path = site / "regions" / "anhui" / "province.yaml"
    path.write_text(path.read_text("utf-8") + "calendar_layers: [xizang]\n", encoding="utf-8")
    write(site, "regions/anhui/chuzhou.yaml", "name: 滁州市\nlevel: prefecture_city\n")
    write(site, "regions/anhui/x.yaml", "name: 宣城市\nlevel: prefecture_city\n"
                                        "parent: chuzhou\n")
    problems = problems_of(site)
    assert [(p.file, p.field) for p in problems] == [("regions/anhui/province.yaml",
                                                      "calendar_layers")]


def test_a_bad_link_inherited_from_a_city_is_reported_on_the_city_only(site):
    write(site, "regions/anhui/chuzhou.yaml",
          "name: 滁州市\nlevel: prefecture_city\nauthorities:\n"
          "  - name: 滁州\n    url: https://www.chuzhou.g0v.cn/\n    role: scores\n")
    write(site, "regions/anhui/x.yaml", "name: 天长市\nlevel: county\nparent: chuzhou\n")
    [problem] = problems_of(site)
    assert (problem.file, problem.line) == ("regions/anhui/chuzhou.yaml", 5)


def test_notes_may_have_several_lines_but_names_and_titles_may_not(site):
    write(site, "regions/anhui/xuancheng.yaml",
          "name: 宣城市\nlevel: prefecture_city\nnote: |\n  第一行。\n  第二行。\n")
    resolved = resolve(read_site(site))
    assert {r.key: r.note for r in resolved.regions}["anhui/xuancheng"] == "第一行。\n第二行。"
    write(site, "regions/anhui/xuancheng.yaml", "name: |\n  宣城\n  市\nlevel: prefecture_city\n")
    [problem] = problems_of(site)
    assert (problem.field, problem.line) == ("name", 1) and "line break" in problem.message


def test_invisible_character_in_a_nested_field_names_field_and_position(site):
    write(site, "regions/anhui/xuancheng.yaml",
          'name: 宣城市\nlevel: prefecture_city\nexams:\n  - year: 2026\n'
          '    days: [2026-05-23]\n    source:\n      title: "考务\\u2066通知"\n')
    [problem] = problems_of(site)
    assert (problem.field, problem.line) == ("exams[1].source.title", 7)
    assert "U+2066 (LEFT-TO-RIGHT ISOLATE) at character 3" in problem.message


def test_a_source_may_be_a_news_site_over_https(site):
    write(site, "regions/anhui/xuancheng.yaml",
          "name: 宣城市\nlevel: prefecture_city\nexams:\n  - year: 2026\n"
          "    days: [2026-05-23]\n    source:\n      title: 报道\n"
          "      url: https://news.example.com/2026/erjian.html\n")
    resolved = resolve(read_site(site))
    [exam] = {r.key: r for r in resolved.regions}["anhui/xuancheng"].exams
    assert exam.source.url == "https://news.example.com/2026/erjian.html"


def test_reviewing_a_domain_revalidates_cached_files_that_imitate_it(site, tmp_path):
    """A source that only imitates a domain once it is reviewed: the input cache must not
    keep the file's earlier verdict when official_domains changes."""
    write(site, "regions/anhui/xuancheng.yaml",
          "name: 宣城市\nlevel: prefecture_city\nexams:\n  - year: 2026\n"
          "    days: [2026-05-23]\n    source:\n      title: 通知\n"
          "      url: https://xjrsks.com.cn.example.net/tz.html\n")
    config = site / "content" / "site.yaml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("  - xjrsks.com.cn\n", ""), encoding="utf-8")
    cache = tmp_path / "cache"
    read_site(site, cache)   # the xinjiang authority fails in resolve; this file is cached
    config.write_text(text, encoding="utf-8")
    with pytest.raises(SiteError) as info:
        resolve(read_site(site, cache))
    assert [(p.file, p.field) for p in info.value.problems] == [
        ("regions/anhui/xuancheng.yaml", "exams[1].source.url")]


# --- the schema reports through one channel -----------------------------------------------

def _schema_problems(text: str):
    """(result, problems) of a small schema with a list of nested mappings, checked on YAML
    ``text`` loaded with its lines."""
    from erjian.input.schema import Context, Integer, ListOf, Record, Schema, Text
    from erjian.input.yaml_loader import parse_yaml

    item = Schema("item", {"name": Text(required=True), "count": Integer(minimum=1)})
    schema = Schema("thing", {"title": Text(required=True),
                              "items": ListOf(Record(item), unique=True)})
    data, problem = parse_yaml(text, "t.yaml")
    assert problem is None
    ctx = Context("t.yaml")
    return schema.check(data, ctx, getattr(data, "line", 1) or 1), ctx.problems


def test_every_kind_of_schema_failure_is_a_problem_with_its_line():
    from erjian.input.schema import REJECTED

    result, problems = _schema_problems(
        "title: [1]\n"          # a leaf rejects the value
        "items:\n"
        "  - name: a\n"
        "    count: 0\n"        # a leaf inside a nested mapping
        "  - just text\n"       # a nested mapping that is no mapping
        "  - name: b\n"
        "    colour: red\n")    # an unknown field
    assert result is REJECTED
    assert [(p.file, p.line, p.field) for p in problems] == [
        ("t.yaml", 1, "title"), ("t.yaml", 4, "items[1].count"), ("t.yaml", 5, "items[2]"),
        ("t.yaml", 7, "items[3].colour")]
    assert problems[2].message == "expected a mapping of item fields, got text"
    assert problems[2].hint == "write 'key: value' lines"


def test_a_file_that_is_no_mapping_is_reported_not_raised():
    from erjian.input.schema import REJECTED

    result, problems = _schema_problems("- a\n- b\n")
    assert result is REJECTED
    assert [(p.line, p.field, p.message) for p in problems] == [
        (1, None, "expected a mapping of thing fields, got a list")]


def test_a_valid_mapping_gives_its_values():
    result, problems = _schema_problems("title: T\nitems:\n  - name: a\n    count: 2\n")
    assert problems == []
    assert result == {"title": "T", "items": [{"name": "a", "count": 2}]}


def test_a_province_file_with_an_error_does_not_disown_its_moved_file(tmp_path):
    """Xinjiang's province.yaml has a typo: that is the one error. Its moved file is still
    Xinjiang's (regions/xinjiang/ exists), not a file 'that belongs to no province'."""
    root = copy_site(tmp_path / "site")
    moved = root / "divisions" / "moved"
    moved.mkdir(parents=True)
    shutil.copy(ROOT / "divisions" / "moved" / "xinjiang.tsv", moved / "xinjiang.tsv")
    (moved / "xinjaing.tsv").write_text("", encoding="utf-8")
    path = root / "regions" / "xinjiang" / "province.yaml"
    path.write_text(path.read_text("utf-8").replace("short_name:", "shortname:", 1), "utf-8")
    code, _, err = run_cli("--root", str(root), "check")
    assert code == 1
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert any("unknown field 'shortname'" in line for line in errors), errors
    assert [line for line in errors if "belongs to no province" in line] == [
        "error: divisions/moved/xinjaing.tsv: belongs to no province: moved files are named "
        "<province>.tsv after a folder of regions/ ('xinjaing' is none)"]
