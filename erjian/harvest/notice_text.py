"""What a 二级建造师 notice says: its kind, its exam year, its dates and its pass marks.

Pure: no I/O, no network, no clock. Every finding keeps the sentence it was read from, verbatim,
as evidence; a date that is not a real date is skipped, never guessed, and a date whose stage
the sentence does not name is left out.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

# The first eight are the keys of erjian.input.models.STAGES.
KINDS = ("registration", "admit_card", "exam", "release", "pass_marks", "review", "audit",
         "certificate", "other")

SPECIALTIES = ("建筑工程", "市政公用工程", "机电工程", "公路工程", "水利水电工程", "矿业工程")


@dataclass(frozen=True)
class FoundDate:
    """A date (or period) a notice gives, and which stage it is about."""

    stage: str                 # one of KINDS[:-1]
    start: dt.date
    end: dt.date | None        # a period's last day, None for one day
    start_time: dt.time | None
    end_time: dt.time | None
    sentence: str              # the sentence it was read from, verbatim
    doubt: str | None = None   # e.g. a weekday in brackets that disagrees with the date


@dataclass(frozen=True)
class PassMark:
    """One row of a 合格标准 table."""

    subject: str               # as the notice names it, e.g. 建设工程施工管理
    specialty: str | None      # e.g. 建筑工程 (None when one mark for all)
    score: int | Decimal       # a Decimal only when the notice gives a half
    full_marks: int | None
    sentence: str              # the table row or sentence it was read from


@dataclass(frozen=True)
class NoticeReading:
    about_erjian: bool         # is it about 二级建造师 at all
    kind: str                  # one of KINDS: what the notice mainly is
    exam_year: int | None      # 年度 of the exam it concerns
    dates: tuple[FoundDate, ...]
    pass_marks: tuple[PassMark, ...]


# --- numbers ---------------------------------------------------------------------------------

_FULL_WIDTH = str.maketrans("０１２３４５６７８９", "0123456789")
_CN_DIGITS = {"〇": 0, "○": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6,
              "七": 7, "八": 8, "九": 9}
_CN_YEAR = re.compile(r"([〇○零一二三四五六七八九]{4})(?=年)")
_CN_SMALL = re.compile(r"([一二三四五六七八九十]{1,3})(?=[月日时点])")
_CN_MINUTE = re.compile(r"(?<=[时点])([一二三四五六七八九十]{1,3})(?=分)")


def _small_number(numeral: str) -> str:
    """'二十九' → '29', '十二' → '12', '三十' → '30'; anything else unchanged."""
    if "十" not in numeral:
        return str(_CN_DIGITS[numeral]) if len(numeral) == 1 else numeral
    tens, _, ones = numeral.partition("十")
    if len(tens) > 1 or len(ones) > 1:
        return numeral
    return str((_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0))


def arabic(text: str) -> str:
    """``text`` with full-width digits and the Chinese numerals of dates and times
    (二〇二七年五月二十九日, 上午九时) written in ASCII digits; nothing else changes."""
    text = text.translate(_FULL_WIDTH)
    text = _CN_YEAR.sub(lambda m: "".join(str(_CN_DIGITS[c]) for c in m.group(1)), text)
    text = _CN_SMALL.sub(lambda m: _small_number(m.group(1)), text)
    return _CN_MINUTE.sub(lambda m: _small_number(m.group(1)), text)


def valid_date(year: int, month: int, day: int) -> dt.date | None:
    """The date, or None when there is no such day (2月30日)."""
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


WEEKDAY_NAMES = "一二三四五六日"
_WEEKDAY = re.compile(r"(?:周|星期|礼拜)([一二三四五六日天])")


def stated_weekday(bracket: str) -> int | None:
    """The weekday (Monday 0) a bracket such as （周六） or （农历正月初七、星期一） names."""
    found = _WEEKDAY.search(bracket or "")
    if not found:
        return None
    return 6 if found.group(1) in "日天" else WEEKDAY_NAMES.index(found.group(1))


# --- sentences -------------------------------------------------------------------------------

_SENTENCE_END = re.compile(r"(?<=[。；！？;!?])|\n")


def plain_sentences(text: str) -> list[str]:
    """The notice's text split into sentences (after 。；！？ and at line ends), each stripped,
    blanks dropped. A table row is one line, so one sentence."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


