"""The output folder under faults: the generator never deletes what it did not make, publishes
all or nothing (a build killed at any point leaves exactly the old or the new site, and the next
build equals a clean one), serialises builds on one output, and never trusts its cache."""

import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, copy_site, leftovers, run_cli, tree_digest
from erjian.core import signed
from erjian.output import owned_folder

pytestmark = pytest.mark.slow   # builds killed at every fault point, and their clean twins

OLD_DAY, NEW_DAY = "2026-06-15", "2026-06-16"


def cli(site: Path, out: Path, *extra: str, env: dict | None = None,
        today: str = NEW_DAY) -> subprocess.CompletedProcess:
    """build.py in a process of its own (so that it can be killed)."""
    return subprocess.run(
        [sys.executable, str(ROOT / "build.py"), "--root", str(site), "--out", str(out),
         "--today", today, *extra], capture_output=True, text=True, timeout=120,
        env={**os.environ, "ERJIAN_WORKERS": "1", **(env or {})})


def edit(site: Path) -> None:
    """A change touching one province's pages, removing a region and adding a notice."""
    path = site / "regions" / "anhui" / "maanshan.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "note: 本地考点交通提示。\n",
                    encoding="utf-8")
    (site / "regions" / "shanghai" / "songjiang.yaml").unlink()
    (site / "content" / "notices" / "zz-test.md").write_text(
        "---\ntitle: 测试通知\ndate: 2026-06-10\nkind: general\nprovinces: [anhui]\n---\n"
        "正文。\n", encoding="utf-8")


@pytest.fixture(scope="module")
def versions(tmp_path_factory):
    """Clean builds of the site before and after ``edit``: what a published output may be."""
    base = tmp_path_factory.mktemp("versions")
    old_site, new_site = copy_site(base / "old"), copy_site(base / "new")
    edit(new_site)
    assert cli(old_site, base / "old-out", today=NEW_DAY).returncode == 0
    assert cli(new_site, base / "new-out", "--clean").returncode == 0
    return tree_digest(base / "old-out"), tree_digest(base / "new-out")


def published(tmp_path: Path, spare: bool) -> tuple[Path, Path]:
    """A site with its output built at the old state (twice when ``spare``, so that the
    state folder holds a spare tree), then edited."""
    site, out = copy_site(tmp_path / "site"), tmp_path / "public" / "out"
    if spare:
        assert cli(site, out, today=OLD_DAY).returncode == 0
    assert cli(site, out).returncode == 0
    edit(site)
    return site, out


POINTS = ["staged", "before-manifest", "spare-unmarked", "spare-half", "before-switch",
          "after-switch"]


@pytest.mark.parametrize("spare", [False, True], ids=["first-incremental", "with-spare"])
@pytest.mark.parametrize("point", POINTS)
def test_killed_build_leaves_old_or_new_site_and_next_build_equals_clean(
        versions, tmp_path, point, spare):
    old, new = versions
    site, out = published(tmp_path, spare)
    assert tree_digest(out) == old
    killed = cli(site, out, env={"ERJIAN_FAULT": f"{point}:kill"})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert tree_digest(out) in (old, new)
    if point == "after-switch":
        assert tree_digest(out) == new
    elif point != "after-switch":
        assert tree_digest(out) == old
    again = cli(site, out)
    assert again.returncode == 0, again.stderr
    assert tree_digest(out) == new
    assert leftovers(out) == []
    assert cli(site, out).stdout.count(" 0 written,") == 1   # and it knows it is up to date


def test_builds_killed_at_arbitrary_moments(versions, tmp_path):
    old, new = versions
    site, out = published(tmp_path, spare=True)
    command = [sys.executable, str(ROOT / "build.py"), "--root", str(site), "--out", str(out),
               "--today", NEW_DAY]
    seen = set()
    for delay in (0.05, 0.15, 0.25, 0.35, 0.45, 0.55, 0.7, 0.9):
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        state = tree_digest(out)
        assert state in (old, new), f"mixed site after a kill at {delay} s"
        seen.add("new" if state == new else "old")
        if state == new:   # start over from the old site for the next kill
            shutil.rmtree(tmp_path / "site"), shutil.rmtree(out.parent)
            site, out = published(tmp_path, spare=True)
    assert cli(site, out).returncode == 0
    assert tree_digest(out) == new


