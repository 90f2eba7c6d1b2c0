"""Timelines drawn as inline SVG at build time: readable without JavaScript, styled by the
site's CSS (so dark mode and print apply), and paired with a text equivalent.

Pure functions: dates in, SVG text out. All coordinates are rounded to one decimal so the
output is the same on every machine.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from html import escape

ONE_DAY = dt.timedelta(days=1)
# One visual rule in every chart, named by the legends: a dashed border is 暂定 (computed on
# a projected or unchecked calendar year), a dotted one 未核实 (a recorded date no official
# notice confirms yet).
PROVISIONAL = "tl-provisional"
UNCONFIRMED = "tl-unconfirmed"
# Font sizes the stylesheet gives the labels (user units: the SVG scales as a whole). Both
# charts are drawn WIDTH units wide, the width of the text column on a 390 px phone, so a
# unit is about a CSS pixel there and no label renders under 12 px.
TICK_FONT, TODAY_FONT = 12, 12
WIDTH = 356


def _md(day: dt.date) -> str:
    return f"{day.month}月{day.day}日"


def _span_text(first: dt.date, last: dt.date) -> str:
    return _md(first) if first == last else f"{_md(first)}至{_md(last)}"


def _num(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


@dataclass(frozen=True)
class Axis:
    """Maps dates to x positions between ``left`` and ``right``."""

    start: dt.date
    end: dt.date
    left: float
    right: float

    @property
    def per_day(self) -> float:
        return (self.right - self.left) / max((self.end - self.start).days, 1)

    def x(self, day: dt.date) -> float:
        return self.left + (day - self.start).days * self.per_day

    def month_ticks(self):
        day = dt.date(self.start.year, self.start.month, 1)
        while day <= self.end:
            if day >= self.start:
                yield day
            day = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def text_width(text: str, font_size: float) -> float:
    """A generous estimate of a label's width: a full em for CJK and other wide characters,
    0.62 em for digits and Latin letters."""
    return sum(font_size * (0.62 if ch.isascii() else 1.0) for ch in text)


def _inside(x: float, text: str, font_size: float, width: float) -> float:
    """Where to centre a label meant for ``x`` so that it stays within 0..``width``."""
    half = text_width(text, font_size) / 2 + 1
    return min(max(x, half), width - half)


def _ticks(axis: Axis, top: float, bottom: float, width: float) -> list[str]:
    parts = []
    for tick in axis.month_ticks():
        x = _num(axis.x(tick))
        label = f"{tick.year}年1月" if tick.month == 1 else f"{tick.month}月"
        at = _num(_inside(axis.x(tick), label, TICK_FONT, width))
        parts.append(f'<line class="tl-grid" x1="{x}" x2="{x}" y1="{_num(top)}" '
                     f'y2="{_num(bottom)}"/>'
                     f'<text class="tl-tick" x="{at}" y="{_num(bottom + 14)}">{label}</text>')
    return parts


def _bar(axis: Axis, first: dt.date, last: dt.date, y: float, height: float, cls: str,
         label: str) -> str:
    x1 = axis.x(first)
    x2 = max(axis.x(last + ONE_DAY), x1 + 3)
    return (f'<rect class="{cls}" x="{_num(x1)}" y="{_num(y)}" width="{_num(x2 - x1)}" '
            f'height="{_num(height)}" rx="3"><title>{escape(label)}</title></rect>')


def _today(axis: Axis, today: dt.date, top: float, bottom: float, width: float) -> str:
    clamped = min(max(today, axis.start), axis.end)
    at = axis.x(clamped) + (axis.per_day / 2 if axis.start <= today <= axis.end else 0)
    x = _num(at)
    inside = axis.start <= today <= axis.end
    hidden, shown = ' visibility="hidden"', ""
    return (f'<g class="tl-today" data-today="{today.isoformat()}"{shown if inside else hidden}>'
            f'<line x1="{x}" x2="{x}" y1="{_num(top)}" y2="{_num(bottom)}"/>'
            f'<text x="{_num(_inside(at, "今天", TODAY_FONT, width))}" y="{_num(top - 4)}">'
            '今天</text></g>'
            f'<text class="tl-off" x="{_num(width - 2)}" y="{_num(top - 4)}"'
            f'{hidden if inside else shown}>今天（{_md(today)}）不在图的时间范围内</text>')


@dataclass(frozen=True)
class StageBar:
    """A recorded stage other than exam, release and review, drawn on its own row."""

    label: str       # short: the row label has room for four characters
    first: dt.date
    last: dt.date
    confirmed: bool


def cycle_timeline(exam_days: tuple, release: tuple, announced: dt.date | None,
                   review: tuple, today: dt.date, *, estimated_review: bool,
                   stages: tuple[StageBar, ...] = (), exam_confirmed: bool = True,
                   provisional_release: bool = False, review_flag: str = "") -> str:
    """One guide page's timeline: exam days, release window (or announced date), review
    window, any other recorded stages (before the exam above it, the rest below the review)
    and today, with a <title>/<desc> text equivalent. ``review_flag`` is PROVISIONAL,
    UNCONFIRMED or empty."""
    exam_first, exam_last = exam_days[0], exam_days[-1]
    release_first, release_last = release
    review_first, review_last = review
    before = [s for s in stages if s.last < exam_first]
    after = [s for s in stages if s.last >= exam_first]
    start = min([exam_first] + [s.first for s in before]) - dt.timedelta(days=7)
    end = max([review_last, release_last] + [s.last for s in after]) + dt.timedelta(days=7)
    width, left, right, pitch = WIDTH, 62, WIDTH - 8, 32
    axis = Axis(start, end, left, right)
    rows: list[tuple[str, str]] = []    # (label, bar), top to bottom

    def y_of(index: int) -> float:
        return 34 + index * pitch

    def stage_bar(stage: StageBar, y: float) -> str:
        cls = "tl-stage" if stage.confirmed else f"tl-stage {UNCONFIRMED}"
        return _bar(axis, stage.first, stage.last, y, 18, cls,
                    f"{stage.label} {_span_text(stage.first, stage.last)}")

    for stage in before:
        rows.append((stage.label, stage_bar(stage, y_of(len(rows)))))
    exam_cls = "tl-exam" if exam_confirmed else f"tl-exam {UNCONFIRMED}"
    rows.append(("考试", _bar(axis, exam_first, exam_last, y_of(len(rows)), 18, exam_cls,
                              f"考试 {_span_text(exam_first, exam_last)}")))
    y = y_of(len(rows))
    if announced:
        x = _num(axis.x(announced) + axis.per_day / 2)
        rows.append(("成绩发布", f'<g class="tl-announced"><line x1="{x}" x2="{x}" '
                     f'y1="{_num(y - 4)}" y2="{_num(y + 22)}"/><circle cx="{x}" '
                     f'cy="{_num(y + 9)}" r="6"><title>成绩发布（已公布）{_md(announced)}'
                     f'</title></circle></g>'))
    else:
        window_cls = f"tl-window {PROVISIONAL}" if provisional_release else "tl-window"
        rows.append(("成绩发布", _bar(axis, release_first, release_last, y, 18, window_cls,
                                    f"成绩预计发布 {_span_text(release_first, release_last)}")))
    rows.append(("复核申请", _bar(axis, review_first, review_last, y_of(len(rows)), 18,
                                  " ".join(filter(None, (
                                      "tl-review", "tl-estimated" if estimated_review else "",
                                      review_flag))),
                                  f"复核申请 {_span_text(review_first, review_last)}")))
    for stage in after:
        rows.append((stage.label, stage_bar(stage, y_of(len(rows)))))
    bottom = y_of(len(rows) - 1) + 24
    parts = [f'<text class="tl-label" x="2" y="{_num(y_of(i) + 13)}">{escape(label)}</text>'
             for i, (label, _) in enumerate(rows)]
    parts += _ticks(axis, 24, bottom, width)
    parts += [bar for _, bar in rows]
    parts.append(_today(axis, today, 24, bottom, width))
    release_text = (f"成绩发布日期已公布：{_md(announced)}" if announced else
                    f"成绩预计发布{'（暂定）' if provisional_release else ''}："
                    f"{_span_text(release_first, release_last)}")
    stage_text = "".join(f"{s.label}{'' if s.confirmed else '（未核实）'}："
                         f"{_span_text(s.first, s.last)}；" for s in stages)
    review_note = "".join(note for note, on in (("（估算）", estimated_review), (
        "（暂定）", review_flag == PROVISIONAL), ("（未核实）", review_flag == UNCONFIRMED)) if on)
    desc = (f"考试{'' if exam_confirmed else '（未核实）'}：{_span_text(exam_first, exam_last)}；"
            f"{release_text}；复核申请{review_note}：{_span_text(review_first, review_last)}；"
            f"{stage_text}今天：{_md(today)}。")
    return (f'<svg class="timeline-svg" viewBox="0 0 {width} {_num(bottom + 22)}" role="img" '
            f'aria-labelledby="tl-title tl-desc" data-start="{start.isoformat()}" '
            f'data-left="{left}" data-per-day="{_num(axis.per_day * 1000)}">'
            f'<title id="tl-title">时间线</title><desc id="tl-desc">{escape(desc)}</desc>'
            + "".join(parts) + "</svg>")


@dataclass(frozen=True)
class WindowBar:
    """One row of the national timeline: a province's window shared by some regions."""

    province: str
    label: str
    first: dt.date
    last: dt.date
    announced: bool
    provisional: bool


