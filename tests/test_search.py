"""Place names read right, and the search index built from them (issue 18, points 7 and 8).

Every character of every division name that pypinyin can read more than one way must be
decided: by the reading CHARACTER_RULES gives it in place names, or by a reviewed name in the
place-name table. 郫都 is read pidu (not pidou), its old address redirects, and the search
index finds it by `pidu`."""

import json
import re
import shutil

import pytest
import yaml

from conftest import ROOT, copy_site, run_cli
from erjian.input import placenames
from erjian.input.resolve import derive_slug
from erjian.site.search_index import SHARD_KEYS, search_shards, shard_keys

TODAY = "2026-06-15"


def division_names() -> list[str]:
    names = set()
    for path in ROOT.glob("regions/*/*.yaml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        names.update(d["name"] for d in data.get("divisions", []))
        if isinstance(data.get("name"), str):
            names.add(data["name"])
    return sorted(names)


def table_cover(name: str) -> set[int]:
    """Positions of ``name`` read from the reviewed table (longest match, as syllables does)."""
    table, covered, i = placenames.table(), set(), 0
    longest = max(map(len, table))
    while i < len(name):
        for j in range(min(len(name), i + longest), i, -1):
            if name[i:j] in table:
                covered.update(range(i, j))
                i = j
                break
        else:
            i += 1
    return covered


def undecided(name: str) -> list[str]:
    """Polyphonic characters of ``name`` that neither the table nor a rule decides, or that
    read against their rule without a table entry."""
    from pypinyin import Style, pinyin

    rules, read, covered = placenames.character_rules(), placenames.syllables(name), \
        table_cover(name)
    found = []
    for i, char in enumerate(name):
        readings = set(pinyin(char, style=Style.NORMAL, heteronym=True)[0])
        if len(readings) < 2 or i in covered:
            continue
        if char not in rules:
            found.append(f"{name}: {char} ({'/'.join(sorted(readings))}) has no rule")
        elif read[i] != rules[char]:
            found.append(f"{name}: {char} reads {read[i]} against its rule {rules[char]}")
    return found


def test_every_polyphonic_character_of_every_division_name_is_decided():
    names = division_names()
    assert len(names) > 3000
    assert [problem for name in names for problem in undecided(name)] == []


@pytest.mark.parametrize("name, reading", [
    ("郫都区", "pi du qu"), ("襄都区", "xiang du qu"), ("信都区", "xin du qu"),
    ("筠连县", "jun lian xian"), ("康巴什区", "kang ba shi qu"), ("民乐县", "min le xian"),
    # exceptions to the character rules stay as the places are called
    ("东阿县", "dong e xian"), ("乐亭县", "lao ting xian"), ("长子县", "zhang zi xian"),
    ("番禺区", "pan yu qu"), ("六安市", "lu an shi"), ("都江堰市", "du jiang yan shi"),
])
def test_place_names_read_as_the_places_are_called(name, reading):
    assert " ".join(placenames.syllables(name)) == reading


def test_a_hand_written_region_gets_the_corrected_slug():
    assert derive_slug("郫都区") == "pidu" and derive_slug("筠连县") == "junlian"


def test_the_corrected_divisions_keep_their_old_addresses_as_redirects():
    sichuan = yaml.safe_load((ROOT / "regions/sichuan/_divisions.yaml").read_text("utf-8"))
    pidu = next(d for d in sichuan["divisions"] if d["name"] == "郫都区")
    assert pidu["slug"] == "pidu" and "pidu" in pidu["pinyin"].split()
    moved = (ROOT / "divisions/moved/sichuan.tsv").read_text("utf-8")
    assert re.search(r"^sichuan/pidou/\tsichuan/pidu/\treading\t郫都区\t", moved, re.M)
    assert re.search(r"^sichuan/yunlian/\tsichuan/junlian/\treading\t筠连县\t", moved, re.M)
    hebei = (ROOT / "divisions/moved/hebei.tsv").read_text("utf-8")
    assert "hebei/xiangdou/\thebei/xiangdu/\treading" in hebei
    assert "hebei/xindou/\thebei/xindu/\treading" in hebei


ENTRY = ("塔城地区", "tacheng", ("tacheng", "tc", "tachengdiqu", "tcdq"), 1, "新疆", "xinjiang")


def test_a_region_is_in_the_shard_of_its_pinyin_and_of_its_first_character():
    assert shard_keys(ENTRY) == {"t", f"h{ord('塔') % 10}"}
    shards = search_shards([ENTRY])
    assert set(shards) == set(SHARD_KEYS)
    shard = json.loads(shards["t"])
    assert shard == {"places": [["新疆", "xinjiang"]], "rows": "塔城地区,,tacheng,tc,diqu,dq,1,0"}
    assert json.loads(shards["a"]) == {"places": [], "rows": ""}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    base = tmp_path_factory.mktemp("search")
    site = copy_site(base / "site", ("sichuan",), divisions=True)
    (site / "divisions" / "moved").mkdir(parents=True)
    shutil.copy(ROOT / "divisions/dataset.json", site / "divisions/dataset.json")
    shutil.copy(ROOT / "divisions/moved/sichuan.tsv", site / "divisions/moved/sichuan.tsv")
    out = base / "out"
    code, _, stderr = run_cli("--root", str(site), "--out", str(out), "--today", TODAY)
    assert code == 0, stderr
    return out


def test_the_old_pidou_address_redirects_to_pidu(built):
    old = (built / "sichuan/pidou/index.html").read_text("utf-8")
    assert 'content="0; url=/sichuan/pidu/"' in old and "郫都区" in old
    assert 'url=/sichuan/pidu/jianzhu/"' in (built / "sichuan/pidou/jianzhu/index.html"
                                             ).read_text("utf-8")
    assert 'http-equiv="refresh"' not in (built / "sichuan/pidu/index.html").read_text("utf-8")


def test_searching_pidu_finds_pidu_district(built):
    shard = json.loads((built / "api/search/p.json").read_text("utf-8"))
    assert any(row.startswith("郫都区,,pidu,pd,qu,q,2,") for row in shard["rows"].split("|"))
    assert "pidou" not in shard["rows"]
    entry = next(e for e in json.loads((built / "api/search.json").read_text("utf-8"))
                 if e[0] == "郫都区")
    assert entry[1] == "sichuan/pidu/" and "pidu" in entry[2].split()
