"""Every exam body has its authorities (issue 18, point 2): the three roles in every
province, official https addresses, municipal names, the 兵团 as an exam body of its own whose
cities' pages list both bodies and assert neither, and Xinjiang's holiday sources labelled."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest import ROOT, copy_site, run_cli
from erjian.editor.verify_links import official_links
from erjian.input.link_policy import official_url_problem
from erjian.input.resolve import resolve
from erjian.input.validate import read_site

ROLES = ("exam", "scores", "construction")
MUNICIPALITIES = ("beijing", "tianjin", "shanghai", "chongqing")
BINGTUAN_CITIES = ("shihezi", "alaer", "tumushuke", "wujiaqu", "beitun", "tiemenguan",
                   "shuanghe", "kekedala", "kunyu", "huyanghe", "xinxing", "baiyang")
# Provinces whose personnel-exam institution (role 'scores') is left out, and why; each
# province.yaml says so in a comment beside its authorities.
SCORES_LEFT_OUT = {slug: "its address was not known for certain when typed from memory"
                   for slug in ("tianjin", "chongqing", "hebei", "shanxi", "neimenggu",
                                "liaoning", "jilin", "heilongjiang", "jiangsu", "zhejiang",
                                "fujian", "jiangxi", "henan", "hubei", "hunan", "guangxi",
                                "hainan", "sichuan", "guizhou", "yunnan", "xizang", "shaanxi",
                                "gansu", "qinghai", "ningxia")}
SCORES_LEFT_OUT["shanghai"] = ("上海市职业能力考试院's own site is not under gov.cn and its "
                               "address was not known for certain")


@pytest.fixture(scope="module")
def repo():
    site = read_site(ROOT)
    return site, resolve(site)


def test_every_province_records_its_exam_and_construction_departments(repo):
    site, _ = repo
    assert len(site.provinces) == 31
    for slug, province in site.provinces.items():
        roles = {a.role for a in province.authorities}
        assert {"exam", "construction"} <= roles, slug
        assert ("scores" in roles) != (slug in SCORES_LEFT_OUT), slug


def test_a_left_out_institution_is_said_so_in_its_file(repo):
    site, _ = repo
    for slug in SCORES_LEFT_OUT:
        text = (ROOT / site.provinces[slug].file).read_text(encoding="utf-8")
        assert "left out" in text and "from memory" in text, slug


def test_typed_authorities_carry_no_verified_date(repo):
    site, _ = repo
    for province in site.provinces.values():
        bodies = [a for body in province.exam_bodies for a in body.authorities]
        assert all(a.verified is None for a in [*province.authorities, *bodies]), province.slug


def test_every_authority_is_https_on_an_official_domain(repo):
    site, _ = repo
    reviewed = site.site.official_domains
    for province in site.provinces.values():
        bodies = [a for body in province.exam_bodies for a in body.authorities]
        for authority in [*province.authorities, *bodies]:
            parts = urlsplit(authority.url)
            assert parts.scheme == "https", authority.url
            host = parts.hostname
            assert host.endswith(".gov.cn") or any(
                host == d or host.endswith("." + d) for d in reviewed), authority.url
            assert official_url_problem(authority.url, reviewed) is None, authority.url


def test_municipalities_name_a_bureau_and_a_commission_never_a_department(repo):
    site, _ = repo
    for slug in MUNICIPALITIES:
        province = site.provinces[slug]
        names = {a.role: a.name for a in province.authorities}
        assert names["exam"] == f"{province.name}人力资源和社会保障局", slug
        assert names["construction"].startswith(f"{province.name}住房和城乡建设"), slug
        assert names["construction"].endswith("委员会"), slug
        assert not any("厅" in a.name for a in province.authorities), slug


def test_provinces_name_their_departments(repo):
    site, _ = repo
    for slug, province in site.provinces.items():
        if slug in MUNICIPALITIES:
            continue
        names = {a.role: a.name for a in province.authorities}
        assert names["exam"] == f"{province.name}人力资源和社会保障厅", slug
        assert names["construction"] == f"{province.name}住房和城乡建设厅", slug


def test_shanghai_bureau_site_is_named_for_the_bureau(repo):
    site, _ = repo
    shanghai = {a.url: a for a in site.provinces["shanghai"].authorities}
    assert shanghai["https://rsj.sh.gov.cn/"].name == "上海市人力资源和社会保障局"
    assert not any("职业能力考试院" in a.name for a in shanghai.values())


def test_the_bingtuan_is_an_exam_body_of_its_twelve_cities(repo):
    site, resolved = repo
    (body,) = site.provinces["xinjiang"].exam_bodies
    assert body.name == "新疆生产建设兵团" and set(body.regions) == set(BINGTUAN_CITIES)
    assert body.source is None   # nothing checked says who sits which exam
    assert [a.url for a in body.authorities] == ["https://rsj.xjbt.gov.cn/"]
    by_key = {r.key: r for r in resolved.regions}
    for city in BINGTUAN_CITIES:
        assert by_key[f"xinjiang/{city}"].exam_bodies == (body,), city
    assert by_key["xinjiang/tacheng"].exam_bodies == ()
    assert by_key["xinjiang/kelamayi"].exam_bodies == ()


def test_verify_links_lists_exam_body_links(repo):
    site, _ = repo
    (link,) = [ln for ln in official_links(site) if ln.url == "https://rsj.xjbt.gov.cn/"]
    lines = (ROOT / link.file).read_text(encoding="utf-8").splitlines()
    assert lines[link.line - 1].strip() == "url: https://rsj.xjbt.gov.cn/"
    assert link.index is None   # --write records only 'authorities'; set by hand


def _xinjiang_copy(base: Path) -> Path:
    """Xinjiang alone, with its generated divisions and its moved addresses."""
    root = copy_site(base / "site", provinces=("xinjiang",), divisions=True)
    shutil.copytree(ROOT / "divisions", root / "divisions",
                    ignore=lambda folder, names: [n for n in names if n.endswith(".tsv")
                                                  and n != "xinjiang.tsv"])
    return root


@pytest.fixture(scope="module")
def xinjiang_built(tmp_path_factory) -> Path:
    """Xinjiang with its generated divisions, built for 2026-12-04."""
    base = tmp_path_factory.mktemp("xinjiang")
    root = _xinjiang_copy(base)
    out = base / "out"
    code, _, err = run_cli("--root", str(root), "--out", str(out), "--today", "2026-12-04")
    assert code == 0, err
    return out


def _text(page: Path) -> str:
    html = page.read_text(encoding="utf-8")
    return re.sub(r"<[^>]+>", "", html[html.index("<main"):html.index("</main>")])


@pytest.mark.parametrize("city", BINGTUAN_CITIES)
def test_bingtuan_city_pages_list_both_bodies_and_assert_neither(xinjiang_built, city):
    guide = xinjiang_built / "xinjiang" / city / "jianzhu" / "index.html"
    html = guide.read_text(encoding="utf-8")
    for url in ("https://rst.xinjiang.gov.cn/", "https://www.xjrsks.com.cn/",
                "https://rsj.xjbt.gov.cn/"):
        assert f'href="{url}"' in html, url
    for page in (guide, guide.parent.parent / "index.html"):
        text = _text(page)
        assert "可能参加新疆维吾尔自治区组织的考试，也可能参加新疆生产建设兵团组织的考试" in text
        assert "取决于你的工作单位或报名所在地属于兵团还是地方" in text
        assert "本站还没有找到并核对说明这一划分的官方文件" in text
        assert "统一安排" not in text and "成绩只在" not in text


def test_xinjiang_page_names_the_bingtuan_cities_and_both_bodies(xinjiang_built):
    page = xinjiang_built / "xinjiang" / "index.html"
    text = _text(page)
    sentence = text[:text.index("的考生可能参加新疆维吾尔自治区组织的考试")]
    assert sorted(sentence.rsplit("\n", 1)[-1].split("、")) == sorted(
        ["石河子市", "阿拉尔市", "图木舒克市", "五家渠市", "北屯市", "铁门关市", "双河市",
         "可克达拉市", "昆玉市", "胡杨河市", "新星市", "白杨市"])
    assert "本站还没有找到并核对说明这一划分的官方文件" in text
    html = page.read_text(encoding="utf-8")
    for url in ("https://rsj.xjbt.gov.cn/", "https://rst.xinjiang.gov.cn/"):
        assert f'href="{url}"' in html, url


def test_other_xinjiang_pages_keep_the_regions_arrangement(xinjiang_built):
    guide = xinjiang_built / "xinjiang" / "tacheng" / "jianzhu" / "index.html"
    text = _text(guide)
    assert "执行新疆维吾尔自治区的统一安排" in text
    assert "兵团" not in text and "rsj.xjbt.gov.cn" not in guide.read_text(encoding="utf-8")


def test_holiday_reports_are_labelled_as_reports(xinjiang_built):
    site = read_site(ROOT)
    years = site.calendar_years["xinjiang"]
    assert years[2026].source.kind == "report" and years[2022].source.kind == "report"
    html = (xinjiang_built / "methodology" / "index.html").read_text(encoding="utf-8")
    for year in (2022, 2026):
        title = re.escape(years[year].source.title)
        assert re.search(rf'据报道</span> (<a [^>]*>)?{title}', html), year
    assert not re.search(r"据报道</span> (<a [^>]*>)?关于2023年", html)


def _problems(root: Path) -> str:
    code, out, err = run_cli("--root", str(root), "check")
    assert code == 1, out + err
    return out + err


def _xinjiang_site(tmp_path: Path) -> tuple[Path, Path]:
    root = _xinjiang_copy(tmp_path)
    return root, root / "regions" / "xinjiang" / "province.yaml"


def test_an_exam_body_naming_no_region_is_an_error_with_its_line(tmp_path):
    root, path = _xinjiang_site(tmp_path)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("regions: [shihezi,", "regions: [shihezii,"), encoding="utf-8")
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if "regions: [shihezi" in ln)
    out = _problems(root)
    assert (f"regions/xinjiang/province.yaml:{line}: [exam_bodies[1].regions[1]] 'shihezii' is "
            "not a region of 新疆维吾尔自治区") in out


def test_an_exam_body_link_off_gov_cn_is_an_error_with_its_line(tmp_path):
    root, path = _xinjiang_site(tmp_path)
    text = path.read_text(encoding="utf-8").replace("https://rsj.xjbt.gov.cn/",
                                                     "https://xjbt-rsj.com/")
    path.write_text(text, encoding="utf-8")
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if "xjbt-rsj.com" in ln)
    out = _problems(root)
    assert (f"regions/xinjiang/province.yaml:{line}: [exam_bodies[1].authorities[1].url]"
            in out)


def test_an_exam_body_without_its_regions_is_refused(tmp_path):
    root, path = _xinjiang_site(tmp_path)
    text = path.read_text(encoding="utf-8")
    start = text.index("    regions: [shihezi")
    end = text.index("    depends_on:")
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    assert "exam_bodies[1].regions" in _problems(root)


@pytest.mark.slow   # reads every division of the repository
def test_check_on_the_repository_passes_strictly():
    code, out, err = run_cli("--root", str(ROOT), "check", "--strict")
    assert code == 0, out + err
    assert "0 errors" in out + err
