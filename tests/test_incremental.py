"""Incremental builds: unchanged files are not rewritten, and the result always equals a
clean build of the same input."""

import datetime as dt
import shutil

import pytest

from conftest import tree_digest
from erjian.output.owned_folder import MARKER
from erjian.output.pipeline import build

pytestmark = pytest.mark.slow   # builds after many changes

TODAY = dt.date(2026, 6, 15)


def mtimes(folder):
    """Modification times of the site's files (the ownership marker, which names the version
    and so changes with every publish, left out)."""
    return {p.relative_to(folder).as_posix(): p.stat().st_mtime_ns
            for p in folder.rglob("*") if p.is_file() and p.name != MARKER}


def clean_build(site, tmp_path, name):
    out = tmp_path / name
    build(site, out, TODAY, cache_dir=tmp_path / f"{name}-cache")
    return tree_digest(out)


def test_noop_rebuild_rewrites_nothing(site, tmp_path):
    out = tmp_path / "out"
    first = build(site, out, TODAY)
    assert first.report.written == first.pages and first.report.unchanged == 0
    before = mtimes(out)
    again = build(site, out, TODAY)
    assert again.report.written == 0 and again.report.removed == 0
    assert again.report.unchanged == first.pages
    assert mtimes(out) == before


def test_editing_one_region_rewrites_only_its_pages(site, tmp_path):
    out = tmp_path / "out"
    build(site, out, TODAY)
    before = mtimes(out)
    path = site / "regions" / "xinjiang" / "tacheng.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "note: 塔城考生请留意自治区通知。\n",
                    encoding="utf-8")
    result = build(site, out, TODAY)
    after = mtimes(out)
    changed = {p for p in after if after[p] != before.get(p)}
    # The note is Tacheng's own: its region page becomes self-canonical and the sitemap
    # lists its pages (docs/indexing.md).
    assert changed == {f"xinjiang/tacheng/{code}/index.html" for code in
                       ("jianzhu", "shizheng", "jidian", "gonglu", "shuili", "kuangye")} | {
                           "xinjiang/tacheng/index.html", "sitemap.xml"}
    assert result.report.written == len(changed)


def test_renaming_a_region_reaches_its_province_home_and_json(site, tmp_path):
    out = tmp_path / "out"
    build(site, out, TODAY)
    before = mtimes(out)
    path = site / "regions" / "anhui" / "maanshan.yaml"
    path.write_text("name: 马鞍山市\nlevel: prefecture_city\nslug: maanshan\n"
                    "specialties: [kuangye, jianzhu]\n", encoding="utf-8")
    build(site, out, TODAY)
    after = mtimes(out)
    changed = {p for p in after if after[p] != before.get(p)}
    removed = set(before) - set(after)
    assert {"anhui/maanshan/index.html", "api/regions.json"} <= changed
    assert removed == {f"anhui/maanshan/{c}/{f}" for c in ("shizheng", "jidian", "gonglu",
                                                            "shuili")
                       for f in ("index.html", "schedule.ics")}
    assert not any(p.startswith(("xinjiang/", "shanghai/", "guangdong/")) for p in changed)


def test_incremental_result_equals_a_clean_build_after_many_changes(site, tmp_path):
    out = tmp_path / "out"
    build(site, out, TODAY)
    steps = [
        lambda: (site / "regions/xinjiang/kashi.yaml").write_text(
            "name: 喀什地区\nlevel: prefecture\n", encoding="utf-8"),
        lambda: (site / "regions/guangdong/meizhou.yaml").write_text(
            "name: 梅州市\nlevel: prefecture_city\nspecialties: [kuangye]\n", encoding="utf-8"),
        lambda: (site / "content/notices/2026-anhui-release.md").write_text(
            "---\ntitle: 安徽成绩发布\ndate: 2026-06-12\nkind: release\nprovinces: [anhui]\n"
            "exam_year: 2026\nrelease_date: 2026-06-12\nsource:\n  title: 关于成绩发布的通知\n"
            "  url: https://www.apta.gov.cn/n.html\n---\n已发布。\n", encoding="utf-8"),
        lambda: (site / "regions/shanghai/songjiang.yaml").unlink(),
        lambda: shutil.rmtree(site / "regions/anhui"),
        lambda: (site / "content/guide/30-problems.md").write_text(
            "---\ntitle: 常见问题\norder: 30\n---\n先检查网址。\n", encoding="utf-8"),
        lambda: (site / "calendars/national/2026.yaml").write_text(
            (site / "calendars/national/2026.yaml").read_text(encoding="utf-8").replace(
                "last_day_off: 2026-06-21", "last_day_off: 2026-06-22"), encoding="utf-8"),
        lambda: (site / "templates/static/style.css").write_text("body{}\n", encoding="utf-8"),
        lambda: (site / "content/notices/2026-xinjiang-eid-al-adha.md").unlink(),
    ]
    for index, step in enumerate(steps):
        step()
        build(site, out, TODAY)
        assert tree_digest(out) == clean_build(site, tmp_path, f"clean{index}"), index
    assert not (out / "shanghai" / "songjiang").exists()
    assert not (out / "anhui").exists()


