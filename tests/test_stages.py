"""Issue 12, item 2: every stage of the year. An exam entry may record registration, admit-card
printing, pass marks, review, audit and certificate dates, each with its source and whether an
official notice confirms it; the guide page, its timeline, the .ics, the JSON and the national
timeline show every stage: a recorded date as a date, an unrecorded stage as its usual timing,
labelled, never as a date. The dates below are fixtures, not facts."""

import json
import re
import xml.etree.ElementTree as ET

import ics

import test_next_cycle
from conftest import run_cli
from erjian.input import models as m

GUIDE = "anhui/maanshan/kuangye/"
SOURCE = """      source:
        title: {title}
        url: https://www.apta.gov.cn/
"""
EXAM_2027 = test_next_cycle.EXAM_2027 + """    registration:
      first: 2027-03-01
      last: 2027-03-12
      confirmed: true
""" + SOURCE.format(title="2027年度二级建造师考试报名公告") + """    admit_card:
      first: 2027-05-24
      last: 2027-05-28
    review:
      first: 2027-08-02
      last: 2027-08-06
      confirmed: true
""" + SOURCE.format(title="2027年度二级建造师考试成绩复核的通知") + """    audit:
      first: 2027-09-13
      last: 2027-09-17
      note: 在马鞍山市人社局现场审核
""" + SOURCE.format(title="2027年度二级建造师考后资格审核公告") + """    certificate:
      first: 2027-12-15
      confirmed: true
""" + SOURCE.format(title="2027年度二级建造师证书发放通知")


def read(out, path):
    return (out / path).read_text(encoding="utf-8")


def province_file(site):
    return site / "regions" / "anhui" / "province.yaml"


def add_exam(site, entry=EXAM_2027, extra=""):
    path = province_file(site)
    text = path.read_text(encoding="utf-8")
    assert "  - year: 2026\n" in text
    path.write_text(text.replace("  - year: 2026\n", entry + "  - year: 2026\n", 1) + extra,
                    encoding="utf-8")


def build(site, out, today, expect=0):
    code, stdout, stderr = run_cli("--root", str(site), "--out", str(out), "--today", today)
    assert code == expect, stderr
    return out if expect == 0 else stderr


def stage_items(html):
    """(name, text) of each item of the leading cycle's key-dates list, in order."""
    section = html[html.index('<h2 id="timeline-h">'):]
    section = section[:section.index("</ol>")]
    items = re.findall(r'<li class="ms[^"]*">(.*?)</li>', section, re.S)
    plain = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", item)).strip() for item in items]
    return [(text.split(" ", 1)[0], text) for text in plain]


def test_the_key_dates_list_shows_every_stage_in_order(site, tmp_path):
    add_exam(site)
    out = build(site, tmp_path / "out", "2026-11-22")
    items = stage_items(read(out, GUIDE + "index.html"))
    assert [name for name, _ in items] == [kind.name for kind in m.STAGES.values()]
    text = dict(items)
    assert "2027年3月1日（周一） 至 2027年3月12日（周五）" in text["报名"]
    assert "来源： 2027年度二级建造师考试报名公告" in text["报名"]
    assert "未核实" not in text["报名"]
    # Recorded without a source and not confirmed: a date, labelled as unverified.
    assert "2027年5月24日（周一） 至 2027年5月28日（周五）" in text["打印准考证"]
    assert "未核实" in text["打印准考证"] and "来源未注明" in text["打印准考证"]
    # Not recorded: the usual timing, labelled, and no date at all.
    assert "往年惯例" in text["公布合格标准"] and m.STAGES["pass_marks"].usual in text["公布合格标准"]
    assert not re.search(r"\d+月\d+日", text["公布合格标准"])
    # A recorded review replaces the computed one, and is not called an estimate.
    assert "2027年8月2日（周一） 至 2027年8月6日（周五）" in text["成绩复核申请"]
    assert "预计" not in text["成绩复核申请"]
    assert "在马鞍山市人社局现场审核" in text["考后资格审核"] and "未核实" in text["考后资格审核"]
    assert "2027年12月15日（周三）" in text["证书发放"] and "至" not in text["证书发放"]


