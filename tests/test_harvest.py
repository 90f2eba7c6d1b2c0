"""`python build.py harvest` against fixture sites served over HTTPS on 127.0.0.1.

The seed provinces' authorities are pointed at the fixture sites of
tests/fixtures/harvest_sites (names under test.gov.cn, which pass the link policy), connected
to a local server whose certificate comes from a throwaway trustme CA, as the verify-links
tests do. The fetcher's pauses are recorded, not slept."""

from __future__ import annotations

import datetime as dt
import hashlib
import http.server
import ipaddress
import ssl
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import trustme
import yaml
from ruamel.yaml import YAML

from conftest import copy_site, run_cli
from erjian.editor.verify_links import Settings
from erjian.harvest import fetch as harvest_fetch
from erjian.harvest import run as harvest_run
from erjian.harvest.propose import with_unverified
from erjian.harvest.sources import Watched, listed_notices

pytestmark = pytest.mark.slow   # local HTTPS servers, whole harvests and a build

SITES = Path(__file__).parent / "fixtures" / "harvest_sites"
LOOKALIKE = "www.apta.gov.cn.cx-query.com"
HOSTS = ("rsks.test.gov.cn", "gbk.test.gov.cn", "changed.test.gov.cn", "sousuo.test.gov.cn",
         "www.test.gov.cn", "blocked.test.gov.cn", "stub.test.gov.cn",
         "lookalike.test.gov.cn", "slow.test.gov.cn", "big.test.gov.cn", LOOKALIKE)
STUB = (b"<html><head><script>var t=Date.now();document.cookie='c='+t;location.reload();"
        b"</script></head><body></body></html>")
TODAY = dt.date(2027, 8, 20)
MODIFIED = "Thu, 20 May 2027 08:00:00 GMT"


class SiteHandler(http.server.BaseHTTPRequestHandler):
    """Serves the fixture folder named by the Host header, with ETags; a few hosts behave
    as the cases need."""

    log: list = []

    def do_GET(self):  # noqa: N802 - http.server's name
        host = self.headers["Host"].split(":")[0]
        path = urlsplit(self.path).path
        SiteHandler.log.append((host, path, self.headers.get("If-None-Match")
                                or self.headers.get("If-Modified-Since"),
                                self.headers["User-Agent"]))
        if host == "blocked.test.gov.cn":
            return self.answer(412, b"<html><body><script>challenge()</script></body></html>")
        if host == "stub.test.gov.cn" and path != "/robots.txt":
            return self.answer(200, STUB)
        if host == "lookalike.test.gov.cn" and path != "/robots.txt":
            return self.answer(302, b"", location=f"https://{LOOKALIKE}{path}")
        if host == "detour.test.gov.cn" and path != "/robots.txt":
            return self.answer(302, b"", location=f"https://rsks.test.gov.cn/private{path}")
        if host == "slow.test.gov.cn" and path != "/robots.txt":
            time.sleep(3)
        if host == "big.test.gov.cn" and path != "/robots.txt":
            return self.answer(200, b"<html><body>" + b"x" * (3 * 1024 * 1024))
        file = SITES / SiteHandler.aliases.get(host, host) / path.lstrip("/")
        if not file.is_file():
            return self.answer(404, b"<title>404</title>")
        body = file.read_bytes()
        if host == "gbk.test.gov.cn":   # this one dates its pages instead of tagging them
            if self.headers.get("If-Modified-Since") == MODIFIED:
                return self.answer(304, b"", modified=MODIFIED)
            return self.answer(200, body, modified=MODIFIED)
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        if self.headers.get("If-None-Match") == etag:
            return self.answer(304, b"", etag=etag)
        kind = "text/plain" if file.suffix == ".txt" else "text/html"
        self.answer(200, body, kind, etag=etag)

    aliases: dict = {}

    def answer(self, code, body, kind="text/html", location=None, etag=None, modified=None):
        self.send_response(code)
        self.send_header("Content-Type", kind)
        if code != 304:
            self.send_header("Content-Length", str(len(body)))
        for name, value in (("Location", location), ("ETag", etag),
                            ("Last-Modified", modified)):
            if value:
                self.send_header(name, value)
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass   # a client that stopped reading (the oversized case)

    def log_message(self, *args):
        pass


class QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass


@pytest.fixture(scope="module")
def network(tmp_path_factory):
    ca = trustme.CA()
    bundle = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    server = QuietServer(("127.0.0.1", 0), SiteHandler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*HOSTS, "*.test.gov.cn").configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    yield {"bundle": str(bundle), "port": port}
    server.shutdown()
    server.server_close()


def settings_for(network, hosts=HOSTS, timeout=1.5) -> Settings:
    """The harvest's settings, with the fixture hosts connected to the local server."""
    return Settings(ssl.create_default_context(cafile=network["bundle"]), ("xjrsks.com.cn",),
                    timeout, {h: ("127.0.0.1", network["port"]) for h in hosts},
                    (ipaddress.ip_network("127.0.0.1/32"),),
                    max_body=harvest_fetch.MAX_PAGE + 1, user_agent=harvest_fetch.USER_AGENT)


def _edit_yaml(path: Path, change) -> None:
    yaml_rt = YAML(typ="rt")
    yaml_rt.preserve_quotes = True
    yaml_rt.indent(mapping=2, sequence=4, offset=2)
    data = yaml_rt.load(path.read_text(encoding="utf-8"))
    change(data)
    with path.open("w", encoding="utf-8") as file:
        yaml_rt.dump(data, file)


WATCH = {
    "anhui": [{"url": "https://rsks.test.gov.cn/kszx/list.html"}],
    "guangdong": [{"url": "https://gbk.test.gov.cn/list.html", "body_selector": "#zoom"}],
    "shanghai": [{"url": "https://blocked.test.gov.cn/list.html"},
                 {"url": "https://stub.test.gov.cn/list.html"},
                 {"url": "https://changed.test.gov.cn/list.html",
                  "list_selector": "ul.news-list li"}],
    "xinjiang": [{"url": "https://lookalike.test.gov.cn/list.html"},
                 {"url": "https://slow.test.gov.cn/list.html"},
                 {"url": "https://big.test.gov.cn/list.html"}],
}


def fixture_site(dest: Path) -> Path:
    """The seed site with each province's first authority watching fixture pages and the
    national layer searching the fixture policy library."""
    root = copy_site(dest)
    for province, pages in WATCH.items():
        _edit_yaml(root / "regions" / province / "province.yaml",
                   lambda data, pages=pages: data["authorities"][0].__setitem__("notices",
                                                                                pages))
    _edit_yaml(root / "regions" / "xinjiang" / "province.yaml", _unwatch_exam_bodies)
    _edit_yaml(root / "calendars" / "national" / "layer.yaml",
               lambda data: data["search"].__setitem__(
                   "url", "https://sousuo.test.gov.cn/search.html?q="))
    return root


def _unwatch_exam_bodies(data) -> None:
    """The 兵团's real site is not served here (tests/test_exam_body_watch.py covers it)."""
    for body in data.get("exam_bodies", []):
        for authority in body["authorities"]:
            authority.pop("notices", None)


def harvest(root: Path, state: Path, network, **kw):
    """One run in-process: (exit code, report, the pauses asked for)."""
    import io

    pauses, out = [], io.StringIO()
    code = harvest_run.run(root, state, TODAY, settings=settings_for(network), delay=0.0,
                           sleep=pauses.append, out=out, **kw)
    return code, out.getvalue(), pauses


def requested(host: str) -> list:
    return [entry for entry in SiteHandler.log if entry[0] == host]


@pytest.fixture(scope="module")
def harvested(network, tmp_path_factory):
    """A fixture site harvested once, with what the first run gave."""
    root = fixture_site(tmp_path_factory.mktemp("harvest") / "site")
    before = {p: p.read_bytes() for p in (root / "regions").rglob("province.yaml")}
    SiteHandler.log.clear()
    code, report, pauses = harvest(root, root / ".cache" / "harvest", network)
    return {"root": root, "code": code, "report": report, "pauses": pauses,
            "log": list(SiteHandler.log), "before": before}


def _exam(root: Path, province: str, year: int) -> dict:
    data = yaml.safe_load((root / "regions" / province / "province.yaml").read_text("utf-8"))
    return next(e for e in data["exams"] if e["year"] == year)


