"""Findings turned into proposed changes of the data, never into facts.

A date read from a notice goes into the province file's exam entry, edited in place with
ruamel.yaml (comments and layout kept): ``confirmed: false``, the notice as ``source`` and
the sentence it was read from as ``evidence``. A confirmed value is never changed: a notice
that disagrees with it is a conflict. A value already proposed the same way is left alone,
so running twice proposes nothing new. A release date becomes a drafted notice of kind
``general`` (which confirms nothing); an editor makes it ``release`` after checking. A
holiday arrangement becomes ``calendars/<layer>/<year>.yaml`` with ``verified: false``."""

from __future__ import annotations

import datetime as dt
import io
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from erjian.editor.verify_links import (NotWritten, create_if_absent, read_regular,
                                        swap_if_unchanged)
from erjian.input.models import RECORDED_STAGES, STAGES


@dataclass(frozen=True)
class Change:
    """One line of the report: what was proposed (or refused) where, and why."""

    kind: str        # 'proposed', 'conflict', 'unplaced'
    file: str
    what: str
    evidence: str
    title: str
    url: str


RUN_AGAIN = "run the harvest again once the file is no longer being edited"


@dataclass
class Proposals:
    """The changes of one run, and each written file's content before the run (so that a
    proposal the data would refuse can be taken back).

    Data files are read and written as ``verify-links --write`` does
    (``erjian.editor.verify_links``): regular files only, never through a symbolic link or
    into a read-only file, and a file is replaced only if it still holds what was read, so
    a save made meanwhile is never overwritten. A file that cannot be written is listed in
    ``unwritten``; ``settle`` reports its proposals as not placed."""

    changes: list = field(default_factory=list)
    originals: dict = field(default_factory=dict)   # Path -> bytes, or None if it was new
    written: dict = field(default_factory=dict)     # Path -> bytes this run put there
    unwritten: dict = field(default_factory=dict)   # Path -> why it was not written

    def add(self, *args) -> None:
        self.changes.append(Change(*args))

    def read(self, path: Path) -> bytes | None:
        """The bytes of data file ``path``; None (and the reason kept) when it may not be
        edited."""
        try:
            return read_regular(path, RUN_AGAIN, editor="the harvest")
        except NotWritten as exc:
            self.unwritten[path] = str(exc)
            return None

    def write(self, path: Path, text: str, based_on: bytes | None) -> None:
        """``text`` in place of ``path`` if the file still holds ``based_on`` (None: if
        there is no such file yet)."""
        data = text.encode("utf-8")
        try:
            placed = (create_if_absent(path, data, RUN_AGAIN) if based_on is None
                      else swap_if_unchanged(path, based_on, data, RUN_AGAIN))
        except NotWritten as exc:
            self.unwritten[path] = str(exc)
            return
        if not placed:
            self.unwritten[path] = f"the file changed while the harvest read it; {RUN_AGAIN}"
            return
        self.originals.setdefault(path, based_on)
        self.written[path] = data

    def take_back(self, root: Path, file: str, problem: str) -> None:
        """Put ``file`` back as it was, unless it was saved again meanwhile; its proposals
        become 'unplaced', saying why."""
        path = root / file
        original, data = self.originals.pop(path), self.written.pop(path)
        try:
            if original is None:
                if read_regular(path, RUN_AGAIN, editor="the harvest") == data:
                    path.unlink()
            else:
                swap_if_unchanged(path, data, original, RUN_AGAIN)
        except (NotWritten, OSError):
            pass   # changed by someone meanwhile: theirs stays; the report says why
        self._unplace(file, f"not written: the data would refuse it ({problem})")

    def settle(self, root: Path) -> None:
        """The proposals of files that could not be written become 'unplaced'."""
        for path, why in self.unwritten.items():
            self._unplace(path.relative_to(root).as_posix(), f"not written: {why}")

    def _unplace(self, file: str, why: str) -> None:
        self.changes = [Change("unplaced", c.file, f"{c.what}; {why}", c.evidence, c.title,
                               c.url) if c.kind == "proposed" and c.file == file else c
                        for c in self.changes]

    def of(self, kind: str) -> list[Change]:
        return [c for c in self.changes if c.kind == kind]


