"""Names that become paths: the site's own top-level names are reserved, and the list of them
cannot go stale; ordinary names and links inside the site still work."""

import pytest

from conftest import copy_site
from erjian.errors import SiteError
from erjian.resolve import resolve
from erjian.schema import SITE_PATHS
from erjian.validate import read_site


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
    assert site_own <= SITE_PATHS, f"add to schema.SITE_PATHS: {sorted(site_own - SITE_PATHS)}"


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
