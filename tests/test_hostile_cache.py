"""The signed cache's key under attack (issue 20): a key inside the repository (HOME at the
checkout, so that ~/.cache is the repository's .cache/), a key other users can read or
replace, a key that is a FIFO or a link to /dev/zero. None is ever used; no command reads
or writes a key inside the repository, and a crafted cache signed with such a key never
runs."""

import hmac
import os
import resource
import stat
import subprocess
import sys

import pytest

from conftest import ROOT, TODAY, copy_site, run_cli
from erjian.core import signed
from test_serve import fetch, free_port, wait_for

pytestmark = pytest.mark.slow   # preview servers in their own processes

EXPLOIT = b"cos\nsystem\n(S'touch %s'\ntR."
PLANTED = b"p" * 32


@pytest.fixture
def fresh_key(monkeypatch):
    """signed's state as in a new process."""
    monkeypatch.setattr(signed, "_key", None)
    monkeypatch.setattr(signed, "_key_folder", None, raising=False)
    monkeypatch.setattr(signed, "_untrusted_roots", [])
    monkeypatch.setattr(signed, "_noted", set())


def forged(marker) -> bytes:
    """A cache file whose unpickling runs ``touch marker``, signed with PLANTED."""
    payload = EXPLOIT % str(marker).encode()
    return signed.MAGIC + hmac.new(PLANTED, signed.MAGIC + payload, "sha256").digest() + payload


def plant_key(cache_home, key=PLANTED):
    """A key file as this generator would make it: 0600 in a 0700 folder."""
    folder = cache_home / "erjian"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / "cache-key"
    path.write_bytes(key)
    path.chmod(0o600)
    return path


def plant_caches(cache, marker) -> None:
    cache.mkdir(parents=True, exist_ok=True)
    for name in ("inputs.pickle", "memo.pickle"):
        (cache / name).write_bytes(forged(marker))


def key_notes(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("note: not using")]


# --- the repository's own key is never read, written or trusted -------------------------------

def serve_log(site, folder, env) -> str:
    """Run the preview on ``site`` with ``env`` until it serves a page; its log."""
    port = free_port()
    log_path = folder / "serve.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "build.py"), "--root", str(site), "serve", "--port",
             str(port), "--today", "2026-06-15"],
            stdout=log, stderr=subprocess.STDOUT, cwd=folder, env=env)
        try:
            status, _ = wait_for(port, lambda status, body: status == 200, path="/")
            assert status == 200
        finally:
            process.terminate()
            process.wait(timeout=10)
    return log_path.read_text(encoding="utf-8")


def home_at(site) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "XDG_CACHE_HOME"}
    return dict(env, HOME=str(site))


def test_serve_with_home_in_the_checkout_never_runs_a_planted_cache(site, tmp_path):
    """The preview read ~/.cache/erjian/cache-key (the repository's) before it knew the
    repository, then unpickled the crafted .cache/inputs.pickle signed with it."""
    marker = tmp_path / "pwned"
    key = plant_key(site / ".cache")
    plant_caches(site / ".cache", marker)
    log = serve_log(site, tmp_path, home_at(site))
    assert not marker.exists(), log
    assert key.read_bytes() == PLANTED   # left alone, only not used
    notes = key_notes(log)
    assert len(notes) == 1 and str(key) in notes[0] and "inside the repository" in notes[0]
    assert "Traceback" not in log


def test_serve_writes_no_key_into_the_repository(site, tmp_path):
    """A cache to check (any signed file) made the preview store a new key in ~/.cache,
    the repository's .cache/."""
    marker = tmp_path / "pwned"
    plant_caches(site / ".cache", marker)
    log = serve_log(site, tmp_path, home_at(site))
    assert not (site / ".cache" / "erjian").exists(), log
    assert not marker.exists() and "Traceback" not in log
    notes = key_notes(log)
    assert len(notes) == 1 and "inside the repository" in notes[0], log


def test_a_resident_preview_knows_its_repository_before_its_first_cache_read(
        site, tmp_path, monkeypatch, fresh_key):
    import io

    from erjian.preview.server import Preview

    monkeypatch.setenv("XDG_CACHE_HOME", str(site / ".cache"))
    marker = tmp_path / "pwned"
    plant_key(site / ".cache")
    plant_caches(site / ".cache", marker)
    preview = Preview(site, TODAY, stream=io.StringIO(), port=8000, cache_dir=site / ".cache")
    preview.rebuild()
    assert preview.error is None and not marker.exists()
    assert signed.machine_key() != PLANTED


COMMANDS = {
    "build": lambda site, tmp: ["--root", str(site), "--out", str(tmp / "out"),
                                "--today", "2026-06-15"],
    "check": lambda site, tmp: ["--root", str(site), "check", "--today", "2026-06-15"],
    "new": lambda site, tmp: ["--root", str(site), "new", "region", "xinjiang", "喀什地区"],
    "verify-links": lambda site, tmp: ["--root", str(site), "verify-links"],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("planted", [True, False], ids=["planted-key", "no-key"])
def test_no_command_reads_or_writes_a_key_in_the_repository(command, planted, site, tmp_path,
                                                            monkeypatch, fresh_key):
    monkeypatch.setenv("XDG_CACHE_HOME", str(site / ".cache"))
    marker = tmp_path / "pwned"
    if planted:
        plant_key(site / ".cache")
        plant_caches(site / ".cache", marker)
    if command == "verify-links":   # input errors: the command stops before any network
        (site / "regions" / "xinjiang" / "broken.yaml").write_text("name: [\n")
    code, _, stderr = run_cli(*COMMANDS[command](site, tmp_path))
    assert code == (1 if command == "verify-links" else 0), stderr
    assert "Traceback" not in stderr and not marker.exists()
    key = site / ".cache" / "erjian" / "cache-key"
    assert key.read_bytes() == PLANTED if planted else not key.exists()
    assert signed.machine_key() != PLANTED


# --- a key outside the repository is used only when provably the user's ------------------------

@pytest.fixture
def home(tmp_path, monkeypatch, fresh_key):
    """XDG_CACHE_HOME outside any repository, and a repository declared."""
    cache_home = tmp_path / "xdg"
    cache_home.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache_home))
    signed.never_trust_keys_under(tmp_path / "site")
    return cache_home


