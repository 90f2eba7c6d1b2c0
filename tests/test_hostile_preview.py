"""The live preview under attack (issue 20): it never follows a link out of the site (it
served /etc/passwd through templates/static → /etc while its own problem page said the link
"was not opened"), and it stays bounded and quiet when flooded with connections it has no
file descriptors for."""

import io
import os

import pytest

from conftest import TODAY
from erjian.preview import resident_site as resident
from erjian.preview.app import Preview
from erjian.preview.server import Changes

pytestmark = pytest.mark.slow   # preview servers and connection floods


def get(preview, path):
    """(status, body) of a GET through the preview's WSGI app."""
    answer = {}
    body = b"".join(preview(
        {"REQUEST_METHOD": "GET", "PATH_INFO": path, "HTTP_HOST": "127.0.0.1:8000"},
        lambda status, headers, exc_info=None: answer.update(status=status)))
    return int(answer["status"].split()[0]), body.decode("utf-8", "replace")


def started(site, tmp_path):
    preview = Preview(site, TODAY, stream=io.StringIO(), port=8000, cache_dir=tmp_path / "c")
    preview.rebuild()
    return preview


def link_static_to(site, target):
    static = site / "templates" / "static"
    static.rename(site / "static-moved")
    static.symlink_to(target)


@pytest.mark.parametrize("target", ["/etc", "outside"])
def test_a_static_folder_linked_out_of_the_site_is_not_served(site, tmp_path, target):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "passwd").write_text("root:x:0:0:secret\n", encoding="utf-8")
    link_static_to(site, "/etc" if target == "/etc" else outside)
    preview = started(site, tmp_path)
    status, body = get(preview, "/static/passwd")
    assert status == 403 and "root:" not in body
    assert body.startswith("error: templates/static: is a symbolic link to a place outside "
                           "the site's folder; it was not opened"), body
    # and the problem page says the same, now truthfully
    status, page = get(preview, "/")
    assert status == 200 and "build failed" in page
    assert "templates/static: is a symbolic link to a place outside the site" in page


def test_a_file_linked_out_of_the_site_is_not_served(site, tmp_path):
    secret = tmp_path / "secret.css"
    secret.write_text("top secret", encoding="utf-8")
    (site / "templates" / "static" / "leak.css").symlink_to(secret)
    status, body = get(started(site, tmp_path), "/static/leak.css")
    assert status == 403 and "top secret" not in body
    assert "templates/static/leak.css: is a symbolic link to a place outside" in body


def test_a_link_swapped_in_after_the_check_is_not_followed(site, tmp_path, monkeypatch):
    """The check is made on the path; the file is then opened without following any link,
    so a link that appears between the two is refused, not followed."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "style.css").write_text("top secret", encoding="utf-8")
    link_static_to(site, outside)
    monkeypatch.setattr(resident, "outside_root", lambda path, root: False, raising=False)
    preview = Preview(site, TODAY, stream=io.StringIO(), port=8000, cache_dir=tmp_path / "c")
    status, body = get(preview, "/static/style.css")
    assert status == 403 and "top secret" not in body
    assert "templates/static/style.css: was replaced (by a symbolic link" in body


def test_a_static_folder_linked_inside_the_site_is_served_as_the_build_copies_it(site,
                                                                                 tmp_path):
    link_static_to(site, site / "static-moved")
    preview = started(site, tmp_path)
    assert preview.error is None
    status, body = get(preview, "/static/style.css")
    assert status == 200
    assert body == (site / "static-moved" / "style.css").read_text(encoding="utf-8")


def test_a_fifo_in_the_static_folder_is_refused_without_hanging(site, tmp_path):
    os.mkfifo(site / "templates" / "static" / "pipe.css")
    preview = Preview(site, TODAY, stream=io.StringIO(), port=8000, cache_dir=tmp_path / "c")
    status, body = get(preview, "/static/pipe.css")
    assert status == 403 and "templates/static/pipe.css: is a FIFO (named pipe)" in body


def test_the_watcher_does_not_walk_a_folder_linked_out_of_the_site(site, tmp_path):
    """templates → / made the watcher walk the whole disk twenty times a second."""
    outside = tmp_path / "outside"
    (outside / "deep").mkdir(parents=True)
    (outside / "deep" / "file.html").write_text("x", encoding="utf-8")
    (site / "templates").rename(site / "templates-moved")
    (site / "templates").symlink_to(outside)
    changes = Changes(site)
    assert not [path for path in changes.seen if str(outside) in path or "deep" in path]
    assert any("regions" in path for path in changes.seen)


# --- bounded and quiet under a flood of connections ------------------------------------------

def cpu_seconds(pid: int) -> float:
    """User and system CPU time the process ``pid`` has used so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_a_flood_of_half_open_connections_with_few_descriptors_is_bounded_and_quiet(site,
                                                                                   tmp_path):
    """With ``ulimit -n 64`` and 300 connections that never send a request, tornado's
    accept loop spun at 100 % CPU on EMFILE and logged a traceback per turn (75 MB in 15 s).
    The preview keeps a bounded number of connections, closes the rest, writes a bounded
    log, and serves again once the flood is gone."""
    import resource
    import socket
    import subprocess
    import sys
    import time

    from conftest import ROOT
    from test_serve import announced_port, wait_for

    def few_descriptors():
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))

    log_path = tmp_path / "server.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "build.py"), "--root", str(site), "serve", "--port",
             "0", "--today", "2026-06-15"],
            stdout=log, stderr=subprocess.STDOUT, preexec_fn=few_descriptors)
    flood = []
    try:
        port = announced_port(log_path)
        wait_for(port, lambda status, body: status == 200, path="/")
        before, log_before = cpu_seconds(process.pid), log_path.stat().st_size
        for _ in range(300):
            connection = socket.socket()
            connection.setblocking(False)
            connection.connect_ex(("127.0.0.1", port))
            flood.append(connection)
        time.sleep(2)   # the flood's span; only CPU and bytes are measured over it
        used, logged = cpu_seconds(process.pid) - before, log_path.stat().st_size - log_before
        for connection in flood:
            connection.close()
        wait_for(port, lambda status, body: status == 200, path="/")
    finally:
        for connection in flood:
            connection.close()
        process.terminate()
        process.wait(timeout=10)
    text = log_path.read_text(encoding="utf-8")
    assert used < 0.5, f"{used:.2f} s of CPU during the flood"
    assert logged < 16_000, f"{logged} bytes of log during the flood"
    assert "closed a new connection: 32 are open, the most the preview keeps" in text
    assert "Traceback" not in text


