"""Every year the schema accepts builds, every other year is refused by the schema with the
reason (issue 9): never a traceback from the calendar code."""

import json
import re

import pytest

from conftest import copy_site, run_cli
from erjian.core import limits

LAST = limits.SUPPORTED_YEARS[-1]


def site_with_exam(tmp_path, province, year, days, estimate=None, notice=None):
    """The Xinjiang and Anhui seed regions, ``province`` holding this one exam (its exams
    block ends the file)."""
    site = copy_site(tmp_path / "site", provinces=("xinjiang", "anhui"))
    path = site / "regions" / province / "province.yaml"
    text = path.read_text(encoding="utf-8")
    text = text[:text.index("\nexams:")] + (
        f"\nexams:\n  - year: {year}\n    days: [{', '.join(days)}]\n")
    if estimate:
        text += ("estimate:\n  min_working_days: {}\n  max_working_days: {}\n"
                 "  review_working_days: {}\n".format(*estimate))
    path.write_text(text, encoding="utf-8")
    if notice:
        (site / "content" / "notices" / "release.md").write_text(notice, encoding="utf-8")
    return site


def build(site, tmp_path, today):
    """`check`, then a build: both give the same verdict, neither a traceback."""
    checked, _, check_err = run_cli("--root", str(site), "check", "--today", today)
    code, _, stderr = run_cli("--root", str(site), "--out", str(tmp_path / "out"),
                              "--today", today)
    assert "Traceback" not in check_err + stderr
    assert checked == code, check_err
    return code, stderr


def record(tmp_path, region, specialty="jianzhu"):
    records = json.loads((tmp_path / "out" / "api" / "regions.json").read_text("utf-8"))
    return next(r for r in records["records"]
                if r["region"]["slug"] == region and r["specialty"]["code"] == specialty)


def test_first_supported_exam_year_builds(tmp_path):
    site = site_with_exam(tmp_path, "anhui", 2000, ["2000-05-20", "2000-05-21"])
    code, stderr = build(site, tmp_path, "2000-06-15")
    assert code == 0, stderr
    release = record(tmp_path, "maanshan")["release"]
    assert release["earliest"].startswith("2000-") and release["provisional"]


def test_late_december_exam_of_the_last_year_with_the_longest_estimate_builds(tmp_path):
    estimate = (limits.MAX_RELEASE_WORKING_DAYS, limits.MAX_RELEASE_WORKING_DAYS,
                limits.MAX_REVIEW_WORKING_DAYS)
    site = site_with_exam(tmp_path, "xinjiang", LAST, [f"{LAST}-12-30", f"{LAST}-12-31"],
                          estimate)
    code, stderr = build(site, tmp_path, f"{LAST}-12-31")
    assert code == 0, stderr
    tacheng = record(tmp_path, "tacheng")
    assert tacheng["release"]["latest"] > f"{LAST + 1}-12-01"     # ~ a year of working days
    assert tacheng["review"]["closes"] < f"{LAST + limits.WINDOW_YEARS + 1}-01-01"
    assert tacheng["release"]["provisional"]


def test_exam_in_a_projected_islamic_year_counts_the_eid(tmp_path):
    # 1 Shawwal 1470 (肉孜节) falls in July 2048, inside a late-May exam's window.
    site = site_with_exam(tmp_path, "xinjiang", 2048, ["2048-05-23", "2048-05-24"])
    code, stderr = build(site, tmp_path, "2048-06-15")
    assert code == 0, stderr
    page = (tmp_path / "out" / "xinjiang" / "tacheng" / "jianzhu" / "index.html").read_text(
        encoding="utf-8")
    assert "肉孜节" in page and "暂定" in page
    basis = record(tmp_path, "tacheng")["release"]["calendar_basis"]
    assert any(b["projected"] for b in basis)


def test_release_announced_on_the_last_day_builds(tmp_path):
    notice = ("---\ntitle: 成绩发布\ndate: 2026-08-10\nkind: release\nprovinces: [anhui]\n"
              f"exam_year: 2026\nrelease_date: {LAST}-12-31\nsource:\n  title: 关于成绩发布的通知\n"
              "  url: https://www.apta.gov.cn/n.html\n---\n成绩已发布。\n")
    site = site_with_exam(tmp_path, "anhui", 2026, ["2026-05-23", "2026-05-24"],
                          notice=notice)
    code, stderr = build(site, tmp_path, f"{LAST}-12-31")
    assert code == 0, stderr
    assert record(tmp_path, "maanshan")["review"]["opens"] == f"{LAST}-12-31"


@pytest.mark.parametrize("year", [LAST + 1, 2077, 2100])
def test_a_later_exam_year_is_refused_by_the_schema_with_the_reason(tmp_path, year):
    site = site_with_exam(tmp_path, "xinjiang", year, [f"{year}-05-23"])
    code, stderr = build(site, tmp_path, "2026-06-15")
    assert code == 1
    assert re.search(rf"regions/xinjiang/province.yaml:\d+: \[exams\[\d\]\.year\] {year} is "
                     rf"outside the years this site covers \(2000–{LAST}\)", stderr)
    assert "Umm al-Qura" in stderr
    assert f"{year}-05-23 is outside the years this site covers" in stderr


@pytest.mark.parametrize("field, value, message", [
    ("max_working_days", limits.MAX_RELEASE_WORKING_DAYS + 1, "is above the maximum"),
    ("review_working_days", limits.MAX_REVIEW_WORKING_DAYS + 1, "is above the maximum"),
])
def test_estimates_longer_than_the_bound_are_refused(tmp_path, field, value, message):
    estimate = {"min_working_days": 42, "max_working_days": 63, "review_working_days": 5,
                field: value}
    site = site_with_exam(tmp_path, "anhui", 2026, ["2026-05-23"],
                          tuple(estimate.values()))
    code, stderr = build(site, tmp_path, "2026-06-15")
    assert code == 1 and f"[estimate.{field}] {value} {message}" in stderr


def site_with_setting(tmp_path, key: str, value: int):
    """The Anhui slice with one setting of content/site.yaml changed."""
    site = copy_site(tmp_path / "site", provinces=("anhui",))
    path = site / "content" / "site.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(rf"{key}: \d+", f"{key}: {value}", text), encoding="utf-8")
    return site


def test_site_calendar_years_beyond_the_calendar_are_refused(tmp_path):
    site = site_with_setting(tmp_path, "last_calendar_year", 2077)
    code, stderr = build(site, tmp_path, "2026-06-15")
    assert code == 1
    assert (f"[last_calendar_year] 2077 is outside the years this site covers "
            f"(2000–{limits.CALENDAR_YEARS[-1]})") in stderr


def test_first_calendar_year_after_the_last_is_refused(tmp_path):
    site = site_with_setting(tmp_path, "first_calendar_year", 2030)
    code, stderr = build(site, tmp_path, "2026-06-15")
    assert code == 1 and "first_calendar_year is later than last_calendar_year" in stderr


def test_an_islamic_rule_on_a_day_not_every_month_has_is_refused(tmp_path):
    site = copy_site(tmp_path / "site", provinces=("xinjiang",))
    path = site / "calendars" / "xinjiang" / "layer.yaml"
    text = path.read_text(encoding="utf-8")
    assert "hijri_day: 10" in text
    path.write_text(text.replace("hijri_day: 10", "hijri_day: 30", 1), encoding="utf-8")
    code, stderr = build(site, tmp_path, "2026-06-15")
    assert code == 1 and "[rules[2].hijri_day] 30 is above the maximum 29" in stderr