# --- the first run: proposals --------------------------------------------------------------

def test_the_notices_dates_are_proposed_unconfirmed_with_source_and_evidence(harvested):
    exam = _exam(harvested["root"], "anhui", 2027)
    url = "https://rsks.test.gov.cn/kszx/2027-kaowu.html"
    assert exam["days"] == [dt.date(2027, 5, 29), dt.date(2027, 5, 30)]
    assert exam["confirmed"] is False and exam["source"]["url"] == url
    assert "5月29日" in exam["evidence"]
    assert (exam["registration"]["first"], exam["registration"]["last"]) == (
        dt.date(2027, 3, 10), dt.date(2027, 3, 18))
    assert exam["registration"]["confirmed"] is False
    assert "网上报名" in exam["registration"]["evidence"]
    assert (exam["admit_card"]["first"], exam["admit_card"]["last"]) == (
        dt.date(2027, 5, 24), dt.date(2027, 5, 28))
    assert exam["review"]["source"]["url"].endswith("2027-chengji.html")
    assert harvested["code"] == 0


def test_the_province_file_keeps_its_comments_and_lines(harvested):
    """The edit adds to the file: every line it had is still there, in order."""
    path = harvested["root"] / "regions" / "xinjiang" / "province.yaml"
    anhui = harvested["root"] / "regions" / "anhui" / "province.yaml"
    assert path.read_bytes() == harvested["before"][path]   # nothing found: untouched
    old = harvested["before"][anhui].decode().splitlines()
    new = iter(anhui.read_text(encoding="utf-8").splitlines())
    assert all(any(line == candidate for candidate in new) for line in old)


def test_a_gbk_site_is_read(harvested):
    exam = _exam(harvested["root"], "guangdong", 2027)
    assert exam["days"] == [dt.date(2027, 5, 29), dt.date(2027, 5, 30)]
    assert exam["admit_card"]["first"] == dt.date(2027, 5, 25)
    assert "准考证" in exam["admit_card"]["evidence"]
    assert exam["source"]["published"] == dt.date(2027, 5, 20)   # from the list's table row


def test_a_release_date_is_drafted_as_a_notice_that_confirms_nothing(harvested):
    draft = harvested["root"] / "content" / "notices" / "2027-anhui-release-proposed.md"
    front = yaml.safe_load(draft.read_text(encoding="utf-8").split("---")[1])
    assert front["kind"] == "general" and "release_date" not in front
    assert front["source"]["url"] == "https://rsks.test.gov.cn/kszx/2027-chengji.html"
    text = draft.read_text(encoding="utf-8")
    assert "2027年8月12日" in text
    marks = text.split("通知所列合格标准（待核实）", 1)[1]
    assert "建设工程施工管理" in marks and "72分" in marks and "满分120分" in marks


def test_notices_about_other_exams_propose_nothing(harvested):
    text = (harvested["root"] / "regions" / "anhui" / "province.yaml").read_text("utf-8")
    assert "2027-09-11" not in text and "yijian" not in text


def test_robots_txt_is_obeyed_and_its_crawl_delay_honoured(harvested):
    paths = [entry[1] for entry in harvested["log"] if entry[0] == "rsks.test.gov.cn"]
    assert "/private/2027-neibu.html" not in paths
    assert "/kszx/2027-ejjzs-baomingbiao.pdf" not in paths   # Disallow: /*.pdf$ (a wildcard)
    refused = harvested["report"].split("## Refused", 1)[1].split("\n## ", 1)[0]
    assert "2027-neibu.html" in refused and "baomingbiao.pdf" in refused
    assert paths.count("/robots.txt") == 1 and paths[0] == "/robots.txt"
    assert any(0.5 < pause <= 1.0 for pause in harvested["pauses"])   # Crawl-delay: 1
    assert "robots.txt disallows" in harvested["report"]
    assert all(entry[3] == harvest_fetch.USER_AGENT for entry in harvested["log"])


@pytest.mark.parametrize("host, heading", [
    ("blocked.test.gov.cn", "Blocked: check by hand"),
    ("stub.test.gov.cn", "Blocked: check by hand"),
    ("changed.test.gov.cn", "Layout changed"),
    ("lookalike.test.gov.cn", "Refused"),
    ("slow.test.gov.cn", "Failed"),
    ("big.test.gov.cn", "Failed"),
])
def test_a_source_that_cannot_be_read_is_reported_never_as_nothing_new(harvested, host,
                                                                        heading):
    report = harvested["report"]
    section = report.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    assert host in section


