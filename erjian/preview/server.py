"""Live preview: ``python build.py serve``.

A tornado server on 127.0.0.1 serves the site from memory (``resident_site.ResidentSite``, with
the server's own address as base URL): it writes no files, so ``output/`` and what gets
published are never touched. When anything under regions/, content/, templates/ or
calendars/ changes, the input is read again (only changed files are parsed, unchanged
provinces are kept), the pages open in browsers are rendered first, and the browsers are
told to reload; any other page is rendered when it is asked for. When the input is broken
the server keeps running and every page shows the problems (file, line, field, hint) until
the input is fixed.

Every HTML page is served with the preview's own Content-Security-Policy in place of the
published one (the same policy, plus ``connect-src`` for the server's websocket) and one
external script, ``/__preview__/reload.js`` (erjian/preview/static/): no inline script,
so the browser console stays clean. The script speaks python-livereload's protocol over
``/livereload``; a stylesheet edit swaps the stylesheet in place, anything else reloads
the page, and a dropped connection is retried (and the page reloaded once the server is
back).

Changes are found by polling the input folders twenty times a second; each one triggers a
refresh and a reload message to every connected browser (python-livereload's websocket
handler; its own watcher, which ignores a change within 3 s of the previous reload, is not
used).

The server answers only this machine's browser: it listens on 127.0.0.1, answers only
requests whose Host names a loopback address with its port (a page on another site that
rebinds its own name to 127.0.0.1 gets 403), accepts the reload websocket only from its own
origin, and tells browsers which input file changed by its path relative to the site.
It serves templates/static/ only from inside the site (``resident_site.static_asset``: a link
leaving it is refused with a 403 that says so, as the build refuses it).

It stays bounded under a flood: it accepts connections itself (``Acceptor``), keeps at most
``connection_limit()`` open (64, fewer under a low ``ulimit -n``) and closes the rest at
once, pauses accepting for a moment when out of file descriptors instead of retrying in a
busy loop, closes a connection that sends no complete request within 20 s, and writes at
most 20 log lines a second, then one line counting the rest (``QuietHandler``).
"""

from __future__ import annotations

import datetime as dt
import errno
import html
import json
import logging
import mimetypes
import os
import re
import socket
import sys
import time
import traceback
from pathlib import Path

from erjian.core.errors import SiteError, UserError, display_path
from erjian.core.layout import INPUT_FOLDERS
from erjian.input.read_files import outside_root
from erjian.preview.resident_site import SITE_UNIT, static_asset

WATCHED = INPUT_FOLDERS
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
ALLOWED_METHODS = "GET, HEAD, OPTIONS"
MAX_PATH_BYTES = 2048
ASSETS = Path(__file__).with_name("static")
ASSET_PREFIX = "/__preview__/"
ASSET_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
RELOAD_TAG = '<script src="/__preview__/reload.js" data-build="{build}" defer></script>'
CSP_META = re.compile(rb'<meta http-equiv="Content-Security-Policy" content="[^"]*">', re.I)


