"""The output folder as the generator owns it: who may write there, one build at a time, and
one atomic step from the old site to the new one.

Beside the output folder ``P/output`` lives its state folder ``P/.erjian.output/``:

- ``lock``: held (flock) by the build writing this output; a second build waits for it.
- ``spare/``: the previous version of the site, kept to build the next version in. Unchanged
  files are hard links shared with ``output/`` (files are only ever replaced, never edited in
  place), so it costs directories, not a second copy of the site.
- ``versions/<id>/``: the manifest of each version still on disk (``output/`` and ``spare/``).
- ``stage-*/``: files rendered by the build in progress.

The output folder carries the marker file ``.erjian-site`` with the id of the version it holds.
A build never writes into an existing folder without that marker unless it is empty, and never
into the repository, its input folders or an ancestor of them.

Publishing is ``renameat2(RENAME_EXCHANGE)`` of a complete new tree with ``output/``: a reader,
a web server or a build killed at any instant sees exactly the old site or exactly the new one.
Where the exchange is unsupported, two renames and a journal (``swap.json``) are used; the next
build completes an interrupted swap before anything else.
"""

from __future__ import annotations

import errno
import functools
import fcntl
import json
import os
import shutil
import sys
import time
from pathlib import Path

from .errors import UserError

MARKER = ".erjian-site"
MARKER_TEXT = "written by erjian's build.py; every file here is replaced on the next build\n"
LOCK_WAIT_SECONDS = 600
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def state_folder(target: Path) -> Path:
    return target.parent / f".erjian.{target.name}"


# -- who may write where ---------------------------------------------------------------------

def refuse_unsafe_target(target: Path, root: Path | None, protected: tuple[str, ...]) -> None:
    """Raise UserError unless ``target`` is a folder the generator may replace wholesale."""
    shown = str(target)
    if target.is_symlink():
        raise UserError(f"the output folder {shown} is a symbolic link",
                        f"pass the folder it points to ({os.path.realpath(target)}) as --out")
    real = Path(os.path.realpath(target))
    if root is not None:
        root_real = Path(os.path.realpath(root))
        guarded = [root_real / name for name in protected]
        if real == root_real or real in root_real.parents:
            raise UserError(f"refusing to write the site into {shown}: it is the repository "
                            "or a folder that contains it, and every file in it would be "
                            "replaced", "use a new folder, e.g. --out output")
        for folder in guarded:
            if real == folder or folder in real.parents:
                raise UserError(f"refusing to write the site into {shown}: it is (inside) the "
                                f"input folder {folder.name}/, whose files would be replaced",
                                "use a folder outside the site's input, e.g. --out output")
    if not real.exists():
        return
    if not real.is_dir():
        raise UserError(f"the output path {shown} exists and is not a folder",
                        "pass a folder (new, empty, or made by an earlier build)")
    if read_marker(real) is None and _has_entries(real):
        raise UserError(f"refusing to write the site into {shown}: it is not empty and was "
                        f"not made by this generator (no {MARKER} file in it), so building "
                        "would delete what is there",
                        "choose a new or empty folder; if it is the output of an older "
                        "version of the generator, delete it first")


def _has_entries(folder: Path) -> bool:
    with os.scandir(folder) as entries:
        return any(True for _ in entries)


def read_marker(tree: Path) -> str | None:
    """The version id recorded in ``tree``'s marker, or None when unmarked or unreadable."""
    try:
        data = json.loads((tree / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    version = data.get("version") if isinstance(data, dict) else None
    return version if isinstance(version, str) and version.isalnum() else None


def marker_bytes(version: str) -> bytes:
    return (json.dumps({"generator": "erjian", "version": version,
                        "note": MARKER_TEXT.strip()}, ensure_ascii=False) + "\n").encode()


def write_marker(tree: Path, version: str) -> None:
    temporary = tree / f"{MARKER}.tmp"
    temporary.write_bytes(marker_bytes(version))
    os.replace(temporary, tree / MARKER)


def remove_marker(tree: Path) -> None:
    (tree / MARKER).unlink(missing_ok=True)


# -- one build at a time ---------------------------------------------------------------------

class BuildLock:
    """An exclusive lock on one output folder, held for the whole build (released by the
    kernel if the process dies)."""

    def __init__(self, path: Path, wait_seconds: float = LOCK_WAIT_SECONDS, stream=None):
        self.path, self.wait_seconds = path, wait_seconds
        self.stream = stream or sys.stderr
        self._fd: int | None = None

    def __enter__(self) -> "BuildLock":
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            self._acquire(fd)
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return self

    def _acquire(self, fd: int) -> None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
        print(f"waiting for another build writing this output folder (pid {holder}) to "
              "finish…", file=self.stream, flush=True)
        deadline = time.monotonic() + self.wait_seconds
        while time.monotonic() < deadline:
            time.sleep(0.1)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                continue
        raise UserError(f"another build (pid {holder}) has been writing this output folder "
                        f"for over {self.wait_seconds:.0f} s",
                        "wait for it to finish or stop it, then build again")

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


# -- the atomic switch -----------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def _libc():
    import ctypes
    import ctypes.util

    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
    except OSError:
        return None


def exchange(new: Path, target: Path) -> None:
    """Swap the folders ``new`` and ``target`` in one step (both must exist)."""
    import ctypes

    libc = _libc()
    function = getattr(libc, "renameat2", None) if libc is not None else None
    if function is None:
        raise OSError(errno.ENOSYS, "renameat2 is not available")
    if function(_AT_FDCWD, os.fsencode(new), _AT_FDCWD, os.fsencode(target),
                _RENAME_EXCHANGE) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code), str(target))


