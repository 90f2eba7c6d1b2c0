"""The whole pipeline through the command line: pages, JSON, bad input, atomic output."""

import datetime as dt
import json
import re

import chinese_calendar
import pytest
import yaml

from conftest import ROOT, leftovers, run_cli, tree_digest

D = dt.date
SEEDS = [("xinjiang", "tacheng", "jidian"), ("shanghai", "songjiang", "kuangye"),
         ("guangdong", "meizhou", "kuangye"), ("anhui", "maanshan", "kuangye")]


def cn(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def extra_days_off(root, layer, year):
    """Days off of a regional layer, read straight from its YAML file."""
    path = root / "calendars" / layer / f"{year}.yaml"
    days = set()
    for holiday in yaml.safe_load(path.read_text(encoding="utf-8"))["holidays"]:
        day = holiday["first_day_off"]
        while day <= holiday["last_day_off"]:
            days.add(day)
            day += dt.timedelta(days=1)
    return days


def reference_window(exam_end, extra_off=frozenset(), a=42, b=63):
    """Independent reference: chinese_calendar working days minus regional days off."""
    found, day, count = {}, exam_end, 0
    while count < b:
        day += dt.timedelta(days=1)
        if chinese_calendar.is_workday(day) and day not in extra_off:
            count += 1
            if count in (a, b):
                found[count] = day
    return found[a], found[b]


def province_yaml(root, province):
    return yaml.safe_load((root / "regions" / province / "province.yaml").read_text("utf-8"))


@pytest.fixture(scope="module")
def built(seed_output):
    return seed_output


def read(out, path):
    return (out / path).read_text(encoding="utf-8")


@pytest.mark.parametrize("province,region,specialty", SEEDS)
def test_seed_guide_pages_hold_their_key_facts(built, province, region, specialty):
    html = read(built, f"{province}/{region}/{specialty}/index.html")
    data = province_yaml(ROOT, province)
    exam = data["exams"][0]
    exam_end = exam["days"][-1]
    extra = extra_days_off(ROOT, "xinjiang", 2026) if province == "xinjiang" else set()
    earliest, latest = reference_window(exam_end, extra)
    assert cn(exam_end) in html
    assert f"预计 {cn(earliest)}" in html and cn(latest) in html
    for authority in data["authorities"]:
        assert f'href="{authority["url"]}"' in html
        assert authority["name"] in html
    assert "谨防钓鱼网站" in html
    assert "2026年考过的科目，在2027年的考试中仍然有效" in html
    assert "未核实" in html  # the 2026 exam days are not confirmed in the data


def test_tacheng_explains_eid_al_adha_and_dragon_boat(built):
    html = read(built, "xinjiang/tacheng/jidian/index.html")
    assert "古尔邦节（2026年，新疆地方假日）：3 个工作日放假" in html
    assert "端午节（2026年）：1 个工作日放假" in html
    assert "暂定" in html


def test_songjiang_has_no_regional_holiday_and_is_not_provisional(built):
    html = read(built, "shanghai/songjiang/kuangye/index.html")
    assert "古尔邦节" not in html
    assert "推算用到的节假日安排中有尚未公布" not in html
    assert "准考证号（或档案号）和身份证号" in html  # Shanghai's login method


def test_every_region_has_a_page_per_specialty(built):
    for province, region, _ in SEEDS:
        for code in ("jianzhu", "shizheng", "jidian", "gonglu", "shuili", "kuangye"):
            assert (built / province / region / code / "index.html").is_file()
        assert (built / province / region / "index.html").is_file()
        assert (built / province / "index.html").is_file()


def test_home_groups_regions_by_province_with_next_milestone(built):
    html = read(built, "index.html")
    for province, region, _ in SEEDS:
        assert f'href="/{province}/{region}/"' in html
    assert html.index("新疆维吾尔自治区") < html.index("塔城地区")
    assert "成绩预计" in html


def test_methodology_lists_calendar_sources(built):
    html = read(built, "methodology/index.html")
    for year in range(2019, 2027):
        assert f"国务院办公厅关于{year}年部分节假日安排的通知" in html
    assert "推算" in html and "第 42 个工作日" in html


def test_notice_page_and_region_link(built):
    html = read(built, "notices/2026-xinjiang-eid-al-adha/index.html")
    assert "古尔邦节" in html and 'href="/xinjiang/tacheng/"' in html
    assert "notices/2026-xinjiang-eid-al-adha/" in read(built, "xinjiang/tacheng/jidian/index.html")


def test_api_records(built):
    api = json.loads(read(built, "api/regions.json"))
    records = {(r["province"]["slug"], r["region"]["slug"], r["specialty"]["code"]): r
               for r in api["records"]}
    assert len(records) == len(api["records"]) == 4 * 6
    tacheng = records[("xinjiang", "tacheng", "jidian")]
    earliest, latest = reference_window(D(2026, 5, 24), extra_days_off(ROOT, "xinjiang", 2026))
    assert tacheng["release"]["earliest"] == earliest.isoformat()
    assert tacheng["release"]["latest"] == latest.isoformat()
    assert tacheng["release"]["status"] == "upcoming"
    assert tacheng["release"]["provisional"] is True
    assert tacheng["release"]["announced_date"] is None
    assert tacheng["url"] == "/xinjiang/tacheng/jidian/"
    assert tacheng["exam"]["days"] == ["2026-05-23", "2026-05-24"]
    assert tacheng["exam"]["confirmed"] is False
    assert tacheng["rolling_validity_years"] == [2026, 2027]
    assert {a["role"] for a in tacheng["authorities"]} >= {"scores", "construction"}
    songjiang = records[("shanghai", "songjiang", "kuangye")]
    assert songjiang["release"]["provisional"] is False
    assert songjiang["review"]["estimated"] is True


def test_status_follows_the_pinned_date(site, tmp_path):
    out = tmp_path / "out"
    assert run_cli("--root", str(site), "--out", str(out), "--today", "2026-08-01")[0] == 0
    record = json.loads(read(out, "api/regions.json"))["records"][0]
    assert record["release"]["status"] == "open"
    assert "预计窗口内" in read(out, "shanghai/songjiang/kuangye/index.html")


def test_source_date_epoch_sets_today(site, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc).timestamp())))
    out = tmp_path / "out"
    code, stdout, _ = run_cli("--root", str(site), "--out", str(out))
    assert code == 0 and "2026-12-01" in stdout
    assert json.loads(read(out, "api/regions.json"))["generated_for"] == "2026-12-01"


