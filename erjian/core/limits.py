"""Bounds on what the generator accepts, in one place, so that the schema, the calendar code
and the command line agree (a year the schema accepts is a year every stage can compute)."""

# Years the working-day calendar can be computed for. A year without an arrangement file is
# projected: national holidays by the `holidays` package (its Chinese lunar calendar reaches
# 2100), Xinjiang's Islamic holidays by `hijridate`, whose Umm al-Qura table ends on
# 2077-11-16, so 2076 is the last whole year it covers.
CALENDAR_YEARS = range(1990, 2077)

# Working days an estimate may count: to the latest release, and for the review requests.
MAX_RELEASE_WORKING_DAYS = 250
MAX_REVIEW_WORKING_DAYS = 30

# A schedule (release window, then review window) ends at most this many years after the
# year of the day it is counted from: the longest, 280 working days from a 31 December, ends
# in February two years later, since a year has at least 240 working days.
WINDOW_YEARS = 2

# Years a date in the input, --today or SOURCE_DATE_EPOCH may fall in: every schedule counted
# from such a date ends within CALENDAR_YEARS.
SUPPORTED_YEARS = range(CALENDAR_YEARS.start, CALENDAR_YEARS.stop - WINDOW_YEARS)

YEARS_REASON = (f"the working-day calendar can be computed through {CALENDAR_YEARS[-1]} (the "
                "Umm al-Qura table used for Xinjiang's Islamic holidays ends in 2077), and a "
                f"score-release schedule may run up to {WINDOW_YEARS} years past its exam")
