"""Stage 6 — write: put rendered files in place so that readers never see a half-built site,
and leave files whose content did not change untouched (mtimes included).

Every file that changed is first written into a staging folder beside the output folder. If
anything fails before the commit, the staging folder is deleted and ``output/`` is exactly as it
was. On commit:

- a first build (no output folder yet) renames the staging folder into place;
- a later build moves each changed file over its old version (an atomic rename per file),
  then deletes files the site no longer has.

A manifest (kept outside ``output/``, under ``.cache/``) records for each file the key of the
inputs it was rendered from and the size, mtime and hash of what was written, so an unchanged
page is neither rendered nor written again.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable

MANIFEST_VERSION = 1


@dataclass
class WriteReport:
    written: int = 0
    unchanged: int = 0
    removed: int = 0
    bytes_written: int = 0


class IncrementalOutput:
    """Context manager: ``offer`` every file of the site, then commit on a clean exit."""

    def __init__(self, target: Path, manifest_path: Path):
        self.target = Path(target).absolute()
        self.manifest_path = Path(manifest_path)
        self.report = WriteReport()
        self._stage: Path | None = None
        self._staged: list[str] = []
        self._seen: set[str] = set()
        self._old: dict[str, list] = {}
        self._new: dict[str, list] = {}

    def __enter__(self) -> "IncrementalOutput":
        self.target.parent.mkdir(parents=True, exist_ok=True)
        if self.target.is_dir():
            self._old = _read_manifest(self.manifest_path, self.target)
        self._stage = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.staging-",
                                            dir=self.target.parent))
        return self

    @property
    def stage(self) -> Path:
        return self._stage

    def needs(self, relative: str, key: str) -> bool:
        """Register ``relative`` for this build; False when its key and the file on disk are
        as recorded, so it need not even be rendered."""
        relative = _safe_relative(relative)
        if relative in self._seen:
            raise ValueError(f"two pages want the same file: {relative}")
        self._seen.add(relative)
        old = self._old.get(relative)
        if old and old[0] == key and old[1:3] == self._stat(relative):
            self._new[relative] = old
            self.report.unchanged += 1
            return False
        return True

    def old_digest(self, relative: str) -> str | None:
        """Hash of what is on disk for ``relative``, if the file is as recorded."""
        old = self._old.get(relative)
        return old[3] if old and old[1:3] == self._stat(relative) else None

    def store(self, relative: str, key: str, content: str | bytes) -> None:
        """Stage ``content`` for ``relative`` unless the file already holds those bytes."""
        digest, size, written = stage_file(self._stage, relative, content,
                                           self.old_digest(relative))
        self.record(relative, key, digest, size, written)

    def record(self, relative: str, key: str, digest: str, size: int, written: bool) -> None:
        """Account for a file staged (or found identical) by this or another process."""
        if written:
            self._staged.append(relative)
            self._new[relative] = [key, None, None, digest]
            self.report.written += 1
            self.report.bytes_written += size
        else:
            self._new[relative] = [key, *self._stat(relative), digest]
            self.report.unchanged += 1

    def offer(self, relative: str, key: str, render: Callable[[], str | bytes]) -> None:
        if self.needs(relative, key):
            self.store(relative, key, render())

    def _stat(self, relative: str):
        try:
            st = os.stat(self.target / relative)
        except OSError:
            return None
        return [st.st_size, st.st_mtime_ns]

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is not None:
            shutil.rmtree(self._stage, ignore_errors=True)
            return False
        self._commit()
        return False

    def _commit(self) -> None:
        if not self.target.is_dir():
            os.replace(self._stage, self.target)
            self.target.chmod(0o755)
        else:
            for relative in self._staged:
                destination = self.target / relative
                destination.parent.mkdir(parents=True, exist_ok=True)
                os.replace(self._stage / relative, destination)
            shutil.rmtree(self._stage, ignore_errors=True)
            self._remove_stale()
        for relative in self._staged:
            self._new[relative][1:3] = self._stat(relative)
        _write_manifest(self.manifest_path, self.target, self._new)

    def _remove_stale(self) -> None:
        for folder, dirs, files in os.walk(self.target, topdown=False):
            for name in files:
                path = Path(folder, name)
                if path.relative_to(self.target).as_posix() not in self._seen:
                    path.unlink()
                    self.report.removed += 1
            if folder != str(self.target) and not os.listdir(folder):
                os.rmdir(folder)


def stage_file(stage: Path, relative: str, content: str | bytes,
               old_digest: str | None) -> tuple[str, int, bool]:
    """Write ``content`` under ``stage`` unless its hash equals ``old_digest``; returns
    (hash, size, written). Safe to call from worker processes."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    digest = hashlib.sha256(data).hexdigest()
    if digest == old_digest:
        return digest, len(data), False
    path = Path(stage) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return digest, len(data), True


def _safe_relative(relative: str) -> str:
    """Refuse any page path that could land outside the output folder."""
    path = PurePosixPath(relative)
    if path.is_absolute() or ".." in path.parts or not path.parts or "" in path.parts:
        raise ValueError(f"unsafe output path: {relative!r}")
    return path.as_posix()


def manifest_path_for(cache_dir: Path, target: Path) -> Path:
    """One manifest per output folder, so building into two folders keeps two caches."""
    tag = hashlib.sha256(str(Path(target).absolute()).encode()).hexdigest()[:16]
    return Path(cache_dir) / f"output-{tag}.json"


def _read_manifest(path: Path, target: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if data.get("version") != MANIFEST_VERSION or data.get("target") != str(target):
        return {}
    return data.get("files", {})


def _write_manifest(path: Path, target: Path, files: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({"version": MANIFEST_VERSION, "target": str(target),
                                     "files": files}, sort_keys=True), encoding="utf-8")
    os.replace(temporary, path)
