"""Debian's Chromium driven by Playwright (never a downloaded browser), for the browser tests,
`make screenshots` and the preview figures of `make bench`."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

CHROMIUM = (os.environ.get("ERJIAN_CHROMIUM") or shutil.which("chromium")
            or shutil.which("chromium-browser") or "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def launch(playwright):
    if not Path(CHROMIUM).exists():
        raise RuntimeError("Chromium is missing: run `make test` (it installs Debian's "
                           "chromium package) or `apt-get install chromium`")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
