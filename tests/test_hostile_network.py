"""Hostile cases for `verify-links` (GitHub issue 20): a name that leads to a private address,
a server that trickles its answer, and `--write` racing an editor or meeting a file it must
not replace. Servers run on 127.0.0.1 only, with the fixtures of test_verify_links."""

from __future__ import annotations

import errno
import ipaddress
import os
import random
import resource
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import copy_site, run_cli, tree_digest
from erjian.editor import verify_links
from test_verify_links import ANNOTATED, LOCAL, TODAY, Counter, direct_settings, rows_by_url
from test_verify_links import network  # noqa: F401 - the module's local servers, a fixture

pytestmark = pytest.mark.slow   # local HTTPS servers with timeouts

ANHUI = "regions/anhui/province.yaml"
# Anhui's three authority links, pointed at local pages that answer 200.
ANHUI_LINKS = {"https://www.apta.gov.cn/": "https://ok.test.gov.cn/",
               "https://hrss.ah.gov.cn/": "https://gbk.test.gov.cn/",
               "https://dohurd.ah.gov.cn/": "https://hop.test.gov.cn/"}
STAMP = f"verified: {TODAY}"


@pytest.fixture
def anhui_site(tmp_path, network, monkeypatch) -> Path:  # noqa: F811 - the fixture above
    """Anhui alone, every link passing on the local servers (so the exit code tells whether
    --write recorded them all)."""
    root = copy_site(tmp_path / "site", provinces=("anhui",))
    path = root / ANHUI
    text = path.read_text(encoding="utf-8")
    for old, new in ANHUI_LINKS.items():
        text = text.replace(f"url: {old}\n", f"url: {new}\n")
    path.write_text(text, encoding="utf-8")
    (root / "regions" / "anhui" / "maanshan.yaml").unlink()   # its own links, not wanted here
    monkeypatch.setenv("SSL_CERT_FILE", network["bundle"])
    monkeypatch.setenv("ERJIAN_VERIFY_RESOLVE", network["resolve"])
    return root


def verify_write(root: Path, *extra: str) -> tuple[int, str, str]:
    return run_cli("--root", str(root), "verify-links", "--write", "--timeout", "2",
                   "--today", TODAY.isoformat(), *extra)


def beside(path: Path) -> list[str]:
    """The files of ``path``'s folder other than the site's own."""
    return sorted(p.name for p in path.parent.iterdir()
                  if p.name not in ("province.yaml", "_divisions.yaml"))


def test_the_site_passes_and_is_recorded_when_nothing_is_hostile(anhui_site):
    code, out, err = verify_write(anhui_site, *LOCAL)
    assert code == 0, (out, err)
    assert f"--write: {STAMP} recorded for 3 of 3 links" in out
    assert (anhui_site / ANHUI).read_text(encoding="utf-8").count(STAMP) == 3
    assert beside(anhui_site / ANHUI) == []


# --- private addresses -----------------------------------------------------------------------

def test_a_name_resolving_to_loopback_is_refused_never_contacted_nor_recorded(anhui_site,
                                                                            monkeypatch):
    silent = Counter()   # every name leads here: a refused address is never connected to
    try:
        monkeypatch.setenv("ERJIAN_VERIFY_RESOLVE", ",".join(
            f"{urlish.split('/')[2]}=127.0.0.1:{silent.port}" for urlish in ANHUI_LINKS.values()))
        before = tree_digest(anhui_site)
        code, out, err = verify_write(anhui_site)
        assert code == 1, (out, err)
        assert [row[1] for row in rows_by_url(out).values()] == ["blocked address"] * 3, out
        failed = [line for line in out.splitlines() if line.startswith("FAILED")]
        assert len(failed) == 3 and all("127.0.0.1 is a loopback address, never opened"
                                        in line for line in failed), out
        assert f"--write: {STAMP} recorded for 0 of 3 links" in out
        assert tree_digest(anhui_site) == before
        assert silent.accepted == []
    finally:
        silent.close()


