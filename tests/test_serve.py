"""Live preview, end to end: a real server process, real HTTP, real file edits."""

import asyncio
import contextlib
import json
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from conftest import ROOT, copy_site, run_cli

pytestmark = pytest.mark.slow   # preview servers in their own processes

PAGE = "/xinjiang/tacheng/jidian/"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(port, path=PAGE):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8")


def wait_for(port, condition, timeout=30.0, path=PAGE):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = fetch(port, path)
            if condition(*last):
                return last
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"condition not met within {timeout}s; last response: {last!r:.300}")


@contextlib.contextmanager
def running_server(site, folder, port_argument: str):
    """A preview server process for ``site``, logging into ``folder``; yields (port, log).
    With port 0 the port is read from the line the server prints."""
    log = open(folder / "serve.log", "w")
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "build.py"), "--root", str(site), "serve", "--port",
         port_argument, "--today", "2026-06-15"],
        stdout=log, stderr=subprocess.STDOUT, cwd=folder)
    try:
        port = int(port_argument) or announced_port(folder / "serve.log")
        wait_for(port, lambda status, body: status == 200)
        yield port, folder / "serve.log"
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def announced_port(log, timeout=30.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.search(r"on http://127\.0\.0\.1:(\d+)/", log.read_text(encoding="utf-8"))
        if found:
            return int(found.group(1))
        time.sleep(0.1)
    raise AssertionError(f"no 'serving … on' line: {log.read_text(encoding='utf-8')!r:.300}")


@pytest.fixture
def server(site, tmp_path):
    with running_server(site, tmp_path, str(free_port())) as (port, log):
        yield port, site, log


@pytest.fixture(scope="module")
def quiet_server(tmp_path_factory):
    """One server for the protocol checks, which change nothing."""
    folder = tmp_path_factory.mktemp("preview")
    site = copy_site(folder / "site")
    with running_server(site, folder, str(free_port())) as (port, log):
        yield port, log


def test_preview_follows_edits_and_shows_errors_until_fixed(server):
    port, site, log = server
    status, body = fetch(port)
    assert status == 200 and "塔城地区" in body and "/__preview__/reload.js" in body
    region = site / "regions" / "xinjiang" / "tacheng.yaml"
    original = region.read_text(encoding="utf-8")

    region.write_text(original + "note: 预览里的新说明。\n", encoding="utf-8")
    wait_for(port, lambda status, body: status == 200 and "预览里的新说明" in body)

    region.write_text(original + "authorites: []\n", encoding="utf-8")
    status, body = wait_for(port, lambda status, body: "build failed" in body)
    assert "regions/xinjiang/tacheng.yaml:3" in body and "authorites" in body
    assert "did you mean" in body and "/__preview__/reload.js" in body
    assert request(port, "GET", PAGE)[1]["x-erjian-build"] == "failed"
    assert "regions/xinjiang/tacheng.yaml:3" in log.read_text(encoding="utf-8")

    region.write_text(original + "note: 修好了。\n", encoding="utf-8")
    wait_for(port, lambda status, body: status == 200 and "修好了" in body)


def raw_get(port, path):
    """A request line sent as written (no client-side normalisation of '..')."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    return int(head.split()[1]), body.decode("utf-8", "replace")


def test_preview_serves_nothing_outside_the_site(server):
    port, site, _ = server
    (site.parent / "secret.txt").write_text("top secret", encoding="utf-8")
    for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt",
                 "/%2e%2e%2f%2e%2e%2fsecret.txt", "/static/../../secret.txt",
                 "/xinjiang/../../secret.txt", "//secret.txt", "/%252e%252e/secret.txt",
                 "/..\\secret.txt", "/../../../../../../etc/passwd"):
        status, body = raw_get(port, path)
        assert "top secret" not in body and "root:" not in body, path
        assert status == 404, (path, status)


def test_preview_listens_on_loopback_only(server):
    port, _, _ = server
    listening = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if int(hex_port, 16) == port and state == "0A":   # 0A: LISTEN
                listening.append(address)
    assert listening == ["0100007F"]   # 127.0.0.1, and nowhere else


def test_connected_browser_is_told_to_reload(server):
    port, site, _ = server
    from tornado.websocket import websocket_connect

    async def listen():
        ws = await websocket_connect(f"ws://127.0.0.1:{port}/livereload")
        await ws.write_message(json.dumps({
            "command": "hello",
            "protocols": ["http://livereload.com/protocols/official-7"]}))
        await asyncio.wait_for(ws.read_message(), 10)  # the server's hello
        await ws.write_message(json.dumps({"command": "info",
                                           "url": f"http://127.0.0.1:{port}{PAGE}"}))
        # the preview's own addition: 'ready' once this socket will be told of rebuilds,
        # with the current build (python-livereload's watcher, which ignores a change
        # within 3 s of its last reload, is not used: no quiet wait is needed)
        ready = json.loads(await asyncio.wait_for(ws.read_message(), 10))
        assert ready["command"] == "ready" and ready["build"]
        region = site / "regions" / "xinjiang" / "tacheng.yaml"
        region.write_text(region.read_text(encoding="utf-8") + "note: 重新加载。\n",
                          encoding="utf-8")
        while True:
            message = json.loads(await asyncio.wait_for(ws.read_message(), 15))
            if message.get("command") == "reload" and message["path"].endswith("tacheng.yaml"):
                assert message["build"] != ready["build"]
                return message

    message = asyncio.run(listen())
    # the site-relative path only: a page learns nothing about the editor's disk
    assert message["path"] == "regions/xinjiang/tacheng.yaml"
    assert str(site) not in json.dumps(message) and "/tmp" not in json.dumps(message)
    assert "重新加载" in fetch(port)[1]


def request(port, method="GET", path="/", host=..., headers=()):
    """One raw HTTP/1.0 exchange: (status, headers with lower-case names, body bytes). The
    Host header is this server's unless given (None: no Host header at all)."""
    host = f"127.0.0.1:{port}" if host is ... else host
    lines = [f"{method} {path} HTTP/1.0"] + ([f"Host: {host}"] if host is not None else [])
    lines += [f"{name}: {value}" for name, value in headers]
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    fields = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), fields, body


