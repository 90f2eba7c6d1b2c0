"""`python build.py verify-links [--write]` against local HTTPS servers (127.0.0.1 only).

The site's authority links are pointed at names under test.gov.cn (which pass the link
policy); ERJIAN_VERIFY_RESOLVE connects those names to local servers whose certificates come
from a throwaway trustme CA, trusted through SSL_CERT_FILE as a real run would trust its CA
bundle."""

from __future__ import annotations

import datetime as dt
import difflib
import gzip
import http.server
import ipaddress
import socket
import ssl
import threading
import time
from pathlib import Path

import pytest
import trustme

from conftest import copy_site, run_cli
from erjian.editor import verify_links
from erjian.editor.check import run_checks

pytestmark = pytest.mark.slow   # local HTTPS servers with timeouts

TODAY = dt.date(2026, 6, 15)
LOCAL = ("--allow-address", "127.0.0.1")   # the test servers' address, opened on purpose
LOOKALIKE = "www.apta.gov.cn.cx-query.com"
SERVED = ("ok.test.gov.cn", "gbk.test.gov.cn", "missing.test.gov.cn", "lookalike.test.gov.cn",
          "hop.test.gov.cn", "www.xjrsks.com.cn", "slow.test.gov.cn", "loop.test.gov.cn",
          "big.test.gov.cn", "inward.test.gov.cn")
GBK_TITLE = "广东省人力资源和社会保障厅"


class Handler(http.server.BaseHTTPRequestHandler):
    """Answers by the Host header."""

    requests: list = []

    def do_GET(self):  # noqa: N802 - http.server's name
        host = self.headers["Host"]
        Handler.requests.append((host, self.headers["User-Agent"]))
        if host == "ok.test.gov.cn":
            self.answer(200, "<html><head><title>安徽省人事考试网 &amp; 首页</title>".encode(),
                        "text/html; charset=utf-8")
        elif host == "gbk.test.gov.cn":
            page = f'<html><head><meta charset="gb2312"><title>{GBK_TITLE}</title>'
            self.answer(200, page.encode("gbk"), "text/html")
        elif host == "www.xjrsks.com.cn":
            self.answer(200, b"<title>XJ</title>", "text/html")
        elif host == "missing.test.gov.cn":
            self.answer(404, b"<title>404</title>", "text/html")
        elif host == "lookalike.test.gov.cn":
            self.answer(302, b"", "text/html", location=f"https://{LOOKALIKE}/")
        elif host == "big.test.gov.cn":
            page = "<title>大页面</title>".encode() + b"x" * 300_000
            self.answer(200, gzip.compress(page), "text/html; charset=utf-8", gzipped=True)
        elif host == "loop.test.gov.cn":
            self.answer(307, b"", "text/html", location="/again")
        elif host == "slow.test.gov.cn":
            time.sleep(2)   # TLS is up, the answer is late: a read timeout
            self.answer(200, b"<title>late</title>", "text/html")
        elif host == "inward.test.gov.cn":
            self.answer(302, b"", "text/html", location="https://inner.test.gov.cn/")
        elif host == "hop.test.gov.cn":
            self.answer(301, b"", "text/html", location="https://ok.test.gov.cn/")
        else:
            self.answer(500, b"", "text/plain")

    def answer(self, code, body, content_type, location=None, gzipped=False):
        self.send_response(code)
        if gzipped:
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if location:
            self.send_header("Location", location)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass   # a client that gave up (the timeout cases) is expected