def test_the_user_s_own_private_key_is_used(home, capsys):
    plant_key(home)
    assert signed.machine_key() == PLANTED
    assert capsys.readouterr().err == ""


def test_a_new_key_is_private_to_the_user(home, capsys):
    key = signed.machine_key()
    path = home / "erjian" / "cache-key"
    assert path.read_bytes() == key and len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert capsys.readouterr().err == ""


def test_no_key_is_read_before_the_repository_is_known(tmp_path, monkeypatch, fresh_key):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    path = plant_key(tmp_path / "xdg")
    assert signed.machine_key() != PLANTED
    assert path.read_bytes() == PLANTED


def spoil(path, how: str) -> str:
    """Makes the key file at ``path`` unusable in the way ``how`` names; the words the note
    must say."""
    if how == "world-readable":
        path.chmod(0o644)
        return "other users can read or change it (mode 644; it must be 600)"
    if how == "group-writable-folder":
        path.parent.chmod(0o770)
        return "its folder is writable by other users (mode 770)"
    if how == "world-writable-folder":
        path.parent.chmod(0o777)
        return "its folder is writable by other users (mode 777)"
    if how == "other-owner":
        os.chown(path, 65534, 65534)
        return "it belongs to another user"
    if how == "other-owner-folder":
        os.chown(path.parent, 65534, 65534)
        return "its folder belongs to another user"
    if how == "short":
        path.write_bytes(b"k" * 31)
        return "it holds 31 bytes, not 32"
    if how == "long":
        path.write_bytes(b"k" * 4096)
        return "it holds more than 32 bytes"
    if how == "symlink":
        target = path.with_name("elsewhere")
        path.rename(target)
        path.symlink_to(target)
        return "it is a symbolic link"
    raise AssertionError(how)


@pytest.mark.parametrize("how", ["world-readable", "group-writable-folder",
                                 "world-writable-folder", "other-owner", "other-owner-folder",
                                 "short", "long", "symlink"])
def test_a_key_that_is_not_provably_the_user_s_is_not_used(home, how, capsys):
    if how.startswith("other-owner") and os.geteuid() != 0:
        pytest.skip("giving a file to another user needs root")
    path = plant_key(home)
    said = spoil(path, how)
    before = path.read_bytes() if path.is_file() else None
    assert signed.machine_key() not in (PLANTED, b"k" * 32)
    assert signed.machine_key() == signed.machine_key()   # one key for the whole process
    notes = key_notes(capsys.readouterr().err)
    assert len(notes) == 1 and said in notes[0] and str(path) in notes[0], notes
    assert "for this run only" in notes[0]
    if before is not None:
        assert path.read_bytes() == before   # left for the user to look at


def key_in_child(home, root) -> subprocess.CompletedProcess:
    """The key a fresh process resolves for ``root``, with at most 20 s of CPU and 512 MB."""
    def limits():
        resource.setrlimit(resource.RLIMIT_AS, (512 << 20, 512 << 20))
        resource.setrlimit(resource.RLIMIT_CPU, (20, 20))

    script = ("import sys; sys.path.insert(0, sys.argv[1]); from erjian.core import signed; "
              "signed.never_trust_keys_under(sys.argv[2]); print(signed.machine_key().hex())")
    return subprocess.run([sys.executable, "-c", script, str(ROOT), str(root)],
                          env=dict(os.environ, XDG_CACHE_HOME=str(home)), preexec_fn=limits,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("how", ["fifo", "dev-zero"])
def test_a_key_that_never_ends_is_a_note_not_a_hang(tmp_path, how):
    """A FIFO hung the build; a link to /dev/zero read until MemoryError."""
    home = tmp_path / "xdg"
    (home / "erjian").mkdir(parents=True, mode=0o700)
    path = home / "erjian" / "cache-key"
    if how == "fifo":
        os.mkfifo(path, 0o600)
    else:
        path.symlink_to("/dev/zero")
    try:
        done = key_in_child(home, tmp_path / "site")
    except subprocess.TimeoutExpired:
        pytest.fail("resolving the key hung")
    assert done.returncode == 0, done.stderr[-2000:]
    assert len(bytes.fromhex(done.stdout.strip())) == 32
    notes = key_notes(done.stderr)
    said = "it is a FIFO" if how == "fifo" else "it is a symbolic link"
    assert len(notes) == 1 and said in notes[0], done.stderr
    assert "Traceback" not in done.stderr


def test_a_key_in_use_is_dropped_when_a_repository_around_it_is_declared(home, capsys):
    plant_key(home)
    assert signed.machine_key() == PLANTED
    signed.never_trust_keys_under(home.parent)   # e.g. a second site, the key inside it
    assert signed.machine_key() != PLANTED
    notes = key_notes(capsys.readouterr().err)
    assert len(notes) == 1 and f"inside the repository {home.parent}" in notes[0]


def test_a_relative_xdg_cache_home_is_ignored(tmp_path, monkeypatch):
    """A relative XDG_CACHE_HOME names a folder of whatever the current folder is (the
    checkout, often); the XDG specification says to ignore it."""
    monkeypatch.setenv("XDG_CACHE_HOME", ".cache")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert signed.key_file() == tmp_path / ".cache" / "erjian" / "cache-key"