def test_the_timeline_draws_recorded_stages_with_a_text_equivalent(site, tmp_path):
    add_exam(site)
    html = read(build(site, tmp_path / "out", "2026-11-22"), GUIDE + "index.html")
    svg = re.search(r'<svg class="timeline-svg".*?</svg>', html, re.S).group(0)
    root = ET.fromstring(svg.replace('role="img"', 'role="img" xmlns="http://www.w3.org/2000/svg"'))
    ns = {"s": "http://www.w3.org/2000/svg"}
    labels = [t.text for t in root.findall("s:text", ns) if t.get("class") == "tl-label"]
    assert labels == ["报名", "准考证", "考试", "成绩发布", "复核申请", "资格审核", "证书"]
    stages = [r for r in root.iter("{http://www.w3.org/2000/svg}rect")
              if "tl-stage" in r.get("class")]
    assert len(stages) == 4
    unconfirmed = [r for r in stages if "tl-unconfirmed" in r.get("class")]
    assert len(unconfirmed) == 2            # admit card and audit are not confirmed
    desc = root.find("s:desc", ns).text
    assert "报名：3月1日至3月12日" in desc and "准考证（未核实）：5月24日至5月28日" in desc
    # Rows run top to bottom in order, and each bar sits in its own row.
    ys = [float(r.get("y")) for r in root.iter("{http://www.w3.org/2000/svg}rect")
          if r.get("class") != "tl-grid"]
    assert ys == sorted(ys) and len(set(ys)) == len(ys)


def test_the_calendar_gets_an_event_per_recorded_stage_with_stable_uids(site, tmp_path):
    add_exam(site)
    first = build(site, tmp_path / "a", "2026-11-22")
    later = build(site, tmp_path / "b", "2027-03-05")
    events = {e.uid: e for e in ics.Calendar(read(first, GUIDE + "schedule.ics")).events}
    ids = {uid.split(".")[0] for uid in events if uid.startswith("2027-main-")}
    assert ids == {f"2027-main-{key}" for key in
                   ("exam", "release", "review", "registration", "admit_card", "audit",
                    "certificate")}
    by_kind = {uid.split(".")[0].rsplit("-", 1)[-1]: e for uid, e in events.items()
               if uid.startswith("2027-main-")}
    assert by_kind["registration"].begin.date().isoformat() == "2027-03-01"
    assert by_kind["registration"].end.date().isoformat() == "2027-03-13"   # exclusive
    assert by_kind["registration"].status == "CONFIRMED"
    assert by_kind["admit_card"].status == "TENTATIVE"
    assert "未核实" in by_kind["admit_card"].name
    assert "2027年度二级建造师考试报名公告" in by_kind["registration"].description
    assert by_kind["review"].begin.date().isoformat() == "2027-08-02"
    assert "估算" not in by_kind["review"].name
    again = {e.uid for e in ics.Calendar(read(later, GUIDE + "schedule.ics")).events}
    assert {u for u in events if u.startswith("2027-")} <= again


def test_the_api_lists_every_stage(site, tmp_path):
    add_exam(site)
    out = build(site, tmp_path / "out", "2027-03-05")
    records = json.loads(read(out, "api/regions.json"))["records"]
    record = next(r for r in records if r["region"]["slug"] == "maanshan"
                  and r["specialty"]["code"] == "kuangye")
    stages = {s["key"]: s for s in record["stages"]}
    assert [s["key"] for s in record["stages"]] == list(m.STAGES)
    assert stages["registration"]["status"] == "open"
    assert stages["registration"]["source"]["title"] == "2027年度二级建造师考试报名公告"
    assert stages["admit_card"]["provisional"] is True and stages["admit_card"]["recorded"]
    assert stages["pass_marks"]["first"] is None
    assert stages["pass_marks"]["usual_timing"] == m.STAGES["pass_marks"].usual
    assert stages["release"]["estimated"] is True and not stages["release"]["recorded"]
    assert record["review"]["recorded"] is True and record["review"]["opens"] == "2027-08-02"
    assert record["cycles"][0]["stages"] == record["stages"]


