"""Stage 4c — cycles: for one region, the exam sitting a reader cares about now and its
schedule (release window or announced date, review window, statuses on a given day).

Pure: the calendar, exams, estimate and announcements come in; nothing is read or written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Optional

from .calendars import WorkCalendar
from .models import Estimate, Exam
from .resolve import Announcement
from .windows import (ReleaseWindow, ReviewWindow, release_status, release_window,
                      review_window, rolling_years, span_status)


@dataclass(frozen=True)
class Milestone:
    key: str           # exam | release | review
    first: dt.date
    last: dt.date
    status: str        # upcoming | open | announced | past
    estimated: bool
    provisional: bool


@dataclass(frozen=True)
class Cycle:
    """One exam sitting and everything computed from it."""

    exam: Exam
    window: ReleaseWindow
    announcement: Optional[Announcement]
    review: ReviewWindow
    milestones: tuple[Milestone, ...]
    rolling: tuple[int, int]

    @property
    def release_status(self) -> str:
        return self.milestones[1].status

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
    finished = current.milestones[2].status == "past"
    if not finished:
        return ((current, following) if following else (current,)), None
    if following:
        return (following, current), None
    return (current,), current.exam.year + 1


def compute_cycle(calendar: WorkCalendar, exam: Exam, estimate: Estimate,
                  announcement: Announcement | None, today: dt.date) -> Cycle:
    window = release_window(calendar, exam.last_day, estimate.min_working_days,
                            estimate.max_working_days)
    if announcement:
        review = review_window(calendar, announcement.date, announcement.date,
                               estimate.review_working_days, estimated=False)
    else:
        review = review_window(calendar, window.earliest, window.latest,
                               estimate.review_working_days, estimated=True)
    announced = announcement.date if announcement else None
    release_first = announced or window.earliest
    release_last = announced or window.latest
    milestones = (
        Milestone("exam", exam.first_day, exam.last_day,
                  span_status(today, exam.first_day, exam.last_day), estimated=False,
                  provisional=not exam.confirmed),
        Milestone("release", release_first, release_last,
                  release_status(today, window, announced), estimated=announced is None,
                  provisional=announced is None and window.provisional),
        Milestone("review", review.opens, review.closes,
                  span_status(today, review.opens, review.closes), estimated=review.estimated,
                  provisional=review.provisional),
    )
    return Cycle(exam, window, announcement, review, milestones, rolling_years(exam.year))
