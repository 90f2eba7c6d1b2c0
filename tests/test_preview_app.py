"""The preview's HTTP app called in-process, as a WSGI callable (as MkDocs tests its
live-reload server): each branch of its policy, without a server or a socket."""

import io
import re
from urllib.parse import unquote_to_bytes

import pytest

from conftest import TODAY, copy_site
from erjian.preview.app import Preview, preview_html

PORT = 8123
HOST = f"127.0.0.1:{PORT}"
PAGE = "/xinjiang/tacheng/jidian/"


def call(app, method="GET", path="/", host=HOST, headers=()):
    """(status code, headers with lower-case names, body) of one request; ``path`` as sent
    on the wire (percent-encoded), decoded as the server decodes it; host None: no Host."""
    environ = {"REQUEST_METHOD": method, "SCRIPT_NAME": "", "QUERY_STRING": "",
               "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
               "SERVER_NAME": "127.0.0.1", "SERVER_PORT": str(PORT)}
    if host is not None:
        environ["HTTP_HOST"] = host
    environ.update(headers)
    answer = {}

    def start_response(status, fields, exc_info=None):
        answer.update(status=status, fields=fields)

    body = b"".join(app(environ, start_response))
    fields = {name.lower(): value for name, value in answer["fields"]}
    return int(answer["status"].split()[0]), fields, body


def started(site, folder) -> Preview:
    preview = Preview(site, TODAY, stream=io.StringIO(), port=PORT,
                      base_url=f"http://{HOST}/", cache_dir=folder / "c")
    preview.rebuild()
    return preview


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """One app for the checks that change nothing."""
    folder = tmp_path_factory.mktemp("app")
    return started(copy_site(folder / "site"), folder)


def test_a_page_gets_the_preview_policy_and_the_reload_script(app):
    status, fields, body = call(app, path=PAGE)
    page = body.decode("utf-8")
    assert status == 200 and fields["content-type"] == "text/html; charset=utf-8"
    assert "塔城地区" in page and fields["cache-control"] == "no-store"
    policies = re.findall(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page)
    assert len(policies) == 1 and f"connect-src 'self' ws://{HOST};" in policies[0]
    assert "'unsafe" not in policies[0] and "script-src 'self';" in policies[0]
    assert page.count("/__preview__/reload.js") == 1
    assert f'data-build="{app.generation}"' in page
    assert f"ws://localhost:{PORT};" in call(app, path=PAGE,
                                             host=f"localhost:{PORT}")[2].decode()


def test_an_unknown_path_is_the_site_404_page_with_the_reload_script(app):
    status, fields, body = call(app, path="/no/such/page/")
    assert status == 404 and fields["content-type"] == "text/html; charset=utf-8"
    assert body == preview_html(app.resident.current.page("404.html"), HOST, app.generation)
    assert body.count(b"/__preview__/reload.js") == 1


@pytest.mark.parametrize("host", [f"127.0.0.1:{PORT}", f"localhost:{PORT}",
                                  f"LOCALHOST:{PORT}", f"[::1]:{PORT}"])
def test_a_loopback_host_with_the_port_is_served(app, host):
    assert call(app, path=PAGE, host=host)[0] == 200


@pytest.mark.parametrize("host", ["evil.example", f"evil.example:{PORT}", "127.0.0.1",
                                  f"127.0.0.1:{PORT + 1}", f"127.0.0.1.evil.example:{PORT}",
                                  "127.0.0.1:abc", "", None])
def test_a_wrong_host_is_refused(app, host):
    for path in (PAGE, "/__preview__/reload.js", "/static/style.css"):
        status, fields, body = call(app, path=path, host=host)
        assert status == 403 and fields["content-type"].startswith("text/plain")
        assert body == f"This preview answers only at http://{HOST}/\n".encode()


def test_the_reload_socket_is_open_to_this_preview_only(app):
    for origin in (None, f"http://127.0.0.1:{PORT}", f"http://localhost:{PORT}"):
        assert app.socket_allowed(HOST, origin), origin
    for origin in ("http://evil.example", f"http://evil.example:{PORT}", "null", "",
                   f"http://127.0.0.1:{PORT + 1}", f"https://127.0.0.1:{PORT}",
                   f"http://127.0.0.1.evil.example:{PORT}"):
        assert not app.socket_allowed(HOST, origin), origin
    assert not app.socket_allowed(f"evil.example:{PORT}", f"http://127.0.0.1:{PORT}")


