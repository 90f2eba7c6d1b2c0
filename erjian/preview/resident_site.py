"""The resident site behind the live preview, in the manner of ``hugo server``: the input is
read once and then only where files changed, pages are rendered when they are asked for (the
ones open in a browser first) and served from memory. Nothing is written to disk, so the
preview never touches what gets published.

Each state of the input is a ``Generation``. A province whose unit key (its folder, the
notices about it, and everything shared: templates, guide text, site settings, calendars,
the generator's code, the date) did not change keeps its page makers and rendered pages from
the previous generation, exactly as the build keeps the unit's files.
"""

from __future__ import annotations

import datetime as dt
import errno
import os
from functools import cached_property
from pathlib import Path

from jinja2.bccache import BytecodeCache

from erjian.core import signed
from erjian.core.errors import Problem, display_path
from erjian.core.file_kinds import special_kind
from erjian.core.memo import Memo
from erjian.input.read_files import outside_problem, outside_root, special_problem
from erjian.input.validate import InputCache
from erjian.output.jobs import SITE_UNIT
from erjian.output.session import BuildSession, MemoryDestination, MemoryFiles
from erjian.site.warnings import site_findings


class MemoryBytecode(BytecodeCache):
    """Jinja's compiled templates kept in memory across generations (Jinja checks each
    against its template's current source, so an edited template is compiled again)."""

    def __init__(self):
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


class Unit:
    """A unit's files in memory (see ``session.MemoryFiles``) and, once a site-wide page
    needed them, its products."""

    def __init__(self, key: str, files: MemoryFiles, products: dict | None = None):
        self.key, self.files, self.products = key, files, products

    def page(self, path: str) -> bytes | None:
        return self.files.content(path)


class Generation:
    """One state of the input (a ``session.BuildSession``), able to render any page of the
    site into memory."""

    def __init__(self, root: Path, today: dt.date, base_url: str | None,
                 inputs: InputCache, memo: Memo, previous: "Generation | None" = None,
                 bytecode=None):
        self.root, self.today = Path(root), today
        self.session = BuildSession(self.root, today, base_url, inputs=inputs, memo=memo,
                                    bytecode=bytecode)
        self.site = self.session.site
        self.destination = MemoryDestination()
        self.units: dict[str, Unit] = {}
        self._keep_unchanged(previous)

    @cached_property
    def warnings(self):
        """The warnings ``check`` and the build report: the loader's and every province's."""
        return [f.problem for f in site_findings(self.site, self.session.makers.planner,
                                                 self.today)]

    def _keep_unchanged(self, previous: "Generation | None") -> None:
        if previous is None:
            return
        for slug in self.site.input.provinces:
            kept = previous.units.get(slug)
            if kept is not None and kept.key == self.session.unit_key(slug):
                self.units[slug] = kept

    def unit_of(self, path: str) -> str:
        """The unit that writes ``path`` (a province's, or the site-wide one)."""
        first, _, rest = path.partition("/")
        return first if rest and first in self.site.input.provinces else SITE_UNIT

    def unit(self, name: str) -> Unit:
        if name not in self.units:
            self.units[name] = (self._site_unit() if name == SITE_UNIT
                                else self._province_unit(name))
        return self.units[name]

    def _province_unit(self, slug: str) -> Unit:
        files, _ = self.session.province_files(self.destination, slug, products=False)
        return Unit(self.session.unit_key(slug), files)

    def products(self, slug: str) -> dict:
        """What province ``slug`` contributes to the site-wide pages (worked out once)."""
        unit = self.unit(slug)
        if unit.products is None:
            unit.products = self.session.province_files(self.destination, slug)[1]
        return unit.products

    def _site_unit(self) -> Unit:
        products = [self.products(p.slug) for p in self.site.provinces]
        files = self.session.site_files(self.destination, products)
        return Unit(self.session.fingerprint, files)

    def page(self, path: str) -> bytes | None:
        """The bytes the build would write at ``path`` (None when the site has no such
        file); static assets are read from templates/static/ as they are now."""
        if path.startswith("static/"):
            return static_file(self.root, path[len("static/"):])
        return self.unit(self.unit_of(path)).page(path)