def test_out_of_descriptors_the_preview_pauses_accepting_instead_of_spinning(caplog):
    """EMFILE leaves the connection queued and the socket readable: accepting again at once
    would spin. The acceptor stops listening for a moment, then serves the connection."""
    import asyncio
    import errno
    import socket

    from tornado.httpclient import AsyncHTTPClient
    from tornado.httpserver import HTTPServer
    from tornado.ioloop import IOLoop
    from tornado.web import Application, RequestHandler

    from erjian.preview.server import Acceptor

    class Hello(RequestHandler):
        def get(self):
            self.write("hello")

    class OutOfDescriptors:
        """A listening socket whose accept() fails with EMFILE the first ``failures``
        times."""

        def __init__(self, sock, failures):
            self.sock, self.failures, self.calls = sock, failures, 0

        def fileno(self):
            return self.sock.fileno()

        def accept(self):
            self.calls += 1
            if self.calls <= self.failures:
                raise OSError(errno.EMFILE, "Too many open files")
            return self.sock.accept()

        def close(self):
            self.sock.close()

    async def run():
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        failing = OutOfDescriptors(listener, failures=2)
        acceptor = Acceptor(HTTPServer(Application([(r"/", Hello)])), failing, limit=8)
        acceptor.start()
        loop = IOLoop.current()
        port = listener.getsockname()[1]
        paused = []
        original = acceptor._pause

        def pause(exc):
            original(exc)
            paused.append(listener.fileno() not in loop.handlers)   # not watched meanwhile

        acceptor._pause = pause
        response = await AsyncHTTPClient().fetch(f"http://127.0.0.1:{port}/")
        acceptor.stop()
        return response.body, failing.calls, paused

    body, calls, paused = asyncio.run(run())
    assert body == b"hello"
    # two failures with a pause each, then the connection and the empty queue
    assert paused == [True, True] and calls == 4
    lines = [r.getMessage() for r in caplog.records if "cannot accept" in r.getMessage()]
    assert len(lines) == 2 and "Too many open files" in lines[0]


def test_the_log_writes_at_most_its_lines_a_second_and_counts_the_rest():
    import logging

    from erjian.preview.server import QuietHandler

    now = [100.0]
    stream = io.StringIO()
    handler = QuietHandler(stream, per_second=5, clock=lambda: now[0])
    logger = logging.Logger("flood")
    logger.addHandler(handler)
    for number in range(1000):
        logger.warning("refused %d", number)
    assert stream.getvalue().splitlines() == [f"refused {n}" for n in range(5)]
    handler.report_suppressed()   # within the same second: still nothing more
    assert len(stream.getvalue().splitlines()) == 5
    now[0] += 1
    handler.report_suppressed()
    assert stream.getvalue().splitlines()[5:] == [
        "… 995 log messages suppressed (more than 5 a second)"]


def test_connections_are_limited_below_the_descriptors_the_process_may_open(monkeypatch):
    import resource

    from erjian.preview import server

    monkeypatch.setattr(resource, "getrlimit", lambda kind: (64, 64))
    assert server.connection_limit() == 32
    monkeypatch.setattr(resource, "getrlimit", lambda kind: (1 << 20, 1 << 20))
    assert server.connection_limit() == server.MAX_CONNECTIONS
    monkeypatch.setattr(resource, "getrlimit", lambda kind: (20, 20))
    assert server.connection_limit() == 4
