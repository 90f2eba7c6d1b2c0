"""Addresses never die (editor trial, issue 16): a region file whose `slug` moves a division
away from its published address (the slug in the generated division file) is refused until
the old address is recorded as a redirect, which `python build.py move` does in one step;
moving again, or back, keeps every address that was ever published working."""

import re
import shutil

import pytest

from conftest import ROOT, copy_site, run_cli

TODAY = "2026-06-15"
MOVED = "divisions/moved/sichuan.tsv"


@pytest.fixture
def sichuan(tmp_path):
    """Sichuan with its divisions and moved addresses; 郫都区 is published at pidu."""
    site = copy_site(tmp_path / "site", ("sichuan",), divisions=True)
    (site / "divisions" / "moved").mkdir(parents=True)
    shutil.copy(ROOT / "divisions" / "dataset.json", site / "divisions" / "dataset.json")
    shutil.copy(ROOT / MOVED, site / MOVED)
    return site


def set_slug(site, slug: str | None) -> None:
    (site / "regions" / "sichuan" / "pixian.yaml").write_text(
        "name: 郫都区\nlevel: district\n" + (f"slug: {slug}\n" if slug else ""),
        encoding="utf-8")


def check(site) -> tuple[int, str]:
    code, stdout, stderr = run_cli("--root", str(site), "check", "--today", TODAY)
    return code, stderr + stdout


def move(site, old: str, new: str) -> tuple[int, str]:
    code, stdout, stderr = run_cli("--root", str(site), "move", old, new, "--today", TODAY)
    return code, stdout + stderr


def moved_lines(site) -> dict[str, str]:
    """Old address → new address, for the editor's lines about 郫都区 (not the import's
    reading correction sichuan/pidou/ → sichuan/pidu/)."""
    lines = (site / MOVED).read_text(encoding="utf-8").splitlines()
    return {f[0]: f[1] for f in (line.split("\t") for line in lines if "郫都区" in line)
            if f[2] != "reading"}


def test_a_changed_slug_is_refused_with_the_command_that_keeps_the_old_address(sichuan,
                                                                              tmp_path):
    set_slug(sichuan, "pixian")
    out = tmp_path / "out"
    code, _, stderr = run_cli("--root", str(sichuan), "--out", str(out), "--today", TODAY)
    assert code == 1 and not out.exists()
    assert ("regions/sichuan/pixian.yaml:3: [slug] slug 'pixian' moves 郫都区 from its published "
            "address sichuan/pidu/ to sichuan/pixian/") in stderr
    assert "python build.py move sichuan/pidu/ sichuan/pixian/" in stderr
    assert check(sichuan)[0] == 1   # check refuses it as the build does
    assert moved_lines(sichuan) == {}


@pytest.mark.slow
def test_the_move_command_keeps_the_old_address_as_a_redirect(sichuan, tmp_path):
    set_slug(sichuan, "pixian")
    code, said = move(sichuan, "sichuan/pidu/", "sichuan/pixian")
    assert code == 0 and "sichuan/pidu/ → sichuan/pixian/" in said
    assert re.search(r"^sichuan/pidu/\tsichuan/pixian/\taddress\t郫都区\t郫都区\t"
                     rf"python build.py move \({TODAY}\)$",
                     (sichuan / MOVED).read_text(encoding="utf-8"), re.M)
    out = tmp_path / "out"
    code, _, stderr = run_cli("--root", str(sichuan), "--out", str(out), "--today", TODAY)
    assert code == 0, stderr
    assert 'http-equiv="refresh"' not in (out / "sichuan/pixian/index.html").read_text("utf-8")
    old = (out / "sichuan/pidu/index.html").read_text("utf-8")
    assert 'content="0; url=/sichuan/pixian/"' in old and "郫都区页面的网址已更改" in old
    assert "依据的区划数据" not in old   # an editor's move, not the division data's
    assert 'url=/sichuan/pixian/jianzhu/"' in (out / "sichuan/pidu/jianzhu/index.html"
                                             ).read_text("utf-8")


def test_moving_again_keeps_every_earlier_address(sichuan):
    set_slug(sichuan, "pixian")
    assert move(sichuan, "sichuan/pidu/", "sichuan/pixian/")[0] == 0
    set_slug(sichuan, "pi-xian")
    code, said = check(sichuan)
    assert code == 1 and "sends 郫都区's old address sichuan/pidu/ to sichuan/pixian/" in said
    assert "python build.py move sichuan/pixian/ sichuan/pi-xian/" in said
    assert move(sichuan, "sichuan/pixian/", "sichuan/pi-xian/")[0] == 0
    assert moved_lines(sichuan) == {"sichuan/pidu/": "sichuan/pi-xian/",
                                    "sichuan/pixian/": "sichuan/pi-xian/"}
    assert check(sichuan)[0] == 0


@pytest.mark.slow
def test_going_back_to_the_published_address_drops_its_redirect(sichuan):
    set_slug(sichuan, "pixian")
    assert move(sichuan, "sichuan/pidu/", "sichuan/pixian/")[0] == 0
    set_slug(sichuan, None)
    code, said = check(sichuan)
    assert code == 1 and "郫都区 is at sichuan/pidu/ again" in said
    assert "python build.py move sichuan/pixian/ sichuan/pidu/" in said
    assert move(sichuan, "sichuan/pixian/", "sichuan/pidu/")[0] == 0
    assert moved_lines(sichuan) == {"sichuan/pixian/": "sichuan/pidu/"}
    assert check(sichuan)[0] == 0
    code, said = move(sichuan, "sichuan/pixian/", "sichuan/pidu/")
    assert code == 0 and "nothing to record" in said


@pytest.mark.parametrize("old, new, message", [
    ("sichuan/pidu/", "sichuan/nowhere/", "no region is at sichuan/nowhere/"),
    ("sichuan/chengdu/", "sichuan/pixian/", "sichuan/chengdu/ is still the address of 成都市"),
    ("sichuan/pido/", "sichuan/pixian/", "郫都区 was never at sichuan/pido/"),
    ("sichuan/pidu/", "anhui/pixian/", "cannot move sichuan/pidu/ to anhui/pixian/: both "
     "addresses must be of the same province"),
    ("sichuan/PiDu/", "sichuan/pixian/", "'sichuan/PiDu/' is not an address of a region page"),
    ("sichuan/xindou/", "sichuan/pixian/", "郫都区 was never at sichuan/xindou/"),
])
def test_the_move_command_refuses_what_the_records_contradict(sichuan, old, new, message):
    set_slug(sichuan, "pixian")
    before = (sichuan / MOVED).read_bytes()
    code, said = move(sichuan, old, new)
    assert code == 1 and f"error: {message}" in said and "hint: " in said
    assert "Traceback" not in said
    assert (sichuan / MOVED).read_bytes() == before


def test_a_moved_address_may_not_be_taken_by_the_move(sichuan):
    """Onto an address that redirects somewhere else: the redirect stays."""
    set_slug(sichuan, "xindou")   # 新都区's old address, now a redirect to sichuan/xindu/
    before = (sichuan / MOVED).read_bytes()
    code, said = move(sichuan, "sichuan/pidu/", "sichuan/xindou/")
    assert code == 1 and "sichuan/xindou/ is an old address that redirects to sichuan/xindu/" \
        in said
    assert (sichuan / MOVED).read_bytes() == before
