"""Machine-readable companions of the pages: iCalendar subscriptions (``icalendar``), Atom feeds
(``feedgen``), the sitemap and robots.txt.

Every timestamp comes from the data or the build date, never from the clock, so two builds of
the same input are byte-identical.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from erjian.input import models as m

CHINA = dt.timezone(dt.timedelta(hours=8), "CST")
PRODID = "-//erjian//score-release guide//ZH"
# A feed reader only needs what is new since it last looked: the newest notices, not the
# archive (the notices list pages keep every notice). 5,000 notices made feed.xml 3 MB.
FEED_ENTRIES = 50


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=CHINA)


def event_uid(kind: str, exam: m.Exam, region_key: str, specialty: str, host: str) -> str:
    """Stable across builds and across estimate → announcement, so calendar apps update the
    event instead of adding a second one."""
    province, region = region_key.split("/")
    return f"{exam.year}-{exam.sitting}-{kind}.{specialty}.{region}.{province}@{host}"


SLOT = b"X-ERJIAN-SLOT:"

# Weights of Revision.sequence: each step outweighs every step below it put together.
ANNOUNCED_STEP = 10_000     # the release date (or the review counted from it) is announced
RECORDED_STEP = 20_000      # the review dates are recorded from their own notice
CONFIRMED_STEP = 1_000      # the exam days (or a recorded stage) are confirmed
MAX_CALENDAR_STEPS = CONFIRMED_STEP - 1


@dataclass(frozen=True)
class Revision:
    """An event's SEQUENCE and LAST-MODIFIED, derived from the facts its times rest on.

    A build has no earlier output to compare with (CI builds a clean clone with --clean, and
    the same input on the same date must give the same bytes), so the revision is not counted
    from changes; it measures how settled the facts are. The times of an event change in
    practice only when a fact settles, and each way of settling raises ``sequence``:

    - a calendar year the times are counted on goes projected → published unchecked (1 step)
      → published and checked (2 steps), summed over the years and layers used;
    - the exam days go unconfirmed → confirmed (CONFIRMED_STEP, more than all calendar steps);
    - the release window is replaced by the announced date, and the estimated review by the
      review counted from it (ANNOUNCED_STEP);
    - the review dates are recorded from the review notice (RECORDED_STEP);
    - a recorded stage goes unconfirmed → confirmed (CONFIRMED_STEP).

    ``modified`` (LAST-MODIFIED) is the latest date among those facts that carry one (the
    calendar notices' and exam notices' ``published``, the release notice's ``date``), no
    later than the build date, or None when none is dated.

    Limits: an edit that settles nothing leaves the revision as it was: exam days retyped
    while still unconfirmed, estimate parameters changed by hand, a second release notice
    correcting the date, a recorded stage moved without being confirmed. So does a fact that
    settles without a date for LAST-MODIFIED. Undoing a fact (confirmed → unconfirmed) lowers
    it."""

    sequence: int
    modified: dt.date | None

    @classmethod
    def of(cls, today: dt.date, steps: int = 0, bases=(), dated=()) -> "Revision":
        calendar = sum(_year_steps(b) for b in {(b.layer, b.year): b for b in bases}.values())
        days = [d for d in (*dated, *(b.source.published for b in bases if b.source))
                if d is not None]
        return cls(steps + min(calendar, MAX_CALENDAR_STEPS),
                   min(max(days), today) if days else None)


def _year_steps(basis) -> int:
    """0 for a projected calendar year, 1 published but unchecked, 2 published and checked."""
    return 0 if basis.projected else (2 if basis.verified else 1)


def _published(source: m.Source | None):
    return source.published if source else None


def _event(slot, summary, first, last, *, confirmed, description, stamp,
           revision: Revision):
    from icalendar import Event

    event = Event()
    event.add("x-erjian-slot", f"uid:{slot}")
    event.add("x-erjian-slot", "url")
    event.add("dtstamp", stamp)
    event.add("dtstart", first)
    event.add("dtend", last + dt.timedelta(days=1))
    event.add("summary", summary)
    event.add("description", description)
    event.add("status", "CONFIRMED" if confirmed else "TENTATIVE")
    event.add("transp", "TRANSPARENT")
    event.add("sequence", revision.sequence)
    if revision.modified is not None:
        event.add("last-modified", _midnight(revision.modified).astimezone(dt.timezone.utc))
    return event


def calendar_template(view, specialty: m.Specialty, today: dt.date) -> bytes:
    """The .ics of one schedule and specialty, serialised by ``icalendar``, with slot lines
    where the page-specific properties go (calendar name, UIDs, URLs). Regions that share a
    schedule share the template; ``fill_calendar`` completes it per page. Every cycle the
    page shows has its events (exam, release window or announced date, review, and every
    other stage the data records: registration, admit card, pass marks, audit, certificate),
    the leading cycle first."""
    from icalendar import Calendar

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-erjian-slot", "calname")
    calendar.add("x-wr-timezone", "Asia/Shanghai")
    if view.cycle is None:
        return calendar.to_ical()
    stamp = _midnight(today).astimezone(dt.timezone.utc)
    for cycle in view.cycles or (view.cycle,):
        for event in _cycle_events(view.region, cycle, specialty, stamp, today):
            calendar.add_component(event)
    return calendar.to_ical()


def _cycle_events(region, cycle, specialty: m.Specialty, stamp: dt.datetime,
                  today: dt.date) -> list:
    exam, window = cycle.exam, cycle.window
    slot = f"{exam.year}:{exam.sitting}:"
    year = f"{exam.year}年度："
    note = "" if exam.confirmed else "（考试日期未经官方通知核实）"
    exam_steps = CONFIRMED_STEP if exam.confirmed else 0
    exam_dated = (_published(exam.source),)
    events = [_event(
        slot + "exam", f"二级建造师考试（{specialty.name}）", exam.first_day,
        exam.last_day, confirmed=exam.confirmed, stamp=stamp,
        revision=Revision.of(today, exam_steps, dated=exam_dated),
        description=f"{year}{region.province.name}统一组织{note}。")]
    if cycle.announcement:
        announced = cycle.announcement.date
        events.append(_event(
            slot + "release", "二建成绩发布（官方已公布）", announced, announced,
            confirmed=True, stamp=stamp,
            revision=Revision.of(today, ANNOUNCED_STEP, dated=(cycle.announcement.notice.date,)),
            description=f"{year}依据：{cycle.announcement.notice.title}。只在官方网站查分。"))
    else:
        provisional = "；所用节假日安排尚未公布或未核实，日期可能变动" if window.provisional else ""
        events.append(_event(
            slot + "release", "二建成绩预计发布窗口（估算）", window.earliest,
            window.latest, confirmed=False, stamp=stamp,
            revision=Revision.of(today, exam_steps, window.bases, exam_dated),
            description=f"{year}按工作日推算的估计，不是官方日期{provisional}。推算依据见页面。"))
    review = cycle.review
    if review.recorded:
        recorded = cycle.milestone("review")
        events.append(_event(
            slot + "review", "二建成绩复核申请期", review.opens, review.closes,
            confirmed=not recorded.provisional, stamp=stamp,
            revision=Revision.of(today, RECORDED_STEP + (
                0 if recorded.provisional else CONFIRMED_STEP), dated=(
                _published(recorded.source),)),
            description=f"{year}{_recorded_basis(recorded)}"))
    else:
        # The page's estimate: released on the window's last day, review counted from it.
        opens = cycle.release.last if review.estimated else review.opens
        assumed = (f"本事件按成绩在估算窗口最后一天（{opens.month}月{opens.day}日）公布计算，"
                   "成绩提前公布则复核期随之提前。" if review.estimated else "")
        events.append(_event(
            slot + "review", "二建成绩复核申请期" + ("（估算）" if review.estimated else ""),
            opens, review.closes, confirmed=not review.estimated, stamp=stamp,
            revision=_review_revision(cycle, today, exam_steps, exam_dated),
            description=f"{year}成绩公布后{review.working_days}个工作日内可申请复核。"
                        f"{assumed}以复核通知为准。"))
    for ms in cycle.milestones:
        if ms.key in m.RECORDED_STAGES and ms.key != "review":
            events.append(_event(
                slot + ms.key, f"二建{m.STAGES[ms.key].name}" +
                ("" if not ms.provisional else "（未核实）"), ms.first, ms.last,
                confirmed=not ms.provisional, stamp=stamp,
                revision=Revision.of(today, 0 if ms.provisional else CONFIRMED_STEP,
                                     dated=(_published(ms.source),)),
                description=f"{year}{_recorded_basis(ms)}"))
    return events


def _review_revision(cycle, today: dt.date, exam_steps: int, exam_dated: tuple) -> Revision:
    """A computed review's revision: counted from the announced date, or from the window."""
    review = cycle.review
    if cycle.announcement:
        return Revision.of(today, ANNOUNCED_STEP, review.bases,
                           (cycle.announcement.notice.date,))
    return Revision.of(today, exam_steps, (*cycle.window.bases, *review.bases), exam_dated)


def _recorded_basis(ms) -> str:
    """An event's description for a date the data records: its source, or that it has none."""
    basis = (f"依据：{ms.source.title}。" if ms.source else "本站录入的日期，尚无来源。")
    if ms.provisional:
        basis += "尚未经官方通知核实，以官方通知为准。"
    return basis + (ms.note or "")


def fill_calendar(template: bytes, view, specialty: m.Specialty, page_url: str,
                  host: str) -> bytes:
    """Replace the slot lines of ``template`` with this page's properties, each folded by
    ``icalendar``'s own content-line serialiser."""
    from icalendar.parser import Contentline, Parameters
    from icalendar.prop import vText, vUri

    region = view.region
    exams = {(c.exam.year, c.exam.sitting): c.exam for c in (view.cycles or (view.cycle,))
             if c is not None}

    def line(name, value) -> bytes:
        return Contentline.from_parts(name, Parameters(), value).to_ical()

    filled = []
    for raw in template.split(b"\r\n"):
        if not raw.startswith(SLOT):
            filled.append(raw)
            continue
        slot = raw[len(SLOT):].decode()
        if slot == "calname":
            filled.append(line("X-WR-CALNAME", vText(f"{region.name}二建（{specialty.name}）")))
        elif slot == "url":
            filled.append(line("URL", vUri(page_url)))
        else:
            year, sitting, kind = slot.split(":", 1)[1].split(":")
            exam = exams[(int(year), sitting)]
            uid = event_uid(kind, exam, region.key, specialty.code, host)
            filled.append(line("UID", vText(uid)))
    return b"\r\n".join(filled)


def recent_notices(notices) -> list[m.Notice]:
    """The ``FEED_ENTRIES`` newest of ``notices``, newest first: what a feed of them holds."""
    return sorted(notices, key=lambda n: (n.date, n.slug), reverse=True)[:FEED_ENTRIES]


def atom_feed(title: str, feed_url: str, site_url: str, notices: list[m.Notice],
              notice_url, render_body, today: dt.date) -> bytes:
    """Atom feed of the newest of ``notices`` (see ``recent_notices``);
    ``notice_url(notice)`` gives absolute URLs, ``render_body(notice)`` the HTML body."""
    from feedgen.feed import FeedGenerator

    notices = recent_notices(notices)
    feed = FeedGenerator()
    feed.id(feed_url)
    feed.title(title)
    feed.author({"name": title})
    feed.link(href=site_url, rel="alternate")
    feed.link(href=feed_url, rel="self")
    feed.language("zh-CN")
    feed.generator("erjian")
    updated = max((n.date for n in notices), default=today)
    feed.updated(_midnight(updated))
    for notice in notices:
        entry = feed.add_entry(order="append")
        url = notice_url(notice)
        entry.id(url)
        entry.title(notice.title)
        entry.link(href=url)
        entry.published(_midnight(notice.date))
        entry.updated(_midnight(notice.date))
        entry.summary(notice.summary or notice.title)
        entry.content(str(render_body(notice)), type="html")
    return feed.atom_str(pretty=True)


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# The sitemap protocol's limits for one file (sitemaps.org): beyond either, an index.
SITEMAP_MAX_URLS = 50_000
SITEMAP_MAX_BYTES = 50 * 1024 * 1024
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"


def sitemaps(entries: list[tuple[str, str | None]], abs_url, max_urls: int = SITEMAP_MAX_URLS,
             max_bytes: int = SITEMAP_MAX_BYTES) -> dict[str, str]:
    """sitemap.xml for ``entries`` (page path, lastmod or None) by file name: one urlset, or,
    when it would exceed a limit, an index of ``sitemap-<n>.xml`` parts."""
    lines = [_url_line(abs_url(path), lastmod) for path, lastmod in entries]
    parts, size = [[]], 0
    for line in lines:
        if parts[-1] and (len(parts[-1]) == max_urls or size + len(line.encode()) + 200
                          > max_bytes):
            parts.append([])
            size = 0
        parts[-1].append(line)
        size += len(line.encode()) + 1
    if len(parts) == 1:
        return {"sitemap.xml": _sitemap_file("urlset", parts[0])}
    names = [f"sitemap-{n}.xml" for n in range(1, len(parts) + 1)]
    files = {name: _sitemap_file("urlset", part) for name, part in zip(names, parts)}
    files["sitemap.xml"] = _sitemap_file(
        "sitemapindex", [f"  <sitemap><loc>{_xml_escape(abs_url(n))}</loc></sitemap>"
                         for n in names])
    return files


def _url_line(url: str, lastmod: str | None) -> str:
    modified = f"<lastmod>{lastmod}</lastmod>" if lastmod else ""
    return f"  <url><loc>{_xml_escape(url)}</loc>{modified}</url>"


def _sitemap_file(root: str, lines: list[str]) -> str:
    return "\n".join(['<?xml version="1.0" encoding="UTF-8"?>',
                      f'<{root} xmlns="{SITEMAP_NS}">', *lines, f"</{root}>"]) + "\n"


def robots(sitemap_url: str) -> str:
    return f"User-agent: *\nAllow: /\n\nSitemap: {sitemap_url}\n"
