"""Watching every exam body (issues 18, 19). The 兵团 is one of its own: `check` says when
nobody watches it, the harvest watches its notice pages, and a notice from its site never
writes dates into the autonomous region's exams: its dates go to the report for an editor.
What the data names to watch passes the official link policy, and a notice the readers
cannot read is reported, never a traceback."""

from __future__ import annotations

import datetime as dt

from conftest import copy_site, run_cli
from erjian.editor.check import run_checks
from erjian.harvest.sources import watched_pages
from erjian.input.validate import read_site

NOTICE = ("关于做好兵团2027年度二级建造师执业资格考试考务工作的通知\n"
          "兵团2027年度二级建造师执业资格考试报名时间为2027年3月10日至3月20日。\n"
          "考试时间为2027年5月29日、30日。\n")


def _without_body_notices(root):
    path = root / "regions" / "xinjiang" / "province.yaml"
    lines = path.read_text("utf-8").splitlines(True)
    path.write_text("".join(line for line in lines
                            if not ("notices:" in line and "xjbt" in line)), encoding="utf-8")


def _unwatched(root):
    return [p for p in run_checks(root, dt.date(2026, 6, 15)) if "nothing to watch" in p.message]


def test_check_names_an_exam_body_nobody_watches(tmp_path):
    root = copy_site(tmp_path / "site")
    found = _unwatched(root)
    assert found == []
    _without_body_notices(root)
    found = _unwatched(root)
    assert [(p.file, p.field) for p in found] == [("regions/xinjiang/province.yaml",
                                                   "exam_bodies")]
    assert "新疆生产建设兵团" in found[0].message and found[0].line > 1


def test_the_bodys_notice_pages_are_watched_as_its_own(tmp_path):
    root = copy_site(tmp_path / "site")
    pages = [w for w in watched_pages(read_site(root)) if w.body is not None]
    assert [(w.province, w.body, w.url) for w in pages] == [
        ("xinjiang", "bingtuan", "https://rsj.xjbt.gov.cn/")]


def test_a_notice_from_the_bodys_site_writes_nothing_into_the_regions_exams(tmp_path):
    root = copy_site(tmp_path / "site")
    path = root / "regions" / "xinjiang" / "province.yaml"
    before = path.read_bytes()
    notice = tmp_path / "notice.txt"
    notice.write_text(NOTICE, encoding="utf-8")
    code, out, err = run_cli("--root", str(root), "harvest", "--state", str(tmp_path / "s"),
                             "--from-file", str(notice),
                             "--url", "https://rsj.xjbt.gov.cn/kszx/2027.html")
    assert code == 0, err
    assert path.read_bytes() == before
    unplaced = out.split("## Found but not placed", 1)[1]
    assert "新疆生产建设兵团: 报名 2027-03-10 – 2027-03-20" in unplaced
    assert "2027-05-29 – 2027-05-30" in unplaced and "decide by hand" in unplaced
    assert "## Proposed changes (0)" in out


def test_a_watched_page_off_the_official_sites_is_an_error_with_its_line(tmp_path):
    """The harvest would refuse it at every run; check says so once, where it is written."""
    root = copy_site(tmp_path / "site")
    path = root / "regions" / "xinjiang" / "province.yaml"
    text = path.read_text("utf-8")
    path.write_text(text.replace("notices: [{url: https://rsj.xjbt.gov.cn/}]",
                                 "notices: [{url: https://rsj-xjbt.example.com/}]"), "utf-8")
    code, _, err = run_cli("--root", str(root), "check")
    line = next(n for n, row in enumerate(path.read_text("utf-8").splitlines(), 1)
                if "rsj-xjbt.example.com" in row)
    assert code == 1
    assert (f"error: regions/xinjiang/province.yaml:{line}: "
            "[exam_bodies[1].authorities[1].notices[1].url]") in err


def test_a_holiday_notice_that_cannot_be_read_is_reported_not_a_traceback(tmp_path):
    root = copy_site(tmp_path / "site")
    notice = tmp_path / "holidays.txt"
    notice.write_text("国务院办公厅关于2027年部分节假日安排的通知\n"
                      "经国务院批准，现将2027年有关安排通知如下。\n", encoding="utf-8")
    code, out, err = run_cli("--root", str(root), "harvest", "--state", str(tmp_path / "s"),
                             "--from-file", str(notice))
    assert code == 0 and "Traceback" not in err, err
    assert "holiday arrangement not read: no holiday lines" in out.split("Found but not placed")[1]
    assert not (root / "calendars" / "national" / "2027.yaml").exists()
