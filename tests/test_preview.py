"""The resident preview site renders, from memory, exactly what the build writes, and after
an edit renders the change while keeping what it did not touch."""

import datetime as dt

import pytest

from conftest import tree_digest
from erjian.core.errors import SiteError
from erjian.output.owned_folder import MARKER
from erjian.output.pipeline import build
from erjian.preview.resident_site import SITE_UNIT, ResidentSite

TODAY = dt.date(2026, 6, 15)
BASE = "http://127.0.0.1:8123/"


def test_every_file_equals_the_built_one(site, tmp_path):
    out = tmp_path / "out"
    build(site, out, TODAY, base_url=BASE)
    generation = ResidentSite(site, TODAY, BASE, cache_dir=tmp_path / "c").refresh()
    built = {path: (out / path).read_bytes() for path in tree_digest(out) if path != MARKER}
    assert len(built) > 60
    for path, content in built.items():
        assert generation.page(path) == content, path
    assert generation.page("anhui/no-such-region/index.html") is None
    assert generation.page("static/no-such.css") is None


def test_an_edit_reaches_its_pages_and_other_provinces_are_kept(site, tmp_path):
    resident = ResidentSite(site, TODAY, BASE, cache_dir=tmp_path / "c")
    first = resident.refresh()
    guide = "xinjiang/tacheng/jidian/index.html"
    other = "anhui/maanshan/kuangye/index.html"
    before = first.page(guide), first.page(other)
    path = site / "regions" / "xinjiang" / "tacheng.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "note: 塔城考生请留意考点变更。\n",
                    encoding="utf-8")
    second = resident.refresh()
    assert "塔城考生请留意考点变更" in second.page(guide).decode()
    assert "塔城考生请留意考点变更" not in before[0].decode()
    assert second.units["anhui"] is first.units["anhui"]      # untouched province kept
    assert "xinjiang" not in second.units or second.units["xinjiang"] is not first.units[
        "xinjiang"]
    assert second.page(other) == before[1]


def test_a_template_edit_renews_every_unit(site, tmp_path):
    resident = ResidentSite(site, TODAY, BASE, cache_dir=tmp_path / "c")
    first = resident.refresh()
    first.page("anhui/maanshan/kuangye/index.html")
    first.page("index.html")
    base = site / "templates" / "base.html"
    base.write_text(base.read_text(encoding="utf-8").replace(
        "</body>", "<p>模板已修改</p></body>"), encoding="utf-8")
    second = resident.refresh()
    assert second.units == {}
    assert "模板已修改" in second.page("anhui/maanshan/kuangye/index.html").decode()
    assert "模板已修改" in second.page("index.html").decode()
    assert set(second.units) == {p.slug for p in second.site.provinces} | {SITE_UNIT}


def test_broken_input_raises_and_the_fix_recovers(site, tmp_path):
    resident = ResidentSite(site, TODAY, BASE, cache_dir=tmp_path / "c")
    resident.refresh()
    path = site / "regions" / "anhui" / "maanshan.yaml"
    good = path.read_text(encoding="utf-8")
    path.write_text(good + "colour: red\n", encoding="utf-8")
    with pytest.raises(SiteError, match="unknown field 'colour'"):
        resident.refresh()
    path.write_text(good, encoding="utf-8")
    assert resident.refresh().page("anhui/maanshan/kuangye/index.html")
