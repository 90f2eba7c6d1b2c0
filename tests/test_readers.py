"""What readers and their tools get: timelines, subscriptions, feeds, search-engine metadata,
page weight, and base URLs with a sub-path. Parsed back with independent parsers."""

import datetime as dt
import json
import re
import xml.etree.ElementTree as ET

import feedparser
import ics
import pytest

from conftest import run_cli
from erjian.site.svg import Axis, cycle_timeline

D = dt.date
GUIDE = "xinjiang/tacheng/jidian/"


@pytest.fixture(scope="module")
def built(tmp_path_factory, seed_root):
    out = tmp_path_factory.mktemp("readers") / "out"
    code, _, stderr = run_cli("--root", str(seed_root), "--out", str(out), "--today", "2026-06-15",
                              "--base-url", "https://guide.example.cn/")
    assert code == 0, stderr
    return out


def read(out, path):
    return (out / path).read_text(encoding="utf-8")


def html_pages(out):
    return sorted(p for p in out.rglob("*.html"))


def test_guide_page_has_an_svg_timeline_with_a_text_equivalent(built):
    html = read(built, GUIDE + "index.html")
    svg = re.search(r"<svg class=\"timeline-svg\".*?</svg>", html, re.S).group(0)
    root = ET.fromstring(svg.replace('role="img"', 'role="img" xmlns="http://www.w3.org/2000/svg"'))
    ns = {"s": "http://www.w3.org/2000/svg"}
    desc = root.find("s:desc", ns).text
    # The text equivalent carries the page's labels: the seed exam is unconfirmed and the
    # window rests on a projected calendar year.
    assert "考试（未核实）：5月23日至5月24日" in desc
    assert "成绩预计发布（暂定）：7月27日至8月25日" in desc
    assert "今天：6月15日" in desc
    classes = {token for el in root.iter() for token in (el.get("class") or "").split()}
    assert {"tl-exam", "tl-window", "tl-today", "tl-provisional", "tl-unconfirmed"} <= classes
    assert root.get("aria-labelledby") == "tl-title tl-desc"


def test_svg_positions_follow_the_dates():
    axis = Axis(D(2026, 5, 1), D(2026, 5, 31), 0, 300)
    assert axis.x(D(2026, 5, 1)) == 0 and axis.x(D(2026, 5, 31)) == 300
    assert axis.x(D(2026, 5, 16)) == 150
    assert [d.month for d in Axis(D(2026, 5, 20), D(2026, 8, 5), 0, 1).month_ticks()] == [6, 7, 8]


def test_announced_release_is_a_mark_not_a_band():
    svg = cycle_timeline((D(2026, 5, 23), D(2026, 5, 24)), (D(2026, 8, 12), D(2026, 8, 12)),
                         D(2026, 8, 12), (D(2026, 8, 12), D(2026, 8, 18)), D(2026, 8, 1),
                         estimated_review=False)
    assert "tl-announced" in svg and "tl-window" not in svg
    assert "成绩发布日期已公布：8月12日" in svg


def test_today_outside_the_timeline_is_hidden():
    svg = cycle_timeline((D(2026, 5, 23), D(2026, 5, 24)), (D(2026, 7, 27), D(2026, 8, 25)),
                         None, (D(2026, 7, 27), D(2026, 8, 31)), D(2027, 1, 1),
                         estimated_review=True)
    assert 'class="tl-today" data-today="2027-01-01" visibility="hidden"' in svg


def test_national_timeline_page_draws_every_province(built):
    html = read(built, "timeline/index.html")
    for name in ("新疆维吾尔自治区", "上海市", "广东省", "安徽省"):
        assert name in html
    assert html.count('<rect class="tl-window') == 4
    assert "<caption>文字版</caption>" in html


