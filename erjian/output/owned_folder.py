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
import stat
import sys
import time
from pathlib import Path

from erjian.core.errors import UserError
from erjian.core.layout import INPUT_FOLDERS
from erjian.output.drift import folders_of

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
    _refuse_long_name(real)
    _refuse_inside_another_site(real, shown)
    if root is not None:
        root_real = Path(os.path.realpath(root))
        guarded = [root_real / name for name in protected]
        if real == root_real or real in root_real.parents:
            raise UserError(f"refusing to write the site into {shown}: it is the repository "
                            "or a folder that contains it, and every file in it would be "
                            "replaced", "use a new folder, e.g. --out output")
        for folder in guarded:
            if real == folder or folder in real.parents:
                kind = ("input folder" if folder.name in INPUT_FOLDERS
                        else "generator's own folder")
                raise UserError(f"refusing to write the site into {shown}: it is (inside) the "
                                f"{kind} {folder.name}/, whose files would be replaced",
                                "use a folder outside the site's input and tools, e.g. "
                                "--out output")
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


def _refuse_long_name(real: Path) -> None:
    """The state folder's name is the output's with 8 bytes more: a name that fits the
    file system alone may not fit there."""
    limit = _name_limit(real.parent)
    size = len(os.fsencode(state_folder(real).name))
    if size > limit:
        raise UserError(f"the output folder's name {real.name!r} is too long: its state "
                        f"folder {state_folder(real).name!r} would be a {size}-byte name, over "
                        f"the file system's limit of {limit} bytes for one file or folder "
                        "name (the length of the whole path is not the problem)",
                        f"give --out a folder name of at most {limit - 8} bytes")


def _name_limit(folder: Path) -> int:
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


def _refuse_inside_another_site(real: Path, shown: str) -> None:
    """A site nested in another's output (or state folder) would be published by it, or
    deleted by its next build."""
    for folder in (real, *real.parents):
        if folder.name.startswith(".erjian."):
            raise UserError(f"refusing to write the site into {shown}: it is (inside) "
                            f"{folder}, the state folder of another build's output",
                            "pass --out a folder outside it, e.g. --out output")
        if folder != real and (folder / MARKER).is_file():
            raise UserError(f"refusing to write the site into {shown}: it is inside "
                            f"{folder}, the output of another build (it has the {MARKER} "
                            "marker), which would publish this site and its state folder "
                            "as part of its own and delete them on its next build",
                            f"pass --out a folder outside {folder}")


def refuse_links_in_state(target: Path, state: Path) -> None:
    """UserError if the state folder, or an entry of it the build writes through, or the
    output's marker is a symbolic link (or not what it should be): never followed."""
    if _is_link(state):
        raise link_refused(state, "the build keeps its own files there")
    if state.exists() and not state.is_dir():
        raise UserError(f"{state} is not a folder; the build keeps its state there",
                        "remove it (the build makes the folder again)")
    for name in ("lock", "versions", "spare", "swap.json", "swap-old"):
        if _is_link(state / name):
            raise link_refused(state / name, "the build makes it again")
    versions = state / "versions"
    if versions.is_dir():
        for entry in versions.iterdir():
            if _is_link(entry):
                raise link_refused(entry, "the build writes its manifests there")
            for item in entry.iterdir() if entry.is_dir() else ():
                if _is_link(item):
                    raise link_refused(item, "the build writes the manifest again")
    if _is_link(target / MARKER):
        raise link_refused(target / MARKER, "the build writes the marker again")


def _is_link(path: Path) -> bool:
    try:
        return stat.S_ISLNK(os.lstat(path).st_mode)
    except (FileNotFoundError, NotADirectoryError):
        return False


def link_refused(path, what_then: str = "the build writes the real file or folder") -> UserError:
    return UserError(f"{path} is a symbolic link, which this generator never makes; it is "
                     "not followed, and nothing was written or deleted",
                     f"remove it ({what_then}) and build again")


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
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise link_refused(self.path, "the build makes the lock again") from None
            raise
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise UserError(f"{self.path} is not a regular file; the build locks it",
                                "remove it and build again")
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
    new, aside = Path(str(data.get("new", ""))), state / "swap-old"
    # The journal names only folders of this state folder: never a path from elsewhere.
    if new.parent != state or not new.name.startswith(("stage-", "spare")):
        new = None
    if not target.exists():
        if new is not None and new.is_dir() and not new.is_symlink() and read_marker(new):
            os.rename(new, target)
        elif aside.is_dir() and not aside.is_symlink():
            os.rename(aside, target)
    journal.unlink(missing_ok=True)


