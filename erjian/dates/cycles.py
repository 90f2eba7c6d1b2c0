"""Cycles: for one region, the exam sitting a reader cares about now and its
schedule (release window or announced date, review window, statuses on a given day).

Pure: the calendar, exams, estimate and announcements come in; nothing is read or written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Optional

from erjian.dates.calendars import WorkCalendar
from erjian.input.models import RECORDED_STAGES, STAGES, Estimate, Exam, Source, StageDates
from erjian.input.resolve import Announcement
from erjian.dates.windows import (ReleaseWindow, ReviewWindow, release_status, release_window,
                      review_window, rolling_years, span_status)


@dataclass(frozen=True)
class Milestone:
    """A dated stage of a cycle (keys and order: models.STAGES)."""

    key: str
    first: dt.date
    last: dt.date
    status: str        # upcoming | open | announced | past
    estimated: bool    # computed by the method, not given by a notice or the data
    provisional: bool  # computed on a projected calendar, or recorded but not confirmed
    recorded: bool = False
    source: Optional[Source] = None
    note: Optional[str] = None


@dataclass(frozen=True)
class Cycle:
    """One exam sitting and everything computed from it."""

    exam: Exam
    window: ReleaseWindow
    announcement: Optional[Announcement]
    review: ReviewWindow
    milestones: tuple[Milestone, ...]
    rolling: tuple[int, int]

    def milestone(self, key: str) -> Milestone | None:
        return next((ms for ms in self.milestones if ms.key == key), None)

    @property
    def release(self) -> Milestone:
        return self.milestone("release")

    @property
    def release_status(self) -> str:
        return self.release.status

    @property
    def finished(self) -> bool:
        """True once the review period is over: what a candidate waits for next is the
        following exam (audit and certificate concern only those who passed)."""
        return self.milestone("review").status == "past"

    def stages(self) -> tuple[tuple[str, Milestone | None], ...]:
        """Every stage of the cycle in order, with its milestone or None when unrecorded."""
        return tuple((key, self.milestone(key)) for key in STAGES)

    @property
    def provisional(self) -> bool:
        """True when any date shown depends on a projected or unverified calendar year."""
        if self.announcement:
            return self.review.provisional
        return self.window.provisional or self.review.provisional

    def next_milestone(self) -> Milestone | None:
        return next((ms for ms in self.milestones if ms.status != "past"), None)


def focus_exam(exams: tuple[Exam, ...], today: dt.date) -> Exam | None:
    """The sitting a reader means today: the latest one that has started, or else the next
    one to come."""
    ordered = sorted(exams, key=lambda e: e.first_day)
    started = [e for e in ordered if e.first_day <= today]
    if started:
        return started[-1]
    return ordered[0] if ordered else None


def upcoming_exam(exams: tuple[Exam, ...], today: dt.date) -> Exam | None:
    """The next sitting that has not started yet, if its days are known."""
    return next((e for e in sorted(exams, key=lambda e: e.first_day) if e.first_day > today),
                None)


def order_cycles(current: Cycle, following: Cycle | None
                 ) -> tuple[tuple[Cycle, ...], int | None]:
    """The cycles a page shows, the one it leads with first, and the year of an unrecorded
    next exam the page leads with instead (or None).

    ``current`` is the focus sitting's cycle, ``following`` the next recorded sitting's. While
    the current cycle's review is not over, it leads and a recorded next sitting follows it.
    Once the review is over, the next sitting leads: its computed cycle when it is recorded,
    else only its year (the page then gives the usual timing, never a date), and the
    finished cycle moves below."""
    if not current.finished:
        return ((current, following) if following else (current,)), None
    if following:
        return (following, current), None
    return (current,), current.exam.year + 1


def compute_cycle(calendar: WorkCalendar, exam: Exam, estimate: Estimate,
                  announcement: Announcement | None, today: dt.date) -> Cycle:
    window = release_window(calendar, exam.last_day, estimate.min_working_days,
                            estimate.max_working_days)
    if exam.review:
        review = ReviewWindow(exam.review.first, exam.review.last,
                              estimate.review_working_days, estimated=False, bases=(),
                              recorded=True)
    elif announcement:
        review = review_window(calendar, announcement.date, announcement.date,
                               estimate.review_working_days, estimated=False)
    else:
        review = review_window(calendar, window.earliest, window.latest,
                               estimate.review_working_days, estimated=True)
    announced = announcement.date if announcement else None
    release_first = announced or window.earliest
    release_last = announced or window.latest
    computed = {
        "exam": Milestone("exam", exam.first_day, exam.last_day,
                          span_status(today, exam.first_day, exam.last_day), estimated=False,
                          provisional=not exam.confirmed, recorded=True, source=exam.source),
        "release": Milestone("release", release_first, release_last,
                             release_status(today, window, announced),
                             estimated=announced is None,
                             provisional=announced is None and window.provisional,
                             recorded=announced is not None,
                             source=announcement.notice.source if announcement else None),
        "review": (_recorded("review", exam.review, today) if exam.review else
                   Milestone("review", review.opens, review.closes,
                             span_status(today, review.opens, review.closes),
                             estimated=review.estimated, provisional=review.provisional)),
    }
    milestones = tuple(
        computed[key] if key in computed else _recorded(key, exam.stage(key), today)
        for key in STAGES
        if key in computed or (key in RECORDED_STAGES and exam.stage(key) is not None))
    return Cycle(exam, window, announcement, review, milestones, rolling_years(exam.year))


def _recorded(key: str, stage: StageDates, today: dt.date) -> Milestone:
    return Milestone(key, stage.first, stage.last, span_status(today, stage.first, stage.last),
                     estimated=False, provisional=not stage.confirmed, recorded=True,
                     source=stage.source, note=stage.note)
