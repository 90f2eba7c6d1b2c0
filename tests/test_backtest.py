"""The estimate held to account (erjian.dates.history, `build.py backtest`, the pages' history
sections and `estimate: {from_history: true}`), on fixtures only: the repository records no
past release date."""

import datetime as dt

import pytest

from conftest import ROOT, run_cli
from erjian.core.errors import SiteError
from erjian.dates.history import HISTORY_MARGIN, resolve_with_history, working_days_between
from erjian.dates.planner import Planner
from erjian.editor.backtest_table import table
from erjian.input.validate import read_site

TODAY = dt.date(2026, 6, 15)

# Anhui's past sittings (not real data: fixtures for the arithmetic).
PAST_EXAMS = {2023: ("2023-06-03", "2023-06-04"), 2024: ("2024-06-01", "2024-06-02"),
              2025: ("2025-05-24", "2025-05-25")}
# 2023: after the window, across 中秋/国庆 (late); 2024: inside; 2025: before (early).
RELEASES = {2023: "2023-10-09", 2024: "2024-08-01", 2025: "2025-07-10"}


def add_history(root, years=(2023, 2024, 2025), releases=RELEASES, estimate=None):
    path = root / "regions" / "anhui" / "province.yaml"
    text = path.read_text(encoding="utf-8")
    exams = "".join(f"  - year: {y}\n    days: [{PAST_EXAMS[y][0]}, {PAST_EXAMS[y][1]}]\n"
                    for y in PAST_EXAMS)
    text = text.replace("exams:\n", "exams:\n" + exams, 1)
    if estimate:
        text += "estimate:\n" + "".join(f"  {k}: {v}\n" for k, v in estimate.items())
    path.write_text(text, encoding="utf-8")
    for year in years:
        day = releases[year]
        (root / "content" / "notices" / f"{year}-anhui-release.md").write_text(
            f"---\ntitle: 安徽省{year}年度二级建造师考试成绩公布\ndate: {day}\nkind: release\n"
            f"provinces: [anhui]\nexam_year: {year}\nrelease_date: {day}\nsource:\n"
            f"  title: 安徽省人事考试网关于{year}年度二级建造师成绩的通知\n"
            f"  url: https://www.apta.gov.cn/n.html\n---\n成绩已可查询。\n",
            encoding="utf-8")


def planner(root) -> Planner:
    return Planner(resolve_with_history(read_site(root)), TODAY)


def rows_by_year(root):
    return {r.year: r for r in planner(root).record.rows}


def test_inside_early_and_late(site):
    add_history(site)
    rows = rows_by_year(site)
    assert [r.province for r in rows.values()] == ["anhui"] * 3
    inside, late, early = rows[2024], rows[2023], rows[2025]
    assert inside.inside and inside.off == 0
    assert inside.earliest <= inside.released <= inside.latest
    assert not early.inside and early.off < 0
    assert early.released < early.earliest
    # 2025-07-10 to the earliest 2025-07-23: 11, 14–18, 21–23 July
    assert (early.earliest, early.off) == (dt.date(2025, 7, 23), -9)
    assert not late.inside and late.off > 0
    assert late.latest == dt.date(2023, 8, 31)


def test_late_release_is_counted_in_working_days_over_a_holiday(site):
    add_history(site)
    late = rows_by_year(site)[2023]
    # 1 September to 9 October 2023 holds 27 weekdays; 中秋/国庆 took 6 of them (29 Sep,
    # 2–6 Oct) and made two weekend days working days (7–8 Oct): 23 working days.
    weekdays = sum(1 for n in range(1, 40) if (late.latest + dt.timedelta(n)).weekday() < 5
                   and late.latest + dt.timedelta(n) <= late.released)
    assert weekdays == 27
    assert late.off == 23


def test_hit_rate_and_table(site):
    add_history(site)
    record = planner(site).record
    assert (record.hits, record.total) == (1, 3)
    lines = table(record)
    assert lines[-1] == "hit rate: 1 of 3 (33 %)"
    assert lines[0].split()[:2] == ["province", "exam"]
    assert lines[0].split()[3:5] == ["released", "span"]
    # 2023: 23 working days after the window's last day, the 63rd: the 86th after the exam;
    # 2025: 9 before the window's first day, the 42nd: the 33rd
    assert lines[1].split()[:5] == ["anhui", "2023", "2023-08-02–2023-08-31", "2023-10-09",
                                    "86"]
    assert lines[1].split()[-2:] == ["outside", "+23"]
    assert lines[3].split()[4] == "33" and lines[3].endswith("-9")
    assert lines[2].split()[-2:] == ["inside", "0"]
    assert lines[-2].startswith("span: working days from the exam's last day")


def test_cli_prints_the_table(site):
    add_history(site)
    code, out, err = run_cli("--root", str(site), "backtest", "--today", "2026-06-15")
    assert code == 0, err
    assert out.splitlines() == table(planner(site).record)
    assert "hit rate: 1 of 3 (33 %)" in out


def test_cli_on_the_repository_says_nothing_is_recorded():
    code, out, err = run_cli("--root", str(ROOT), "backtest", "--today", "2026-06-15")
    assert code == 0, err
    assert out.startswith("No release date has been recorded yet")
    assert "hit rate" not in out


def test_spans_count_from_the_exam_last_day(site):
    add_history(site)
    p = planner(site)
    calendar = p.calendar(())
    for row in p.record.rows:
        assert row.span == working_days_between(calendar, row.exam_end, row.released)
        assert calendar.add_working_days(row.exam_end, row.span) == row.released


