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
    """Sichuan with its divisions and moved addresses; 郫都区 is published at pidou."""
    site = copy_site(tmp_path / "site", ("sichuan",), divisions=True)
    (site / "divisions" / "moved").mkdir(parents=True)
    shutil.copy(ROOT / "divisions" / "dataset.json", site / "divisions" / "dataset.json")
    shutil.copy(ROOT / MOVED, site / MOVED)
    return site


def set_slug(site, slug: str | None) -> None:
    (site / "regions" / "sichuan" / "pidu.yaml").write_text(
        "name: 郫都区\nlevel: district\n" + (f"slug: {slug}\n" if slug else ""),
        encoding="utf-8")


def check(site) -> tuple[int, str]:
    code, stdout, stderr = run_cli("--root", str(site), "check", "--today", TODAY)
    return code, stderr + stdout


def move(site, old: str, new: str) -> tuple[int, str]:
    code, stdout, stderr = run_cli("--root", str(site), "move", old, new, "--today", TODAY)
    return code, stdout + stderr


def moved_lines(site) -> dict[str, str]:
    """Old address → new address, for the lines about 郫都区."""
    lines = (site / MOVED).read_text(encoding="utf-8").splitlines()
    return {f[0]: f[1] for f in (line.split("\t") for line in lines if "郫都区" in line)}


def test_a_changed_slug_is_refused_with_the_command_that_keeps_the_old_address(sichuan,
                                                                              tmp_path):
    set_slug(sichuan, "pidu")
    out = tmp_path / "out"
    code, _, stderr = run_cli("--root", str(sichuan), "--out", str(out), "--today", TODAY)
    assert code == 1 and not out.exists()
    assert ("regions/sichuan/pidu.yaml:3: [slug] slug 'pidu' moves 郫都区 from its published "
            "address sichuan/pidou/ to sichuan/pidu/") in stderr
    assert "python build.py move sichuan/pidou/ sichuan/pidu/" in stderr
    assert check(sichuan)[0] == 1   # check refuses it as the build does
    assert moved_lines(sichuan) == {}


@pytest.mark.slow
def test_the_move_command_keeps_the_old_address_as_a_redirect(sichuan, tmp_path):
    set_slug(sichuan, "pidu")
    code, said = move(sichuan, "sichuan/pidou/", "sichuan/pidu")
    assert code == 0 and "sichuan/pidou/ → sichuan/pidu/" in said
    assert re.search(r"^sichuan/pidou/\tsichuan/pidu/\taddress\t郫都区\t郫都区\t"
                     rf"python build.py move \({TODAY}\)$",
                     (sichuan / MOVED).read_text(encoding="utf-8"), re.M)
    out = tmp_path / "out"
    code, _, stderr = run_cli("--root", str(sichuan), "--out", str(out), "--today", TODAY)
    assert code == 0, stderr
    assert 'http-equiv="refresh"' not in (out / "sichuan/pidu/index.html").read_text("utf-8")
    old = (out / "sichuan/pidou/index.html").read_text("utf-8")
    assert 'content="0; url=/sichuan/pidu/"' in old and "郫都区页面的网址已更改" in old
    assert "依据的区划数据" not in old   # an editor's move, not the division data's
    assert 'url=/sichuan/pidu/jianzhu/"' in (out / "sichuan/pidou/jianzhu/index.html"
                                             ).read_text("utf-8")


def test_moving_again_keeps_every_earlier_address(sichuan):
    set_slug(sichuan, "pidu")
    assert move(sichuan, "sichuan/pidou/", "sichuan/pidu/")[0] == 0
    set_slug(sichuan, "pi-du")
    code, said = check(sichuan)
    assert code == 1 and "sends 郫都区's old address sichuan/pidou/ to sichuan/pidu/" in said
    assert "python build.py move sichuan/pidu/ sichuan/pi-du/" in said
    assert move(sichuan, "sichuan/pidu/", "sichuan/pi-du/")[0] == 0
    assert moved_lines(sichuan) == {"sichuan/pidou/": "sichuan/pi-du/",
                                    "sichuan/pidu/": "sichuan/pi-du/"}
    assert check(sichuan)[0] == 0


@pytest.mark.slow
def test_going_back_to_the_published_address_drops_its_redirect(sichuan):
    set_slug(sichuan, "pidu")
    assert move(sichuan, "sichuan/pidou/", "sichuan/pidu/")[0] == 0
    set_slug(sichuan, None)
    code, said = check(sichuan)
    assert code == 1 and "郫都区 is at sichuan/pidou/ again" in said
    assert "python build.py move sichuan/pidu/ sichuan/pidou/" in said
    assert move(sichuan, "sichuan/pidu/", "sichuan/pidou/")[0] == 0
    assert moved_lines(sichuan) == {"sichuan/pidu/": "sichuan/pidou/"}
    assert check(sichuan)[0] == 0
    code, said = move(sichuan, "sichuan/pidu/", "sichuan/pidou/")
    assert code == 0 and "nothing to record" in said


@pytest.mark.parametrize("old, new, message", [
    ("sichuan/pidou/", "sichuan/nowhere/", "no region is at sichuan/nowhere/"),
    ("sichuan/chengdu/", "sichuan/pidu/", "sichuan/chengdu/ is still the address of 成都市"),
    ("sichuan/pido/", "sichuan/pidu/", "郫都区 was never at sichuan/pido/"),
    ("sichuan/pidou/", "anhui/pidu/", "cannot move sichuan/pidou/ to anhui/pidu/: both "
     "addresses must be of the same province"),
    ("sichuan/PiDu/", "sichuan/pidu/", "'sichuan/PiDu/' is not an address of a region page"),
    ("sichuan/xindou/", "sichuan/pidu/", "郫都区 was never at sichuan/xindou/"),
])
def test_the_move_command_refuses_what_the_records_contradict(sichuan, old, new, message):
    set_slug(sichuan, "pidu")
    before = (sichuan / MOVED).read_bytes()
    code, said = move(sichuan, old, new)
    assert code == 1 and f"error: {message}" in said and "hint: " in said
    assert "Traceback" not in said
    assert (sichuan / MOVED).read_bytes() == before


def test_a_moved_address_may_not_be_taken_by_the_move(sichuan):
    """Onto an address that redirects somewhere else: the redirect stays."""
    set_slug(sichuan, "xindou")   # 新都区's old address, now a redirect to sichuan/xindu/
    before = (sichuan / MOVED).read_bytes()
    code, said = move(sichuan, "sichuan/pidou/", "sichuan/xindou/")
    assert code == 1 and "sichuan/xindou/ is an old address that redirects to sichuan/xindu/" \
        in said
    assert (sichuan / MOVED).read_bytes() == before