def test_any_build_restores_files_changed_by_hand(site, tmp_path, capsys):
    """output/ belongs to the generator: a file edited, deleted or added by hand is noticed by
    the next build (no --clean needed), named in a note and put back as the manifest says."""
    out = tmp_path / "out"
    build(site, out, TODAY)
    page = out / "xinjiang" / "tacheng" / "jidian" / "index.html"
    original = page.read_bytes()
    page.write_bytes(b"tampered")
    (out / "xinjiang" / "tacheng" / "index.html").unlink()
    (out / "stray.txt").write_text("left by hand")
    capsys.readouterr()
    result = build(site, out, TODAY)
    notes = capsys.readouterr().err
    assert page.read_bytes() == original
    assert (out / "xinjiang" / "tacheng" / "index.html").is_file()
    assert not (out / "stray.txt").exists()
    assert result.report.written == 2
    assert "out/xinjiang/tacheng/jidian/index.html: changed since the last build" in notes
    assert "out/xinjiang/tacheng/index.html: deleted since the last build" in notes
    assert "out/stray.txt: not made by the generator; removed" in notes
    assert tree_digest(out) == clean_build(site, tmp_path, "fresh")
    again = build(site, out, TODAY)
    assert again.report.written == 0 and capsys.readouterr().err == ""
    result = build(site, out, TODAY, clean=True)
    assert tree_digest(out) == clean_build(site, tmp_path, "fresh-again")
    assert result.report.written == result.pages


def test_a_new_day_rewrites_pages_whose_status_changed(site, tmp_path):
    out = tmp_path / "out"
    build(site, out, TODAY)
    result = build(site, out, dt.date(2026, 8, 1))
    assert result.report.written > 0
    assert "预计窗口内" in (out / "shanghai/songjiang/kuangye/index.html").read_text("utf-8")


# --- the manifest's records ---------------------------------------------------------------

def _manifest(out):
    from erjian.output.incremental import Manifest
    from erjian.output.owned_folder import read_marker, state_folder

    version = read_marker(out)
    return Manifest(state_folder(out) / "versions" / version, version)


def test_the_manifest_holds_typed_records(site, tmp_path):
    import dataclasses

    from erjian.output.incremental import ManifestEntry
    from erjian.site.province_unit import UnitProducts

    out = tmp_path / "out"
    build(site, out, TODAY)
    manifest = _manifest(out)
    entry = manifest.files("anhui")["anhui/index.html"]
    assert isinstance(entry, ManifestEntry) and len(entry.digest) == 64
    assert all(isinstance(e, ManifestEntry) for e in manifest.units.values())
    products = manifest.products("anhui")
    assert isinstance(products, UnitProducts)
    assert "anhui/index.html" in products.paths and products.digest_of("home")
    with pytest.raises(dataclasses.FrozenInstanceError):
        products.paths = []


def test_a_manifest_of_an_older_format_is_ignored_not_misread(site, tmp_path):
    """An older generator's manifest (products as dicts, entries as tuples) is not believed:
    the next build renders everything, and publishes what a clean build would."""
    from erjian.core import signed

    out = tmp_path / "out"
    build(site, out, TODAY)
    folder = _manifest(out).folder
    index = signed.load(folder / "index.pickle")
    index["format"] = 4
    index["units"] = {u: (e.key, e.digest) for u, e in index["units"].items()}
    signed.dump(folder / "index.pickle", index)
    again = build(site, out, TODAY)
    assert again.report.written == again.pages and again.report.unchanged == 0
    assert tree_digest(out) == clean_build(site, tmp_path, "clean")


def test_typed_entries_pickle_about_as_small_as_tuples():
    """A national manifest has 42,000 entries: the type must not cost field names each."""
    import pickle

    from erjian.output.incremental import ManifestEntry

    files = {f"p/r{i}/jianzhu/index.html": (f"{i:032x}", f"{i:064x}") for i in range(2000)}
    typed = {path: ManifestEntry(*entry) for path, entry in files.items()}
    assert pickle.loads(pickle.dumps(typed)) == typed
    assert len(pickle.dumps(typed)) < 1.05 * len(pickle.dumps(files))
