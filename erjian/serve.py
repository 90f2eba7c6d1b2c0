"""Live preview: ``python build.py serve``.

A tornado server on 127.0.0.1 serves the built site from a small WSGI app (with
python-livereload's websocket and script for reloading), rebuilds (incrementally) when
anything under regions/, content/, templates/ or calendars/ changes, and tells connected
browsers to reload. When the input is broken the server keeps running and
every page shows the problems (file, line, field) until the input is fixed.

Changes are found by polling the input folders ten times a second; each one triggers an
incremental rebuild and a reload message to every connected browser (python-livereload's
server and websocket protocol; its own watcher, which ignores a change within 3 s of the
previous reload, is not used).

The server answers only this machine's browser: it listens on 127.0.0.1, answers only
requests whose Host names a loopback address with its port (a page on another site that
rebinds its own name to 127.0.0.1 gets 403), accepts the reload websocket only from its own
origin, and tells browsers which input file changed by its path relative to the site.
"""

from __future__ import annotations

import datetime as dt
import errno
import html
import json
import mimetypes
import os
import socket
import sys
from pathlib import Path

from .errors import SiteError, UserError, display_path

WATCHED = ("regions", "content", "templates", "calendars")
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
ALLOWED_METHODS = "GET, HEAD, OPTIONS"
MAX_PATH_BYTES = 2048


class Preview:
    """The latest build's outcome and a WSGI app serving it. Rebuilds and requests both run
    on the server's single I/O-loop thread, so they never overlap."""

    def __init__(self, root: Path, out: Path, today: dt.date, stream=sys.stderr,
                 base_url: str | None = None, port: int = 8000, script: bytes = b""):
        self.root, self.out, self.today, self.stream = Path(root), Path(out), today, stream
        self.base_url, self.port, self.script = base_url, port, script
        self.error: str | None = None

    def rebuild(self) -> None:
        from .failures import explain_os_error
        from .pipeline import build

        try:
            result = build(self.root, self.out, self.today, base_url=self.base_url)
        except (SiteError, UserError, OSError) as exc:
            failure = explain_os_error(exc) if isinstance(exc, OSError) else exc
            if failure is None:
                raise  # not something the user did: a bug, logged with its traceback
            self.error = failure.report()
            print(self.error, file=self.stream, flush=True)
            return
        self.error = None
        for warning in result.warnings:
            print(warning.format(), file=self.stream)
        print(f"rebuilt: {result.summary()}", file=self.stream, flush=True)

    def wsgi(self, environ, start_response):
        refusal = self.refusal(environ)
        if refusal is not None:
            return _respond(start_response, environ, *refusal)
        path = request_path(environ)
        if self.error is not None and not (path or "").startswith("/static/"):
            return self._page(start_response, environ, "500 Build Failed",
                              error_page(self.error))
        target = self._file_for(path) if path is not None else None
        if target is None:
            missing = self.out / "404.html"
            body = missing.read_bytes() if missing.is_file() else b"<h1>404</h1>"
            return self._page(start_response, environ, "404 Not Found", body)
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if kind.startswith("text/") or kind in ("application/json", "image/svg+xml"):
            kind += "; charset=utf-8"
        body = target.read_bytes()
        if kind.startswith("text/html"):
            body = inject_script(body, self.script)
        return _respond(start_response, environ, "200 OK", kind, body)

    def refusal(self, environ) -> tuple | None:
        """(status, type, body, headers) for a request the preview does not serve: one that
        names another host (DNS rebinding) or uses a method other than GET or HEAD."""
        if not loopback_host(environ.get("HTTP_HOST"), self.port):
            return ("403 Forbidden", "text/plain; charset=utf-8",
                    f"This preview answers only at http://127.0.0.1:{self.port}/\n".encode())
        method = environ.get("REQUEST_METHOD", "GET")
        if method == "OPTIONS":
            return "204 No Content", None, b"", [("Allow", ALLOWED_METHODS)]
        if method not in ("GET", "HEAD"):
            return ("405 Method Not Allowed", "text/plain; charset=utf-8",
                    b"The preview only serves pages (GET, HEAD).\n",
                    [("Allow", ALLOWED_METHODS)])
        return None

    def _page(self, start_response, environ, status: str, body: bytes):
        return _respond(start_response, environ, status, "text/html; charset=utf-8",
                        inject_script(body, self.script))

    def _file_for(self, path: str) -> Path | None:
        """The file under the output folder that ``path`` names, or None (never outside)."""
        base = self.out.resolve()
        try:
            candidate = (base / path.lstrip("/")).resolve()
            if candidate != base and base not in candidate.parents:
                return None
            if candidate.is_dir():
                candidate = candidate / "index.html"
            return candidate if candidate.is_file() else None
        except OSError:  # e.g. a name longer than the file system allows: not a page
            return None


