"""What ``output/`` holds on disk against what the last build left there, the way git's index
notices edited files: a stat snapshot taken right after publishing, compared on the next build.

The snapshot records, per file, size, mtime, ctime and inode (an edit in place, ``sed -i``,
a copy over it or a ``touch -d`` back-dating all change at least one), and per folder its
mtime, ctime and inode (adding or removing an entry changes them). Comparing costs one
``lstat`` per file and per folder; only files whose stat differs are hashed (by the caller,
against the manifest), and only folders whose stat differs are listed to find what does not
belong there.
"""

from __future__ import annotations

import array
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from erjian.core import signed

FILE_NAME = "tree.pickle"


@dataclass
class Snapshot:
    """The stat of every file and folder of one published tree; ``version`` is the marker's
    version it was taken for, so that a snapshot copied from another version is noticed."""

    version: str
    files: dict[str, tuple | None]     # path -> (size, mtime_ns, ctime_ns, inode); None: unknown
    folders: dict[str, tuple | None]   # path ("" for the root) -> (mtime_ns, ctime_ns, inode)


@dataclass
class Drift:
    """How a tree differs from its snapshot."""

    inodes: dict[str, int] = field(default_factory=dict)   # present files -> inode
    suspect: list[str] = field(default_factory=list)       # stat differs: hash to know
    missing: list[str] = field(default_factory=list)
    strays: list[str] = field(default_factory=list)        # entries the generator did not make
    links: list[str] = field(default_factory=list)         # symbolic links: never followed


def folders_of(paths) -> set[str]:
    """Every folder holding one of ``paths`` (relative, '/'-separated), the root as ""."""
    found = {""}
    for path in paths:
        folder = path.rpartition("/")[0]
        while folder not in found:
            found.add(folder)
            folder = folder.rpartition("/")[0]
    return found


def unknown(version: str, paths) -> Snapshot:
    """A snapshot that trusts nothing: every file is hashed, every folder listed."""
    paths = list(paths)
    return Snapshot(version, dict.fromkeys(paths), dict.fromkeys(folders_of(paths)))


def take(tree: Path, paths, version: str) -> Snapshot:
    """The snapshot of ``tree`` holding ``paths``."""
    base = str(tree) + "/"
    files = {}
    for path in paths:
        s = os.lstat(base + path)
        files[path] = (s.st_size, s.st_mtime_ns, s.st_ctime_ns, s.st_ino)
    folders = {}
    for folder in folders_of(files):
        s = os.lstat(base + folder if folder else str(tree))
        folders[folder] = (s.st_mtime_ns, s.st_ctime_ns, s.st_ino)
    return Snapshot(version, files, folders)


def save(folder: Path, snapshot: Snapshot) -> None:
    """Stored as names and one array of numbers per kind: quick to load on every build."""
    signed.dump(folder / FILE_NAME, {
        "version": snapshot.version,
        "files": (list(snapshot.files), _flat(snapshot.files.values(), 4)),
        "folders": (list(snapshot.folders), _flat(snapshot.folders.values(), 3))})


def load(folder: Path, version: str) -> Snapshot | None:
    """The snapshot stored for ``version``, or None when missing, damaged or taken for
    another version."""
    data = signed.load(folder / FILE_NAME)
    if not isinstance(data, dict) or data.get("version") != version:
        return None
    try:
        return Snapshot(version, _unflat(*data["files"], 4), _unflat(*data["folders"], 3))
    except (KeyError, TypeError, ValueError):
        return None


def _flat(records, width: int) -> bytes:
    numbers = array.array("q")
    for record in records:
        numbers.extend(record if record is not None else (-1,) * width)
    return numbers.tobytes()


def _unflat(names: list, data: bytes, width: int) -> dict:
    numbers = array.array("q")
    numbers.frombytes(data)
    if len(numbers) != width * len(names):
        raise ValueError("snapshot of the wrong size")
    return dict(zip(names, zip(*(numbers[i::width] for i in range(width)))))


def compare(tree: Path, snapshot: Snapshot, ignore: tuple[str, ...] = ()) -> Drift:
    """``tree`` against ``snapshot``; ``ignore``: names at the root that are not the site's
    (the marker). Follows no symbolic link: every folder on a path is looked at itself."""
    drift = Drift()
    base = str(tree) + "/"
    listed, gone = _changed_folders(base, snapshot, drift)
    for path, recorded in snapshot.files.items():
        if path.rpartition("/")[0] in gone:
            drift.missing.append(path)
            continue
        try:
            s = os.lstat(base + path)
        except (FileNotFoundError, NotADirectoryError):
            drift.missing.append(path)
            continue
        if stat.S_ISLNK(s.st_mode):
            drift.links.append(path)
        elif not stat.S_ISREG(s.st_mode):
            drift.strays.append(path)
            drift.missing.append(path)
        else:
            drift.inodes[path] = s.st_ino
            if recorded != (s.st_size, s.st_mtime_ns, s.st_ctime_ns, s.st_ino):
                drift.suspect.append(path)
    if listed:
        _find_strays(base, snapshot, listed, set(ignore), drift)
    return drift


def _changed_folders(base: str, snapshot: Snapshot, drift: Drift) -> tuple[list, set]:
    """Folders whose entries may have changed (to be listed), and folders that are gone
    (or are no longer folders: noted in ``drift``)."""
    changed, gone = [], set()
    for folder in sorted(snapshot.folders):
        if folder and folder.rpartition("/")[0] in gone:
            gone.add(folder)
            continue
        try:
            s = os.lstat(base + folder if folder else base[:-1])
        except (FileNotFoundError, NotADirectoryError):
            gone.add(folder)
            continue
        if stat.S_ISLNK(s.st_mode):
            drift.links.append(folder)
            gone.add(folder)
        elif not stat.S_ISDIR(s.st_mode):
            drift.strays.append(folder)
            gone.add(folder)
        elif snapshot.folders[folder] != (s.st_mtime_ns, s.st_ctime_ns, s.st_ino):
            changed.append(folder)
    return changed, gone


def _find_strays(base: str, snapshot: Snapshot, listed: list[str], ignore: set[str],
                 drift: Drift) -> None:
    """Entries of the ``listed`` folders that the snapshot does not know."""
    children: dict[str, set[str]] = {folder: set() for folder in listed}
    for path in (*snapshot.files, *snapshot.folders):
        if path:
            folder, _, name = path.rpartition("/")
            if folder in children:
                children[folder].add(name)
    if "" in children:
        children[""] |= ignore
    for folder in listed:
        prefix = folder + "/" if folder else ""
        try:
            entries = list(os.scandir(base + folder if folder else base[:-1]))
        except OSError:
            continue
        for entry in entries:
            if entry.name in children[folder]:
                continue
            path = prefix + entry.name
            (drift.links if entry.is_symlink() else drift.strays).append(path)
