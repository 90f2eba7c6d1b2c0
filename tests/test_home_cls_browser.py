"""The home page does not shift when its script reveals the region search: the cumulative
layout shift, measured by a buffered PerformanceObserver in Chromium at phone size, is 0;
without JavaScript the search box stays out of sight."""

import time

import pytest

from browser_support import PHONE, browser, free_port, static_server  # noqa: F401
from conftest import run_cli

LAYOUT_SHIFT = """() => new Promise(resolve => {
  let total = 0;
  new PerformanceObserver(list => {
    for (const entry of list.getEntries()) if (!entry.hadRecentInput) total += entry.value;
  }).observe({type: "layout-shift", buffered: true});
  setTimeout(() => resolve(total), 1000);
})"""


@pytest.fixture(scope="module")
def origin(tmp_path_factory, seed_root):
    port = free_port()
    out = tmp_path_factory.mktemp("cls") / "out"
    code, _, stderr = run_cli("--root", str(seed_root), "--out", str(out), "--today",
                              "2026-06-15", "--base-url", f"http://127.0.0.1:{port}/")
    assert code == 0, stderr
    with static_server(out, port) as url:
        yield url


def slow_script(route):
    """site.js arrives after the first paint, as on a slow link."""
    time.sleep(0.8)
    route.continue_()


def test_revealing_the_search_shifts_nothing(browser, origin):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.route("**/static/site.js", slow_script)
    page.goto(origin, wait_until="load")
    assert page.locator("#region-filter").is_visible()
    assert page.evaluate(LAYOUT_SHIFT) == 0
    context.close()


def test_without_javascript_no_search_box_is_shown(browser, origin):
    context = browser.new_context(**PHONE, java_script_enabled=False)
    page = context.new_page()
    page.goto(origin, wait_until="load")
    assert not page.locator("#region-filter").is_visible()
    box = page.locator("#filter-box").bounding_box()
    assert box is None or box["height"] == 0
    context.close()
