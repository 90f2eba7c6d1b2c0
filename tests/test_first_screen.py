"""Issue 18, points 1 and 5, in Chromium at 390×844: every guide page answers in its first
screen (where the cycle stands, where to look scores up), and the status line follows the
reader's date, not only the build's."""

import datetime as dt
import shutil

import pytest

from browser_support import PHONE, browser, free_port, static_server  # noqa: F401
from conftest import ROOT, copy_site, run_cli

BUILT = "2026-06-15"
SEED_GUIDES = ("xinjiang/tacheng/jidian/", "shanghai/songjiang/kuangye/",
               "guangdong/meizhou/kuangye/", "anhui/maanshan/kuangye/")
NO_DATA = "tianjin/heping/jianzhu/"   # no exam date, no scores site: only the HR bureau


@pytest.fixture(scope="module")
def origin(tmp_path_factory):
    site = copy_site(tmp_path_factory.mktemp("first") / "site")
    for province in ("beijing", "tianjin"):
        shutil.copytree(ROOT / "regions" / province, site / "regions" / province)
    out = site.parent / "out"
    port = free_port()
    code, _, stderr = run_cli("--root", str(site), "--out", str(out), "--today", BUILT,
                              "--base-url", f"http://127.0.0.1:{port}/")
    assert code == 0, stderr
    with static_server(out, port) as url:
        yield url


def phone_page(browser, today: str, javascript: bool = True):
    context = browser.new_context(**PHONE, java_script_enabled=javascript)
    page = context.new_page()
    if javascript:
        page.clock.set_fixed_time(dt.datetime.fromisoformat(today + "T10:00:00"))
    return page


BOTTOMS = """() => ['.answer-when', '.answer-where'].map(sel => {
  const el = document.querySelector(sel);
  return el ? el.getBoundingClientRect().bottom + window.scrollY : null;
})"""


# A province page answers too: pages with nothing of their own name it as their canonical.
@pytest.mark.parametrize("path", [*SEED_GUIDES, NO_DATA, "xinjiang/"])
def test_both_answers_are_inside_the_first_screen(browser, origin, path):
    page = phone_page(browser, "2026-12-04")
    page.goto(origin + path, wait_until="load")
    when, where = page.evaluate(BOTTOMS)
    assert when is not None and where is not None
    assert when <= 844 and where <= 844, (when, where)
    if path == NO_DATA:
        where = page.locator(".answer-where")
        assert "本站尚未收录天津发布成绩的人事考试机构的网址" in where.inner_text()
        assert where.locator("a").get_attribute("href") == "https://hrss.tj.gov.cn/"
    else:
        assert page.locator(".answer-where a[href^='http']").count() >= 1


def test_the_status_line_follows_the_readers_date(browser, origin):
    """Built in June; read in December the line says the window is over and names the
    next step, dated by the reader's day."""
    page = phone_page(browser, "2026-12-04")
    page.goto(origin + SEED_GUIDES[0], wait_until="load")
    line = page.inner_text(".answer-when")
    assert "截至2026年12月4日" in line
    assert "2026年成绩按估算应已在" in line and "下一步：2027年考试" in line
    assert "正处于" not in line and "预计7月" not in line.split("应已在")[0]


def test_in_the_window_the_line_says_so(browser, origin):
    page = phone_page(browser, "2026-08-03")
    page.goto(origin + SEED_GUIDES[0], wait_until="load")
    line = page.inner_text(".answer-when")
    assert "截至2026年8月3日" in line and "现在正处于这段时间" in line


def test_without_javascript_the_build_dates_line_stands(browser, origin):
    page = phone_page(browser, BUILT, javascript=False)
    page.goto(origin + SEED_GUIDES[0], wait_until="load")
    line = page.inner_text(".answer-when")
    assert "截至2026年6月15日" in line and "成绩预计7月27日至8月25日公布" in line
    assert "下一步" not in line


FONT_SIZES = """() => [...document.querySelectorAll('svg.timeline-svg')].flatMap(svg => {
  const scale = svg.getScreenCTM().a;
  return [...svg.querySelectorAll('text')].filter(t => t.closest('[visibility=hidden]') === null
      && t.getAttribute('visibility') !== 'hidden')
    .map(t => [t.textContent, parseFloat(getComputedStyle(t).fontSize) * scale]);
})"""


@pytest.mark.parametrize("path", [SEED_GUIDES[0], "timeline/"])
def test_no_chart_text_renders_under_12_px_on_a_phone(browser, origin, path):
    page = phone_page(browser, "2026-12-04")
    page.goto(origin + path, wait_until="load")
    sizes = page.evaluate(FONT_SIZES)
    assert len(sizes) >= 5
    assert [(text, round(px, 1)) for text, px in sizes if px < 12] == []


def test_the_chart_says_today_is_off_its_axis(browser, origin):
    """Read in December, today lies right of a chart that ends in September: the marker
    stays hidden and a line says so, with the reader's date."""
    page = phone_page(browser, "2026-12-04")
    page.goto(origin + "timeline/", wait_until="load")
    assert page.locator("svg .tl-today").get_attribute("visibility") == "hidden"
    off = page.locator("svg .tl-off")
    assert off.get_attribute("visibility") == "visible"
    assert off.text_content() == "今天（12月4日）不在图的时间范围内"
    page = phone_page(browser, "2026-08-03")
    page.goto(origin + "timeline/", wait_until="load")
    assert page.locator("svg .tl-today").get_attribute("visibility") == "visible"
    assert page.locator("svg .tl-off").get_attribute("visibility") == "hidden"



HEIGHT = "() => document.querySelector('.answer-when').getBoundingClientRect().height"


def test_showing_another_status_line_moves_nothing(browser, origin):
    """Built in June, read in December: the line site.js shows sits in the box the build's
    line already had (every period's line shares one grid cell)."""
    page = phone_page(browser, BUILT, javascript=False)
    page.goto(origin + SEED_GUIDES[0], wait_until="load")
    before = page.evaluate(HEIGHT)
    page = phone_page(browser, "2026-12-04")
    page.goto(origin + SEED_GUIDES[0], wait_until="load")
    assert "下一步" in page.inner_text(".answer-when")
    assert page.evaluate(HEIGHT) == before
