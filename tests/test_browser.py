"""Every page type in a real browser (Debian's Chromium via Playwright), at phone and desktop
sizes: no console error, no request leaving the site, no horizontal scroll on a phone, no
serious or critical axe-core violation, no broken internal link; the region filter and the
in-browser status refresh work."""

import re
import urllib.error
import urllib.request
from urllib.parse import urljoin, urlparse

import pytest
from playwright.sync_api import expect

from browser_support import (AXE, DESKTOP, PHONE, browser, free_port,  # noqa: F401
                             static_server)
from conftest import run_cli

PAGES = {
    "home": "",
    "province": "xinjiang/",
    "region": "xinjiang/tacheng/",
    "guide": "xinjiang/tacheng/jidian/",
    "timeline": "timeline/",
    "methodology": "methodology/",
    "data": "api/",
    "notices": "notices/",
    "notice": "notices/2026-xinjiang-eid-al-adha/",
    "not found": "404.html",
}


@pytest.fixture(scope="module")
def origin(tmp_path_factory, seed_root):
    port = free_port()
    out = tmp_path_factory.mktemp("browser") / "out"
    code, _, stderr = run_cli("--root", str(seed_root), "--out", str(out), "--today", "2026-06-15",
                              "--base-url", f"http://127.0.0.1:{port}/")
    assert code == 0, stderr
    with static_server(out, port) as url:
        yield url



def open_page(browser, origin, path, size, **context_options):
    context = browser.new_context(**size, **context_options)
    page = context.new_page()
    problems = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
            if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("request", lambda r: problems.append(f"outside request: {r.url}")
            if not r.url.startswith(origin) else None)
    return context, page, problems


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
@pytest.mark.parametrize("name", list(PAGES))
def test_page_renders_cleanly(browser, origin, name, size):
    context, page, problems = open_page(browser, origin, PAGES[name], size)
    response = page.goto(origin + PAGES[name], wait_until="load")
    assert response.status == 200
    assert page.locator("h1").count() == 1
    if size is PHONE:
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} scrolls sideways by {overflow}px on a phone"
    assert problems == []
    context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("name", list(PAGES))
def test_no_serious_accessibility_violations(browser, origin, name, scheme):
    assert AXE.exists(), "axe-core is missing: run `make test` (npm install in tests/browser)"
    # axe-core is injected by the test, so the site's own Content-Security-Policy (which
    # allows no inline script) is bypassed for this context only
    context, page, _ = open_page(browser, origin, PAGES[name], PHONE, color_scheme=scheme,
                                 bypass_csp=True)
    page.goto(origin + PAGES[name], wait_until="load")
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate("""async () => {
        const result = await axe.run(document, {resultTypes: ['violations']});
        return result.violations
            .filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => v.id + ' (' + v.impact + '): ' +
                 v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '));
    }""")
    assert violations == []
    context.close()


def test_filter_finds_regions_by_hanzi_pinyin_and_initials(browser, origin):
    context, page, problems = open_page(browser, origin, "", PHONE)
    page.goto(origin, wait_until="load")
    box = page.locator("#region-filter")
    expect(box).to_be_visible()
    results = page.locator("#filter-results")
    for query in ("tc", "tacheng", "塔城", "TC"):
        box.fill(query)
        expect(results.get_by_role("link", name="塔城地区")).to_be_visible()
        expect(results.get_by_role("link", name="松江区")).to_have_count(0)
        expect(page.locator("#province-groups")).to_be_hidden()
    box.fill("sj")
    expect(results.get_by_role("link", name="松江区")).to_be_visible()
    box.fill("maanshan")
    expect(results.get_by_role("link", name="马鞍山市")).to_be_visible()
    box.fill("zzzz")
    expect(page.locator("#filter-status")).to_have_text("没有找到匹配的地区。")
    box.fill("")
    expect(page.locator("#province-groups")).to_be_visible()
    expect(page.get_by_role("link", name="塔城地区")).to_be_visible()
    assert problems == []
    context.close()


def test_without_javascript_the_home_page_is_a_plain_list(browser, origin):
    context, page, _ = open_page(browser, origin, "", PHONE, java_script_enabled=False)
    page.goto(origin, wait_until="load")
    assert not page.locator("#region-filter").is_visible()
    assert page.get_by_role("link", name="塔城地区").is_visible()
    context.close()