# --- what a clause is about ------------------------------------------------------------------

# The first pattern that matches a clause names its stage.
_CERTIFICATE_WORDS = r"(?<!学历)(?<!毕业)(?<!学位)(?<!职称)证书|领证"
# A qualification check during registration (网上报名及资格审核) is part of registration; a
# diploma (学历证书) is not the certificate.
_STAGE_WORDS = (
    ("audit", r"考后(?:资格)?(?:审核|复审|审查)|合格人员.{0,6}审核"),
    ("review", r"复核|复查"),
    ("certificate", _CERTIFICATE_WORDS),
    ("admit_card", r"准考证"),
    ("registration", r"报名|缴费|交费|报考"),
    ("audit", r"资格(?:审核|复审|审查)|现场审核"),
    ("pass_marks", r"合格标准|合格分数"),
    ("release", r"成绩|查分"),
    ("exam", r"考试(?:时间|日期|定于|于|将于|安排在)|举行|开考|笔试"),
)
_STAGE_PATTERNS = tuple((stage, re.compile(words)) for stage, words in _STAGE_WORDS)


def stage_named(clause: str) -> str | None:
    """The stage a clause is about, from its words (打印准考证 → admit_card …), or None."""
    for stage, pattern in _STAGE_PATTERNS:
        if pattern.search(clause):
            return stage
    return None


# --- dates -----------------------------------------------------------------------------------

_TIME = (r"(?:(?P<{p}half>上午|下午|晚上|中午)?\s*(?P<{p}h>\d{{1,2}})\s*(?:[:：](?P<{p}m>\d{{2}})"
         r"|[时点](?:(?P<{p}m2>\d{{1,2}})分|(?P<{p}hh>半))?))")
_BRACKET = r"(?:\s*[（(](?P<{p}wk>[^（）()]{{1,16}})[）)])?"


def _point(prefix: str, month: str) -> str:
    """A date point: [year年][month月]day日 [（weekday）] [time]; ``month`` '?' makes the month
    optional (a day after 至 or 、), '' makes it required."""
    p = prefix
    return (rf"(?:(?P<{p}y>\d{{4}})\s*年\s*)?(?:(?P<{p}mo>\d{{1,2}})\s*月\s*){month}"
            rf"(?P<{p}d>\d{{1,2}})\s*[日号]" + _BRACKET.format(p=p)
            + rf"(?:\s*{_TIME.format(p=p)})?")


_START = re.compile(r"(?<![\d.])" + _point("a", ""))
_LINK = r"\s*起?\s*(?:至|到|～|~|—+|–|－|-)\s*"
_RANGE_DAY = re.compile(_LINK + _point("b", "?"))
_RANGE_TIME = re.compile(_LINK + _TIME.format(p="t"))
_LIST_DAY = re.compile(r"\s*、\s*" + _point("b", "?"))


@dataclass(frozen=True)
class _Point:
    year: int | None
    month: int | None
    day: int
    weekday: str | None
    time: dt.time | None


def _time_of(match: re.Match, p: str) -> dt.time | None:
    hour = match.group(f"{p}h")
    if hour is None:
        return None
    hour = int(hour)
    minute = int(match.group(f"{p}m") or match.group(f"{p}m2") or 0)
    if match.group(f"{p}hh"):
        minute = 30
    if match.group(f"{p}half") in ("下午", "晚上") and hour < 12:
        hour += 12
    if hour > 23 or minute > 59:
        return None
    return dt.time(hour, minute)


