"""The live preview as an editor uses it: `python build.py serve` in a real process, a guide
page open in Debian's Chromium (Playwright), files edited on disk, and the open page
changing by itself (never page.reload()) with a clean console: no error, no
Content-Security-Policy violation. The preview builds into its own folder, so output/ is
the same after a preview session as before it."""

import contextlib
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from browser_support import DESKTOP, browser, free_port  # noqa: F401 (fixture)
from conftest import ROOT, copy_site, run_cli

PAGE = "/xinjiang/tacheng/jidian/"
TODAY = "2026-06-15"
WAIT_MS = 10_000   # how long a page may take to follow an edit
FAST_POLL_MS = 100


def fetch(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8")


def wait_until_serving(url, process, log, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve exited: {log.read_text(encoding='utf-8')[-2000:]}")
        try:
            if fetch(url)[0] in (200, 500):
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"serve did not answer: {log.read_text(encoding='utf-8')[-2000:]}")


@contextlib.contextmanager
def preview_server(site: Path, log: Path, port: int, *extra: str):
    """``python build.py serve`` for ``site`` on ``port`` (with ``extra`` arguments);
    yields the origin once the guide page answers, stops the process afterwards."""
    with open(log, "a", encoding="utf-8") as stream:
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "build.py"), "--root", str(site), "serve", "--port",
             str(port), "--today", TODAY, *extra],
            stdout=stream, stderr=subprocess.STDOUT, cwd=site.parent)
        try:
            wait_until_serving(f"http://127.0.0.1:{port}{PAGE}", process, log)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(timeout=10)


def file_state(folder: Path) -> dict:
    """Every file and folder under ``folder`` with its content digest, size and mtime."""
    import hashlib

    state = {}
    for path in sorted(folder.rglob("*")):
        info = path.lstat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
        state[path.relative_to(folder).as_posix()] = (digest, info.st_size, info.st_mtime_ns)
    return state


@pytest.fixture(scope="module")
def preview(tmp_path_factory):
    """One preview server for the module, on a copy of the seed site whose output/ was
    built (the published way) before the server started. Yields (origin, site, log,
    output state before the preview)."""
    folder = tmp_path_factory.mktemp("preview-browser")
    site = copy_site(folder / "site")
    code, _, stderr = run_cli("--root", str(site), "--today", TODAY)
    assert code == 0, stderr
    published = file_state(site / "output")
    log = folder / "serve.log"
    with preview_server(site, log, free_port()) as origin:
        yield origin, site, log, published



class Opened:
    """A page of the preview in a fresh browser context, with every console error, page
    error and CSP violation it reports."""

    def __init__(self, browser, origin, path=PAGE):
        self.context = browser.new_context(**DESKTOP)
        self.page = self.context.new_page()
        self.problems = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        response = self.page.goto(origin + path, wait_until="load")
        self.status = response.status
        # the reload script has connected (its socket is open) before anything is edited
        self.page.wait_for_function("() => window.__previewConnected === true",
                                    timeout=WAIT_MS)

    def _console(self, message):
        if message.type == "error" or "Content Security Policy" in message.text:
            self.problems.append(f"console {message.type}: {message.text}")

    def wait_for_text(self, text, present=True):
        self.page.wait_for_function(
            "([text, present]) => document.body !== null && "
            "document.body.innerText.includes(text) === present",
            arg=[text, present], timeout=WAIT_MS, polling=FAST_POLL_MS)

    def close(self):
        self.context.close()


@pytest.fixture
def opened(preview, browser):
    origin = preview[0]
    pages = []

    def open_(path=PAGE):
        page = Opened(browser, origin, path)
        pages.append(page)
        return page

    yield open_
    for page in pages:
        page.close()


@contextlib.contextmanager
def edited(path: Path, change):
    """``path`` rewritten by ``change`` (text → text) for the ``with`` block, then put back."""
    original = path.read_text(encoding="utf-8")
    changed = change(original)
    assert changed != original
    path.write_text(changed, encoding="utf-8")
    try:
        yield
    finally:
        path.write_text(original, encoding="utf-8")


def replacing(old, new):
    def change(text):
        assert old in text, old
        return text.replace(old, new, 1)
    return change


def follows(opened, site, relative, change, marker, gone=None):
    """Open the guide page, edit ``relative``, and see the page show ``marker`` (and lose
    ``gone``) by itself; after the file is put back, the page is back by itself too."""
    view = opened()
    assert view.status == 200
    view.page.evaluate("window.__beforeEdit = true")
    with edited(site / relative, change):
        view.wait_for_text(marker)
        if gone:
            view.wait_for_text(gone, present=False)
        # a full reload: the page was loaded again, not patched
        assert view.page.evaluate("window.__beforeEdit") is None
    view.wait_for_text(marker, present=False)
    if gone:
        view.wait_for_text(gone)
    assert view.problems == []


