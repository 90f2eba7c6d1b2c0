"""Reading 二级建造师 notices: sentences in the style of provincial 人事考试网 notices, each with
the dates (and what they are about) it must give, or none."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from erjian.harvest.notice_text import (KINDS, dates_in, pass_marks_in, plain_sentences,
                                        read_notice)
from erjian.input.models import STAGES

D, T = dt.date, dt.time
SPRING = D(2027, 2, 20)        # a registration notice published before the exam
AUGUST = D(2027, 8, 10)        # a score notice published after it


# (sentence, exam year, published, [(stage, start, end, start time, end time), …])
CASES = [
    # registration, every range shape
    ("一、报名时间：2027年3月1日9:00至3月10日17:00。", 2027, SPRING,
     [("registration", D(2027, 3, 1), D(2027, 3, 10), T(9), T(17))]),
    ("网上报名时间为3月1日至3月10日。", 2027, SPRING,
     [("registration", D(2027, 3, 1), D(2027, 3, 10), None, None)]),
    ("报名时间：3月1日—10日。", 2027, SPRING,
     [("registration", D(2027, 3, 1), D(2027, 3, 10), None, None)]),
    ("报名时间：3月1日-10日。", 2027, SPRING,
     [("registration", D(2027, 3, 1), D(2027, 3, 10), None, None)]),
    ("报名时间：3月1日~3月10日。", 2027, SPRING,
     [("registration", D(2027, 3, 1), D(2027, 3, 10), None, None)]),
    ("报名时间：3月1日～10日。", 2027, SPRING,
     [("registration", D(2027, 3, 1), D(2027, 3, 10), None, None)]),
    ("报名时间为3月1日起至3月10日止。", 2027, SPRING,
     [("registration", D(2027, 3, 1), D(2027, 3, 10), None, None)]),
    ("报考人员请于3月1日到3月10日登录报名系统填报信息。", 2027, SPRING,
     [("registration", D(2027, 3, 1), D(2027, 3, 10), None, None)]),
    ("网上缴费时间：3月2日9：00至3月12日17：00，逾期未缴费者视为放弃报名。", 2027, SPRING,
     [("registration", D(2027, 3, 2), D(2027, 3, 12), T(9), T(17))]),
    ("报名时间为3月1日上午9时至3月10日下午5时。", 2027, SPRING,
     [("registration", D(2027, 3, 1), D(2027, 3, 10), T(9), T(17))]),
    ("网上报名：３月１日至３月１０日。", 2027, SPRING,
     [("registration", D(2027, 3, 1), D(2027, 3, 10), None, None)]),
    ("报名时间为二〇二七年三月一日至三月十日。", 2027, SPRING,
     [("registration", D(2027, 3, 1), D(2027, 3, 10), None, None)]),
    ("网上报名时间：3月1日至10日；网上缴费时间：3月1日至12日。", 2027, SPRING,
     [("registration", D(2027, 3, 1), D(2027, 3, 10), None, None),
      ("registration", D(2027, 3, 1), D(2027, 3, 12), None, None)]),
    # a December notice about next year's exam, and a period over the new year
    ("网上报名时间为12月20日至12月30日。", 2027, D(2026, 12, 10),
     [("registration", D(2026, 12, 20), D(2026, 12, 30), None, None)]),
    ("网上报名时间为12月28日至1月8日。", 2027, D(2026, 12, 10),
     [("registration", D(2026, 12, 28), D(2027, 1, 8), None, None)]),
    ("考试时间为5月29日、30日。", 2027, D(2026, 12, 10),
     [("exam", D(2027, 5, 29), D(2027, 5, 30), None, None)]),
    ("报名时间：2026年12月28日至2027年1月8日。", 2027, D(2026, 12, 10),
     [("registration", D(2026, 12, 28), D(2027, 1, 8), None, None)]),
    # admit card
    ("考生须于5月24日至28日登录报名网站自行打印准考证。", 2027, SPRING,
     [("admit_card", D(2027, 5, 24), D(2027, 5, 28), None, None)]),
    ("准考证打印时间：5月24日9:00—5月30日8:00。", 2027, SPRING,
     [("admit_card", D(2027, 5, 24), D(2027, 5, 30), T(9), T(8))]),
    ("考生可于5月24日起登录网站下载准考证。", 2027, SPRING,
     [("admit_card", D(2027, 5, 24), None, None, None)]),
    # exam
    ("考试时间：2027年5月29日、30日。", 2027, SPRING,
     [("exam", D(2027, 5, 29), D(2027, 5, 30), None, None)]),
    ("考试定于5月29日（周六）至30日（周日）举行。", 2027, SPRING,
     [("exam", D(2027, 5, 29), D(2027, 5, 30), None, None)]),
    ("考试于二〇二七年五月二十九日、三十日举行。", 2027, SPRING,
     [("exam", D(2027, 5, 29), D(2027, 5, 30), None, None)]),
    ("考试时间为２０２７年５月２９日。", None, SPRING,
     [("exam", D(2027, 5, 29), None, None, None)]),
    ("5月29日上午9:00—11:00建设工程施工管理考试举行。", 2027, SPRING,
     [("exam", D(2027, 5, 29), None, T(9), T(11))]),
    ("考试时间为5月29日8时30分至11时30分。", 2027, SPRING,
     [("exam", D(2027, 5, 29), None, T(8, 30), T(11, 30))]),
    ("考试日期：5月29日、6月5日。", 2027, SPRING,
     [("exam", D(2027, 5, 29), None, None, None), ("exam", D(2027, 6, 5), None, None, None)]),
    # release and pass marks
    ("考生可自8月12日起登录中国人事考试网查询成绩。", 2027, AUGUST,
     [("release", D(2027, 8, 12), None, None, None)]),
    ("成绩查询时间：8月12日9:00至8月18日17:00。", 2027, AUGUST,
     [("release", D(2027, 8, 12), D(2027, 8, 18), T(9), T(17))]),
    ("2027年度二级建造师考试成绩已于8月12日公布。", 2027, AUGUST,
     [("release", D(2027, 8, 12), None, None, None)]),
    ("合格标准于8月15日公布。", 2027, AUGUST,
     [("pass_marks", D(2027, 8, 15), None, None, None)]),
    # an autumn sitting whose scores come in January of the next year
    ("成绩查询时间为1月15日至1月31日。", 2027, D(2028, 1, 10),
     [("release", D(2028, 1, 15), D(2028, 1, 31), None, None)]),
    ("考试于11月6日举行，成绩于1月15日公布。", 2027, D(2028, 1, 10),
     [("exam", D(2027, 11, 6), None, None, None),
      ("release", D(2028, 1, 15), None, None, None)]),
    ("考试于2027年11月6日举行，成绩于1月15日公布。", 2027, D(2028, 1, 10),
     [("exam", D(2027, 11, 6), None, None, None),
      ("release", D(2028, 1, 15), None, None, None)]),
    ("报名时间为二〇二七年三月一日，考试时间为五月二十九日。", None, D(2026, 12, 1),
     [("registration", D(2027, 3, 1), None, None, None),
      ("exam", D(2027, 5, 29), None, None, None)]),
    # review, audit, certificate
    ("对成绩有异议的，可于8月12日至8月18日提出成绩复核申请。", 2027, AUGUST,
     [("review", D(2027, 8, 12), D(2027, 8, 18), None, None)]),
    ("成绩复核申请时间：8月12日上午9时至8月18日17时。", 2027, AUGUST,
     [("review", D(2027, 8, 12), D(2027, 8, 18), T(9), T(17))]),
    ("考后资格审核时间为9月1日至9月10日（法定节假日除外）。", 2027, AUGUST,
     [("audit", D(2027, 9, 1), D(2027, 9, 10), None, None)]),
    ("现场资格审核定于9月6日至8日在省人事考试中心进行。", 2027, AUGUST,
     [("audit", D(2027, 9, 6), D(2027, 9, 8), None, None)]),
    ("资格复审：自9月1日起，考生按要求上传材料。", 2027, AUGUST,
     [("audit", D(2027, 9, 1), None, None, None)]),
    ("证书领取时间为11月15日至11月30日。", 2027, AUGUST,
     [("certificate", D(2027, 11, 15), D(2027, 11, 30), None, None)]),
    ("电子证书自2028年3月1日起可下载。", 2027, AUGUST,
     [("certificate", D(2028, 3, 1), None, None, None)]),
    ("考生须于3月1日至10日上传身份证、学历证书等材料完成报名。", 2027, SPRING,
     [("registration", D(2027, 3, 1), D(2027, 3, 10), None, None)]),
    ("网上报名及资格审核：3月1日至3月12日。", 2027, SPRING,
     [("registration", D(2027, 3, 1), D(2027, 3, 12), None, None)]),
    ("合格人员须于9月1日至9月10日参加考后资格审核，并携带报名表原件。", 2027, AUGUST,
     [("audit", D(2027, 9, 1), D(2027, 9, 10), None, None)]),
    # two stages in one sentence
    ("考试时间为5月29日至30日，考生须于5月24日至28日登录网站打印准考证。", 2027, SPRING,
     [("exam", D(2027, 5, 29), D(2027, 5, 30), None, None),
      ("admit_card", D(2027, 5, 24), D(2027, 5, 28), None, None)]),
    # nothing to read: no stage named, not a date, or not a real day
    ("联系电话：0991-7654321、0991-7654322。", 2027, SPRING, []),
    ("根据《关于做好2027年度职业资格考试工作的通知》（新人社函〔2027〕5号）精神。", 2027, SPRING,
     []),
    ("发布时间：2027-03-01 浏览次数：1234", 2027, SPRING, []),
    ("新疆维吾尔自治区人事考试中心 2027年2月20日", 2027, SPRING, []),
    ("专业工程管理与实务科目合格标准为72-84分。", 2027, AUGUST, []),
    ("成绩一般在考后60-90天内公布。", 2027, AUGUST, []),
    ("报名时间：2月30日至3月5日。", 2027, SPRING, []),
    ("报名时间：3月10日至3月1日。", 2027, SPRING, []),
    ("考试时间另行通知。", 2027, SPRING, []),
    ("报名时间为3月1日至10日。", None, None, []),     # no year to be had: skipped
    ("报名时间：13月5日至13月8日。", 2027, SPRING, []),
]


@pytest.mark.parametrize("sentence, exam_year, published, expected", CASES,
                         ids=[c[0][:24] for c in CASES])
def test_each_sentence_gives_its_dates_and_what_they_are_about(sentence, exam_year, published,
                                                               expected):
    found = [(d.stage, d.start, d.end, d.start_time, d.end_time)
             for d in dates_in(sentence, exam_year, published)]
    assert found == expected


def test_there_are_forty_cases_and_every_stage_is_among_them():
    assert len(CASES) >= 40
    assert {stage for *_, expected in CASES for stage, *_ in expected} == set(KINDS[:-1])
    assert KINDS[:-1] == tuple(STAGES)


def test_each_date_keeps_its_sentence_verbatim():
    sentence = "考试时间为５月２９日（周六）至３０日（周日）。"
    assert [d.sentence for d in dates_in(sentence, 2027, SPRING)] == [sentence]


@pytest.mark.parametrize("sentence, doubt", [
    ("考试时间为5月29日（周六）至30日（周日）。", None),
    ("考试时间为5月29日（星期五）。", "括号中写的是周五，但2027年5月29日是周六"),
    ("考试时间为5月29日（周六）至30日（周一）。", "括号中写的是周一，但2027年5月30日是周日"),
])
def test_a_weekday_that_disagrees_keeps_the_date_and_says_so(sentence, doubt):
    found = dates_in(sentence, 2027, SPRING)
    assert found[0].start == D(2027, 5, 29)
    assert found[0].doubt == doubt


def test_sentences_split_at_full_stops_semicolons_and_line_ends():
    assert plain_sentences("一、报名时间：3月1日。二、考试；时间\n\n  三、其他") == [
        "一、报名时间：3月1日。", "二、考试；", "时间", "三、其他"]


# --- what the notice is --------------------------------------------------------------------

@pytest.mark.parametrize("title, text, about, kind", [
    ("关于2027年度二级建造师执业资格考试考务工作有关事项的通知", "报名时间为3月1日至10日。",
     True, "registration"),
    ("2027年二级建造师考试准考证打印的通知", "", True, "admit_card"),
    ("关于2027年度二级建造师执业资格考试成绩查询的通知", "", True, "release"),
    ("关于公布2027年度二级建造师执业资格考试合格标准的通知", "", True, "pass_marks"),
    ("关于2027年度二级建造师执业资格考试成绩复核的公告", "", True, "review"),
    ("关于做好2027年度二级建造师执业资格考试合格人员考后资格审核工作的通知", "", True, "audit"),
    ("关于领取2027年度二级建造师执业资格证书的通知", "", True, "certificate"),
    ("关于2027年度二级建造师执业资格考试报名资格审核有关事项的通知", "", True, "registration"),
    ("关于做好2027年度二级建造师执业资格考试资格复审工作的通知", "", True, "audit"),
    ("2027年二级建造师考试考前温馨提示", "", True, "exam"),
    ("2027年二级建造师考试考场规则", "", True, "exam"),
    ("关于2027年度二级建造师执业资格考试合格人员名单的公示", "", True, "other"),
    ("2027年上半年职业资格考试工作计划", "二级建造师考试时间为5月29日、30日。", True, "exam"),
    ("关于2027年度一级建造师资格考试考务工作的通知",
     "已取得二级建造师执业资格证书的人员可按规定报考。", False, "other"),
    ("关于2027年度二级造价工程师职业资格考试报名的通知", "报名时间为3月1日至10日。",
     False, "other"),
    ("关于2027年度监理工程师、一级造价工程师职业资格考试报名的通知",
     "考试时间为5月29日。", False, "other"),
    ("关于2027年度二级建造师、二级造价工程师职业资格考试报名的通知",
     "报名时间为3月1日至10日。", True, "registration"),
])
def test_notices_are_classified_by_title_then_text(title, text, about, kind):
    reading = read_notice(title, text, SPRING)
    assert (reading.about_erjian, reading.kind) == (about, kind)


def test_a_notice_about_another_exam_gives_no_dates():
    reading = read_notice("关于2027年度一级建造师资格考试考务工作的通知",
                          "报名时间为3月1日至10日。考试时间为9月4日、5日。", SPRING)
    assert reading.dates == ()


def test_in_a_notice_about_several_exams_only_the_erjian_sentences_give_dates():
    text = ("二级建造师考试时间为5月29日、30日。\n"
            "二级造价工程师考试时间为6月12日。\n"
            "考生须于考前一周打印准考证。")
    reading = read_notice("关于2027年度部分职业资格考试考务工作的通知", text, SPRING)
    assert [(d.stage, d.start) for d in reading.dates] == [("exam", D(2027, 5, 29))]


@pytest.mark.parametrize("title, text, published, year", [
    ("关于2027年度二级建造师执业资格考试有关事项的通知", "", D(2026, 12, 10), 2027),
    ("关于二级建造师执业资格考试有关事项的通知", "根据2027年度考试计划安排…", SPRING, 2027),
    ("二〇二七年二级建造师考试报名通知", "", SPRING, 2027),
    ("关于二级建造师考试成绩查询的通知", "请按时查询。", AUGUST, None),
])
def test_the_exam_year_comes_from_the_title_then_the_text(title, text, published, year):
    assert read_notice(title, text, published).exam_year == year


def test_a_december_notice_places_undated_days_around_the_exam_year():
    text = ("一、网上报名时间：12月28日9:00至1月8日17:00。\n"
            "二、考试时间：5月29日（周六）至30日（周日）。")
    reading = read_notice("关于2027年度二级建造师执业资格考试考务工作的通知", text,
                          D(2026, 12, 10))
    assert [(d.stage, d.start, d.end) for d in reading.dates] == [
        ("registration", D(2026, 12, 28), D(2027, 1, 8)),
        ("exam", D(2027, 5, 29), D(2027, 5, 30))]


# --- pass marks ----------------------------------------------------------------------------

def marks(text: str) -> list[tuple]:
    return [(m.subject, m.specialty, m.score, m.full_marks) for m in pass_marks_in(text)]


def test_a_table_of_subjects_gives_each_mark_and_full_marks():
    table = ("科目名称 | 专业 | 满分 | 合格标准\n"
             "建设工程施工管理 | 各专业 | 100 | 60\n"
             "建设工程法规及相关知识 | 各专业 | 100 | 60\n"
             "建筑工程管理与实务 | 建筑工程 | 120 | 72\n"
             "水利水电工程管理与实务 | 水利水电工程 | 120 | 67.5\n")
    assert marks(table) == [
        ("建设工程施工管理", None, 60, 100),
        ("建设工程法规及相关知识", None, 60, 100),
        ("建筑工程管理与实务", "建筑工程", 72, 120),
        ("水利水电工程管理与实务", "水利水电工程", Decimal("67.5"), 120)]


def test_a_table_with_a_column_per_subject_gives_each_specialty_its_marks():
    table = ("专业\t建设工程施工管理\t建设工程法规及相关知识\t专业工程管理与实务\n"
             "建筑工程\t60\t60\t72（120）\n"
             "机电工程\t60\t60\t66（120）\n")
    assert marks(table) == [
        ("建设工程施工管理", "建筑工程", 60, None),
        ("建设工程法规及相关知识", "建筑工程", 60, None),
        ("专业工程管理与实务", "建筑工程", 72, 120),
        ("建设工程施工管理", "机电工程", 60, None),
        ("建设工程法规及相关知识", "机电工程", 60, None),
        ("专业工程管理与实务", "机电工程", 66, 120)]


def test_a_mark_given_with_full_marks_in_brackets():
    table = "科目 | 合格标准（满分）\n矿业工程管理与实务 | 70（120）\n"
    assert marks(table) == [("矿业工程管理与实务", "矿业工程", 70, 120)]


def test_full_marks_written_with_their_unit():
    table = "科目 | 满分 | 合格标准\n公路工程管理与实务 | 120分 | 72分\n"
    assert marks(table) == [("公路工程管理与实务", "公路工程", 72, 120)]


@pytest.mark.parametrize("sentence, expected", [
    ("建筑工程管理与实务科目：满分120分，合格标准72分。",
     [("建筑工程管理与实务", "建筑工程", 72, 120)]),
    ("建设工程施工管理科目合格标准为60分（满分100分）。",
     [("建设工程施工管理", None, 60, 100)]),
    ("建设工程施工管理、建设工程法规及相关知识科目：满分100分，合格标准均为60分。",
     [("建设工程施工管理", None, 60, 100), ("建设工程法规及相关知识", None, 60, 100)]),
    ("合格标准将另行公布。", []),
    ("成绩查询时间为8月12日至18日，满分为120分。", []),
])
def test_pass_marks_in_sentences(sentence, expected):
    assert marks(sentence) == expected


def test_a_notice_gives_its_pass_marks_with_the_row_as_evidence():
    text = ("现将合格标准公布如下：\n科目 | 满分 | 合格标准\n建设工程施工管理 | 100 | 60\n"
            "成绩查询时间：8月12日9:00至8月18日17:00。")
    reading = read_notice("关于2027年度二级建造师执业资格考试成绩及合格标准的通知", text,
                          AUGUST)
    assert reading.kind == "release"
    assert [(m.subject, m.score, m.sentence) for m in reading.pass_marks] == [
        ("建设工程施工管理", 60, "建设工程施工管理 | 100 | 60")]
    assert [(d.stage, d.start, d.end) for d in reading.dates] == [
        ("release", D(2027, 8, 12), D(2027, 8, 18))]


def test_a_schedule_table_gives_each_column_its_stage():
    text = ("考试名称 | 报名时间 | 考试时间\n"
            "二级建造师 | 3月1日至10日 | 5月29日、30日\n"
            "二级造价工程师 | 3月1日至10日 | 6月12日\n"
            "报名咨询电话：0991-7654321。")
    reading = read_notice("关于2027年上半年职业资格考试有关事项的通知", text, SPRING)
    assert [(d.stage, d.start, d.end, d.sentence) for d in reading.dates] == [
        ("registration", D(2027, 3, 1), D(2027, 3, 10), "二级建造师 | 3月1日至10日 | 5月29日、30日"),
        ("exam", D(2027, 5, 29), D(2027, 5, 30), "二级建造师 | 3月1日至10日 | 5月29日、30日")]


@pytest.mark.parametrize("title", ["中国第二建设有限公司招聘公告", "二建设计院2027年校园招聘"])
def test_a_company_name_is_not_the_exam(title):
    assert not read_notice(title, "报名时间为3月1日至10日。", SPRING).about_erjian


def test_a_cell_spanning_rows_carries_down_to_the_rows_below():
    table = ("专业 | 科目 | 满分 | 合格标准\n"
             "建筑工程 | 建设工程施工管理 | 100 | 60\n"
             "建筑工程管理与实务 | 120 | 72\n"
             "机电工程 | 机电工程管理与实务 | 120 | 66\n"
             "测试省人事考试院\n")
    assert marks(table) == [
        ("建设工程施工管理", "建筑工程", 60, 100),
        ("建筑工程管理与实务", "建筑工程", 72, 120),
        ("机电工程管理与实务", "机电工程", 66, 120)]


def test_a_release_notice_as_the_harvest_lays_out_its_table():
    text = ("我省2027年度二级建造师执业资格考试成绩于2027年8月12日公布。\n"
            "对成绩有异议的，可于2027年8月13日至8月19日提出成绩复核申请。\n"
            "科目 | 专业 | 满分 | 合格标准\n"
            "建设工程施工管理 | — | 120 | 72\n"
            "专业工程管理与实务 | 建筑工程 | 120 | 72\n")
    reading = read_notice("关于公布2027年度二级建造师执业资格考试成绩及合格标准的通知", text,
                          AUGUST)
    assert (reading.kind, reading.exam_year) == ("release", 2027)
    assert [(d.stage, d.start, d.end) for d in reading.dates] == [
        ("release", D(2027, 8, 12), None), ("review", D(2027, 8, 13), D(2027, 8, 19))]
    assert marks(text) == [("建设工程施工管理", None, 72, 120),
                           ("专业工程管理与实务", "建筑工程", 72, 120)]


PIECES = ["报名时间", "考试时间", "成绩查询", "复核", "准考证", "证书", "合格标准", "：", "，", "。",
          "\n", " | ", "2027年", "二〇二七年", "12月", "2月", "五月", "30日", "二十九日", "1日",
          "（周六）", "（星期日）", "至", "—", "-", "~", "、", "9:00", "17：30", "上午9时", "起",
          "满分120分", "72分", "建筑工程管理与实务", "科目", "专业", "〔2027〕5号", "0991-1234567"]


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(pieces=st.lists(st.sampled_from(PIECES), max_size=40),
       published=st.one_of(st.none(), st.dates(D(2020, 1, 1), D(2030, 12, 31))))
def test_any_text_gives_only_real_periods_each_with_its_sentence(pieces, published):
    text = "".join(pieces)
    reading = read_notice("关于二级建造师执业资格考试有关事项的通知", text, published)
    for date in reading.dates:
        assert date.stage in KINDS[:-1]
        assert date.end is None or date.start < date.end <= date.start + dt.timedelta(366)
        assert date.sentence in text
    assert all(mark.sentence in text for mark in reading.pass_marks)