def test_a_redirect_into_a_path_its_hosts_robots_txt_disallows_is_not_opened(network):
    """detour.test.gov.cn (no robots.txt) redirects into rsks.test.gov.cn/private/, which
    rsks's robots.txt disallows: the target is refused before it is requested."""
    fetcher = harvest_fetch.PoliteFetcher(settings_for(network, HOSTS + ("detour.test.gov.cn",)),
                                          delay=0.0, sleep=lambda _: None)
    SiteHandler.log.clear()
    answer = fetcher.get("https://detour.test.gov.cn/2027-neibu.html")
    assert answer.outcome == "refused"
    assert "robots.txt of its host disallows it" in answer.detail
    assert [path for host, path, *_ in SiteHandler.log if host == "rsks.test.gov.cn"] == [
        "/robots.txt"]


def test_a_redirect_to_a_lookalike_is_never_opened(harvested):
    assert not [entry for entry in harvested["log"] if entry[0] == LOOKALIKE]


def test_the_harvested_site_passes_check(harvested):
    from erjian.editor.check import run_checks

    errors = [p for p in run_checks(harvested["root"], TODAY) if p.severity == "error"]
    assert errors == []


def test_the_page_shows_the_proposed_dates_as_unverified_with_their_source(harvested,
                                                                          tmp_path):
    out = tmp_path / "out"
    code, _, err = run_cli("--root", str(harvested["root"]), "build", "--out", str(out),
                           "--today", TODAY.isoformat())
    assert code == 0, err
    page = (out / "anhui" / "index.html").read_text(encoding="utf-8")
    row = page.split("2027年二级建造师考试", 1)[1].split("</li>", 1)[0]
    assert "5月29日" in row and "未核实" in row
    assert "关于2027年度二级建造师执业资格考试考务工作有关事项的通知" in row


# --- the second run ---------------------------------------------------------------------------

def test_a_second_run_costs_304s_and_proposes_nothing(harvested, network):
    root = harvested["root"]
    files = {p: p.read_bytes() for p in root.rglob("*.yaml")}
    SiteHandler.log.clear()
    code, report, _ = harvest(root, root / ".cache" / "harvest", network)
    lists = [e for e in SiteHandler.log if e[1].endswith("list.html")
             and e[0] in ("rsks.test.gov.cn", "gbk.test.gov.cn")]
    assert {e[0] for e in lists} == {"rsks.test.gov.cn", "gbk.test.gov.cn"}
    assert all(e[2] for e in lists)   # conditional: If-None-Match, If-Modified-Since
    assert not [e for e in SiteHandler.log if "/kszx/2027" in e[1] or "/tzgg/" in e[1]]
    assert "Nothing new." in report and code == 0
    assert "9 sources: 0 read, 3 unchanged (304), 6 not readable" in report
    assert "9 sources: 3 read, 0 unchanged (304), 6 not readable" in harvested["report"]
    assert {p: p.read_bytes() for p in root.rglob("*.yaml")} == files


# --- confirmed facts ---------------------------------------------------------------------------

def test_a_confirmed_fact_is_never_changed_and_a_disagreeing_notice_is_a_conflict(
        network, tmp_path):
    root = fixture_site(tmp_path / "site")
    path = root / "regions" / "anhui" / "province.yaml"

    def confirmed_2027(data):
        data["exams"].append({"year": 2027, "days": [dt.date(2027, 6, 5), dt.date(2027, 6, 6)],
                              "confirmed": True,
                              "source": {"title": "考务通知", "url": "https://www.apta.gov.cn/"}})
    _edit_yaml(path, confirmed_2027)
    before = path.read_bytes()
    code, report, _ = harvest(root, tmp_path / "state", network)
    assert code == harvest_run.CONFLICT_EXIT
    assert "CONFLICTS" in report.split("## Proposed", 1)[0]
    assert "2027 exam: confirmed as 2027-06-05, 2027-06-06" in report
    assert _exam(root, "anhui", 2027)["days"] == [dt.date(2027, 6, 5), dt.date(2027, 6, 6)]
    assert _exam(root, "anhui", 2027)["confirmed"] is True
    assert "registration" in path.read_text(encoding="utf-8")   # the rest is proposed
    assert path.read_bytes() != before


