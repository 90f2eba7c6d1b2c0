"""Shared basics every stage may use: errors, limits, the clock, signed caches, the memo, progress."""