EDITS = {
    "region YAML": ("regions/xinjiang/tacheng.yaml",
                    lambda text: text + "note: 预览中的地区说明。\n", "预览中的地区说明", None),
    "province YAML": ("regions/xinjiang/province.yaml",
                      replacing("按往年五月下旬周末的惯例录入", "预览中的省级考试说明"),
                      "预览中的省级考试说明", "按往年五月下旬周末的惯例录入"),
    "notice": ("content/notices/2026-xinjiang-eid-al-adha.md",
               replacing("正值二建阅卷期", "预览中的通知标题"), "预览中的通知标题",
               "正值二建阅卷期"),
    "guide text": ("content/guide/05-why-wait.md",
                   lambda text: text + "\n预览中的指南段落。\n", "预览中的指南段落", None),
    "template": ("templates/guide.html",
                 lambda text: re.sub(r"(<h1[^>]*>)", r"<p>预览中的模板文字</p>\1", text,
                                     count=1), "预览中的模板文字", None),
    "calendar": ("calendars/xinjiang/2026.yaml",
                 replacing("- name: 古尔邦节", "- name: 预览中的假日"),
                 "预览中的假日（2026年，新疆地方假日）", None),
}


@pytest.mark.parametrize("kind", EDITS)
def test_an_edit_reloads_the_open_page(preview, opened, kind):
    _, site, _, _ = preview
    relative, change, marker, gone = EDITS[kind]
    follows(opened, site, relative, change, marker, gone=gone)


def test_stylesheet_edit_is_applied_without_reloading(preview, opened):
    _, site, _, _ = preview
    view = opened()
    h1 = "getComputedStyle(document.querySelector('h1')).letterSpacing"
    assert view.page.evaluate(h1) != "7px"
    view.page.evaluate("window.__beforeEdit = 'still here'")
    view.page.evaluate("window.scrollTo(0, 400)")
    height = "document.querySelector('h1').getBoundingClientRect().height"
    before = view.page.evaluate(height)
    with edited(site / "templates/static/style.css",
                lambda text: text + "\nh1 { letter-spacing: 7px; }\n"):
        view.page.wait_for_function(f"() => {h1} === '7px'", timeout=WAIT_MS,
                                    polling=FAST_POLL_MS)
        assert view.page.evaluate("window.__beforeEdit") == "still here"   # no reload
        # the reader stays where they were: the browser's scroll anchoring moves the
        # position by exactly what the wider heading above it added (0 where it still fits)
        grown = view.page.evaluate(height) - before
        assert abs(view.page.evaluate("window.scrollY") - (400 + grown)) <= 1
        # the fresh stylesheet replaced the old one: still exactly one
        assert view.page.locator("link[rel=stylesheet]").count() == 1
    view.page.wait_for_function(f"() => {h1} !== '7px'", timeout=WAIT_MS,
                                polling=FAST_POLL_MS)
    assert view.page.evaluate("window.__beforeEdit") == "still here"
    assert view.problems == []


def test_broken_input_shows_in_the_open_page_until_fixed(preview, opened):
    _, site, log, _ = preview
    view = opened()
    region = site / "regions/xinjiang/tacheng.yaml"
    other = site / "regions/anhui/maanshan.yaml"
    with edited(region, lambda text: text + "authorites: []\n"), \
            edited(other, lambda text: text + "notes: 多余字段\n"):
        view.wait_for_text("regions/xinjiang/tacheng.yaml:3")
        view.wait_for_text("regions/anhui/maanshan.yaml:3")
        # every problem, each with its file, line, field, message and hint
        problems = view.page.locator("ol.problems > li")
        assert problems.count() == 2
        texts = [problems.nth(n).inner_text() for n in range(2)]
        assert "regions/anhui/maanshan.yaml:3: [notes] unknown field" in texts[0]
        assert "hint: did you mean 'note'?" in texts[0]
        assert "regions/xinjiang/tacheng.yaml:3: [authorites] unknown field" in texts[1]
        assert "hint: did you mean 'authorities'?" in texts[1]
        # fixing one file leaves the other problem on the page
        other.write_text(other.read_text(encoding="utf-8").replace("notes: 多余字段\n", ""),
                         encoding="utf-8")
        view.wait_for_text("maanshan.yaml", present=False)
        assert "regions/xinjiang/tacheng.yaml:3" in view.page.inner_text("body")
    view.wait_for_text("塔城地区")
    assert view.page.locator("h1").count() == 1
    assert "build failed" not in view.page.inner_text("body")
    assert view.problems == []
    assert "Traceback" not in log.read_text(encoding="utf-8")


