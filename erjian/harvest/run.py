"""``python build.py harvest``: check every watched source, propose what is new, report.

``--from-file FILE [--url URL]`` reads one saved notice the same way. ``--state DIR`` keeps
the ETag / Last-Modified of each page and the notices already read (default .cache/harvest,
outside output/). The report is written to DIR/report.md and printed. Exit code: 0, or 2
when a notice disagrees with a confirmed fact (a conflict), 1 for bad input.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import ssl
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from erjian.editor.verify_links import (Settings, allowed_networks, checked_resolve,
                                        decode_page)
from erjian.harvest import propose
from erjian.harvest.fetch import MAX_PAGE, PoliteFetcher, USER_AGENT
from erjian.harvest.report import SourceStatus, report
from erjian.harvest.sources import (listed_notices, looks_like_html, notice_text,
                                    watched_pages)

CONFLICT_EXIT = 2
HOLIDAY_WORDS = "节假日安排"


@dataclass
class Harvest:
    """One run: the site, where proposals go, what was fetched, what was found."""

    root: Path
    site: object
    fetcher: PoliteFetcher | None
    seen: dict
    today: dt.date

    def __post_init__(self):
        self.proposals = propose.Proposals()
        self.statuses: list[SourceStatus] = []

    def watch(self, watched) -> None:
        """Read one watched page and every new notice it links."""
        answer = self.fetcher.get(watched.url)
        if answer.outcome == "unchanged":
            return self._status(watched, "unchanged")
        if not answer.usable:
            outcome = {"error": "failed", "http": "failed", "too large": "failed"}.get(
                answer.outcome, answer.outcome)
            return self._status(watched, outcome, answer.detail)
        listed = listed_notices(answer.text, answer.final_url, watched)
        if listed is None:
            self.fetcher.validators.pop(watched.url, None)   # look again next time
            return self._status(watched, "layout changed", f"'{watched.list_selector}' "
                                "matches nothing on the page")
        # oldest first (lists put the newest on top): an exam's days before its later stages
        trouble = [self._notice(watched, item) for item in reversed(listed)
                   if item.url not in self.seen]
        trouble = [t for t in trouble if t]
        if trouble:
            self.fetcher.validators.pop(watched.url, None)
            outcome = "layout changed" if any(t[0] == "layout changed" for t in trouble) \
                else "blocked" if any(t[0] == "blocked" for t in trouble) else "failed"
            return self._status(watched, outcome, "; ".join(f"{t[1]}" for t in trouble))
        self._status(watched, "read")

    def _notice(self, watched, item):
        """Read one linked notice; (outcome, detail) when it could not be read."""
        answer = self.fetcher.get(item.url, conditional=False)
        if answer.outcome == "refused":   # robots.txt or the link policy: skipped on purpose
            self.statuses.append(SourceStatus(item.title, item.url, watched.file, "refused",
                                              answer.detail, notice=True))
            return None
        if not answer.usable:
            outcome = "blocked" if answer.outcome == "blocked" else "failed"
            return outcome, f"{item.url}: {answer.detail}"
        read = notice_text(answer.text, watched.body_selector)
        if read is None:
            return "layout changed", (f"{item.url}: '{watched.body_selector}' matches nothing "
                                      "on the notice")
        self.read(watched, item.title or read[0], read[1], item.url, item.published)
        self.seen[item.url] = self.today.isoformat()
        return None

    def read(self, watched, title: str, text: str, url: str, published) -> None:
        """Propose what one notice's text says."""
        if watched.layer is not None or HOLIDAY_WORDS in title:
            return self._holidays(watched.layer or "national", title, text, url, published)
        from erjian.harvest.notice_text import read_notice

        reading = read_notice(title, text, published)
        if not reading.about_erjian:
            return
        if watched.body is not None:
            return propose.report_body_dates(watched.file,
                                             watched.name, reading, title, url, self.proposals)
        province = self.site.provinces[watched.province]
        propose.propose_exam_dates(self.root, province.file, reading, title, url, published,
                                   self.proposals)
        propose.propose_release(self.root, self.site, province, reading, title, url,
                                published, self.proposals)

    def _holidays(self, layer: str, title: str, text: str, url: str, published) -> None:
        from erjian.harvest.holiday_notice import (UnreadableNotice, calendar_yaml,
                                                   read_holiday_notice)
        from erjian.input.models import Source

        try:
            arrangement = read_holiday_notice(title, text, published)
        except UnreadableNotice as exc:   # reported, never guessed and never a traceback
            self.proposals.add("unplaced", f"calendars/{layer}", f"holiday arrangement not "
                               f"read: {exc}; enter it by hand from the notice", title, title,
                               url)
            return
        source = Source(title=title, document=arrangement.document,
                        published=arrangement.published or published, url=url)
        evidence = next((line for line in text.splitlines()   # "一、元旦：1月1日放假…"
                         if re.match(r"\s*[一二三四五六七八九十]+、.*放假", line)), title)
        propose.propose_calendar(self.root, layer, calendar_yaml(arrangement, source), title,
                                 url, evidence, self.proposals)

    def _status(self, watched, outcome: str, detail: str = "") -> None:
        self.statuses.append(SourceStatus(watched.name, watched.url, watched.file, outcome,
                                          detail))


# --- state ---------------------------------------------------------------------------------

def load_state(folder: Path) -> dict:
    path = folder / "state.json"
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"validators": {}, "seen": {}}
    except (OSError, ValueError):
        from erjian.core.errors import UserError

        raise UserError(f"{path}: the harvest state cannot be read",
                        "delete it (the next run reads every source again) and run again")
    return {"validators": state.get("validators") or {}, "seen": state.get("seen") or {}}


