"""`check` is the build without writing: every input the build refuses (tests/hostile/cases.yaml
and the cases below that only rendering finds) makes `check` exit 1 with the same problem
lines, and `check` writes nothing. A validation added to the build alone fails this file.
Also: `check` lists the problems of every stage and unit in one pass, turns an unexpected
failure into one message naming the stage, and the preview counts the warnings it counts."""

import io
import shutil

import pytest

from conftest import copy_site, run_cli, tree_digest
from test_hostile import CASES, prepare

pytestmark = pytest.mark.slow   # check and build side by side on the seed site

TODAY = "2026-06-16"
GUIDE = "content/guide/10-official-sites.md"
RELEASE_NOTICE = ("---\ntitle: 安徽省2026年二级建造师成绩发布\ndate: 2026-06-10\nkind: release\n"
                  "provinces: [anhui]\nexam_year: 2026\nrelease_date: 2026-08-12\nsource:\n"
                  "  title: 关于2026年度二级建造师考试成绩发布的通知\n"
                  "  url: https://www.apta.gov.cn/news/2026-release.html\n---\n成绩已发布。\n")
MOVED_NOWHERE = "anhui/jiu/\tanhui/no-such-place/\trenamed\t旧名\t马鞍山市\t2026-01-01\n"

# Inputs the build refuses only while rendering. ``replace``: site path -> [old, new].
RENDER_CASES = [
    {"case": "misspelt guide placeholder",
     "replace": {GUIDE: ["成绩只在{{ province_short }}", "成绩只在{{ provnice_short }}"]},
     "expect": [f"{GUIDE}: cannot be filled: 'provnice_short' is undefined"]},
    {"case": "guide placeholder that does not parse",
     "replace": {GUIDE: ["成绩只在{{ province_short }}", "成绩只在{{ province_short }"]},
     "expect": [f"{GUIDE}:", "placeholder syntax error"]},
    {"case": "release notice dated after the build date",
     "write": {"content/notices/2026-anhui-release.md": RELEASE_NOTICE},
     "expect": ["content/notices/2026-anhui-release.md:7: [release_date] 2026-08-12 is after "
                f"the build date {TODAY}"]},
    {"case": "redirect to an address that is not a page",
     "write": {"divisions/moved/anhui.tsv": MOVED_NOWHERE},
     "expect": ["divisions/moved/anhui.tsv:1: [new]", "which is not a page of the site"]},
    {"case": "template with a syntax error",
     "replace": {"templates/region.html": ["{% set region = view.region %}",
                                           "{% set region = view.region %"]},
     "expect": ["templates/region.html:", "template syntax error"]},
    {"case": "template asking for a field that does not exist",
     "replace": {"templates/notice.html": ["{{ notice.title }}</h1>",
                                           "{{ notice.title.no_such_field }}</h1>"]},
     "expect": ["templates/notice.html:", "template failed"]},
]


def prepare_case(site, case) -> None:
    prepare(site, case)
    for target, (old, new) in case.get("replace", {}).items():
        text = (site / target).read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {target}"
        (site / target).write_text(text.replace(old, new, 1), encoding="utf-8")


def problem_lines(stderr: str) -> set[str]:
    return {line for line in stderr.splitlines() if line.startswith("error:")}


@pytest.fixture(scope="module")
def seed(tmp_path_factory):
    return copy_site(tmp_path_factory.mktemp("check-is-build") / "site")


def site_copy(seed, tmp_path):
    site = tmp_path / "site"
    shutil.copytree(seed, site)
    return site


@pytest.mark.parametrize("case", CASES + RENDER_CASES,
                         ids=[c["case"] for c in CASES + RENDER_CASES])
