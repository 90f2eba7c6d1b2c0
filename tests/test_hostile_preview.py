"""The live preview under attack (issue 20): it never follows a link out of the site (it
served /etc/passwd through templates/static → /etc while its own problem page said the link
"was not opened"), and it stays bounded and quiet when flooded with connections it has no
file descriptors for."""

import io
import os

import pytest

from conftest import TODAY
from erjian import preview as resident
from erjian.serve import Changes, Preview


def get(preview, path):
    """(status, body) of a GET through the preview's WSGI app."""
    answer = {}
    body = b"".join(preview.wsgi(
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
