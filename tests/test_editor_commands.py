"""`check`, `new` and the build report, through the command line."""

import datetime as dt
import io
import re

import pytest
import yaml

from conftest import run_cli
from erjian import cli
from erjian.core.progress import ProgressBar


def test_check_writes_nothing_and_reports_warnings(site, tmp_path):
    code, stdout, stderr = run_cli("--root", str(site), "check")
    assert code == 0
    assert not (site / "output").exists()
    assert "never been verified" in stderr and "have no source" in stderr
    assert re.search(r"check passed: 0 errors, \d+ warnings", stdout)


def test_strict_check_fails_on_warnings(site):
    code, stdout, _ = run_cli("--root", str(site), "check", "--strict")
    assert code == 1 and "check failed" in stdout


def test_strict_check_passes_when_nothing_is_suspect(site):
    for province in ("xinjiang", "shanghai", "guangdong", "anhui"):
        path = site / "regions" / province / "province.yaml"
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        bodies = [a for body in data.get("exam_bodies", []) for a in body["authorities"]]
        for authority in [*data["authorities"], *bodies]:
            authority["verified"] = dt.date.today()
        for exam in data["exams"]:
            exam["source"] = {"title": "考务通知"}
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    code, stdout, stderr = run_cli("--root", str(site), "check", "--strict", "--today",
                                   dt.date.today().isoformat())
    assert code == 0, stderr
    assert "0 warnings" in stdout


def test_check_reports_errors_with_did_you_mean(site):
    (site / "regions" / "anhui" / "x.yaml").write_text("name: 宣城市\nlevle: county\n",
                                                       encoding="utf-8")
    code, _, stderr = run_cli("--root", str(site), "check")
    assert code == 1
    assert "regions/anhui/x.yaml:2: [levle]" in stderr and "did you mean 'level'" in stderr


def test_stale_link_warning_names_its_line(site):
    path = site / "regions" / "anhui" / "province.yaml"
    text = path.read_text(encoding="utf-8").replace(
        "    url: https://www.apta.gov.cn/\n",
        "    url: https://www.apta.gov.cn/\n    verified: 2020-01-01\n")
    path.write_text(text, encoding="utf-8")
    _, _, stderr = run_cli("--root", str(site), "check")
    item_line = 1 + text.splitlines().index("  - name: 安徽省人事考试网")
    line = next(l for l in stderr.splitlines() if "安徽省人事考试网" in l)
    assert f"regions/anhui/province.yaml:{item_line}:" in line and "days ago" in line


def test_projected_calendar_year_is_warned(site):
    path = site / "regions" / "anhui" / "province.yaml"
    path.write_text(path.read_text(encoding="utf-8") +
                    "  - year: 2026\n    sitting: autumn\n    days: [2026-11-14, 2026-11-15]\n",
                    encoding="utf-8")
    _, _, stderr = run_cli("--root", str(site), "check", "--today", "2026-11-20")
    assert "2027 has no arrangement file" in stderr


def test_new_region_scaffold_builds_and_refuses_duplicates(site, tmp_path):
    code, stdout, _ = run_cli("--root", str(site), "new", "region", "xinjiang", "博尔塔拉地区")
    assert code == 0 and "regions/xinjiang/boertala.yaml" in stdout
    data = yaml.safe_load((site / "regions/xinjiang/boertala.yaml").read_text("utf-8"))
    assert data == {"name": "博尔塔拉地区", "level": "prefecture"}
    code, _, stderr = run_cli("--root", str(site), "new", "region", "xinjiang", "博尔塔拉地区")
    assert code == 1 and "already" in stderr
    code, _, stderr = run_cli("--root", str(site), "new", "region", "xinjiang", "塔城地区")
    assert code == 1 and "tacheng.yaml" in stderr
    code, _, stderr = run_cli("--root", str(site), "new", "region", "hebei", "石家庄市")
    assert code == 1 and "no province 'hebei'" in stderr
    out = tmp_path / "out"
    assert run_cli("--root", str(site), "--out", str(out))[0] == 0
    assert (out / "xinjiang/boertala/jidian/index.html").is_file()