def test_home_filter_index_covers_hanzi_pinyin_and_initials(built):
    html = read(built, "index.html")
    index = json.loads(read(built, "api/search.json"))
    entry = next(e for e in index if e[1] == "xinjiang/tacheng/")
    assert entry[0] == "塔城地区" and entry[3] == "新疆"
    assert {"塔城地区", "塔城", "tacheng", "tc", "tachengdiqu", "tcdq"} <= set(entry[2].split())
    assert '<div class="filter" id="filter-box" hidden data-base="/"' in html
    assert "塔城地区,,tacheng,tc,diqu,dq," in read(built, "api/search/t.json")
    assert 'href="/xinjiang/tacheng/"' in html  # the plain list without JavaScript


def test_calendar_subscription_parses_with_an_independent_parser(built):
    calendar = ics.Calendar(read(built, GUIDE + "schedule.ics"))
    events = sorted(calendar.events, key=lambda e: e.begin)
    assert [e.name for e in events] == ["二级建造师考试（机电工程）", "二建成绩预计发布窗口（估算）",
                                       "二建成绩复核申请期（估算）"]
    exam, release, review = events
    assert exam.begin.date() == D(2026, 5, 23) and exam.end.date() == D(2026, 5, 25)
    assert release.begin.date() == D(2026, 7, 27) and release.end.date() == D(2026, 8, 26)
    assert release.status == "TENTATIVE" and exam.status == "TENTATIVE"
    assert len({e.uid for e in events}) == 3
    assert all(e.uid.endswith("@guide.example.cn") for e in events)


def test_calendar_uids_survive_an_announcement(site, tmp_path):
    def uids_and_statuses(out):
        calendar = ics.Calendar(read(out, "anhui/maanshan/kuangye/schedule.ics"))
        return {e.uid: (e.status, e.begin.date()) for e in calendar.events}

    before = tmp_path / "before"
    run_cli("--root", str(site), "--out", str(before), "--today", "2026-06-15")
    (site / "content/notices/r.md").write_text(
        "---\ntitle: 发布\ndate: 2026-08-10\nkind: release\nprovinces: [anhui]\nexam_year: 2026\n"
        "release_date: 2026-08-12\nsource:\n  title: 关于成绩发布的通知\n"
        "  url: https://www.apta.gov.cn/n.html\n---\n已发布。\n", encoding="utf-8")
    after = tmp_path / "after"
    assert run_cli("--root", str(site), "--out", str(after), "--today", "2026-08-20")[0] == 0
    old, new = uids_and_statuses(before), uids_and_statuses(after)
    assert set(old) == set(new)
    release_uid = next(uid for uid in new if "-release." in uid)
    assert old[release_uid][0] == "TENTATIVE"
    assert new[release_uid] == ("CONFIRMED", D(2026, 8, 12))


def test_atom_feeds_parse_and_are_scoped(site, tmp_path):
    (site / "content/notices/gd.md").write_text(
        "---\ntitle: 广东通知\ndate: 2026-07-01\nkind: general\nprovinces: [guangdong]\n---\n"
        "正文 **加粗**。\n", encoding="utf-8")
    out = tmp_path / "out"
    run_cli("--root", str(site), "--out", str(out), "--today", "2026-07-02")
    site_feed = feedparser.parse(read(out, "feed.xml"))
    assert not site_feed.bozo and site_feed.version == "atom10"
    assert [e.title for e in site_feed.entries] == ["广东通知", "新疆2026年古尔邦节放假5天，正值二建阅卷期"]
    assert site_feed.entries[0].link == "https://erjian.example.org/notices/gd/"
    assert "<strong>加粗</strong>" in site_feed.entries[0].content[0].value
    guangdong = feedparser.parse(read(out, "guangdong/feed.xml"))
    assert [e.title for e in guangdong.entries] == ["广东通知"]
    assert feedparser.parse(read(out, "anhui/feed.xml")).entries == []


