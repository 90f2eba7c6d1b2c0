"""One SiteLayout names the site's input folders: every one of them is swept by validation,
watched by the preview, protected from the output and hashed into the keys, and no module
keeps a list of its own (issue 17, point 3)."""

import ast
import datetime as dt
import os
from pathlib import Path

import pytest

from conftest import run_cli
from erjian.core import layout
from erjian.core.layout import INPUT_FOLDERS, SITE_WIDE_INPUT, UNIT_INPUT, SiteLayout
from erjian.preview.server import Changes
from erjian.site.keys import site_fingerprint

PACKAGE = Path(layout.__file__).resolve().parents[1]
DAY = "2026-06-15"


def folder_lists(package: Path) -> list[str]:
    """'file:line' of every tuple, list or set literal in the package that names two or more
    input folders: a list of folders kept outside core/layout.py. The developer tools are
    left out: the benchmarks copy chosen parts of the site on purpose."""
    found = []
    for path in sorted(package.rglob("*.py")):
        if path == Path(layout.__file__).resolve() or path.parent.name == "devtools":
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
                names = {e.value for e in node.elts if isinstance(e, ast.Constant)}
                if len(names & set(INPUT_FOLDERS)) >= 2:
                    found.append(f"{path.relative_to(package)}:{node.lineno}")
    return found


def test_no_module_keeps_its_own_list_of_input_folders():
    assert folder_lists(PACKAGE) == []


def test_every_input_folder_is_site_wide_or_keyed_by_its_units():
    tops = {part.split("/")[0] for part in SITE_WIDE_INPUT + UNIT_INPUT}
    assert tops == set(INPUT_FOLDERS)
    assert set(INPUT_FOLDERS) <= set(layout.PROTECTED)


@pytest.mark.parametrize("folder", INPUT_FOLDERS)
def test_a_file_added_under_an_input_folder_is_seen_by_the_preview(site, folder):
    (site / folder).mkdir(exist_ok=True)
    changes = Changes(site)
    added = site / folder / "added.txt"
    added.write_text("new", encoding="utf-8")
    assert changes.poll() == [str(added)]


@pytest.mark.parametrize("folder", INPUT_FOLDERS)
def test_a_fifo_in_an_input_folder_is_refused_by_validation(site, folder):
    (site / folder / "deep").mkdir(parents=True, exist_ok=True)
    os.mkfifo(site / folder / "deep" / "pipe.tsv")
    code, _, stderr = run_cli("--root", str(site), "check", "--today", DAY)
    assert code == 1
    assert f"{folder}/deep/pipe.tsv" in stderr and "FIFO" in stderr, stderr
    assert "Traceback" not in stderr


@pytest.mark.parametrize("folder", INPUT_FOLDERS)
def test_an_output_inside_an_input_folder_is_refused(site, folder):
    (site / folder).mkdir(exist_ok=True)
    (site / folder / "keep.txt").write_text("mine", encoding="utf-8")
    before = sorted(p.relative_to(site) for p in site.rglob("*"))
    code, _, stderr = run_cli("--root", str(site), "--out", str(site / folder / "site"),
                              "--today", DAY)
    assert code == 1
    assert f"refusing to write the site into {site / folder / 'site'}" in stderr, stderr
    assert f"input folder {folder}/" in stderr
    assert sorted(p.relative_to(site) for p in site.rglob("*")) == before
    assert (site / folder / "keep.txt").read_text("utf-8") == "mine"


@pytest.mark.parametrize("part", SITE_WIDE_INPUT)
def test_a_change_to_a_site_wide_input_changes_the_fingerprint(site, part):
    config = {"title": "unchanged"}   # the site settings, held fixed here
    today = dt.date(2026, 6, 15)
    before = site_fingerprint(site, today, config)
    path = site / part
    if path.is_dir():
        (path / "added.txt").write_text("new", encoding="utf-8")
    else:
        path.write_bytes(path.read_bytes() + b"\n")
    assert site_fingerprint(site, today, config) != before


def test_the_layout_names_paths_under_its_root(tmp_path):
    site = SiteLayout(tmp_path)
    assert site.input_paths() == tuple(tmp_path / name for name in INPUT_FOLDERS)
    assert tmp_path / "divisions" in site.protected_paths()
    assert tmp_path / ".git" in site.protected_paths()


@pytest.mark.parametrize("folder", ["docs", "erjian", ".git"])
def test_an_output_inside_a_tool_folder_is_named_as_one(site, folder):
    (site / folder).mkdir(exist_ok=True)
    code, _, stderr = run_cli("--root", str(site), "--out", str(site / folder / "site"),
                              "--today", DAY)
    assert code == 1 and not (site / folder / "site").exists()
    assert f"the generator's own folder {folder}/" in stderr and "input folder" not in stderr
