"""``python build.py verify-links [--write]``: open every official link and say what it gives.

Every ``authorities[].url`` and ``local_office.url`` of the province and region files is
requested (GET, TLS verified with the standard trust store, which honours ``SSL_CERT_FILE``),
a few at a time, with a connect and a read timeout. Redirects are followed up to
``MAX_REDIRECTS`` times, and each target is checked against the link policy *before* it is
opened: a link that redirects to a host the policy refuses is reported and never requested.
The report is a table (file:line, status, policy, final URL, page title) and a summary.

A link *passes* when, after redirects, it answers 2xx on a host the policy accepts. With
``--write`` every passing authority gets ``verified: <today>`` in its file, edited in place:
only that line is added or changed, comments and layout stay as they are (ruamel.yaml finds
the line and column; the edit is checked by parsing the file again). ``local_office`` has no
``verified`` field, so its link is checked but nothing is recorded.

Only for tests: ``ERJIAN_VERIFY_RESOLVE=host=address:port[,host=address:port]`` connects to
``address:port`` for ``host`` while still sending ``host`` as TLS server name and checking the
certificate against it (like curl's ``--resolve``).
"""

from __future__ import annotations

import datetime as dt
import html
import http.client
import os
import re
import socket
import ssl
import sys
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from .clock import today_in_china
from .links import official_url_problem
from .load import line_in_file

MAX_REDIRECTS = 5
DEFAULT_TIMEOUT = 10.0
DEFAULT_WORKERS = 4
TITLE_BYTES = 64 * 1024
USER_AGENT = ("erjian-verify-links/1 (+https://github.com/; checks the official links of a "
              "static site of score-release guides for the erjian exam; one GET per link)")
RESOLVE_ENV = "ERJIAN_VERIFY_RESOLVE"
REDIRECTS = (301, 302, 303, 307, 308)


# --- what to visit ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Link:
    """An official address as written in one file."""

    file: str            # relative to the site root, e.g. regions/anhui/province.yaml
    line: int | None
    url: str
    name: str
    index: int | None    # position in 'authorities'; None for local_office (no 'verified')

    @property
    def where(self) -> str:
        return self.file if self.line is None else f"{self.file}:{self.line}"


def owner_links(root: Path, file: str, authorities, local_office) -> list[Link]:
    """The links one province or region file sets itself."""
    links = [Link(file, line_in_file(root / file, "authorities", i, "url"), a.url, a.name, i)
             for i, a in enumerate(authorities or ())]
    if local_office is not None and local_office.url:
        links.append(Link(file, line_in_file(root / file, "local_office", "url"),
                          local_office.url, local_office.name, None))
    return links


def official_links(site) -> list[Link]:
    """Every official link of a validated site (``validate.SiteInput``), in file order."""
    root = Path(site.root)
    links = []
    for province in site.provinces.values():
        links += owner_links(root, province.file, province.authorities, province.local_office)
    for region in site.regions:
        if "authorities" in region.overrides or "local_office" in region.overrides:
            links += owner_links(root, region.file, region.overrides.get("authorities"),
                                 region.overrides.get("local_office"))
    return sorted(links, key=lambda link: (link.file, link.line or 0))


def parse_resolve(text: str | None) -> dict[str, tuple[str, int]]:
    """``host=address:port,…`` → {host: (address, port)}; ValueError when malformed."""
    pins = {}
    for item in filter(None, (part.strip() for part in (text or "").split(","))):
        host, _, target = item.partition("=")
        address, _, port = target.rpartition(":")
        if not host or not address or not port.isdigit():
            raise ValueError(f"'{item}' is not host=address:port")
        pins[host.lower()] = (address, int(port))
    return pins


# --- visiting one address --------------------------------------------------------------------

@dataclass(frozen=True)
class Visit:
    """What requesting one address gave, after redirects."""

    url: str
    status: str                      # HTTP code, or the failure: DNS, TLS certificate, …
    final_url: str
    code: int | None = None          # HTTP code of the last answer
    policy_problem: str | None = None  # why the final or refused redirect target fails policy
    title: str | None = None
    detail: str | None = None        # the failure's message
    refused_redirect: bool = False

    @property
    def passed(self) -> bool:
        return (self.code is not None and 200 <= self.code < 300
                and self.policy_problem is None)

    @property
    def policy(self) -> str:
        if self.policy_problem:
            return "REFUSED"
        return "ok" if self.code is not None else "-"


