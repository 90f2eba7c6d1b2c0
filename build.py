#!/usr/bin/env python3
"""Command line for the site: `python build.py` builds content into output/."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from erjian.errors import SiteError  # noqa: E402
from erjian.pipeline import build  # noqa: E402


def default_today() -> dt.date:
    """SOURCE_DATE_EPOCH when set (reproducible builds), else the local date."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc).date()
    return dt.date.today()


def parse_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date in the form YYYY-MM-DD")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--today", type=parse_date, default=None,
                        help="date statuses are computed against (default: today, or "
                             "SOURCE_DATE_EPOCH when set)")
    parser.add_argument("--out", type=Path, default=ROOT / "output",
                        help="output folder (default: output/)")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    today = args.today or default_today()
    try:
        result = build(args.root, args.out, today)
    except SiteError as exc:
        print(exc.report(), file=sys.stderr)
        return 1
    for warning in result.warnings:
        print(warning.format(), file=sys.stderr)
    print(f"built {result.pages} files ({result.bytes / 1024:.0f} KiB) into {args.out} "
          f"for {today.isoformat()}; {len(result.warnings)} warnings; "
          f"{result.seconds:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
