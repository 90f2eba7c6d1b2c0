"""Issue 12, item 1: when a cycle is over (or a later exam is recorded) the pages lead with the
next one; a recorded next exam gets its whole computed schedule in the page, the .ics and the
JSON; an unrecorded one is shown as the usual timing, never as a date."""

import json
import re

import ics

from conftest import run_cli

GUIDE = "anhui/maanshan/kuangye/"
EXAM_2027 = """  - year: 2027
    days: [2027-05-29, 2027-05-30]
    confirmed: true
    source:
      title: 关于2027年度二级建造师执业资格考试考务工作的通知
      url: https://www.apta.gov.cn/
"""


def read(out, path):
    return (out / path).read_text(encoding="utf-8")


def record_2027(site):
    path = site / "regions" / "anhui" / "province.yaml"
    text = path.read_text(encoding="utf-8")
    assert "  - year: 2026\n" in text and "\nexams:\n" in text
    path.write_text(text.replace("  - year: 2026\n", EXAM_2027 + "  - year: 2026\n", 1),
                    encoding="utf-8")


def build(site, out, today):
    code, _, stderr = run_cli("--root", str(site), "--out", str(out), "--today", today)
    assert code == 0, stderr
    return out


def maanshan(out):
    records = json.loads(read(out, "api/regions.json"))["records"]
    return next(r for r in records if r["region"]["slug"] == "maanshan"
                and r["specialty"]["code"] == "kuangye")


def uids(out):
    calendar = ics.Calendar(read(out, GUIDE + "schedule.ics"))
    return {e.uid: e.begin.date().isoformat() for e in calendar.events}


def test_a_recorded_next_exam_leads_with_its_computed_schedule(site, tmp_path):
    before = build(site, tmp_path / "before", "2026-11-22")
    record_2027(site)
    out = build(site, tmp_path / "after", "2026-11-22")

    html = read(out, GUIDE + "index.html")
    lead = html.index('<h2 id="summary-h">2027年成绩发布</h2>')
    below = html.index("2026年成绩周期（已结束）")
    assert lead < below
    # 2027's window is computed at once; 2027 has no arrangement file, so it is provisional.
    assert "预计 2027年7月28日（周三） 至 2027年8月26日（周四）" in html
    assert "<strong>暂定：</strong>" in html[lead:below]
    assert "尚未公布：" not in html    # no 'usual timing' line once the exam is recorded
    # The finished 2026 cycle stays below with its (estimated) dates.
    assert "预计 2026年7月22日（周三） 至 2026年8月20日（周四）" in html[below:]

    # .ics: new events for 2027, the 2026 events keep their UIDs.
    old, new = uids(before), uids(out)
    assert set(old) < set(new)
    assert {u: d for u, d in new.items() if u.startswith("2026-")} == old
    added = {u for u in new if u.startswith("2027-main-")}
    assert len(added) == 3
    assert new[next(u for u in added if "-exam." in u)] == "2027-05-29"
    assert new[next(u for u in added if "-release." in u)] == "2027-07-28"

    # JSON: the leading cycle at the top level, every cycle in `cycles`.
    record = maanshan(out)
    assert record["exam"]["year"] == 2027 and record["exam"]["confirmed"] is True
    assert record["release"]["earliest"] == "2027-07-28"
    assert record["release"]["provisional"] is True
    assert [c["exam"]["year"] for c in record["cycles"]] == [2027, 2026]
    assert record["cycles"][1]["review"]["status"] == "past"
    assert record["next_exam_unrecorded"] is None


def test_without_a_next_exam_the_page_leads_with_the_usual_timing(site, tmp_path):
    out = build(site, tmp_path / "out", "2026-11-22")
    html = read(out, GUIDE + "index.html")
    # The answer block gives the usual timing once; the 2027 box follows, before 2026.
    answer = html.index("下一步：2027年考试，日期尚未公布（往年通常在5月下旬或6月上旬的周末举行）")
    lead = html.index("<strong>2027年考试日期尚未公布。</strong>")
    assert answer < lead < html.index('<h2 id="summary-h">2026年成绩发布</h2>')
    # Never a date for 2027: not on the page, not in the calendar.
    assert not re.search(r"2027年\d+月\d+日", html)
    assert all(u.startswith("2026-") for u in uids(out))
    region_page = read(out, "anhui/maanshan/index.html")
    assert "<strong>2027年考试日期尚未公布：</strong>往年通常在5月下旬或6月上旬的周末举行" in region_page
    assert not re.search(r"2027年\d+月\d+日", region_page)
    record = maanshan(out)
    assert record["exam"]["year"] == 2026
    assert [c["exam"]["year"] for c in record["cycles"]] == [2026]
    assert record["next_exam_unrecorded"] == {
        "year": 2027, "usual_timing": "往年通常在5月下旬或6月上旬的周末举行"}


def test_during_the_window_the_current_cycle_still_leads(site, tmp_path):
    record_2027(site)
    june = read(build(site, tmp_path / "june", "2026-06-15"), GUIDE + "index.html")
    assert june.index('<h2 id="summary-h">2026年成绩发布</h2>') < june.index(
        "2027年考试和成绩（下一周期）")
    out = build(site, tmp_path / "out", "2026-07-30")
    html = read(out, GUIDE + "index.html")
    lead = html.index('<h2 id="summary-h">2026年成绩发布</h2>')
    below = html.index("2027年考试和成绩（下一周期）")
    assert lead < below
    assert "预计 2027年7月28日（周三） 至 2027年8月26日（周四）" in html[below:]
    assert "尚未公布：" not in html
    record = maanshan(out)
    assert record["exam"]["year"] == 2026 and record["release"]["status"] == "open"
    assert [c["exam"]["year"] for c in record["cycles"]] == [2026, 2027]
    assert {u.split("-")[0] for u in uids(out)} == {"2026", "2027"}
