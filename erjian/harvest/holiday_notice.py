"""The State Council's yearly holiday notice (国务院办公厅关于20XX年部分节假日安排的通知) read
into one calendar year, and written back as calendars/national/<year>.yaml.

Pure: no I/O, no network, no clock.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from erjian.input.models import Source


@dataclass(frozen=True)
class HolidayDays:
    """One holiday of the arrangement, with the sentence it was read from."""

    name: str
    first_day_off: dt.date
    last_day_off: dt.date
    working_weekends: tuple[dt.date, ...]
    sentence: str
    source: Source | None = None   # a later notice changing this holiday (2020's extension)


@dataclass(frozen=True)
class HolidayArrangement:
    """One year's arrangement."""

    year: int
    holidays: tuple[HolidayDays, ...]


def read_holiday_notice(title: str, text: str, published: dt.date | None) -> HolidayArrangement:
    """The year's holidays as the notice states them, in the notice's order."""
    raise NotImplementedError


def calendar_yaml(arrangement: HolidayArrangement, source: Source) -> str:
    """The calendars/national/<year>.yaml text: each holiday under a comment quoting the notice's
    sentence, the source block first."""
    raise NotImplementedError
