"""Redirect pages at old addresses, in a built site with the repository's divisions of
Xinjiang and Shanghai: what they say and where they point, that they stay out of the sitemap
and the search index, that the preview serves them byte for byte as built, that a redirect
can neither hide a real page nor point nowhere, and, in a real browser, that an old address
lands on its successor and that the home page's search finds 闵行区 by `minhang`."""

import datetime as dt
import html
import json
import re
import shutil

import pytest

from browser_support import browser  # noqa: F401  (the module's Chromium)
from conftest import ROOT, copy_site, run_cli, tree_digest
from erjian.input.division_files import read_moved
from erjian.preview.resident_site import ResidentSite

PROVINCES = ("xinjiang", "shanghai")
TODAY = "2026-06-15"


def site_with_divisions(dest):
    site = copy_site(dest, PROVINCES, divisions=True)
    (site / "divisions" / "moved").mkdir(parents=True)
    shutil.copy(ROOT / "divisions" / "dataset.json", site / "divisions" / "dataset.json")
    for province in PROVINCES:
        shutil.copy(ROOT / "divisions" / "moved" / f"{province}.tsv",
                    site / "divisions" / "moved" / f"{province}.tsv")
    return site


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    base = tmp_path_factory.mktemp("redirects")
    site = site_with_divisions(base / "site")
    out = base / "out"
    code, _, stderr = run_cli("--root", str(site), "--out", str(out), "--today", TODAY)
    assert code == 0, stderr
    return site, out


def refresh_target(page: str) -> str:
    found = re.search(r'<meta http-equiv="refresh" content="0; url=([^"]+)">', page)
    assert found, page[:400]
    return html.unescape(found.group(1))


def redirect_pages(out):
    return {path: (out / path).read_text("utf-8") for path in tree_digest(out)
            if path.endswith(".html") and 'http-equiv="refresh"' in (out / path).read_text(
                "utf-8")}


def test_the_old_address_of_shawan_county_sends_readers_to_shawan_city(built):
    _, out = built
    page = (out / "xinjiang" / "shawanxian" / "index.html").read_text("utf-8")
    assert refresh_target(page) == "/xinjiang/shawan/"
    assert '<link rel="canonical" href="https://' in page
    assert re.search(r'<link rel="canonical" href="[^"]+/xinjiang/shawan/">', page)
    assert '<meta name="robots" content="noindex">' in page
    assert "此页面已迁移" in page and "沙湾县" in page and "沙湾市" in page
    assert "撤县设市" in page
    assert '<a href="/xinjiang/shawan/">沙湾市</a>' in page
    guide = (out / "xinjiang" / "shawanxian" / "jidian" / "index.html").read_text("utf-8")
    assert refresh_target(guide) == "/xinjiang/shawan/jidian/"
    assert "机电工程" in guide
    target = (out / "xinjiang" / "shawan" / "index.html").read_text("utf-8")
    assert "沙湾市" in target and 'http-equiv="refresh"' not in target


def test_a_calendar_subscribed_at_an_old_address_keeps_getting_the_successors_events(built):
    _, out = built
    old = (out / "xinjiang" / "shawanxian" / "jidian" / "schedule.ics").read_bytes()
    new = (out / "xinjiang" / "shawan" / "jidian" / "schedule.ics").read_bytes()
    assert old == new
    assert b"BEGIN:VEVENT" in old and b".shawan.xinjiang@" in old


def test_a_corrected_reading_redirects_and_says_why(built):
    _, out = built
    page = (out / "shanghai" / "minxing" / "index.html").read_text("utf-8")
    assert refresh_target(page) == "/shanghai/minhang/"
    assert "读音" in page and "闵行区" in page


def test_every_redirect_has_a_real_target_and_no_script_of_its_own(built):
    site, out = built
    pages = redirect_pages(out)
    entries = [e for p in PROVINCES
               for e in read_moved(site / "divisions" / "moved" / f"{p}.tsv")]
    assert len(entries) >= 10
    for entry in entries:
        assert f"{entry.old}index.html" in pages, entry
    for path, page in pages.items():
        target = refresh_target(page).lstrip("/")
        assert (out / target / "index.html").is_file(), (path, target)
        assert 'http-equiv="refresh"' not in (out / target / "index.html").read_text("utf-8")
        scripts = re.findall(r"<script\b[^>]*>", page)
        assert all("src=" in s for s in scripts), (path, scripts)


def test_redirects_are_not_in_the_sitemap_or_the_search_index(built):
    _, out = built
    pages = redirect_pages(out)
    sitemap = (out / "sitemap.xml").read_text("utf-8")
    search = (out / "api" / "search.json").read_text("utf-8")
    regions = (out / "api" / "regions.json").read_text("utf-8")
    assert "/xinjiang/<" in sitemap
    for path in pages:
        folder = path[: -len("index.html")]
        assert f"/{folder}<" not in sitemap, path
        assert f'"{folder}"' not in search and f'"/{folder}' not in regions, path
    province = (out / "xinjiang" / "index.html").read_text("utf-8")
    assert "/xinjiang/shawanxian/" not in province


def test_the_preview_serves_the_redirects_as_built(built, tmp_path):
    site, out = built
    generation = ResidentSite(site, dt.date.fromisoformat(TODAY), None,
                              cache_dir=tmp_path / "cache").refresh()
    pages = redirect_pages(out)
    assert len(pages) > 50
    for path in pages:
        assert generation.page(path) == (out / path).read_bytes(), path
    for path in ("sitemap.xml", "methodology/index.html"):
        assert generation.page(path) == (out / path).read_bytes(), path