@pytest.mark.parametrize("point", ["staged", "before-manifest", "spare-half", "before-switch"])
def test_a_failing_build_publishes_nothing_and_the_next_one_recovers(versions, tmp_path, point):
    old, new = versions
    site, out = published(tmp_path, spare=True)
    failed = cli(site, out, env={"ERJIAN_FAULT": f"{point}:error"})
    assert failed.returncode != 0
    assert tree_digest(out) == old
    assert leftovers(out) == []
    assert cli(site, out).returncode == 0 and tree_digest(out) == new


@pytest.mark.parametrize("point", ["staged", "before-manifest", "spare-half"])
def test_disk_full_is_a_message_and_publishes_nothing(versions, tmp_path, point):
    old, _ = versions
    site, out = published(tmp_path, spare=True)
    full = cli(site, out, env={"ERJIAN_FAULT": f"{point}:enospc"})
    assert full.returncode == 1
    assert "Traceback" not in full.stderr
    assert "No space left on device" in full.stderr or "disk" in full.stderr.lower()
    assert tree_digest(out) == old
    assert leftovers(out) == []


def test_interrupted_two_rename_swap_is_completed_by_the_next_build(versions, tmp_path,
                                                                   monkeypatch):
    """Where the filesystem cannot exchange two folders, a journal covers the moment between
    the two renames."""
    old, new = versions
    site, out = published(tmp_path, spare=True)

    def unsupported(new_tree, target):
        raise OSError(38, "Function not implemented")

    monkeypatch.setattr(owned_folder, "exchange", unsupported)
    monkeypatch.setattr(owned_folder, "_FAULT", "between-renames:error")
    with pytest.raises(RuntimeError, match="injected fault"):
        run_cli("--root", str(site), "--out", str(out), "--today", NEW_DAY)
    assert not out.exists()            # the moment between the renames
    monkeypatch.setattr(owned_folder, "_FAULT", "")
    code, _, stderr = run_cli("--root", str(site), "--out", str(out), "--today", NEW_DAY)
    assert code == 0, stderr
    assert tree_digest(out) == new and leftovers(out) == []


def test_output_on_a_mount_point_is_a_message(versions, tmp_path, monkeypatch):
    old, _ = versions
    site, out = published(tmp_path, spare=True)

    def busy(new_tree, target):
        raise OSError(16, "Device or resource busy")

    monkeypatch.setattr(owned_folder, "exchange", busy)
    code, _, stderr = run_cli("--root", str(site), "--out", str(out), "--today", NEW_DAY)
    assert code == 1
    assert f"cannot publish into {out}: it is a mount point" in stderr
    assert f"--out {out / 'site'}" in stderr
    assert tree_digest(out) == old


def test_a_file_system_that_cannot_swap_folders_is_named_not_called_a_mount_point(
        versions, tmp_path, monkeypatch):
    """EXDEV from renameat2 where the output is no mount point (overlayfs: a folder from a
    Docker image's lower layer) says what the file system refused and where to build."""
    old, _ = versions
    site, out = published(tmp_path, spare=True)

    def cross_device(new_tree, target):
        raise OSError(18, "Invalid cross-device link")

    monkeypatch.setattr(owned_folder, "exchange", cross_device)
    code, _, stderr = run_cli("--root", str(site), "--out", str(out), "--today", NEW_DAY)
    assert code == 1 and "Traceback" not in stderr
    assert f"cannot publish into {out}: its file system refuses to rename or swap" in stderr
    assert "overlayfs" in stderr and "volume or a tmpfs" in stderr
    assert "mount point" not in stderr and "/site" not in stderr.split("hint:")[1]
    assert tree_digest(out) == old


# -- ownership -------------------------------------------------------------------------------

def _files(folder: Path) -> dict:
    return tree_digest(folder)


@pytest.mark.parametrize("target", [".", "regions", "regions/anhui", "templates", "content",
                                    "calendars", "..", "regions/new-folder"])
@pytest.mark.parametrize("clean", [False, True])
def test_never_builds_into_the_repository_or_its_inputs(site, target, clean):
    before = _files(site.parent)
    args = ["--root", str(site), "--out", str(site / target), "--today", NEW_DAY]
    code, _, stderr = run_cli(*args, *(["--clean"] if clean else []))
    assert code == 1
    assert "refusing to write the site into" in stderr and "Traceback" not in stderr
    assert _files(site.parent) == before


def test_refuses_a_folder_it_did_not_make(site, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "guide.md").write_text("mine", encoding="utf-8")
    for extra in ([], ["--clean"]):
        code, _, stderr = run_cli("--root", str(site), "--out", str(docs), *extra)
        assert code == 1 and "not made by this generator" in stderr
        assert _files(docs) == {"guide.md": _files(docs)["guide.md"]}
    assert not (tmp_path / ".erjian.docs").exists()