def static_file(root: Path, name: str) -> bytes | None:
    """templates/static/<name> as the build copies it (None when there is no such file, or
    when it is refused: see ``static_asset``)."""
    return static_asset(root, name)[0]


MAX_STATIC_BYTES = 64 << 20   # a stylesheet, a script, an icon: far less


def static_asset(root: Path, name: str) -> tuple[bytes | None, Problem | None]:
    """(templates/static/<name>, None); (None, None) when there is no such file directly in
    that folder; (None, why) when it is refused: reached through a symbolic link that leaves
    the site's folder, not a regular file, or too large. A link inside the site is followed,
    as the build follows it; the file is then opened one folder at a time from the site's
    folder without following any link, so a link swapped in after the check is not followed
    either."""
    if "/" in name or name.startswith(".") or not name:
        return None, None
    root = Path(root)
    path = root / "templates" / "static" / name
    if outside_root(path, root):
        link = _first_link(root, path)
        return None, outside_problem(link, display_path(link, root))
    display = display_path(path, root)
    try:
        fd = _open_beneath(root, path)
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            return None, Problem(display, None, None, "was replaced (by a symbolic link or "
                                 "another kind of file) while the preview opened it; it was "
                                 "not opened", "reload the page")
        return None, Problem(display, None, None, f"cannot be read: {exc.strerror}")
    try:
        return _regular_content(fd, display)
    finally:
        os.close(fd)


def _first_link(root: Path, path: Path) -> Path:
    """The first symbolic link on the way from ``root`` to ``path`` (``path`` when none)."""
    here = root
    for part in path.relative_to(root).parts:
        here = here / part
        if here.is_symlink():
            return here
    return path


def _open_beneath(root: Path, path: Path) -> int:
    """A read-only descriptor of ``path``, reached from ``root`` through the real folders of
    its real path, none of them (nor the file) opened through a link."""
    base = os.path.realpath(root)
    parts = Path(os.path.relpath(os.path.realpath(path), base)).parts
    if ".." in parts:   # the path left the site since it was checked
        raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), str(path))
    folder = os.open(base, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for part in parts[:-1]:
            inner = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC,
                            dir_fd=folder)
            os.close(folder)
            folder = inner
        return os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY
                       | os.O_CLOEXEC, dir_fd=folder)
    finally:
        os.close(folder)


def _regular_content(fd: int, display: str) -> tuple[bytes | None, Problem | None]:
    kind = special_kind(os.fstat(fd).st_mode)
    if kind:
        return None, special_problem(display, kind)
    with os.fdopen(fd, "rb", closefd=False) as handle:
        content = handle.read(MAX_STATIC_BYTES + 1)
    if len(content) > MAX_STATIC_BYTES:
        return None, Problem(display, None, None,
                             f"is over the {MAX_STATIC_BYTES:,}-byte limit for a static file",
                             "check that it is the file you meant to add")
    return content, None


class ResidentSite:
    """The preview's site across edits: one generation at a time, with what the next can
    reuse (parsed inputs, the memo, unchanged units)."""

    def __init__(self, root: Path, today: dt.date, base_url: str | None,
                 cache_dir: Path | None = None):
        self.root, self.today, self.base_url = Path(root), today, base_url
        signed.never_trust_keys_under(self.root)   # before the first cache read
        cache_dir = Path(cache_dir or os.environ.get("ERJIAN_CACHE") or self.root / ".cache")
        self.inputs = InputCache(cache_dir)
        self.memo = Memo(cache_dir / "memo.pickle")
        self.bytecode = MemoryBytecode()
        self.current: Generation | None = None

    def refresh(self) -> Generation:
        """Reads the input again (only changed files are parsed); raises SiteError."""
        self.current = Generation(self.root, self.today, self.base_url, self.inputs,
                                  self.memo, self.current, self.bytecode)
        return self.current