def test_new_district_of_a_municipality(site):
    run_cli("--root", str(site), "new", "region", "shanghai", "青浦区")
    data = yaml.safe_load((site / "regions/shanghai/qingpu.yaml").read_text("utf-8"))
    assert data["level"] == "municipal_district"


def test_new_notice_cannot_publish_until_its_placeholders_are_replaced(site, tmp_path):
    code, stdout, _ = run_cli("--root", str(site), "new", "notice", "--title",
                              "新疆成绩发布: 通知", "--province", "xinjiang", "--kind", "release")
    assert code == 0
    relative = stdout.split("created ", 1)[1].strip()
    path = site / relative
    text = path.read_text("utf-8")
    front = yaml.safe_load(text.split("---")[1])
    assert front["title"] == "新疆成绩发布: 通知"
    assert front["provinces"] == ["xinjiang"] and front["kind"] == "release"
    lines = text.splitlines()
    def line_of(prefix):
        return next(n for n, line in enumerate(lines, 1) if line.lstrip().startswith(prefix))

    code, _, stderr = run_cli("--root", str(site), "--out", str(tmp_path / "out"),
                              "--today", "2026-08-20")
    assert code == 1 and not (tmp_path / "out").exists()
    for field, prefix in (("exam_year", "exam_year:"), ("release_date", "release_date:"),
                          ("source.title", "title: 【"), ("source.url", "url:")):
        assert f"{relative}:{line_of(prefix)}: [{field}] still holds the placeholder" in stderr
    assert f"[body] still holds the placeholder" in stderr
    assert run_cli("--root", str(site), "check", "--today", "2026-08-20")[0] == 1

    filled = (text.replace("exam_year: 【待填写】YYYY", "exam_year: 2026")
              .replace("release_date: 【待填写】YYYY-MM-DD", "release_date: 2026-08-12")
              .replace("title: 【待填写】官方通知的标题", "title: 关于2026年二建成绩发布的通知")
              .replace("url: 【待填写】https://官方通知的网址",
                       "url: https://www.xjrsks.com.cn/notice.html")
              .replace("【待填写】用自己的话概括通知要点：什么事、什么时间、考生要做什么。",
                       "成绩已于8月12日公布。"))
    path.write_text(filled, encoding="utf-8")
    code, _, stderr = run_cli("--root", str(site), "--out", str(tmp_path / "out"),
                              "--today", "2026-08-20")
    assert code == 0, stderr
    code, _, stderr = run_cli("--root", str(site), "new", "notice", "--title", "x")
    assert code == 1 and "--province" in stderr