@pytest.mark.parametrize("address, problem", [
    ("127.0.0.1", "a loopback"), ("10.1.2.3", "a private"), ("192.168.0.1", "a private"),
    ("169.254.169.254", "a link-local"), ("100.64.0.1", "a non-public"),
    ("224.0.0.1", "a multicast"), ("233.252.0.1", "a multicast"), ("0.0.0.0", "an unspecified"),
    ("240.0.0.1", "a reserved"), ("::1", "a loopback"), ("::", "an unspecified"),
    ("fe80::1%eth0", "a link-local"), ("fc00::1", "a private"), ("ff02::1", "a multicast"),
    ("::ffff:127.0.0.1", "a loopback"), ("::ffff:10.0.0.1", "a private"),
    ("64:ff9b::7f00:1", "a loopback"), ("2002:a00:1::", "a private"),
])
def test_addresses_that_are_not_public_are_refused(address, problem):
    assert verify_links.address_problem(address) == f"{address.split('%')[0]} is {problem} address"


@pytest.mark.parametrize("address", ["8.8.8.8", "2606:4700::1", "::ffff:8.8.8.8",
                                     "64:ff9b::808:808"])
def test_public_addresses_pass_including_mapped_and_nat64(address):
    assert verify_links.address_problem(address) is None


def test_only_the_networks_allowed_explicitly_are_opened():
    loopback = (ipaddress.ip_network("127.0.0.0/8"),)
    assert verify_links.address_problem("127.0.0.1", loopback) is None
    assert verify_links.address_problem("::ffff:127.0.0.1", loopback) is None
    assert verify_links.address_problem("10.0.0.1", loopback) == "10.0.0.1 is a private address"


def test_the_connected_address_is_checked_again():
    server = Counter()
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            with pytest.raises(verify_links.BlockedAddress, match="connected to 127.0.0.1 is a "
                                                            "loopback address"):
                verify_links.checked_peer(sock, ())
            assert verify_links.checked_peer(sock, (ipaddress.ip_network("127.0.0.1/32"),)) is sock
    finally:
        server.close()


def test_each_redirect_hop_is_checked_for_its_address(network):  # noqa: F811
    """inward.test.gov.cn (allowed 127.0.0.1) redirects to a name leading to 127.0.0.2."""
    settings = direct_settings(network, timeout=2)
    pins = {**settings.resolve, "inner.test.gov.cn": ("127.0.0.2", network["port"])}
    settings = verify_links.Settings(settings.context, (), 2, pins, settings.allow_addresses)
    result = verify_links.visit("https://inward.test.gov.cn/", settings)
    assert (result.status, result.final_url, result.passed) == (
        "blocked address", "https://inner.test.gov.cn/", False)
    assert "127.0.0.2 is a loopback address" in result.detail


def test_fetch_gives_status_headers_and_a_bounded_body(network):  # noqa: F811
    settings = verify_links.Settings(direct_settings(network).context, (), 2, network["pins"],
                               (ipaddress.ip_network("127.0.0.1/32"),), max_body=10)
    page = verify_links.fetch("https://hop.test.gov.cn/x", settings)
    assert (page.status, page.final_url) == (200, "https://ok.test.gov.cn/")
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert page.body == "<html><head><title>安徽省".encode()[:10]


# --- a server that trickles ------------------------------------------------------------------

ANSWER = (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Padding: " + b"p" * 40
          + b"\r\n\r\n<title>late</title>")


class Trickler:
    """A TLS server that answers one byte every ``gap`` seconds; counts what it sent before
    the client went away."""

    def __init__(self, cert, gap: float):
        self.gap, self.sent, self.done = gap, 0, threading.Event()
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(self.context)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._serve_one, daemon=True).start()

    def _serve_one(self):
        try:
            conn, _ = self.listener.accept()
            with self.context.wrap_socket(conn, server_side=True) as tls:
                tls.settimeout(10)
                request = b""
                while b"\r\n\r\n" not in request:
                    request += tls.recv(4096) or b"\r\n\r\n"
                for byte in ANSWER:
                    time.sleep(self.gap)
                    tls.sendall(bytes([byte]))
                    self.sent += 1
        except OSError:
            pass   # the client hung up: what the test expects
        finally:
            self.done.set()
            self.listener.close()


