"""Live preview: ``python build.py serve``.

A livereload server on 127.0.0.1 serves the built site from a small WSGI app, rebuilds
(incrementally) when anything under regions/, content/, templates/ or calendars/ changes, and
tells connected browsers to reload. When the input is broken the server keeps running and
every page shows the problems (file, line, field) until the input is fixed.

Changes are found by polling the input folders ten times a second; each one triggers an
incremental rebuild and a reload message to every connected browser (python-livereload's
server and websocket protocol; its own watcher, which ignores a change within 3 s of the
previous reload, is not used).
"""

from __future__ import annotations

import datetime as dt
import html
import mimetypes
import os
import sys
from pathlib import Path
from urllib.parse import unquote

from .errors import SiteError

WATCHED = ("regions", "content", "templates", "calendars")


class Preview:
    """The latest build's outcome and a WSGI app serving it. Rebuilds and requests both run
    on the server's single I/O-loop thread, so they never overlap."""

    def __init__(self, root: Path, out: Path, today: dt.date, stream=sys.stderr,
                 base_url: str | None = None):
        self.root, self.out, self.today, self.stream = Path(root), Path(out), today, stream
        self.base_url = base_url
        self.error: str | None = None

    def rebuild(self) -> None:
        from .pipeline import build

        try:
            result = build(self.root, self.out, self.today, base_url=self.base_url)
        except SiteError as exc:
            self.error = exc.report()
            print(self.error, file=self.stream, flush=True)
            return
        self.error = None
        for warning in result.warnings:
            print(warning.format(), file=self.stream)
        print(f"rebuilt: {result.summary()}", file=self.stream, flush=True)

    def wsgi(self, environ, start_response):
        path = unquote(environ.get("PATH_INFO", "/"))
        if self.error is not None and not path.startswith("/static/"):
            return _respond(start_response, "500 Build Failed", "text/html; charset=utf-8",
                            error_page(self.error))
        target = self._file_for(path)
        if target is None:
            missing = self.out / "404.html"
            body = missing.read_bytes() if missing.is_file() else b"<h1>404</h1>"
            return _respond(start_response, "404 Not Found", "text/html; charset=utf-8", body)
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if kind.startswith("text/") or kind in ("application/json", "image/svg+xml"):
            kind += "; charset=utf-8"
        return _respond(start_response, "200 OK", kind, target.read_bytes())

    def _file_for(self, path: str) -> Path | None:
        """The file under the output folder that ``path`` names, or None (never outside)."""
        base = self.out.resolve()
        candidate = (base / path.lstrip("/")).resolve()
        if candidate != base and base not in candidate.parents:
            return None
        if candidate.is_dir():
            candidate = candidate / "index.html"
        return candidate if candidate.is_file() else None


def _respond(start_response, status: str, content_type: str, body: bytes):
    start_response(status, [("Content-Type", content_type), ("Cache-Control", "no-store"),
                            ("X-Content-Type-Options", "nosniff"),
                            ("Referrer-Policy", "no-referrer"),
                            ("Content-Length", str(len(body)))])
    return [body]


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


def serve(root: Path, out: Path, today: dt.date, port: int, base_url: str | None = None) -> int:
    from livereload import Server
    from livereload.handlers import LiveReloadHandler
    from tornado.ioloop import PeriodicCallback

    preview = Preview(root, out, today, base_url=base_url or f"http://127.0.0.1:{port}/")
    preview.rebuild()
    changes = Changes([Path(root) / name for name in WATCHED if (Path(root) / name).is_dir()])

    def check() -> None:
        changed = changes.poll()
        if changed:
            preview.rebuild()
            LiveReloadHandler.reload_waiters(changed[0])

    server = Server(app=preview.wsgi)
    # livereload watches the working directory when given nothing to watch; give it one file
    # and no reloads of its own: changes are found by `check`, every 0.1 s, which also avoids
    # livereload's rule of ignoring a change within 3 s of the previous reload.
    server.watch(str(Path(root) / "content" / "site.yaml"), None, delay="forever")
    PeriodicCallback(check, POLL_MS).start()
    print(f"serving {out} on http://127.0.0.1:{port}/ (Ctrl-C stops)", file=sys.stderr,
          flush=True)
    server.serve(host="127.0.0.1", port=port, debug=False, open_url_delay=None)
    return 0