def save_state(folder: Path, validators: dict, seen: dict) -> None:
    text = json.dumps({"validators": validators, "seen": seen}, ensure_ascii=False,
                      indent=1, sort_keys=True)
    propose.write_text(folder / "state.json", text + "\n")


# --- the command -----------------------------------------------------------------------------

def run(root: Path, state: Path, today: dt.date, *, settings: Settings | None = None,
        network: dict | None = None, delay: float | None = None,
        from_file: Path | None = None, url: str | None = None, province: str | None = None,
        out=None, sleep=None) -> int:
    """The harvest command: 0, CONFLICT_EXIT when a notice disagrees with a confirmed fact,
    1 when the input has errors. ``settings`` (tests) or ``network`` (timeout, resolve,
    allow_addresses) set the fetching; ``sleep`` replaces time.sleep for the pauses."""
    from erjian.input.validate import read_site

    out = out or sys.stdout
    loaded = read_site(Path(root))
    if loaded.errors or loaded.site is None:
        for problem in loaded.errors:
            print(problem.format(), file=sys.stderr)
        print("harvest: the input has errors; fix them first (python build.py check)",
              file=sys.stderr)
        return 1
    known = load_state(state)
    fetcher = PoliteFetcher(settings or default_settings(loaded, **(network or {})),
                            known["validators"])
    if delay is not None:
        fetcher.delay = delay
    if sleep is not None:
        fetcher.sleep = sleep
    harvest = Harvest(Path(root), loaded, fetcher, known["seen"], today)
    if from_file is not None:
        _read_file(harvest, from_file, url, province)
    else:
        for watched in watched_pages(loaded):
            harvest.watch(watched)
        save_state(state, fetcher.validators, harvest.seen)
    take_back_refused(Path(root), harvest.proposals)
    harvest.proposals.settle(Path(root))
    text = report(harvest.statuses, harvest.proposals, fetcher.tally)
    propose.write_text(state / "report.md", text)
    print(text, file=out)
    return CONFLICT_EXIT if harvest.proposals.of("conflict") else 0


def take_back_refused(root: Path, proposals) -> None:
    """Validate the data again: a written file the validation now refuses is put back as it
    was (the harvest never leaves the data broken) and its proposals reported as unplaced."""
    from erjian.input.validate import read_site

    if not proposals.originals:
        return
    written = {path.relative_to(root).as_posix() for path in proposals.originals}
    for problem in read_site(root).errors:
        if problem.file in written and root / problem.file in proposals.originals:
            proposals.take_back(root, problem.file, problem.message)


def default_settings(site, **network) -> Settings:
    """The fetching rules for ``site``: its reviewed domains, pages up to MAX_PAGE, the
    harvest's User-Agent; ``network`` sets timeout, resolve, allow_addresses."""
    return Settings(ssl.create_default_context(), tuple(site.site.official_domains),
                    max_body=MAX_PAGE + 1, user_agent=USER_AGENT, **network)


def _read_file(harvest: Harvest, path: Path, url: str | None, province: str | None) -> None:
    """One saved notice (HTML or text) read as if it had been fetched from ``url``."""
    from erjian.core.errors import UserError
    from erjian.harvest.sources import Watched

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UserError(f"--from-file {path}: {exc.strerror or exc}", "give a saved notice")
    text = decode_page(raw, None)
    if looks_like_html(text):
        title, body = notice_text(text, None)
    else:
        title, body = (text.strip().splitlines() or [""])[0], text
    if url is not None:
        from erjian.input.link_policy import official_url_problem

        problem = official_url_problem(url, tuple(harvest.site.site.official_domains))
        if problem:
            raise UserError(f"--url {url}: {problem}", "give the notice's address on the "
                            "official site it was saved from")
    owner, exam_body = _owner_of(harvest.site, url)
    slug = province or owner
    if slug is None and HOLIDAY_WORDS not in title:
        raise UserError(f"--from-file {path}: which province's notice is it?",
                        "add --province <slug>, or --url with the address of the notice on "
                        "a site the province's authorities list")
    if slug is not None and slug not in harvest.site.provinces:
        raise UserError(f"--province {slug}: no such province", "give a folder of regions/")
    exam_body = exam_body if slug == owner else None
    bodies = {b.slug: b.name for b in harvest.site.provinces[slug].exam_bodies} if slug else {}
    watched = Watched(url or path.resolve().as_uri(), path.as_posix(), slug, None,
                      bodies.get(exam_body, path.name), body=exam_body)
    harvest.read(watched, title, body, watched.url, None)


def _owner_of(site, url: str | None) -> tuple[str | None, str | None]:
    """(province slug, exam body slug or None) of the authority whose site (or notice list)
    is on ``url``'s host; (None, None) when no authority's is."""
    host = urlsplit(url or "").hostname
    for province in site.provinces.values():
        owners = [(None, province.authorities)]
        owners += [(body.slug, body.authorities) for body in province.exam_bodies]
        for body, authorities in owners:
            if host and host in _hosts(authorities):
                return province.slug, body
    return None, None


def _hosts(authorities) -> set:
    return {host for authority in authorities
            for host in (urlsplit(authority.url).hostname,
                         *(urlsplit(page.url).hostname for page in authority.notices))}


def command(root: Path, args) -> int:
    """``build.py harvest`` with its parsed arguments."""
    from erjian.core.clock import today_in_china
    from erjian.core.errors import UserError

    if args.url and not args.from_file:
        raise UserError("--url goes with --from-file", "give the saved notice with --from-file")
    network = {"timeout": args.timeout, "resolve": checked_resolve(args),
               "allow_addresses": allowed_networks(args.allow_address)}
    return run(root, args.state or root / ".cache" / "harvest", args.today or today_in_china(),
               network=network, delay=args.delay, from_file=args.from_file, url=args.url,
               province=args.province)
