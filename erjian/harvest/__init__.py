"""Harvest: official notices read into facts an editor can confirm.

``notice_text`` and ``holiday_notice`` are pure (no I/O, no network, no clock) and import nothing
past ``dates``: they turn a notice's title and text into dates, pass marks and holiday
arrangements, each with the sentence it was read from. The rest of the stage fetches through the
editors' ``verify_links`` and is used only by ``devtools`` and ``cli`` (tests/test_layers.py).
"""
