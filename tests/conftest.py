import datetime as dt
import hashlib
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

INPUT_DIRS = ("content", "regions", "calendars", "templates")


@pytest.fixture
def site(tmp_path) -> Path:
    """A private copy of the site's input that a test may edit freely."""
    root = tmp_path / "site"
    for name in INPUT_DIRS:
        shutil.copytree(ROOT / name, root / name)
    return root


def tree_digest(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with the hash of its bytes."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def run_cli(*args: str) -> tuple[int, str, str]:
    """Run build.py's main() in-process; returns (exit code, stdout, stderr)."""
    import contextlib
    import io

    import build

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = build.main(list(args))
    return code, out.getvalue(), err.getvalue()


TODAY = dt.date(2026, 6, 15)
