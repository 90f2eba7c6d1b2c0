"""The preview's HTTP app: a plain WSGI callable (``Preview``) serving the resident site
(``resident_site.ResidentSite``) from memory, with all of the preview's HTTP policy. The
tornado server (``server``) only adapts requests to it, runs livereload's websocket and
watches the input; tests call the app in-process.

Every HTML page is served with the preview's own Content-Security-Policy in place of the
published one (the same policy, plus ``connect-src`` for the server's websocket) and one
external script, ``/__preview__/reload.js`` (erjian/preview/static/): no inline script,
so the browser console stays clean. When the input is broken every page shows the problems
(file, line, field, hint) until the input is fixed.

The app answers only this machine's browser: only requests whose Host names a loopback
address with its port (a page on another site that rebinds its own name to 127.0.0.1 gets
403), only GET and HEAD (OPTIONS says so), and the reload websocket only from its own origin
(``socket_allowed``). It serves templates/static/ only from inside the site
(``resident_site.static_asset``: a link leaving it is refused with a 403 that says so, as the
build refuses it); a path that cannot name a file of the site is not found.
"""

from __future__ import annotations

import datetime as dt
import html
import mimetypes
import os
import re
import sys
import time
import traceback
from pathlib import Path

from erjian.core.errors import SiteError, UserError
from erjian.preview.resident_site import SITE_UNIT, ResidentSite, static_asset

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
ALLOWED_METHODS = "GET, HEAD, OPTIONS"
MAX_PATH_BYTES = 2048
ASSETS = Path(__file__).with_name("static")
ASSET_PREFIX = "/__preview__/"
ASSET_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
RELOAD_TAG = '<script src="/__preview__/reload.js" data-build="{build}" defer></script>'
CSP_META = re.compile(rb'<meta http-equiv="Content-Security-Policy" content="[^"]*">', re.I)


class Preview:
    """The resident site (``resident_site.ResidentSite``) and the WSGI app serving it from
    memory. Rebuilds and requests both run on the server's single I/O-loop thread, so they
    never overlap."""

    def __init__(self, root: Path, today: dt.date, stream=sys.stderr,
                 base_url: str | None = None, port: int = 8000, reload: bool = True,
                 cache_dir: Path | None = None):
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

    def __call__(self, environ, start_response):
        """The WSGI app: every request but the reload websocket's."""
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

    def socket_allowed(self, host: str | None, origin: str | None) -> bool:
        """Whether the reload websocket may open: this server's Host, and no Origin or this
        preview's own."""
        return loopback_host(host, self.port) and (origin is None
                                                    or own_origin(origin, self.port))

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


def page_path(url, port: int) -> str | None:
    """The path of a page of this preview that a browser says it has open."""
    from urllib.parse import unquote, urlsplit

    if not isinstance(url, str) or len(url) > MAX_PATH_BYTES:
        return None
    parts = urlsplit(url)
    if not loopback_host(parts.netloc, port):
        return None
    return unquote(parts.path) or "/"
