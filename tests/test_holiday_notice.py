"""The State Council's holiday notices, read into the calendar files the repository keeps."""

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st
import yaml

from erjian.harvest.holiday_notice import (UnreadableNotice, amended, calendar_yaml,
                                           read_holiday_notice)
from erjian.input.models import Source

ROOT = Path(__file__).resolve().parent.parent
NOTICES = ROOT / "tests" / "fixtures" / "holiday_notices"
URLS = yaml.safe_load((NOTICES / "sources.yaml").read_text(encoding="utf-8"))
# Later notices that changed a year's arrangement, applied in this order.
CHANGES = {2019: ["2019-labour-day.txt"], 2020: ["2020-spring-festival-extension.txt"]}


def notice(name: str):
    title, text = (NOTICES / name).read_text(encoding="utf-8").split("\n", 1)
    return title, text


def source_of(arrangement, name: str) -> Source:
    return Source(title=arrangement.title, document=arrangement.document,
                  published=arrangement.published, url=URLS[name])


def calendar_from_notices(year: int) -> str:
    arrangement = read_holiday_notice(*notice(f"{year}.txt"), None)
    for name in CHANGES.get(year, []):
        title, text = notice(name)
        change = change_source(title, text, name)
        arrangement = amended(arrangement, title, text, change)
    return calendar_yaml(arrangement, source_of(arrangement, f"{year}.txt"))


def change_source(title: str, text: str, name: str) -> Source:
    """A change notice's own source: its title, document number and signature date."""
    document = next(line for line in text.splitlines() if line.startswith("国办发明电"))
    signed = [line for line in text.splitlines() if line.strip().endswith("日")][-1]
    published = dt.datetime.strptime(signed.strip(), "%Y年%m月%d日").date()
    return Source(title=title, document=document, published=published, url=URLS[name])


@pytest.mark.parametrize("year", range(2019, 2027))
def test_the_notices_reproduce_the_repository_calendars(year):
    expected = yaml.safe_load((ROOT / "calendars" / "national" / f"{year}.yaml")
                              .read_text(encoding="utf-8"))
    assert yaml.safe_load(calendar_from_notices(year)) == expected


def test_a_day_that_differs_from_the_repository_fails_the_comparison():
    title, text = notice("2021.txt")
    changed = text.replace("端午节：6月12日至14日", "端午节：6月13日至14日").replace(
        "共3天。\n　　六", "共2天。\n　　六")
    arrangement = read_holiday_notice(title, changed, None)
    written = yaml.safe_load(calendar_yaml(arrangement, source_of(arrangement, "2021.txt")))
    expected = yaml.safe_load((ROOT / "calendars" / "national" / "2021.yaml")
                              .read_text(encoding="utf-8"))
    assert written != expected
    assert [h for h in written["holidays"] if h["name"] == "端午节"][0]["first_day_off"] == \
        dt.date(2021, 6, 13)


def test_the_notice_gives_its_title_document_and_signature_date():
    arrangement = read_holiday_notice(*notice("2026.txt"), None)
    assert (arrangement.year, arrangement.title, arrangement.document, arrangement.published) \
        == (2026, "国务院办公厅关于2026年部分节假日安排的通知", "国办发明电〔2025〕7号",
            dt.date(2025, 11, 4))


def test_the_written_file_quotes_each_sentence_above_its_holiday():
    arrangement = read_holiday_notice(*notice("2026.txt"), None)
    text = calendar_yaml(arrangement, source_of(arrangement, "2026.txt"))
    assert "  # 元旦：1月1日（周四）至3日（周六）放假调休，共3天。1月4日（周日）上班。\n" \
           "  - name: 元旦\n" in text


NEXT_NEW_YEAR = ("国务院办公厅关于2028年部分节假日安排的通知",
                 "　　一、元旦：2027年12月31日至2028年1月2日放假，共3天。\n"
                 "　　二、国庆节、中秋节：10月1日（周日）至8日（周日）放假调休，共8天。"
                 "9月30日（周六）、10月14日（周六）上班。\n")


def test_new_year_days_off_that_start_in_december_keep_their_years():
    holiday = read_holiday_notice(*NEXT_NEW_YEAR, None).holidays[0]
    assert (holiday.first_day_off, holiday.last_day_off) == (dt.date(2027, 12, 31),
                                                             dt.date(2028, 1, 2))


def test_new_year_days_off_written_without_years_run_into_january():
    holiday = read_holiday_notice("国务院办公厅关于2028年部分节假日安排的通知",
                                  "一、元旦：2027年12月31日至1月2日放假，共3天。", None).holidays[0]
    assert (holiday.first_day_off, holiday.last_day_off) == (dt.date(2027, 12, 31),
                                                             dt.date(2028, 1, 2))


