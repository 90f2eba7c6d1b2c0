"""The command line never answers with a traceback: every value is checked with a message
that names it, and the failures a user can cause (a full disk, a folder they may not write,
…) are one message with a hint and exit code 1."""

import errno
import io
import os
import re

import pytest

from conftest import run_cli
from erjian import cli
from erjian.core import limits
from erjian.core.errors import UserError
from erjian.input.base_url import normalise_base_url

TODAY = ("--today", "2026-06-15")


def run_refused(capsys, *args) -> str:
    """Run a command argparse must refuse; returns its one-line error message."""
    with pytest.raises(SystemExit) as exit_:
        cli.main(list(args))
    assert exit_.value.code == 2
    stderr = capsys.readouterr().err
    assert "Traceback" not in stderr
    return stderr.strip().splitlines()[-1]


# --- the site's address -------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("https://x.example", "https://x.example/"),
    ("https://h/erjian", "https://h/erjian/"),
    ("https://h/erjian/", "https://h/erjian/"),
    ("HTTP://127.0.0.1:8000", "http://127.0.0.1:8000/"),
    ("http://[::1]:8000/a/b", "http://[::1]:8000/a/b/"),
    ("https://guide.example.cn/%E4%BA%8C/", "https://guide.example.cn/%E4%BA%8C/"),
])
def test_base_url_is_normalised_to_a_folder(text, expected):
    assert normalise_base_url(text) == expected


@pytest.mark.parametrize("text, reason", [
    ("notaurl", "not an absolute web address"),
    ("", "empty"),
    ("//x.example/", "not an absolute web address"),
    ("ftp://x.example/", "must start with https:// or http://"),
    ("javascript://x/%0aalert(1)", "must start with https:// or http://"),
    ("https://x.example/?a=1", "query"),
    ("https://x.example/#top", "fragment"),
    ("https://user:secret@x.example/", "user name or password"),
    ("https://x.example:99999/", "invalid port"),
    ("https://x.example:/", "invalid port"),
    ("https:///path/", "no valid host"),
    ("https://-x.example/", "no valid host"),
    ("https://[::1/", "no valid host"),
    ("https://x.example/a/../b/", "not a plain folder path"),
    ("https://x.example//b/", "not a plain folder path"),
    ("https://x.example/\"><script>/", "not a plain folder path"),
    ("https://x.example/a b/", "spaces or control characters"),
])
def test_base_url_refusals_say_why(text, reason):
    with pytest.raises(ValueError, match=re.escape(reason)):
        normalise_base_url(text)


def test_bad_base_url_is_a_one_line_error(capsys, site):
    line = run_refused(capsys, "--root", str(site), "--base-url", "notaurl", *TODAY)
    assert "argument --base-url: 'notaurl' is not an absolute web address" in line


def built_with_base_url(site, tmp_path, base_url: str):
    out = tmp_path / "out"
    code, _, stderr = run_cli("--root", str(site), "--out", str(out), *TODAY,
                              "--base-url", base_url)
    assert code == 0, stderr
    return out


def test_base_url_without_final_slash_builds_links_under_it(site, tmp_path):
    out = built_with_base_url(site, tmp_path, "https://x.example")
    home = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="https://x.example/"' in home
    assert "https://x.example" + "anhui" not in home
    sitemap = (out / "sitemap.xml").read_text(encoding="utf-8")
    assert "<loc>https://x.example/anhui/</loc>" in sitemap


def test_sub_path_base_url_without_final_slash(site, tmp_path):
    out = built_with_base_url(site, tmp_path, "https://h.example/erjian")
    assert 'href="/erjian/anhui/"' in (out / "index.html").read_text(encoding="utf-8")


def set_site_base_url(site, value: str) -> int:
    """Replace base_url in the site's site.yaml; returns its line number."""
    path = site / "content" / "site.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    number = next(i for i, line in enumerate(lines) if line.startswith("base_url:"))
    lines[number] = f"base_url: {value}"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return number + 1


