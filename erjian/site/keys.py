"""Keys: hashes of everything an output file or unit is made from, so that an unchanged
one is neither rendered nor written again (see docs/architecture.md)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import errno
import hashlib
import os
import stat
from pathlib import Path

from erjian.core.layout import SiteLayout
from erjian.dates.planner import RegionView


PACKAGE_DIR = Path(__file__).resolve().parents[1]   # all of erjian/


def site_fingerprint(root: Path, today: dt.date, site_config) -> str:
    """What every file of the site is made from: templates, shared guide text, site settings,
    calendars, the generator's own code and the date."""
    return digest(files_digest(*SiteLayout(root).site_wide_paths(), PACKAGE_DIR),
                  today, site_config)


def digest(*parts) -> str:
    """A key for cache decisions (not for security): BLAKE2b over the parts' reprs."""
    return hashlib.blake2b(repr(parts).encode("utf-8"), digest_size=16).hexdigest()


class Keys:
    """Digests of model objects, each computed once per build (shared objects such as a
    province's cycle or authorities are hashed once, not once per region)."""

    def __init__(self):
        self._memo: dict[int, tuple[object, str]] = {}

    def of(self, value) -> str:
        if value is None or isinstance(value, (str, int, bool, dt.date)):
            return repr(value)
        entry = self._memo.get(id(value))
        if entry is None:
            entry = self._memo[id(value)] = (value, digest(value))
        return entry[1]

    def region(self, view: RegionView) -> str:
        region = view.region
        parts = [self.of(getattr(region, f.name)) for f in dataclasses.fields(region)]
        return digest(parts, self.of(view.cycle), view.next_exam)


def files_digest(*folders_or_files: Path) -> str:
    """Hash of the files (paths and bytes) under the given folders and files."""
    hasher = hashlib.sha256()
    for entry in folders_or_files:
        paths = sorted(p for p in entry.rglob("*") if p.is_file()) if entry.is_dir() else (
            [entry] if entry.exists() else [])
        for path in paths:
            if "__pycache__" in path.parts:
                continue
            hasher.update(path.as_posix().encode())
            hasher.update(_regular_file_digest(path))
    return hasher.hexdigest()


def _regular_file_digest(path: Path) -> bytes:
    """The SHA-256 of a regular file's bytes. Validation refused FIFOs and devices, but one
    swapped in since must fail this read, not hang it (opened non-blocking, checked open)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "changed into a special file during the build", path)
        return hashlib.file_digest(handle, "sha256").digest()
