"""Stage 2: calendars, windows and cycles: when each region's scores and review are expected."""