class Preview:
    """The resident site (``resident_site.ResidentSite``) and a WSGI app serving it from memory.
    Rebuilds and requests both run on the server's single I/O-loop thread, so they never
    overlap."""

    def __init__(self, root: Path, today: dt.date, stream=sys.stderr,
                 base_url: str | None = None, port: int = 8000, reload: bool = True,
                 cache_dir: Path | None = None):
        from erjian.preview.resident_site import ResidentSite

        self.root, self.today, self.stream = Path(root), today, stream
        self.base_url, self.port, self.reload = base_url, port, reload
        self.resident = ResidentSite(self.root, today, base_url, cache_dir)
        self.error: str | None = None
        # which build the pages served now come from: this server's own token (so a page
        # from before a restart knows it is stale) and a count of rebuilds
        self.token, self.builds = os.urandom(4).hex(), 0

    @property
    def generation(self) -> str:
        return f"{self.token}.{self.builds}"

    def rebuild(self) -> None:
        """Read the input again (only changed files are parsed); pages are rendered when
        asked for. Never raises: a failure that is not the input's is shown and logged as
        the bug it is, and the server goes on (the next change builds again)."""
        from erjian.core.oserror_messages import explain_os_error

        self.builds += 1
        started = time.perf_counter()
        try:
            generation = self.resident.refresh()
        except (SiteError, UserError, OSError) as exc:
            failure = explain_os_error(exc) if isinstance(exc, OSError) else exc
            if failure is None:
                self._failed_unexpectedly(exc)
                return
            self.error = failure.report()
            print(self.error, file=self.stream, flush=True)
            return
        except Exception as exc:  # a bug: keep serving, show it, log its traceback
            self._failed_unexpectedly(exc)
            return
        self.error = None
        for warning in generation.warnings:
            print(warning.format(), file=self.stream)
        print(f"updated in {time.perf_counter() - started:.2f} s "
              f"({len(generation.warnings)} warnings)", file=self.stream, flush=True)

    def _failed_unexpectedly(self, exc: BaseException) -> None:
        self.error = self._unexpected(exc)

    def _unexpected(self, exc: BaseException) -> str:
        """The problem page's text for a failure that is a bug; the traceback goes to the
        terminal."""
        report = (f"error: the build failed unexpectedly: {exc!r}\n  hint: this is a "
                  "bug in the generator (the traceback is in the terminal); the preview "
                  "builds again on the next change")
        print("".join(traceback.format_exception(exc)) + report, file=self.stream,
              flush=True)
        return report

    def render(self, path: str) -> tuple[bytes | None, str | None]:
        """(content, None) of the site file that the URL path ``path`` names (content None
        when the site has no such file), or (None, problems) when rendering it failed."""
        generation = self.resident.current
        if generation is None:
            return None, self.error
        try:
            for candidate in site_files(path):
                content = generation.page(candidate)
                if content is not None:
                    return content, None
            return None, None
        except SiteError as exc:
            return None, exc.report()
        except Exception as exc:
            return None, self._unexpected(exc)

    def warm(self, paths, superseded=lambda: False) -> bool:
        """Render the pages open in browsers now, before they are told to reload. A
        site-wide page needs every province's part, worked out one province at a time;
        when ``superseded()`` says a newer edit arrived meanwhile, stop (False): that edit's
        refresh starts over instead of queueing behind this one."""
        generation = self.resident.current
        if self.error is not None or generation is None:
            return True
        for path in paths:
            if any(generation.unit_of(f) == SITE_UNIT for f in site_files(path)):
                for province in generation.site.provinces:
                    if superseded():
                        return False
                    try:
                        generation.products(province.slug)
                    except Exception:
                        break   # render() below reports it
            if superseded():
                return False
            self.render(path)
        return True

    def wsgi(self, environ, start_response):
        refusal = self.refusal(environ)
        if refusal is not None:
            return _respond(start_response, environ, *refusal)
        path = request_path(environ)
        if path is not None and path.startswith(ASSET_PREFIX):
            return self._asset(start_response, environ, path[len(ASSET_PREFIX):])
        if path is not None and path.startswith("/static/"):
            return self._static(start_response, environ, path[len("/static/"):])
        problems = self.error
        body = None
        if problems is None and path is not None:
            body, problems = self.render(path)
        if problems is not None:
            # 200, not 500: the browser would log a 500 as an error in its console, and
            # the page is working as meant; the header says the build failed
            return self._page(start_response, environ, "200 OK", error_page(problems),
                              [("X-Erjian-Build", "failed")])
        if body is None:
            missing, _ = self.render("/404.html")
            return self._page(start_response, environ, "404 Not Found",
                              missing or b"<h1>404</h1>")
        kind = content_type(path)
        if kind.startswith("text/html"):
            body = self.html(body, environ)
        return _respond(start_response, environ, "200 OK", kind, body)

    def html(self, body: bytes, environ) -> bytes:
        """A page as the preview serves it: the preview's policy, the reload script."""
        if not self.reload:
            return body
        return preview_html(body, environ.get("HTTP_HOST") or f"127.0.0.1:{self.port}",
                            self.generation)

    def _asset(self, start_response, environ, name: str):
        """The preview's own files (erjian/preview/static/), whatever the build's state."""
        kind = ASSET_TYPES.get(os.path.splitext(name)[1])
        target = ASSETS / name
        if kind is None or "/" in name or not target.is_file():
            return _not_found(start_response, environ)
        return _respond(start_response, environ, "200 OK", kind, target.read_bytes())

    def _static(self, start_response, environ, name: str):
        """The site's stylesheet, script and icon, straight from templates/static/ (as the
        build copies them), whatever the build's state."""
        content, refused = static_asset(self.root, name)
        if refused is not None:
            return _respond(start_response, environ, "403 Forbidden",
                            "text/plain; charset=utf-8", refused.format().encode() + b"\n")
        if content is None:
            return _not_found(start_response, environ)
        return _respond(start_response, environ, "200 OK", content_type(name), content)

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

    def _page(self, start_response, environ, status: str, body: bytes,
              extra: list | None = None):
        return _respond(start_response, environ, status, "text/html; charset=utf-8",
                        self.html(body, environ), extra)


