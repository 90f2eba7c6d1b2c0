"""Issue 18, points 3 and 6, over a built seed site with two municipalities that have no data
(Beijing, Tianjin), built in December when the 2026 windows are long past: a page's title,
description and structured data claim only what its body holds; no sentence is said twice;
municipalities are not called provinces and their bureaus are not 厅."""

import collections
import json
import re
import shutil

import pytest

from conftest import ROOT, copy_site, run_cli

BUILT = "2026-12-04"
MUNICIPALITIES = ("beijing", "tianjin", "shanghai")


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    site = copy_site(tmp_path_factory.mktemp("claims") / "site")
    for slug in ("beijing", "tianjin"):
        shutil.copytree(ROOT / "regions" / slug, site / "regions" / slug)
    target = site.parent / "out"
    code, _, stderr = run_cli("--root", str(site), "--out", str(target), "--today", BUILT)
    assert code == 0, stderr
    return target


def guide_pages(out):
    """Every guide page: a specialty's page below a region."""
    return sorted(p for p in out.rglob("index.html")
                  if len(p.relative_to(out).parts) >= 4 and p.parent.name in CODES)


CODES = {"jianzhu", "shizheng", "jidian", "gonglu", "shuili", "kuangye"}


def meta(html, attr, name):
    return re.search(rf'<meta {attr}="{name}" content="([^"]*)"', html).group(1)


def answer(html, cls):
    return re.search(rf'<p class="{cls}">(.*?)</p>', html, re.S).group(1)


def visible_text(html):
    """The text a reader sees: no head, scripts, SVG or elements marked hidden."""
    body = html[html.index("<body>"):]
    body = re.sub(r"<(script|svg|title|desc)\b.*?</\1>", " ", body, flags=re.S)
    body = re.sub(r"<(p|span|section|li)\b[^>]*\shidden\b[^>]*>.*?</\1>", " ", body,
                  flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


def sentences(text):
    return [s.strip() for s in re.split(r"[。！？；]", text) if len(s.strip()) >= 12]


def test_the_description_promises_only_what_the_page_holds(out):
    pages = guide_pages(out)
    assert len(pages) > 40
    with_sites = without_dates = 0
    for path in pages:
        html = path.read_text(encoding="utf-8")
        description = meta(html, "name", "description")
        assert meta(html, "property", "og:description") == description
        when, where = answer(html, "answer-when"), answer(html, "answer-where")
        linked = "<a href=\"http" in where and "尚未收录" not in where   # the scores site itself
        assert ("官方查询网站" in description) == linked, path
        dated = "预计" in when or "公布" in when and "data-since" in when
        assert ("预计发布时间" in description) == ("data-since" in when), path
        assert dated or "不推算出分时间" in description, path
        with_sites += linked
        without_dates += "data-since" not in when
    assert with_sites and without_dates


def test_no_event_is_published_from_an_unverified_exam_date(out):
    events = []
    for path in guide_pages(out):
        html = path.read_text(encoding="utf-8")
        for block in re.findall(r'<script type="application/ld\+json">(.*?)</script>', html,
                                re.S):
            data = json.loads(block)
            if data.get("@type") == "Event":
                events.append(path)
    assert events == []


def test_a_confirmed_exam_still_gets_its_event(tmp_path):
    site = copy_site(tmp_path / "site", provinces=("anhui",))
    province = site / "regions" / "anhui" / "province.yaml"
    text = province.read_text(encoding="utf-8")
    assert "confirmed: false" in text
    province.write_text(text.replace("confirmed: false", "confirmed: true\n    source:\n"
                                     "      title: 考务通知（测试用）\n"
                                     "      url: https://hrss.ah.gov.cn/\n"), encoding="utf-8")
    code, _, stderr = run_cli("--root", str(site), "--out", str(tmp_path / "o"), "--today",
                              BUILT)
    assert code == 0, stderr
    html = (tmp_path / "o" / "anhui" / "maanshan" / "kuangye" / "index.html").read_text(
        encoding="utf-8")
    blocks = [json.loads(b) for b in
              re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)]
    event = next(b for b in blocks if b["@type"] == "Event")
    assert event["startDate"] == "2026-05-23" and event["endDate"] == "2026-05-24"
    assert event["eventStatus"] == "https://schema.org/EventScheduled"
    assert event["location"]["address"]["addressRegion"] == "安徽省"


def test_no_sentence_appears_twice_on_a_page(out):
    checked = [p for p in guide_pages(out) if p.parent.name == "kuangye"
               or "beijing" in p.parts]
    assert any("beijing" in p.parts for p in checked) and len(checked) >= 5
    for path in checked:
        counts = collections.Counter(sentences(visible_text(path.read_text(encoding="utf-8"))))
        assert [s for s, n in counts.items() if n > 1] == [], path


def test_municipalities_are_not_called_provinces(out):
    pages = [p for slug in MUNICIPALITIES for p in (out / slug).rglob("index.html")]
    assert len(pages) > 20
    for path in pages:
        text = visible_text(path.read_text(encoding="utf-8"))
        assert "省" not in text.replace("各省（区、市）", ""), path
        assert "人力资源和社会保障厅" not in text and "住房和城乡建设厅" not in text, path


def test_timeline_rows_name_their_regions_so_a_reader_can_scan_them():
    from types import SimpleNamespace as Region

    from erjian.site.province_unit import _group_name

    prefectures = [Region(slug=f"p{n}", name=f"地区{n}", parent=None) for n in range(6)]
    counties = [Region(slug=f"c{n}", name=f"县{n}", parent="p0") for n in range(116)]
    every = prefectures + counties
    assert _group_name(every, len(every)) == "全部122个地区"
    named = _group_name(every, len(every) + 5)
    assert named == "地区0、地区1、地区2、地区3等6个地区（含下辖116个县、市、区）"
    assert "县0" not in named
    assert _group_name(counties[:2], 200) == "县0、县1"
