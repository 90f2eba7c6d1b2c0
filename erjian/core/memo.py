"""A small persistent memo kept in the cache folder, for results that are slow to compute
and fully determined by their key: the pinyin of a name, a working-day calendar built from
given data and library versions. A stale, foreign or unreadable memo is simply started afresh
(``signed`` decides what may be read)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from erjian.core import signed


class Memo:
    def __init__(self, path: Path | None):
        self.path = Path(path) if path else None
        self._data: dict = {}
        self._dirty = False
        if self.path:
            data = signed.load(self.path)
            self._data = data if isinstance(data, dict) else {}

    def get(self, key, compute):
        try:
            return self._data[key]
        except KeyError:
            value = self._data[key] = compute()
            self._dirty = True
            return value

    def save(self) -> None:
        if not (self.path and self._dirty):
            return
        write_pickle(self.path, self._data)
        self._dirty = False


def write_pickle(path: Path, data) -> None:
    """Replace ``path`` with ``data``, signed for this machine, atomically."""
    signed.dump(path, data)


NO_MEMO = Memo(None)


@lru_cache(maxsize=None)
def library_version(name: str) -> str:
    """Identifies the installed copy of a library (its location and modification time),
    without importing it or the slow ``importlib.metadata``."""
    from importlib.util import find_spec

    spec = find_spec(name)
    if spec is None or not spec.origin:
        return "?"
    try:
        return f"{spec.origin}:{os.stat(spec.origin).st_mtime_ns}"
    except OSError:
        return spec.origin
