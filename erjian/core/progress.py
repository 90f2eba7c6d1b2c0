"""Terminal feedback for long builds: a progress bar on a TTY, nothing when not (CI logs)."""

from __future__ import annotations

import time


class ProgressBar:
    """Callable ``(done, total)``; draws only on a terminal and only once a build has run for
    ``after`` seconds, so short builds stay quiet."""

    def __init__(self, stream, after: float = 2.0, width: int = 30):
        self.stream = stream
        self.enabled = hasattr(stream, "isatty") and stream.isatty()
        self.after, self.width = after, width
        self.started = time.monotonic()
        self.drawn = False
        self._last = 0.0

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.started < self.after or (now - self._last < 0.1 and done < total):
            return
        self._last = now
        filled = int(self.width * done / max(total, 1))
        self.stream.write(f"\r[{'#' * filled}{'.' * (self.width - filled)}] {done}/{total}")
        self.stream.flush()
        self.drawn = True

    def clear(self) -> None:
        if self.drawn:
            self.stream.write("\r" + " " * (self.width + 24) + "\r")
            self.stream.flush()
            self.drawn = False
