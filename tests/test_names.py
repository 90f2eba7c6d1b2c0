"""Names that become paths: the site's own top-level names are reserved, and the list of them
cannot go stale; ordinary names and links inside the site still work."""

import pytest

from conftest import copy_site, run_cli
from erjian.core.errors import SiteError
from erjian.input.resolve import resolve
from erjian.core.layout import SITE_PATHS
from erjian.input.validate import read_site


@pytest.fixture(scope="module")
def seed_build(seed_root, seed_output):
    return seed_root, seed_output


def test_every_top_level_name_the_build_writes_is_reserved_or_a_province(seed_build):
    root, out = seed_build
    provinces = {p.name for p in (root / "regions").iterdir() if p.is_dir()}
    written = {p.name for p in out.iterdir()}
    assert provinces <= written
    site_own = written - provinces
    assert {"index.html", "notices", "feed.xml"} <= site_own   # the listing is not empty
    assert site_own <= SITE_PATHS, f"add to layout.SITE_PATHS: {sorted(site_own - SITE_PATHS)}"


def test_no_reserved_name_is_a_province(seed_build):
    root, _ = seed_build
    assert not {p.name for p in (root / "regions").iterdir()} & SITE_PATHS


@pytest.mark.parametrize("name", sorted(SITE_PATHS))
def test_every_reserved_name_is_refused_as_a_province_folder(tmp_path, name):
    site = copy_site(tmp_path / "site", provinces=("anhui",))
    (site / "regions" / "anhui").rename(site / "regions" / name)
    with pytest.raises(SiteError) as info:
        resolve(read_site(site))
    assert any(p.file == f"regions/{name}" for p in info.value.problems)


def test_a_symbolic_link_inside_the_site_is_followed(tmp_path):
    site = copy_site(tmp_path / "site", provinces=("anhui",))
    (site / "shared").mkdir()
    (site / "regions/anhui/maanshan.yaml").rename(site / "shared/maanshan.yaml")
    (site / "regions/anhui/maanshan.yaml").symlink_to("../../shared/maanshan.yaml")
    resolved = resolve(read_site(site))
    assert "anhui/maanshan" in {r.key for r in resolved.regions}


def test_duplicate_notice_slugs_name_both_files(tmp_path):
    site = copy_site(tmp_path / "site", provinces=("xinjiang",))
    notices = site / "content" / "notices"
    original = next(notices.glob("*.md"))
    (notices / "zz-copy.md").write_text(
        original.read_text(encoding="utf-8").replace("---\n", f"---\nslug: {original.stem}\n",
                                                     1), encoding="utf-8")
    with pytest.raises(SiteError) as info:
        resolve(read_site(site))
    [problem] = info.value.problems
    assert problem.file == "content/notices/zz-copy.md" and problem.line == 2
    assert f"content/notices/{original.name}" in problem.message


# A region's name says which division it is (editor trial, issue 16): a name that matches no
# division, or carries the quotes it was copied with, must not silently make a second page.

def anhui_with_divisions(tmp_path, name_line: str, extra: str = ""):
    site = copy_site(tmp_path / "site", provinces=("anhui",), divisions=True)
    region = site / "regions" / "anhui" / "maanshan.yaml"
    region.write_text(region.read_text(encoding="utf-8").replace("name: 马鞍山市\n",
                                                                 f"{name_line}\n{extra}"),
                      encoding="utf-8")
    return site


def build_fails(site, tmp_path) -> str:
    out = tmp_path / "out"
    code, _, stderr = run_cli("--root", str(site), "--out", str(out), "--today", "2026-06-15")
    assert code == 1
    assert not out.exists()   # nothing published, so no second page either
    return stderr


@pytest.mark.parametrize("name", ["“马鞍山市”", "「马鞍山市」", "『马鞍山市』", "【马鞍山市】",
                                  "（马鞍山市）", "‘马鞍山市’", "“\u3000马鞍山市”", "'\"马鞍山市\"'"])
