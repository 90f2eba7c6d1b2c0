"""One build session, two destinations: the command line's build writes to disk exactly the
bytes the preview's memory destination renders, file for file."""

from conftest import TODAY, run_cli, tree_digest
from erjian.output.jobs import SITE_UNIT
from erjian.output.owned_folder import MARKER
from erjian.output.session import BuildSession, MemoryDestination
from test_redirects import site_with_divisions

BASE = "http://127.0.0.1:8123/"


def in_memory(session: BuildSession) -> dict[str, bytes]:
    """Every file of the site, listed into the memory destination and rendered."""
    destination = MemoryDestination()
    units, products = [], []
    for province in session.site.provinces:
        files, made = session.province_files(destination, province.slug)
        units.append(files)
        products.append(made)
    units.append(session.site_files(destination, products))
    rendered = {}
    for files in units:
        for path in files.paths:
            assert path not in rendered, f"two units list {path}"
            rendered[path] = files.content(path)
    return rendered


def test_the_cli_build_and_the_memory_destination_give_the_same_bytes(tmp_path):
    site = site_with_divisions(tmp_path / "site")   # redirects, calendars at old addresses
    out = tmp_path / "out"
    code, _, stderr = run_cli("--root", str(site), "build", "--out", str(out), "--today",
                              TODAY.isoformat(), "--base-url", BASE)
    assert code == 0, stderr
    on_disk = {path: (out / path).read_bytes() for path in tree_digest(out) if path != MARKER}
    memory = in_memory(BuildSession(site, TODAY, BASE, cache_dir=tmp_path / "c"))
    assert len(on_disk) > 60 and "static/style.css" in on_disk
    assert "xinjiang/shawanxian/jidian/schedule.ics" in on_disk   # a calendar's old address
    assert sorted(memory) == sorted(on_disk)
    for path, content in on_disk.items():
        assert memory[path] == content, path


def test_the_memory_destination_renders_a_file_only_when_asked(site, tmp_path):
    session = BuildSession(site, TODAY, BASE, cache_dir=tmp_path / "c")
    files, _ = session.province_files(MemoryDestination(), "xinjiang", products=False)
    page = "xinjiang/tacheng/jidian/index.html"
    assert page in files.paths and files.rendered == {}
    first = files.content(page)
    assert "塔城地区" in first.decode("utf-8") and list(files.rendered) == [page]
    assert files.content(page) is first
    assert files.content("xinjiang/no-such/index.html") is None


def test_unit_keys_name_the_site_unit_by_the_fingerprint(site, tmp_path):
    session = BuildSession(site, TODAY, BASE, cache_dir=tmp_path / "c")
    assert session.unit_key(SITE_UNIT) == session.fingerprint
    keys = {session.unit_key(p.slug) for p in session.site.provinces}
    assert len(keys) == len(session.site.provinces) and session.fingerprint not in keys
    region = site / "regions" / "xinjiang" / "tacheng.yaml"
    region.write_text(region.read_text(encoding="utf-8") + "note: 新说明。\n", encoding="utf-8")
    edited = BuildSession(site, TODAY, BASE, cache_dir=tmp_path / "c")
    assert edited.unit_key("xinjiang") != session.unit_key("xinjiang")
    assert edited.unit_key("anhui") == session.unit_key("anhui")