# --- the holiday arrangement -----------------------------------------------------------------

def test_a_missing_year_is_written_from_the_state_councils_notice_unverified(network,
                                                                             tmp_path):
    root = fixture_site(tmp_path / "site")
    calendar = root / "calendars" / "national" / "2026.yaml"
    original = yaml.safe_load(calendar.read_text(encoding="utf-8"))
    calendar.unlink()
    code, report, _ = harvest(root, tmp_path / "state", network)
    written = yaml.safe_load(calendar.read_text(encoding="utf-8"))
    assert written["verified"] is False
    assert written["holidays"] == original["holidays"]
    assert written["source"]["url"] == "https://www.test.gov.cn/zhengce/2026-holidays.html"
    assert "calendars/national/2026.yaml" in report.split("## Proposed", 1)[1]


def test_an_unchanged_year_proposes_nothing(harvested):
    assert "calendars/national" not in harvested["report"]


# --- one saved notice --------------------------------------------------------------------------

def test_from_file_reads_a_saved_notice_the_same_way(tmp_path):
    root = copy_site(tmp_path / "site")
    notice = SITES / "rsks.test.gov.cn" / "kszx" / "2027-kaowu.html"
    url = "https://www.apta.gov.cn/kszx/2027-kaowu.html"
    code, out, err = run_cli("--root", str(root), "harvest", "--state", str(tmp_path / "s"),
                             "--from-file", str(notice), "--url", url)
    assert code == 0, err
    exam = _exam(root, "anhui", 2027)
    assert exam["source"]["url"] == url and exam["confirmed"] is False
    assert "2027 exam: 2027-05-29 – 2027-05-30 (new entry)" in out
    assert (tmp_path / "s" / "report.md").read_text(encoding="utf-8") in out


def test_from_file_without_a_province_says_what_to_add(tmp_path):
    root = copy_site(tmp_path / "site")
    notice = SITES / "rsks.test.gov.cn" / "kszx" / "2027-kaowu.html"
    code, _, err = run_cli("--root", str(root), "harvest", "--state", str(tmp_path / "s"),
                           "--from-file", str(notice))
    assert code == 1 and "--province" in err and "Traceback" not in err


# --- pieces ----------------------------------------------------------------------------------

def test_a_selector_that_matches_nothing_is_a_changed_layout():
    watched = Watched("https://x.test.gov.cn/", "f", "anhui", None, "n", "ul.news li")
    html = "<div class='list'><a href='/1.html'>二级建造师考试通知</a></div>"
    assert listed_notices(html, "https://x.test.gov.cn/", watched) is None
    default = Watched("https://x.test.gov.cn/", "f", "anhui", None, "n")
    assert [n.url for n in listed_notices(html, "https://x.test.gov.cn/", default)] == [
        "https://x.test.gov.cn/1.html"]


def test_a_script_only_page_is_a_stub_and_a_notice_is_not():
    assert harvest_fetch.is_script_stub(STUB.decode())
    notice = (SITES / "rsks.test.gov.cn" / "kszx" / "2027-kaowu.html").read_text("utf-8")
    assert not harvest_fetch.is_script_stub(notice.replace("<body>", "<body><script></script>"))


def test_harvest_never_writes_a_verified_calendar():
    text = "year: 2027\nverified: true\nsource:\n  title: t\nholidays: []\n"
    assert yaml.safe_load(with_unverified(text))["verified"] is False


def test_check_lists_exam_bodies_with_nothing_to_watch(tmp_path):
    from erjian.editor.check import run_checks

    root = copy_site(tmp_path / "site")
    path = root / "regions" / "guangdong" / "province.yaml"
    path.write_text("".join(line for line in path.read_text("utf-8").splitlines(True)
                            if "notices:" not in line), encoding="utf-8")
    unwatched = [p for p in run_checks(root, dt.date(2026, 6, 15))
                 if "nothing to watch" in p.message]
    assert [p.file for p in unwatched] == ["regions/guangdong/province.yaml"]
    assert unwatched[0].severity == "warning"