def test_the_national_timeline_shows_every_stage(site, tmp_path):
    add_exam(site)
    html = read(build(site, tmp_path / "out", "2026-11-22"), "timeline/index.html")
    block = html[html.index("安徽省 · "):]
    block = block[:block.index("</table>")]
    rows = re.findall(r'<tr><th scope="row">(.*?)</th><td>(.*?)</td></tr>', block, re.S)
    assert [name for name, _ in rows] == [kind.name for kind in m.STAGES.values()]
    cells = dict(rows)
    assert cells["报名"] == "3月1日 至 3月12日"
    assert cells["打印准考证"] == "5月24日 至 5月28日（未核实）"
    assert "未录入" in cells["公布合格标准"] and 'href="#usual-h"' in cells["公布合格标准"]
    assert cells["证书发放"] == "12月15日"
    assert m.STAGES["audit"].usual in html[html.index('id="usual-h"'):]


def without_audit(entry: str) -> str:
    start = entry.index("    audit:\n")
    return entry[:start] + entry[entry.index("    certificate:\n"):]


def test_a_province_without_an_audit_says_so_instead_of_the_usual_timing(site, tmp_path):
    add_exam(site, without_audit(EXAM_2027), extra="post_exam_audit: false\n")
    html = read(build(site, tmp_path / "out", "2026-11-22"), GUIDE + "index.html")
    # neither the 2027 entry nor the finished 2026 one records an audit
    lower = html[html.index("2026年成绩周期（已结束）"):]
    assert "安徽不实行考后资格审核" in lower
    assert m.STAGES["audit"].usual not in lower


def test_an_audit_stage_in_a_province_without_audit_is_refused(site, tmp_path):
    add_exam(site, extra="post_exam_audit: false\n")
    stderr = build(site, tmp_path / "out", "2026-11-22", expect=1)
    line = province_file(site).read_text(encoding="utf-8").splitlines().index(
        "post_exam_audit: false") + 1
    assert f"regions/anhui/province.yaml:{line}: [post_exam_audit]" in stderr
    assert "holds no post-exam audit, but an audit stage is recorded for 2027" in stderr
    code, _, check_err = run_cli("--root", str(site), "check", "--today", "2026-11-22")
    assert code == 1 and f"regions/anhui/province.yaml:{line}: [post_exam_audit]" in check_err


def test_bad_stage_dates_are_refused_with_file_line_and_hint(site, tmp_path):
    bad = EXAM_2027.replace("      first: 2027-03-01\n      last: 2027-03-12\n",
                            "      first: 2027-06-01\n      last: 2027-06-05\n")
    add_exam(site, bad)
    stderr = build(site, tmp_path / "out", "2026-11-22", expect=1)
    line = province_file(site).read_text(encoding="utf-8").splitlines().index(
        "    registration:") + 1
    assert f"regions/anhui/province.yaml:{line}:" in stderr
    assert "报名 (registration) ends after the exam" in stderr


def test_a_confirmed_stage_needs_its_source(site, tmp_path):
    add_exam(site, EXAM_2027.replace("    admit_card:\n      first: 2027-05-24\n",
                                     "    admit_card:\n      confirmed: true\n"
                                     "      first: 2027-05-24\n"))
    stderr = build(site, tmp_path / "out", "2026-11-22", expect=1)
    assert "a confirmed date needs its source" in stderr
    assert "exams[1].admit_card.confirmed" in stderr


def test_post_exam_stages_cannot_start_before_the_exam_ends(site, tmp_path):
    add_exam(site, EXAM_2027.replace("      first: 2027-09-13\n", "      first: 2027-05-30\n"))
    stderr = build(site, tmp_path / "out", "2026-11-22", expect=1)
    assert "考后资格审核 (audit) starts before the exam is over" in stderr


def test_a_misspelt_stage_gets_a_suggestion(site, tmp_path):
    add_exam(site, EXAM_2027.replace("    registration:\n", "    registraton:\n"))
    stderr = build(site, tmp_path / "out", "2026-11-22", expect=1)
    assert "unknown field 'registraton'" in stderr and "did you mean 'registration'?" in stderr


def test_check_warns_about_a_stage_without_a_source(site):
    add_exam(site)
    code, stdout, stderr = run_cli("--root", str(site), "check", "--today", "2026-11-22")
    output = stdout + stderr
    assert "exams[1].admit_card.source" in output
    assert "the 2027 打印准考证 dates (admit_card) have no source" in output
    assert "exams[1].registration.source" not in output
