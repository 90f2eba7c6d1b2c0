"""The .ics review event is the review period the page computes: from the estimated window's
last day to the review's last day, read back with the `ics` library and compared with the
dates the guide page shows."""

import datetime as dt
import re

import ics

PAGE = "xinjiang/tacheng/jidian/"


def page_dates(out, kind: str) -> tuple[dt.date, dt.date]:
    """(first, last) of a stage as the guide page shows it (its status badge)."""
    html = (out / PAGE / "index.html").read_text("utf-8")
    first, last = re.search(rf'data-status-kind="{kind}" data-first="([\d-]+)" '
                            r'data-last="([\d-]+)"', html).groups()
    return dt.date.fromisoformat(first), dt.date.fromisoformat(last)


def review_event(out) -> ics.Event:
    calendar = ics.Calendar((out / PAGE / "schedule.ics").read_text("utf-8"))
    [event] = [e for e in calendar.events if e.name.startswith("二建成绩复核申请期")]
    return event


def event_days(event: ics.Event) -> tuple[dt.date, dt.date]:
    """First and last day of an all-day event (DTEND is the day after)."""
    return event.begin.date(), event.end.date() - dt.timedelta(days=1)


def working_days(first: dt.date, last: dt.date) -> int:
    return sum((first + dt.timedelta(n)).weekday() < 5 for n in range((last - first).days + 1))


def test_the_estimated_review_event_runs_from_the_window_end_for_the_working_days(
        seed_output):
    event = review_event(seed_output)
    _, release_last = page_dates(seed_output, "release")
    _, review_last = page_dates(seed_output, "review")
    assert event.name == "二建成绩复核申请期（估算）"
    assert event_days(event) == (release_last, review_last)
    assert working_days(*event_days(event)) == 5   # no holiday in late August 2026
    assert f"{release_last.month}月{release_last.day}日" in event.description

