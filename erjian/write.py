"""Stage 6 — write: put rendered files in place so that readers never see a half-built site,
and leave files whose content did not change untouched (mtimes included).

Every file that changed is first written into a staging folder beside the output folder. If
anything fails before the commit, the staging folder is deleted and ``output/`` is exactly as it
was. On commit, a first build (or ``clean``) renames the staging folder into place; a later
build moves each changed file over its old version (an atomic rename per file), then deletes
the files the site no longer has.

Files belong to *units* (one per province, plus one for the site-wide pages). A manifest kept
outside ``output/`` (under ``.cache/``) records each unit's key and, per file, the key of the
inputs it was rendered from and the hash of what was written. A unit whose key is unchanged is
not even looked at; inside a changed unit, a file whose key is unchanged is not rendered, and a
file rendered to the same bytes is not written. ``output/`` is taken to belong to the
generator: a file changed there by hand is only restored by a ``--clean`` build.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .memo import write_pickle

MANIFEST_VERSION = 2


@dataclass
class WriteReport:
    written: int = 0
    unchanged: int = 0
    removed: int = 0
    bytes_written: int = 0


class Manifest:
    """Per-unit records of what ``target`` holds, stored as one small file per unit."""

    def __init__(self, folder: Path, target: Path, fresh: bool):
        self.folder = Path(folder)
        self.target = target
        index = None if fresh else _load(self.folder / "index.pickle")
        valid = (isinstance(index, dict) and index.get("version") == MANIFEST_VERSION
                 and index.get("target") == str(target))
        self.known = valid
        self.unit_keys: dict[str, str] = index["units"] if valid else {}
        self._files: dict[str, dict] = {}

    def files(self, unit: str) -> dict:
        """{path: (key, digest)} of a unit, as the last build left it."""
        if unit not in self._files:
            data = _load(self.folder / f"unit-{_tag(unit)}.pickle") if self.known else None
            self._files[unit] = data if isinstance(data, dict) else {}
        return self._files[unit]

    def products(self, unit: str):
        return _load(self.folder / f"products-{_tag(unit)}.pickle") if self.known else None

    def save(self, unit_keys: dict, files: dict, products: dict) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        for unit, entries in files.items():
            write_pickle(self.folder / f"unit-{_tag(unit)}.pickle", entries)
        for unit, data in products.items():
            write_pickle(self.folder / f"products-{_tag(unit)}.pickle", data)
        for unit in set(self.unit_keys) - set(unit_keys):
            for prefix in ("unit", "products"):
                (self.folder / f"{prefix}-{_tag(unit)}.pickle").unlink(missing_ok=True)
        write_pickle(self.folder / "index.pickle", {"version": MANIFEST_VERSION,
                                             "target": str(self.target), "units": unit_keys})


class IncrementalOutput:
    """Context manager: declare units and files, then commit on a clean exit."""

    def __init__(self, target: Path, cache_dir: Path, clean: bool = False):
        self.target = Path(target).absolute()
        self.cache_dir = Path(cache_dir)
        self.clean = clean or not self.target.is_dir()
        self.report = WriteReport()
        self._stage: Path | None = None
        self._staged: list[str] = []
        self._unit_keys: dict[str, str] = {}
        self._new: dict[str, dict] = {}
        self._products: dict[str, object] = {}
        self.manifest: Manifest | None = None

    def __enter__(self) -> "IncrementalOutput":
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self.manifest = Manifest(manifest_folder(self.cache_dir, self.target), self.target,
                                 fresh=self.clean)
        self._stage = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.staging-",
                                            dir=self.target.parent))
        return self

    def keep_unit(self, unit: str, unit_key: str):
        """The unit's products from the last build if its key is unchanged (its files are then
        kept as they are), else None."""
        if self.manifest.unit_keys.get(unit) != unit_key:
            return None
        products = self.manifest.products(unit)
        if products is None:
            return None
        self._unit_keys[unit] = unit_key
        self.report.unchanged += len(products.get("paths", ()))
        return products

    def unit_key(self, unit: str) -> str:
        return self._unit_keys[unit]

    def unit_writer(self, unit: str, unit_key: str) -> "UnitWriter":
        return UnitWriter(unit, unit_key, self._stage, self.manifest.files(unit))

    def merge(self, result: "UnitResult") -> None:
        """Take over what a unit writer (in this process or a worker) did."""
        if result.unit in self._new:
            raise ValueError(f"unit built twice: {result.unit}")
        self._unit_keys[result.unit] = result.unit_key
        self._new[result.unit] = result.files
        self._products[result.unit] = result.products
        self._staged.extend(result.staged)
        self.report.written += result.written
        self.report.unchanged += result.unchanged
        self.report.bytes_written += result.bytes_written

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is not None:
            shutil.rmtree(self._stage, ignore_errors=True)
            return False
        self._commit()
        return False

    def _commit(self) -> None:
        if self.clean:
            old = None
            if self.target.exists():
                old = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.old-",
                                            dir=self.target.parent))
                os.rmdir(old)
                os.replace(self.target, old)
            os.replace(self._stage, self.target)
            self.target.chmod(0o755)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        else:
            for relative in self._staged:
                destination = self.target / relative
                destination.parent.mkdir(parents=True, exist_ok=True)
                os.replace(self._stage / relative, destination)
            shutil.rmtree(self._stage, ignore_errors=True)
            self._remove_stale()
        self.manifest.save(self._unit_keys, self._new, self._products)

    def _remove_stale(self) -> None:
        if not self.manifest.known:
            self._remove_unlisted()
            return
        stale = []
        for unit in set(self.manifest.unit_keys) | set(self._new):
            if unit in self._unit_keys and unit not in self._new:
                continue  # kept as a whole
            old = self.manifest.files(unit)
            new = self._new.get(unit, {})
            stale.extend(path for path in old if path not in new)
        produced = {path for files in self._new.values() for path in files}
        folders = set()
        for relative in sorted(stale):
            if relative in produced:
                continue  # moved to another unit
            path = self.target / relative
            if path.exists():
                path.unlink()
                self.report.removed += 1
                folders.add(path.parent)
        for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
            while folder != self.target and folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
                folder = folder.parent

    def _remove_unlisted(self) -> None:
        """Without a manifest (so every unit was rebuilt): delete whatever this build did
        not produce."""
        produced = {path for files in self._new.values() for path in files}
        for folder, dirs, files in os.walk(self.target, topdown=False):
            for name in files:
                path = Path(folder, name)
                if path.relative_to(self.target).as_posix() not in produced:
                    path.unlink()
                    self.report.removed += 1
            if folder != str(self.target) and not os.listdir(folder):
                os.rmdir(folder)


@dataclass
class UnitResult:
    unit: str
    unit_key: str
    files: dict
    staged: list
    written: int
    unchanged: int
    bytes_written: int
    products: object


class UnitWriter:
    """The files of one unit being rebuilt: says which need rendering and stages those whose
    bytes changed. Works the same in a worker process; ``result()`` travels back."""

    def __init__(self, unit: str, unit_key: str, stage: Path, old: dict):
        self.unit, self.unit_key, self.stage, self.old = unit, unit_key, stage, old
        self.files: dict = {}
        self.staged: list = []
        self.written = self.unchanged = self.bytes_written = 0

    def needs(self, relative: str, key: str) -> bool:
        """Register ``relative``; False when its key is as recorded (not even rendered)."""
        _check_relative(relative)
        if relative in self.files:
            raise ValueError(f"two pages want the same file: {relative}")
        old = self.old.get(relative)
        if old and old[0] == key:
            self.files[relative] = old
            self.unchanged += 1
            return False
        self.files[relative] = (key, None)
        return True

    def store(self, relative: str, key: str, content) -> None:
        old = self.old.get(relative)
        digest, size, written = stage_file(self.stage, relative, content,
                                           old[1] if old else None)
        self.files[relative] = (key, digest)
        if written:
            self.staged.append(relative)
            self.written += 1
            self.bytes_written += size
        else:
            self.unchanged += 1

    def result(self, products) -> UnitResult:
        return UnitResult(self.unit, self.unit_key, self.files, self.staged, self.written,
                          self.unchanged, self.bytes_written, products)


def stage_file(stage: Path, relative: str, content: str | bytes,
               old_digest: str | None) -> tuple[str, int, bool]:
    """Write ``content`` under ``stage`` unless its hash equals ``old_digest``; returns
    (hash, size, written)."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    digest = hashlib.sha256(data).hexdigest()
    if digest == old_digest:
        return digest, len(data), False
    path = Path(stage) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return digest, len(data), True


def _check_relative(relative: str) -> None:
    """Refuse any page path that could land outside the output folder."""
    parts = relative.split("/")
    if (not relative or relative.startswith("/") or "\\" in relative or ".." in parts
            or "" in parts or "." in parts):
        raise ValueError(f"unsafe output path: {relative!r}")


def manifest_folder(cache_dir: Path, target: Path) -> Path:
    """One manifest per output folder, so building into two folders keeps two caches."""
    tag = hashlib.sha256(str(Path(target).absolute()).encode()).hexdigest()[:16]
    return Path(cache_dir) / f"output-{tag}"


def _tag(unit: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in unit)


def _load(path: Path):
    try:
        with open(path, "rb") as handle:
            return pickle.load(handle)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        return None