def _point_of(match: re.Match, p: str) -> _Point:
    year, month = match.group(f"{p}y"), match.group(f"{p}mo")
    return _Point(int(year) if year else None, int(month) if month else None,
                  int(match.group(f"{p}d")), match.group(f"{p}wk"), _time_of(match, p))


@dataclass(frozen=True)
class _Span:
    """A date or period as written, before its year is settled."""

    first: _Point
    last: _Point | None
    end_time: dt.time | None


def written_spans(clause: str) -> list[_Span]:
    """Every date or period in a clause (already in ASCII digits), in order."""
    spans, at = [], 0
    while (start := _START.search(clause, at)) is not None:
        first = _point_of(start, "a")
        at = start.end()
        if (more := _RANGE_DAY.match(clause, at)) is not None:
            spans.append(_Span(first, _point_of(more, "b"), None))
            at = more.end()
        elif (more := _RANGE_TIME.match(clause, at)) is not None and first.time:
            spans.append(_Span(first, None, _time_of(more, "t")))
            at = more.end()
        elif (more := _LIST_DAY.match(clause, at)) is not None:
            days = [first, _point_of(more, "b")]
            at = more.end()
            while (more := _LIST_DAY.match(clause, at)) is not None:
                days.append(_point_of(more, "b"))
                at = more.end()
            spans += _listed_days(days)
        else:
            spans.append(_Span(first, None, None))
    return spans


def _listed_days(days: list[_Point]) -> list[_Span]:
    """5月29日、30日: one period when the days follow each other in one month, else one span
    per day."""
    same_month = all(d.month in (None, days[0].month) and d.year in (None, days[0].year)
                     for d in days[1:])
    numbers = [d.day for d in days]
    if same_month and numbers == list(range(numbers[0], numbers[0] + len(numbers))):
        return [_Span(days[0], days[-1], None)]
    spans, month = [], days[0].month
    for day in days:
        month = day.month or month
        spans.append(_Span(_Point(day.year or days[0].year, month, day.day, day.weekday,
                                  day.time), None, None))
    return spans


AFTER_EXAM = ("release", "pass_marks", "review", "audit", "certificate")


def year_of(month: int, day: int, stage: str, exam_year: int | None,
            published: dt.date | None) -> int | None:
    """The year of a date written without one. The exam year when the notice gives it, except
    that a date before the exam stated in a notice of the year before (registration opening in
    December) keeps the notice's year, and a date after the exam that would lie long before the
    notice's publication belongs to the next year (a January release of an autumn sitting)."""
    if exam_year is None:
        if published is None:
            return None
        exam_year = published.year
    if published is None:
        return exam_year
    guess = valid_date(exam_year, month, day) or valid_date(exam_year, month, 28)
    if guess is None:
        return exam_year            # no such month: the date is refused later
    if stage not in AFTER_EXAM and (guess - published).days > 300:
        return exam_year - 1
    if stage in AFTER_EXAM and (published - guess).days > 60:
        return exam_year + 1
    return exam_year


def _weekday_doubt(day: dt.date, bracket: str | None) -> str | None:
    stated = stated_weekday(bracket)
    if stated is None or stated == day.weekday():
        return None
    return (f"括号中写的是周{WEEKDAY_NAMES[stated]}，但{day.year}年{day.month}月{day.day}日"
            f"是周{WEEKDAY_NAMES[day.weekday()]}")


