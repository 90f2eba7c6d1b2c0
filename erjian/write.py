"""Stage 6 — write: put the rendered files in place so that readers never see a half-built site.

Files are written into a fresh staging folder beside the output folder. Only when every page has
been written does the staging folder take the output folder's place; if anything fails before
that, the staging folder is deleted and the published ``output/`` is exactly as it was.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath


class StagedOutput:
    """Context manager: ``write`` files, then on a clean exit swap them in as ``target``."""

    def __init__(self, target: Path):
        self.target = Path(target).absolute()
        self.stage: Path | None = None
        self.count = 0
        self.bytes = 0

    def __enter__(self) -> "StagedOutput":
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self.stage = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.staging-",
                                           dir=self.target.parent))
        return self

    def write(self, relative: str, content: str | bytes) -> None:
        path = self.stage / _safe_relative(relative)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = content.encode("utf-8") if isinstance(content, str) else content
        path.write_bytes(data)
        self.count += 1
        self.bytes += len(data)

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is not None:
            shutil.rmtree(self.stage, ignore_errors=True)
            return False
        self._swap()
        return False

    def _swap(self) -> None:
        old = None
        if self.target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.old-",
                                        dir=self.target.parent))
            os.rmdir(old)
            os.replace(self.target, old)
        os.replace(self.stage, self.target)
        self.target.chmod(0o755)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def _safe_relative(relative: str) -> PurePosixPath:
    """Refuse any page path that could land outside the output folder."""
    path = PurePosixPath(relative)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise ValueError(f"unsafe output path: {relative!r}")
    return path