def test_five_line_region_file_gets_a_complete_page(site, tmp_path):
    (site / "regions" / "xinjiang" / "kashi.yaml").write_text(
        "# 喀什地区 follows Xinjiang's arrangement.\nname: 喀什地区\nlevel: prefecture\n",
        encoding="utf-8")
    out = tmp_path / "out"
    assert run_cli("--root", str(site), "--out", str(out), "--today", "2026-06-15")[0] == 0
    html = read(out, "xinjiang/kashi/jidian/index.html")
    tacheng = read(out, "xinjiang/tacheng/jidian/index.html")
    for authority in province_yaml(site, "xinjiang")["authorities"]:
        assert f'href="{authority["url"]}"' in html
    earliest, _ = reference_window(D(2026, 5, 24), extra_days_off(site, "xinjiang", 2026))
    assert f"预计 {cn(earliest)}" in html
    assert "古尔邦节" in html and "查分步骤" in html and "全部合格之后" in html
    assert 'href="/xinjiang/tacheng/jidian/"' in html   # links to the province's other regions
    assert 'href="/xinjiang/kashi/jidian/"' in tacheng
    assert 'href="/xinjiang/kashi/"' in read(out, "index.html")


def test_release_notice_confirms_the_date(site, tmp_path):
    (site / "content" / "notices" / "2026-anhui-release.md").write_text(
        "---\ntitle: 安徽省2026年二级建造师成绩发布\ndate: 2026-08-10\nkind: release\n"
        "provinces: [anhui]\nexam_year: 2026\nrelease_date: 2026-08-12\n"
        "source:\n  title: 关于2026年度二级建造师考试成绩发布的通知\n"
        "  url: https://www.apta.gov.cn/news/2026-release.html\n---\n成绩已发布。\n",
        encoding="utf-8")
    out = tmp_path / "out"
    assert run_cli("--root", str(site), "--out", str(out), "--today", "2026-08-12")[0] == 0
    records = json.loads(read(out, "api/regions.json"))["records"]
    maanshan = next(r for r in records if r["region"]["slug"] == "maanshan")
    other = next(r for r in records if r["region"]["slug"] == "songjiang")
    assert maanshan["release"]["announced_date"] == "2026-08-12"
    assert maanshan["release"]["status"] == "past"   # released on the build date
    assert maanshan["review"]["opens"] == "2026-08-12" and not maanshan["review"]["estimated"]
    assert other["release"]["announced_date"] is None
    html = read(out, "anhui/maanshan/kuangye/index.html")
    assert "2026年8月12日" in html and "发布日期已由官方通知确认" in html


def test_broken_region_file_fails_and_leaves_output_as_it_was(site, tmp_path):
    out = tmp_path / "public" / "out"
    assert run_cli("--root", str(site), "--out", str(out), "--today", "2026-06-15")[0] == 0
    before = tree_digest(out)
    (site / "regions" / "xinjiang" / "bad.yaml").write_text(
        "name: 阿勒泰地区\nlevel: prefecture\nexams:\n  - year: 2026\n    days: [2026-13-01]\n",
        encoding="utf-8")
    code, _, stderr = run_cli("--root", str(site), "--out", str(out), "--today", "2026-06-16")
    assert code == 1
    assert "regions/xinjiang/bad.yaml:5" in stderr and "not a real date" in stderr
    assert "nothing was published" in stderr
    assert tree_digest(out) == before
    assert leftovers(out) == []