def test_quotes_or_brackets_around_a_region_name_are_refused_with_the_line_corrected(
        tmp_path, name):
    stderr = build_fails(anhui_with_divisions(tmp_path, f"name: {name}"), tmp_path)
    assert "regions/anhui/maanshan.yaml:1: [name]" in stderr
    assert "has quotes or brackets around it" in stderr
    assert "hint: write the line as: name: 马鞍山市\n" in stderr
    assert "maanshanshi" not in stderr


@pytest.mark.parametrize("name", ['"马鞍山市 "', "\u3000马鞍山市", '" 马鞍山市"'])
def test_spaces_around_a_region_name_are_refused_with_the_name_alone(tmp_path, name):
    """YAML keeps spaces inside quotes and never strips a full-width one (U+3000)."""
    stderr = build_fails(anhui_with_divisions(tmp_path, f"name: {name}"), tmp_path)
    assert "regions/anhui/maanshan.yaml:1: [name]" in stderr
    assert "has spaces around it" in stderr
    assert "hint: write it as: 马鞍山市\n" in stderr


def test_a_misspelt_region_name_is_refused_with_the_closest_division_names(tmp_path):
    stderr = build_fails(anhui_with_divisions(tmp_path, "name: 马鞍山"), tmp_path)
    assert "regions/anhui/maanshan.yaml:1: [name] '马鞍山' is not the name of any division " \
           "of 'anhui'" in stderr
    assert "regions/anhui/_divisions.yaml (did you mean 马鞍山市?)" in stderr
    assert "already used" not in stderr   # the old, misleading slug clash


def test_a_name_like_no_division_gets_no_guess(tmp_path):
    stderr = build_fails(anhui_with_divisions(tmp_path, "name: 火星开发区"), tmp_path)
    assert "'火星开发区' is not the name of any division" in stderr
    assert "did you mean" not in stderr and "add 'division: false'" in stderr


def test_a_region_that_is_no_division_says_so(tmp_path):
    site = anhui_with_divisions(tmp_path, "name: 江北新区", "division: false\n")
    regions = {r.key: r.name for r in resolve(read_site(site)).regions}
    assert regions["anhui/jiangbei"] == "江北新区"
    assert regions["anhui/maanshan"] == "马鞍山市"   # the division keeps its own page


def test_division_false_on_a_real_division_is_refused(tmp_path):
    site = anhui_with_divisions(tmp_path, "name: 马鞍山市", "division: false\n")
    with pytest.raises(SiteError) as info:
        resolve(read_site(site))
    [problem] = info.value.problems
    assert (problem.file, problem.field) == ("regions/anhui/maanshan.yaml", "division")
    assert "马鞍山市 is a division of 'anhui' (code 340500)" in problem.message
    assert "remove 'division: false'" in problem.hint


@pytest.mark.parametrize("extra, message, hint", [
    ('code: "340599"\n', "code 340599 is not a division of 'anhui'",
     "马鞍山市's code is 340500"),
    ('code: "340200"\n', "code 340200 is 芜湖市 in the division data, but this file names it "
     "'马鞍山市'", "write the line as: name: 芜湖市"),
])
def test_a_code_must_be_the_division_the_name_says(tmp_path, extra, message, hint):
    site = anhui_with_divisions(tmp_path, "name: 马鞍山市", extra)
    with pytest.raises(SiteError) as info:
        resolve(read_site(site))
    [problem] = info.value.problems
    assert message in problem.message and hint in problem.hint


def test_two_files_for_one_division_are_refused(tmp_path):
    site = anhui_with_divisions(tmp_path, "name: 马鞍山市")
    (site / "regions/anhui/zz-copy.yaml").write_text(
        'name: 马鞍山市\nlevel: prefecture_city\nslug: maanshan-2\n', encoding="utf-8")
    with pytest.raises(SiteError) as info:
        resolve(read_site(site))
    [problem] = info.value.problems
    assert problem.file == "regions/anhui/zz-copy.yaml"
    assert "regions/anhui/maanshan.yaml is already the file of 马鞍山市" in problem.message


def test_every_hand_written_region_of_the_repository_matches_its_division():
    from conftest import ROOT

    site = read_site(ROOT)
    assert site.errors == []
    written = [r for r in resolve(site).regions if not r.file.endswith("_divisions.yaml")]
    assert written and all(r.code for r in written)
