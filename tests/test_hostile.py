"""Hostile and broken input (tests/hostile/cases.yaml): every case fails the build with a clear
error naming file and line, and the published output/ stays exactly as it was."""

import os
import shutil
import string

import pytest
import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import copy_site, run_cli, tree_digest
from erjian.core.errors import SiteError
from erjian.input.resolve import resolve
from erjian.input.validate import read_site

HERE = __import__("pathlib").Path(__file__).resolve().parent / "hostile"
CASES = yaml.safe_load((HERE / "cases.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """A seed site built once; each case starts from a copy of it and of its output."""
    base = tmp_path_factory.mktemp("published")
    site = copy_site(base / "site")
    out = base / "out"
    assert run_cli("--root", str(site), "--out", str(out), "--today", "2026-06-15")[0] == 0
    return site, out


def generate(kind: str, path):
    if kind == "big":
        line = "note: " + "很长的一行" * 40 + "\n"
        path.write_text("name: 宣城市\nlevel: prefecture_city\n" + line * 4000,
                        encoding="utf-8")


def prepare(site, case) -> None:
    """Puts a case's input into a copy of the site. ``files``: files of this folder → site
    paths; ``write``: site path → text; ``copy``: site path → site path (a file or a whole
    folder); ``symlink``: site path → link target; ``fifo``: site paths of named pipes."""
    def place(relative):
        (site / relative).parent.mkdir(parents=True, exist_ok=True)
        return site / relative

    for source, target in case.get("files", {}).items():
        shutil.copyfile(HERE / source, place(target))
    for target, text in case.get("write", {}).items():
        place(target).write_text(text, encoding="utf-8")
    for source, target in case.get("copy", {}).items():
        if (site / source).is_dir():
            shutil.copytree(site / source, place(target))
        else:
            shutil.copyfile(site / source, place(target))
    for target, link in case.get("symlink", {}).items():
        os.symlink(link, place(target))
    for target in case.get("fifo", []):
        os.mkfifo(place(target))
    if "generate" in case:
        generate(case["generate"]["kind"], site / case["generate"]["to"])


@pytest.mark.parametrize("case", CASES, ids=[c["case"] for c in CASES])
def test_hostile_input_fails_clearly_and_leaves_output(published, case, tmp_path):
    site = tmp_path / "site"
    shutil.copytree(published[0], site, ignore=shutil.ignore_patterns(".cache"))
    out = tmp_path / "out"
    shutil.copytree(published[1], out)
    before = tree_digest(out)
    prepare(site, case)
    code, stdout, stderr = run_cli("--root", str(site), "--out", str(out), "--today",
                                   "2026-06-16")
    assert code == 1, stdout
    for fragment in case["expect"]:
        assert fragment in stderr, f"{fragment!r} not in:\n{stderr}"
    for fragment in case.get("expect_not", []):
        assert fragment not in stderr + stdout, f"{fragment!r} in:\n{stderr}"
    assert "nothing was published" in stderr
    assert tree_digest(out) == before
    assert sorted(p.name for p in out.parent.iterdir() if p.name.startswith(".out")) == []


def test_no_python_object_was_constructed(published, tmp_path):
    """A !!python tag is refused with its line before anything is made from it: the command
    it names (here: create a file of this test's own folder) never runs."""
    site = tmp_path / "site"
    shutil.copytree(published[0], site, ignore=shutil.ignore_patterns(".cache"))
    made = tmp_path / "made-by-the-tag"
    text = (HERE / "python-tag.yaml").read_text(encoding="utf-8")
    assert "/tmp/pwned" in text
    (site / "regions/anhui/tag.yaml").write_text(text.replace("/tmp/pwned", str(made)),
                                                 encoding="utf-8")
    code, _, stderr = run_cli("--root", str(site), "--out", str(tmp_path / "out"), "--today",
                              "2026-06-15")
    assert code == 1
    assert "regions/anhui/tag.yaml:3:" in stderr and "python/object/apply" in stderr
    assert not made.exists()
    assert not (tmp_path / "out").exists()


def test_byte_order_mark_is_accepted_as_utf8(published, tmp_path):
    """Windows editors often save UTF-8 with a BOM; it is read as plain UTF-8."""
    site = tmp_path / "site"
    shutil.copytree(published[0], site, ignore=shutil.ignore_patterns(".cache"))
    path = site / "regions" / "anhui" / "maanshan.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    out = tmp_path / "out"
    assert run_cli("--root", str(site), "--out", str(out), "--today", "2026-06-15")[0] == 0
    assert tree_digest(out) == tree_digest(published[1])


@pytest.mark.parametrize("ending", ["\r\n", "\r"], ids=["crlf", "cr"])
def test_windows_and_old_mac_line_endings_build_exactly_like_lf(published, tmp_path, ending):
    """Files saved with CRLF (or lone CR) line endings are read as if they had LF: the
    notice keeps its front matter and the whole output is byte for byte the LF build's."""
    site = tmp_path / "site"
    shutil.copytree(published[0], site, ignore=shutil.ignore_patterns(".cache"))
    changed = [site / "regions/anhui/maanshan.yaml", site / "regions/xinjiang/province.yaml",
               site / "calendars/xinjiang/2026.yaml", site / "content/site.yaml",
               site / "content/guide/20-query-steps.md",
               *sorted((site / "content/notices").glob("*.md"))]
    for path in changed:
        data = path.read_bytes()
        assert b"\r" not in data and b"\n" in data
        path.write_bytes(data.replace(b"\n", ending.encode()))
    out = tmp_path / "out"
    code, _, stderr = run_cli("--root", str(site), "--out", str(out), "--today", "2026-06-15")
    assert code == 0, stderr
    assert tree_digest(out) == tree_digest(published[1])


KEYS = ["name", "level", "province", "slug", "parent", "code", "authorities", "exams",
        "specialties", "estimate", "note", "login_methods", "calendar_layers",
        "local_office", "post_exam_audit", "authorites", "colour"]
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                    st.floats(allow_nan=True), st.text(max_size=30),
                    st.sampled_from(["2026-05-23", "2026-02-30", "prefecture", "jianzhu",
                                     "https://www.apta.gov.cn/", "../x", "tacheng"]),
                    st.dates())
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.sampled_from(KEYS + ["year", "days", "url", "role"]), inner,
                    max_size=4)), max_leaves=12)
documents = st.one_of(
    st.dictionaries(st.sampled_from(KEYS), values, max_size=8).map(
        lambda d: yaml.safe_dump(d, allow_unicode=True)),
    st.text(alphabet=string.printable + "塔城：-「」\t", max_size=300),
    st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
)


@settings(max_examples=80, deadline=5000, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@pytest.mark.slow
@given(text=documents)
def test_loader_raises_only_site_errors(published, tmp_path_factory, text):
    site = tmp_path_factory.mktemp("prop") / "site"
    copy_site(site, provinces=("anhui",))
    (site / "regions" / "anhui" / "generated.yaml").write_text(text, encoding="utf-8",
                                                               errors="surrogatepass")
    try:
        resolve(read_site(site))
    except SiteError as error:
        assert error.problems and all(p.file for p in error.problems)
