"""Live preview: ``python build.py serve``, the tornado server around the preview's app.

A tornado server on 127.0.0.1 serves the site from memory through ``app.Preview`` (a WSGI
app holding the HTTP policy, with the server's own address as base URL): it writes no files,
so ``output/`` and what gets published are never touched. This module only adapts tornado's
requests to the app, runs python-livereload's websocket, and watches the input.

When anything under the input folders changes, the input is read again (only changed files
are parsed, unchanged provinces are kept), the pages open in browsers are rendered first,
and the browsers are told to reload; any other page is rendered when it is asked for. The
page's script (``/__preview__/reload.js``) speaks python-livereload's protocol over
``/livereload``; a stylesheet edit swaps the stylesheet in place, anything else reloads the
page, and a dropped connection is retried (and the page reloaded once the server is back).

Changes are found by polling the input folders twenty times a second; each one triggers a
refresh and a reload message to every connected browser (python-livereload's websocket
handler; its own watcher, which ignores a change within 3 s of the previous reload, is not
used). Browsers are told which input file changed by its path relative to the site.

The server listens on 127.0.0.1 only. It stays bounded under a flood: it accepts
connections itself (``Acceptor``), keeps at most ``connection_limit()`` open (64, fewer
under a low ``ulimit -n``) and closes the rest at once, pauses accepting for a moment when
out of file descriptors instead of retrying in a busy loop, closes a connection that sends
no complete request within 20 s, and writes at most 20 log lines a second, then one line
counting the rest (``QuietHandler``).
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import logging
import os
import socket
import sys
import time
from pathlib import Path

from erjian.core.errors import UserError, display_path
from erjian.core.layout import INPUT_FOLDERS
from erjian.input.read_files import outside_root
from erjian.preview.app import ALLOWED_METHODS, Preview, page_path

WATCHED = INPUT_FOLDERS


class Changes:
    """Notices changed, added and removed files under the watched folders of ``root`` by
    comparing modification times and sizes; cheap enough to run twenty times a second (a site
    has a few hundred input files). A watched folder that is a link leaving the site is not
    walked (the build refuses it; walking it could mean walking the whole disk)."""

    def __init__(self, root: Path, names=WATCHED):
        self.root, self.names = Path(root), names
        self.seen = self._scan()

    def _folders(self) -> list[Path]:
        return [self.root / name for name in self.names if (self.root / name).is_dir()
                and not outside_root(self.root / name, self.root)]

    def _scan(self) -> dict:
        found = {}
        for folder in self._folders():
            for base, dirs, files in os.walk(folder):
                dirs[:] = [d for d in dirs if not d.startswith(".")]
                for name in files:
                    path = os.path.join(base, name)
                    try:
                        stat = os.stat(path)
                    except OSError:
                        continue
                    found[path] = (stat.st_mtime_ns, stat.st_size)
        return found

    def pending(self) -> bool:
        """Whether something changed since the last poll (without taking it in)."""
        return self._scan() != self.seen

    def poll(self) -> list[str]:
        now = self._scan()
        changed = sorted(p for p in set(now) | set(self.seen) if now.get(p) != self.seen.get(p))
        self.seen = now
        return changed


POLL_MS = 50   # a scan of the input folders takes about a millisecond

def reload_path(changed: list[str]) -> str:
    """The one path a reload message names for a batch of changed files: a stylesheet
    only when every change is a stylesheet (the page then swaps it in place), else the
    first other file (the page reloads)."""
    others = [path for path in changed if not path.lower().endswith(".css")]
    return (others or changed)[0]


def serve(root: Path, today: dt.date, port: int, base_url: str | None = None) -> int:
    from tornado.httpserver import HTTPServer
    from tornado.ioloop import IOLoop, PeriodicCallback

    sockets = listen(port)
    port = sockets[0].getsockname()[1]
    preview = Preview(root, today, base_url=base_url or f"http://127.0.0.1:{port}/",
                      port=port)
    preview.rebuild()
    changes = Changes(root)

    unsent: list[str] = []   # changes whose reload a newer edit superseded

    def check() -> None:
        changed = changes.poll()
        if changed:
            failed_before = preview.error is not None
            preview.rebuild()
            unsent.extend(changed)
            if not preview.warm(open_pages(), changes.pending):
                return   # a newer edit: the next check refreshes for it
            paths = [display_path(Path(path), Path(root)) for path in unsent]
            unsent.clear()
            if failed_before or preview.error is not None:
                paths = [p for p in paths if not p.lower().endswith(".css")] or ["*"]
            tell_browsers(reload_path(paths), preview.generation)

    log = _log_to(sys.stderr)
    server = HTTPServer(application(preview), idle_connection_timeout=IDLE_SECONDS,
                        body_timeout=IDLE_SECONDS)
    acceptors = [Acceptor(server, sock, connection_limit()) for sock in sockets]
    for acceptor in acceptors:
        acceptor.start()

    def poll() -> None:
        log.report_suppressed()
        check()

    PeriodicCallback(poll, POLL_MS).start()
    print(f"serving the site from memory on http://127.0.0.1:{port}/ (Ctrl-C stops)",
          file=sys.stderr, flush=True)
    try:
        IOLoop.current().start()
    except KeyboardInterrupt:
        pass
    finally:
        for acceptor in acceptors:
            acceptor.stop()
    return 0


def open_pages() -> list[str]:
    """The URL paths of the pages open in connected browsers (as their script said)."""
    from livereload.handlers import LiveReloadHandler

    return sorted({getattr(waiter, "page_path", None) or "/"
                   for waiter in LiveReloadHandler.waiters})


def listen(port: int) -> list[socket.socket]:
    """Sockets bound to 127.0.0.1:``port`` (0: any free port); UserError when the port
    is taken or reserved."""
    from tornado.netutil import bind_sockets

    try:
        return bind_sockets(port, address="127.0.0.1")
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise UserError(f"port {port} is in use; pass --port {free_port(port + 1)}",
                            "or stop the program that is using it") from None
        if exc.errno in (errno.EACCES, errno.EPERM):
            raise UserError(f"port {port} is reserved for the administrator; pass --port "
                            f"{free_port(8000)}") from None
        raise


def free_port(first: int) -> int:
    """The first port from ``first`` on that 127.0.0.1 can listen on (any free one when
    none of the next few is)."""
    for candidate in [p for p in range(first, first + 20) if 1024 <= p <= 65535] + [0]:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise UserError("no free port on 127.0.0.1")


def application(preview: Preview):
    """The preview's tornado application: livereload's websocket, guarded, and every other
    request (the preview's own script included) answered by the WSGI app ``preview``."""
    from tornado import web

    return web.Application([
        (r"/livereload", _reload_socket(), {"port": preview.port, "preview": preview}),
        (r".*", _site_handler(), {"app": preview, "port": preview.port}),
    ], debug=False)


def tell_browsers(path: str, generation: str = "") -> None:
    """Tell every connected browser to reload. ``path``, relative to the site, only tells
    the page whether a stylesheet alone can be swapped ('*' or any other file: reload)."""
    from livereload.handlers import LiveReloadHandler

    message = {"command": "reload", "path": path, "liveCSS": True, "liveImg": True,
               "build": generation}
    for waiter in list(LiveReloadHandler.waiters):
        try:
            waiter.write_message(message)
        except Exception:   # the browser went away between the check and the write
            LiveReloadHandler.waiters.discard(waiter)


def wsgi_environ(request, port: int) -> dict:
    """A WSGI environment for a tornado request (tornado's own builder fails on a Host
    header with a port that is not a number)."""
    import io

    from tornado.escape import url_unescape

    environ = {
        "REQUEST_METHOD": request.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": url_unescape(request.path, encoding=None, plus=False).decode("latin-1"),
        "QUERY_STRING": request.query,
        "REMOTE_ADDR": request.remote_ip or "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": str(port),
        "SERVER_PROTOCOL": request.version,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(request.body or b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for key, value in request.headers.items():   # a repeated header: values joined by ','
        name = key.replace("-", "_").upper()
        environ[name if name in ("CONTENT_TYPE", "CONTENT_LENGTH") else "HTTP_" + name] = value
    return environ


class _PlainErrors:
    """tornado's own refusals (a method it does not know, a malformed request, a refused
    host) as one plain line, never a traceback; 405 says which methods are allowed."""

    allowed = "GET"

    def write_error(self, status_code: int, **kwargs) -> None:
        if status_code == 405:
            self.set_header("Allow", self.allowed)
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(f"{status_code} {self._reason}\n")


def _site_handler():
    from tornado import web

    class SiteHandler(_PlainErrors, web.RequestHandler):
        """Every request but livereload's, answered by the preview's WSGI app."""

        allowed = ALLOWED_METHODS

        def initialize(self, app, port: int) -> None:
            self.app, self.port = app, port

        def compute_etag(self):
            return None   # no-store: nothing to revalidate

        def prepare(self) -> None:
            answer: dict = {}

            def start_response(status, headers, exc_info=None):
                answer.update(status=status, headers=headers)

            body = b"".join(self.app(wsgi_environ(self.request, self.port), start_response))
            code, _, reason = answer["status"].partition(" ")
            self.set_status(int(code), reason)
            for name, value in answer["headers"]:
                self.set_header(name, value)
            if body:
                self.write(body)
            self.finish()

    return SiteHandler


def _reload_socket():
    from livereload.handlers import LiveReloadHandler

    class ReloadSocket(_PlainErrors, LiveReloadHandler):
        """livereload's websocket, open only to this preview's own pages."""

        def initialize(self, port: int, preview: Preview) -> None:
            self.port, self.preview = port, preview

        def prepare(self) -> None:
            """Refuses what the app's policy refuses (checked here rather than only through
            tornado's check_origin, which tornado skips when the Origin's host and port
            equal the Host header's, whatever its scheme)."""
            from tornado.web import HTTPError

            if not self._allowed(self.request.headers.get("Origin")):
                raise HTTPError(403)

        def check_origin(self, origin: str) -> bool:
            return self._allowed(origin)

        def _allowed(self, origin: str | None) -> bool:
            return self.preview.socket_allowed(self.request.headers.get("Host"), origin)

        def on_message(self, message) -> None:
            try:
                data = json.loads(message)
            except (TypeError, ValueError):
                data = None
            if not isinstance(data, dict) or not isinstance(data.get("command"), str):
                self.close(1003, "expected livereload protocol messages")
                return
            super().on_message(message)
            if data["command"] == "info":
                self.page_path = page_path(data.get("url"), self.port)
            if data["command"] == "info" and self in self.waiters:
                # our own addition: from here on the page is told of every rebuild, and it
                # learns the current build, to reload if it missed one while connecting
                self.write_message({"command": "ready", "build": self.preview.generation})

    return ReloadSocket


def _log_to(stream) -> "QuietHandler":
    """Requests tornado refuses or fails on (4xx, 5xx), and any other warning (tornado's,
    asyncio's), as one line each on ``stream``, at most LOG_LINES_PER_SECOND of them."""
    from tornado.log import LogFormatter

    channel = QuietHandler(stream)
    channel.setFormatter(LogFormatter())
    logging.getLogger().addHandler(channel)
    return channel


LOG_LINES_PER_SECOND = 20


class QuietHandler(logging.StreamHandler):
    """A stream handler that writes at most ``per_second`` records a second; the rest are
    counted, and the count is written as one line once writing resumes (or when
    ``report_suppressed`` is called, as the preview does twenty times a second)."""

    def __init__(self, stream, per_second: int = LOG_LINES_PER_SECOND, clock=time.monotonic):
        super().__init__(stream)
        self.per_second, self.clock = per_second, clock
        self.second, self.written, self.suppressed = clock(), 0, 0

    def emit(self, record) -> None:
        if not self._room():
            self.suppressed += 1
            return
        self.report_suppressed()
        self.written += 1
        super().emit(record)

    def _room(self) -> bool:
        now = self.clock()
        if now - self.second >= 1.0:
            self.second, self.written = now, 0
        return self.written < self.per_second

    def report_suppressed(self) -> None:
        if not self.suppressed or not self._room():
            return
        count, self.suppressed = self.suppressed, 0
        self.written += 1
        self.stream.write(f"… {count} log messages suppressed (more than {self.per_second} "
                          "a second)\n")
        self.flush()


MAX_CONNECTIONS = 64      # a few browser tabs use a dozen
FILES_KEPT_FREE = 32      # descriptors left for the build's own files, the loop, the log
IDLE_SECONDS = 20         # a connection that sends no complete request in this long is closed
ACCEPT_PAUSE_SECONDS = 0.25


def connection_limit() -> int:
    """How many connections the preview keeps open at once: MAX_CONNECTIONS, or fewer when
    the process may open few files (``ulimit -n``)."""
    import resource

    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return MAX_CONNECTIONS
    return max(4, min(MAX_CONNECTIONS, soft - FILES_KEPT_FREE))


class Acceptor:
    """Accepts connections on ``sock`` for ``server``, in place of tornado's accept handler,
    which spins when the process is out of file descriptors: accept() fails with EMFILE, the
    connection stays queued, the socket stays readable and the handler runs again at once,
    logging a traceback each time. Here, accepting pauses instead (ACCEPT_PAUSE_SECONDS, one
    log line), and a connection beyond ``limit`` open ones is closed as soon as accepted."""

    log = logging.getLogger("tornado.general")

    def __init__(self, server, sock: socket.socket, limit: int):
        self.server, self.sock, self.limit = server, sock, limit
        self.streams: set = set()
        self.paused = None

    def start(self) -> None:
        from tornado.ioloop import IOLoop

        self.paused = None
        IOLoop.current().add_handler(self.sock, self._accept, IOLoop.READ)

    def stop(self) -> None:
        from tornado.ioloop import IOLoop

        if self.paused is not None:
            IOLoop.current().remove_timeout(self.paused)
        else:
            IOLoop.current().remove_handler(self.sock)
        self.sock.close()

    def _accept(self, fd, events) -> None:
        for _ in range(128):   # then let the loop serve what was accepted
            try:
                connection, address = self.sock.accept()
            except BlockingIOError:
                return
            except ConnectionAbortedError:
                continue
            except OSError as exc:
                if exc.errno not in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    raise
                self._pause(exc)
                return
            if self._open() >= self.limit:
                connection.close()
                self.log.warning("closed a new connection: %d are open, the most the "
                                 "preview keeps", self.limit)
                continue
            self._serve(connection, address)

    def _open(self) -> int:
        self.streams = {stream for stream in self.streams if not stream.closed()}
        return len(self.streams)

    def _serve(self, connection: socket.socket, address) -> None:
        from tornado.iostream import IOStream

        stream = IOStream(connection, max_buffer_size=self.server.max_buffer_size,
                          read_chunk_size=self.server.read_chunk_size)
        self.streams.add(stream)
        self.server.handle_stream(stream, address)

    def _pause(self, exc: OSError) -> None:
        from tornado.ioloop import IOLoop

        loop = IOLoop.current()
        loop.remove_handler(self.sock)
        self.paused = loop.call_later(ACCEPT_PAUSE_SECONDS, self.start)
        self.log.warning("cannot accept connections (%s; %d are open): waiting %.2f s",
                         exc.strerror, self._open(), ACCEPT_PAUSE_SECONDS)