def _dated(span: _Span, stage: str, sentence: str, exam_year: int | None,
           published: dt.date | None, year_hint: int | None) -> FoundDate | None:
    first, last = span.first, span.last
    # A year written earlier in the sentence counts only when the notice names no exam year:
    # 考试于2027年11月6日举行，成绩于1月15日公布 puts the release in 2028.
    year = first.year or (year_hint if exam_year is None else None) or \
        year_of(first.month, first.day, stage, exam_year, published)
    if year is None:
        return None
    start = valid_date(year, first.month, first.day)
    if start is None:
        return None
    end = None
    if last is not None:
        month = last.month or first.month
        end = valid_date(last.year or year, month, last.day)
        if end is not None and end < start and last.year is None and \
                first.month - month >= 6:
            end = valid_date(year + 1, month, last.day)     # 12月28日至1月8日
        if end is None or end <= start or (end - start).days > 366:
            return None
    doubts = [_weekday_doubt(start, first.weekday)]
    if end is not None:
        doubts.append(_weekday_doubt(end, last.weekday))
    doubts = [d for d in doubts if d]
    return FoundDate(stage=stage, start=start, end=end, start_time=first.time,
                     end_time=last.time if last else span.end_time, sentence=sentence,
                     doubt="；".join(doubts) or None)


_BLANKS = re.compile(r"\s+")      # one blank for many keeps the patterns' \s* linear
_CLAUSE_END = re.compile(r"(?<=[，,])|(?<=\D[：:])")


def dates_in(sentence: str, exam_year: int | None, published: dt.date | None,
             stage: str | None = None, evidence: str | None = None) -> list[FoundDate]:
    """The dates of one sentence whose stage the sentence names (or ``stage``, a table column's).
    A clause without a stage word takes the stage of the clause before it (考试时间为5月29日，
    30日…). ``evidence`` is the sentence to quote when ``sentence`` is one cell of it."""
    found, year_hint = [], None
    for clause in _CLAUSE_END.split(_BLANKS.sub(" ", arabic(sentence))):
        stage = stage_named(clause) or stage
        for span in written_spans(clause):
            year_hint = (span.last and span.last.year) or span.first.year or year_hint
            if stage is None:
                continue
            date = _dated(span, stage, evidence or sentence, exam_year, published, year_hint)
            if date is not None:
                found.append(date)
    return found


_CELL_SPLIT = re.compile(r"\s*(?:\||\t|\s{2,})\s*")


def cells_of(line: str) -> list[str]:
    """A table row's cells (split by |, tabs or wide spaces); one cell for a plain sentence."""
    return [c for c in _CELL_SPLIT.split(line.strip("| \t")) if c]


def _column_stages(cells: list[str]) -> list[str | None] | None:
    """The stage of each column when ``cells`` are a header such as 考试名称 | 报名时间 |
    考试时间 (stage words, no dates), else None."""
    if len(cells) < 2 or any(written_spans(arabic(c)) for c in cells):
        return None
    stages = [stage_named(c) for c in cells]
    return stages if any(stages) else None


def notice_dates(text: str, exam_year: int | None, published: dt.date | None
                 ) -> list[FoundDate]:
    """The dates of a whole notice. A table row takes its stages from the header above it; a
    sentence or row that names only other exams (二级造价工程师 …) gives none."""
    found, columns = [], None
    for sentence in plain_sentences(text):
        cells = cells_of(sentence)
        if (header := _column_stages(cells)) is not None:
            columns = header
            continue
        if columns is not None and len(cells) != len(columns):
            columns = None
        if _mentions_only_other_exams(sentence):
            continue
        if columns is None:
            found += dates_in(sentence, exam_year, published)
            continue
        for cell, stage in zip(cells, columns):
            found += dates_in(cell, exam_year, published, stage, evidence=sentence)
    return found


# --- what the notice is ----------------------------------------------------------------------

_ERJIAN = re.compile(r"二级建造师|二级注册建造师|(?<!第)二建(?![设筑])")
_OTHER_EXAMS = re.compile(r"一级建造师|造价工程师|监理工程师|消防工程师|安全工程师|建筑师|"
                          r"结构工程师|咨询工程师|经济师|会计|护士|教师|社会工作者|"
                          r"公务员|事业单位")
