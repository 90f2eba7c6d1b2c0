"""Bounds on what the generator accepts, in one place, so that the schema, the calendar code
and the command line agree (a year the schema accepts is a year every stage can compute)."""

# Years a date in the input, --today or SOURCE_DATE_EPOCH may fall in.
SUPPORTED_YEARS = range(1990, 2101)