def test_template_failure_leaves_output_as_it_was(site, tmp_path):
    out = tmp_path / "public" / "out"
    assert run_cli("--root", str(site), "--out", str(out), "--today", "2026-06-15")[0] == 0
    before = tree_digest(out)
    (site / "templates" / "404.html").write_text("{{ no_such_variable }}", encoding="utf-8")
    code, _, stderr = run_cli("--root", str(site), "--out", str(out))
    assert code == 1 and "templates/404.html" in stderr
    assert tree_digest(out) == before
    assert leftovers(out) == []


def test_placeholder_typo_in_shared_text_names_the_file(site, tmp_path):
    (site / "content" / "guide" / "60-after-fail.md").write_text(
        "---\ntitle: t\norder: 60\n---\n{{ regoin_name }}\n", encoding="utf-8")
    code, _, stderr = run_cli("--root", str(site), "--out", str(tmp_path / "o"))
    assert code == 1 and "content/guide/60-after-fail.md" in stderr


def test_hostile_text_is_escaped(site, tmp_path):
    (site / "regions" / "anhui" / "x.yaml").write_text(
        'name: "<script>alert(1)</script>市"\nlevel: prefecture_city\nslug: x\n'
        'note: "<img src=x onerror=alert(1)>"\n', encoding="utf-8")
    (site / "content" / "notices" / "x.md").write_text(
        "---\ntitle: <b>t</b>\ndate: 2026-08-01\nkind: general\nregions: [anhui/x]\n---\n"
        "<script>alert(2)</script>\n\n<img src=x onerror=alert(3)>\n\n"
        "[官方](https://www.apta.gov.cn/)\n", encoding="utf-8")
    out = tmp_path / "out"
    assert run_cli("--root", str(site), "--out", str(out), "--today", "2026-06-15")[0] == 0
    for page in ("anhui/x/jianzhu/index.html", "notices/x/index.html", "index.html"):
        html = read(out, page)
        assert "<img" not in html and "javascript:" not in html
        for tag in re.findall(r"<script[^>]*>", html):
            assert tag in ('<script src="/static/site.js" defer>',
                           '<script type="application/ld+json">'), tag
        for block in re.findall(r'<script type="application/ld\+json">(.*?)</script>', html,
                                re.S):
            assert "<" not in block
            json.loads(block)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;市" in read(out, "anhui/x/jianzhu/index.html")
    notice = read(out, "notices/x/index.html")
    assert '<a href="https://www.apta.gov.cn/" rel="noopener noreferrer">官方</a>' in notice


def test_bad_today_argument_is_refused():
    with pytest.raises(SystemExit):
        run_cli("--today", "2026-02-30")


def test_after_the_cycle_the_page_says_what_to_do_next(site, tmp_path):
    out = tmp_path / "out"
    assert run_cli("--root", str(site), "--out", str(out), "--today", "2026-11-21")[0] == 0
    html = read(out, "guangdong/meizhou/kuangye/index.html")
    assert "估算窗口已过" in html and "2027年考试日期尚未公布" in html
    assert json.loads(read(out, "api/regions.json"))["records"][0]["release"]["status"] == "past"


def test_a_region_with_its_own_window_says_why(site, tmp_path):
    path = site / "regions" / "xinjiang" / "tacheng.yaml"
    path.write_text(path.read_text(encoding="utf-8")
                    + "estimate:\n  min_working_days: 50\n  max_working_days: 70\n",
                    encoding="utf-8")
    code, _, stderr = run_cli("--root", str(site), "--out", str(tmp_path / "o"), "--today",
                              "2026-06-15")
    assert code == 1
    assert "regions/xinjiang/tacheng.yaml:3: [estimate]" in stderr
    assert "without a reason" in stderr and "estimate.basis" in stderr
    path.write_text(path.read_text(encoding="utf-8")
                    + "  basis: 塔城地区考生的试卷集中到乌鲁木齐阅卷，往年出分较晚。\n",
                    encoding="utf-8")
    out = tmp_path / "out"
    assert run_cli("--root", str(site), "--out", str(out), "--today", "2026-06-15")[0] == 0
    guide = read(out, "xinjiang/tacheng/jidian/index.html")
    assert "本地区另行估算" in guide and "集中到乌鲁木齐阅卷" in guide
    assert "估算与新疆其他地区不同" in guide
    assert "集中到乌鲁木齐阅卷" in read(out, "xinjiang/tacheng/index.html")
    other = read(out, "xinjiang/kashi/jidian/index.html") if (
        out / "xinjiang/kashi/jidian/index.html").exists() else read(
        out, "shanghai/songjiang/kuangye/index.html")
    assert "本地区另行估算" not in other and "集中到乌鲁木齐阅卷" not in other


def test_province_page_names_the_exam_plainly(built):
    page = read(built, "anhui/index.html")
    assert "年度考试" not in page and "2026年二级建造师考试" in page
