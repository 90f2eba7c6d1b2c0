"""The home page's search in Chromium on a phone (issue 18, point 7): the index shards are
fetched when the box gets focus, with a visible loading state; results are ranked and
announced in a live region; 郫都区 is found by its corrected reading `pidu`. On a link
throttled to 400 kbit/s and 400 ms, the time from the first keystroke to the first result is
printed (a figure for the report, not an assertion)."""

import shutil
import time

import pytest
from playwright.sync_api import expect

from browser_support import PHONE, browser, free_port, static_server  # noqa: F401
from conftest import ROOT, copy_site, run_cli

PROVINCES = ("xinjiang", "shaanxi", "sichuan", "anhui")
SLOW = {"offline": False, "latency": 400, "downloadThroughput": 400 * 1024 / 8,
        "uploadThroughput": 400 * 1024 / 8}


@pytest.fixture(scope="module")
def origin(tmp_path_factory):
    base = tmp_path_factory.mktemp("search")
    site = copy_site(base / "site", PROVINCES, divisions=True)
    (site / "divisions" / "moved").mkdir(parents=True)
    shutil.copy(ROOT / "divisions" / "dataset.json", site / "divisions" / "dataset.json")
    for province in PROVINCES:
        moved = ROOT / "divisions" / "moved" / f"{province}.tsv"
        if moved.exists():
            shutil.copy(moved, site / "divisions" / "moved" / moved.name)
    port = free_port()
    out = base / "out"
    code, _, stderr = run_cli("--root", str(site), "--out", str(out), "--today", "2026-06-15",
                              "--base-url", f"http://127.0.0.1:{port}/")
    assert code == 0, stderr
    with static_server(out, port) as url:
        yield url


def names(page) -> list[str]:
    return page.locator("#filter-results a").all_inner_texts()


def test_results_are_ranked_and_announced(browser, origin):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(origin, wait_until="load")
    box, status = page.locator("#region-filter"), page.locator("#filter-status")
    assert status.get_attribute("role") == "status"
    assert status.get_attribute("aria-live") == "polite"
    box.fill("tc")
    expect(page.locator("#filter-results a").first).to_be_visible()
    assert "塔城地区" in names(page)[:3], names(page)[:5]
    expect(status).to_have_text(f"找到 {len(names(page))} 个地区。")
    box.fill("塔城")
    assert names(page)[:2] == ["塔城地区", "塔城市"]   # prefecture first, then its city
    box.fill("pidu")
    assert names(page)[0] == "郫都区"
    box.fill("pidou")
    expect(status).to_have_text("没有找到匹配的地区。")
    box.fill("junlian")
    assert names(page)[0] == "筠连县"
    context.close()


def test_the_index_loads_before_the_first_keystroke_on_a_slow_link(browser, origin):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    requested = []
    page.on("request", lambda r: requested.append(r.url))
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", SLOW)
    page.goto(origin, wait_until="load")
    box, status = page.locator("#region-filter"), page.locator("#filter-status")
    box.focus()
    expect(status).to_have_text("正在载入地名…")
    assert any("/api/search/" in u for u in requested)   # before the first keystroke
    assert not any(u.endswith("/api/search.json") for u in requested)
    started = time.monotonic()
    page.keyboard.type("pidu")
    expect(page.locator("#filter-results a").first).to_have_text("郫都区", timeout=20000)
    elapsed = time.monotonic() - started
    print(f"\nfirst result for 'pidu' (郫都区, not on the home page) at 400 kbit/s, 400 ms, "
          f"typed right after the page loaded: {elapsed:.2f} s after the first keystroke")
    assert "郫都区" not in page.locator("#province-groups").inner_text()
    context.close()


def test_a_failed_index_says_so_and_typing_again_retries(browser, origin):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.route("**/api/search/*.json", lambda route: route.abort())
    page.goto(origin, wait_until="load")
    box, status = page.locator("#region-filter"), page.locator("#filter-status")
    box.fill("pidu")
    expect(status).to_have_text("地名没有载入，请检查网络后再输入一次。")
    page.unroute("**/api/search/*.json")
    box.fill("pid")
    expect(page.locator("#filter-results a").first).to_have_text("郫都区")
    context.close()