def test_takes_an_empty_folder_and_then_owns_it(site, tmp_path):
    out = tmp_path / "empty"
    out.mkdir()
    assert run_cli("--root", str(site), "--out", str(out), "--today", NEW_DAY)[0] == 0
    assert owned_folder.read_marker(out) is not None
    (out / "stray.html").write_text("left by hand", encoding="utf-8")
    assert run_cli("--root", str(site), "--out", str(out), "--clean", "--today", NEW_DAY)[0] == 0
    assert not (out / "stray.html").exists()


def test_refuses_a_symlink_or_a_file_as_output(site, tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    code, _, stderr = run_cli("--root", str(site), "--out", str(tmp_path / "link"))
    assert code == 1 and "symbolic link" in stderr
    (tmp_path / "file").write_text("x", encoding="utf-8")
    code, _, stderr = run_cli("--root", str(site), "--out", str(tmp_path / "file"))
    assert code == 1 and "not a folder" in stderr
    assert (tmp_path / "file").read_text(encoding="utf-8") == "x"


# -- one build at a time ---------------------------------------------------------------------

def test_a_second_build_waits_for_the_first(versions, tmp_path):
    _, new = versions
    site, out = published(tmp_path, spare=False)
    state = owned_folder.state_folder(out)
    with owned_folder.BuildLock(state / "lock"):
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "build.py"), "--root", str(site), "--out", str(out),
             "--today", NEW_DAY], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(2)
        assert process.poll() is None            # still waiting
        assert tree_digest(out) != new
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0
    assert f"waiting for another build writing this output folder (pid {os.getpid()})" in stderr
    assert tree_digest(out) == new


def test_two_builds_at_once_leave_one_complete_site(versions, tmp_path):
    site, out = published(tmp_path, spare=True)
    reference = tmp_path / "reference"
    assert cli(site, reference, "--clean", today=OLD_DAY).returncode == 0
    outcomes = [tree_digest(reference), versions[1]]
    command = [sys.executable, str(ROOT / "build.py"), "--root", str(site), "--out", str(out)]
    first = subprocess.Popen(command + ["--today", NEW_DAY], stderr=subprocess.PIPE)
    second = subprocess.Popen(command + ["--today", OLD_DAY], stderr=subprocess.PIPE)
    assert first.wait(timeout=120) == 0 and second.wait(timeout=120) == 0
    assert tree_digest(out) in outcomes
    assert leftovers(out) == []


def test_leftovers_of_interrupted_builds_are_removed_and_ignored_by_git(site, tmp_path):
    out = tmp_path / "public" / "out"
    assert run_cli("--root", str(site), "--out", str(out), "--today", NEW_DAY)[0] == 0
    (out.parent / ".out.staging-abc123" / "x").mkdir(parents=True)     # older generator
    (owned_folder.state_folder(out) / "stage-xyz" / "anhui").mkdir(parents=True)
    assert run_cli("--root", str(site), "--out", str(out), "--today", NEW_DAY)[0] == 0
    assert leftovers(out) == []
    ignored = subprocess.run(["git", "check-ignore", "--no-index", ".erjian.output/x",
                              ".output.staging-1/x", "output/x"], cwd=ROOT,
                             capture_output=True, text=True).stdout.split()
    assert ignored == [".erjian.output/x", ".output.staging-1/x", "output/x"]


# -- the cache is only a cache ---------------------------------------------------------------

EXPLOIT = b"cos\nsystem\n(S'touch %s'\ntR."


def test_crafted_cache_files_never_run(site, tmp_path):
    out, cache = tmp_path / "out", site / ".cache"
    assert run_cli("--root", str(site), "--out", str(out), "--today", NEW_DAY)[0] == 0
    reference = tree_digest(out)
    planted = list(cache.rglob("*.pickle")) + list((cache / "jinja").glob("*"))
    planted += list(owned_folder.state_folder(out).rglob("*.pickle"))
    assert len(planted) >= 4
    marker = tmp_path / "pwned"
    for path in planted:
        path.write_bytes(EXPLOIT % str(marker).encode())
    code, _, stderr = run_cli("--root", str(site), "--out", str(out), "--today", NEW_DAY)
    assert code == 0, stderr
    assert not marker.exists()
    assert tree_digest(out) == reference
    notes = [line for line in stderr.splitlines() if line.startswith("note: ignored cache")]
    assert notes and all("rebuilt" in line for line in notes)