def request_path(environ) -> str | None:
    """The request's path as text, or None when it cannot name a file of the site: longer
    than MAX_PATH_BYTES, not UTF-8, with a control character or a backslash, or with a '%'
    left after decoding (invalid percent-encoding; no file of the site has one)."""
    try:  # PEP 3333: PATH_INFO holds the decoded bytes as latin-1 text
        raw = environ.get("PATH_INFO", "/").encode("latin-1")
        path = raw.decode("utf-8")
    except UnicodeError:
        return None
    if len(raw) > MAX_PATH_BYTES or "%" in path or "\\" in path:
        return None
    if any(ord(c) < 32 or ord(c) == 127 for c in path):
        return None
    return path


def loopback_host(host: str | None, port: int) -> bool:
    """Whether a Host header names this server by a loopback name and its port. A page
    that rebinds its own domain to 127.0.0.1 still sends that domain, and is refused."""
    if not host:
        return False
    host = host.strip().lower()
    return host in {f"{name}:{port}" for name in LOOPBACK_NAMES} or (
        port == 80 and host in LOOPBACK_NAMES)


def own_origin(origin: str | None, port: int) -> bool:
    """Whether a websocket's Origin is a page of this preview (and not any other site)."""
    if not origin:
        return False
    scheme, _, host = origin.strip().lower().partition("://")
    return scheme == "http" and loopback_host(host, port)


def inject_script(body: bytes, script: bytes) -> bytes:
    """``body`` with the reload script before its first ``</head>`` (if it has one)."""
    if not script or b"</head>" not in body:
        return body
    return body.replace(b"</head>", script + b"</head>", 1)


def _respond(start_response, environ, status: str, content_type: str | None, body: bytes,
             extra: list | None = None):
    """A complete response; HEAD gets the same headers (Content-Length included) and no
    body, 204 no body-describing headers at all."""
    headers = [("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff"),
               ("Referrer-Policy", "no-referrer")] + list(extra or [])
    if not status.startswith("204"):
        headers += [("Content-Type", content_type), ("Content-Length", str(len(body)))]
    start_response(status, headers)
    return [b"" if environ.get("REQUEST_METHOD") == "HEAD" else body]


def error_page(report: str) -> bytes:
    """A page listing the build's problems; the livereload script is injected before
    ``</head>`` so fixing the input brings the site back by itself."""
    items = "".join(f"<li><pre>{html.escape(line)}</pre></li>"
                    for line in report.split("\n") if line.strip())
    return (
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<title>构建失败 / build failed</title>"
        "<style>body{font-family:sans-serif;margin:1rem;line-height:1.5}"
        "pre{white-space:pre-wrap;margin:0}li{margin:.5rem 0;color:#8b0000}</style></head>"
        "<body><h1>构建失败 / build failed</h1><p>Fix the files below; this page reloads by "
        f"itself once the site builds again.</p><ol>{items}</ol></body></html>"
    ).encode("utf-8")


class Changes:
    """Notices changed, added and removed files under the watched folders by comparing
    modification times and sizes; cheap enough to run ten times a second (a site has a few
    hundred input files)."""

    def __init__(self, folders: list[Path]):
        self.folders = folders
        self.seen = self._scan()

    def _scan(self) -> dict:
        found = {}
        for folder in self.folders:
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

    def poll(self) -> list[str]:
        now = self._scan()
        changed = sorted(p for p in set(now) | set(self.seen) if now.get(p) != self.seen.get(p))
        self.seen = now
        return changed


POLL_MS = 100