@dataclass(frozen=True)
class Settings:
    context: ssl.SSLContext
    reviewed: tuple[str, ...] = ()
    timeout: float = DEFAULT_TIMEOUT
    resolve: dict | None = None


class _Connection(http.client.HTTPSConnection):
    """HTTPS to ``host`` (server name and certificate), through a chosen address."""

    def __init__(self, host: str, address: tuple[str, int], settings: Settings):
        super().__init__(host, timeout=settings.timeout, context=settings.context)
        self._address = address
        self._tls = settings.context

    def connect(self):
        sock = socket.create_connection(self._address, self.timeout)
        try:
            self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


@dataclass(frozen=True)
class Answer:
    code: int
    location: str | None
    title: str | None


def request(url: str, settings: Settings) -> Answer:
    """One GET of ``url``: its status, its Location, and for a 2xx answer the page title."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    address = (settings.resolve or {}).get(host, (host, parts.port or 443))
    connection = _Connection(host, address, settings)
    try:
        path = parts.path or "/"
        connection.request("GET", path + (f"?{parts.query}" if parts.query else ""), headers={
            "User-Agent": USER_AGENT, "Accept": "text/html,*/*;q=0.5",
            "Accept-Encoding": "identity", "Connection": "close"})
        response = connection.getresponse()
        title = None
        if 200 <= response.status < 300:
            body = decoded_body(read_start(response, settings.timeout),
                                response.getheader("Content-Encoding"))
            title = page_title(body, response.getheader("Content-Type"))
        return Answer(response.status, response.getheader("Location"), title)
    finally:
        connection.close()


def read_start(response, seconds: float) -> bytes:
    """Up to TITLE_BYTES of the body, whatever arrived within ``seconds`` (a page sent a byte
    at a time cannot hold a worker for longer)."""
    deadline, chunks, size = time.monotonic() + seconds, [], 0
    while size < TITLE_BYTES and time.monotonic() < deadline:
        chunk = response.read1(TITLE_BYTES - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def visit(url: str, settings: Settings) -> Visit:
    """Request ``url`` and follow its redirects, checking each target before opening it."""
    current = url
    problem = official_url_problem(url, settings.reviewed)
    if problem:
        return Visit(url, "policy", url, policy_problem=problem, detail=problem)
    for _ in range(MAX_REDIRECTS + 1):
        try:
            answer = request(current, settings)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            return Visit(url, failure_name(exc), current, detail=failure_detail(exc))
        if answer.code not in REDIRECTS or not answer.location:
            return Visit(url, str(answer.code), current, code=answer.code, title=answer.title)
        target = urljoin(current, answer.location.strip())
        problem = official_url_problem(target, settings.reviewed)
        if problem:
            return Visit(url, f"{answer.code} to refused host", target, code=answer.code,
                         policy_problem=problem, detail=problem, refused_redirect=True)
        current = target
    return Visit(url, "too many redirects", current,
                 detail=f"more than {MAX_REDIRECTS} redirects")


def failure_name(exc: BaseException) -> str:
    """The kind of failure, as the report's status column shows it."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return "TLS certificate"
    if isinstance(exc, ssl.SSLError):
        return "TLS"
    if isinstance(exc, socket.gaierror):
        return "DNS"
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    if isinstance(exc, ConnectionResetError):
        return "reset"
    if isinstance(exc, http.client.HTTPException):
        return "bad response"
    return "network"


def failure_detail(exc: BaseException) -> str:
    message = getattr(exc, "verify_message", None) or str(exc) or type(exc).__name__
    return " ".join(message.split())[:160]


def visit_all(urls, settings: Settings, workers: int = DEFAULT_WORKERS) -> dict[str, Visit]:
    """Each distinct address visited once, ``workers`` at a time."""
    distinct = list(dict.fromkeys(urls))
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return dict(zip(distinct, pool.map(lambda u: visit(u, settings), distinct)))


# --- page titles -----------------------------------------------------------------------------

_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title", re.I | re.S)
_CHINESE = {"gb2312": "gb18030", "gbk": "gb18030", "gb_2312-80": "gb18030", "x-gbk": "gb18030",
            "cp936": "gb18030", "hz-gb-2312": "gb18030"}


def decoded_body(body: bytes, encoding: str | None) -> bytes:
    """``body`` without its gzip/deflate content encoding (bounded to TITLE_BYTES)."""
    kind = (encoding or "").strip().lower()
    if kind not in ("gzip", "deflate"):
        return body
    try:
        return zlib.decompressobj(wbits=47).decompress(body, TITLE_BYTES)  # 47: gzip or zlib
    except zlib.error:
        return b""


