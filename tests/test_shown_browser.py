"""Issue 16, item 5, in Chromium at phone width (390 px): the charts' labels stay inside the
drawing, and 暂定 looks the same (dashed) in the guide page's chart and the national one."""

import pytest

from browser_support import PHONE, browser, free_port, static_server  # noqa: F401
from conftest import copy_site, run_cli
from test_stages import add_exam

# A window that ends in December: the last tick of the axis is "2028年1月", at the right edge.
LATE_EXAM = """  - year: 2027
    days: [2027-09-21, 2027-09-22]
"""
LATE_GUIDE = "anhui/maanshan/jianzhu/"
SEED_GUIDES = ("xinjiang/tacheng/jidian/", "shanghai/songjiang/kuangye/",
               "guangdong/meizhou/kuangye/", "anhui/maanshan/kuangye/")


@pytest.fixture(scope="module")
def origin(tmp_path_factory):
    site = copy_site(tmp_path_factory.mktemp("shown") / "site")
    add_exam(site, LATE_EXAM)
    out = site.parent / "out"
    port = free_port()
    code, _, stderr = run_cli("--root", str(site), "--out", str(out), "--today", "2027-10-01",
                              "--base-url", f"http://127.0.0.1:{port}/")
    assert code == 0, stderr
    with static_server(out, port) as url:
        yield url


OVERFLOW = """() => [...document.querySelectorAll('svg.timeline-svg')].flatMap(svg => {
  const box = svg.getBoundingClientRect();
  return [...svg.querySelectorAll('text')].filter(t => getComputedStyle(t).display !== 'none'
      && t.closest('[visibility=hidden]') === null).map(t => {
    const r = t.getBoundingClientRect();
    return {text: t.textContent, left: r.left - box.left, right: box.right - r.right};
  }).filter(r => r.left < -0.5 || r.right < -0.5);
})"""


@pytest.mark.parametrize("path", [LATE_GUIDE, *SEED_GUIDES, "timeline/"])
def test_chart_labels_stay_inside_the_drawing_at_phone_width(browser, origin, path):
    page = browser.new_context(**PHONE).new_page()
    page.goto(origin + path, wait_until="load")
    assert page.locator("svg.timeline-svg").count() == 1
    if path == LATE_GUIDE:
        assert page.locator("svg.timeline-svg text.tl-tick").last.text_content() == "2028年1月"
    assert page.evaluate(OVERFLOW) == []


DASHES = """(selector) => [...document.querySelectorAll(selector)].map(
  el => getComputedStyle(el).strokeDasharray)"""


def test_a_provisional_window_is_dashed_in_both_charts(browser, origin):
    page = browser.new_context(**PHONE).new_page()
    styles = []
    for path in ("xinjiang/tacheng/jidian/", "timeline/"):
        page.goto(origin + path, wait_until="load")
        styles += page.evaluate(DASHES, "svg rect.tl-window.tl-provisional")
    assert len(styles) >= 2 and len(set(styles)) == 1 and styles[0] not in ("none", "")
