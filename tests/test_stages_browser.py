"""Every stage of the year and two exam cycles on one page, in a real browser (Debian's
Chromium): the statuses and the region page's next step follow the reader's own date, each
cycle's lines follow their own cycle's statuses, and nothing is blocked or broken."""

import pytest

from browser_support import PHONE, browser, free_port, static_server  # noqa: F401
from conftest import copy_site, run_cli
from test_stages import add_exam

GUIDE = "anhui/maanshan/kuangye/"
REGION = "anhui/maanshan/"


@pytest.fixture(scope="module")
def origin(tmp_path_factory):
    site = copy_site(tmp_path_factory.mktemp("stages") / "site")
    add_exam(site)
    port = free_port()
    out = site.parent / "out"
    # Built in July 2026: the 2026 cycle leads, 2027 (recorded with its stages) follows.
    code, _, stderr = run_cli("--root", str(site), "--out", str(out), "--today", "2026-07-30",
                              "--base-url", f"http://127.0.0.1:{port}/")
    assert code == 0, stderr
    with static_server(out, port) as url:
        yield url


def open_at(browser, url, when):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.clock.set_fixed_time(when)
    page.goto(url, wait_until="load")
    return context, page, problems


def badge(page, cycle, kind):
    return page.locator(f'[data-cycle="{cycle}"] [data-status-kind={kind}]').first


def test_stage_statuses_follow_the_readers_date(browser, origin):
    context, page, problems = open_at(browser, origin + GUIDE, "2027-03-05T10:00:00+08:00")
    assert badge(page, "2027-main", "registration").inner_text() == "报名中"
    assert badge(page, "2027-main", "admit_card").inner_text() == "未开始"
    assert badge(page, "2027-main", "release").inner_text() == "尚未开始"
    assert badge(page, "2026-main", "release").inner_text() == "已过"
    assert badge(page, "2026-main", "review").inner_text() == "已截止"
    page.clock.set_fixed_time("2027-12-20T10:00:00+08:00")
    page.reload(wait_until="load")
    assert badge(page, "2027-main", "registration").inner_text() == "已截止"
    assert badge(page, "2027-main", "audit").inner_text() == "已结束"
    assert badge(page, "2027-main", "certificate").inner_text() == "已开始发放"
    assert problems == []
    context.close()


def test_each_cycle_shows_the_lines_of_its_own_status(browser, origin):
    # 1 August 2027: the 2026 window is long over, the 2027 one is open. The 2026 summary
    # says its window has passed; nothing of 2026's state leaks into 2027's block.
    context, page, problems = open_at(browser, origin + GUIDE, "2027-08-01T10:00:00+08:00")
    summary = page.locator('[data-cycle="2026-main"] .summary')
    assert summary.get_by_text("估算窗口已过").is_visible()
    assert not summary.get_by_text("这是按工作日推算的估计").is_visible()
    assert badge(page, "2027-main", "release").inner_text() == "预计窗口内"
    assert badge(page, "2027-main", "review").inner_text() == "未开始"   # recorded: 2–6 August
    assert problems == []
    context.close()


@pytest.mark.parametrize("when, expected", [
    ("2027-03-05T10:00:00+08:00", "报名 3月1日–3月12日"),
    ("2027-04-01T10:00:00+08:00", "打印准考证 5月24日–5月28日（未核实）"),
    ("2027-05-29T10:00:00+08:00", "2027年考试 5月29日"),
    ("2027-09-14T10:00:00+08:00", "考后资格审核 9月13日–9月17日（未核实）"),
])
def test_the_region_page_names_the_next_step_with_its_year(browser, origin, when, expected):
    context, page, problems = open_at(browser, origin + REGION, when)
    assert page.locator(".next").first.inner_text() == expected
    assert problems == []
    context.close()


@pytest.mark.parametrize("path, line, start", [
    (REGION, ".next", "2026年成绩预计 7月22日–8月20日"),
    # the province page's answer block: the status line in force (the others are hidden)
    ("anhui/", ".answer-when > span:not([hidden])", "进展：截至2026年7月30日，2026年成绩预计"),
])
def test_the_browser_says_what_the_build_said_on_the_build_date(browser, origin, path, line,
                                                                start):
    """site.js rewrites the next step; on the day the site was built it must say exactly what
    the page says without JavaScript."""
    context = browser.new_context(**PHONE, java_script_enabled=False)
    page = context.new_page()
    page.goto(origin + path, wait_until="load")
    built = page.locator(line).first.inner_text()
    context.close()
    context, page, problems = open_at(browser, origin + path, "2026-07-30T10:00:00+08:00")
    assert page.locator(line).first.inner_text() == built
    assert built.startswith(start)
    assert problems == []
    context.close()
