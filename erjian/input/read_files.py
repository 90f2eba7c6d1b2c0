"""Reading input files safely: a file must be a regular file inside the site (a symbolic
link that leaves it, a FIFO or a device is refused without being opened or read), is read only
up to its size limit, has its line endings made LF and its text put in Unicode NFC, and may not
contain control, bidirectional or invisible characters (erjian.input.characters). Each refusal
is a Problem naming the file."""

from __future__ import annotations

import os
from pathlib import Path

from erjian.core.errors import Problem
from erjian.core.file_kinds import special_kind
from erjian.input.characters import describe_char, find_hidden, nfc

MAX_FILE_BYTES = 1_000_000


def read_text(path: Path, display: str,
              root: Path | None = None) -> tuple[str | None, Problem | None]:
    """The file's text with LF line endings, in NFC, or the reason it was not read (refused
    characters included)."""
    raw, problem = read_bounded(path, display, root)
    if problem:
        return None, problem
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, Problem(
            display, line, None,
            f"is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})",
            "save the file as UTF-8",
        )
    text = nfc(text.replace("\r\n", "\n").replace("\r", "\n"))
    return text, hidden_problem(text, display)


def hidden_problem(text: str, display: str) -> Problem | None:
    """A problem naming the first refused character of a file's text, with line and column."""
    index = find_hidden(text)
    if index is None:
        return None
    line = text.count("\n", 0, index) + 1
    column = index - text.rfind("\n", 0, index)
    return Problem(display, line, None,
                   f"contains {describe_char(text[index])} at column {column}; invisible and "
                   "direction-changing characters can make one text look like another",
                   "delete it (retype the line if you cannot see where it is)")


def outside_root(path: Path, root: Path) -> bool:
    """True when ``path`` (after following every symbolic link) is not inside ``root``."""
    real, base = os.path.realpath(path), os.path.realpath(root)
    return real != base and not real.startswith(base.rstrip(os.sep) + os.sep)


_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)


def read_bounded(path: Path, display: str, root: Path | None = None,
                 limit: int | None = None) -> tuple[bytes | None, Problem | None]:
    """At most ``limit`` + 1 bytes of a regular file. A symbolic link leaving ``root`` is
    refused without being opened, a FIFO or a device without being read: it is checked
    before opening, and again on the open file (opened non-blocking, so a FIFO swapped in
    meanwhile cannot hang the build)."""
    limit = MAX_FILE_BYTES if limit is None else limit
    if root is not None and outside_root(path, root):
        return None, outside_problem(path, display)
    try:
        kind = special_kind(os.stat(path).st_mode)
        fd = None if kind else os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        return None, Problem(display, None, None, f"cannot be read: {exc.strerror}")
    if fd is None:
        return None, special_problem(display, kind)
    try:
        info = os.fstat(fd)
        kind = special_kind(info.st_mode)
        if kind:
            return None, special_problem(display, kind)
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        return None, Problem(display, None, None, f"cannot be read: {exc.strerror}")
    finally:
        os.close(fd)
    if size > limit:
        length = f"is {info.st_size:,} bytes," if info.st_size > limit else "is"
        return None, Problem(
            display, None, None,
            f"{length} over the {limit:,}-byte limit for one input file",
            "split it, or check that it is the file you meant to add",
        )
    return b"".join(chunks), None


def special_problem(display: str, kind: str) -> Problem:
    return Problem(display, None, None, f"is {kind}, not a regular file; it was not read",
                   "replace it with an ordinary text file")


def outside_problem(path: Path, display: str) -> Problem:
    return Problem(display, None, None,
                   "is a symbolic link to a place outside the site's folder; it was not opened",
                   "copy the file into the site instead of linking to it")
