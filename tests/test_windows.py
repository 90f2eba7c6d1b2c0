"""Stage 4b/4c: release and review windows on edge cases, and statuses."""

import datetime as dt

import chinese_calendar
import pytest

from erjian.dates.calendars import build_calendar
from erjian.dates.cycles import compute_cycle, focus_exam, upcoming_exam
from erjian.core.limits import (CALENDAR_YEARS, MAX_RELEASE_WORKING_DAYS, MAX_REVIEW_WORKING_DAYS,
                           SUPPORTED_YEARS, WINDOW_YEARS)
from erjian.input.models import Estimate, Exam, Notice
from erjian.input.resolve import Announcement
from erjian.input.validate import read_site
from erjian.dates.windows import (ANNOUNCED, OPEN, PAST, UPCOMING, release_status, release_window,
                            review_window, rolling_years, span_status)

D = dt.date


@pytest.fixture(scope="module")
def data(seed_root):
    return read_site(seed_root)


@pytest.fixture(scope="module")
def national(data):
    return build_calendar([data.layers["national"]], data.calendar_years, 2019, 2028)


@pytest.fixture(scope="module")
def xinjiang(data):
    return build_calendar([data.layers["national"], data.layers["xinjiang"]],
                          data.calendar_years, 2019, 2028)


def nth_workday(start, count):
    """Independent reference: chinese_calendar's working days."""
    day = start
    while count:
        day += dt.timedelta(days=1)
        count -= chinese_calendar.is_workday(day)
    return day


def test_window_crossing_dragon_boat_is_pushed_by_one_working_day(national):
    window = release_window(national, D(2026, 6, 12), 5, 6)
    assert window.earliest == D(2026, 6, 22) == nth_workday(D(2026, 6, 12), 5)
    assert window.weekday_earliest == D(2026, 6, 19)
    [effect] = window.effects
    assert effect.name == "端午节" and effect.weekdays_off == (D(2026, 6, 19),)
    assert effect.net_days == 1
    # latest: 6th working day is Tue 23 June instead of Mon 22 June
    assert window.latest == D(2026, 6, 23) and window.delay_days == 1
    assert not window.provisional


def test_seed_style_window_matches_the_reference_count(national):
    window = release_window(national, D(2026, 5, 24), 42, 63)
    assert window.earliest == nth_workday(D(2026, 5, 24), 42)
    assert window.latest == nth_workday(D(2026, 5, 24), 63)


def test_xinjiang_exam_followed_by_eid_al_adha(national, xinjiang):
    plain = release_window(national, D(2026, 5, 24), 3, 42)
    local = release_window(xinjiang, D(2026, 5, 24), 3, 42)
    # 25, 26 May work; 27–29 May are 古尔邦节 in Xinjiang only
    assert plain.earliest == D(2026, 5, 27)
    assert local.earliest == D(2026, 6, 1)
    eid = [e for e in local.effects if e.name == "古尔邦节"]
    assert eid and eid[0].layer == "xinjiang" and len(eid[0].weekdays_off) == 3
    assert (local.latest - plain.latest).days >= 3
    assert local.provisional  # the 2026 Xinjiang arrangement is read from a report only


def test_autumn_exam_crossing_new_year_and_spring_festival_is_provisional(national):
    window = release_window(national, D(2026, 11, 15), 42, 63)
    names = [(e.name, e.year) for e in window.effects]
    assert ("元旦", 2027) in names and ("春节", 2027) in names
    assert window.earliest.year == 2027
    spring = next(e for e in window.effects if e.name == "春节")
    assert len(spring.weekdays_off) >= 3
    assert window.delay_days >= len(spring.weekdays_off)
    assert window.provisional
    assert [b.year for b in window.provisional_bases] == [2027]


def test_window_landing_on_a_weekend_working_day(national):
    window = release_window(national, D(2026, 2, 12), 2, 2)
    assert window.latest == D(2026, 2, 14)  # Saturday made a working day
    assert window.latest.weekday() == 5
    [effect] = window.effects
    assert effect.working_weekends == (D(2026, 2, 14),) and effect.net_days == -1


def test_window_never_lands_on_a_sunday_inside_a_holiday(national):
    window = release_window(national, D(2026, 2, 13), 1, 2)
    assert window.earliest == D(2026, 2, 14)
    assert window.latest == D(2026, 2, 24)   # 15 Feb (Sunday) to 23 Feb are all off
    spring = window.effects[0]
    assert D(2026, 2, 15) not in spring.weekdays_off          # a Sunday is off anyway
    assert spring.weekdays_off == tuple(D(2026, 2, d) for d in (16, 17, 18, 19, 20, 23))


def test_review_window_counts_the_release_day_and_skips_holidays(national):
    review = review_window(national, D(2026, 9, 24), D(2026, 9, 24), 5, estimated=False)
    # 24 Sep (1), 25–27 中秋, 28 (2), 29 (3), 30 (4), 1–7 Oct 国庆, 8 Oct (5)
    assert review.opens == D(2026, 9, 24) and review.closes == D(2026, 10, 8)