def test_site_yaml_base_url_follows_the_same_rule(site, tmp_path):
    line = set_site_base_url(site, '"https://x.example/?utm=1"')
    code, _, stderr = run_cli("--root", str(site), "check", *TODAY)
    assert code == 1
    assert f"content/site.yaml:{line}: [base_url]" in stderr and "query" in stderr

    set_site_base_url(site, "https://x.example/guide")
    out = tmp_path / "out"
    code, _, stderr = run_cli("--root", str(site), "--out", str(out), *TODAY)
    assert code == 0, stderr
    assert 'href="/guide/anhui/"' in (out / "index.html").read_text(encoding="utf-8")
    assert "https://x.example/guide/anhui/" in (out / "sitemap.xml").read_text("utf-8")


# --- dates ----------------------------------------------------------------------------------

def years() -> str:
    return f"{limits.SUPPORTED_YEARS[0]}-{limits.SUPPORTED_YEARS[-1]}"


@pytest.mark.parametrize("value, reason", [
    ("0001-01-01", "is outside the years the site supports"),
    ("9999-12-31", "is outside the years the site supports"),
    ("2026-02-30", "is not a date in the form YYYY-MM-DD"),
    ("abc", "is not a date in the form YYYY-MM-DD"),
])
def test_bad_today_is_a_one_line_error(capsys, site, value, reason):
    line = run_refused(capsys, "--root", str(site), "--today", value)
    assert f"argument --today: '{value}' {reason}" in line
    if "outside" in reason:
        assert years() in line


def test_today_follows_the_supported_years_of_limits(capsys, site, monkeypatch):
    monkeypatch.setattr(limits, "SUPPORTED_YEARS", range(2020, 2031))
    line = run_refused(capsys, "--root", str(site), "check", "--today", "2035-01-01")
    assert "'2035-01-01' is outside the years the site supports (2020-2030)" in line


@pytest.mark.parametrize("value, reason", [
    ("abc", "is not a whole number of seconds"),
    ("-1e99", "is not a whole number of seconds"),
    ("-1", "is not a whole number of seconds"),
    ("1.5", "is not a whole number of seconds"),
    ("0", "(1970-01-01) is outside the years the site supports"),
    ("9" * 40, "is outside the years the site supports"),
    ("9" * 5000, "is outside the years the site supports"),   # beyond int()'s digit limit
])
@pytest.mark.parametrize("command", [("check",), ("build",), ("new", "notice", "--province",
                                                               "anhui")])
def test_bad_source_date_epoch_is_one_message(site, tmp_path, monkeypatch, value, reason,
                                              command):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", value)
    extra = ("--out", str(tmp_path / "out")) if command == ("build",) else ()
    notices = sorted((site / "content" / "notices").iterdir())
    code, _, stderr = run_cli("--root", str(site), *command, *extra)
    assert code == 1
    assert stderr.startswith("error: SOURCE_DATE_EPOCH=") and reason in stderr
    assert years() in stderr and "Traceback" not in stderr
    assert len(stderr) < 1000
    assert not (tmp_path / "out").exists()
    assert sorted((site / "content" / "notices").iterdir()) == notices


