"""The files of a unit as its page makers list them, each with its key and how to render it,
and the renderings that province and site-wide units share (pages, feeds, JSON records)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Callable, Protocol

from erjian.site.feeds import atom_feed
from erjian.site.keys import digest
from erjian.site.render import Renderer


class FileSink(Protocol):
    """Where a unit's rendered files go: the build's erjian.output.incremental.UnitWriter
    (staged on disk) or ``check``'s, which drops them. (The preview's memory destination
    keeps each file's maker instead: see erjian.output.session.MemoryFiles.)"""

    def needs(self, path: str, key: str) -> bool:
        """Registers ``path``; False when a file with this key is already there."""

    def store(self, path: str, key: str, content: str | bytes) -> None:
        """Keeps the rendered ``content`` of ``path``."""


class UnitFiles:
    """The files of one unit: each is rendered and staged only when its key shows that it
    changed; every path is remembered, changed or not."""

    def __init__(self, writer: FileSink, fingerprint: str):
        self.writer, self.fingerprint = writer, fingerprint
        self.paths: list[str] = []
        self._calendars: dict[str, tuple] = {}

    def add(self, path: str, key, render: Callable[[], str | bytes]) -> None:
        self.listed(path, key, render)
        file_key = digest(self.fingerprint, path, key)
        if self.writer.needs(path, file_key):
            self.writer.store(path, file_key, render())

    def listed(self, path: str, key, render: Callable[[], str | bytes]) -> None:
        """Remembers ``path`` (and how to publish it again, for a calendar)."""
        self.paths.append(path)
        if path.endswith(".ics"):
            self._calendars[path] = (key, render)

    def copy_calendar(self, source: str, path: str) -> bool:
        """Publishes the calendar file ``source`` of this unit again at ``path`` (an old
        address: calendar apps keep polling the URL they subscribed to, and a static site
        cannot redirect them). False when the unit has no such calendar."""
        if source not in self._calendars:
            return False
        key, render = self._calendars[source]
        self.add(path, ("copy", source, key), render)
        return True


def page(renderer: Renderer, today: dt.date, template: str, page_path: str,
         **context) -> Callable[[], str]:
    """How to render one page of ``template``, for ``UnitFiles.add``."""
    return lambda: renderer.page(template, page_path=page_path, today=today, **context)


def notice_feed(renderer: Renderer, title: str, feed_path: str, site_path: str, notices,
                today: dt.date) -> bytes:
    return atom_feed(title, renderer.abs_url(feed_path), renderer.abs_url(site_path), notices,
                     lambda n: renderer.abs_url(f"notices/{n.slug}/"), renderer.notice_body,
                     today)


def json_record(value) -> str:
    """One compact JSON line (UTF-8 text, no \\u escapes)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