def test_review_window_after_a_release_on_a_day_off(national):
    review = review_window(national, D(2026, 10, 3), D(2026, 10, 3), 1, estimated=False)
    assert review.closes == D(2026, 10, 8)


@pytest.mark.parametrize("today,expected", [
    (D(2026, 7, 1), UPCOMING), (D(2026, 7, 27), OPEN), (D(2026, 8, 25), OPEN),
    (D(2026, 8, 26), PAST)])
def test_span_status(today, expected):
    assert span_status(today, D(2026, 7, 27), D(2026, 8, 25)) == expected


def test_announced_release_status(national):
    window = release_window(national, D(2026, 5, 24), 42, 63)
    assert release_status(D(2026, 8, 1), window, D(2026, 8, 20)) == ANNOUNCED
    assert release_status(D(2026, 8, 20), window, D(2026, 8, 20)) == PAST
    assert release_status(D(2026, 8, 1), window, None) == OPEN


def test_rolling_validity_years():
    assert rolling_years(2026) == (2026, 2027)


def _exam(year, month, day):
    first = D(year, month, day)
    return Exam(year=year, days=(first, first + dt.timedelta(days=1)), confirmed=True)


def test_focus_is_the_latest_started_sitting_else_the_next():
    spring, autumn = _exam(2026, 5, 23), _exam(2026, 10, 31)
    assert focus_exam((autumn, spring), D(2026, 4, 1)) is spring
    assert focus_exam((autumn, spring), D(2026, 6, 1)) is spring
    assert focus_exam((autumn, spring), D(2026, 11, 5)) is autumn
    assert upcoming_exam((autumn, spring), D(2026, 6, 1)) is autumn
    assert focus_exam((), D(2026, 6, 1)) is None


def test_cycle_uses_announced_date_for_release_and_review(national):
    exam = _exam(2026, 5, 23)
    notice = Notice(slug="n", title="t", date=D(2026, 8, 1), kind="release", provinces=("x",),
                    regions=(), exam_year=2026, sitting="main", release_date=D(2026, 8, 14),
                    source=None, summary=None, body="", file="n.md", line=1)
    cycle = compute_cycle(national, exam, Estimate(), Announcement(D(2026, 8, 14), notice),
                          D(2026, 8, 10))
    release = cycle.milestones[1]
    assert (release.first, release.last, release.status) == (D(2026, 8, 14), D(2026, 8, 14),
                                                             ANNOUNCED)
    assert not release.estimated
    assert cycle.review.opens == D(2026, 8, 14)
    assert cycle.review.closes == nth_workday(D(2026, 8, 13), 5)
    assert not cycle.review.estimated


def test_estimated_cycle_review_spans_the_whole_window(national):
    cycle = compute_cycle(national, _exam(2026, 5, 23), Estimate(), None, D(2026, 6, 1))
    assert cycle.review.opens == cycle.window.earliest
    assert cycle.review.closes == nth_workday(cycle.window.latest - dt.timedelta(days=1), 5)
    assert [m.status for m in cycle.milestones] == [PAST, UPCOMING, UPCOMING]


# --- the longest schedules stay within the computable years (erjian.core.limits) ------------------

@pytest.fixture(scope="module")
def xinjiang_all_years(data):
    """Xinjiang's calendar (the one with the most days off) over every computable year."""
    return build_calendar([data.layers["national"], data.layers["xinjiang"]],
                          data.calendar_years, CALENDAR_YEARS[0], CALENDAR_YEARS[-1])


def test_longest_schedule_from_any_supported_year_ends_within_the_calendar(
        xinjiang_all_years):
    longest = MAX_RELEASE_WORKING_DAYS
    for year in SUPPORTED_YEARS:
        exam_end = D(year, 12, 31)
        window = release_window(xinjiang_all_years, exam_end, longest, longest)
        review = review_window(xinjiang_all_years, window.earliest, window.latest,
                               MAX_REVIEW_WORKING_DAYS, estimated=True)
        announced = review_window(xinjiang_all_years, exam_end, exam_end,
                                  MAX_REVIEW_WORKING_DAYS, estimated=False)
        assert window.latest.year >= year + 1, year      # the span really is that long
        assert review.closes.year <= year + WINDOW_YEARS, year
        assert announced.closes.year <= year + WINDOW_YEARS, year


def test_late_december_exam_with_the_longest_estimate_spans_two_projected_years(
        xinjiang_all_years):
    window = release_window(xinjiang_all_years, D(2026, 12, 27), 42,
                            MAX_RELEASE_WORKING_DAYS)
    # 2027 has about 240 working days here (no 调休 known, both Eids off): not enough
    assert window.earliest.year == 2027 and window.latest.year == 2028
    assert {b.year for b in window.bases if b.projected} == {2027, 2028}
    assert {(e.name, e.year) for e in window.effects} >= {("春节", 2027), ("国庆节", 2027),
                                                           ("肉孜节", 2027), ("古尔邦节", 2027)}