def test_a_proposal_the_data_would_refuse_is_taken_back_and_reported(tmp_path):
    """Registration after the exam is refused by validation: the file stays as it was."""
    root = copy_site(tmp_path / "site")
    path = root / "regions" / "anhui" / "province.yaml"
    before = path.read_bytes()
    notice = tmp_path / "notice.txt"
    notice.write_text("关于2026年度二级建造师执业资格考试补报名的通知\n"
                      "2026年度二级建造师执业资格考试补报名时间为2026年6月1日至6月5日。\n",
                      encoding="utf-8")
    code, out, err = run_cli("--root", str(root), "harvest", "--state", str(tmp_path / "s"),
                             "--from-file", str(notice), "--province", "anhui")
    assert code == 0, err
    assert path.read_bytes() == before
    unplaced = out.split("## Found but not placed", 1)[1]
    assert "not written: the data would refuse it" in unplaced and "6月1日" in unplaced


def test_a_link_with_a_line_break_cannot_write_yaml_of_its_own():
    watched = Watched("https://x.test.gov.cn/", "f", "anhui", None, "n")
    html = "<a href='/a.html\nkind: release\"'>二级建造师成绩通知</a>"
    (listed,) = listed_notices(html, "https://x.test.gov.cn/", watched)
    assert "\n" not in listed.url and '"' not in listed.url


def test_from_file_refuses_an_address_off_the_official_sites(tmp_path):
    root = copy_site(tmp_path / "site")
    notice = SITES / "rsks.test.gov.cn" / "kszx" / "2027-kaowu.html"
    code, _, err = run_cli("--root", str(root), "harvest", "--state", str(tmp_path / "s"),
                           "--from-file", str(notice), "--province", "anhui",
                           "--url", "https://www.apta.gov.cn.cx-query.com/n.html")
    assert code == 1 and "cx-query.com" in err
    assert "2027" not in (root / "regions" / "anhui" / "province.yaml").read_text("utf-8")


def _reading(*dates):
    from erjian.harvest.notice_text import NoticeReading

    return NoticeReading(True, "exam", 2026, tuple(dates), ())


def _found(stage, start, end=None, doubt=None):
    from erjian.harvest.notice_text import FoundDate

    return FoundDate(stage, start, end, None, None, f"{stage}的句子。", doubt)


def test_a_date_the_reader_doubts_is_proposed_with_the_doubt_in_the_report(tmp_path):
    from erjian.harvest.propose import Proposals, propose_exam_dates

    root = copy_site(tmp_path / "site")
    proposals = Proposals()
    found = _found("admit_card", dt.date(2026, 5, 18), dt.date(2026, 5, 22),
                   doubt="5月18日（周日）: 2026-05-18 is a Monday")
    propose_exam_dates(root, "regions/anhui/province.yaml", _reading(found), "通知",
                       "https://www.apta.gov.cn/1.html", None, proposals)
    (change,) = proposals.of("proposed")
    assert "DOUBT: 5月18日（周日）" in change.what
    assert _exam(root, "anhui", 2026)["admit_card"]["first"] == dt.date(2026, 5, 18)


def test_a_confirmed_stage_is_left_and_an_unconfirmed_one_replaced(tmp_path):
    from erjian.harvest.propose import Proposals, propose_exam_dates

    root = copy_site(tmp_path / "site")
    path = root / "regions" / "anhui" / "province.yaml"

    def stages(data):
        data["exams"][0]["registration"] = {
            "first": dt.date(2026, 3, 1), "last": dt.date(2026, 3, 9), "confirmed": True,
            "source": {"title": "报名通知", "url": "https://www.apta.gov.cn/0.html"}}
        data["exams"][0]["audit"] = {"first": dt.date(2026, 9, 1), "confirmed": False}
    _edit_yaml(path, stages)
    proposals = Proposals()
    propose_exam_dates(root, "regions/anhui/province.yaml", _reading(
        _found("registration", dt.date(2026, 3, 2), dt.date(2026, 3, 9)),
        _found("audit", dt.date(2026, 9, 7), dt.date(2026, 9, 11))), "通知",
        "https://www.apta.gov.cn/1.html", None, proposals)
    exam = _exam(root, "anhui", 2026)
    assert exam["registration"]["first"] == dt.date(2026, 3, 1)   # confirmed: kept
    assert [c.kind for c in proposals.changes] == ["conflict", "proposed"]
    assert (exam["audit"]["first"], exam["audit"]["last"]) == (dt.date(2026, 9, 7),
                                                                dt.date(2026, 9, 11))
    assert exam["audit"]["evidence"] == "audit的句子。" and exam["audit"]["confirmed"] is False