def body_charset(body: bytes, content_type: str | None) -> str | None:
    """The charset the Content-Type header or a <meta> tag names (GBK and GB2312 read as
    GB18030, their superset); None when neither names one."""
    match = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", content_type or "", re.I)
    name = match.group(1) if match else None
    if name is None:
        meta = _CHARSET.search(body[:4096])
        name = meta.group(1).decode("ascii") if meta else None
    return _CHINESE.get(name.lower(), name.lower()) if name else None


def decode_page(body: bytes, content_type: str | None) -> str:
    charset = body_charset(body, content_type)
    for candidate in (charset, "utf-8"):
        if candidate:
            try:
                return body.decode(candidate)
            except (LookupError, UnicodeDecodeError):
                continue
    return body.decode("gb18030", errors="replace")


def page_title(body: bytes, content_type: str | None = None) -> str | None:
    """The page's <title>, unescaped, on one line and at most 80 characters."""
    match = _TITLE.search(decode_page(body, content_type))
    if not match:
        return None
    title = " ".join(html.unescape(match.group(1)).split())
    title = "".join(c for c in title if c.isprintable())
    return (title[:79] + "…" if len(title) > 80 else title) or None


# --- the report ------------------------------------------------------------------------------

def table(links: list[Link], visits: dict[str, Visit]) -> list[str]:
    """One row per link: where, status, policy, final URL, title (or what failed)."""
    rows = [("file:line", "status", "policy", "final URL", "title / problem")]
    for link in links:
        v = visits[link.url]
        rows.append((link.where, v.status, v.policy, v.final_url,
                     v.title or v.detail or ""))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return ["  ".join([*(cell.ljust(w) for cell, w in zip(row, widths)), row[4]]).rstrip()
            for row in rows]


def summary(links: list[Link], visits: dict[str, Visit]) -> list[str]:
    """What failed, refused redirects first and loudly, then the count."""
    lines = []
    for link in links:
        v = visits[link.url]
        if v.refused_redirect:
            lines.append(f"REFUSED REDIRECT {link.where}: {link.url} redirects to "
                         f"{v.final_url}, which the link policy refuses ({v.policy_problem}); "
                         "it was not opened and the link is not marked verified")
    for link in links:
        v = visits[link.url]
        if not v.passed and not v.refused_redirect:
            lines.append(f"FAILED {link.where}: {link.url}: {v.status}"
                         f"{f' ({v.detail})' if v.detail else ''}")
    passed = sum(visits[link.url].passed for link in links)
    lines.append(f"verify-links: {passed} of {len(links)} links passed, "
                 f"{len(links) - passed} failed")
    return lines


# --- recording 'verified' --------------------------------------------------------------------

class LayoutError(Exception):
    """The file is laid out in a way the in-place edit does not handle."""


_SCALAR = re.compile(r"'[^'\n]*'|\"[^\"\n]*\"|[^\s#,}\]]+")