def test_sitemap_lists_every_self_canonical_page_and_robots_points_to_it(built):
    tree = ET.fromstring(read(built, "sitemap.xml"))
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = {el.text for el in tree.findall("s:url/s:loc", ns)}
    urls = {"https://guide.example.cn/" + p.relative_to(built).as_posix()[: -len("index.html")]:
            p.read_text("utf-8") for p in html_pages(built) if p.name == "index.html"}
    expected = {url for url, html in urls.items()
                if f'<link rel="canonical" href="{url}">' in html}
    assert locs == expected and "https://guide.example.cn/xinjiang/" in locs
    assert "Sitemap: https://guide.example.cn/sitemap.xml" in read(built, "robots.txt")


def test_canonical_open_graph_and_json_ld(built):
    html = read(built, GUIDE + "index.html")
    url = "https://guide.example.cn/" + GUIDE
    # Tacheng has nothing of its own in the data: its page repeats the province's.
    assert '<link rel="canonical" href="https://guide.example.cn/xinjiang/">' in html
    assert '<meta property="og:url" content="https://guide.example.cn/xinjiang/">' in html
    assert '<meta property="og:title" content="塔城地区二级建造师（机电工程）' in html
    blocks = [json.loads(b) for b in
              re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)]
    kinds = {b["@type"]: b for b in blocks}
    # The seed's 2026 exam date is unverified: no Event (docs/structured-data.md).
    assert "Event" not in kinds
    crumbs = kinds["BreadcrumbList"]
    assert [i["name"] for i in crumbs["itemListElement"]][1:] == ["新疆维吾尔自治区", "塔城地区",
                                                                   "机电工程"]
    assert crumbs["itemListElement"][-1]["item"] == url


def test_a_sub_path_base_url_prefixes_every_internal_link(site, tmp_path):
    out = tmp_path / "out"
    code, _, _ = run_cli("--root", str(site), "--out", str(out), "--today", "2026-06-15",
                         "--base-url", "https://host.example.cn/erjian/")
    assert code == 0
    for page in html_pages(out):
        html = page.read_text(encoding="utf-8")
        for link in re.findall(r'(?:href|src)="(/[^"]*)"', html):
            assert link.startswith("/erjian/"), (page, link)
    assert '<link rel="canonical" href="https://host.example.cn/erjian/xinjiang/">' in read(
        out, "xinjiang/index.html")


def test_no_page_loads_anything_from_outside(built):
    for page in html_pages(built):
        html = page.read_text(encoding="utf-8")
        for tag in re.findall(r"<(?:script|link|img|iframe|source)[^>]*>", html):
            for url in re.findall(r'(?:src|href)="([^"]*)"', tag):
                if 'rel="canonical"' in tag:
                    continue
                assert url.startswith("/"), (page.name, tag)


def test_guide_page_with_its_css_and_js_stays_under_60_kb(built):
    for province, region, specialty in (("xinjiang", "tacheng", "jidian"),
                                        ("shanghai", "songjiang", "kuangye"),
                                        ("guangdong", "meizhou", "kuangye"),
                                        ("anhui", "maanshan", "kuangye")):
        page = built / province / region / specialty / "index.html"
        total = page.stat().st_size + sum((built / "static" / n).stat().st_size
                                          for n in ("style.css", "site.js"))
        assert total < 60 * 1024, (page, total)


def test_print_and_dark_styles_exist(built):
    css = read(built, "static/style.css")
    assert "@media (prefers-color-scheme: dark)" in css and "@media print" in css
    assert "size: A4" in css
    assert "url(" not in css and "@import" not in css  # no fonts or files from elsewhere


def test_every_outbound_link_carries_noopener_noreferrer(built):
    outbound = 0
    for page in html_pages(built):
        for tag in re.findall(r"<a\s[^>]*href=\"https?://[^>]*>", page.read_text("utf-8")):
            outbound += 1
            assert 'rel="noopener noreferrer"' in tag, (page, tag)
    assert outbound > 20


def test_pages_carry_a_content_security_policy(built):
    for page in html_pages(built):
        html = page.read_text("utf-8")
        policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html)
        assert policy, page
        assert "script-src 'self'" in policy.group(1) and "unsafe-inline" not in policy.group(1)
        assert "default-src 'none'" in policy.group(1)
