"""The publish policy: the workflow's own check and build commands publish the repository as
it stands, and fail a change that adds an unverified link or an exam without a source; the
baseline it judges against is keyed on what a warning is about, never on its line."""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, copy_site, run_cli
from erjian.editor import baseline
from erjian.editor.github_report import command

pytestmark = pytest.mark.slow   # runs the workflow's steps and check on the repository

WORKFLOW = ROOT / ".github" / "workflows" / "publish.yml"
EXPRESSION = re.compile(r"\$\{\{[^}]*\}\}")


# --- running the workflow's steps ------------------------------------------------------------

def workflow_steps() -> list[dict]:
    """The build job's steps after `make test` that run commands (the date, check and build),
    in order: what the workflow runs once the tests passed."""
    steps = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))["jobs"]["build"]["steps"]
    tested = next(i for i, s in enumerate(steps) if s.get("run") == "make test")
    return [s for s in steps[tested + 1:] if "run" in s]


def repository_copy(dest: Path) -> Path:
    """The repository's data, code and baseline, with the real venv at .venv (the workflow's
    setup-python + make test leave one there)."""
    for name in ("content", "calendars", "templates", "regions", "erjian"):
        shutil.copytree(ROOT / name, dest / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("build.py", ".check-baseline.json"):
        shutil.copy2(ROOT / name, dest / name)
    (dest / ".venv").symlink_to(ROOT / ".venv")
    return dest


def run_steps(repo: Path, tmp_path: Path):
    """Runs each step as GitHub does (bash -e -o pipefail, GITHUB_ENV carried from step to
    step, ${{ }} expressions empty as on a pull request); stops at the first failure.
    Returns (exit code, names of the steps run, their stdout, the job summary)."""
    env_file, summary = tmp_path / "github_env", tmp_path / "summary.md"
    env_file.write_text("")
    base = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    base.update(GITHUB_ACTIONS="true", GITHUB_ENV=str(env_file),
                GITHUB_STEP_SUMMARY=str(summary), CI="true")
    ran, output = [], ""
    for step in workflow_steps():
        env = {**base, **carried(env_file),
               **{k: EXPRESSION.sub("", str(v)) for k, v in step.get("env", {}).items()}}
        result = subprocess.run(["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", "-c",
                                 EXPRESSION.sub("", step["run"])], cwd=repo, env=env,
                                capture_output=True, text=True, timeout=600)
        ran.append(step.get("name", step["run"]))
        output += result.stdout
        if result.returncode != 0:
            return result.returncode, ran, output, summary.read_text() if summary.exists() else ""
    return 0, ran, output, summary.read_text() if summary.exists() else ""


def accepted_total() -> int:
    """How many warnings the committed baseline accepts (15 when it was written)."""
    document = json.loads((ROOT / ".check-baseline.json").read_text(encoding="utf-8"))
    return sum(entry["count"] for entry in document["warnings"])


def carried(env_file: Path) -> dict:
    lines = env_file.read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


def insert_after(path: Path, anchor: str, text: str) -> int:
    """Puts ``text`` after the line ``anchor``; returns the line number of its first line."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.rstrip("\n") == anchor) + 1
    lines[at:at] = [text]
    path.write_text("".join(lines), encoding="utf-8")
    return at + 1


def test_the_workflow_checks_against_the_baseline_and_builds():
    names = [s.get("name", "") for s in workflow_steps()]
    runs = "\n".join(s["run"] for s in workflow_steps())
    assert "build.py check --strict --baseline .check-baseline.json" in runs
    assert "build.py --clean" in runs and "git log" not in runs
    assert any(n.startswith("Check") for n in names) and "Build" in names


def test_the_repository_as_it_stands_publishes(tmp_path):
    repo = repository_copy(tmp_path / "repo")
    code, ran, stdout, summary = run_steps(repo, tmp_path)
    assert code == 0, stdout
    assert "Build" in ran
    assert (repo / "output" / "index.html").is_file()
    total = accepted_total()
    assert (f"check passed: 0 errors, {total} warnings ({total} in the baseline, 0 new, "
            "0 baseline entries fixed)") in stdout
    # accepted warnings are still shown, on their file and line, and in the job summary
    assert stdout.count("::warning file=regions/") == total
    assert re.search(r"::warning file=regions/\w+/province\.yaml,line=\d+,title=warning "
                     r"\(in the baseline\)%3A ", stdout)
    assert summary.count("| accepted (baseline) |") == total


def test_a_new_unverified_link_fails_with_its_annotation(tmp_path):
    repo = repository_copy(tmp_path / "repo")
    line = insert_after(repo / "regions" / "anhui" / "province.yaml", "authorities:",
                        "  - name: 安徽省教育厅\n"
                        "    url: https://jyt.ah.gov.cn/\n"
                        "    role: exam\n")
    code, ran, stdout, summary = run_steps(repo, tmp_path)
    assert code != 0
    assert "Build" not in ran and not (repo / "output").exists()
    assert (f"::error file=regions/anhui/province.yaml,line={line},title=new warning%3A "
            "authorities[1].verified::link to 安徽省教育厅 has never been verified") in stdout
    assert "1 new" in stdout and "| **new** (fails) | `regions/anhui/province.yaml:" in summary
    # the warnings that were already accepted (some moved down) stay accepted
    assert stdout.count("::warning file=regions/") == accepted_total()


def test_a_new_unsourced_exam_fails(tmp_path):
    repo = repository_copy(tmp_path / "repo")
    path = repo / "regions" / "beijing" / "province.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "exams: []\n", "exams:\n  - year: 2026\n    days: [2026-05-23, 2026-05-24]\n"),
        encoding="utf-8")
    code, ran, stdout, _ = run_steps(repo, tmp_path)
    assert code != 0 and "Build" not in ran
    assert re.search(r"::error file=regions/beijing/province\.yaml,line=\d+,title=new warning"
                     r"%3A exams\[1\]\.source::the 2026 exam days have no source", stdout)


# --- the baseline ----------------------------------------------------------------------------

def test_committed_baseline_is_what_update_baseline_writes(tmp_path):
    repo = repository_copy(tmp_path / "repo")
    out = tmp_path / "baseline.json"
    code, stdout, _ = run_cli("--root", str(repo), "check", "--update-baseline",
                              "--baseline", str(out))
    assert code == 0 and f"{accepted_total()} warnings accepted" in stdout
    assert out.read_text(encoding="utf-8") == (ROOT / ".check-baseline.json").read_text(
        encoding="utf-8"), "the committed baseline is out of date: run check --update-baseline"
    entries = json.loads(out.read_text(encoding="utf-8"))["warnings"]
    assert entries == sorted(entries, key=lambda e: (e["file"], e["field"], e["kind"],
                                                    e["subject"]))
    assert all(set(e) == {"file", "field", "kind", "subject", "count"} for e in entries)


@pytest.fixture
def baselined(site):
    """The seed site with a baseline of its own warnings."""
    code, _, _ = run_cli("--root", str(site), "check", "--update-baseline",
                         "--today", "2026-06-15")
    assert code == 0
    return site


def strict(site, *extra):
    return run_cli("--root", str(site), "check", "--strict", "--today", "2026-06-15",
                   "--format", "text", *extra)


def test_default_baseline_at_the_root_is_used(baselined):
    code, stdout, _ = strict(baselined)
    assert code == 0 and "0 new" in stdout


def test_moving_a_warning_and_unrelated_edits_are_not_new(baselined):
    path = baselined / "regions" / "anhui" / "province.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text("# an unrelated comment\n\n" + text.replace("    role: exam\n",
                    "    role: exam\n    note: 另一条说明\n", 1), encoding="utf-8")
    code, stdout, stderr = strict(baselined)
    assert code == 0, stderr
    assert "regions/anhui/province.yaml:9:" in stderr   # the first link, two lines down


def test_fixed_warning_is_reported_not_failed(baselined):
    path = baselined / "regions" / "anhui" / "province.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "    role: scores\n", "    role: scores\n    verified: 2026-06-01\n", 1),
        encoding="utf-8")
    code, stdout, _ = strict(baselined)
    assert code == 0
    assert "fixed: regions/anhui/province.yaml [authorities[].verified] unverified-link " \
           "https://www.apta.gov.cn/ (x1) no longer occurs; remove it with " \
           "--update-baseline" in stdout


def test_a_link_verified_then_stale_is_new(baselined):
    """Verified, baseline updated (the entry removed), then 181 days pass with no edit."""
    path = baselined / "regions" / "anhui" / "province.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "    role: scores\n", "    role: scores\n    verified: 2026-06-01\n", 1),
        encoding="utf-8")
    assert run_cli("--root", str(baselined), "check", "--update-baseline", "--today",
                   "2026-06-15")[0] == 0
    code, stdout, _ = run_cli("--root", str(baselined), "check", "--strict", "--today",
                              "2026-11-29", "--format", "text")
    assert code == 1 and "1 new" in stdout


def test_an_accepted_unverified_link_stays_accepted_whatever_the_date(baselined):
    document = json.loads((baselined / ".check-baseline.json").read_text(encoding="utf-8"))
    total = sum(entry["count"] for entry in document["warnings"])
    assert any(entry["kind"] == "unverified-link" for entry in document["warnings"])
    code, stdout, _ = run_cli("--root", str(baselined), "check", "--strict", "--today",
                              "2027-12-31", "--format", "text")
    assert code == 0, stdout
    assert (f"check passed: 0 errors, {total} warnings ({total} in the baseline, 0 new, "
            "0 baseline entries fixed)") in stdout


def test_a_second_occurrence_beyond_the_count_is_new(baselined):
    path = baselined / "regions" / "anhui" / "province.yaml"
    insert_after(path, "exams:", "  - year: 2026\n    sitting: autumn\n"
                 "    days: [2026-09-12, 2026-09-13]\n")
    code, stdout, stderr = strict(baselined)
    assert code == 1 and "1 new" in stdout, stderr


def test_errors_fail_even_when_not_strict(baselined):
    (baselined / "regions" / "anhui" / "x.yaml").write_text("name: 宣城市\nlevle: county\n",
                                                            encoding="utf-8")
    code, stdout, _ = run_cli("--root", str(baselined), "check", "--today", "2026-06-15")
    assert code == 1 and re.search(r"check failed: \d+ errors", stdout)
    assert "fixed:" not in stdout   # warnings were not looked for, so none is "fixed"
    code, stdout, _ = run_cli("--root", str(baselined), "check", "--update-baseline")
    assert code == 1 and "baseline not written" in stdout


def test_a_broken_baseline_is_one_message(site, tmp_path):
    bad = tmp_path / "b.json"
    bad.write_text("{}", encoding="utf-8")
    code, _, stderr = strict(site, "--baseline", str(bad))
    assert code == 1 and "is not a check baseline" in stderr and "Traceback" not in stderr
    code, _, stderr = strict(site, "--baseline", str(tmp_path / "missing.json"))
    assert code == 1 and "no baseline at" in stderr


def test_github_format_is_chosen_by_github_actions(site, monkeypatch, tmp_path):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    code, stdout, _ = run_cli("--root", str(site), "check", "--today", "2026-06-15")
    assert code == 0
    assert "::warning file=regions/xinjiang/province.yaml,line=14,title=warning%3A " \
           "authorities[1].verified::" in stdout
    assert "| status | where | field | message |" in summary.read_text(encoding="utf-8")


def test_annotation_escaping():
    assert command("warning", "50% done\nnext", "a,b:c.yaml", 3, "t: x") == \
        "::warning file=a%2Cb%3Ac.yaml,line=3,title=t%3A x::50%25 done%0Anext"


def test_baseline_key_has_no_line():
    from erjian.core.errors import Problem
    from erjian.site.warnings import Finding

    first = Finding(Problem("f.yaml", 3, "authorities[2].verified", "m", None, "warning"),
                    "unverified-link", "https://a.gov.cn/")
    moved = Finding(Problem("f.yaml", 9, "authorities[4].verified", "m2", None, "warning"),
                    "unverified-link", "https://a.gov.cn/")
    assert baseline.key(first) == baseline.key(moved)