def test_a_signed_exploit_from_another_machine_is_refused(site, tmp_path, monkeypatch):
    """Signing with another key (another machine, a pull request) proves nothing."""
    out = tmp_path / "out"
    assert run_cli("--root", str(site), "--out", str(out), "--today", NEW_DAY)[0] == 0
    marker = tmp_path / "pwned"
    monkeypatch.setattr(signed, "_key", b"k" * 32)
    forged = signed.sign_bytes(EXPLOIT % str(marker).encode())
    monkeypatch.setattr(signed, "_key", None)
    for path in (site / ".cache").rglob("*.pickle"):
        path.write_bytes(forged)
    assert run_cli("--root", str(site), "--out", str(out), "--today", NEW_DAY)[0] == 0
    assert not marker.exists()


def test_one_flipped_byte_is_a_note_not_a_crash(site, tmp_path):
    out = tmp_path / "out"
    assert run_cli("--root", str(site), "--out", str(out), "--today", OLD_DAY)[0] == 0
    edit(site)
    victims = list((site / ".cache").rglob("*.pickle"))
    victims += list(owned_folder.state_folder(out).rglob("*.pickle"))
    for path in victims:
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0x01
        path.write_bytes(bytes(data))
    for _ in range(2):   # and the build after it is back to normal
        code, _, stderr = run_cli("--root", str(site), "--out", str(out), "--today", NEW_DAY)
        assert code == 0, stderr
    reference = tmp_path / "reference"
    assert run_cli("--root", str(site), "--out", str(reference), "--clean",
                   "--today", NEW_DAY)[0] == 0
    assert tree_digest(out) == tree_digest(reference)


def test_clean_reads_nothing_from_the_cache(site, tmp_path):
    """A cache entry that is signed but wrong (as a bug could leave) shows in a build that
    uses the cache and never in a --clean one."""
    out = tmp_path / "out"
    assert run_cli("--root", str(site), "--out", str(out), "--today", NEW_DAY)[0] == 0
    path = site / ".cache" / "inputs.pickle"
    data = signed.load(path)
    source = str(site / "regions" / "anhui" / "maanshan.yaml")
    stamp, value = data["files"][source]
    data["files"][source] = (stamp, dataclasses.replace(value, name="毒药市"))
    signed.dump(path, data)
    page = "anhui/index.html"
    assert run_cli("--root", str(site), "--out", str(out), "--clean", "--today", NEW_DAY)[0] == 0
    assert "毒药市" not in (out / page).read_text(encoding="utf-8")
    signed.dump(path, data)
    other = tmp_path / "other"
    assert run_cli("--root", str(site), "--out", str(other), "--today", NEW_DAY)[0] == 0
    assert "毒药市" in (other / page).read_text(encoding="utf-8")   # the poison was usable


def test_a_worker_that_dies_fails_the_build_instead_of_hanging(versions, tmp_path,
                                                             monkeypatch):
    from erjian.output import jobs

    old, _ = versions
    site, out = published(tmp_path, spare=True)
    monkeypatch.setattr(jobs, "PARALLEL_FROM", 0)
    monkeypatch.setenv("ERJIAN_WORKERS", "2")
    monkeypatch.setattr(owned_folder, "_FAULT", "staged:kill")   # in the workers: they render
    code, _, stderr = run_cli("--root", str(site), "--out", str(out), "--today", NEW_DAY)
    assert code == 1 and "worker process died" in stderr
    assert tree_digest(out) == old


def test_a_key_inside_the_repository_is_never_used(site, tmp_path, monkeypatch):
    """With HOME at the checkout, ~/.cache is the repository's own .cache/, which a pull
    request can fill with a key and caches signed by it."""
    out = tmp_path / "out"
    monkeypatch.setenv("XDG_CACHE_HOME", str(site / ".cache"))
    monkeypatch.setattr(signed, "_key", None)
    monkeypatch.setattr(signed, "_untrusted_roots", [])
    key = site / ".cache" / "erjian" / "cache-key"
    key.parent.mkdir(parents=True)
    key.write_bytes(b"p" * 32)
    marker = tmp_path / "pwned"
    (site / ".cache" / "memo.pickle").write_bytes(
        signed.MAGIC + __import__("hmac").new(b"p" * 32, signed.MAGIC + EXPLOIT % str(
            marker).encode(), "sha256").digest() + EXPLOIT % str(marker).encode())
    assert run_cli("--root", str(site), "--out", str(out), "--today", NEW_DAY)[0] == 0
    assert not marker.exists()
    assert signed.machine_key() != b"p" * 32
