"""One indexable page per distinct answer (docs/indexing.md): a page with nothing of its own
names the page it repeats as canonical and stays out of the sitemap; the data giving it
something of its own makes it self-canonical and puts it in the sitemap. The sitemap's
lastmod, its split into an index, and the footer's data link."""

import re
import shutil
import xml.etree.ElementTree as ET

import pytest

from conftest import ROOT, copy_site, run_cli
from erjian.site.feeds import sitemaps

HOST = "https://erjian.example.org/"
NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def canonical(out, path: str) -> str:
    """The page's canonical address, which its Open Graph address must repeat (a shared
    link names the same page a search engine indexes)."""
    html = (out / path / "index.html").read_text("utf-8")
    found = re.search(r'<link rel="canonical" href="([^"]+)">', html).group(1)
    assert re.search(r'<meta property="og:url" content="([^"]+)">', html).group(1) == found
    return found


def sitemap(out) -> dict[str, str | None]:
    """Each URL of sitemap.xml with its lastmod (None when it has none)."""
    tree = ET.fromstring((out / "sitemap.xml").read_text("utf-8"))
    return {u.findtext("s:loc", namespaces=NS): u.findtext("s:lastmod", namespaces=NS)
            for u in tree.findall("s:url", NS)}


def xinjiang_with_divisions(dest):
    """Xinjiang with all its generated divisions (a county under Tacheng among them)."""
    site = copy_site(dest, ("xinjiang",), divisions=True)
    (site / "divisions" / "moved").mkdir(parents=True)
    shutil.copy(ROOT / "divisions" / "dataset.json", site / "divisions" / "dataset.json")
    shutil.copy(ROOT / "divisions" / "moved" / "xinjiang.tsv",
                site / "divisions" / "moved" / "xinjiang.tsv")
    return site


def build(site, out) -> None:
    code, _, stderr = run_cli("--root", str(site), "--out", str(out), "--today", "2026-12-04")
    assert code == 0, stderr


@pytest.fixture(scope="module")
def xinjiang(tmp_path_factory):
    """Xinjiang built as the repository has it, then again with an override for Tacheng."""
    base = tmp_path_factory.mktemp("indexable")
    site = xinjiang_with_divisions(base / "site")
    build(site, base / "before")
    with (site / "regions" / "xinjiang" / "tacheng.yaml").open("a", encoding="utf-8") as f:
        f.write("local_office:\n  name: 塔城地区人事考试中心\n")
    build(site, base / "after")
    return base / "before", base / "after"


def test_a_page_with_nothing_of_its_own_points_to_its_province_and_is_not_listed(xinjiang):
    before, _ = xinjiang
    urls = sitemap(before)
    for path in ("xinjiang/tacheng/", "xinjiang/tacheng/jidian/", "xinjiang/wusu/kuangye/"):
        assert canonical(before, path) == HOST + "xinjiang/", path
        assert HOST + path not in urls, path
    assert canonical(before, "xinjiang/") == HOST + "xinjiang/"
    assert HOST + "xinjiang/" in urls


def test_an_override_makes_the_region_indexable_and_its_counties_point_to_it(xinjiang):
    _, after = xinjiang
    urls = sitemap(after)
    for path in ("xinjiang/tacheng/", "xinjiang/tacheng/jidian/"):
        assert canonical(after, path) == HOST + path
        assert HOST + path in urls
    # Wusu (乌苏市) inherits Tacheng's office: its pages repeat Tacheng's, specialty by specialty.
    assert canonical(after, "xinjiang/wusu/kuangye/") == HOST + "xinjiang/tacheng/kuangye/"
    assert canonical(after, "xinjiang/wusu/") == HOST + "xinjiang/tacheng/"
    assert HOST + "xinjiang/wusu/kuangye/" not in urls
    # A county elsewhere still repeats the province's page.
    assert canonical(after, "xinjiang/tianshan/jianzhu/") == HOST + "xinjiang/"


def test_every_sitemap_url_is_a_self_canonical_page_and_no_redirect(xinjiang):
    _, after = xinjiang
    urls = sitemap(after)
    for url in urls:
        path = url[len(HOST):]
        html = (after / path / "index.html").read_text("utf-8")
        assert 'content="noindex"' not in html, path
        assert canonical(after, path) == url
    redirects = [p for p in after.rglob("index.html")
                 if 'content="noindex"' in p.read_text("utf-8")]
    assert redirects   # Xinjiang has moved addresses; none of them is listed


def test_lastmod_is_the_newest_dated_fact_and_never_after_the_build_date(xinjiang):
    before, _ = xinjiang
    urls = sitemap(before)
    # The newest dated fact behind Xinjiang's pages is the 古尔邦节 notice of 2025-12-26.
    assert urls[HOST + "xinjiang/"] == "2025-12-26"
    assert urls[HOST] == "2025-12-26"
    assert urls[HOST + "notices/2026-xinjiang-eid-al-adha/"] == "2025-12-26"
    assert urls[HOST + "methodology/"] is None
    assert all(d is None or d <= "2026-12-04" for d in urls.values())


def test_a_site_over_the_limit_gets_a_sitemap_index():
    entries = [(f"p{n}/", "2026-01-0{}".format(n % 9 + 1)) for n in range(5)]
    files = sitemaps(entries, lambda p: HOST + p, max_urls=2)
    index = ET.fromstring(files["sitemap.xml"])
    assert index.tag == "{%s}sitemapindex" % NS["s"]
    parts = [e.text for e in index.findall("s:sitemap/s:loc", NS)]
    assert parts == [HOST + f"sitemap-{n}.xml" for n in (1, 2, 3)]
    listed = [u.text for n in (1, 2, 3)
              for u in ET.fromstring(files[f"sitemap-{n}.xml"]).findall("s:url/s:loc", NS)]
    assert listed == [HOST + p for p, _ in entries]
    assert list(sitemaps(entries, lambda p: HOST + p)) == ["sitemap.xml"]


def test_a_site_over_the_byte_limit_is_split_too():
    entries = [(f"{'x' * 100}{n}/", None) for n in range(10)]
    files = sitemaps(entries, lambda p: HOST + p, max_bytes=600)
    assert len(files) > 2
    assert all(len(text.encode()) <= 600 for name, text in files.items()
               if name != "sitemap.xml")


def test_no_footer_links_a_large_file_and_the_data_link_documents_every_json_file(xinjiang):
    _, out = xinjiang
    targets = set()
    for page in out.rglob("*.html"):
        footer = page.read_text("utf-8").split('<footer class="site-footer">', 1)[1]
        targets.update(re.findall(r'href="/([^"]*)"', footer))
    assert "api/" in targets
    for target in targets:
        file = out / target / "index.html" if target.endswith("/") or not target else \
            out / target
        assert file.stat().st_size < 1024 * 1024, target
        assert not target.endswith(".json"), target
    doc = (out / "api" / "index.html").read_text("utf-8")
    for data in (out / "api").glob("*.json"):
        assert f'href="/api/{data.name}"' in doc, data.name