def test_new_notice_leaves_the_exam_year_to_the_editor(site, monkeypatch):
    """The trial: the scaffold wrote this year's exam_year into notices about past years, and
    three of them attached to the 2026 exam."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1786000000")   # 2026-08-06 in Beijing
    code, stdout, stderr = run_cli("--root", str(site), "new", "notice", "--title",
                                   "安徽成绩发布", "--province", "anhui", "--kind", "release")
    assert code == 0, stderr
    path = site / stdout.split("created ", 1)[1].strip()
    assert path.name.startswith("2026-08-06-")
    front = yaml.safe_load(path.read_text("utf-8").split("---")[1])
    assert front["date"] == dt.date(2026, 8, 6)
    assert (front["exam_year"], front["release_date"]) == ("【待填写】YYYY",
                                                           "【待填写】YYYY-MM-DD")


def test_new_notice_takes_the_date_it_was_issued(site, capsys):
    code, stdout, stderr = run_cli("--root", str(site), "new", "notice", "--title",
                                   "安徽2024年成绩发布", "--province", "anhui", "--kind",
                                   "release", "--date", "2024-08-05")
    assert code == 0, stderr
    relative = stdout.split("created ", 1)[1].strip()
    assert relative.startswith("content/notices/2024-08-05-")
    front = yaml.safe_load((site / relative).read_text("utf-8").split("---")[1])
    assert front["date"] == dt.date(2024, 8, 5) and front["exam_year"] == "【待填写】YYYY"
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--root", str(site), "new", "notice", "--province", "anhui", "--date",
                    "2024-13-01"])
    assert exit_.value.code == 2
    assert "'2024-13-01' is not a date in the form YYYY-MM-DD" in capsys.readouterr().err
    assert len(list((site / "content/notices").glob("2024-*.md"))) == 1


def test_a_release_notice_needs_its_date_and_official_source(site, tmp_path):
    notice = site / "content" / "notices" / "release.md"
    notice.write_text("---\ntitle: 新疆成绩发布\ndate: 2026-08-12\nkind: release\n"
                      "provinces: [xinjiang]\nexam_year: 2026\n---\n已发布。\n",
                      encoding="utf-8")
    code, _, stderr = run_cli("--root", str(site), "--out", str(tmp_path / "o"), "--today",
                              "2026-08-20")
    assert code == 1
    assert "content/notices/release.md:4: [release_date] a release notice must give" in stderr
    assert "[source.url] a release notice must name the official notice" in stderr


def test_a_release_date_after_the_build_date_is_refused(site, tmp_path):
    notice = site / "content" / "notices" / "release.md"
    notice.write_text("---\ntitle: 新疆成绩发布\ndate: 2026-08-01\nkind: release\n"
                      "provinces: [xinjiang]\nexam_year: 2026\nrelease_date: 2026-08-12\n"
                      "source:\n  title: 关于成绩发布的通知\n"
                      "  url: https://www.xjrsks.com.cn/n.html\n---\n已发布。\n",
                      encoding="utf-8")
    code, _, stderr = run_cli("--root", str(site), "--out", str(tmp_path / "o"), "--today",
                              "2026-08-11")
    assert code == 1
    assert "content/notices/release.md:7: [release_date] 2026-08-12 is after" in stderr
    assert run_cli("--root", str(site), "--out", str(tmp_path / "o"), "--today",
                   "2026-08-12")[0] == 0


def test_build_ends_with_one_summary_line(site, tmp_path):
    out = tmp_path / "out"
    _, first, _ = run_cli("--root", str(site), "--out", str(out), "--today", "2026-06-15")
    _, second, _ = run_cli("--root", str(site), "--out", str(out), "--today", "2026-06-15")
    pattern = r"(\d+) written, (\d+) unchanged, (\d+) removed, (\d+) warnings, [\d.]+ s"
    written, unchanged, removed, _ = map(int, re.search(pattern, first).groups())
    assert written > 30 and unchanged == 0 and removed == 0
    written2, unchanged2, _, _ = map(int, re.search(pattern, second).groups())
    assert written2 == 0 and unchanged2 == written
    assert len(second.strip().splitlines()) == 1


class FakeTerminal(io.StringIO):
    def __init__(self, tty):
        super().__init__()
        self.tty = tty

    def isatty(self):
        return self.tty


def test_progress_bar_only_on_a_terminal():
    terminal, log = FakeTerminal(True), FakeTerminal(False)
    for stream in (terminal, log):
        bar = ProgressBar(stream, after=0)
        for done in range(1, 11):
            bar(done, 10)
        bar.clear()
    assert "10/10" in terminal.getvalue() and log.getvalue() == ""


def test_progress_bar_stays_quiet_for_short_builds():
    terminal = FakeTerminal(True)
    bar = ProgressBar(terminal, after=60)
    bar(5, 10)
    assert terminal.getvalue() == ""


@pytest.mark.slow
def test_scaffold_guesses_the_level_the_import_gives():
    from conftest import ROOT
    from erjian.editor.scaffold import guess_level

    checked = 0
    for path in sorted((ROOT / "regions").glob("*/_divisions.yaml")):
        for division in yaml.safe_load(path.read_text("utf-8"))["divisions"]:
            if division["name"].endswith("市"):
                continue  # prefecture or county level: the name alone cannot tell
            assert guess_level(division["name"], path.parent.name) == division["level"], \
                division
            checked += 1
    assert checked > 2000
