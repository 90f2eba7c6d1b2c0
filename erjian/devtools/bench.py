"""`make bench`: build the national site in a temporary folder and print figures.

Every build runs as its own process (`python build.py …`), timed from outside, so the figures
include start-up and imports exactly as an editor or CI sees them. The floor is the time for
Python alone to write the same bytes into the same files, measured in the same run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]   # the repository: the folder holding build.py
REGION_FILE = Path("regions/xinjiang/tacheng.yaml")
PROVINCE_FILE = Path("regions/anhui/province.yaml")
SERVED_PAGE = "xinjiang/tacheng/jidian/"
SEED_PROVINCES = ("xinjiang", "shanghai", "guangdong", "anhui")
NOTICES = 5_000


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


def set_note(path: Path, text: str) -> None:
    """Give the file's top-level ``note`` the value ``text``."""
    lines = [line for line in path.read_text(encoding="utf-8").splitlines()
             if not line.startswith("note:")]
    path.write_text("\n".join(lines + [f"note: {text}"]) + "\n", encoding="utf-8")


PREVIEW_EDITS = (
    # (what, file, text to find (None: append), how a marker is written)
    ("region YAML", "regions/xinjiang/tacheng.yaml", None, "note: {marker}\n"),
    ("province YAML", "regions/xinjiang/province.yaml",
     "note: 按往年五月下旬周末的惯例录入", "note: {marker}按往年五月下旬周末的惯例录入"),
    ("notice", "content/notices/2026-xinjiang-eid-al-adha.md",
     "title: 新疆2026年古尔邦节", "title: {marker}新疆2026年古尔邦节"),
    ("shared guide text", "content/guide/20-query-steps.md", None, "\n{marker}\n"),
    ("templates/base.html", "templates/base.html", "</footer>", "<p>{marker}</p></footer>"),
    ("CSS", "templates/static/style.css", None, "\n.{marker} {{ color: red; }}\n"),
)
SHOWN = "document.documentElement.innerHTML.includes(marker)"
STYLED = ("[...document.styleSheets].some(s => { try { return [...s.cssRules].some("
          "r => r.selectorText === '.' + marker); } catch (e) { return false; } })")


