"""Failures of the machine rather than of the input (disk full, permission denied, a
read-only or busy folder, …) turned into a message a person can act on.

Only the errors a user can cause or fix are translated; any other OSError is left to
propagate, since it is more likely a bug than something to report politely."""

from __future__ import annotations

import errno

from erjian.core.errors import UserError

_ANOTHER_OUT = "or pass --out a folder elsewhere"

# errno → (what happened, in plain words; what to do)
_EXPLAINED = {
    errno.ENOSPC: ("no space is left on the disk",
                   f"free some space and build again, {_ANOTHER_OUT} on another disk"),
    errno.EDQUOT: ("your disk quota is used up",
                   f"free some space and build again, {_ANOTHER_OUT} on another disk"),
    errno.EACCES: ("permission denied",
                   "give the user running the build access to it (e.g. chmod u+rwx on "
                   f"the folder), {_ANOTHER_OUT} that you can write to"),
    errno.EPERM: ("the operation is not permitted",
                  "give the user running the build access to it (e.g. chmod u+rwx on "
                  f"the folder, chattr -i), {_ANOTHER_OUT} that you can write to"),
    errno.EROFS: ("the file system is read-only",
                  "pass --out a folder on a writable disk"),
    errno.EXDEV: ("files cannot be moved between these two file systems",
                  "keep the output folder and the build's cache (.cache/ or ERJIAN_CACHE) "
                  "on one disk: pass --out a folder inside the mounted disk rather than "
                  "its mount point"),
    errno.EBUSY: ("it is busy: a mount point, or in use by another program",
                  "pass --out a folder inside the mount point, or close the program using "
                  "it, and build again"),
    errno.ENOTDIR: ("a part of this path is a file, not a folder",
                    f"remove or rename that file, {_ANOTHER_OUT}"),
    errno.EISDIR: ("it is a folder where a file is expected",
                   f"remove or rename that folder, {_ANOTHER_OUT}"),
    errno.EEXIST: ("it already exists and is in the way",
                   f"remove or rename it, {_ANOTHER_OUT}"),
    errno.ENOTEMPTY: ("the folder is not empty and is in the way",
                      f"remove or rename it, {_ANOTHER_OUT}"),
    errno.ENOENT: ("no such file or folder (moved or deleted while the build ran?)",
                   "check that the path exists and build again"),
    errno.ENAMETOOLONG: ("the path is too long for the file system",
                         "pass --out a folder with a shorter path"),
    errno.ELOOP: ("too many levels of symbolic links",
                  f"fix the symbolic link, {_ANOTHER_OUT}"),
    errno.EMFILE: ("too many files are open at once",
                   "raise the limit (e.g. ulimit -n 4096) or set ERJIAN_WORKERS=1"),
    errno.ENFILE: ("the system has too many files open",
                   "close some programs, or set ERJIAN_WORKERS=1, and build again"),
    errno.EFBIG: ("the file is too large for the file system",
                  "pass --out a folder on another disk"),
    errno.EIO: ("the disk reported an input/output error",
                "check the disk (e.g. dmesg), or pass --out a folder on another disk"),
    errno.ETXTBSY: ("the file is in use by another program",
                    "close the program using it and build again"),
}


def explain_os_error(exc: OSError) -> UserError | None:
    """``exc`` as a message naming the path, what happened and what to do; None when it is
    not a failure a user can cause (then it should surface as the bug it probably is)."""
    explained = _EXPLAINED.get(exc.errno) if isinstance(exc.errno, int) else None
    if exc.errno == errno.ENAMETOOLONG:
        explained = _name_over_limit(exc.filename) or explained
    if explained is None:
        return None
    what, hint = explained
    code = errno.errorcode.get(exc.errno, str(exc.errno))
    if exc.filename is not None and exc.filename2 is not None:
        where = f"{_show(exc.filename)} -> {_show(exc.filename2)}: "
    elif exc.filename is not None:
        where = f"{_show(exc.filename)}: "
    else:
        where = ""
    return UserError(f"{where}{what} ({code})", hint)


def _name_over_limit(filename) -> tuple[str, str] | None:
    """ENAMETOOLONG is most often one name over 255 bytes, not a path too long."""
    for part in _show(filename or "").split("/"):
        size = len(part.encode("utf-8", "surrogateescape"))
        if size > 255:
            return (f"the name {part[:30]}… is {size} bytes, over the file system's limit of "
                    "255 bytes for one file or folder name (the path's length is not the "
                    "problem)", "shorten that name")
    return None


def _show(filename) -> str:
    if isinstance(filename, bytes):
        return filename.decode("utf-8", "backslashreplace")
    return str(filename)