def test_national_day_and_mid_autumn_together_are_one_holiday_in_calendar_order():
    holiday = read_holiday_notice(*NEXT_NEW_YEAR, None).holidays[1]
    assert holiday.name == "中秋节、国庆节"
    assert (holiday.first_day_off, holiday.last_day_off) == (dt.date(2028, 10, 1),
                                                             dt.date(2028, 10, 8))
    assert holiday.working_weekends == (dt.date(2028, 9, 30), dt.date(2028, 10, 14))


def test_a_single_day_joined_to_the_weekend_takes_the_weekend():
    monday = read_holiday_notice("国务院办公厅关于2024年部分节假日安排的通知",
                                 "一、元旦：1月1日放假，与周末连休。", None).holidays[0]
    friday = read_holiday_notice("国务院办公厅关于2019年部分节假日安排的通知",
                                 "一、清明节：4月5日放假，与周末连休。", None).holidays[0]
    assert (monday.first_day_off, monday.last_day_off) == (dt.date(2023, 12, 30),
                                                           dt.date(2024, 1, 1))
    assert (friday.first_day_off, friday.last_day_off) == (dt.date(2019, 4, 5),
                                                           dt.date(2019, 4, 7))


def test_the_extension_is_its_own_entry_after_the_holiday_it_extends():
    arrangement = read_holiday_notice(*notice("2020.txt"), None)
    title, text = notice("2020-spring-festival-extension.txt")
    source = Source(title=title)
    names = [h.name for h in amended(arrangement, title, text, source).holidays]
    assert names[:3] == ["元旦", "春节", "春节假期延长"]
    extension = amended(arrangement, title, text, source).holidays[2]
    assert (extension.first_day_off, extension.last_day_off, extension.source) == (
        dt.date(2020, 1, 31), dt.date(2020, 2, 2), source)


@pytest.mark.parametrize("line, why", [
    ("一、元旦：1月1日（周五）放假，共1天。", "weekday"),          # 2026-01-01 is a Thursday
    ("一、春节：2月15日至23日放假调休，共8天。", "共8天"),          # it is 9 days
    ("一、春节：2月30日放假。", "no such day"),
    ("一、劳动节：5月1日至5日放假调休，共5天。5月9日（周日）上班。", "weekday"),  # a Saturday
    ("一、劳动节：5月1日至5日放假调休，共5天。5月8日（周五）上班。", "not a weekend day"),
    ("一、植树节：3月12日放假。", "not a holiday"),
    ("一、元旦：1月7日至1日放假。", "end before they begin"),
])
def test_a_line_that_contradicts_itself_is_refused_not_guessed(line, why):
    with pytest.raises(UnreadableNotice, match=why):
        read_holiday_notice("国务院办公厅关于2026年部分节假日安排的通知", line, None)


def test_another_notice_is_not_read_as_a_holiday_arrangement():
    with pytest.raises(UnreadableNotice, match="not a holiday arrangement"):
        read_holiday_notice("关于2026年度二级建造师执业资格考试有关事项的通知",
                            "一、报名时间：3月1日至10日。", None)


@pytest.mark.parametrize("title", ['关于"调休"的通知: 补充', "- 列表", "2026", "yes", "#1"])
def test_a_title_yaml_would_misread_is_quoted(title):
    arrangement = read_holiday_notice(*notice("2026.txt"), None)
    written = yaml.safe_load(calendar_yaml(arrangement, Source(title=title)))
    assert written["source"]["title"] == title


def test_a_changed_holiday_says_what_the_first_notice_said_and_names_the_change():
    text = calendar_from_notices(2019)
    assert '  # The first notice said only "劳动节：5月1日放假。" The change replaced it:\n' \
           "  # 2019年5月1日至4日放假调休，共4天。" in text
    assert "      title: 国务院办公厅关于调整2019年劳动节假期安排的通知\n" in text


HOLIDAY_PIECES = ["一、", "二、", "元旦", "春节", "国庆节、中秋节", "植树节", "：", "，", "。", "\n",
                  "2027年", "12月", "2月", "1月", "30日", "31日", "1日", "7日", "（周六）",
                  "（星期日）", "至", "放假", "调休", "与周末连休", "不调休", "共3天", "上班",
                  "起正常上班"]


@settings(max_examples=300, deadline=None, derandomize=True)
@given(pieces=st.lists(st.sampled_from(HOLIDAY_PIECES), max_size=40))
def test_any_text_is_read_or_refused_with_a_reason(pieces):
    try:
        arrangement = read_holiday_notice("国务院办公厅关于2027年部分节假日安排的通知",
                                          "".join(pieces), None)
    except UnreadableNotice:
        return
    for holiday in arrangement.holidays:
        assert holiday.first_day_off <= holiday.last_day_off
        assert all(day.weekday() >= 5 for day in holiday.working_weekends)
        assert yaml.safe_load(calendar_yaml(arrangement, Source(title="t")))["year"] == 2027