def test_a_server_trickling_its_answer_is_cut_at_the_timeout(anhui_site, network,  # noqa: F811
                                                             monkeypatch):
    trickler = Trickler(network["ca"].issue_cert("trickle.test.gov.cn"), gap=0.1)
    path = anhui_site / ANHUI
    path.write_text(path.read_text(encoding="utf-8").replace(
        "https://gbk.test.gov.cn/", "https://trickle.test.gov.cn/"), encoding="utf-8")
    monkeypatch.setenv("ERJIAN_VERIFY_RESOLVE", network["resolve"]
                       + f",trickle.test.gov.cn=127.0.0.1:{trickler.port}")
    code, out, err = run_cli("--root", str(anhui_site), "verify-links", *LOCAL, "--write",
                             "--timeout", "1", "--today", TODAY.isoformat())
    assert trickler.done.wait(30)
    assert code == 1, (out, err)
    row = next(line for line in out.splitlines() if "trickle.test.gov.cn" in line)
    assert row.split()[1] == "timeout", row
    assert "no complete answer within 1 s" in out
    assert trickler.sent < len(ANSWER)            # cut off, not read to the end
    lines = path.read_text(encoding="utf-8").splitlines()
    after = lines[lines.index("    url: https://trickle.test.gov.cn/") + 1]
    assert "verified" not in after
    assert f"--write: {STAMP} recorded for 2 of 3 links" in out


# --- --write and the file it edits -----------------------------------------------------------

EDITED = "regions/hebei/province.yaml"
URLS = ("https://www.hebpta.gov.cn/", "https://rst.hebei.gov.cn/",
        "https://zfcxjst.hebei.gov.cn/")


def saved(number: int) -> str:
    """The file as the editor saves it the ``number``-th time (a comment changes)."""
    return ANNOTATED.replace("# 河北省.", f"# 河北省 (save {number:04d}).", 1)


def save_repeatedly(path: Path, saves: int) -> None:
    for number in range(1, saves + 1):
        path.write_text(saved(number), encoding="utf-8")
        time.sleep(0.0005)


def test_a_save_made_while_writing_is_never_lost(tmp_path):
    """An editor saves every 0.5 ms while --write edits the file; its last save must be in
    the file at the end, edited or not (the edit retried on it, or refused)."""
    path = tmp_path / EDITED
    path.parent.mkdir(parents=True)
    links = [verify_links.Link(EDITED, None, url, "x", i) for i, url in enumerate(URLS)]
    rng = random.Random(20)
    outcomes = set()
    for trial in range(30):
        path.write_text(saved(0), encoding="utf-8")
        saves = rng.randrange(1, 80)
        editor = threading.Thread(target=save_repeatedly, args=(path, saves))
        editor.start()
        problems = verify_links.record_verified(tmp_path, links, TODAY)
        editor.join()
        text = path.read_text(encoding="utf-8")
        assert f"(save {saves:04d})" in text, (trial, saves, text[:60])
        assert beside(path) == []
        if problems:
            assert all("changed while verifying" in line and "run again" in line
                       for line in problems), problems
            outcomes.add("refused")
        else:
            outcomes.add("recorded" if text.count(STAMP) == 3 else "overwritten by a save")
    assert "recorded" in outcomes or "refused" in outcomes


def test_a_read_only_file_is_refused_with_a_message_and_left_alone(anhui_site):
    path = anhui_site / ANHUI
    path.chmod(0o444)
    before = path.read_bytes(), path.stat().st_ino
    code, out, err = verify_write(anhui_site, *LOCAL)
    assert code == 1, (out, err)
    refused = [line for line in out.splitlines() if line.startswith("NOT RECORDED")]
    assert len(refused) == 3 and all(
        "the file is read-only (mode -r--r--r--)" in line and "chmod u+w" in line
        and f"add '{STAMP}' by hand" in line for line in refused), out
    assert "--out" not in out + err
    assert (path.read_bytes(), path.stat().st_ino) == before
    assert path.stat().st_mode & 0o777 == 0o444
    assert beside(path) == []


def test_the_files_mode_is_kept(anhui_site):
    path = anhui_site / ANHUI
    path.chmod(0o640)
    code, out, _ = verify_write(anhui_site, *LOCAL)
    assert code == 0, out
    assert path.stat().st_mode & 0o777 == 0o640
    assert path.read_text(encoding="utf-8").count(STAMP) == 3


def test_a_symbolic_link_is_not_replaced_by_a_file(anhui_site):
    path = anhui_site / ANHUI
    real = path.with_name("real.yaml.txt")
    path.rename(real)
    path.symlink_to(real.name)
    code, out, _ = verify_write(anhui_site, *LOCAL)
    assert code == 1
    assert out.count("the file is not a regular file (a symbolic link?)") == 3, out
    assert path.is_symlink() and STAMP not in real.read_text(encoding="utf-8")


def chattr(flag: str, path: Path) -> None:
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not installed")
    done = subprocess.run(["chattr", flag, str(path)], capture_output=True, text=True)
    if done.returncode:
        pytest.skip(f"chattr {flag} is not allowed here: {done.stderr.strip()}")