def test_the_command_fetches_under_the_same_rules(network, tmp_path, monkeypatch):
    """`build.py harvest` end to end: the CA bundle from SSL_CERT_FILE, the fixture host
    connected through ERJIAN_VERIFY_RESOLVE and opened with --allow-address."""
    root = copy_site(tmp_path / "site")
    for province in ("anhui", "shanghai", "xinjiang"):
        _edit_yaml(root / "regions" / province / "province.yaml",
                   lambda data: data["authorities"][0].pop("notices", None))
    _edit_yaml(root / "regions" / "xinjiang" / "province.yaml", _unwatch_exam_bodies)
    _edit_yaml(root / "regions" / "guangdong" / "province.yaml",
               lambda data: data["authorities"][0].__setitem__("notices", WATCH["guangdong"]))
    _edit_yaml(root / "calendars" / "national" / "layer.yaml", lambda data: data.pop("search"))
    monkeypatch.setenv("SSL_CERT_FILE", network["bundle"])
    monkeypatch.setenv("ERJIAN_VERIFY_RESOLVE", f"gbk.test.gov.cn=127.0.0.1:{network['port']}")
    args = ("--root", str(root), "harvest", "--state", str(tmp_path / "s"), "--delay", "0",
            "--today", TODAY.isoformat())
    code, out, err = run_cli(*args)   # 127.0.0.1 is no public address: never opened
    assert code == 0, err
    assert "1 sources: 0 read" in out and "blocked address" in out.split("## Failed", 1)[1]
    code, out, err = run_cli(*args, "--allow-address", "127.0.0.1")
    assert code == 0, err
    assert "1 sources: 1 read" in out and "2027 exam: 2027-05-29 – 2027-05-30" in out


def test_a_save_made_while_the_harvest_reads_is_never_overwritten(tmp_path):
    from erjian.harvest.propose import Proposals

    path = tmp_path / "province.yaml"
    path.write_text("name: 安徽省\n", encoding="utf-8")
    proposals = Proposals()
    raw = proposals.read(path)
    saved = "name: 安徽省\nnote: 编辑刚保存的内容\n"   # an editor's save, after the read
    path.write_text(saved, encoding="utf-8")
    proposals.add("proposed", "province.yaml", "2027 exam", "evidence", "title", "url")
    proposals.write(path, "name: 安徽省\nexams: []\n", raw)
    assert path.read_text(encoding="utf-8") == saved
    proposals.settle(tmp_path)
    assert [(c.kind, c.what) for c in proposals.changes] == [
        ("unplaced", "2027 exam; not written: the file changed while the harvest read it; "
                     "run the harvest again once the file is no longer being edited")]


def test_a_province_file_that_is_a_symbolic_link_is_not_written_through(tmp_path):
    """A link inside the site is read as input; the harvest still never writes through it
    (a link outside the site stops the run before anything is read)."""
    root = copy_site(tmp_path / "site")
    path = root / "regions" / "anhui" / "province.yaml"
    outside = root / "linked" / "anhui.yaml"
    outside.parent.mkdir()
    outside.write_bytes(path.read_bytes())
    path.unlink()
    path.symlink_to(outside)
    before = outside.read_bytes()
    notice = SITES / "rsks.test.gov.cn" / "kszx" / "2027-kaowu.html"
    code, out, err = run_cli("--root", str(root), "harvest", "--state", str(tmp_path / "s"),
                             "--from-file", str(notice),
                             "--url", "https://www.apta.gov.cn/kszx/2027-kaowu.html")
    assert outside.read_bytes() == before and path.is_symlink()
    unplaced = out.split("## Found but not placed", 1)[1]
    assert ("not written: the file is not a regular file (a symbolic link?); the harvest "
            "edits regular files only") in unplaced
