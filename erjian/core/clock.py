"""The time zone every date of the site is meant in, whatever the zone of the machine
building it (CI runners keep UTC)."""

from __future__ import annotations

import datetime as dt


def china_zone() -> dt.tzinfo:
    """Asia/Shanghai. zoneinfo finds it in the system's tz database or the tzdata package;
    without either, China's fixed UTC+8 (no daylight saving since 1991) gives the same
    dates."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo("Asia/Shanghai")
    except (ZoneInfoNotFoundError, ValueError):
        return dt.timezone(dt.timedelta(hours=8), "CST")


def today_in_china() -> dt.date:
    return dt.datetime.now(china_zone()).date()
