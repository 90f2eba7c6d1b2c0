"""Hostile input that does not fit tests/hostile/cases.yaml: the moved file seen alike by
`check` and `build`, `new` arguments that would inject YAML or hidden characters, and the
character policy itself (by Unicode category, what it keeps)."""

import os
import sys
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import run_cli
from erjian.editor.scaffold import ScaffoldError, new_region
from erjian.input import models as m
from erjian.input.characters import find_hidden
from erjian.input.yaml_loader import load_yaml
from erjian.input.schema import REJECTED, Context
from test_validate import write

MOVED = "divisions/moved/anhui.tsv"


def files_under(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


# --- the moved file: read and validated with the rest of the input --------------------------

def test_a_malformed_moved_line_fails_check_and_build_alike(site, tmp_path):
    write(site, MOVED, "# old\tnew\n"
                       "anhui/jiu/\tanhui/maanshan/\trenamed\t旧名\t马鞍山市\ttest\n"
                       "anhui/jiu2/\tanhui/maanshan/\tmoved\t旧名\t马鞍山市\ttest\n")
    code, _, checked = run_cli("--root", str(site), "check", "--today", "2026-06-15")
    assert code == 1
    line = f"{MOVED}:3: [reason] 'moved' is not one of the allowed values"
    assert line in checked and "hint: one of: renamed, city" in checked
    out = tmp_path / "out"
    code, _, built = run_cli("--root", str(site), "--out", str(out), "--today", "2026-06-15")
    assert code == 1 and line in built and "nothing was published" in built
    assert not out.exists()


def test_a_moved_address_listed_twice_is_named_on_its_second_line(site):
    entry = "anhui/jiu/\tanhui/maanshan/\trenamed\t旧名\t马鞍山市\ttest\n"
    write(site, MOVED, entry + entry)
    code, _, stderr = run_cli("--root", str(site), "check", "--today", "2026-06-15")
    assert code == 1
    assert (f"{MOVED}:2: [old] the old address 'anhui/jiu/' is listed again (first on line 1)"
            in stderr)


def test_a_moved_address_of_another_province_is_refused_before_rendering(site):
    write(site, MOVED, "hebei/jiu/\tanhui/maanshan/\trenamed\t旧名\t马鞍山市\ttest\n")
    code, _, stderr = run_cli("--root", str(site), "check", "--today", "2026-06-15")
    assert code == 1
    assert f"{MOVED}:1: [old] 'hebei/jiu/' is not an address of this province" in stderr


def test_a_valid_moved_file_still_publishes_its_redirect(site, tmp_path):
    write(site, MOVED, "anhui/jiu/\tanhui/maanshan/\trenamed\t旧名\t马鞍山市\ttest\n")
    out = tmp_path / "out"
    code, _, stderr = run_cli("--root", str(site), "--out", str(out), "--today", "2026-06-15")
    assert code == 0, stderr
    page = (out / "anhui" / "jiu" / "index.html").read_text("utf-8")
    assert 'content="0; url=/anhui/maanshan/"' in page and "旧名" in page


# --- `new`: arguments held to the loader's rules, values that cannot inject -----------------

def region_files(site):
    return files_under(site / "regions" / "anhui")


def test_new_region_refuses_a_name_that_would_inject_yaml(site):
    before = region_files(site)
    code, stdout, stderr = run_cli("--root", str(site), "new", "region", "anhui",
                                   "宣城市\nauthorities:\n  - name: 假冒考试中心")
    assert code == 1 and "created" not in stdout
    assert "error: the name has a line break at character 4" in stderr
    assert "hint: write it on one line" in stderr
    assert region_files(site) == before


@pytest.mark.parametrize("kind", ["region", "notice"])
def test_new_refuses_a_right_to_left_override(site, kind):
    before = files_under(site)
    text = "宣城\u202e市"
    args = (["region", "anhui", text] if kind == "region"
            else ["notice", "--province", "anhui", "--title", text])
    code, stdout, stderr = run_cli("--root", str(site), "new", *args)
    what = "name" if kind == "region" else "title"
    assert code == 1 and "created" not in stdout
    assert f"error: the {what} contains U+202E (RIGHT-TO-LEFT OVERRIDE) at character 3" in stderr
    assert "\u202e" not in stderr
    assert files_under(site) == before


def test_new_notice_for_an_unknown_province_is_refused(site):
    before = files_under(site)
    code, stdout, stderr = run_cli("--root", str(site), "new", "notice", "--province", "zzz")
    assert code == 1 and "created" not in stdout
    assert "error: no province 'zzz'" in stderr
    assert "hint: known: anhui, guangdong, shanghai, xinjiang" in stderr
    assert files_under(site) == before


def test_new_notice_for_an_unknown_region_is_refused(site):
    before = files_under(site)
    code, _, stderr = run_cli("--root", str(site), "new", "notice", "--region", "anhui/nowhere")
    assert code == 1 and "error: no region 'nowhere' in regions/anhui/" in stderr
    assert files_under(site) == before
    code, stdout, _ = run_cli("--root", str(site), "new", "notice", "--region", "anhui/maanshan")
    assert code == 0 and "created content/notices/" in stdout


def test_new_region_refuses_an_overlong_name_as_a_name(site):
    before = region_files(site)
    code, _, stderr = run_cli("--root", str(site), "new", "region", "anhui", "长" * 10_000)
    assert code == 1
    assert "error: the name is 10000 characters long; at most 40 allowed" in stderr
    assert "--out" not in stderr and "Traceback" not in stderr
    assert region_files(site) == before


def test_new_region_never_writes_through_a_link_in_its_place(site, tmp_path):
    outside = tmp_path / "outside.yaml"
    os.symlink(outside, site / "regions" / "anhui" / "xuancheng.yaml")
    code, stdout, stderr = run_cli("--root", str(site), "new", "region", "anhui", "宣城市")
    assert code == 1 and "created" not in stdout
    assert "error: regions/anhui/xuancheng.yaml already exists" in stderr
    assert not outside.exists()


YAML_HOSTILE = st.lists(st.sampled_from(list(":-#&*!|>'\"%@`[]{},? \t\n\\") +
                                        ["宣", "城", "市", "a", "1", "\u202e", "e\u0301",
                                         "yes", "null", "~", "---"]),
                        min_size=1, max_size=12).map("".join)


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=YAML_HOSTILE)
def test_new_region_writes_only_its_name_and_level_or_nothing(tmp_path_factory, name):
    """Whatever the name, `new region` either refuses it and writes nothing, or writes a
    file whose data is exactly the name (in NFC, as the loader reads it) and the level, and
    that the loader accepts."""
    site = tmp_path_factory.mktemp("new") / "site"
    (site / "regions" / "anhui").mkdir(parents=True)
    (site / "regions" / "anhui" / "province.yaml").write_text("name: 安徽省\nshort_name: 安徽\n",
                                                             encoding="utf-8")
    try:
        path = new_region(site, "anhui", name)
    except ScaffoldError as error:
        assert error.message and sorted(p.name for p in (site / "regions" / "anhui").iterdir()) \
            == ["province.yaml"]
        return
    loaded = load_yaml(path, path.name, site)
    assert loaded.problem is None
    assert set(loaded.data) == {"name", "level"}
    assert loaded.data["name"] == unicodedata.normalize("NFC", name).strip()
    ctx = Context(path.name)
    assert m.REGION.check(loaded.data, ctx) is not REJECTED and not ctx.problems


