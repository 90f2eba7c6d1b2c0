#!/usr/bin/env python3
"""Command line for the site (python build.py --help); the commands live in erjian/cli.py."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from erjian.cli import main, run_and_exit  # noqa: E402,F401  (main: for tests and scripts)

if __name__ == "__main__":
    run_and_exit()