def test_from_history_takes_the_window_from_the_record(site):
    add_history(site)
    spans = sorted(r.span for r in rows_by_year(site).values())
    path = site / "regions" / "anhui" / "province.yaml"
    path.write_text(path.read_text(encoding="utf-8")
                    + "estimate:\n  from_history: true\n", encoding="utf-8")
    p = planner(site)
    province = next(pr for pr in p.site.provinces if pr.slug == "anhui")
    estimate = province.estimate
    assert (estimate.min_working_days, estimate.max_working_days) == (
        spans[0] - HISTORY_MARGIN, spans[-1] + HISTORY_MARGIN)
    assert estimate.basis == (f"按本省近3年实际出分间隔（考试结束后第{spans[0]}–{spans[-1]}"
                              f"个工作日）各放宽{HISTORY_MARGIN}个工作日")
    region = next(r for r in p.site.regions if r.key == "anhui/maanshan")
    view = p.view(region)
    assert view.cycle.window.min_working_days == spans[0] - HISTORY_MARGIN
    assert view.cycle.window.max_working_days == spans[-1] + HISTORY_MARGIN
    # Counted with the widened record, every recorded year falls inside.
    assert p.record.hits == p.record.total == 3


def test_a_region_may_take_its_province_record(site):
    add_history(site)
    spans = sorted(r.span for r in rows_by_year(site).values())
    (site / "regions" / "anhui" / "maanshan.yaml").write_text(
        "name: 马鞍山市\nlevel: prefecture_city\nestimate:\n  from_history: true\n"
        "  review_working_days: 7\n", encoding="utf-8")
    p = planner(site)
    region = next(r for r in p.site.regions if r.key == "anhui/maanshan")
    assert (region.estimate.min_working_days, region.estimate.max_working_days,
            region.estimate.review_working_days) == (spans[0] - HISTORY_MARGIN,
                                                      spans[-1] + HISTORY_MARGIN, 7)
    assert region.estimate.basis.startswith("按本省近3年实际出分间隔")


def test_from_history_with_too_few_years_is_an_error(site):
    add_history(site, years=(2024, 2025), estimate={"from_history": "true"})
    with pytest.raises(SiteError) as caught:
        planner(site)
    problem = next(p for p in caught.value.problems if p.field == "estimate.from_history")
    assert problem.file == "regions/anhui/province.yaml"
    text = (site / problem.file).read_text(encoding="utf-8").splitlines()
    assert problem.line and text[problem.line - 1].strip() == "from_history: true"
    assert "2 found" in problem.message


def build_site(root, out):
    code, _, err = run_cli("--root", str(root), "--out", str(out), "--today", "2026-06-15")
    assert code == 0, err
    return out


def text_of(out, path):
    import re

    html = (out / path).read_text(encoding="utf-8")
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


def test_pages_without_history_say_so(seed_output):
    assert "本站还没有录入任何一次往年考试的官方成绩发布日期" in text_of(
        seed_output, "methodology/index.html")
    assert "本站尚未录入安徽往年的官方成绩发布日期" in text_of(seed_output,
                                                           "anhui/index.html")


def test_pages_show_the_record(site, tmp_path):
    add_history(site)
    out = build_site(site, tmp_path / "out")
    method = text_of(out, "methodology/index.html")
    assert "估算的历史检验" in method
    assert "已录入的 3 次考试中，有 1 次落在估算窗口内（33%）" in method
    assert "晚 23 个工作日" in method and "早 9 个工作日" in method
    assert "在窗口内" in method
    anhui = text_of(out, "anhui/index.html")
    assert "有记录的 3 年中，有 1 年的实际发布日期落在本站按同样方法算出的估算窗口内" in anhui
    assert "晚 23 个工作日" in anhui and "2023年8月2日" in anhui
    # Other provinces keep their plain sentence.
    assert "本站尚未录入上海往年的官方成绩发布日期" in text_of(out, "shanghai/index.html")


def test_fewer_than_three_years_are_listed_without_a_verdict(site, tmp_path):
    add_history(site, years=(2023, 2024))
    out = build_site(site, tmp_path / "out")
    anhui = text_of(out, "anhui/index.html")
    assert "已录入 2 年的实际发布日期，不足 3 年" in anhui
    assert "有记录的 2 年中" not in anhui
    assert "晚 23 个工作日" in anhui


def test_a_new_release_notice_rerenders_the_history_pages(site, tmp_path):
    add_history(site, years=(2023, 2024))
    out = build_site(site, tmp_path / "out")
    assert "已录入的 2 次考试中，有 1 次" in text_of(out, "methodology/index.html")
    day = RELEASES[2025]
    (site / "content" / "notices" / "2025-anhui-release.md").write_text(
        "---\ntitle: 安徽省2025年度二级建造师考试成绩公布\ndate: "
        f"{day}\nkind: release\nprovinces: [anhui]\nexam_year: 2025\n"
        f"release_date: {day}\nsource:\n  title: 安徽省人事考试网通知\n"
        "  url: https://www.apta.gov.cn/n.html\n---\n成绩已可查询。\n", encoding="utf-8")
    # add_history wrote the exams already; only the notice is new.
    build_site(site, out)
    assert "已录入的 3 次考试中，有 1 次" in text_of(out, "methodology/index.html")
    assert "有记录的 3 年中，有 1 年" in text_of(out, "anhui/index.html")


def test_from_history_basis_is_shown(site, tmp_path):
    add_history(site, estimate={"from_history": "true"})
    out = build_site(site, tmp_path / "out")
    anhui = text_of(out, "anhui/index.html")
    assert "按本省近3年实际出分间隔" in anhui
    assert "按本省近3年实际出分间隔" in text_of(out, "methodology/index.html")