def test_statuses_are_refreshed_against_the_readers_date(browser, origin):
    context, page, problems = open_page(browser, origin, PAGES["guide"], PHONE)
    page.clock.set_fixed_time("2026-08-01T10:00:00+08:00")
    page.goto(origin + PAGES["guide"], wait_until="load")
    badge = page.locator(".summary [data-status-kind=release]")
    assert badge.inner_text() == "预计窗口内"   # built on 2026-06-15 as 尚未开始
    assert page.locator(".tl-today").get_attribute("visibility") == "visible"
    page.clock.set_fixed_time("2026-12-01T10:00:00+08:00")
    page.reload(wait_until="load")
    assert badge.inner_text() == "已过"
    assert page.get_by_text("估算窗口已过").is_visible()
    assert page.locator(".timeline [data-status-kind=review]").inner_text() == "已截止"
    assert problems == []
    context.close()


def test_every_internal_link_resolves(origin):
    seen, queue, broken = set(), [origin], []
    while queue:
        url = queue.pop()
        if url in seen:
            continue
        seen.add(url)
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                body = response.read()
                kind = response.headers.get("Content-Type", "")
        except urllib.error.HTTPError as exc:
            broken.append(f"{url}: {exc.code}")
            continue
        if "html" not in kind:
            continue
        for href in re.findall(r'href="([^"#]+)', body.decode("utf-8")):
            target = urljoin(url, href)
            if urlparse(target).netloc == urlparse(origin).netloc:
                queue.append(target)
    assert broken == []
    assert len(seen) > 60  # pages, calendars, feeds, JSON and assets were all reached


def test_guide_page_prints_on_a4(browser, origin, tmp_path):
    context, page, problems = open_page(browser, origin, PAGES["guide"], DESKTOP)
    page.goto(origin + PAGES["guide"], wait_until="load")
    page.emulate_media(media="print")
    assert not page.locator(".site-header nav").is_visible()
    assert not page.locator(".subscribe").is_visible()
    page.set_viewport_size({"width": 718, "height": 1000})  # A4 less 15 mm margins at 96 dpi
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    pdf = tmp_path / "guide.pdf"
    page.pdf(path=str(pdf), format="A4")
    data = pdf.read_bytes()
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", data))
    assert data.startswith(b"%PDF") and 2 <= pages <= 8, pages
    assert problems == []
    context.close()


def test_content_security_policy_blocks_injected_inline_script(browser, origin):
    context, page, problems = open_page(browser, origin, PAGES["guide"], PHONE)
    page.goto(origin + PAGES["guide"], wait_until="load")
    page.evaluate("""() => { const s = document.createElement('script');
        s.textContent = 'window.__injected = 1'; document.head.appendChild(s); }""")
    assert page.evaluate("window.__injected") is None
    assert any("Content Security Policy" in p for p in problems)
    assert page.locator(".summary [data-status-kind]").count() == 1  # site.js still ran
    context.close()


@pytest.fixture(scope="module")
def national_origin(tmp_path_factory):
    """Hebei with all its generated divisions: county and city pages with long link lists."""
    from conftest import copy_site

    port = free_port()
    base = tmp_path_factory.mktemp("national-browser")
    site = copy_site(base / "site", ("hebei",), divisions=True)
    code, _, stderr = run_cli("--root", str(site), "--out", str(base / "out"), "--today",
                              "2026-06-15", "--base-url", f"http://127.0.0.1:{port}/")
    assert code == 0, stderr
    with static_server(base / "out", port) as url:
        yield url


@pytest.mark.parametrize("path", ["hebei/", "hebei/zhangjiakou/", "hebei/zhangjiakou/jidian/",
                                  "hebei/qiaoxi-zhangjiakou/jidian/"])
def test_national_pages_on_a_phone(browser, national_origin, path):
    context, page, problems = open_page(browser, national_origin, path, PHONE, bypass_csp=True)
    assert page.goto(national_origin + path, wait_until="load").status == 200
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    page.add_script_tag(path=str(AXE))
    serious = page.evaluate("""async () => (await axe.run()).violations
        .filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => v.id)""")
    assert serious == [] and problems == []
    context.close()