def test_head_gets_the_headers_of_get_and_no_body(app):
    for path in (PAGE, "/", "/no/such/page/", "/__preview__/reload.js",
                 "/__preview__/error.css", "/static/style.css"):
        get_status, get_fields, get_body = call(app, "GET", path)
        status, fields, body = call(app, "HEAD", path)
        assert status == get_status and body == b"", path
        assert fields["content-length"] == get_fields["content-length"] == str(len(get_body))
        assert fields["content-type"] == get_fields["content-type"]


def test_only_get_head_and_options_are_answered(app):
    status, fields, body = call(app, "OPTIONS", PAGE)
    assert (status, body) == (204, b"") and fields["allow"] == "GET, HEAD, OPTIONS"
    assert "content-type" not in fields
    for method in ("POST", "PUT", "DELETE", "PATCH", "TRACE", "CONNECT", "PROPFIND"):
        status, fields, body = call(app, method, PAGE)
        assert status == 405 and fields["allow"] == "GET, HEAD, OPTIONS", method
        assert "塔城".encode() not in body


@pytest.mark.parametrize("path", [
    "/%00", "/xinjiang/%00/index.html", "/" + "a" * 3000, "/%zz", "/xinjiang/%e4%b8/",
    "/%ff%fe/", "/%c0%ae%c0%ae/", "/xinjiang/%0d%0aSet-Cookie:x=1", "/%25",
    "/../secret.txt", "/xinjiang/../../secret.txt", "//secret.txt", "/..\\secret.txt"])
def test_a_path_that_names_no_file_of_the_site_is_not_found(app, path):
    status, fields, body = call(app, path=path)
    assert status == 404 and "set-cookie" not in fields
    assert b"secret" not in body


@pytest.mark.parametrize("path, kind", [
    ("/static/style.css", "text/css; charset=utf-8"),
    ("/static/site.js", "text/javascript; charset=utf-8"),
    ("/static/icon.svg", "image/svg+xml; charset=utf-8"),
    ("/__preview__/reload.js", "text/javascript; charset=utf-8"),
    ("/__preview__/error.css", "text/css; charset=utf-8"),
    ("/api/search.json", "application/json; charset=utf-8"),
    ("/feed.xml", "application/xml"),
])
def test_assets_are_served_with_their_content_type(app, path, kind):
    status, fields, body = call(app, path=path)
    assert (status, fields["content-type"]) == (200, kind)
    assert fields["x-content-type-options"] == "nosniff" and body
    if not path.startswith("/__preview__/"):
        assert b"/__preview__/reload.js" not in body   # injected into pages only


def test_the_preview_assets_are_only_its_own_files(app):
    status, _, body = call(app, path="/__preview__/reload.js")
    assert status == 200 and b"WebSocket" in body
    for path in ("/__preview__/", "/__preview__/../serve.py", "/__preview__/%2e%2e/serve.py",
                 "/__preview__/nothing.js", "/__preview__/__init__.py"):
        assert call(app, path=path)[0] == 404, path


def test_broken_input_is_the_error_page_on_every_path_until_fixed(tmp_path):
    site = copy_site(tmp_path / "site")
    app = started(site, tmp_path)
    region = site / "regions" / "xinjiang" / "tacheng.yaml"
    good = region.read_text(encoding="utf-8")
    region.write_text(good + "authorites: []\n", encoding="utf-8")
    app.rebuild()
    for path in (PAGE, "/", "/no/such/page/"):
        status, fields, body = call(app, path=path)
        page = body.decode("utf-8")
        assert status == 200 and fields["x-erjian-build"] == "failed", path
        assert "build failed" in page and "regions/xinjiang/tacheng.yaml:3" in page
        assert "authorites" in page and page.count("/__preview__/reload.js") == 1
    assert call(app, path="/static/style.css")[0] == 200   # assets whatever the build
    region.write_text(good, encoding="utf-8")
    app.rebuild()
    status, fields, body = call(app, path=PAGE)
    assert status == 200 and "x-erjian-build" not in fields and "塔城地区" in body.decode()
