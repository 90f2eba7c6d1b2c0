"""Live preview, end to end: a real server process, real HTTP, real file edits."""

import asyncio
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from conftest import ROOT

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


@pytest.fixture
def server(site, tmp_path):
    port = free_port()
    log = open(tmp_path / "serve.log", "w")
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "build.py"), "--root", str(site), "serve", "--port",
         str(port), "--out", str(tmp_path / "out"), "--today", "2026-06-15"],
        stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    try:
        wait_for(port, lambda status, body: status == 200)
        yield port, site, tmp_path / "serve.log"
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def test_preview_follows_edits_and_shows_errors_until_fixed(server):
    port, site, log = server
    status, body = fetch(port)
    assert status == 200 and "塔城地区" in body and "livereload.js" in body
    region = site / "regions" / "xinjiang" / "tacheng.yaml"
    original = region.read_text(encoding="utf-8")

    region.write_text(original + "note: 预览里的新说明。\n", encoding="utf-8")
    wait_for(port, lambda status, body: status == 200 and "预览里的新说明" in body)

    region.write_text(original + "authorites: []\n", encoding="utf-8")
    status, body = wait_for(port, lambda status, body: status == 500)
    assert "regions/xinjiang/tacheng.yaml:3" in body and "authorites" in body
    assert "did you mean" in body and "livereload.js" in body
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
        # livereload ignores a change within 3 s of its last reload (it sends one at start):
        # wait for 4 quiet seconds first
        while True:
            try:
                await asyncio.wait_for(ws.read_message(), 4)
            except asyncio.TimeoutError:
                break
        region = site / "regions" / "xinjiang" / "tacheng.yaml"
        region.write_text(region.read_text(encoding="utf-8") + "note: 重新加载。\n",
                          encoding="utf-8")
        while True:
            message = json.loads(await asyncio.wait_for(ws.read_message(), 15))
            if message.get("command") == "reload" and message["path"].endswith("tacheng.yaml"):
                return message

    assert asyncio.run(listen())["command"] == "reload"
    assert "重新加载" in fetch(port)[1]
