"""Incremental output: render only what changed, and publish the new site in one atomic step.

Files belong to *units* (one per province, plus one for the site-wide pages). Each version of
the site on disk has a manifest (see ``owned_folder``: ``versions/<id>/`` in the output's state
folder): per unit, the key of its inputs and a digest of its files; per file, the key of the
inputs it was rendered from and the hash of its bytes. A unit whose key is unchanged is not
even looked at; inside a changed unit, a file whose key is unchanged is not rendered, and a
file rendered to the same bytes is not written.

Files that changed are written to a staging folder. On commit, the new version is assembled in
the spare tree (the previous version, sharing unchanged files with ``output/`` by hard links):
changed files moved in from staging, files unchanged since ``output/`` linked from it, files
the site no longer has deleted. Then the spare and ``output/`` are exchanged atomically. If
anything fails or the process dies before that, ``output/`` is untouched and the next build
finds its manifest exactly as it was; a spare left half-updated has no marker and is rebuilt.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from erjian.core import signed
from erjian.core.layout import PROTECTED
from erjian.output import drift
from erjian.output import owned_folder
from erjian.output.owned_folder import fault
from erjian.site.province_unit import UnitProducts

# 5: products are UnitProducts and entries ManifestEntry; an index of another format is not
# read at all, so a cache written by an older generator is ignored, never misread.
MANIFEST_FORMAT = 5


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    """A file's entry (the key of its inputs, the hash of its bytes; no hash yet while only
    registered) or a unit's (its key, the digest of its files' content)."""

    key: str
    digest: str | None

    def __reduce__(self):
        # Pickled as the class (stored once per file, then referred to) and two strings:
        # no field names, so a national manifest is hardly bigger than with plain tuples.
        return ManifestEntry, (self.key, self.digest)


@dataclass
class WriteReport:
    written: int = 0
    unchanged: int = 0
    removed: int = 0
    bytes_written: int = 0


class Manifest:
    """What one version of the site holds, stored as one small signed file per unit.

    Each file is bound to what it describes, so that a signed file copied from another version
    is not believed: the index records the version id (which must be the marker's), and each
    unit's files and products record the unit's key and content digest (which must be the
    index's)."""

    def __init__(self, folder: Path | None, version: str | None = None):
        self.folder, self.version = folder, version
        index = signed.load(folder / "index.pickle") if folder else None
        self.known = (isinstance(index, dict) and index.get("format") == MANIFEST_FORMAT
                      and index.get("version") == version)
        self.units: dict[str, ManifestEntry] = dict(index["units"]) if self.known else {}
        self._files: dict[str, dict] = {}

    @property
    def unit_keys(self) -> dict[str, str]:
        return {unit: entry.key for unit, entry in self.units.items()}

    def files(self, unit: str) -> dict:
        """{path: ManifestEntry} of a unit, None when not recorded truly."""
        if unit not in self._files:
            data = self._bound(unit, "unit")
            self._files[unit] = data if isinstance(data, dict) else None
        return self._files[unit]

    def products(self, unit: str):
        return self._bound(unit, "products")

    def all_files(self) -> dict[str, tuple[str, str]]:
        """{path: (unit, digest)} over every unit."""
        return {path: (unit, entry.digest) for unit in self.units
                for path, entry in (self.files(unit) or {}).items()}

    def _bound(self, unit: str, prefix: str):
        if not self.known or unit not in self.units:
            return None
        data = signed.load(self.folder / f"{prefix}-{_tag(unit)}.pickle")
        if not isinstance(data, dict) or data.get("unit") != (unit, self.units[unit]):
            return None
        return data["data"]


def save_manifest(folder: Path, version: str, units: dict, files: dict, products: dict,
                  previous: Manifest | None = None) -> None:
    """Write a version's manifest: ``files``/``products`` for the units given, hard links to
    ``previous``'s files for the others, the index last."""
    folder.mkdir(parents=True, exist_ok=True)
    for unit in units:
        tag = _tag(unit)
        for prefix, fresh in (("unit", files), ("products", products)):
            path = folder / f"{prefix}-{tag}.pickle"
            if unit in fresh:
                signed.dump(path, {"unit": (unit, units[unit]), "data": fresh[unit]})
            elif previous is not None and previous.folder != folder:
                owned_folder.place_link(previous.folder / f"{prefix}-{tag}.pickle", path)
    signed.dump(folder / "index.pickle", {"format": MANIFEST_FORMAT, "version": version,
                                          "units": units})


def unit_content(files: dict) -> str:
    """A digest of a unit's paths and bytes (not of its keys)."""
    hasher = hashlib.blake2b(digest_size=16)
    for path in sorted(files):
        hasher.update(f"{path}\0{files[path].digest}\n".encode())
    return hasher.hexdigest()


def version_id(units: dict) -> str:
    """Names a version by its content, so that equal sites get equal markers."""
    hasher = hashlib.blake2b(digest_size=12)
    for unit in sorted(units):
        hasher.update(f"{unit}\0{units[unit].digest}\n".encode())
    return hasher.hexdigest()


def check_target(target: Path, root: Path | None) -> None:
    """Raise UserError unless the generator may own ``target`` (see publish)."""
    owned_folder.refuse_unsafe_target(Path(os.path.abspath(target)), root, PROTECTED)


class IncrementalOutput:
    """Context manager: declare units and files, then publish them on a clean exit.

    ``root`` is the repository, which (with its input folders) may never be the output."""

    def __init__(self, target: Path, clean: bool = False, root: Path | None = None,
                 protected: tuple[str, ...] = PROTECTED, stream=None):
        self.target = Path(os.path.abspath(target))
        self.root, self.protected = root, protected
        self.state = owned_folder.state_folder(self.target)
        self.clean = clean
        self.stream = stream or sys.stderr
        self.report = WriteReport()
        self._stage: Path | None = None
        self._lock: owned_folder.BuildLock | None = None
        self._staged: list[str] = []
        self._units: dict[str, ManifestEntry] = {}
        self._new: dict[str, dict] = {}
        self._products: dict[str, UnitProducts] = {}
        self._damaged: dict[str, set[str]] = {}     # unit -> files to write again
        self._strays: list[str] = []
        self._inodes: dict[str, int] = {}           # output's files, as checked
        self._restamped: drift.Snapshot | None = None
        self.manifest: Manifest | None = None

    # -- setting up ------------------------------------------------------------------------

    def __enter__(self) -> "IncrementalOutput":
        # Again: time passed since the command line was read.
        owned_folder.refuse_unsafe_target(self.target, self.root, self.protected)
        owned_folder.refuse_links_in_state(self.target, self.state)
        with _explained():
            self.state.mkdir(parents=True, exist_ok=True)
            self._lock = owned_folder.BuildLock(self.state / "lock").__enter__()
        try:
            with _explained():
                self._recover()
                version = None if self.clean else owned_folder.read_marker(self.target)
                self.manifest = Manifest(self._version_folder(version) if version else None,
                                         version)
                if self.manifest.known:
                    self._check_output()
                self._stage = Path(tempfile.mkdtemp(prefix="stage-", dir=self.state))
        except BaseException:
            self._release()
            raise
        return self

    def _recover(self) -> None:
        """Finish what an interrupted build left: a half-done swap, staging folders, the
        staging and old folders of earlier versions of the generator."""
        owned_folder.finish_interrupted_swap(self.target, self.state)
        for entry in self.state.iterdir():
            if entry.name.startswith(("stage-", "trash-")) or entry.name == "swap-old":
                owned_folder.remove_tree(entry)
        legacy = (f".{self.target.name}.staging-", f".{self.target.name}.old-")
        for entry in self.target.parent.iterdir():
            if entry.name.startswith(legacy) and entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)

    def _version_folder(self, version: str) -> Path:
        return self.state / "versions" / version

    def _check_output(self) -> None:
        """Compare ``output/`` with its manifest (see ``drift``): files changed, deleted or
        added behind the build's back are written again or removed by this build."""
        folder, version = self.manifest.folder, self.manifest.version
        snapshot = drift.load(folder, version) or drift.unknown(version,
                                                                self.manifest.all_files())
        found = drift.compare(self.target, snapshot, ignore=(owned_folder.MARKER,))
        if found.links:
            raise owned_folder.link_refused(self.target / found.links[0])
        self._inodes = found.inodes
        self._strays = sorted(found.strays)
        recorded = self.manifest.all_files() if (found.suspect or found.missing) else {}
        if set(snapshot.files) != set(recorded or snapshot.files):
            found.missing.extend(set(recorded) - set(snapshot.files))
        edited = [p for p in found.suspect
                  if p not in recorded or _file_hash(self.target / p) != recorded[p][1]]
        for path in (*edited, *found.missing):
            if path in recorded:
                self._damaged.setdefault(recorded[path][0], set()).add(path)
        restamp = set(found.suspect) - set(edited)
        if restamp:
            self._restamped = drift.take(self.target, snapshot.files, version)
        self._note_repairs(sorted(edited), sorted(found.missing))

    def _note_repairs(self, edited: list[str], missing: list[str]) -> None:
        shown = self.target.name
        for paths, what in ((edited, "changed since the last build (edited by hand?); "
                                     "written again"),
                            (missing, "deleted since the last build; written again"),
                            (self._strays, "not made by the generator; removed (output/ "
                                           "holds only what the generator makes: add other "
                                           "files when deploying, or as assets in "
                                           "templates/static/, published under static/)")):
            if paths:
                listed = ", ".join(f"{shown}/{p}" for p in paths[:5])
                more = f" and {len(paths) - 5} more" if len(paths) > 5 else ""
                print(f"note: {listed}{more}: {what}", file=self.stream)

    # -- units -----------------------------------------------------------------------------

    def keep_unit(self, unit: str, unit_key: str):
        """The unit's products from the last build if its key is unchanged (its files are then
        kept as they are), else None."""
        recorded = self.manifest.units.get(unit)
        if (recorded is None or recorded.key != unit_key or unit in self._damaged
                or self.manifest.files(unit) is None):
            return None
        products = self.manifest.products(unit)
        if not isinstance(products, UnitProducts):
            return None
        self._units[unit] = recorded
        self.report.unchanged += len(products.paths)
        return products

    def unit_writer(self, unit: str, unit_key: str) -> "UnitWriter":
        old = self.manifest.files(unit) or {}
        damaged = self._damaged.get(unit)
        if damaged:
            old = {path: entry for path, entry in old.items() if path not in damaged}
        return UnitWriter(unit, unit_key, self._stage, old)

    def merge(self, result: "UnitResult") -> None:
        """Take over what a unit writer (in this process or a worker) did."""
        if result.unit in self._new:
            raise ValueError(f"unit built twice: {result.unit}")
        self._units[result.unit] = ManifestEntry(result.unit_key, unit_content(result.files))
        self._new[result.unit] = result.files
        self._products[result.unit] = result.products
        self._staged.extend(result.staged)
        self.report.written += result.written
        self.report.unchanged += result.unchanged
        self.report.bytes_written += result.bytes_written

    # -- publishing ------------------------------------------------------------------------

    def __exit__(self, exc_type, exc, tb) -> bool:
        try:
            if exc_type is None:
                with _explained():
                    self._commit()
        finally:
            if self._stage is not None:
                shutil.rmtree(self._stage, ignore_errors=True)
            self._release()
        return False

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.__exit__(None, None, None)
            self._lock = None

    def _commit(self) -> None:
        old = self.manifest
        if old.known and self._same_content(old) and not self._strays:
            # Only keys changed (the bytes are as they were): record them for this version.
            save_manifest(old.folder, old.version, self._units, self._new, self._products)
            if self._restamped is not None:
                drift.save(old.folder, self._restamped)
            return
        version = version_id(self._units)
        fault("before-manifest")
        save_manifest(self._version_folder(version), version, self._units, self._new,
                      self._products, old if old.known else None)
        if not old.known:
            self._publish_stage(version)
        else:
            self._publish_spare(version)
        drift.save(self._version_folder(version), drift.take(self.target, self._paths(),
                                                             version))
        self._forget_versions()

    def _same_content(self, old: Manifest) -> bool:
        return (not self._staged and set(self._units) == set(old.units)
                and all(self._units[u].digest == old.units[u].digest for u in self._units))

    def _paths(self) -> dict[str, str]:
        """{path: hash} of every file of the new version."""
        return {path: entry.digest for unit in self._units
                for path, entry in self._files_of(unit).items()}

    def _publish_stage(self, version: str) -> None:
        """Everything was rendered into the staging folder: it becomes the output."""
        owned_folder.write_marker(self._stage, version)
        self._stage.chmod(0o755)
        fault("before-switch")
        previous = owned_folder.switch(self._stage, self.target, self.state)
        self._stage = None
        fault("after-switch")
        if previous is None:
            return
        if owned_folder.read_marker(previous) is None:
            owned_folder.remove_tree(previous)
            return
        spare = self.state / "spare"
        owned_folder.remove_tree(spare)
        os.rename(previous, spare)

    def _publish_spare(self, version: str) -> None:
        """Bring the spare tree to the new version, then exchange it with the output. Every
        file of the new tree is either written by this build or the very file ``output/``
        holds and this build checked; nothing else of the spare is kept."""
        spare = self.state / "spare"
        if not spare.is_dir():
            spare.mkdir()
        owned_folder.remove_marker(spare)
        fault("spare-unmarked")
        owned_folder.sync_tree(spare, set(self._paths()), set(self._staged), self._stage,
                          self.target, self._inodes, halfway=lambda: fault("spare-half"))
        self.report.removed = len(self._removed_since(self.manifest))
        owned_folder.write_marker(spare, version)
        fault("before-switch")
        owned_folder.switch(spare, self.target, self.state)
        fault("after-switch")

    def _differing(self, base: Manifest) -> tuple[dict, dict]:
        """{path: hash} before (in ``base``) and after (in the new version), over the units
        whose content differs: the only places the two versions can differ."""
        changed = [u for u in set(self._units) | set(base.units)
                   if _content(self._units.get(u)) != _content(base.units.get(u))]
        before: dict[str, str] = {}
        after: dict[str, str] = {}
        for unit in changed:
            if unit in base.units:
                before.update((p, e.digest) for p, e in (base.files(unit) or {}).items())
            if unit in self._units:
                after.update((p, e.digest) for p, e in self._files_of(unit).items())
        return before, after

    def _files_of(self, unit: str) -> dict[str, ManifestEntry]:
        return self._new[unit] if unit in self._new else self.manifest.files(unit)

    def _removed_since(self, base: Manifest) -> set:
        before, after = self._differing(base)
        return set(before) - set(after)

    def _forget_versions(self) -> None:
        """Keep the manifest of the output, nothing else."""
        keep = owned_folder.read_marker(self.target)
        for entry in (self.state / "versions").iterdir():
            if entry.name != keep:
                owned_folder.remove_tree(entry)


def _content(entry: ManifestEntry | None) -> str | None:
    return entry.digest if entry else None


@contextlib.contextmanager
def _explained():
    """A file or folder the build may not change, named with why (immutable, not writable)."""
    try:
        yield
    except PermissionError as exc:
        explained = owned_folder.not_permitted(exc)
        if explained is None:
            raise
        raise explained from None


def _file_hash(path: Path) -> str | None:
    """The hash of the file at ``path`` (not through a symbolic link), None if unreadable."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


@dataclass
class UnitResult:
    unit: str
    unit_key: str
    files: dict[str, ManifestEntry]
    staged: list
    written: int
    unchanged: int
    bytes_written: int
    products: UnitProducts


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
        if old and old.key == key:
            self.files[relative] = old
            self.unchanged += 1
            return False
        self.files[relative] = ManifestEntry(key, None)
        return True

    def store(self, relative: str, key: str, content) -> None:
        old = self.old.get(relative)
        digest, size, written = stage_file(self.stage, relative, content,
                                           old.digest if old else None)
        self.files[relative] = ManifestEntry(key, digest)
        if written:
            self.staged.append(relative)
            self.written += 1
            self.bytes_written += size
        else:
            self.unchanged += 1

    def result(self, products: UnitProducts) -> UnitResult:
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
    fault("staged")
    return digest, len(data), True


def _check_relative(relative: str) -> None:
    """Refuse any page path that could land outside the output folder."""
    parts = relative.split("/")
    if (not relative or relative.startswith("/") or "\\" in relative or ".." in parts
            or "" in parts or "." in parts or relative == owned_folder.MARKER):
        raise ValueError(f"unsafe output path: {relative!r}")


def _tag(unit: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in unit)
