"""Stage 4a: the working-day calendar, checked against an independent source."""

import datetime as dt

import chinese_calendar
import pytest

from erjian.core.limits import CALENDAR_YEARS
from erjian.dates.calendars import build_calendar, project_islamic_year, project_national_year
from erjian.input.validate import read_site

ONE = dt.timedelta(days=1)


@pytest.fixture(scope="module")
def data(seed_root):
    return read_site(seed_root)


def national(data, last_year=2027):
    return build_calendar([data.layers["national"]], data.calendar_years, 2019, last_year)


def xinjiang(data, last_year=2027):
    return build_calendar([data.layers["national"], data.layers["xinjiang"]],
                          data.calendar_years, 2019, last_year)


def test_every_national_year_2019_to_2026_has_a_sourced_file(data):
    years = data.calendar_years["national"]
    assert sorted(years) == list(range(2019, 2027))
    for year, cal in years.items():
        assert cal.source.title == f"国务院办公厅关于{year}年部分节假日安排的通知"
        assert cal.source.document.startswith("国办发明电")


def test_national_calendar_matches_chinese_calendar_day_by_day(data):
    calendar = national(data)
    day, mismatches = dt.date(2019, 1, 1), []
    while day <= dt.date(2026, 12, 31):
        if calendar.is_working_day(day) != chinese_calendar.is_workday(day):
            mismatches.append(day.isoformat())
        day += ONE
    assert mismatches == []


def test_weekend_working_days_are_recognised(data):
    calendar = national(data)
    assert calendar.is_working_day(dt.date(2026, 2, 14))      # Saturday, 调休
    assert calendar.working_weekend(dt.date(2026, 2, 14)).holiday == "春节"
    assert not calendar.is_working_day(dt.date(2026, 2, 15))  # Sunday inside 春节


def test_a_year_without_a_file_is_projected_and_marked(data):
    calendar = national(data, last_year=2027)
    basis = {b.year: b for b in calendar.bases}
    assert basis[2027].projected and basis[2027].provisional
    assert not basis[2026].projected and not basis[2026].provisional
    # 2027 Spring Festival (正月初一 is 6 February) falls on weekdays around it
    assert not calendar.is_working_day(dt.date(2027, 2, 8))
    assert calendar.day_off(dt.date(2027, 2, 8)).holiday == "春节"
    assert calendar.is_working_day(dt.date(2027, 3, 1))


def test_national_projection_has_no_weekend_working_days():
    projected = project_national_year(2027)
    assert projected.projected and not projected.verified
    assert all(span.working_weekends == () for span in projected.holidays)
    names = {span.name for span in projected.holidays}
    assert {"元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节"} <= names


def test_xinjiang_layer_adds_its_own_days_off(data):
    base, local = national(data), xinjiang(data)
    eid = dt.date(2026, 5, 27)  # a Wednesday of 古尔邦节 2026
    assert base.is_working_day(eid)
    assert not local.is_working_day(eid)
    assert local.day_off(eid).holiday == "古尔邦节" and local.day_off(eid).layer == "xinjiang"


def test_xinjiang_projection_uses_the_islamic_calendar(data):
    layer = data.layers["xinjiang"]
    projected = project_islamic_year(layer, 2027)
    spans = {span.name: span for span in projected.holidays}
    assert spans["肉孜节"].first_day_off < spans["古尔邦节"].first_day_off
    assert (spans["肉孜节"].last_day_off - spans["肉孜节"].first_day_off).days == 2
    assert (spans["古尔邦节"].last_day_off - spans["古尔邦节"].first_day_off).days == 4
    assert projected.projected


def test_unverified_regional_year_is_provisional(data):
    calendar = xinjiang(data)
    basis = {(b.layer, b.year): b for b in calendar.bases}
    assert basis[("xinjiang", 2026)].provisional      # read in a report, not the notice
    assert not basis[("xinjiang", 2025)].provisional  # checked against an official copy
    assert basis[("xinjiang", 2024)].projected        # no file: projected


@pytest.mark.parametrize("start", [dt.date(2019, 1, 1) + dt.timedelta(days=37 * i)
                                   for i in range(70)])
@pytest.mark.parametrize("count", [1, 5, 42, 63])
def test_add_working_days_agrees_with_chinese_calendar(data, start, count):
    calendar = national(data)
    expected, remaining = start, count
    while remaining:
        expected += ONE
        if chinese_calendar.is_workday(expected):
            remaining -= 1
    assert calendar.add_working_days(start, count) == expected


def test_add_working_days_lands_on_weekend_working_day(data):
    calendar = national(data)
    assert calendar.add_working_days(dt.date(2026, 2, 13), 1) == dt.date(2026, 2, 14)
    assert calendar.add_working_days(dt.date(2026, 9, 18), 1) == dt.date(2026, 9, 20)


def test_add_working_days_skips_a_sunday_inside_a_holiday(data):
    calendar = national(data)
    # from the 调休 Saturday, the next working day is after the whole 春节 break
    assert calendar.add_working_days(dt.date(2026, 2, 14), 1) == dt.date(2026, 2, 24)


def test_counting_past_the_calendar_is_an_error(data):
    calendar = national(data, last_year=2026)
    with pytest.raises(ValueError):
        calendar.add_working_days(dt.date(2026, 12, 20), 30)


# --- the years that can be computed (erjian.core.limits) ------------------------------------------

def test_every_calendar_year_can_be_projected_with_its_holidays(data):
    layer = data.layers["xinjiang"]
    for year in CALENDAR_YEARS:
        national_days = {span.name for span in project_national_year(year).holidays}
        assert {"元旦", "春节", "国庆节"} <= national_days, year
        islamic = project_islamic_year(layer, year)
        # each Islamic holiday comes once or (every 33 years or so) twice in a year
        assert {span.name for span in islamic.holidays} == {"肉孜节", "古尔邦节"}, year
        assert all(span.first_day_off.year == year for span in islamic.holidays), year


def test_the_year_after_calendar_years_is_beyond_the_umm_al_qura_table(data):
    with pytest.raises(OverflowError):
        project_islamic_year(data.layers["xinjiang"], CALENDAR_YEARS[-1] + 1)


def test_a_calendar_outside_calendar_years_is_refused_before_projecting(data):
    layers = [data.layers["national"], data.layers["xinjiang"]]
    with pytest.raises(ValueError, match=f"outside {CALENDAR_YEARS[0]}–{CALENDAR_YEARS[-1]}"):
        build_calendar(layers, data.calendar_years, 2070, CALENDAR_YEARS[-1] + 1)
