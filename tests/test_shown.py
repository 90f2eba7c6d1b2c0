"""Issue 16, item 5: what is recorded is shown, consistently. Each case is one the editor
trial found: a field recorded but never shown, text that contradicts the data, a reference to a
section the page lacks, a calendar event whose times moved without its SEQUENCE rising, an axis
label cut off, and 暂定 drawn two ways. The dates and offices below are fixtures, not facts."""

import re
import shutil

import icalendar

from conftest import copy_site, run_cli
from erjian.input import models as m
from erjian.site.svg import TICK_FONT, cycle_timeline, text_width
from test_backtest import add_history

TACHENG = "xinjiang/tacheng/jianzhu/"
MAANSHAN = "anhui/maanshan/jianzhu/"
TODAY = "2026-06-15"


def build(site, out, today=TODAY):
    code, _, stderr = run_cli("--root", str(site), "--out", str(out), "--today", today)
    assert code == 0, stderr
    return out


def page(out, path):
    return (out / path / "index.html").read_text(encoding="utf-8")


def plain(html):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


def section(html, heading):
    """The plain text of the guide section titled ``heading``."""
    start = html.index(f">{heading}</h2>")
    return plain(html[start:html.index("</section>", start)])


def append(path, text):
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def test_the_local_office_is_shown_with_everything_recorded(site, tmp_path):
    # docs/editing.md's worked example adds the office with its phone to a region file.
    append(site / "regions" / "xinjiang" / "tacheng.yaml",
           "local_office:\n  name: 塔城地区人事考试中心\n  phone: \"0901-0000000\"\n"
           "  address: 塔城市某路1号\n  url: https://rsj.xjtc.gov.cn/\n")
    html = page(build(site, tmp_path / "out"), TACHENG)
    channels = section(html, "官方查询渠道")
    assert "本地考试机构：塔城地区人事考试中心，电话 0901-0000000，地址：塔城市某路1号。" in channels
    assert '<a href="https://rsj.xjtc.gov.cn/" rel="noopener noreferrer">塔城地区人事考试中心</a>' in html
    assert "联系塔城地区人事考试中心（电话 0901-0000000）协助查询" in section(html, "常见问题")
    # A region without an office of its own shows none (and invents no phone).
    other = page(tmp_path / "out", MAANSHAN)
    assert "本地考试机构" not in other and "电话" not in section(other, "常见问题")


def test_the_estimate_basis_is_shown_beside_the_window_it_sets(site, tmp_path):
    add_history(site)
    append(site / "regions" / "anhui" / "province.yaml", "estimate:\n  from_history: true\n")
    html = page(build(site, tmp_path / "out"), MAANSHAN)
    basis = section(html, "推算依据")
    assert re.search(r"间隔的依据：按本省近3年实际出分间隔（考试结束后第\d+–\d+个工作日）"
                     r"各放宽5个工作日。", basis)
    # "two to three months" is the default's gloss, not the record's
    assert "约两到三个月" not in basis


def test_a_province_basis_reads_as_one_sentence_wherever_shown(site, tmp_path):
    append(site / "regions" / "anhui" / "province.yaml",
           "estimate:\n  min_working_days: 40\n  max_working_days: 60\n"
           "  basis: 安徽往年出分略早\n")
    out = build(site, tmp_path / "out")
    assert "间隔的依据：安徽往年出分略早。" in section(page(out, MAANSHAN), "推算依据")
    assert "安徽往年出分略早。" in plain(page(out, "methodology"))


def audit_texts(out, path):
    html = page(out, path)
    after = section(html, "全部合格之后")
    item = re.search(r'<li class="ms ms-usual">\s*<span class="ms-name">考后资格审核</span>'
                     r'(.*?)</li>', html, re.S)
    return after, plain(item.group(1)) if item else ""


