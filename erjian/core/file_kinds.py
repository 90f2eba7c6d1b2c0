"""What kind of file a stat mode describes, for messages that refuse anything but a regular
file (a FIFO would hang a read, a device never end one)."""

from __future__ import annotations

import stat


def special_kind(mode: int) -> str | None:
    """What a non-regular file is ('a FIFO', 'a device', ...), or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"