def test_source_date_epoch_sets_the_date(site, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1781481600")   # 2026-06-15 00:00 UTC
    assert cli.default_today().isoformat() == "2026-06-15"
    code, _, _ = run_cli("--root", str(site), "check")
    assert code == 0


# --- dates are China's, whatever the runner's zone ------------------------------------------

@pytest.mark.parametrize("epoch, day", [
    ("1781478000", "2026-06-15"),   # 2026-06-14 23:00 UTC = 06-15 07:00 in Beijing
    ("1781452799", "2026-06-14"),   # 2026-06-14 15:59:59 UTC = 23:59:59 in Beijing
    ("1781452800", "2026-06-15"),   # 2026-06-14 16:00 UTC = midnight in Beijing
])
def test_source_date_epoch_is_read_as_china_time(monkeypatch, epoch, day):
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
    assert cli.default_today().isoformat() == day


def test_build_at_7am_beijing_is_dated_that_day(site, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1781478000")   # 2026-06-14 23:00 UTC
    code, stdout, stderr = run_cli("--root", str(site), "--out", str(tmp_path / "out"))
    assert code == 0, stderr
    assert "for 2026-06-15" in stdout


def test_without_epoch_today_is_the_date_in_shanghai(monkeypatch):
    import datetime as dt

    class Clock(dt.datetime):
        @classmethod
        def now(cls, tz=None):
            moment = dt.datetime(2026, 6, 14, 23, 0, tzinfo=dt.timezone.utc)   # runner: UTC
            return moment.astimezone(tz) if tz else moment.replace(tzinfo=None)

    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    monkeypatch.setattr(cli.dt, "datetime", Clock)
    assert cli.default_today().isoformat() == "2026-06-15"


def test_china_zone_is_utc_plus_8():
    import datetime as dt

    moment = dt.datetime(2026, 6, 14, 23, 0, tzinfo=dt.timezone.utc)
    assert moment.astimezone(cli.china_zone()).utcoffset() == dt.timedelta(hours=8)


# --- other values ---------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["abc", "70000", "-1", "80.5", ""])
def test_bad_port_is_a_one_line_error(capsys, site, value):
    line = run_refused(capsys, "--root", str(site), "serve", "--port", value)
    assert f"argument --port: '{value}' is not a port number" in line


@pytest.mark.parametrize("args, message", [
    (("notice", "--province", "../etc"), "argument --province: '../etc' is not a slug"),
    (("notice", "--province", "anhui", "--slug", "a/b"), "argument --slug: 'a/b'"),
    (("notice", "--region", "xinjiang"), "argument --region: 'xinjiang' is not province/"),
    (("region", "../../tmp", "某市"), "argument province: '../../tmp' is not a slug"),
])
def test_new_refuses_values_that_are_not_slugs(capsys, site, args, message):
    assert message in run_refused(capsys, "--root", str(site), "new", *args)


# --- failures of the machine ------------------------------------------------------------

def test_out_below_a_file_is_one_message(site, tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder", encoding="utf-8")
    code, stdout, stderr = run_cli("--root", str(site), "--out", str(blocker / "out"), *TODAY)
    assert code == 1 and stdout == ""
    assert "Traceback" not in stderr
    assert stderr.startswith("error: ") and str(blocker) in stderr.splitlines()[0]
    assert "not a folder" in stderr or "Not a directory" in stderr   # ours or write.py's
    assert "\n  hint: " in stderr
    assert blocker.read_text(encoding="utf-8") == "a file, not a folder"


def fail_writes_under(monkeypatch, folder, code: int) -> list:
    """Make every creating or writing file operation under ``folder`` fail with ``code``,
    as a full, read-only or forbidden disk would; returns the paths that failed."""
    folder = os.fspath(folder)
    failed = []

    def under(path) -> bool:
        try:
            return os.path.abspath(os.fsdecode(path)).startswith(folder)
        except TypeError:
            return False   # a file descriptor

    def fail(path):
        failed.append(os.fsdecode(path))
        raise OSError(code, os.strerror(code), os.fsdecode(path))

    real_open, real_os_open = io.open, os.open

    def fake_open(file, mode="r", *args, **kwargs):
        if under(file) and any(c in mode for c in "wax+"):
            fail(file)
        return real_open(file, mode, *args, **kwargs)

    def fake_os_open(path, flags, *args, **kwargs):
        if under(path) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            fail(path)
        return real_os_open(path, flags, *args, **kwargs)

    def guard(real):
        def fake(*args, **kwargs):
            for path in args:
                if isinstance(path, (str, bytes, os.PathLike)) and under(path):
                    fail(path)
            return real(*args, **kwargs)
        return fake

    monkeypatch.setattr(io, "open", fake_open)
    monkeypatch.setattr("builtins.open", fake_open)
    monkeypatch.setattr(os, "open", fake_os_open)
    for name in ("mkdir", "rename", "replace", "link", "symlink"):
        monkeypatch.setattr(os, name, guard(getattr(os, name)))
    monkeypatch.setenv("ERJIAN_WORKERS", "1")
    return failed


DISK_FAILURES = [
    (errno.ENOSPC, "no space is left on the disk"),
    (errno.EDQUOT, "your disk quota is used up"),
    (errno.EACCES, "permission denied"),
    (errno.EPERM, "the operation is not permitted"),
    (errno.EROFS, "the file system is read-only"),
    (errno.EXDEV, "files cannot be moved between these two file systems"),
    (errno.EBUSY, "it is busy: a mount point, or in use by another program"),
    (errno.EIO, "the disk reported an input/output error"),
    (errno.ENOTDIR, "a part of this path is a file, not a folder"),
    (errno.EISDIR, "it is a folder where a file is expected"),
]


@pytest.mark.parametrize("code, words", DISK_FAILURES)
def test_failing_disk_is_one_message(site, tmp_path, monkeypatch, code, words):
    """End to end: the build's own writes fail (whichever layer words the message)."""
    dest = tmp_path / "dest"
    dest.mkdir()
    failed = fail_writes_under(monkeypatch, dest, code)
    exit_code, stdout, stderr = run_cli("--root", str(site), "--out", str(dest / "out"),
                                        *TODAY)
    assert failed, "the build wrote nothing under the output's folder"
    assert exit_code == 1 and "built" not in stdout
    assert "Traceback" not in stderr
    first = stderr.strip().splitlines()[0]
    assert first.startswith("error: ") and str(dest) in first, stderr
    assert words in stderr or os.strerror(code) in stderr, stderr
    assert "\n  hint: " in stderr


@pytest.mark.parametrize("code, words", DISK_FAILURES)
def test_os_error_reaching_the_command_line_is_explained(site, tmp_path, monkeypatch, code,
                                                         words):
    target = tmp_path / "o" / "index.html"

    def failing(*args, **kwargs):
        raise OSError(code, os.strerror(code), str(target))

    monkeypatch.setattr("erjian.output.pipeline.build", failing)
    exit_code, stdout, stderr = run_cli("--root", str(site), "--out", str(tmp_path / "o"),
                                        *TODAY)
    assert (exit_code, stdout) == (1, "")
    message, hint = stderr.rstrip("\n").split("\n")
    assert message == f"error: {target}: {words} ({errno.errorcode[code]})"
    assert hint.startswith("  hint: ") and len(hint) > 20


def test_os_error_with_two_paths_names_both(site, tmp_path, monkeypatch):
    def failing(*args, **kwargs):
        raise OSError(errno.EXDEV, "Invalid cross-device link", "/stage/a", None, "/mnt/out/a")

    monkeypatch.setattr("erjian.output.pipeline.build", failing)
    _, _, stderr = run_cli("--root", str(site), "--out", str(tmp_path / "o"), *TODAY)
    assert stderr.startswith("error: /stage/a -> /mnt/out/a: files cannot be moved")


def test_user_error_is_printed_with_its_hint(site, tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise UserError("the output folder is the site's own input", "pass --out elsewhere")

    monkeypatch.setattr("erjian.output.pipeline.build", refuse)
    code, stdout, stderr = run_cli("--root", str(site), "--out", str(tmp_path / "o"), *TODAY)
    assert (code, stdout) == (1, "")
    assert stderr == ("error: the output folder is the site's own input\n"
                      "  hint: pass --out elsewhere\n")


@pytest.mark.parametrize("failure", [KeyError("bug"), OSError("no errno"),
                                     OSError(errno.ECONNRESET, "reset")])
def test_bugs_are_not_dressed_up_as_user_errors(site, tmp_path, monkeypatch, failure):
    def broken(*args, **kwargs):
        raise failure

    monkeypatch.setattr("erjian.output.pipeline.build", broken)
    with pytest.raises(type(failure)):
        run_cli("--root", str(site), "--out", str(tmp_path / "o"), *TODAY)


def test_interrupt_is_one_line(site, tmp_path, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("erjian.output.pipeline.build", interrupted)
    code, _, stderr = run_cli("--root", str(site), "--out", str(tmp_path / "o"), *TODAY)
    assert (code, stderr) == (130, "interrupted\n")


# --- one place prints every user-facing error ---------------------------------------------

def _break_a_region(site) -> str:
    """A region file with a mistake every command that reads the site must report."""
    path = site / "regions" / "anhui" / "maanshan.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "\nunknown_field: 1\n",
                    encoding="utf-8")
    return "unknown field 'unknown_field'"


@pytest.mark.parametrize("command", [("build",), ("check",), ("backtest",), ("verify-links",)])
def test_a_broken_site_is_reported_by_every_command(site, tmp_path, command):
    message = _break_a_region(site)
    out = ("--out", str(tmp_path / "o")) if command == ("build",) else ()
    code, _, stderr = run_cli("--root", str(site), *command, *TODAY, *out)
    assert code == 1
    assert "regions/anhui/maanshan.yaml:" in stderr and message in stderr
    assert "Traceback" not in stderr


@pytest.mark.parametrize("args, message", [
    (("new", "region", "nowhere", "某市"), "error: no province 'nowhere'"),
    (("move", "anhui/a/b", "anhui/c/"), "error: 'anhui/a/b' is not an address of a region"),
    (("import-divisions", "--dataset", "{tmp}/none"), "error: no dataset at {tmp}/none\n"
                                                       "  hint: run `npm ci`"),
    (("verify-links", "--timeout", "500"), "error: --timeout 500 is out of range"),
])
def test_a_refused_command_is_one_message(site, tmp_path, args, message):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    code, stdout, stderr = run_cli("--root", str(site), *args)
    assert (code, stdout) == (1, "")
    assert stderr.startswith(message.replace("{tmp}", str(tmp_path)))
    assert "Traceback" not in stderr


def test_a_dataset_without_its_date_is_one_message(site, tmp_path):
    """import-divisions' refusals were ValueErrors that the command caught apart."""
    dataset = tmp_path / "dataset"
    (dataset / "dist").mkdir(parents=True)
    (dataset / "dist" / "areas.json").write_text("[]", encoding="utf-8")
    (dataset / "package.json").write_text('{"version": "1"}', encoding="utf-8")
    (dataset / "README.md").write_text("no date here\n", encoding="utf-8")
    code, _, stderr = run_cli("--root", str(site), "import-divisions", "--dataset", str(dataset))
    assert code == 1
    assert stderr.startswith(f"error: {dataset / 'README.md'}: no date of the data")
    assert "  hint: read the package's README" in stderr


def test_a_malformed_moved_file_stops_move_with_its_line(site):
    moved = site / "divisions" / "moved" / "anhui.tsv"
    moved.parent.mkdir(parents=True)
    moved.write_text("# header\nanhui/a/\tonly two fields\n", encoding="utf-8")
    code, _, stderr = run_cli("--root", str(site), "move", "anhui/old-place/",
                              "anhui/maanshan/", *TODAY)
    assert code == 1
    assert f"{moved}:2: expected 6 tab-separated fields" in stderr
    assert "hint: run `python build.py check` and fix the moved file first" in stderr


def test_a_busy_port_stops_serve_with_one_message(site):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, _, stderr = run_cli("--root", str(site), "serve", "--port", str(port), *TODAY)
    assert code == 1
    assert stderr.startswith(f"error: port {port} is in use")
    assert "Traceback" not in stderr