def _yaml():
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    yaml.preserve_quotes = True
    yaml.representer.ignore_aliases = lambda data: True   # the data refuses anchors
    return yaml


def _source(title: str, url: str, published: dt.date | None) -> dict:
    source = {"title": title, "url": url}
    if published:
        source["published"] = published
    return source


def _span(found) -> tuple[dt.date, dt.date]:
    return found.start, found.end or found.start


def _shown(first: dt.date, last: dt.date) -> str:
    return first.isoformat() if first == last else f"{first.isoformat()} – {last.isoformat()}"


def report_body_dates(file: str, name: str, reading, title: str, url: str,
                      proposals: Proposals) -> None:
    """An exam body's notice (the 兵团's): the data records no dates for such bodies (its
    regions follow the province's window until a source settles who sits which exam), so
    each date goes to the report for an editor, never into the province's exams."""
    for found in reading.dates:
        proposals.add("unplaced", file, f"{name}: {STAGES[found.stage].name} "
                      f"{_shown(*_span(found))}; an exam body's dates are not recorded in the "
                      "data: read the notice and decide by hand", found.sentence, title, url)


def propose_exam_dates(root: Path, file: str, reading, title: str, url: str,
                       published: dt.date | None, proposals: Proposals) -> None:
    """Each dated stage of ``reading`` (a NoticeReading) proposed in ``file``'s exams."""
    dated = {}
    for found in reading.dates:
        dated.setdefault(found.stage, found)
    dated.pop("release", None)   # a release date becomes a drafted notice
    if not dated:
        return
    if reading.exam_year is None:
        for found in dated.values():
            proposals.add("unplaced", file, f"{STAGES[found.stage].name}: "
                          f"{_shown(*_span(found))}, but the notice names no exam year",
                          found.sentence, title, url)
        return
    path = root / file
    raw = proposals.read(path)
    if raw is None:
        for found in dated.values():
            proposals.add("unplaced", file, f"{STAGES[found.stage].name}: "
                          f"{_shown(*_span(found))}; not written: {proposals.unwritten[path]}",
                          found.sentence, title, url)
        return
    yaml = _yaml()
    data = yaml.load(raw.decode("utf-8-sig"))
    before = len(proposals.changes)
    exam = _exam_entry(data, reading.exam_year)
    source = _source(title, url, published)
    if exam is None:
        exam = _new_exam(data, reading.exam_year, dated, source, file, title, url, proposals)
    elif "exam" in dated:
        _propose_days(exam, dated["exam"], source, file, title, url, proposals)
    if exam is not None:
        for stage in RECORDED_STAGES:
            if stage in dated:
                _propose_stage(exam, stage, dated[stage], source, file, title, url, proposals)
    if any(c.kind == "proposed" for c in proposals.changes[before:]):
        proposals.write(path, _dumped(yaml, data), raw)


def _exam_entry(data, year: int):
    for exam in data.get("exams") or ():
        if exam.get("year") == year and exam.get("sitting", "main") == "main":
            return exam
    return None


def _exam_days(found) -> list[dt.date]:
    first, last = _span(found)
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)][:4]


def _new_exam(data, year, dated, source, file, title, url, proposals):
    """A new exam entry when the notice gives the exam days; else the dates are unplaced."""
    if "exam" not in dated:
        for found in dated.values():
            proposals.add("unplaced", file, f"{year}: {STAGES[found.stage].name} "
                          f"{_shown(*_span(found))}, but the file has no {year} exam to "
                          "put it in (add the exam's days first)", found.sentence, title, url)
        return None
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    found = dated["exam"]
    days = CommentedSeq(_exam_days(found))
    days.fa.set_flow_style()
    exam = CommentedMap([("year", year), ("days", days), ("confirmed", False),
                         ("source", dict(source)), ("evidence", found.sentence)])
    if data.get("exams") is None:
        data["exams"] = []
    data["exams"].append(exam)
    proposals.add("proposed", file, f"{year} exam: {_shown(*_span(found))} (new entry)"
                  f"{_doubt(found)}", found.sentence, title, url)
    return exam


