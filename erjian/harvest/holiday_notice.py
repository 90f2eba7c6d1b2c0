"""The State Council's yearly holiday notice (国务院办公厅关于20XX年部分节假日安排的通知) read
into one calendar year, and written back as calendars/national/<year>.yaml.

Pure: no I/O, no network, no clock. A later notice that changes the arrangement (2019's May Day
adjustment, 2020's Spring Festival extension) is applied with ``amended``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from dataclasses import dataclass

import yaml

from erjian.harvest.notice_text import arabic, stated_weekday, valid_date
from erjian.input.models import Source

HOLIDAYS = ("元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节")
ONE_DAY = dt.timedelta(days=1)


class UnreadableNotice(ValueError):
    """The text is not a holiday notice, or one of its lines does not say what it should."""


@dataclass(frozen=True)
class HolidayDays:
    """One holiday of the arrangement, with the sentence it was read from."""

    name: str
    first_day_off: dt.date
    last_day_off: dt.date
    working_weekends: tuple[dt.date, ...]
    sentence: str
    source: Source | None = None   # a later notice that set these days
    replaces: str | None = None    # the first notice's sentence such a notice replaced


@dataclass(frozen=True)
class HolidayArrangement:
    """One year's arrangement as the notice states it."""

    year: int
    holidays: tuple[HolidayDays, ...]
    title: str
    document: str | None           # 国办发明电〔2025〕7号
    published: dt.date | None      # the date under the notice's signature, else the one given


_TITLE = re.compile(r"国务院办公厅关于(\d{4})年部分节假日安排的通知")
_DOCUMENT = re.compile(r"国办发明电〔\d{4}〕\d+号")
_SIGNED = re.compile(r"^\s*(\d{4})年(\d{1,2})月(\d{1,2})日\s*$", re.MULTILINE)
_HOLIDAY_LINE = re.compile(r"^\s*[一二三四五六七八九十]+、\s*(?P<names>[^：:\d]{2,12})[：:]"
                           r"(?P<body>.+)$", re.MULTILINE)
_DATE = re.compile(r"(?:(?P<y>\d{4})年)?(?:(?P<m>\d{1,2})月)?(?P<d>\d{1,2})日"
                   r"(?:[（(](?P<wk>[^（）()]*)[）)])?")
_PERIOD = re.compile(rf"(?P<a>{_DATE.pattern.replace('?P<', '?P<a')})"
                     rf"(?:至(?P<b>{_DATE.pattern.replace('?P<', '?P<b')}))?"
                     r"(?P<how>放假(?:调休)?(?:1天)?[，,]?(?:与周末连休|不调休)?)"
                     r"(?:[，,]?共(?P<days>\d+)天)?")


def _date(year: int, y: str | None, m: str | None, d: str, month: int | None,
          line: str) -> dt.date:
    day = valid_date(int(y) if y else year, int(m) if m else (month or 0), int(d))
    if day is None:
        raise UnreadableNotice(f"no such day in: {line}")
    return day


def _check_weekday(day: dt.date, bracket: str | None, line: str) -> None:
    stated = stated_weekday(bracket)
    if stated is not None and stated != day.weekday():
        raise UnreadableNotice(f"{day.isoformat()} is not the weekday in brackets: {line}")


def _merged_name(names: str) -> str:
    """国庆节、中秋节 and 中秋节、国庆节 alike become 中秋节、国庆节 (the order of the year)."""
    parts = [n for n in re.split(r"[、和与]", names.strip()) if n]
    unknown = [n for n in parts if n not in HOLIDAYS]
    if unknown:
        raise UnreadableNotice(f"not a holiday: {'、'.join(unknown)}")
    return "、".join(sorted(parts, key=HOLIDAYS.index))


def _weekend_joined(day: dt.date) -> tuple[dt.date, dt.date]:
    """A day off 与周末连休: a Friday runs to Sunday, a Monday starts on Saturday."""
    if day.weekday() == 4:
        return day, day + 2 * ONE_DAY
    if day.weekday() == 0:
        return day - 2 * ONE_DAY, day
    raise UnreadableNotice(f"{day.isoformat()} is neither a Friday nor a Monday, so it cannot "
                           "join a weekend")


