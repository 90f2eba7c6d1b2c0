"""`make screenshots`: PNGs of the four seed guide pages at phone width, in screenshots/."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from browser_support import PHONE, free_port, launch, static_server  # noqa: E402
from conftest import ROOT, copy_site, run_cli  # noqa: E402

SEEDS = ("xinjiang/tacheng/jidian/", "shanghai/songjiang/kuangye/",
         "guangdong/meizhou/kuangye/", "anhui/maanshan/kuangye/")


def main(target: Path) -> int:
    target.mkdir(parents=True, exist_ok=True)
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        site = copy_site(Path(tmp) / "site")
        code, _, stderr = run_cli("--root", str(site), "--out", str(out), "--base-url",
                                  f"http://127.0.0.1:{port}/")
        if code:
            print(stderr, file=sys.stderr)
            return code
        with static_server(out, port) as origin, sync_playwright() as playwright:
            browser = launch(playwright)
            page = browser.new_context(**PHONE).new_page()
            for path in SEEDS:
                page.goto(origin + path, wait_until="load")
                name = path.strip("/").replace("/", "-") + ".png"
                page.screenshot(path=str(target / name), full_page=True)
                print(f"wrote {(target / name).relative_to(ROOT)}")
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(ROOT / "screenshots"))