_EXAM_YEAR = (re.compile(r"(\d{4})\s*年度"),
              re.compile(r"(\d{4})\s*年[^，。；\n]{0,12}二级(?:注册)?建造师"))


def about_erjian(title: str, text: str) -> bool:
    """A notice is about 二级建造师 when its title names it, or when a title naming no exam
    sits over a text that names it; a title naming only other exams (一级建造师, 二级造价工程师
    …) decides against, whatever the text mentions in passing."""
    if _ERJIAN.search(title):
        return True
    return not _OTHER_EXAMS.search(title) and bool(_ERJIAN.search(text))


def exam_year_of(title: str, text: str) -> int | None:
    """The 年度 of the exam: from the title first, then from the text."""
    for source in (arabic(title), arabic(text)):
        for pattern in _EXAM_YEAR:
            found = pattern.search(source)
            if found and 2000 <= int(found.group(1)) <= 2100:
                return int(found.group(1))
    return None


_KIND_WORDS = (
    ("review", r"复核|复查"),
    ("audit", r"考后(?:资格)?(?:审核|复审|审查)|合格人员.{0,6}审核"),
    ("certificate", _CERTIFICATE_WORDS),
    ("admit_card", r"准考证"),
    ("release", r"成绩"),
    ("pass_marks", r"合格标准|合格分数"),
    ("registration", r"报名|考务|有关事项|考试安排|考试.{0,4}通知"),
    ("audit", r"资格(?:审核|复审|审查)"),
    ("exam", r"考前|考试温馨提示|考场|考试时间"),
)


def kind_of(title: str, dates: list[FoundDate]) -> str:
    """What the notice mainly is, from its title; from its dates when the title says nothing
    (the stage most of them are about)."""
    for kind, words in _KIND_WORDS:
        if re.search(words, title):
            return kind
    stages = [d.stage for d in dates]
    return max(KINDS[:-1], key=stages.count) if stages else "other"


def _mentions_only_other_exams(sentence: str) -> bool:
    return bool(_OTHER_EXAMS.search(sentence)) and not _ERJIAN.search(sentence)


def read_notice(title: str, text: str, published: dt.date | None) -> NoticeReading:
    """Everything the notice says that the site records. ``published`` settles the year of
    dates written without one. In a notice about several exams, a sentence naming only other
    exams gives no date."""
    if not about_erjian(title, text):
        return NoticeReading(False, "other", exam_year_of(title, text), (), ())
    exam_year = exam_year_of(title, text)
    dates = notice_dates(text, exam_year, published)
    return NoticeReading(True, kind_of(title, dates), exam_year, tuple(dates),
                         tuple(pass_marks_in(text)))


# --- pass marks ------------------------------------------------------------------------------

_SCORE = r"(\d{1,3}(?:\.5)?)"
_SCORE_AND_FULL = re.compile(rf"^{_SCORE}\s*分?\s*(?:[（(]\s*(?:满分)?\s*(\d{{2,3}})\s*分?\s*[）)])?$")
_IS = r"\s*[均为是：:]*\s*"
_SENTENCE_MARK = re.compile(rf"满分{_IS}(\d{{2,3}})\s*分[，,、；;\s]*"
                            rf"合格(?:标准|分数线?){_IS}{_SCORE}\s*分"
                            rf"|合格(?:标准|分数线?){_IS}{_SCORE}\s*分\s*"
                            rf"[（(]\s*满分{_IS}(\d{{2,3}})\s*分\s*[）)]")
_SUBJECT = re.compile(r"(建设工程施工管理|建设工程法规及相关知识|"
                      r"(?:" + "|".join(SPECIALTIES) + r")(?:管理与实务|实务)|[^\s，。：:、|]{2,12}"
                      r"(?:管理与实务|施工管理|相关知识))")


def _score(text: str) -> int | Decimal:
    number = Decimal(text)
    return int(number) if number == number.to_integral_value() else number