def assert_no_traceback(log):
    text = log.read_text(encoding="utf-8")
    assert "Traceback" not in text and " 500 " not in text, text[-2000:]


def test_the_server_adapts_requests_to_the_app_and_back(quiet_server):
    """The policy itself is tested in-process (test_preview_app.py); through the real server
    each kind of answer keeps its status, headers and body, and what tornado parses itself
    (an odd Host, an encoded line break, a bare '%') never ends in a traceback."""
    port, log = quiet_server
    get_status, get_headers, get_body = request(port, "GET", PAGE)
    status, headers, body = request(port, "HEAD", PAGE)
    assert (get_status, status, body) == (200, 200, b"") and "塔城".encode() in get_body
    assert headers["content-length"] == get_headers["content-length"] == str(len(get_body))
    assert get_headers["content-type"] == "text/html; charset=utf-8"
    assert b"/__preview__/reload.js" in get_body
    status, headers, body = request(port, "OPTIONS", PAGE)
    assert (status, body) == (204, b"") and headers["allow"] == "GET, HEAD, OPTIONS"
    status, headers, _ = request(port, "POST", PAGE, headers=[("Content-Length", "0")])
    assert status == 405 and headers["allow"] == "GET, HEAD, OPTIONS"
    for host in (f"evil.example:{port}", "127.0.0.1:abc", None):
        for path in (PAGE, "/livereload"):
            status, _, body = request(port, "GET", path, host=host)
            assert status in (403, 421) and "塔城".encode() not in body, (host, path)
    assert request(port, "GET", "/static/style.css")[1]["content-type"] == \
        "text/css; charset=utf-8"
    for path in ("/xinjiang/%0d%0aSet-Cookie:x=1", "/%", "/%zz", "/no/such/page/"):
        status, headers, _ = request(port, "GET", path)
        assert status in (400, 404) and "set-cookie" not in headers, path
    assert_no_traceback(log)


def test_reload_socket_refuses_other_origins(quiet_server):
    port, _ = quiet_server
    from tornado.httpclient import HTTPClientError, HTTPRequest
    from tornado.websocket import websocket_connect

    async def opens(origin=None, host=None) -> bool:
        headers = {"Origin": origin} if origin else {}
        if host:
            headers["Host"] = host
        try:
            connection = await asyncio.wait_for(websocket_connect(HTTPRequest(
                f"ws://127.0.0.1:{port}/livereload", headers=headers)), 10)
        except HTTPClientError as exc:
            assert exc.code == 403
            return False
        connection.close()
        return True

    async def check():
        # the whole list of origins is checked in-process (test_preview_app.py); here, that
        # the socket asks the app, also where tornado's own check is skipped (https://
        # with this Host and port)
        assert await opens(f"http://127.0.0.1:{port}")
        for origin in (f"http://evil.example:{port}", f"https://127.0.0.1:{port}"):
            assert not await opens(origin), origin
        assert not await opens(host=f"evil.example:{port}")

    asyncio.run(check())