def holiday_days(name: str, body: str, year: int, sentence: str) -> HolidayDays:
    """One holiday from the text after its name: days off, weekend working days."""
    plain = arabic(body)
    period = _PERIOD.search(plain)
    if period is None:
        raise UnreadableNotice(f"no days off in: {sentence}")
    g = period.groupdict()
    first = _date(year, g["ay"], g["am"], g["ad"], None, sentence)
    _check_weekday(first, g["awk"], sentence)
    last = first
    if g["b"]:
        last = _date(first.year, g["by"], g["bm"], g["bd"], first.month, sentence)
        if last < first and not g["by"] and (first.month, last.month) == (12, 1):
            last = last.replace(year=last.year + 1)          # 12月31日至1月2日
        if last < first:
            raise UnreadableNotice(f"the days off end before they begin: {sentence}")
        _check_weekday(last, g["bwk"], sentence)
    if "与周末连休" in g["how"]:
        first, last = _weekend_joined(first)
    if g["days"] and (last - first).days + 1 != int(g["days"]):
        raise UnreadableNotice(f"共{g['days']}天 does not match the days given: {sentence}")
    return HolidayDays(name, first, last, working_weekends(plain[period.end():], year, sentence),
                       sentence)


def working_weekends(text: str, year: int, sentence: str) -> tuple[dt.date, ...]:
    """The days of a …（星期六）、…（星期日）上班 sentence, each checked against its weekday."""
    said = next((part for part in text.split("。")
                 if part.endswith("上班") and not part.endswith("正常上班")), None)
    if said is None:
        return ()
    days = []
    for date in _DATE.finditer(said):
        day = _date(year, date["y"], date["m"], date["d"], days[-1].month if days else None,
                    sentence)
        _check_weekday(day, date["wk"], sentence)
        if day.weekday() < 5:
            raise UnreadableNotice(f"{day.isoformat()} is not a weekend day: {sentence}")
        days.append(day)
    return tuple(days)


def _published(text: str, published: dt.date | None) -> dt.date | None:
    signed = _SIGNED.findall(arabic(text))
    if signed:
        return valid_date(*map(int, signed[-1]))
    return published


def read_holiday_notice(title: str, text: str, published: dt.date | None) -> HolidayArrangement:
    """The year's holidays as the notice states them, in the notice's order. Raises
    ``UnreadableNotice`` for any other text, and for a line whose days contradict themselves
    (a weekday in brackets, 共N天) rather than guess."""
    named = _TITLE.search(title)
    if named is None:
        raise UnreadableNotice(f"not a holiday arrangement notice: {title}")
    year = int(named.group(1))
    holidays = []
    for line in _HOLIDAY_LINE.finditer(text):
        name = _merged_name(line["names"])
        holidays.append(holiday_days(name, line["body"], year, line.group(0).strip()))
    if not holidays:
        raise UnreadableNotice(f"no holiday lines (一、元旦：…) in: {title}")
    document = _DOCUMENT.search(text)
    return HolidayArrangement(year, tuple(holidays), title,
                              document.group(0) if document else None,
                              _published(text, published))


_ADJUSTED = re.compile(r"国务院办公厅关于调整(\d{4})年(\S+?)假期安排的通知")
_EXTENDED = re.compile(r"国务院办公厅关于延长(\d{4})年(\S+?)假期的通知")
_EXTENDED_TO = re.compile(r"延长\d{4}年\S+?假期至(?P<m>\d{1,2})月(?P<d>\d{1,2})日"
                          r"(?:[（(](?P<wk>[^（）()]*)[）)])?")
_NUMBERED_LINE = re.compile(r"^\s*[一二三四五六七八九十]+、.+$", re.MULTILINE)