def switch(new: Path, target: Path, state: Path) -> Path | None:
    """Make the complete tree ``new`` the folder ``target``; returns where the old tree now
    is (None when there was none)."""
    if not target.exists():
        _guard_mount(lambda: os.rename(new, target), target)
        return None
    try:
        _guard_mount(lambda: exchange(new, target), target)
        return new
    except OSError as exc:
        if exc.errno not in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise
    return _swap_with_journal(new, target, state)


def _swap_with_journal(new: Path, target: Path, state: Path) -> Path:
    """Two renames where the filesystem cannot exchange: a journal lets the next build
    finish the swap if this process dies between them."""
    aside = state / "swap-old"
    journal = state / "swap.json"
    journal.write_text(json.dumps({"new": str(new), "old": str(aside)}), encoding="utf-8")
    _guard_mount(lambda: os.rename(target, aside), target)
    fault("between-renames")
    os.rename(new, target)
    journal.unlink()
    return aside


def finish_interrupted_swap(target: Path, state: Path) -> None:
    journal = state / "swap.json"
    try:
        data = json.loads(journal.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    new, aside = Path(data.get("new", "")), Path(data.get("old", ""))
    if not target.exists():
        if new.is_dir() and read_marker(new) is not None:
            os.rename(new, target)
        elif aside.is_dir():
            os.rename(aside, target)
    journal.unlink(missing_ok=True)


def _guard_mount(action, target: Path) -> None:
    try:
        action()
    except OSError as exc:
        if exc.errno in (errno.EXDEV, errno.EBUSY):
            raise UserError(
                f"cannot publish into {target}: it is a mount point or on another filesystem "
                "than its parent folder, and the site is published by swapping folders "
                "within one filesystem",
                f"point --out at a folder inside it, e.g. --out {target / 'site'}") from None
        raise


# -- trees -----------------------------------------------------------------------------------

def clone_tree(source: Path, destination: Path) -> None:
    """A copy of ``source`` made of hard links (files are never edited in place, so the two
    trees can share them)."""
    destination.mkdir()
    source_text = str(source)
    cut = len(source_text) + 1
    for folder, dirs, files in os.walk(source_text):
        relative = folder[cut:]
        into = os.path.join(str(destination), relative) if relative else str(destination)
        for name in dirs:
            os.mkdir(os.path.join(into, name))
        for name in files:
            os.link(os.path.join(folder, name), os.path.join(into, name))


def remove_tree(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)


def place_link(source: Path, destination: Path) -> None:
    """Replace ``destination`` with a hard link to ``source``."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    temporary = destination.with_name(destination.name + ".erjian-tmp")
    temporary.unlink(missing_ok=True)
    os.link(source, temporary)
    os.replace(temporary, destination)


def remove_empty_parents(path: Path, top: Path) -> None:
    folder = path.parent
    while folder != top and top in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


# -- fault injection for the crash tests -----------------------------------------------------

_FAULT = os.environ.get("ERJIAN_FAULT", "")
_fault_counts: dict[str, int] = {}


def fault(point: str) -> None:
    """Tests set ERJIAN_FAULT=<point>[:<n>]:<kill|error|enospc> to make the n-th passage
    through ``point`` kill the process, raise an error, or fail as a full disk would."""
    if not _FAULT:
        return
    name, _, rest = _FAULT.partition(":")
    if name != point:
        return
    count, _, action = rest.rpartition(":") if rest.count(":") else ("1", "", rest)
    _fault_counts[point] = _fault_counts.get(point, 0) + 1
    if _fault_counts[point] != int(count or 1):
        return
    if action == "kill":
        os.kill(os.getpid(), 9)
    if action == "enospc":
        raise OSError(28, os.strerror(28), f"(injected at {point})")
    raise RuntimeError(f"injected fault at {point}")