def test_check_refuses_every_input_the_build_refuses(seed, case, tmp_path):
    site = site_copy(seed, tmp_path)
    prepare_case(site, case)
    before = tree_digest(site)
    code, stdout, check_stderr = run_cli("--root", str(site), "check", "--today", TODAY)
    assert code == 1, stdout + check_stderr
    assert "Traceback" not in check_stderr
    assert tree_digest(site) == before and not (site / ".cache").exists()   # wrote nothing
    out = tmp_path / "out"
    code, _, build_stderr = run_cli("--root", str(site), "--out", str(out), "--today", TODAY)
    assert code == 1 and not (out / "index.html").exists()
    for fragment in case["expect"]:
        assert fragment in check_stderr, f"{fragment!r} not in:\n{check_stderr}"
    assert problem_lines(build_stderr)
    assert problem_lines(check_stderr) == problem_lines(build_stderr)


def test_check_lists_the_problems_of_every_stage_and_unit_in_one_pass(seed, tmp_path):
    """The build stops at its first problem after validation (a release notice dated after
    the build date, then the first page that fails); check goes on to the others: the
    pages are rendered as if the notice were kept as 'general', as the message advises."""
    site = site_copy(seed, tmp_path)
    cases = [RENDER_CASES[i] for i in (0, 2, 3, 5)]
    for case in cases:
        prepare_case(site, case)
    code, stdout, stderr = run_cli("--root", str(site), "check", "--today", TODAY)
    assert code == 1
    assert "check failed: 4 errors" in stdout
    for case in cases:
        assert all(fragment in stderr for fragment in case["expect"]), stderr
    _, _, build_stderr = run_cli("--root", str(site), "--out", str(tmp_path / "out"),
                                 "--today", TODAY)
    assert problem_lines(build_stderr) < problem_lines(stderr)


def test_check_in_worker_processes_finds_what_it_finds_in_one(seed, tmp_path, monkeypatch):
    from erjian.editor.check import find_all

    site = site_copy(seed, tmp_path)
    for case in (RENDER_CASES[0], RENDER_CASES[3]):
        prepare_case(site, case)
    today = __import__("datetime").date.fromisoformat(TODAY)
    alone = find_all(site, today, workers=1)
    monkeypatch.setattr("erjian.output.pipeline.PARALLEL_FROM", 1)
    assert find_all(site, today, workers=2) == alone
    assert sum(f.problem.severity == "error" for f in alone) == 2


@pytest.mark.parametrize("target, stage", [
    ("erjian.editor.check.read_site", "reading and validating the input"),
    ("erjian.editor.check.Planner", "planning the schedules"),
    ("erjian.site.province_unit.ProvincePages.add_unit", "rendering every page in memory"),
])
def test_an_unexpected_failure_is_one_message_naming_the_stage(seed, tmp_path, monkeypatch,
                                                               target, stage):
    def broken(*args, **kwargs):
        raise KeyError("surprise")

    monkeypatch.setattr(target, broken)
    code, stdout, stderr = run_cli("--root", str(seed), "check", "--today", TODAY)
    assert code == 1 and "Traceback" not in stderr + stdout
    assert f"error: check stopped unexpectedly while {stage}: KeyError: 'surprise'" in stderr
    assert "(at tests/test_check_is_build.py:" not in stderr   # only the innermost frame's file
    assert "(at test_check_is_build.py:" in stderr
    assert "hint: this is a bug in the generator, not a problem of the input" in stderr


def test_the_preview_counts_the_warnings_check_counts(seed, tmp_path):
    from erjian.preview.server import Preview

    code, stdout, _ = run_cli("--root", str(seed), "check", "--today", TODAY)
    assert code == 0
    counted = stdout.split("0 errors, ")[1].split(" warnings")[0]
    assert int(counted) > 0
    stream = io.StringIO()
    preview = Preview(seed, __import__("datetime").date.fromisoformat(TODAY), stream=stream,
                      cache_dir=tmp_path / "cache")
    preview.rebuild()
    assert f"({counted} warnings)" in stream.getvalue()
    assert stream.getvalue().count("warning: ") == int(counted)