def test_the_methodology_page_names_the_division_data_and_its_date(built):
    _, out = built
    page = (out / "methodology" / "index.html").read_text("utf-8")
    dataset = json.loads((ROOT / "divisions" / "dataset.json").read_text("utf-8"))
    section = page[page.index('id="divisions"'):]
    assert dataset["date"] in section and dataset["package"] in section
    assert dataset["version"] in section and "国家统计局" in section and "开发区" in section


@pytest.mark.slow
def test_a_redirect_may_not_hide_a_real_page(tmp_path):
    site = site_with_divisions(tmp_path / "site")
    (site / "regions" / "shanghai" / "test-district.yaml").write_text(
        "name: 测试区\nlevel: municipal_district\nslug: minxing\ndivision: false\n",
        encoding="utf-8")
    code, _, stderr = run_cli("--root", str(site), "--out", str(tmp_path / "out"),
                              "--today", TODAY)
    assert code == 1
    assert re.search(r"divisions/moved/shanghai\.tsv:\d+: \[old\] .*shanghai/minxing/", stderr)
    assert "hint:" in stderr and not (tmp_path / "out" / "index.html").exists()


def test_a_redirect_must_point_to_a_page_of_the_site(tmp_path):
    site = site_with_divisions(tmp_path / "site")
    moved = site / "divisions" / "moved" / "xinjiang.tsv"
    moved.write_text(moved.read_text("utf-8").replace("\txinjiang/shawan/\t",
                                                      "\txinjiang/no-such-place/\t"),
                     encoding="utf-8")
    code, _, stderr = run_cli("--root", str(site), "--out", str(tmp_path / "out"),
                              "--today", TODAY)
    assert code == 1
    assert re.search(r"divisions/moved/xinjiang\.tsv:\d+: \[new\] .*no-such-place", stderr)


# In a real browser (Debian's Chromium via Playwright, as tests/test_browser.py).

@pytest.fixture(scope="module")
def origin(tmp_path_factory):
    from browser_support import free_port, static_server

    base = tmp_path_factory.mktemp("redirects-browser")
    site = site_with_divisions(base / "site")
    port = free_port()
    code, _, stderr = run_cli("--root", str(site), "--out", str(base / "out"), "--today",
                              TODAY, "--base-url", f"http://127.0.0.1:{port}/")
    assert code == 0, stderr
    with static_server(base / "out", port) as url:
        yield url


def watched_page(browser, origin):
    from browser_support import PHONE

    context = browser.new_context(**PHONE)
    page = context.new_page()
    messages = []
    page.on("console", lambda m: messages.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: messages.append(f"page error: {e}"))
    page.on("request", lambda r: messages.append(f"outside request: {r.url}")
            if not r.url.startswith(origin) else None)
    return context, page, messages


def test_typing_minhang_in_the_home_page_search_finds_minhang(browser, origin):
    from playwright.sync_api import expect

    context, page, messages = watched_page(browser, origin)
    page.goto(origin, wait_until="load")
    box = page.locator("#region-filter")
    results = page.locator("#filter-results")
    for query in ("minhang", "mhq", "闵行"):
        box.fill(query)
        expect(results.get_by_role("link", name="闵行区")).to_be_visible()
    box.fill("minxing")
    expect(results.get_by_role("link", name="闵行区")).to_have_count(0)
    box.fill("aletai")
    expect(results.get_by_role("link", name="阿勒泰地区")).to_be_visible()
    assert [m for m in messages if not m.startswith(("log", "debug", "info"))] == []
    context.close()


@pytest.mark.parametrize("old, new", [("xinjiang/shawanxian/", "xinjiang/shawan/"),
                                      ("xinjiang/shawanxian/jidian/",
                                       "xinjiang/shawan/jidian/"),
                                      ("shanghai/minxing/", "shanghai/minhang/")])
def test_an_old_address_lands_on_its_successor_without_csp_violation(browser, origin, old,
                                                                      new):
    context, page, messages = watched_page(browser, origin)
    page.goto(origin + old, wait_until="load")
    page.wait_for_url(origin + new, timeout=10_000)
    page.wait_for_load_state("load")
    assert page.url == origin + new
    assert "此页面已迁移" not in page.content()
    assert [m for m in messages if "Content Security Policy" in m or
            m.startswith(("error", "page error", "outside"))] == []
    context.close()


@pytest.mark.slow
def test_an_incremental_build_picks_up_a_new_moved_address(built, tmp_path):
    site, _ = built
    work, target = tmp_path / "site", tmp_path / "out"
    shutil.copytree(site, work, ignore=shutil.ignore_patterns(".cache"))
    assert run_cli("--root", str(work), "--out", str(target), "--today", TODAY)[0] == 0
    sitemap = (target / "sitemap.xml").read_bytes()
    moved = work / "divisions" / "moved" / "shanghai.tsv"
    moved.write_text(moved.read_text("utf-8") + "shanghai/songjiangqu/\tshanghai/songjiang/\t"
                     "renamed\t松江县\t松江区\ttest\n", encoding="utf-8")
    code, stdout, stderr = run_cli("--root", str(work), "--out", str(target), "--today", TODAY)
    assert code == 0, stderr
    page = (target / "shanghai" / "songjiangqu" / "kuangye" / "index.html").read_text("utf-8")
    assert refresh_target(page) == "/shanghai/songjiang/kuangye/" and "松江县" in page
    assert (target / "sitemap.xml").read_bytes() == sitemap
    written = int(re.search(r"(\d+) written", stdout + stderr).group(1))
    assert 0 < written < 40   # the new redirect pages (and the site-wide ones), not Xinjiang