def amended(base: HolidayArrangement, title: str, text: str, source: Source
            ) -> HolidayArrangement:
    """``base`` as a later notice changed it. 关于调整…假期安排 replaces the holiday's days;
    关于延长…假期 adds the extra days as their own entry (…假期延长) after the holiday, so the
    first notice's days stay visible. Both carry ``source``."""
    adjusted, extended = _ADJUSTED.search(title), _EXTENDED.search(title)
    change = adjusted or extended
    if change is None or int(change.group(1)) != base.year:
        raise UnreadableNotice(f"not a change to the {base.year} arrangement: {title}")
    name = change.group(2)
    index = next((i for i, h in enumerate(base.holidays) if h.name == name), None)
    if index is None:
        raise UnreadableNotice(f"the {base.year} arrangement has no {name}: {title}")
    line = _NUMBERED_LINE.search(text)
    if line is None:
        raise UnreadableNotice(f"no numbered line (一、…) in: {title}")
    sentence = line.group(0).strip()
    holidays = list(base.holidays)
    if adjusted:
        body = sentence.split("、", 1)[1]
        holidays[index] = dataclasses.replace(holiday_days(name, body, base.year, sentence),
                                              source=source,
                                              replaces=holidays[index].sentence)
    else:
        to = _EXTENDED_TO.search(arabic(sentence))
        if to is None:
            raise UnreadableNotice(f"no new last day in: {sentence}")
        last = _date(base.year, None, to["m"], to["d"], None, sentence)
        _check_weekday(last, to["wk"], sentence)
        first = holidays[index].last_day_off + ONE_DAY
        if last < first:
            raise UnreadableNotice(f"the extension ends before the holiday does: {sentence}")
        holidays.insert(index + 1, HolidayDays(f"{name}假期延长", first, last, (), sentence,
                                               source))
    return dataclasses.replace(base, holidays=tuple(holidays))


# --- the YAML file ---------------------------------------------------------------------------

def _quoted(text: str) -> str:
    """A YAML scalar: plain when it reads back as the same string, else double-quoted."""
    try:
        if yaml.safe_load(f"k: {text}") == {"k": text}:
            return text
    except yaml.YAMLError:
        pass
    return json.dumps(text, ensure_ascii=False)


def _source_lines(source: Source, indent: str) -> list[str]:
    lines = [f"{indent}source:", f"{indent}  title: {_quoted(source.title)}"]
    if source.document:
        lines.append(f"{indent}  document: {_quoted(source.document)}")
    if source.published:
        lines.append(f"{indent}  published: {source.published.isoformat()}")
    if source.url:
        lines.append(f"{indent}  url: {_quoted(source.url)}")
    return lines


_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                "Dec")


def _weekend_note(holiday: HolidayDays) -> str:
    """'(Fri 5 Apr + weekend)' after a 与周末连休 sentence, which names one day of three."""
    if "与周末连休" not in holiday.sentence:
        return ""
    friday = holiday.first_day_off.weekday() == 4
    day = holiday.first_day_off if friday else holiday.last_day_off
    named = f"{_DAY_NAMES[day.weekday()]} {day.day} {_MONTH_NAMES[day.month - 1]}"
    return f"({named} + weekend)" if friday else f"({named} + the weekend before it)"


def _unnumbered(sentence: str) -> str:
    return re.sub(r"^[一二三四五六七八九十]+、", "", sentence)


def _holiday_lines(holiday: HolidayDays) -> list[str]:
    """One holiday's entry under the comments that quote the notice."""
    sentence = _unnumbered(holiday.sentence)
    lines = []
    if holiday.replaces:
        lines.append(f"  # The first notice said only \"{_unnumbered(holiday.replaces)}\" "
                     "The change replaced it:")
    lines.append(f"  # {sentence}{_weekend_note(holiday)}")
    written_name = sentence.split("：", 1)[0] if "：" in sentence else holiday.name
    if written_name != holiday.name:
        lines.append(f"  # (the notice names it {written_name}; named in calendar order "
                     "like the other merged years)")
    weekends = ", ".join(d.isoformat() for d in holiday.working_weekends)
    lines += [f"  - name: {_quoted(holiday.name)}",
              f"    first_day_off: {holiday.first_day_off.isoformat()}",
              f"    last_day_off: {holiday.last_day_off.isoformat()}",
              f"    working_weekends: [{weekends}]"]
    if holiday.source is not None:
        lines += _source_lines(holiday.source, "    ")
    return lines


def calendar_yaml(arrangement: HolidayArrangement, source: Source) -> str:
    """The calendars/national/<year>.yaml text: the source block first, then each holiday
    under a comment quoting the notice's sentence (its list number dropped)."""
    by = (f"国务院办公厅 {source.published.year}年{source.published.month}月"
          f"{source.published.day}日" if source.published else source.title)
    lines = [f"# National holiday arrangement for {arrangement.year} ({by})."]
    if any(h.source for h in arrangement.holidays):
        lines.append("# Later notices that changed it are named on the entries they changed.")
    lines += [f"year: {arrangement.year}", *_source_lines(source, ""), "holidays:"]
    for holiday in arrangement.holidays:
        lines += _holiday_lines(holiday)
    return "\n".join(lines) + "\n"