# --- the character policy: by Unicode category and the default-ignorable set ----------------

def test_every_format_control_and_separator_character_is_refused():
    refused = [code for code in range(sys.maxunicode + 1)
               if unicodedata.category(chr(code)) in ("Cc", "Cf", "Zl", "Zp")
               and chr(code) not in "\t\n"]
    assert len(refused) > 200
    assert [hex(c) for c in refused if find_hidden(f"名{chr(c)}字") != 1] == []


@pytest.mark.parametrize("char", ["\u034f", "\u115f", "\u17b4", "\u17b5", "\u180b", "\u180f",
                                  "\u2065", "\u3164", "\ufe0f", "\uffa0", "\ufff0",
                                  "\U000e0000", "\U000e0100", "\U000e01ef", "\U000e0fff"])
def test_default_ignorable_code_points_outside_cf_are_refused(char):
    assert find_hidden(f"名{char}字") == 1


@pytest.mark.parametrize("text", ["马鞍山市", "新疆维吾尔自治区", "喀什地区（ قەشقەر ）",
                                  "第一行\n第二行\t缩进", "成绩已公布 🎉", "Café区",
                                  "\u3000全角空格", "\ue000私用区"])
def test_text_that_is_not_hidden_is_kept(text):
    assert find_hidden(text) is None


def test_emoji_sequences_are_refused_and_say_which_character():
    family = "👨\u200d👩\u200d👧"
    assert find_hidden(family) == 1
    assert find_hidden("❤\ufe0f") == 1


def test_a_notice_written_in_nfd_is_published_in_nfc(site, tmp_path):
    write(site, "content/notices/nfd.md",
          "---\ntitle: Cafe\u0301 通知\ndate: 2026-06-10\nkind: general\nprovinces: [anhui]\n"
          "---\nCafe\u0301 正文。\n")
    out = tmp_path / "out"
    code, _, stderr = run_cli("--root", str(site), "--out", str(out), "--today", "2026-06-15")
    assert code == 0, stderr
    page = (out / "notices" / "nfd" / "index.html").read_text("utf-8")
    assert "Café 通知" in page and "Café 正文" in page and "e\u0301" not in page


def test_import_divisions_refuses_a_moved_file_that_is_a_named_pipe(tmp_path):
    """import-divisions reads the old entries back; a FIFO there must not hang it."""
    from erjian.core.errors import UserError
    from erjian.input.division_files import read_moved

    fifo = tmp_path / "anhui.tsv"
    os.mkfifo(fifo)
    with pytest.raises(UserError, match="is a FIFO"):
        read_moved(fifo)
