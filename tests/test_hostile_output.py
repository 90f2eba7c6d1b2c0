"""A hostile or hand-edited output folder (GitHub issue 20): the build never writes or deletes
through a symbolic link, never nests a site in another, and publishes exactly what its
manifest says — whatever was edited, deleted, added or replayed in output/ or its state
folder since the last build. Messages name the real cause."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import run_cli, tree_digest
from erjian.output import owned_folder

pytestmark = pytest.mark.slow   # a built site per case

DAY, OTHER_DAY = "2026-06-15", "2026-06-16"


def build(root: Path, out: Path, *extra: str, today: str = DAY) -> tuple[int, str, str]:
    return run_cli("--root", str(root), "--out", str(out), "--today", today, *extra)


def built(root: Path, out: Path, *extra: str, today: str = DAY) -> str:
    code, stdout, stderr = build(root, out, *extra, today=today)
    assert code == 0, stderr
    return stdout


@pytest.fixture(scope="module")
def reference(tmp_path_factory, seed_root) -> dict[str, dict]:
    """Clean builds of the seed site for both days: what the output must equal."""
    base = tmp_path_factory.mktemp("reference")
    digests = {}
    for day in (DAY, OTHER_DAY):
        built(seed_root, base / day, today=day)
        digests[day] = tree_digest(base / day)
    assert digests[DAY] != digests[OTHER_DAY]
    return digests


def published(seed_root: Path, tmp_path: Path) -> Path:
    """The seed site built for OTHER_DAY then DAY: output/ and a spare sharing its files."""
    out = tmp_path / "public" / "out"
    built(seed_root, out, today=OTHER_DAY)
    built(seed_root, out)
    return out


def edit_region(site: Path, text: str) -> None:
    path = site / "regions" / "anhui" / "maanshan.yaml"
    lines = [line for line in path.read_text(encoding="utf-8").splitlines()
             if not line.startswith("note:")]
    path.write_text("\n".join(lines + [f"note: {text}"]) + "\n", encoding="utf-8")


# -- symbolic links are refused, never followed ------------------------------------------------

def test_a_symlinked_versions_folder_is_refused_and_its_target_kept(seed_root, tmp_path):
    out = published(seed_root, tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "thesis.txt").write_text("years of work", encoding="utf-8")
    versions = owned_folder.state_folder(out) / "versions"
    shutil.rmtree(versions)
    versions.symlink_to(elsewhere)
    before = tree_digest(out)
    code, _, stderr = build(seed_root, out, today=OTHER_DAY)
    assert code == 1 and "Traceback" not in stderr
    assert f"{versions} is a symbolic link, which this generator never makes" in stderr
    assert "remove it" in stderr
    assert (elsewhere / "thesis.txt").read_text(encoding="utf-8") == "years of work"
    assert sorted(p.name for p in elsewhere.iterdir()) == ["thesis.txt"]
    assert tree_digest(out) == before


def test_a_symlinked_lock_is_refused_and_its_target_kept(seed_root, tmp_path):
    out = published(seed_root, tmp_path)
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me\n", encoding="utf-8")
    lock = owned_folder.state_folder(out) / "lock"
    lock.unlink()
    lock.symlink_to(precious)
    code, _, stderr = build(seed_root, out)
    assert code == 1 and "Traceback" not in stderr
    assert f"{lock} is a symbolic link, which this generator never makes" in stderr
    assert precious.read_text(encoding="utf-8") == "keep me\n"


def test_a_symlink_inside_output_is_refused_on_every_build(site, tmp_path):
    out = tmp_path / "out"
    built(site, out)
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(out / "anhui", elsewhere)
    shutil.rmtree(out / "anhui")
    (out / "anhui").symlink_to(elsewhere)
    before = tree_digest(elsewhere)
    for text in ("本地考点交通提示。", "另一条提示。"):
        edit_region(site, text)
        code, _, stderr = build(site, out)
        assert code == 1 and "Traceback" not in stderr
        assert f"{out / 'anhui'} is a symbolic link, which this generator never makes" in stderr
        assert tree_digest(elsewhere) == before
        assert (out / "anhui").is_symlink()


def test_a_symlink_inside_the_spare_is_refused_never_written_through(site, tmp_path):
    out = tmp_path / "out"
    built(site, out, today=OTHER_DAY)
    built(site, out)
    spare = owned_folder.state_folder(out) / "spare"
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(spare / "anhui", elsewhere)
    shutil.rmtree(spare / "anhui")
    (spare / "anhui").symlink_to(elsewhere)
    before, published_before = tree_digest(elsewhere), tree_digest(out)
    edit_region(site, "本地考点交通提示。")
    code, _, stderr = build(site, out)
    assert code == 1 and "Traceback" not in stderr
    assert f"{spare / 'anhui'} is a symbolic link, which this generator never makes" in stderr
    assert tree_digest(elsewhere) == before
    assert tree_digest(out) == published_before


def test_a_symlinked_marker_is_refused(seed_root, tmp_path):
    out = published(seed_root, tmp_path)
    fake = tmp_path / "fake-marker"
    fake.write_bytes((out / owned_folder.MARKER).read_bytes())
    (out / owned_folder.MARKER).unlink()
    (out / owned_folder.MARKER).symlink_to(fake)
    code, _, stderr = build(seed_root, out)
    assert code == 1 and f"{out / owned_folder.MARKER} is a symbolic link" in stderr
    assert (out / owned_folder.MARKER).is_symlink()


def test_a_swap_journal_naming_a_folder_elsewhere_is_ignored(seed_root, reference, tmp_path):
    out = published(seed_root, tmp_path)
    evil = tmp_path / "evil"
    evil.mkdir()
    owned_folder.write_marker(evil, "abc123")
    (evil / "index.html").write_text("defaced", encoding="utf-8")
    state = owned_folder.state_folder(out)
    (state / "swap.json").write_text(json.dumps({"new": str(evil), "old": str(tmp_path)}))
    shutil.rmtree(out)
    built(seed_root, out)
    assert (evil / "index.html").read_text(encoding="utf-8") == "defaced"
    assert tree_digest(out) == reference[DAY]


# -- never inside another site -------------------------------------------------------------------

@pytest.mark.parametrize("inside", ["output", "state"])
def test_out_inside_another_sites_output_or_state_is_refused(seed_root, tmp_path, inside):
    out = published(seed_root, tmp_path)
    before = tree_digest(out.parent)
    parent = out if inside == "output" else owned_folder.state_folder(out)
    nested = parent / "sub"
    code, _, stderr = build(seed_root, nested)
    assert code == 1 and "Traceback" not in stderr
    assert f"refusing to write the site into {nested}" in stderr
    expected = "the output of another build" if inside == "output" else "the state folder"
    assert expected in stderr and "outside" in stderr
    assert tree_digest(out.parent) == before
    assert not nested.exists() and not (parent / ".erjian.sub").exists()


# -- what is published is what the manifest says --------------------------------------------------

def append_in_place(path: Path) -> None:
    with open(path, "ab") as handle:       # the same inode, as `echo x >> file` does
        handle.write(b"/* injected */\n")


def replace_like_sed(path: Path) -> None:
    temporary = path.with_name(path.name + ".sed")   # a new inode, as `sed -i` does
    temporary.write_bytes(b"/* edited */" + path.read_bytes())
    os.replace(temporary, path)


@pytest.mark.parametrize("change", [append_in_place, replace_like_sed])
def test_a_file_edited_in_place_is_repaired_and_never_republished(seed_root, reference,
                                                                  tmp_path, change):
    out = published(seed_root, tmp_path)
    shared = "static/style.css"          # the same on both days: shared with the spare
    change(out / shared)
    code, stdout, stderr = build(seed_root, out)
    assert code == 0, stderr
    assert f"note: out/{shared}: changed since the last build" in stderr
    assert " 1 written," in stdout
    assert tree_digest(out) == reference[DAY]
    for day in (OTHER_DAY, DAY, OTHER_DAY):   # and never comes back from the spare
        built(seed_root, out, today=day)
        assert tree_digest(out) == reference[day]


def test_an_edit_repaired_by_clean_is_not_republished_from_the_spare(seed_root, reference,
                                                                    tmp_path):
    out = published(seed_root, tmp_path)
    append_in_place(out / "static" / "style.css")
    built(seed_root, out, "--clean")
    assert tree_digest(out) == reference[DAY]
    for day in (OTHER_DAY, DAY):
        built(seed_root, out, today=day)
        assert tree_digest(out) == reference[day]


def test_a_back_dated_edit_is_noticed(seed_root, reference, tmp_path):
    """Restoring size and mtime after an edit (touch -d) still changes the ctime."""
    out = published(seed_root, tmp_path)
    page = out / "anhui" / "index.html"
    before = page.stat()
    data = page.read_bytes()
    page.write_bytes(data[:100] + (b"X" if data[100:101] != b"X" else b"Y") + data[101:])
    os.utime(page, ns=(before.st_atime_ns, before.st_mtime_ns))
    built(seed_root, out)
    assert tree_digest(out) == reference[DAY]


def test_a_deleted_page_comes_back(seed_root, reference, tmp_path):
    out = published(seed_root, tmp_path)
    (out / "anhui" / "index.html").unlink()
    shutil.rmtree(out / "xinjiang" / "tacheng")
    code, stdout, stderr = build(seed_root, out)
    assert code == 0, stderr
    assert "note: out/anhui/index.html" in stderr and "deleted since the last build" in stderr
    assert " 0 written," not in stdout
    assert tree_digest(out) == reference[DAY]


@pytest.mark.parametrize("replayed", ["*", "*-anhui.pickle"], ids=["manifest", "one-unit"])
def test_a_replayed_manifest_is_not_believed(seed_root, reference, tmp_path, replayed):
    """A signed manifest of another version (or one unit's files and products) copied over
    the current one's."""
    out = tmp_path / "out"
    built(seed_root, out)
    state = owned_folder.state_folder(out)
    first = owned_folder.read_marker(out)
    saved = tmp_path / "saved"
    shutil.copytree(state / "versions" / first, saved)
    built(seed_root, out, today=OTHER_DAY)
    current = state / "versions" / owned_folder.read_marker(out)
    for path in saved.glob(replayed):
        shutil.copyfile(path, current / path.name)
    code, stdout, stderr = build(seed_root, out)
    assert code == 0, stderr
    assert " 0 written," not in stdout
    assert tree_digest(out) == reference[DAY]


def test_a_file_added_by_hand_is_removed_once_and_for_all(seed_root, reference, tmp_path):
    out = published(seed_root, tmp_path)
    (out / "CNAME").write_text("example.org\n", encoding="utf-8")
    (out / "anhui" / "extra").mkdir()
    (out / "anhui" / "extra" / "page.html").write_text("mine", encoding="utf-8")
    code, _, stderr = build(seed_root, out)
    assert code == 0, stderr
    assert "note: out/CNAME, out/anhui/extra: not made by the generator; removed" in stderr
    assert tree_digest(out) == reference[DAY]
    for day in (OTHER_DAY, DAY, OTHER_DAY, DAY):
        code, _, stderr = build(seed_root, out, today=day)
        assert code == 0 and "not made by the generator" not in stderr
        assert tree_digest(out) == reference[day]
        assert not (out / "CNAME").exists()


# -- messages that point the right way ------------------------------------------------------------

def test_a_name_over_255_bytes_is_named_as_such(seed_root, tmp_path):
    out = tmp_path / ("a" * 250)
    code, _, stderr = build(seed_root, out)
    assert code == 1 and "Traceback" not in stderr
    assert "over the file system's limit of 255 bytes for one file or folder name" in stderr
    assert "at most 247 bytes" in stderr and "shorter path" not in stderr
    assert not out.exists() and list(tmp_path.iterdir()) == []


def _chattr(flag: str, path: Path) -> bool:
    try:
        return subprocess.run(["chattr", flag, str(path)], capture_output=True).returncode == 0
    except OSError:
        return False


def test_an_immutable_folder_is_named_with_what_to_do(site, tmp_path):
    out = tmp_path / "out"
    built(site, out)
    folder = out / "anhui" / "maanshan" / "jianzhu"
    if not _chattr("+i", folder):
        pytest.skip("chattr +i needs root and a file system with inode flags")
    try:
        outcomes = []
        for text in ("本地考点交通提示。", "另一条提示。"):
            edit_region(site, text)
            outcomes.append(build(site, out))
        code, _, stderr = outcomes[-1]
        assert [c for c, _, _ in outcomes] == [0, 1], outcomes
        assert "Traceback" not in stderr
        immutable = owned_folder.state_folder(out) / "spare" / "anhui" / "maanshan" / "jianzhu"
        assert f"cannot change {immutable}: it is immutable (chattr +i)" in stderr
        assert f"chattr -i {immutable}" in stderr
    finally:
        for path in (folder, owned_folder.state_folder(out) / "spare/anhui/maanshan/jianzhu"):
            _chattr("-i", path)
    code, _, stderr = build(site, out)
    assert code == 0, stderr


def test_enametoolong_names_the_name_over_the_limit_not_the_path():
    import errno

    from erjian.core.oserror_messages import explain_os_error

    long_name = "x" * 256
    report = explain_os_error(OSError(errno.ENAMETOOLONG, "File name too long",
                                      f"/srv/site/{long_name}/index.html")).report()
    assert "is 256 bytes, over the file system's limit of 255 bytes for one file or " \
           "folder name" in report
    assert "hint: shorten that name" in report and "shorter path" not in report