def preview_latency(site: Path, today: str, edits: int = 10) -> dict[str, list[float]]:
    """Seconds from saving a file to the change being visible in a guide page open in
    Chromium (the page reloads, or restyles for CSS, by itself), per kind of edit."""
    from playwright.sync_api import sync_playwright

    from erjian.devtools.chromium import launch

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen([sys.executable, str(ROOT / "build.py"), "--root", str(site),
                                "serve", "--port", str(port), "--today", today],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/{SERVED_PAGE}"
    try:
        _wait_until_served(url)
        with sync_playwright() as playwright:
            browser = launch(playwright)
            page = browser.new_page()
            page.goto(url)
            figures = {}
            for what, name, anchor, template in PREVIEW_EDITS:
                figures[what] = [_one_edit(page, site / name, anchor, template,
                                           f"bench{n}x{abs(hash(what)) % 1000}",
                                           STYLED if name.endswith(".css") else SHOWN)
                                 for n in range(edits)]
            browser.close()
        return figures
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_until_served(url: str, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the preview did not answer {url} within {seconds:.0f} s")


def _one_edit(page, path: Path, anchor: str | None, template: str, marker: str,
              check: str) -> float:
    original = path.read_text(encoding="utf-8")
    written = template.format(marker=marker)
    text = original + written if anchor is None else original.replace(anchor, written, 1)
    time.sleep(0.3)   # a quiet moment, as between an editor's saves
    started = time.perf_counter()
    path.write_text(text, encoding="utf-8")
    page.wait_for_function(f"marker => {check}", arg=marker, timeout=30_000, polling=5)
    seconds = time.perf_counter() - started
    path.write_text(original, encoding="utf-8")
    page.wait_for_function(f"marker => !({check})", arg=marker, timeout=30_000, polling=20)
    return seconds


def write_notices(site: Path, count: int, province: str = "xinjiang",
                  first_day: dt.date = dt.date(2025, 1, 1)) -> dict[str, dt.date]:
    """``count`` notices about ``province`` in ``site``, one a day from ``first_day``, each
    with a link; returns their slugs and dates."""
    dates = {}
    for n in range(count):
        slug, day = f"bulk-{n:05d}", first_day + dt.timedelta(days=n)
        dates[slug] = day
        (site / "content" / "notices" / f"{slug}.md").write_text(
            f"---\ntitle: 第{n}号测试通知\ndate: {day.isoformat()}\nkind: general\n"
            f"provinces: [{province}]\nsummary: 第{n}号通知的摘要。\n---\n"
            f"第{n}号通知正文，详见[官方网站](https://www.gov.cn/n{n}/)。\n", encoding="utf-8")
    return dates


def notices_figures(tmp: Path, today: str, count: int = NOTICES) -> dict:
    """No-op rebuilds of the four seed provinces without and with ``count`` notices (best
    of three each), and the size of /feed.xml with them."""
    figures = {}
    for label, notices in (("plain", 0), ("notices", count)):
        site = tmp / f"notices-{label}"
        for name in ("content", "calendars", "templates"):
            shutil.copytree(ROOT / name, site / name)
        for province in SEED_PROVINCES:
            shutil.copytree(ROOT / "regions" / province, site / "regions" / province,
                            ignore=shutil.ignore_patterns("_divisions.yaml"))
        write_notices(site, notices, first_day=dt.date(2012, 1, 1))
        out = tmp / f"notices-{label}-out"
        figures[f"{label} cold"] = run_build(site, out, today)[0]
        figures[label] = min(run_build(site, out, today)[0] for _ in range(3))
    figures["feed bytes"] = (out / "feed.xml").stat().st_size
    return figures


def print_notices_figures(figures: dict, count: int = NOTICES) -> None:
    ratio = figures["notices"] / figures["plain"]
    print(f"{count:,} notices (four seed provinces): no-op rebuild {figures['notices']:.2f} s "
          f"= {ratio:.2f} × the {figures['plain']:.2f} s without them   target ≤ 2 ×  "
          f"(cold {figures['notices cold']:.2f} s); feed.xml {figures['feed bytes'] / 1e3:,.0f} "
          "KB (the newest 50 notices)")


SLOW_LINK = {"offline": False, "latency": 400, "downloadThroughput": 400 * 1024 / 8,
             "uploadThroughput": 400 * 1024 / 8}


def search_figures(out: Path, query: str = "pidu") -> dict:
    """Sizes of the search index (plain and gzip; the old single file beside the shards)
    and, in Chromium on a 400 kbit/s, 400 ms link, the seconds from the first keystroke
    (typed as soon as the home page has loaded) to the first result. The static server
    sends the files uncompressed."""
    import functools
    import gzip
    import http.server
    import threading

    from playwright.sync_api import sync_playwright

    from erjian.devtools.chromium import launch

    def size(paths) -> tuple[int, int]:
        data = [p.read_bytes() for p in paths]
        return sum(map(len, data)), sum(len(gzip.compress(d, 9)) for d in data)
    shards = sorted((out / "api" / "search").glob("*.json"))
    sizes = {"api/search.json (before)": size([out / "api/search.json"]),
             f"api/search/*.json ({len(shards)} shards)": size(shards),
             "largest shard": max((size([p]) for p in shards), default=(0, 0)),
             f"shard of '{query[0]}'": size([out / "api/search" / f"{query[0]}.json"])}
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass
    handler = functools.partial(Quiet, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as playwright:
            browser = launch(playwright)
            page = browser.new_page(viewport={"width": 390, "height": 844})
            cdp = page.context.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send("Network.emulateNetworkConditions", SLOW_LINK)
            page.goto(f"http://127.0.0.1:{server.server_port}/", wait_until="load")
            page.focus("#region-filter")
            started = time.monotonic()
            page.keyboard.type(query)
            page.locator("#filter-results a").first.wait_for(timeout=60000)
            seconds = time.monotonic() - started
            first = page.locator("#filter-results a").first.inner_text()
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return {"sizes": sizes, "seconds": seconds, "query": query, "first": first}


def print_search_figures(figures: dict) -> None:
    for name, (plain, packed) in figures["sizes"].items():
        print(f"search index {name:32} {plain / 1024:6.1f} KB, gzip {packed / 1024:5.1f} KB")
    print(f"search on a 400 kbit/s, 400 ms link: first result ({figures['first']}) for "
          f"'{figures['query']}' {figures['seconds']:.2f} s after the first keystroke "
          "(uncompressed)  target ≤ 2 s")


HARVEST_SOURCES = 32
HARVEST_SITE = ROOT / "tests" / "fixtures" / "harvest_sites" / "rsks.test.gov.cn"


def harvest_server(ca_bundle: Path, hosts: list[str]):
    """An HTTPS server on 127.0.0.1 serving the fixture province site under every name of
    ``hosts`` (ETags and 304s as a real site; its robots.txt without Crawl-delay); the CA
    bundle that trusts it is written to ``ca_bundle``."""
    import hashlib
    import http.server
    import ssl
    import threading

    import trustme

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            path = self.path.split("?", 1)[0]
            file = HARVEST_SITE / path.lstrip("/")
            body = file.read_bytes() if file.is_file() else None
            if path == "/robots.txt":   # the fixture's rules, without its Crawl-delay
                body = b"".join(line for line in body.splitlines(True)
                                if not line.lower().startswith(b"crawl-delay"))
            tag = body is not None and '"%s"' % hashlib.sha1(body).hexdigest()[:16]
            code = 404 if body is None else 304 if self.headers.get("If-None-Match") == tag \
                else 200
            self.send_response(code)
            self.send_header("Content-Type", "text/html")
            if tag:
                self.send_header("ETag", tag)
            payload = body if code == 200 else b""
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(ca_bundle))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*hosts).configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def harvest_figures(tmp: Path, today: str) -> dict:
    """A harvest of HARVEST_SOURCES fixture notice lists, first run and an unchanged second
    run, each as its own process: (seconds, requests, bytes) per run."""
    import re

    hosts = [f"p{n:02d}.test.gov.cn" for n in range(1, HARVEST_SOURCES + 1)]
    site = tmp / "harvest-site"
    for name in ("content", "calendars", "templates"):
        shutil.copytree(ROOT / name, site / name)
    for province in SEED_PROVINCES:
        shutil.copytree(ROOT / "regions" / province, site / "regions" / province,
                        ignore=shutil.ignore_patterns("_divisions.yaml"))
    layer = site / "calendars" / "national" / "layer.yaml"
    layer.write_text(layer.read_text(encoding="utf-8").split("\nsearch:")[0] + "\n",
                     encoding="utf-8")
    watched = "".join(f"      - url: https://{host}/kszx/list.html\n" for host in hosts)
    for path in (site / "regions").glob("*/province.yaml"):   # only the fixture hosts
        watches = "    notices:\n" + watched if path == site / PROVINCE_FILE else ""
        text = re.sub(r"    notices:.*\n(?:      - url: .*\n)*", watches,
                      path.read_text(encoding="utf-8"))
        path.write_text(text, encoding="utf-8")
    server = harvest_server(tmp / "harvest-ca.pem", hosts)
    port = server.server_address[1]
    env = dict(os.environ, SSL_CERT_FILE=str(tmp / "harvest-ca.pem"),
               ERJIAN_VERIFY_RESOLVE=",".join(f"{h}=127.0.0.1:{port}" for h in hosts))
    runs = {}
    try:
        for label in ("first run", "unchanged second run"):
            started = time.perf_counter()
            done = subprocess.run(
                [sys.executable, str(ROOT / "build.py"), "--root", str(site), "harvest",
                 "--state", str(tmp / "harvest-state"), "--delay", "0", "--today", today,
                 "--allow-address", "127.0.0.1"], capture_output=True, text=True, env=env)
            seconds = time.perf_counter() - started
            found = re.search(r"(\d+) requests, (\d+) bytes", done.stdout)
            if done.returncode or not found:
                raise RuntimeError(f"harvest failed: {done.stderr[-2000:]}")
            runs[label] = (seconds, int(found[1]), int(found[2]))
    finally:
        server.shutdown()
        server.server_close()
    return runs


def print_harvest_figures(runs: dict) -> None:
    print(f"harvest of {HARVEST_SOURCES} fixture notice lists over local HTTPS (no politeness "
          "pauses: --delay 0, no Crawl-delay):")
    for label, (seconds, requests, size) in runs.items():
        print(f"  {label:22} {seconds:6.2f} s   {requests:4d} requests   {size:9,d} bytes")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--today", default="2026-06-15")
    parser.add_argument("--no-serve", action="store_true",
                        help="skip the live-preview figures (they need Chromium)")
    parser.add_argument("--notices-only", action="store_true",
                        help=f"only the figures of a site with {NOTICES:,} notices")
    parser.add_argument("--harvest-only", action="store_true",
                        help=f"only the figures of a harvest of {HARVEST_SOURCES} sources")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="erjian-bench-") as tmp:
        tmp = Path(tmp)
        if args.harvest_only:
            print_harvest_figures(harvest_figures(tmp, "2027-08-20"))
            return 0
        if args.notices_only:
            print_notices_figures(notices_figures(tmp, args.today))
            return 0
        site = tmp / "site"
        for name in ("content", "regions", "calendars", "templates", "divisions"):
            shutil.copytree(ROOT / name, site / name)
        colds = [run_build(site, tmp / f"cold{n}", args.today, tmp / f"cache{n}")
                 for n in range(2)]
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        out = tmp / "output"
        cold, cold_line = run_build(site, out, args.today)
        colds.append((cold, cold_line))
        cold = min(seconds for seconds, _ in colds)
        noop, noop_line = run_build(site, out, args.today)
        set_note(site / REGION_FILE, "基准测试：第一次增量构建。")
        first, first_line = run_build(site, out, args.today)
        regions = []
        for n in range(3):
            set_note(site / REGION_FILE, f"基准测试第{n}次修改了这个地区。")
            regions.append(run_build(site, out, args.today))
        region, region_line = min(regions)
        provinces = []
        for n in range(3):
            set_note(site / PROVINCE_FILE, f"基准测试第{n}次修改了这个省份。")
            provinces.append(run_build(site, out, args.today))
        province, province_line = min(provinces)
        floors = [floor_seconds(out, tmp / f"floor{n}") for n in range(3)]
        floor, files, size = min(floors)
        pages = sum(1 for _ in out.rglob("index.html"))
        for edited in (REGION_FILE, PROVINCE_FILE):   # the preview edits start from these
            shutil.copyfile(ROOT / edited, site / edited)
        previews = {} if args.no_serve else preview_latency(site, args.today)
        search = {} if args.no_serve else search_figures(out)
        notices = notices_figures(tmp, args.today)
        harvested = harvest_figures(tmp, "2027-08-20")

    command = "make bench (python -m erjian.devtools.bench)"
    print(f"national site: {files} files ({pages} HTML pages), {size / 1e6:.1f} MB; "
          f"{os.cpu_count()} cores; figures from `{command}`")
    print(f"floor (Python writing the same bytes):   {floor:7.2f} s  (best of "
          + ", ".join(f"{f[0]:.2f}" for f in floors) + ")")
    print(f"cold build:        {cold:7.2f} s  = {cold / floor:5.2f} × floor   "
          f"({pages / cold:,.0f} pages/s, {files / cold:,.0f} files/s)   target ≤ 2 × floor"
          "  (best of " + ", ".join(f"{c[0]:.2f}" for c in colds) + ")")
    print(f"no-op rebuild:     {noop:7.2f} s  = {noop / cold:6.1%} of cold  "
          f"= {noop / floor:5.2f} × floor   target ≤ 5 % of cold")
    print(f"first incremental: {first:7.2f} s  = {first / cold:6.1%} of cold  "
          "(makes the spare tree of hard links, once after the first build)")
    print(f"one region edited: {region:7.2f} s  = {region / cold:6.1%} of cold  "
          f"= {region / floor:5.2f} × floor   target ≤ 3 % of cold  (best of "
          + ", ".join(f"{r[0]:.2f}" for r in regions) + ")")
    print(f"one province edited:{province:6.2f} s  = {province / cold:6.1%} of cold  "
          f"= {province / floor:5.2f} × floor  (best of "
          + ", ".join(f"{p[0]:.2f}" for p in provinces) + ")")
    workers = int(os.environ.get("ERJIAN_WORKERS") or os.cpu_count() or 1)
    print(f"peak memory: largest process {peak_kb / 1024:.0f} MB; a build and its "
          f"{workers} workers together at most {(workers + 1) * peak_kb / 1024:.0f} MB   "
          "target ≤ 600 MB")
    print_notices_figures(notices)
    if search:
        print_search_figures(search)
    print_harvest_figures(harvested)
    if previews:
        print("live preview in Chromium, file saved → change visible in the open guide page "
              f"({len(next(iter(previews.values())))} edits each; target median ≤ 0.5 s, "
              "worst ≤ 1 s):")
        for what, seconds in previews.items():
            print(f"  {what:20} median {statistics.median(seconds):.2f} s   worst "
                  f"{max(seconds):.2f} s")
    for label, line in (("cold", cold_line), ("no-op", noop_line), ("first", first_line),
                        ("region", region_line), ("province", province_line)):
        print(f"  {label:8} {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