def test_audit_text_follows_post_exam_audit(site, tmp_path):
    append(site / "regions" / "guangdong" / "province.yaml", "post_exam_audit: false\n")
    out = build(site, tmp_path / "out")
    # true (Xinjiang): it has one
    after, listed = audit_texts(out, TACHENG)
    assert "新疆实行考后资格审核" in after and "如果" not in after
    assert m.STAGES["audit"].usual in listed
    # false (Guangdong): it has none, in the guide text and in the key-dates list alike
    guangdong = next(p.parent.parent.name for p in (out / "guangdong").glob("*/jianzhu/index.html"))
    after, listed = audit_texts(out, f"guangdong/{guangdong}/jianzhu/")
    assert "广东不实行考后资格审核" in after
    assert "如果" not in after and "审核公告" not in after and "审核通过" not in after
    assert "广东不实行考后资格审核" in listed
    # unrecorded (Anhui): not known, nothing invented either way
    after, listed = audit_texts(out, MAANSHAN)
    assert "本站尚未核实安徽是否实行考后资格审核" in after
    assert "安徽实行" not in after and "安徽不实行" not in after and "如果" not in after
    assert "本站尚未核实安徽是否实行考后资格审核" in listed
    # the national timeline's stage table agrees with the guide pages
    timeline = page(out, "timeline")
    table = timeline[timeline.index('">广东省 · '):]
    table = table[:table.index("</section>")]
    assert "不实行（以当年通知为准）" in table


def test_no_page_points_to_a_section_it_lacks(site, tmp_path):
    # A region counted differently from its province, with no exam recorded: the page has
    # no "推算依据" section, so it must give the reason where it mentions it.
    (site / "regions" / "anhui" / "maanshan.yaml").write_text(
        "name: 马鞍山市\nlevel: prefecture_city\nexams: []\nestimate:\n"
        "  min_working_days: 40\n  max_working_days: 60\n  basis: 马鞍山往年出分略早\n",
        encoding="utf-8")
    out = build(site, tmp_path / "out")
    html = page(out, MAANSHAN)
    assert 'id="basis-h"' not in html
    assert "原因：马鞍山往年出分略早。" in plain(html)
    for path in out.rglob("index.html"):
        text = path.read_text(encoding="utf-8")
        headings = set(re.findall(r"<h[23][^>]*>([^<]+)</h[23]>", text))
        for name in re.findall(r"见(?:下文|下方|上文|上方)“([^”]+)”", plain(text)):
            assert name in headings, f"{path} points to a missing section “{name}”"
        ids = set(re.findall(r'\bid="([^"]+)"', text))
        for target in re.findall(r'href="#([^"]+)"', text):
            assert target in ids, f"{path} links to a missing #{target}"


def events(path):
    calendar = icalendar.Calendar.from_ical(path.read_bytes())
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def times(event):
    return event.decoded("DTSTART"), event.decoded("DTEND")


def compare(before, after):
    """The events of ``after`` whose times moved: each must have a higher SEQUENCE and a
    LAST-MODIFIED no earlier (a fact may settle without moving the times: then the revision
    may rise or stay, never fall). Returns the moved UIDs."""
    moved = []
    for uid, old in before.items():
        new = after[uid]
        if times(old) != times(new):
            moved.append(uid)
            assert int(new["SEQUENCE"]) > int(old["SEQUENCE"]), uid
            if "LAST-MODIFIED" in old:
                assert new.decoded("LAST-MODIFIED") >= old.decoded("LAST-MODIFIED"), uid
        else:
            assert int(new["SEQUENCE"]) >= int(old["SEQUENCE"]), uid
    return moved


def two_builds(tmp_path, change, path, today=TODAY):
    """Builds the seed site, applies ``change`` to a fresh copy, builds that from scratch
    (as CI does) and returns both builds' events of the calendar at ``path``."""
    first = copy_site(tmp_path / "a")
    second = copy_site(tmp_path / "b")
    change(first, second)
    a = build(first, tmp_path / "out-a", today)
    b = build(second, tmp_path / "out-b", today)
    return events(a / path / "schedule.ics"), events(b / path / "schedule.ics")


def exam_days(site, days):
    path = site / "regions" / "anhui" / "province.yaml"
    text = path.read_text(encoding="utf-8")
    assert "    days: [2026-05-23, 2026-05-24]\n" in text
    path.write_text(text.replace("    days: [2026-05-23, 2026-05-24]\n", f"    days: {days}\n"),
                    encoding="utf-8")


def test_sequence_rises_when_a_projected_calendar_year_is_published(tmp_path):
    # A window across 国庆: the published arrangement's working weekends move it.
    def change(before, after):
        for site in (before, after):
            exam_days(site, "[2026-07-25, 2026-07-26]")
        (before / "calendars" / "national" / "2026.yaml").unlink()
    old, new = two_builds(tmp_path, change, MAANSHAN)
    moved = compare(old, new)
    assert any("release" in uid for uid in moved)
    release = next(e for uid, e in new.items() if "release" in uid)
    assert "LAST-MODIFIED" in release