def _guard_mount(action, target: Path) -> None:
    try:
        action()
    except OSError as exc:
        if exc.errno == errno.EBUSY or (exc.errno == errno.EXDEV and os.path.ismount(target)):
            raise UserError(
                f"cannot publish into {target}: it is a mount point, and the site is "
                "published by swapping folders within one filesystem",
                f"point --out at a folder inside it, e.g. --out {target / 'site'}") from None
        if exc.errno == errno.EXDEV:
            raise UserError(
                f"cannot publish into {target}: its file system refuses to rename or swap "
                "these folders (EXDEV), as overlayfs does for folders that come from a "
                "lower layer, e.g. a Docker image's, and the site is published by swapping "
                "folders",
                f"build into a folder on a volume or a tmpfs (docker run -v, --mount "
                f"type=tmpfs), or delete {target} and {state_folder(target)} inside the "
                "container so that the build makes them again in its writable layer") from None
        raise


# -- trees -----------------------------------------------------------------------------------

def sync_tree(tree: Path, want: set[str], staged: set[str], stage: Path, source: Path,
              source_inodes: dict[str, int], halfway=lambda: None) -> None:
    """Make ``tree`` hold exactly the files ``want``: those in ``staged`` moved in from
    ``stage``, the others as hard links to the very files of ``source`` whose inodes the
    caller checked (``source_inodes``); anything else in ``tree`` is deleted. A file is kept
    only when it already is that inode, so an edit made through a shared link is never kept;
    symbolic links are refused, never followed."""
    folders = folders_of(want)
    present: set[str] = set()
    _sweep(str(tree), "", want, folders, staged, source_inodes, present)
    todo = sorted(want - present)
    for count, relative in enumerate(todo):
        destination = tree / relative
        if relative in staged:
            destination.parent.mkdir(parents=True, exist_ok=True)
            os.replace(stage / relative, destination)
        else:
            place_link(source / relative, destination)
        if count == len(todo) // 2:
            halfway()


def _sweep(folder: str, prefix: str, want, folders, staged, inodes, present) -> None:
    """Deletes what ``folder`` holds that is not wanted or not the right inode; notes in
    ``present`` the wanted files already in place."""
    with os.scandir(folder) as entries:
        for entry in list(entries):
            relative = prefix + entry.name
            if entry.is_symlink():
                raise link_refused(entry.path, "the build makes the real file or folder")
            if entry.is_dir(follow_symlinks=False):
                if relative in folders:
                    _sweep(entry.path, relative + "/", want, folders, staged, inodes, present)
                else:
                    remove_tree(Path(entry.path))
            elif (relative in want and relative not in staged
                  and entry.inode() == inodes.get(relative)):
                present.add(relative)
            else:
                os.unlink(entry.path)


def remove_tree(path: Path) -> None:
    """Delete ``path`` (a symbolic link itself, never what it points to)."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path, onerror=_with_full_path)


def _with_full_path(function, path, exc_info) -> None:
    exc = exc_info[1]
    if isinstance(exc, OSError):
        raise OSError(exc.errno, exc.strerror, path) from None
    raise exc


def place_link(source: Path, destination: Path) -> None:
    """Replace ``destination`` with a hard link to ``source`` (itself, if a link)."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    temporary = destination.with_name(destination.name + ".erjian-tmp")
    temporary.unlink(missing_ok=True)
    os.link(source, temporary, follow_symlinks=False)
    os.replace(temporary, destination)


# -- what the build cannot change ------------------------------------------------------------

_FS_IOC_GETFLAGS = 0x80086601
_FS_IMMUTABLE_FL = 0x10
_FS_APPEND_FL = 0x20


def not_permitted(exc: OSError) -> UserError | None:
    """EPERM/EACCES on a path of the output or its state folder as a message naming the
    folder or file that cannot be changed and why (immutable, append-only, not writable)."""
    if exc.errno not in (errno.EPERM, errno.EACCES):
        return None
    names = [n for n in (exc.filename2, exc.filename) if n is not None]
    candidates = [Path(os.fsdecode(n)) for n in names]
    candidates += [c.parent for c in candidates]
    for path in candidates:
        flags = _attributes(path)
        if flags & (_FS_IMMUTABLE_FL | _FS_APPEND_FL):
            kind = "immutable" if flags & _FS_IMMUTABLE_FL else "append-only"
            letter = "i" if flags & _FS_IMMUTABLE_FL else "a"
            return UserError(f"cannot change {path}: it is {kind} (chattr +{letter}), so "
                             "not even root can replace or delete what it holds",
                             f"run `chattr -{letter} {path}` as root (`lsattr -d {path}` "
                             "shows the flag), then build again")
    if not candidates:
        return None
    folder = next((c for c in candidates[len(names):] if c.exists()), candidates[0])
    why = " (not writable by this user)" if exc.errno == errno.EACCES else ""
    return UserError(f"cannot change {folder}: {os.strerror(exc.errno)}{why}",
                     f"give the user running the build write access (e.g. chmod u+rwx "
                     f"{folder}), or pass --out a folder elsewhere")


def _attributes(path: Path) -> int:
    """The inode flags of ``path`` (as lsattr shows them), 0 when unknown."""
    import array

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return 0
    try:
        flags = array.array("l", [0])
        fcntl.ioctl(fd, _FS_IOC_GETFLAGS, flags, True)
        return flags[0]
    except OSError:
        return 0
    finally:
        os.close(fd)


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