def _propose_days(exam, found, source, file, title, url, proposals) -> None:
    days = _exam_days(found)
    if list(exam.get("days") or ()) == days:
        return
    where = f"{exam['year']} exam"
    if exam.get("confirmed"):
        proposals.add("conflict", file, f"{where}: confirmed as {_days_shown(exam['days'])}, "
                      f"the notice says {_shown(*_span(found))}; left unchanged",
                      found.sentence, title, url)
        return
    old = _days_shown(exam.get("days") or ())
    exam["days"][:] = days
    _mark(exam, source, found.sentence)
    proposals.add("proposed", file, f"{where}: {_shown(*_span(found))} (was {old}, "
                  f"unconfirmed){_doubt(found)}", found.sentence, title, url)


def _days_shown(days) -> str:
    return ", ".join(day.isoformat() for day in days)


def _propose_stage(exam, stage, found, source, file, title, url, proposals) -> None:
    first, last = _span(found)
    where = f"{exam['year']} {stage} ({STAGES[stage].name})"
    current = exam.get(stage)
    if current is not None:
        now = (current.get("first"), current.get("last") or current.get("first"))
        if now == (first, last):
            return
        if current.get("confirmed"):
            proposals.add("conflict", file, f"{where}: confirmed as {_shown(*now)}, the "
                          f"notice says {_shown(first, last)}; left unchanged",
                          found.sentence, title, url)
            return
        current["first"] = first
        if first != last:
            current["last"] = last
        elif "last" in current:
            del current["last"]
        _mark(current, source, found.sentence)
        proposals.add("proposed", file, f"{where}: {_shown(first, last)} (was {_shown(*now)}, "
                      f"unconfirmed){_doubt(found)}", found.sentence, title, url)
        return
    from ruamel.yaml.comments import CommentedMap

    entry = CommentedMap([("first", first)] + ([("last", last)] if last != first else []))
    _mark(entry, source, found.sentence)
    exam[stage] = entry
    proposals.add("proposed", file, f"{where}: {_shown(first, last)}{_doubt(found)}",
                  found.sentence, title, url)


def _doubt(found) -> str:
    """What the reader doubts about a date (a weekday that does not match), for the report."""
    doubt = getattr(found, "doubt", None)
    return f"; ⚠ DOUBT: {doubt}" if doubt else ""


def _mark(entry, source: dict, sentence: str) -> None:
    """``confirmed: false`` with the notice and its sentence: a proposal, labelled so."""
    entry["confirmed"] = False
    entry["source"] = dict(source)
    entry["evidence"] = sentence


def _dumped(yaml, data) -> str:
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    return buffer.getvalue()


