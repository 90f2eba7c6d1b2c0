"""Many notices: feeds hold only the newest FEED_ENTRIES, the notices list stays complete, and
every notice page still names the regions it concerns. (How fast a no-op rebuild with 5,000
notices is: `make bench`, never a timed assertion here.)"""

import datetime as dt
import re

import feedparser

from conftest import copy_site, run_cli
from erjian.devtools.bench import write_notices
from erjian.site.feeds import FEED_ENTRIES

COUNT = 300


def entry_slugs(feed_text: str) -> list[str]:
    return [e.link.rstrip("/").rsplit("/", 1)[-1] for e in feedparser.parse(feed_text).entries]


def newest(dates: dict[str, dt.date], count: int) -> list[str]:
    return sorted(dates, key=lambda s: (dates[s], s), reverse=True)[:count]


def test_feeds_hold_only_the_newest_notices_and_the_list_every_notice(tmp_path):
    site = copy_site(tmp_path / "site", provinces=("xinjiang",))
    dates = write_notices(site, COUNT)
    dates["2026-xinjiang-eid-al-adha"] = dt.date(2025, 12, 26)
    out = tmp_path / "out"
    code, stdout, stderr = run_cli("--root", str(site), "--out", str(out), "--today",
                                   "2026-06-15")
    assert code == 0, stderr
    expected = newest(dates, FEED_ENTRIES)
    for feed in ("feed.xml", "xinjiang/feed.xml"):
        slugs = entry_slugs((out / feed).read_text(encoding="utf-8"))
        assert slugs == expected, feed
    listed = set(re.findall(r'href="/notices/([a-z0-9-]+)/"',
                            (out / "notices" / "index.html").read_text(encoding="utf-8")))
    assert listed == set(dates)
    assert all((out / "notices" / slug / "index.html").is_file() for slug in dates)


def test_every_notice_page_names_its_regions(tmp_path):
    site = copy_site(tmp_path / "site", provinces=("xinjiang",))
    write_notices(site, 3)
    out = tmp_path / "out"
    code, _, stderr = run_cli("--root", str(site), "--out", str(out), "--today", "2026-06-15")
    assert code == 0, stderr
    for slug in ("bulk-00000", "bulk-00002", "2026-xinjiang-eid-al-adha"):
        page = (out / "notices" / slug / "index.html").read_text(encoding="utf-8")
        assert 'href="/xinjiang/tacheng/' in page, slug
