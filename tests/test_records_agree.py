"""Issue 16: records agree with each other. A release notice is for a recorded exam of every
province it reaches, after that exam, and the only one for it; a confirmed exam names its
source; a year of the national calendar lists every statutory holiday or says why not. Each
case is one an editor trial let through."""

import re

from conftest import run_cli

ANHUI = "regions/anhui/province.yaml"


def write(root, relative, text):
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def release_notice(root, name, release_date, exam_year=2026, date=None, targets="provinces: "
                   "[anhui]", sitting=""):
    """content/notices/<name>.md, a release notice; its release_date is on line 7 and its
    exam_year on line 6."""
    return write(root, f"content/notices/{name}.md",
                 f"---\ntitle: 安徽省二级建造师成绩发布\ndate: {date or release_date}\n"
                 f"kind: release\n{targets}\nexam_year: {exam_year}\n"
                 f"release_date: {release_date}\n{sitting}source:\n"
                 "  title: 关于二级建造师成绩发布的通知\n"
                 "  url: https://www.apta.gov.cn/n.html\n---\n成绩已可查询。\n")


def build(root, out, today="2026-08-20"):
    return run_cli("--root", str(root), "--out", str(out), "--today", today)


def refused(root, tmp_path, today="2026-08-20"):
    """stderr of a build that must fail and write nothing."""
    out = tmp_path / "out"
    code, _, stderr = build(root, out, today)
    assert code == 1, stderr
    assert not out.exists()
    return stderr


def test_release_notices_left_at_the_scaffold_year_are_refused(site, tmp_path):
    """The trial: three past release notices kept the scaffold's exam_year (2026), and
    Ma'anshan's page dated the 2026 exam's scores 2025-07-31."""
    for year, day in ((2023, "2023-08-14"), (2024, "2024-08-05"), (2025, "2025-07-31")):
        release_notice(site, f"{year}-anhui-release", day)
    stderr = refused(site, tmp_path)
    assert ("content/notices/2025-anhui-release.md:7: [release_date] release_date 2025-07-31 "
            "is not after the 2026 exam of 安徽省, which ends 2026-05-24") in stderr
    assert "hint: scores are released after the exam: check release_date and exam_year" in stderr
    assert ("content/notices/2024-anhui-release.md:6: [exam_year] "
            "content/notices/2023-anhui-release.md already gives the release date of the 2026 "
            "exam of 安徽省") in stderr
    code, out, stderr = run_cli("--root", str(site), "backtest", "--today", "2026-08-20")
    assert code == 1 and "outside" not in out
    assert "2025-07-31 is not after the 2026 exam" in stderr


def test_a_release_on_or_before_the_exam_last_day_is_refused(site, tmp_path):
    notice = release_notice(site, "release", "2026-05-24")
    stderr = refused(site, tmp_path)
    assert "content/notices/release.md:7: [release_date] release_date 2026-05-24" in stderr
    notice.unlink()
    release_notice(site, "release", "2026-05-25")
    code, _, stderr = build(site, tmp_path / "out")
    assert code == 0, stderr
    assert "2026-05-25" in (tmp_path / "out" / "anhui/maanshan/index.html").read_text("utf-8")


def test_two_release_notices_for_one_exam_are_refused(site, tmp_path):
    release_notice(site, "a-province", "2026-07-20")
    release_notice(site, "b-region", "2026-07-22", targets="regions: [anhui/maanshan]")
    stderr = refused(site, tmp_path)
    assert ("content/notices/b-region.md:6: [exam_year] content/notices/a-province.md already "
            "gives the release date of the 2026 exam of 安徽省; an exam has one release "
            "notice") in stderr
    assert "a-province.md:" not in stderr
    # Another sitting of the same year is another exam.
    path = site / ANHUI
    path.write_text(path.read_text("utf-8").replace(
        "exams:\n", "exams:\n  - year: 2026\n    sitting: autumn\n    days: [2026-10-24]\n", 1),
        encoding="utf-8")
    (site / "content/notices/b-region.md").unlink()
    release_notice(site, "b-autumn", "2026-12-20", sitting="sitting: autumn\n")
    code, _, stderr = build(site, tmp_path / "out", today="2026-12-21")
    assert code == 0, stderr


def test_a_release_notice_for_an_unrecorded_exam_is_an_error(site, tmp_path):
    release_notice(site, "release", "2025-08-01", exam_year=2025)
    stderr = refused(site, tmp_path)
    assert ("content/notices/release.md:6: [exam_year] the 2025 exam is not a recorded exam "
            "of 安徽省 (regions/anhui/province.yaml records: 2026)") in stderr
    assert "if that exam is missing, add it to 'exams' in regions/anhui/province.yaml" in stderr