def write_text(path: Path, text: str) -> None:
    """``text`` put in place of ``path`` at once (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, name = tempfile.mkstemp(prefix=f".{path.name}.harvest.", suffix=".tmp",
                                        dir=path.parent)
    try:
        with open(descriptor, "w", encoding="utf-8", newline="") as file:
            file.write(text)
        if path.exists():
            os.chmod(name, path.stat().st_mode & 0o7777)
        else:
            os.chmod(name, 0o644)
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


# --- release notices -------------------------------------------------------------------------

def propose_release(root: Path, site, province, reading, title: str, url: str,
                    published: dt.date | None, proposals: Proposals) -> None:
    """A drafted notice for a release date the notice gives, unless one is recorded."""
    found = next((f for f in reading.dates if f.stage == "release"), None)
    if found is None or reading.exam_year is None:
        return
    recorded = [n for n in site.notices if n.kind == "release" and n.release_date
                and province.slug in n.provinces and n.exam_year == reading.exam_year
                and n.sitting == "main"]
    for notice in recorded:
        if notice.release_date != found.start:
            proposals.add("conflict", notice.file, f"{reading.exam_year} release: recorded "
                          f"as {notice.release_date.isoformat()}, the notice says "
                          f"{found.start.isoformat()}; left unchanged", found.sentence,
                          title, url)
    slug = f"{reading.exam_year}-{province.slug}-release-proposed"
    path = root / "content" / "notices" / f"{slug}.md"
    if recorded or path.exists():
        return
    proposals.write(path, release_draft(province, reading.exam_year, found, title, url,
                                        published, reading.pass_marks), None)
    proposals.add("proposed", path.relative_to(root).as_posix(),
                  f"{reading.exam_year} release: {found.start.isoformat()} (drafted notice)",
                  found.sentence, title, url)


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def release_draft(province, year: int, found, title: str, url: str,
                  published: dt.date | None, pass_marks=()) -> str:
    """A notice of kind ``general`` (it confirms nothing) for a release date read from an
    official notice; the comment says how an editor turns it into the release notice."""
    day = found.start
    issued = published or day
    lines = [
        "---",
        "# Drafted by `python build.py harvest`: NOT CHECKED. Open the source, compare the",
        f"# date, then set 'kind: release' and add 'release_date: {day.isoformat()}'.",
        f"title: {_quoted(f'{province.short_name}{year}年二级建造师成绩发布通知（待核实）')}",
        f"date: {issued.isoformat()}",
        "kind: general",
        f"provinces: [{province.slug}]",
        f"exam_year: {year}",
        "source:",
        f"  title: {_quoted(title)}",
        f"  url: {_quoted(url)}",
        *([f"  published: {published.isoformat()}"] if published else []),
        f"summary: {_quoted(f'官方通知称{day.month}月{day.day}日公布成绩，本站尚未核实。')}",
        "---",
        "",
        f"本站从{province.short_name}的官方通知中读到以下内容，尚未核实，请以原文为准：",
        "",
        f"> {found.sentence}",
        "",
        *pass_mark_lines(pass_marks),
        f"原文：[{title}]({url})",
        "",
    ]
    return "\n".join(lines)


def pass_mark_lines(pass_marks) -> list[str]:
    """The notice's pass marks as a list (numbers only where the notice gives them)."""
    if not pass_marks:
        return []
    lines = ["通知所列合格标准（待核实）：", ""]
    for mark in pass_marks:
        name = mark.subject + (f"（{mark.specialty}）" if mark.specialty else "")
        full = f"，满分{mark.full_marks}分" if mark.full_marks else ""
        lines.append(f"- {name}：{mark.score}分{full}")
    return lines + [""]


# --- holiday arrangements --------------------------------------------------------------------

def propose_calendar(root: Path, layer: str, text: str, title: str, url: str,
                     evidence: str, proposals: Proposals) -> None:
    """``text`` (calendar_yaml's output) as calendars/<layer>/<year>.yaml, unverified; an
    existing file that says otherwise is a conflict when verified, replaced when not."""
    import yaml

    proposed = yaml.safe_load(text)
    year = proposed["year"]
    file = f"calendars/{layer}/{year}.yaml"
    path = root / file
    unverified = with_unverified(text)
    if path.exists():
        raw = proposals.read(path)
        if raw is None:
            proposals.add("proposed", file, f"{year} arrangement", evidence, title, url)
            return
        current = yaml.safe_load(raw.decode("utf-8-sig")) or {}
        if _arrangement(current) == _arrangement(proposed):
            return
        if current.get("verified", True):
            proposals.add("conflict", file, f"{year} arrangement: the file (verified) differs "
                          "from the notice; left unchanged", evidence, title, url)
            return
        proposals.write(path, unverified, raw)
        proposals.add("proposed", file, f"{year} arrangement replaced (the file was "
                      "unverified)", evidence, title, url)
        return
    proposals.write(path, unverified, None)
    proposals.add("proposed", file, f"{year} arrangement (new file, verified: false)",
                  evidence, title, url)


def _arrangement(data: dict) -> list:
    return data.get("holidays") or []


def with_unverified(text: str) -> str:
    """The calendar file text with ``verified: false`` (harvest never verifies)."""
    lines = text.splitlines(keepends=True)
    kept = [line for line in lines if not line.startswith("verified:")]
    at = next((i for i, line in enumerate(kept) if line.startswith("year:")), -1) + 1
    return "".join(kept[:at] + ["verified: false\n"] + kept[at:])
