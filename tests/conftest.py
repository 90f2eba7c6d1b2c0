import datetime as dt
import hashlib
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SEED_PROVINCES = ("xinjiang", "shanghai", "guangdong", "anhui")


def pytest_collection_modifyitems(items):
    """Every test that drives Chromium (through browser_support's fixtures) is a browser
    test, whatever its module: `make test-fast` leaves them out."""
    for item in items:
        if "browser" in item.fixturenames or item.module.__name__.endswith("_browser"):
            item.add_marker(pytest.mark.browser)


def copy_site(dest: Path, provinces=SEED_PROVINCES, divisions: bool = False) -> Path:
    """A copy of the site's input: content, calendars, templates and the given provinces'
    region files (the generated ``_divisions.yaml`` only when ``divisions``)."""
    for name in ("content", "calendars", "templates"):
        shutil.copytree(ROOT / name, dest / name)
    for province in provinces:
        ignore = None if divisions else shutil.ignore_patterns("_divisions.yaml")
        shutil.copytree(ROOT / "regions" / province, dest / "regions" / province, ignore=ignore)
    return dest


@pytest.fixture(scope="session")
def seed_root(tmp_path_factory) -> Path:
    """The four seed provinces with their hand-written regions; tests must not edit it."""
    return copy_site(tmp_path_factory.mktemp("seed") / "site")


@pytest.fixture(scope="session")
def seed_output(tmp_path_factory, seed_root) -> Path:
    """The seed site built once for 2026-06-15; tests must not edit it."""
    out = tmp_path_factory.mktemp("seed-output") / "output"
    code, _, stderr = run_cli("--root", str(seed_root), "--out", str(out), "--today",
                              "2026-06-15")
    assert code == 0, stderr
    return out


@pytest.fixture
def site(tmp_path) -> Path:
    """A private copy of the seed site that a test may edit freely."""
    return copy_site(tmp_path / "site")


def tree_digest(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with the hash of its bytes."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def run_cli(*args: str) -> tuple[int, str, str]:
    """Run the command line (erjian.cli.main) in-process; returns (exit code, stdout, stderr)."""
    import contextlib
    import io

    from erjian import cli

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(args))
    return code, out.getvalue(), err.getvalue()


TODAY = dt.date(2026, 6, 15)


def leftovers(out: Path) -> list[str]:
    """What a build left beside ``out`` besides the output and its state folder (lock,
    manifests, spare tree): staging folders above all."""
    state = out.parent / f".erjian.{out.name}"
    beside = [p.name for p in out.parent.iterdir() if p not in (out, state)]
    inside = [p.name for p in state.iterdir()
              if p.name not in ("lock", "versions", "spare")] if state.is_dir() else []
    return sorted(beside + inside)