def test_busy_port_is_one_message(site, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, _, stderr = run_cli("--root", str(site), "serve", "--port", str(port),
                                  "--today", "2026-06-15")
    assert code == 1 and "Traceback" not in stderr
    found = re.match(rf"error: port {port} is in use; pass --port (\d+)\n", stderr)
    assert found, stderr
    with socket.socket() as probe:   # the port suggested is one that can be listened on
        probe.bind(("127.0.0.1", int(found.group(1))))
    assert not (tmp_path / "out").exists()   # refused before building anything


def test_port_zero_serves_on_a_free_port_and_says_which(site, tmp_path):
    with running_server(site, tmp_path, "0") as (port, log):
        assert port != 0
        status, body = fetch(port)
        assert status == 200 and "塔城地区" in body


def test_preview_html_replaces_the_published_policy():
    from erjian.preview.app import preview_html
    from erjian.site.render import CONTENT_SECURITY_POLICY

    page = (f'<html><head><meta http-equiv="Content-Security-Policy" '
            f'content="{CONTENT_SECURITY_POLICY}"></head><body></body></html>').encode()
    served = preview_html(page, "127.0.0.1:8000", "ab.3").decode()
    assert CONTENT_SECURITY_POLICY not in served
    assert "connect-src 'self' ws://127.0.0.1:8000;" in served
    assert served.count("Content-Security-Policy") == 1
    assert served.endswith('<script src="/__preview__/reload.js" data-build="ab.3" defer>'
                           '</script></head><body></body></html>')
    # a page without a policy gets the preview's; a fragment without <head> is left alone
    bare = preview_html(b"<html><head></head></html>", "127.0.0.1:8000").decode()
    assert "Content-Security-Policy" in bare and "reload.js" in bare
    assert preview_html(b"<p>x</p>", "127.0.0.1:8000") == b"<p>x</p>"


@pytest.mark.parametrize("failure", [
    FileNotFoundError(2, "No such file or directory", "/site/regions/x/gone.yaml"),
    RuntimeError("a bug in a stage"),
    KeyError("missing"),
])
def test_a_rebuild_that_fails_unexpectedly_keeps_the_server(monkeypatch, tmp_path, failure):
    """A file deleted while the build reads it, or a bug: the preview shows it, logs the
    traceback, and the next change builds again."""
    import io

    from erjian.preview import resident_site as resident
    from erjian.preview.app import Preview
    from conftest import TODAY

    def broken(*args, **kwargs):
        raise failure

    monkeypatch.setattr(resident, "Generation", broken)
    log = io.StringIO()
    preview = Preview(tmp_path, TODAY, stream=log, port=8000, cache_dir=tmp_path / "c")
    preview.rebuild()   # does not raise
    assert preview.error.startswith("error: ") and "hint: " in preview.error
    # a file that vanished is a message; anything else is a bug, logged with its traceback
    assert ("Traceback" in log.getvalue()) != isinstance(failure, OSError)
    answer = {}
    body = b"".join(preview(
        {"REQUEST_METHOD": "GET", "PATH_INFO": PAGE, "HTTP_HOST": "127.0.0.1:8000"},
        lambda status, headers, exc_info=None: answer.update(status=status)))
    assert answer["status"] == "200 OK" and b"build failed" in body
    if isinstance(failure, FileNotFoundError):
        assert b"gone.yaml: no such file or folder (moved or deleted while the build" in body
    else:
        assert b"the build failed unexpectedly" in body


def test_serve_writes_no_files(site, tmp_path):
    """The preview renders into memory: after a session the site's folder holds exactly what
    it held before (no output/, no preview folder), apart from the cache."""
    before = sorted(p.relative_to(site).as_posix() for p in site.rglob("*")
                    if ".cache" not in p.parts)
    with running_server(site, tmp_path, str(free_port())) as (port, _):
        fetch(port)
        fetch(port, "/")
    after = sorted(p.relative_to(site).as_posix() for p in site.rglob("*")
                   if ".cache" not in p.parts)
    assert after == before


def test_site_files_named_by_a_url_path():
    from erjian.preview.app import site_files

    assert site_files("/") == ["index.html"]
    assert site_files("/xinjiang/tacheng/") == ["xinjiang/tacheng/index.html"]
    assert site_files("/feed.xml") == ["feed.xml", "feed.xml/index.html"]
    assert site_files("/a/../b/") == [] and site_files("/a//b") == []


def test_reload_names_a_stylesheet_only_when_only_stylesheets_changed():
    from erjian.preview.server import reload_path

    assert reload_path(["templates/static/style.css"]) == "templates/static/style.css"
    assert reload_path(["regions/a.yaml", "templates/static/style.css"]) == "regions/a.yaml"
    assert reload_path(["templates/static/style.css", "templates/base.html"]) == \
        "templates/base.html"


def test_a_newer_edit_stops_the_warming_of_a_site_wide_page(site, tmp_path):
    """The home page needs every province's part; an edit that arrives meanwhile stops the
    work (the server then refreshes for the newer edit instead of finishing this one)."""
    import io

    from erjian.preview.app import Preview
    from conftest import TODAY

    preview = Preview(site, TODAY, stream=io.StringIO(), port=8000, cache_dir=tmp_path / "c")
    preview.rebuild()
    generation = preview.resident.current
    asked = []

    def superseded():
        asked.append(len([u for u in generation.units.values() if u.products]))
        return len(asked) > 2

    assert preview.warm(["/"], superseded) is False
    assert asked[-1] == 2 and "_site" not in generation.units
    assert preview.warm(["/"]) is True and "_site" in generation.units