def test_every_province_a_release_notice_reaches_must_record_its_exam(site, tmp_path):
    """Anhui records its 2025 exam, Shanghai (reached through Songjiang) does not."""
    path = site / ANHUI
    path.write_text(path.read_text("utf-8").replace(
        "exams:\n", "exams:\n  - year: 2025\n    days: [2025-05-24, 2025-05-25]\n", 1),
        encoding="utf-8")
    release_notice(site, "release", "2025-08-01", exam_year=2025,
                   targets="provinces: [anhui]\nregions: [shanghai/songjiang]")
    stderr = refused(site, tmp_path)
    # (the targets take two lines: exam_year moves to line 7)
    assert ("content/notices/release.md:7: [exam_year] the 2025 exam is not a recorded exam "
            "of 上海市 (regions/shanghai/province.yaml records: 2026)") in stderr
    assert "of 安徽省" not in stderr


def test_a_confirmed_exam_without_source_is_an_error(site, tmp_path):
    """It was a baseline warning: `check --strict` passed and the page dropped 未核实."""
    path = site / ANHUI
    text = path.read_text("utf-8")
    path.write_text(text.replace("    confirmed: false\n", "    confirmed: true\n", 1),
                    encoding="utf-8")
    line = text.splitlines().index("    confirmed: false") + 1
    code, _, stderr = run_cli("--root", str(site), "check", "--strict", "--today",
                              "2026-06-15")
    assert code == 1
    assert (f"regions/anhui/province.yaml:{line}: [exams[1].confirmed] a confirmed date needs "
            "its source") in stderr
    assert "or set 'confirmed: false'" in stderr
    refused(site, tmp_path, today="2026-06-15")


NATIONAL_2026 = "calendars/national/2026.yaml"
ONLY_NEW_YEAR = """year: 2026
source:
  title: 国务院办公厅关于2026年部分节假日安排的通知
holidays:
  - name: 元旦
    first_day_off: 2026-01-01
    last_day_off: 2026-01-03
    working_weekends: [2026-01-04]
"""


def test_a_national_year_missing_statutory_holidays_is_refused(site, tmp_path):
    """The trial: a year skeleton holding only 元旦 built; the other holidays counted as
    working days, so a window came out early and its page said it held no holiday."""
    write(site, NATIONAL_2026, ONLY_NEW_YEAR)
    stderr = refused(site, tmp_path)
    assert ("calendars/national/2026.yaml:4: [holidays] the 2026 arrangement lists no "
            "春节、清明节、劳动节、端午节、中秋节、国庆节") in stderr
    assert "omitted: [{holiday: 春节, why: <why it is not listed>}]" in stderr


def test_a_national_year_may_say_which_holidays_it_leaves_out(site, tmp_path):
    omitted = "".join(f"  - holiday: {name}\n    why: 通知尚未录入\n"
                      for name in ("春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节"))
    write(site, NATIONAL_2026, ONLY_NEW_YEAR + "omitted:\n" + omitted)
    code, _, stderr = run_cli("--root", str(site), "check", "--today", "2026-06-15")
    assert code == 0, stderr
    # 国庆节 left out but listed with 中秋节 in one span: it is not omitted.
    write(site, NATIONAL_2026, ONLY_NEW_YEAR.replace("holidays:\n", """holidays:
  - name: 中秋节、国庆节
    first_day_off: 2026-10-01
    last_day_off: 2026-10-08
""") + "omitted:\n" + omitted)
    stderr = refused(site, tmp_path)
    assert re.search(r"calendars/national/2026\.yaml:\d+: \[omitted\[5\]\.holiday\] 中秋节 is "
                     r"listed under holidays, so it is not omitted", stderr)
    assert "[omitted[6].holiday] 国庆节 is listed under holidays" in stderr


def test_only_the_national_calendar_may_omit_a_holiday(site, tmp_path):
    path = site / "calendars/xinjiang/2026.yaml"
    path.write_text(path.read_text("utf-8") + "omitted:\n  - holiday: 春节\n    why: 不适用\n",
                    encoding="utf-8")
    stderr = refused(site, tmp_path)
    assert re.search(r"calendars/xinjiang/2026\.yaml:\d+: \[omitted\] only the national "
                     r"calendar, of the statutory holidays, can omit one", stderr)
