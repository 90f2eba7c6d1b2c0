"""Harvest: official notices read into facts an editor can confirm.

``notice_text`` and ``holiday_notice`` are pure (no I/O, no network, no clock): they turn a
notice's title and text into dates, pass marks and holiday arrangements, each with the sentence
it was read from. Only ``cli`` and ``editor`` import this stage.
"""