def test_sequence_rises_from_estimate_to_announced_release(tmp_path):
    def change(before, after):
        (after / "content" / "notices" / "2026-anhui-release.md").write_text(
            "---\ntitle: 安徽省2026年度二级建造师考试成绩公布\ndate: 2026-08-03\n"
            "kind: release\nprovinces: [anhui]\nexam_year: 2026\nrelease_date: 2026-08-03\n"
            "source:\n  title: 关于2026年度二级建造师成绩的通知\n"
            "  url: https://www.apta.gov.cn/n.html\n---\n成绩已可查询。\n", encoding="utf-8")
    old, new = two_builds(tmp_path, change, MAANSHAN, today="2026-08-10")
    moved = compare(old, new)
    assert {uid.split(".")[0] for uid in moved} == {"2026-main-release", "2026-main-review"}
    release = next(e for uid, e in new.items() if "release" in uid)
    assert release.decoded("LAST-MODIFIED").date().isoformat() == "2026-08-02"  # UTC


def test_sequence_rises_when_the_exam_days_are_confirmed(tmp_path):
    def change(before, after):
        exam_days(after, "[2026-05-30, 2026-05-31]\n    source:\n"
                         "      title: 安徽省2026年度二级建造师考务通知\n"
                         "      url: https://www.apta.gov.cn/k.html\n"
                         "      published: 2026-03-02")
        path = after / "regions" / "anhui" / "province.yaml"
        path.write_text(path.read_text(encoding="utf-8").replace(
            "    confirmed: false\n", "    confirmed: true\n", 1), encoding="utf-8")
    old, new = two_builds(tmp_path, change, MAANSHAN)
    moved = {uid.split(".")[0] for uid in compare(old, new)}
    assert moved == {"2026-main-exam", "2026-main-release", "2026-main-review"}


def test_an_unchanged_input_keeps_every_revision(tmp_path):
    old, new = two_builds(tmp_path, lambda before, after: None, TACHENG)
    assert compare(old, new) == []
    assert [int(e["SEQUENCE"]) for e in old.values()] == [int(e["SEQUENCE"])
                                                          for e in new.values()]


def labels(svg):
    return [(float(x), text) for x, text in
            re.findall(r'<text class="tl-tick" x="([\d.]+)"[^>]*>([^<]+)</text>', svg)]


def test_axis_labels_stay_inside_the_drawing():
    import datetime as dt

    d = dt.date
    # The review ends in late December 2027: the last tick, "2028年1月", is at the edge.
    svg = cycle_timeline((d(2027, 9, 18), d(2027, 9, 19)), (d(2027, 11, 20), d(2027, 12, 20)),
                         None, (d(2027, 11, 20), d(2027, 12, 27)), d(2027, 10, 1),
                         estimated_review=True)
    width = float(re.search(r'viewBox="0 0 ([\d.]+)', svg).group(1))
    found = labels(svg)
    assert found[-1][1] == "2028年1月"
    for x, text in found:
        half = text_width(text, TICK_FONT) / 2
        assert half <= x <= width - half, (text, x)


def test_provisional_windows_are_drawn_dashed_in_every_chart(site, tmp_path):
    out = build(site, tmp_path / "out")
    guide, timeline = page(out, TACHENG), page(out, "timeline")
    # Xinjiang's 2026 window rests on an unchecked calendar year: 暂定 in the text ...
    assert "暂定" in section(guide, "2026年成绩发布")
    # ... and the same class for the window in both charts, named by both legends.
    assert re.search(r'<rect class="tl-window tl-provisional"', guide)
    assert re.search(r'<rect class="tl-window tl-provisional"', timeline)
    for html in (guide, timeline):
        assert re.search(r'<span class="legend-provisional">虚线边框</span>表示暂定', html)
    css = (site / "templates" / "static" / "style.css").read_text(encoding="utf-8")
    assert re.search(r"\.tl-provisional \{[^}]*stroke-dasharray: 4 3", css)
    assert re.search(r"\.tl-window \{[^}]*stroke:", css)
