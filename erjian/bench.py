"""`make bench`: build the national site in a temporary folder and print figures.

Every build runs as its own process (`python build.py …`), timed from outside, so the figures
include start-up and imports exactly as an editor or CI sees them. The floor is the time for
Python alone to write the same bytes into the same files, measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REGION_FILE = Path("regions/xinjiang/tacheng.yaml")
PROVINCE_FILE = Path("regions/anhui/province.yaml")
SERVED_PAGE = "xinjiang/tacheng/jidian/"


def run_build(site: Path, out: Path, today: str, cache: Path | None = None
              ) -> tuple[float, str]:
    os.sync()   # start from a quiet disk: no writeback of the previous step in this timing
    started = time.perf_counter()
    env = dict(os.environ, **({"ERJIAN_CACHE": str(cache)} if cache else {}))
    done = subprocess.run([sys.executable, str(ROOT / "build.py"), "--root", str(site),
                           "--out", str(out), "--today", today],
                          capture_output=True, text=True, check=True, env=env)
    return time.perf_counter() - started, done.stdout.strip().splitlines()[-1]


def floor_seconds(out: Path, target: Path) -> tuple[float, int, int]:
    """Seconds for Python alone to write the bytes of ``out`` into the same paths under
    ``target`` (contents read into memory first, so only the writing is timed)."""
    files = [(p.relative_to(out), p.read_bytes()) for p in sorted(out.rglob("*"))
             if p.is_file()]
    os.sync()
    started = time.perf_counter()
    for relative, data in files:
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return time.perf_counter() - started, len(files), sum(len(d) for _, d in files)


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def serve_latency(site: Path, out: Path, today: str, edits: int = 3) -> list[float]:
    """Seconds from saving a region file to the served page showing the change."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen([sys.executable, str(ROOT / "build.py"), "--root", str(site),
                                "serve", "--port", str(port), "--out", str(out), "--today",
                                today], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/{SERVED_PAGE}"

    def page() -> str:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read().decode("utf-8")

    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                page()
                break
            except OSError:
                time.sleep(0.2)
        latencies = []
        for n in range(edits):
            marker = f"基准测试第{n}次修改"
            time.sleep(1.0)
            text = (site / REGION_FILE).read_text(encoding="utf-8")
            text = "\n".join(line for line in text.splitlines() if not line.startswith("note:"))
            started = time.perf_counter()
            (site / REGION_FILE).write_text(text + f"\nnote: {marker}\n", encoding="utf-8")
            while marker not in page():
                if time.perf_counter() - started > 30:
                    raise RuntimeError("the served page did not change within 30 s")
                time.sleep(0.01)
            latencies.append(time.perf_counter() - started)
        return latencies
    finally:
        process.terminate()
        process.wait(timeout=10)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--today", default="2026-06-15")
    parser.add_argument("--no-serve", action="store_true", help="skip the live-preview figure")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="erjian-bench-") as tmp:
        tmp = Path(tmp)
        site = tmp / "site"
        for name in ("content", "regions", "calendars", "templates"):
            shutil.copytree(ROOT / name, site / name)
        colds = [run_build(site, tmp / f"cold{n}", args.today, tmp / f"cache{n}")
                 for n in range(2)]
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        out = tmp / "output"
        cold, cold_line = run_build(site, out, args.today)
        colds.append((cold, cold_line))
        cold = min(seconds for seconds, _ in colds)
        noop, noop_line = run_build(site, out, args.today)
        append(site / REGION_FILE, "note: 基准测试修改了这个地区。\n")
        region, region_line = run_build(site, out, args.today)
        append(site / PROVINCE_FILE, "note: 基准测试修改了这个省份。\n")
        province, province_line = run_build(site, out, args.today)
        floors = [floor_seconds(out, tmp / f"floor{n}") for n in range(3)]
        floor, files, size = min(floors)
        pages = sum(1 for _ in out.rglob("index.html"))
        latencies = [] if args.no_serve else serve_latency(site, tmp / "served", args.today)

    command = "make bench (python -m erjian.bench)"
    print(f"national site: {files} files ({pages} HTML pages), {size / 1e6:.1f} MB; "
          f"{os.cpu_count()} cores; figures from `{command}`")
    print(f"floor (Python writing the same bytes):   {floor:7.2f} s  (best of "
          + ", ".join(f"{f[0]:.2f}" for f in floors) + ")")
    print(f"cold build:        {cold:7.2f} s  = {cold / floor:5.2f} × floor   "
          f"({pages / cold:,.0f} pages/s, {files / cold:,.0f} files/s)   target ≤ 2 × floor"
          "  (best of " + ", ".join(f"{c[0]:.2f}" for c in colds) + ")")
    print(f"no-op rebuild:     {noop:7.2f} s  = {noop / cold:6.1%} of cold  "
          f"= {noop / floor:5.2f} × floor   target ≤ 5 % of cold")
    print(f"one region edited: {region:7.2f} s  = {region / cold:6.1%} of cold  "
          f"= {region / floor:5.2f} × floor   target ≤ 3 % of cold")
    print(f"one province edited:{province:6.2f} s  = {province / cold:6.1%} of cold  "
          f"= {province / floor:5.2f} × floor")
    workers = int(os.environ.get("ERJIAN_WORKERS") or os.cpu_count() or 1)
    print(f"peak memory: largest process {peak_kb / 1024:.0f} MB; a build and its "
          f"{workers} workers together at most {(workers + 1) * peak_kb / 1024:.0f} MB   "
          "target ≤ 600 MB")
    if latencies:
        print("live preview, region file saved → served page changed: " +
              ", ".join(f"{s:.2f} s" for s in latencies) + "   target ≤ 0.5 s")
    for label, line in (("cold", cold_line), ("no-op", noop_line), ("region", region_line),
                        ("province", province_line)):
        print(f"  {label:8} {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