@pytest.mark.parametrize("immutable", ["file", "folder"])
def test_an_immutable_file_or_folder_leaves_no_temporary_file(anhui_site, immutable):
    path = anhui_site / ANHUI
    target = path if immutable == "file" else path.parent
    before = tree_digest(anhui_site)
    chattr("+i", target)
    try:
        code, out, err = verify_write(anhui_site, *LOCAL)
        listed = beside(path)
    finally:
        subprocess.run(["chattr", "-i", str(target)], check=True)
    assert code == 1, (out, err)
    said = (f"the file cannot be written (mode -rw-r--r--, owner {os.getuid()}; immutable if "
            "lsattr shows 'i'); --write leaves it alone" if immutable == "file" else
            "could not create the edited copy beside it (Operation not permitted); the file is "
            "unchanged: make the file and its folder writable")
    assert out.count(said) == 3, out
    assert "chattr -i" in out and "--out" not in out + err
    assert listed == []
    assert tree_digest(anhui_site) == before


def test_a_failed_write_of_the_edited_copy_leaves_no_temporary_file(anhui_site):
    """The edited copy cannot be written whole (a file size limit: the write fails as on a
    full disk, and a full disk cannot be made here)."""
    path = anhui_site / ANHUI
    before = tree_digest(anhui_site)
    limit = path.stat().st_size // 2
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        code, out, err = verify_write(anhui_site, *LOCAL)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, handler)
    assert code == 1, (out, err)
    assert out.count("could not write the edited copy beside it (File too large); the file "
                     "is unchanged: raise the file size limit (ulimit -f) and run again") == 3, out
    assert "--out" not in out + err
    assert beside(path) == []
    assert tree_digest(anhui_site) == before


def hebei_file(tmp_path: Path) -> Path:
    path = tmp_path / EDITED
    path.parent.mkdir(parents=True)
    path.write_text(saved(0), encoding="utf-8")
    return path


def test_without_hard_links_the_edit_is_renamed_in_place(tmp_path, monkeypatch):
    path = hebei_file(tmp_path)

    def no_hard_links(*args, **kwargs):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(verify_links.os, "link", no_hard_links)
    links = [verify_links.Link(EDITED, None, url, "x", i) for i, url in enumerate(URLS)]
    assert verify_links.record_verified(tmp_path, links, TODAY) == []
    assert path.read_text(encoding="utf-8").count(STAMP) == 3
    assert beside(path) == []


def test_an_interruption_once_the_file_is_set_aside_puts_it_back(tmp_path, monkeypatch):
    path = hebei_file(tmp_path)
    reads = []

    def interrupted_second_read(target):
        reads.append(Path(target).name)
        if len(reads) == 2:    # the set-aside file, compared before the edit is put in place
            raise KeyboardInterrupt
        return original_read(target)

    original_read = verify_links._read_no_follow
    monkeypatch.setattr(verify_links, "_read_no_follow", interrupted_second_read)
    with pytest.raises(KeyboardInterrupt):
        verify_links.record_verified(tmp_path, [verify_links.Link(EDITED, None, URLS[0], "x", 0)], TODAY)
    assert reads[1].endswith(".old")
    assert path.read_text(encoding="utf-8") == saved(0)
    assert beside(path) == []


def test_a_full_disk_leaves_the_file_and_no_temporary_file(tmp_path, monkeypatch):
    path = hebei_file(tmp_path)

    def disk_full(descriptor):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(verify_links.os, "fsync", disk_full)
    problems = verify_links.record_verified(tmp_path, [verify_links.Link(EDITED, 10, URLS[0], "x", 0)],
                                      TODAY)
    assert problems == [f"NOT RECORDED {EDITED}:10: could not write the edited copy beside it "
                        "(No space left on device); the file is unchanged: free some space and "
                        f"run again, or add '{STAMP}' by hand"]
    assert path.read_text(encoding="utf-8") == saved(0)
    assert beside(path) == []


def test_allow_address_takes_only_addresses(anhui_site):
    before = tree_digest(anhui_site)
    code, out, err = verify_write(anhui_site, "--allow-address", "localhost")
    assert code == 1 and out == ""
    assert "--allow-address localhost: not an IP address or network" in err
    assert "127.0.0.0/8" in err
    assert tree_digest(anhui_site) == before