def national_timeline(bars: list[WindowBar], today: dt.date) -> str:
    """Every window on one date axis, one row per bar, grouped in the order given. The picture
    has no links of its own (an image must not hold interactive content); the table that
    accompanies it does."""
    if not bars:
        return ""
    start = min(b.first for b in bars) - dt.timedelta(days=10)
    end = max(b.last for b in bars) + dt.timedelta(days=10)
    row, top, left, right, width = 26, 24, 62, WIDTH - 8, WIDTH
    axis = Axis(start, end, left, right)
    height = top + row * len(bars) + 24
    parts = _ticks(axis, top - 4, height - 22, width)
    for index, bar in enumerate(bars):
        y = top + index * row
        cls = "tl-announced-bar" if bar.announced else (
            f"tl-window {PROVISIONAL}" if bar.provisional else "tl-window")
        label = escape(bar.label)
        parts.append(f'<text class="tl-label" x="4" y="{y + 14}">{label}</text>'
                     + _bar(axis, bar.first, bar.last, y + 3, 16, cls,
                            f"{bar.label}：{_span_text(bar.first, bar.last)}"))
    parts.append(_today(axis, today, top - 4, height - 22, width))
    return (f'<svg class="timeline-svg national" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="各地区成绩发布窗口时间线，文字版见下表" '
            f'data-start="{start.isoformat()}" data-left="{left}" '
            f'data-per-day="{_num(axis.per_day * 1000)}">' + "".join(parts) + "</svg>")