# livereload's own snippet: loads livereload.js from the server the page came from.
RELOAD_SCRIPT = (
    b'<script type="text/javascript">(function(){'
    b'var s=document.createElement("script");'
    b"var port=(window.location.port || (window.location.protocol == 'https:' ? 443: 80));"
    b's.src="//"+window.location.hostname+":"+port'
    b'+ "/livereload.js?port=" + port;'
    b'document.head.appendChild(s);'
    b'})();</script>'
)


def serve(root: Path, out: Path, today: dt.date, port: int, base_url: str | None = None) -> int:
    from tornado.httpserver import HTTPServer
    from tornado.ioloop import IOLoop, PeriodicCallback

    sockets = listen(port)
    port = sockets[0].getsockname()[1]
    preview = Preview(root, out, today, base_url=base_url or f"http://127.0.0.1:{port}/",
                      port=port, script=RELOAD_SCRIPT)
    preview.rebuild()
    changes = Changes([Path(root) / name for name in WATCHED if (Path(root) / name).is_dir()])

    def check() -> None:
        changed = changes.poll()
        if changed:
            preview.rebuild()
            tell_browsers(display_path(Path(changed[0]), Path(root)))

    _log_to(sys.stderr)
    server = HTTPServer(application(preview))
    server.add_sockets(sockets)
    PeriodicCallback(check, POLL_MS).start()
    print(f"serving {out} on http://127.0.0.1:{port}/ (Ctrl-C stops)", file=sys.stderr,
          flush=True)
    try:
        IOLoop.current().start()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


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
    """The preview's tornado application: livereload's websocket and script, each guarded,
    and every other request answered by ``preview.wsgi``."""
    from tornado import web

    port = {"port": preview.port}
    return web.Application([
        (r"/livereload", _reload_socket(), port),
        (r"/livereload\.js", _reload_script(), port),
        (r".*", _site_handler(), {"app": preview.wsgi, "port": preview.port}),
    ], debug=False)


def tell_browsers(path: str) -> None:
    """Tell every connected browser to reload. ``path``, relative to the site, only tells
    livereload.js whether a stylesheet or an image alone can be swapped."""
    from livereload.handlers import LiveReloadHandler

    message = {"command": "reload", "path": path, "liveCSS": True, "liveImg": True}
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

    def refuse_other_hosts(self) -> None:
        from tornado.web import HTTPError

        if not loopback_host(self.request.headers.get("Host"), self.port):
            raise HTTPError(403)


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

        def initialize(self, port: int) -> None:
            self.port = port

        def prepare(self) -> None:
            """Refuses other hosts, and any Origin but this preview's own (checked here
            rather than only through tornado's check_origin, which tornado skips when
            the Origin's host and port equal the Host header's, whatever its scheme)."""
            from tornado.web import HTTPError

            self.refuse_other_hosts()
            origin = self.request.headers.get("Origin")
            if origin is not None and not own_origin(origin, self.port):
                raise HTTPError(403)

        def check_origin(self, origin: str) -> bool:
            return own_origin(origin, self.port)

        def on_message(self, message) -> None:
            try:
                data = json.loads(message)
            except (TypeError, ValueError):
                data = None
            if not isinstance(data, dict) or not isinstance(data.get("command"), str):
                self.close(1003, "expected livereload protocol messages")
                return
            super().on_message(message)

    return ReloadSocket


def _reload_script():
    from livereload.handlers import LiveReloadJSHandler

    class ReloadScript(_PlainErrors, LiveReloadJSHandler):
        """livereload.js, for this preview's pages."""

        allowed = "GET, HEAD"

        def initialize(self, port: int) -> None:
            self.port = port

        def prepare(self) -> None:
            self.refuse_other_hosts()

        def head(self) -> None:
            self.get()   # tornado sends the headers and drops the body

    return ReloadScript


def _log_to(stream) -> None:
    """Requests tornado refuses or fails on (4xx, 5xx) as one line each on ``stream``."""
    import logging

    from tornado.log import LogFormatter

    channel = logging.StreamHandler(stream)
    channel.setFormatter(LogFormatter())
    logging.getLogger("tornado").addHandler(channel)