def https_server(cert: trustme.LeafCert) -> http.server.ThreadingHTTPServer:
    server = QuietServer(("127.0.0.1", 0), Handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class Counter:
    """A TCP port that counts connections and never answers (the timeout case, and the
    proof that a refused redirect target is never contacted)."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                self.accepted.append(self.sock.accept()[0])
            except OSError:
                return

    def close(self):
        self.sock.close()
        for conn in self.accepted:
            conn.close()


def free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def network(tmp_path_factory):
    """Local servers, the CA bundle that trusts them, and the ERJIAN_VERIFY_RESOLVE value."""
    ca, stranger = trustme.CA(), trustme.CA()
    bundle = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    good = https_server(ca.issue_cert(*SERVED))
    wrong_name = https_server(ca.issue_cert("elsewhere.test.gov.cn"))
    unknown_ca = https_server(stranger.issue_cert("unknownca.test.gov.cn"))
    silent, lookalike = Counter(), Counter()
    pins = {name: good.server_address[1] for name in SERVED}
    pins.update({"badcert.test.gov.cn": wrong_name.server_address[1],
                 "unknownca.test.gov.cn": unknown_ca.server_address[1],
                 "silent.test.gov.cn": silent.port, "refused.test.gov.cn": free_port(),
                 LOOKALIKE: lookalike.port})
    resolve = ",".join(f"{host}=127.0.0.1:{port}" for host, port in pins.items())
    yield {"bundle": str(bundle), "resolve": resolve, "lookalike": lookalike, "ca": ca,
           "port": good.server_address[1],
           "pins": {host: ("127.0.0.1", port) for host, port in pins.items()}}
    for server in (good, wrong_name, unknown_ca):
        server.shutdown()
        server.server_close()
    silent.close()
    lookalike.close()


# Where each seed authority link is pointed, and what verify-links must say about it.
REPLACEMENTS = {
    ("anhui", "https://www.apta.gov.cn/"): ("https://ok.test.gov.cn/", "200"),
    ("anhui", "https://hrss.ah.gov.cn/"): ("https://gbk.test.gov.cn/", "200"),
    ("anhui", "https://dohurd.ah.gov.cn/"): ("https://missing.test.gov.cn/", "404"),
    ("guangdong", "https://rsks.gd.gov.cn/"): ("https://lookalike.test.gov.cn/",
                                              "302 to refused host"),
    ("guangdong", "https://hrss.gd.gov.cn/"): ("https://badcert.test.gov.cn/",
                                              "TLS certificate"),
    ("guangdong", "https://zfcxjst.gd.gov.cn/"): ("https://silent.test.gov.cn/", "timeout"),
    ("shanghai", "https://rsj.sh.gov.cn/"): ("https://unknownca.test.gov.cn/",
                                            "TLS certificate"),
    ("shanghai", "https://zjw.sh.gov.cn/"): ("https://hop.test.gov.cn/x", "200"),
    ("xinjiang", "https://www.xjrsks.com.cn/"): ("https://www.xjrsks.com.cn/", "200"),
    ("xinjiang", "https://rst.xinjiang.gov.cn/"): ("https://refused.test.gov.cn/", "refused"),
    ("xinjiang", "https://zjt.xinjiang.gov.cn/"): ("https://ok.test.gov.cn/", "200"),
}
PASSING = {new for new, status in REPLACEMENTS.values() if status == "200"}


@pytest.fixture
def local_site(tmp_path, network, monkeypatch) -> Path:
    root = copy_site(tmp_path / "site")
    for (province, old), (new, _) in REPLACEMENTS.items():
        path = root / "regions" / province / "province.yaml"
        text = path.read_text(encoding="utf-8")
        assert text.count(f"url: {old}\n") == 1
        path.write_text(text.replace(f"url: {old}\n", f"url: {new}\n"), encoding="utf-8")
    # The 兵团's links (exam_bodies) would be opened on the real network: left out here, and
    # listed by tests/test_authorities.py::test_verify_links_lists_exam_body_links.
    xinjiang = root / "regions" / "xinjiang" / "province.yaml"
    text = xinjiang.read_text(encoding="utf-8")
    xinjiang.write_text(text[:text.index("\nexam_bodies:") + 1], encoding="utf-8")
    monkeypatch.setenv("SSL_CERT_FILE", network["bundle"])
    monkeypatch.setenv("ERJIAN_VERIFY_RESOLVE", network["resolve"])
    return root


def rows_by_url(stdout: str) -> dict[str, list[str]]:
    """Table rows (file:line, status, policy, final URL, title), keyed by 'file:line'."""
    rows = {}
    for line in stdout.splitlines():
        if line.startswith("regions/"):
            cells = [cell for cell in line.split("  ") if cell.strip()]
            rows[cells[0].strip()] = [cell.strip() for cell in cells]
    return rows


def line_of(root: Path, province: str, url: str) -> str:
    lines = (root / "regions" / province / "province.yaml").read_text().splitlines()
    return f"regions/{province}/province.yaml:{lines.index(f'    url: {url}') + 1}"


def name_of(root: Path, province: str, url: str) -> str:
    """The authority's name, written on the line above its url in the seed files."""
    lines = (root / "regions" / province / "province.yaml").read_text().splitlines()
    return lines[lines.index(f"    url: {url}") - 1].split("name: ", 1)[1]


def test_report_gives_status_policy_final_url_and_title(local_site, network):
    code, out, err = run_cli("--root", str(local_site), "verify-links", *LOCAL, "--timeout", "1")
    assert code == 1, (out, err)
    rows = rows_by_url(out)
    assert len(rows) == len(REPLACEMENTS)
    for (province, _), (url, status) in REPLACEMENTS.items():
        row = rows[line_of(local_site, province, url)]
        assert row[1] == status, row
    ok = rows[line_of(local_site, "anhui", "https://ok.test.gov.cn/")]
    assert ok[2:] == ["ok", "https://ok.test.gov.cn/", "安徽省人事考试网 & 首页"]
    assert rows[line_of(local_site, "anhui", "https://gbk.test.gov.cn/")][4] == GBK_TITLE
    hop = rows[line_of(local_site, "shanghai", "https://hop.test.gov.cn/x")]
    assert hop[2:4] == ["ok", "https://ok.test.gov.cn/"]
    assert "Hostname mismatch" in rows[line_of(local_site, "guangdong",
                                               "https://badcert.test.gov.cn/")][4]
    assert "verify-links: 5 of 11 links passed, 6 failed" in out
    assert all(agent.startswith("erjian-verify-links/1 (") for _, agent in Handler.requests)


def test_redirect_to_lookalike_is_refused_loudly_without_connecting(local_site, network):
    code, out, _ = run_cli("--root", str(local_site), "verify-links", *LOCAL, "--timeout", "1")
    assert code == 1
    where = line_of(local_site, "guangdong", "https://lookalike.test.gov.cn/")
    row = rows_by_url(out)[where]
    assert row[2:4] == ["REFUSED", f"https://{LOOKALIKE}/"]
    loud = [line for line in out.splitlines() if line.startswith("REFUSED REDIRECT")]
    assert len(loud) == 1 and where in loud[0] and "contains 'gov.cn'" in loud[0]
    assert network["lookalike"].accepted == []


def test_write_records_only_passing_links_and_check_stops_warning(local_site):
    before = {p: p.read_text(encoding="utf-8")
              for p in (local_site / "regions").glob("*/province.yaml")}
    unverified = {p.message for p in run_checks(local_site, TODAY)
                  if "has never been verified" in p.message}
    assert len(unverified) == len(REPLACEMENTS)

    code, out, _ = run_cli("--root", str(local_site), "verify-links", *LOCAL, "--write", "--timeout",
                           "1", "--today", TODAY.isoformat())
    assert code == 1
    assert f"--write: verified: {TODAY} recorded for 5 of 11 links" in out
    added = []
    for path, text in before.items():
        diff = [line for line in difflib.ndiff(text.splitlines(), path.read_text(
            encoding="utf-8").splitlines()) if line[:1] in "+-"]
        assert all(line == f"+     verified: {TODAY}" for line in diff), diff
        added += diff
    assert len(added) == len(PASSING) + 1   # ok.test.gov.cn is listed twice

    still = {p.message for p in run_checks(local_site, TODAY)
             if "has never been verified" in p.message}
    assert still == {f"link to {name_of(local_site, province, new)} has never been verified"
                     for (province, _), (new, status) in REPLACEMENTS.items()
                     if status != "200"}


def test_region_files_and_local_offices_are_visited_but_offices_not_recorded(local_site):
    region = local_site / "regions" / "anhui" / "maanshan.yaml"
    region.write_text("name: 马鞍山市\nlevel: prefecture_city\nauthorities:\n"
                      "  - name: 马鞍山市人事考试院\n    url: https://hop.test.gov.cn/\n"
                      "    role: local\nlocal_office:\n  name: 马鞍山市人事考试院\n"
                      "  url: https://gbk.test.gov.cn/\n", encoding="utf-8")
    code, out, _ = run_cli("--root", str(local_site), "verify-links", *LOCAL, "--write", "--timeout",
                           "1", "--today", TODAY.isoformat())
    assert code == 1
    rows = rows_by_url(out)
    assert rows["regions/anhui/maanshan.yaml:5"][1:4] == ["200", "ok", "https://ok.test.gov.cn/"]
    assert rows["regions/anhui/maanshan.yaml:9"][4] == GBK_TITLE
    assert ("NOT RECORDED regions/anhui/maanshan.yaml:9: local_office has no 'verified' field"
            in out)
    assert region.read_text(encoding="utf-8").splitlines()[5] == f"    verified: {TODAY}"
    assert "verified" not in region.read_text(encoding="utf-8").split("local_office")[1]


def direct_settings(network, timeout=0.5) -> verify_links.Settings:
    context = ssl.create_default_context(cafile=network["bundle"])
    return verify_links.Settings(context, (), timeout, network["pins"],
                           (ipaddress.ip_network("127.0.0.1/32"),))


def test_an_answer_later_than_the_read_timeout_is_a_timeout(network):
    result = verify_links.visit("https://slow.test.gov.cn/", direct_settings(network))
    assert (result.status, result.passed) == ("timeout", False)


def test_a_large_gzipped_page_gives_its_title(network):
    result = verify_links.visit("https://big.test.gov.cn/", direct_settings(network))
    assert (result.status, result.title, result.passed) == ("200", "大页面", True)


def test_redirects_are_bounded(network):
    result = verify_links.visit("https://loop.test.gov.cn/", direct_settings(network))
    assert result.status == "too many redirects"
    assert result.final_url == "https://loop.test.gov.cn/again"


def test_a_link_the_policy_refuses_is_not_opened(network):
    result = verify_links.visit("https://ok.test.gov.cn.example.com/", direct_settings(network))
    assert (result.status, result.policy) == ("policy", "REFUSED")


# --- the in-place edit -----------------------------------------------------------------------

ANNOTATED = """\
# 河北省. Comments, blank lines and key order must survive.
name: 河北省
short_name: 河北
code: "130000"   # quoted on purpose

specialties: [jianzhu, shizheng]
authorities:
  # the score site first
  - name: 河北人事考试网
    url: https://www.hebpta.gov.cn/   # typed from the portal
    role: scores
    note: >-
      旧网址已停用，
      请勿从搜索结果进入。

  - role: exam
    name: 河北省人力资源和社会保障厅
    url: https://rst.hebei.gov.cn/
    verified: 2025-01-02   # checked by hand
  - {name: 河北省住房和城乡建设厅, url: "https://zfcxjst.hebei.gov.cn/", role: construction}
exams: []
"""


def changed_lines(before: str, after: str) -> list[str]:
    return [line for line in difflib.ndiff(before.splitlines(True), after.splitlines(True))
            if line[:1] in "+-"]


def test_edit_adds_one_line_after_url_and_keeps_everything_else():
    after = verify_links.with_verified(ANNOTATED, 0, "https://www.hebpta.gov.cn/", TODAY)
    assert changed_lines(ANNOTATED, after) == [f"+     verified: {TODAY}\n"]
    assert after.index("typed from the portal") < after.index("verified: 2026")


def test_edit_replaces_an_existing_date_and_keeps_its_comment():
    after = verify_links.with_verified(ANNOTATED, 1, "https://rst.hebei.gov.cn/", TODAY)
    assert changed_lines(ANNOTATED, after) == [
        "-     verified: 2025-01-02   # checked by hand\n",
        f"+     verified: {TODAY}   # checked by hand\n"]


def test_edit_of_a_flow_mapping_stays_on_its_line():
    after = verify_links.with_verified(ANNOTATED, 2, "https://zfcxjst.hebei.gov.cn/", TODAY)
    assert changed_lines(ANNOTATED, after) == [
        "-   - {name: 河北省住房和城乡建设厅, url: \"https://zfcxjst.hebei.gov.cn/\", role: "
        "construction}\n",
        f"+   - {{name: 河北省住房和城乡建设厅, verified: {TODAY}, url: "
        "\"https://zfcxjst.hebei.gov.cn/\", role: construction}\n"]


def test_edit_keeps_crlf_line_endings():
    crlf = ANNOTATED.replace("\n", "\r\n")
    after = verify_links.with_verified(crlf, 0, "https://www.hebpta.gov.cn/", TODAY)
    assert after == verify_links.with_verified(ANNOTATED, 0, "https://www.hebpta.gov.cn/",
                                         TODAY).replace("\n", "\r\n")


def test_edit_refuses_an_entry_whose_url_changed():
    with pytest.raises(verify_links.LayoutError, match="no longer has the url"):
        verify_links.with_verified(ANNOTATED, 0, "https://other.gov.cn/", TODAY)


# --- pure parts ------------------------------------------------------------------------------

def test_titles_are_decoded_by_header_meta_or_guess():
    gbk = f"<title>{GBK_TITLE}</title>".encode("gbk")
    assert verify_links.page_title(gbk, "text/html; charset=GBK") == GBK_TITLE
    assert verify_links.page_title(b'<meta charset="gb2312">' + gbk) == GBK_TITLE
    assert verify_links.page_title(gbk) == GBK_TITLE          # not UTF-8: read as GB18030
    assert verify_links.page_title("<TITLE>\n 首页\t</TITLE>".encode()) == "首页"
    assert verify_links.page_title(b"<p>no title</p>") is None


def test_failures_are_named():
    assert verify_links.failure_name(socket.gaierror(-2, "Name or service not known")) == "DNS"
    assert verify_links.failure_name(TimeoutError("timed out")) == "timeout"
    assert verify_links.failure_name(ConnectionRefusedError(111, "refused")) == "refused"
    assert verify_links.failure_name(ssl.SSLCertVerificationError(1, "x")) == "TLS certificate"


def test_resolve_pins_are_parsed_strictly():
    assert verify_links.parse_resolve("a.gov.cn=127.0.0.1:8443, B.gov.cn=::1:9") == {
        "a.gov.cn": ("127.0.0.1", 8443), "b.gov.cn": ("::1", 9)}
    with pytest.raises(ValueError):
        verify_links.parse_resolve("a.gov.cn:127.0.0.1")


def test_today_is_the_date_in_china():
    now = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
    assert verify_links.today_in_china() in (now, now - dt.timedelta(days=1))