def specialty_of_subject(subject: str) -> str | None:
    """建筑工程 for 建筑工程管理与实务; None for a common subject."""
    return next((s for s in SPECIALTIES if subject.startswith(s)), None)


def pass_marks_in(text: str) -> list[PassMark]:
    """The pass marks of a 合格标准 table (one row a line, cells split by |, tabs or wide spaces,
    under a header naming 科目/专业 and 合格标准) or of sentences such as
    建筑工程管理与实务：满分120分，合格标准72分. Only numbers the notice gives. A row short of
    cells continues the row above it (a cell spanning rows is written once, on the left)."""
    marks: list[PassMark] = []
    header: list[str] | None = None
    above: list[str] = []
    for line, original in zip(plain_sentences(arabic(text)), plain_sentences(text)):
        cells = cells_of(line)
        if _is_header(cells):
            header, above = cells, []
            continue
        if header and len(above) == len(header) and 2 <= len(cells) < len(header):
            cells = above[:len(header) - len(cells)] + cells
        if header and len(cells) == len(header):
            row = _table_row(header, cells, original)
            if row:
                marks += row
                above = cells
                continue
        marks += _sentence_marks(line, original)
    return marks


_HEADER_WORDS = ("科目", "科目名称", "考试科目", "专业", "专业名称", "考试专业")


def _is_header(cells: list[str]) -> bool:
    """A table's header: a 科目/专业 cell beside a 合格标准 column or beside subject columns."""
    return len(cells) >= 2 and any(c in _HEADER_WORDS for c in cells) and (
        any("合格" in c for c in cells) or any(_SUBJECT.fullmatch(c) for c in cells))


def _full_marks(cell: str) -> str | None:
    """'120' from a 满分 cell such as 120 or 120分; None when it says something else."""
    found = re.fullmatch(r"(\d{2,3})\s*分?", cell)
    return found.group(1) if found else None


def _table_row(header: list[str], cells: list[str], original: str) -> list[PassMark] | None:
    """One data row under ``header``: either 专业 | 科目 | 满分 | 合格标准 columns, or one column
    per subject (专业 | 建设工程施工管理 | … with a score in each)."""
    columns = dict(zip(header, cells))
    specialty = next((v for k, v in columns.items() if k.startswith("专业")), None)
    subject = next((v for k, v in columns.items() if "科目" in k), None)
    mark_column = next((k for k in header if "合格" in k), None)
    full_column = next((k for k in header if "满分" in k and "合格" not in k), None)
    if mark_column is not None and subject is not None:
        found = _SCORE_AND_FULL.match(columns[mark_column])
        if not found:
            return None
        full = found.group(2) or _full_marks(columns.get(full_column, ""))
        return [PassMark(subject, specialty if specialty in SPECIALTIES
                         else specialty_of_subject(subject), _score(found.group(1)),
                         int(full) if full else None, original)]
    if specialty not in SPECIALTIES + ("各专业", "全部专业", "所有专业"):
        return None
    specialty = specialty if specialty in SPECIALTIES else None
    row = []
    for name, cell in columns.items():
        if not _SUBJECT.fullmatch(name):
            continue
        found = _SCORE_AND_FULL.match(cell)
        if found:
            row.append(PassMark(name, specialty, _score(found.group(1)),
                                int(found.group(2)) if found.group(2) else None, original))
    return row or None


def _sentence_marks(line: str, original: str) -> list[PassMark]:
    """Each subject named before a 满分…合格标准… phrase gets its numbers (建设工程施工管理、
    建设工程法规及相关知识科目：满分100分，合格标准均为60分 gives both)."""
    found = _SENTENCE_MARK.search(line)
    if not found:
        return []
    full, score = (found.group(1), found.group(2)) if found.group(1) else \
        (found.group(4), found.group(3))
    return [PassMark(subject, specialty_of_subject(subject), _score(score), int(full), original)
            for subject in _SUBJECT.findall(line[:found.start()])]
