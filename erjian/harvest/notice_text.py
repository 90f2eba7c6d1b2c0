"""What a 二级建造师 notice says: its kind, its exam year, its dates and its pass marks.

Pure: no I/O, no network, no clock. Every finding keeps the sentence it was read from, verbatim,
as evidence; a date that is not a real date is skipped, never guessed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

# The first eight are the keys of erjian.input.models.STAGES.
KINDS = ("registration", "admit_card", "exam", "release", "pass_marks", "review", "audit",
         "certificate", "other")


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
    score: int
    full_marks: int | None
    sentence: str              # the table row or sentence it was read from


@dataclass(frozen=True)
class NoticeReading:
    about_erjian: bool         # is it about 二级建造师 at all
    kind: str                  # one of KINDS: what the notice mainly is
    exam_year: int | None      # 年度 of the exam it concerns
    dates: tuple[FoundDate, ...]
    pass_marks: tuple[PassMark, ...]


def read_notice(title: str, text: str, published: dt.date | None) -> NoticeReading:
    """Everything the notice says that the site records. ``published`` settles the year of
    dates written without one."""
    raise NotImplementedError


def plain_sentences(text: str) -> list[str]:
    """The notice's text split into sentences (at 。；！？ and line ends), blanks dropped."""
    raise NotImplementedError