def site_files(path: str) -> list[str]:
    """The site files a URL path may name, in order: '/' and '/a/' name their index.html,
    '/a' names the file 'a' or else the folder's index.html."""
    relative = path.lstrip("/")
    parts = relative.split("/")
    if any(part in (".", "..") for part in parts) or "//" in relative:
        return []
    if relative == "" or relative.endswith("/"):
        return [relative + "index.html"]
    return [relative, relative + "/index.html"]


def content_type(path: str) -> str:
    if path.endswith("/"):
        return "text/html; charset=utf-8"
    kind = mimetypes.guess_type(path)[0]
    if kind is None:   # a folder named without its final slash
        return "text/html; charset=utf-8"
    if kind.startswith("text/") or kind in ("application/json", "image/svg+xml"):
        kind += "; charset=utf-8"
    return kind


def _not_found(start_response, environ):
    return _respond(start_response, environ, "404 Not Found", "text/plain; charset=utf-8",
                    b"404 Not Found\n")


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


def preview_policy(host: str) -> str:
    """The published Content-Security-Policy with ``connect-src`` widened to this server's
    websocket (``ws://`` + the page's own loopback Host): still no inline script."""
    from erjian.site.render import CONTENT_SECURITY_POLICY

    directives = [d.strip() for d in CONTENT_SECURITY_POLICY.split(";") if d.strip()]
    socket_origin = f"ws://{host}"
    for index, directive in enumerate(directives):
        if directive.split()[0] == "connect-src":
            directives[index] = f"{directive} {socket_origin}"
            break
    else:
        directives.append(f"connect-src 'self' {socket_origin}")
    return "; ".join(directives)


def preview_html(body: bytes, host: str, generation: str = "") -> bytes:
    """``body`` with the preview's policy in place of the published one (added when the
    page has none) and the reload script before its first ``</head>`` (if it has one),
    told which build the page comes from (so it can tell when it missed a reload)."""
    meta = ('<meta http-equiv="Content-Security-Policy" content="'
            f'{html.escape(preview_policy(host), quote=False)}">').encode()
    body, replaced = CSP_META.subn(lambda _: meta, body, count=1)
    if b"</head>" not in body:
        return body
    tag = RELOAD_TAG.format(build=html.escape(generation)).encode()
    return body.replace(b"</head>", (b"" if replaced else meta) + tag + b"</head>", 1)


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
    """A page listing the build's problems, one item per problem with its hint; the
    preview's policy and reload script are added when served, so fixing the input brings
    the site back by itself."""
    problems: list[list[str]] = []
    notes: list[str] = []
    for line in report.split("\n"):
        if not line.strip():
            continue
        if line[:1].isspace() and problems:
            problems[-1].append(line)   # a problem's hint
        elif line.startswith(("error:", "warning:")):
            problems.append([line])
        else:
            notes.append(line)          # e.g. "2 problems found; …"
    items = "".join(f"<li><pre>{html.escape(chr(10).join(lines))}</pre></li>"
                    for lines in problems)
    summary = "".join(f"<p>{html.escape(line)}</p>" for line in notes)
    return (
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<title>构建失败 / build failed</title>"
        "<link rel=\"icon\" href=\"/static/icon.svg\" type=\"image/svg+xml\">"
        "<link rel=\"stylesheet\" href=\"/__preview__/error.css\"></head>"
        "<body><h1>构建失败 / build failed</h1><p>Fix the files below; this page reloads by "
        f"itself once the site builds again.</p><ol class=\"problems\">{items}</ol>"
        f"{summary}</body></html>"
    ).encode("utf-8")


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
    request (the preview's own script included) answered by ``preview.wsgi``."""
    from tornado import web

    return web.Application([
        (r"/livereload", _reload_socket(), {"port": preview.port, "preview": preview}),
        (r".*", _site_handler(), {"app": preview.wsgi, "port": preview.port}),
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

        def initialize(self, port: int, preview: Preview | None = None) -> None:
            self.port, self.preview = port, preview

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
            if data["command"] == "info":
                self.page_path = page_path(data.get("url"), self.port)
            if data["command"] == "info" and self in self.waiters:
                # our own addition: from here on the page is told of every rebuild, and it
                # learns the current build, to reload if it missed one while connecting
                build = self.preview.generation if self.preview is not None else ""
                self.write_message({"command": "ready", "build": build})

    return ReloadSocket


def page_path(url, port: int) -> str | None:
    """The path of a page of this preview that a browser says it has open."""
    from urllib.parse import unquote, urlsplit

    if not isinstance(url, str) or len(url) > MAX_PATH_BYTES:
        return None
    parts = urlsplit(url)
    if not loopback_host(parts.netloc, port):
        return None
    return unquote(parts.path) or "/"


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