def test_a_template_that_raises_shows_its_error_and_the_server_goes_on(preview, opened):
    _, site, log, _ = preview
    view = opened()
    with edited(site / "templates/guide.html",
                lambda text: re.sub(r"(<h1[^>]*>)", r"{{ no_such_thing.attr }}\1", text,
                                    count=1)):
        view.wait_for_text("templates/guide.html")
        assert "no_such_thing" in view.page.inner_text("body")
    view.wait_for_text("塔城地区")
    assert view.problems == []
    assert "Traceback" not in log.read_text(encoding="utf-8")


def test_a_deleted_region_file_is_followed_and_brought_back(preview, opened):
    _, site, log, _ = preview
    view = opened()
    region = site / "regions/xinjiang/tacheng.yaml"
    original = region.read_bytes()
    region.unlink()
    try:
        view.wait_for_text("页面不存在")   # the page is gone: the site's 404 page, live too
    finally:
        region.write_bytes(original)
    view.wait_for_text("塔城地区")
    assert [p for p in view.problems if "status of 404" not in p] == []
    assert "Traceback" not in log.read_text(encoding="utf-8")


def test_every_page_kind_loads_the_reload_script_without_console_errors(preview, opened):
    for path in ("/", "/xinjiang/", "/timeline/", "/notices/",
                 "/notices/2026-xinjiang-eid-al-adha/", "/methodology/"):
        view = opened(path)   # waits for the script's socket to open
        assert view.problems == [], path
    view = opened("/no/such/page/")   # the site's 404 page: the 404 itself is the only note
    assert view.status == 404
    assert [p for p in view.problems if "status of 404" not in p] == []


def test_the_preview_never_changes_what_gets_published(preview, opened):
    origin, site, _, published = preview
    follows(opened, site, "regions/xinjiang/tacheng.yaml",
            lambda text: text + "note: 只在预览里。\n", "只在预览里")
    # output/, built before the preview, is byte for byte and mtime for mtime the same
    assert file_state(site / "output") == published
    assert not (site / ".preview").exists()   # the preview renders into memory
    # the published pages keep the strict policy and carry nothing of the preview
    page = (site / "output" / PAGE.strip("/") / "index.html").read_text(encoding="utf-8")
    from erjian.site.render import CONTENT_SECURITY_POLICY
    assert f'content="{CONTENT_SECURITY_POLICY}"' in page
    for path in (site / "output").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert b"__preview__" not in data and b"ws://" not in data, path
            assert b"127.0.0.1" not in data, path
    # the preview's pages carry its own address (never published)
    # (Tacheng has nothing of its own: its canonical page is the province's)
    assert f'<link rel="canonical" href="{origin}/xinjiang/">' in fetch(origin + PAGE)[1]


def test_served_pages_carry_the_preview_policy_and_script_only(preview):
    origin, _, _, _ = preview
    status, body = fetch(origin + PAGE)
    assert status == 200
    policies = re.findall(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)"',
                          body)
    port = origin.rsplit(":", 1)[1]
    assert len(policies) == 1
    assert f"connect-src 'self' ws://127.0.0.1:{port}" in policies[0]
    assert "script-src 'self';" in policies[0] and "unsafe" not in policies[0]
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", body, re.S)
    executable = [(attrs, code) for attrs, code in scripts if "ld+json" not in attrs]
    assert all(code.strip() == "" and "src=" in attrs for attrs, code in executable)
    assert re.search(r'<script src="/__preview__/reload\.js" data-build="[0-9a-f]+\.\d+" '
                     r'defer></script></head>', body)


def test_the_page_reconnects_after_a_server_restart(tmp_path, browser):
    site = copy_site(tmp_path / "site")
    port = free_port()
    log = tmp_path / "serve.log"
    with preview_server(site, log, port) as origin:
        view = Opened(browser, origin)
    view.page.evaluate("window.__beforeRestart = true")
    region = site / "regions/xinjiang/tacheng.yaml"
    region.write_text(region.read_text(encoding="utf-8") + "note: 重启期间的改动。\n",
                      encoding="utf-8")
    try:
        with preview_server(site, log, port):
            # back: the page reloads by itself and shows what changed while it was away
            view.wait_for_text("重启期间的改动")
            assert view.page.evaluate("window.__beforeRestart") is None
            view.page.wait_for_function("() => window.__previewConnected === true",
                                        timeout=WAIT_MS)
            with edited(region, replacing("重启期间的改动", "重启之后的改动")):
                view.wait_for_text("重启之后的改动")
        # only the browser's own notes of the refused connections while the server was down
        down = re.compile(r"WebSocket connection to 'ws://127\.0\.0\.1:\d+/livereload' failed"
                          r"|ERR_CONNECTION_REFUSED")
        assert [p for p in view.problems if not down.search(p)] == []
    finally:
        view.close()