def _plain(value):
    """ruamel's round-trip data as plain dicts and lists, for comparing two versions."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _round_trip(text: str):
    from ruamel.yaml import YAML

    return YAML(typ="rt").load(text)


def with_verified(text: str, index: int, url: str, day: dt.date) -> str:
    """``text`` with ``verified: <day>`` on ``authorities[index]`` (whose url must be ``url``):
    the existing ``verified`` value replaced, or a new line added after ``url``. Nothing else
    changes. LayoutError when the entry is not where it was or cannot be edited safely."""
    data = _round_trip(text)
    try:
        entry = data["authorities"][index]
    except (TypeError, KeyError, IndexError):
        raise LayoutError(f"has no authorities[{index + 1}]")
    if not isinstance(entry, dict) or str(entry.get("url")) != url:
        raise LayoutError(f"authorities[{index + 1}] no longer has the url {url}")
    lines = text.split("\n")   # keeps '\r' of CRLF files at the end of each line
    stamp = day.isoformat()
    if "verified" in entry:
        row, column = entry.lc.value("verified")
        match = _SCALAR.match(lines[row], column)
        if not match:
            raise LayoutError(f"authorities[{index + 1}].verified is not a plain value")
        lines[row] = lines[row][:column] + stamp + lines[row][match.end():]
    elif entry.fa.flow_style():
        row, column = entry.lc.key("url")
        lines[row] = lines[row][:column] + f"verified: {stamp}, " + lines[row][column:]
    else:
        row, column = entry.lc.key("url")
        value_row, _ = entry.lc.value("url")
        if value_row != row or url not in lines[row]:
            raise LayoutError(f"authorities[{index + 1}].url does not fit on its key's line")
        ending = "\r" if lines[row].endswith("\r") else ""
        lines.insert(row + 1, " " * column + f"verified: {stamp}" + ending)
    edited = "\n".join(lines)
    _check_edit(data, edited, index, day)
    return edited


def _check_edit(before, edited: str, index: int, day: dt.date) -> None:
    """The edited text parses to the same data, but for the one 'verified' value."""
    expected = _plain(before)
    expected["authorities"][index]["verified"] = day
    try:
        after = _plain(_round_trip(edited))
    except Exception as exc:  # ruamel raises many kinds of error
        raise LayoutError(f"the edit would not parse ({exc})")
    if after != expected:
        raise LayoutError("the edit would change more than 'verified'")


def record_verified(root: Path, links: list[Link], day: dt.date) -> list[str]:
    """Write ``verified: <day>`` for ``links`` (passing authority links), file by file;
    returns a line per link that could not be recorded."""
    problems = []
    by_file: dict[str, list[Link]] = {}
    for link in links:
        by_file.setdefault(link.file, []).append(link)
    for file, file_links in by_file.items():
        path = Path(root) / file
        raw = path.read_bytes()
        text = raw.decode("utf-8-sig")
        for link in file_links:
            try:
                text = with_verified(text, link.index, link.url, day)
            except LayoutError as exc:
                problems.append(f"NOT RECORDED {link.where}: {exc}; add 'verified: "
                                f"{day.isoformat()}' by hand")
        data = (b"\xef\xbb\xbf" if raw.startswith(b"\xef\xbb\xbf") else b"") + text.encode()
        if data != raw:
            _replace(path, data)
    return problems


def _replace(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, keeping its permissions."""
    temporary = path.with_name(f".{path.name}.verify-links.tmp")
    temporary.write_bytes(data)
    os.chmod(temporary, path.stat().st_mode & 0o7777)
    os.replace(temporary, path)


# --- the command -----------------------------------------------------------------------------

def run(root: Path, today: dt.date, write: bool = False, timeout: float = DEFAULT_TIMEOUT,
        workers: int = DEFAULT_WORKERS, resolve: dict | None = None, out=None,
        err=None) -> int:
    """The verify-links command: 0 when every link passed, 1 otherwise."""
    from .validate import read_site

    out, err = out or sys.stdout, err or sys.stderr
    site = read_site(Path(root))
    if site.errors or site.site is None:
        for problem in site.errors:
            print(problem.format(), file=err)
        print("verify-links: the input has errors; fix them first (python build.py check)",
              file=err)
        return 1
    if resolve:
        print(f"note: {RESOLVE_ENV} connects {', '.join(sorted(resolve))} to fixed addresses",
              file=err)
    settings = Settings(ssl.create_default_context(), tuple(site.site.official_domains),
                        timeout, resolve)
    links = official_links(site)
    visits = visit_all([link.url for link in links], settings, workers)
    for line in [*table(links, visits), "", *summary(links, visits)]:
        print(line, file=out)
    if write:
        _write(Path(root), links, visits, today, out)
    return 0 if all(visits[link.url].passed for link in links) else 1


def _write(root: Path, links: list[Link], visits: dict[str, Visit], today: dt.date,
           out) -> None:
    passed = [link for link in links if visits[link.url].passed]
    recordable = [link for link in passed if link.index is not None]
    problems = record_verified(root, recordable, today)
    recorded = len(recordable) - len(problems)
    problems += [f"NOT RECORDED {link.where}: local_office has no 'verified' field"
                 for link in passed if link.index is None]
    for line in problems:
        print(line, file=out)
    print(f"--write: verified: {today.isoformat()} recorded for {recorded} of {len(links)} "
          "links", file=out)


def command(root: Path, args) -> int:
    """``build.py verify-links`` with its parsed arguments."""
    from .errors import UserError

    if not 0 < args.timeout <= 120:
        raise UserError(f"--timeout {args.timeout:g} is out of range",
                        "give a number of seconds above 0 and at most 120")
    try:
        resolve = parse_resolve(os.environ.get(RESOLVE_ENV))
    except ValueError as exc:
        raise UserError(f"{RESOLVE_ENV}: {exc}", "write host=address:port, comma-separated")
    return run(root, args.today or today_in_china(), args.write, args.timeout,
               resolve=resolve)
