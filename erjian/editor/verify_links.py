"""``python build.py verify-links [--write]``: open every official link and say what it gives.

Every ``authorities[].url`` and ``local_office.url`` of the province and region files (and
``exam_bodies[].authorities[].url`` of the province files) is requested (GET, TLS verified
with the standard trust store, which honours ``SSL_CERT_FILE``),
a few at a time, through ``fetch``: the one function for anything that fetches, with every
rule of the network. Only public addresses are opened (the name's addresses are checked
before connecting and the connected peer again after); one deadline bounds name lookup,
connect, TLS, headers, body and redirects, so a server trickling bytes is cut off at it; the
body is read up to a limit; redirects are followed up to ``MAX_REDIRECTS`` times, each target
checked against the link policy *before* it is opened and each hop under the same rules. The
report is a table (file:line, status, policy, final URL, page title) and a summary.

A link *passes* when, after redirects, it answers 2xx on a host the policy accepts. With
``--write`` every passing authority gets ``verified: <today>`` in its file, edited in place:
only that line is added or changed, comments and layout stay as they are (ruamel.yaml finds
the line and column; the edit is checked by parsing the file again). The edit starts from the
file as it is when written and is put in place only if nobody saved meanwhile (else it is
redone on the new content); read-only files are left alone, the file's permissions kept, and
no temporary file is left behind. ``local_office`` has no ``verified`` field, so its link is
checked but nothing is recorded; an exam body's links are checked and their ``verified`` is
set by hand.

Only for tests: ``ERJIAN_VERIFY_RESOLVE=host=address:port[,host=address:port]`` connects to
``address:port`` for ``host`` while still sending ``host`` as TLS server name and checking the
certificate against it (like curl's ``--resolve``); the address must still be public unless
``--allow-address`` opens it (for testing against local servers).
"""

from __future__ import annotations

import datetime as dt
import errno
import html
import http.client
import io
import ipaddress
import os
import re
import socket
import ssl
import stat
import sys
import tempfile
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from erjian.core.clock import today_in_china
from erjian.input.link_policy import official_url_problem
from erjian.input.yaml_loader import line_in_file

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
                         # and an exam body's (its 'verified' set by hand)

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
        links += [Link(province.file, line_in_file(root / province.file, "exam_bodies", i,
                                                   "authorities", j, "url"), a.url, a.name, None)
                  for i, body in enumerate(province.exam_bodies)
                  for j, a in enumerate(body.authorities)]
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


# --- fetching: the rules every request follows -----------------------------------------------

@dataclass(frozen=True)
class Settings:
    """How to fetch. ``timeout`` bounds a whole fetch: name lookup, connect, TLS, headers,
    body and every redirect hop. ``allow_addresses`` lists networks opened although they are
    not public: only for testing against local servers."""

    context: ssl.SSLContext
    reviewed: tuple[str, ...] = ()
    timeout: float = DEFAULT_TIMEOUT
    resolve: dict | None = None
    allow_addresses: tuple = ()
    max_body: int = TITLE_BYTES
    max_redirects: int = MAX_REDIRECTS
    user_agent: str = USER_AGENT


@dataclass(frozen=True)
class Page:
    """The answer ``fetch`` ends on: its status, headers and the start of its body (at most
    ``Settings.max_body`` bytes, as sent: still compressed if the server compressed it)."""

    url: str
    final_url: str
    status: int
    headers: http.client.HTTPMessage
    body: bytes


class FetchError(Exception):
    """Why a fetch gave no page. ``status`` names the failure (``DNS``, ``timeout``,
    ``blocked address``, ``too many redirects``, …); ``url`` is the hop it happened on."""

    def __init__(self, status: str, url: str, detail: str):
        super().__init__(detail)
        self.status, self.url, self.detail = status, url, detail


class RedirectRefused(FetchError):
    """A redirect to an address ``fetch``'s ``url_problem`` refuses; never opened."""

    def __init__(self, code: int, target: str, problem: str):
        super().__init__(f"{code} to refused host", target, problem)
        self.code, self.problem = code, problem


class BlockedAddress(OSError):
    """The name leads to an address that is not public (loopback, private, …)."""


class Deadline:
    """The moment a fetch must be over by."""

    def __init__(self, seconds: float):
        self.seconds, self.at = seconds, time.monotonic() + seconds
        self.message = (f"no complete answer within {seconds:g} s (name lookup, connect, TLS, "
                        "answer and redirects in all)")

    def left(self) -> float:
        """Seconds left; TimeoutError once none are."""
        left = self.at - time.monotonic()
        if left <= 0:
            raise TimeoutError(self.message)
        return left


def fetch(url: str, settings: Settings, url_problem=None, headers: dict | None = None) -> Page:
    """GET ``url`` over HTTPS and follow its redirects, under every rule: only public
    addresses (checked on the resolved and on the connected address), one deadline for the
    whole fetch, a bounded body, at most ``settings.max_redirects`` hops, each redirect target
    passed to ``url_problem`` (a function giving why a URL is refused, or None) before it is
    opened. ``headers`` are added to every hop's request (e.g. If-None-Match). Raises
    FetchError (RedirectRefused for a refused target)."""
    deadline = Deadline(settings.timeout)
    current = url
    for _ in range(settings.max_redirects + 1):
        status, answer, body = _fetch_one(current, settings, deadline, headers or {})
        location = answer.get("Location")
        if status not in REDIRECTS or not location:
            return Page(url, current, status, answer, body)
        target = urljoin(current, location.strip())
        problem = url_problem(target) if url_problem else None
        if problem:
            raise RedirectRefused(status, target, problem)
        current = target
    raise FetchError("too many redirects", current,
                     f"more than {settings.max_redirects} redirects")


def _fetch_one(url: str, settings: Settings, deadline: Deadline, extra: dict):
    """One GET: (status, headers, body; empty for a redirect)."""
    sock = None
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if parts.scheme != "https" or not host:
            raise ValueError(f"only https:// addresses with a host are fetched, not {url}")
        address = (settings.resolve or {}).get(host, (host, parts.port or 443))
        sock = tls_socket(host, address, settings, deadline)
        connection = http.client.HTTPSConnection(host, parts.port, context=settings.context)
        connection.sock = _DeadlineSocket(sock, deadline)
        connection.request("GET", (parts.path or "/") + (f"?{parts.query}" if parts.query
                                                          else ""), headers={
            **extra, "User-Agent": settings.user_agent, "Accept": "text/html,*/*;q=0.5",
            "Accept-Encoding": "identity", "Connection": "close"})
        response = connection.getresponse()
        redirect = response.status in REDIRECTS and response.getheader("Location")
        body = b"" if redirect else read_body(response, settings.max_body)
        return response.status, response.msg, body
    except (OSError, http.client.HTTPException, ValueError) as exc:
        # a socket's own timeout says 'The read operation timed out': say which limit it was
        detail = deadline.message if isinstance(exc, TimeoutError) else failure_detail(exc)
        raise FetchError(failure_name(exc), url, detail) from exc
    finally:
        if sock is not None:
            sock.close()


def tls_socket(host: str, address: tuple[str, int], settings: Settings,
               deadline: Deadline) -> ssl.SSLSocket:
    """A TLS connection to ``host`` (server name and certificate) through ``address``."""
    sock = connected_socket(address, settings.allow_addresses, deadline)
    try:
        sock.settimeout(deadline.left())
        return settings.context.wrap_socket(sock, server_hostname=host)
    except BaseException:
        sock.close()
        raise


def connected_socket(address: tuple[str, int], allowed, deadline: Deadline) -> socket.socket:
    """A TCP connection to the first public address ``address``'s name resolves to, whose
    peer is checked again once connected; BlockedAddress when the name has none."""
    name, port = address
    candidates, blocked = [], []
    for family, kind, proto, _, sockaddr in resolved(name, port, deadline):
        problem = address_problem(sockaddr[0], allowed)
        (blocked if problem else candidates).append(problem or (family, kind, proto, sockaddr))
    if not candidates:
        raise BlockedAddress(f"{blocked[0]}, never opened (a public site has a public "
                             "address; check the link)" if blocked else f"{name} has no address")
    error: OSError | None = None
    for family, kind, proto, sockaddr in candidates:
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(deadline.left())
            sock.connect(sockaddr)
            return checked_peer(sock, allowed)
        except BlockedAddress:
            sock.close()
            raise
        except OSError as exc:
            sock.close()
            error = exc
    raise error


def checked_peer(sock: socket.socket, allowed) -> socket.socket:
    """``sock`` when the address it is connected to may be opened (what was resolved is what
    was reached); else BlockedAddress."""
    problem = address_problem(sock.getpeername()[0], allowed)
    if problem:
        raise BlockedAddress(f"connected to {problem}, which is never opened")
    return sock


def resolved(name: str, port: int, deadline: Deadline) -> list:
    """``getaddrinfo`` for ``name``, given no longer than the deadline allows (the lookup has
    no timeout of its own; a late one is left to finish in its own thread)."""
    result: dict = {}

    def lookup():
        try:
            result["infos"] = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM)
        except Exception as exc:  # handed to the caller's thread
            result["error"] = exc

    thread = threading.Thread(target=lookup, daemon=True)
    thread.start()
    thread.join(deadline.left())
    if thread.is_alive():
        raise TimeoutError(deadline.message)
    if "error" in result:
        raise result["error"]
    return result["infos"]


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def address_problem(text: str, allowed=()) -> str | None:
    """Why an address must not be opened ("127.0.0.1 is a loopback address"), or
    None for a public one. IPv4-mapped, NAT64 (64:ff9b::/96) and 6to4 addresses are judged
    by the IPv4 address they carry; ``allowed`` networks are opened whatever they are."""
    shown = text.split("%", 1)[0]
    ip = ipaddress.ip_address(shown)
    carried = _carried_ipv4(ip)
    if any(candidate in network for candidate in (ip, carried) if candidate is not None
           for network in allowed if candidate.version == network.version):
        return None
    for candidate in (ip, carried):
        kind = candidate is not None and _not_public(candidate)
        if kind:
            return f"{shown} is {kind} address"
    return None


def _carried_ipv4(ip) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, NAT64, 6to4), if any."""
    if ip.version != 6:
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.sixtofour


def _not_public(ip) -> str | None:
    """'a loopback', 'a private', … for an address that is not public; None otherwise."""
    if _carried_ipv4(ip) is not None:
        return None   # judged by the IPv4 address it carries
    for kind, test in (("an unspecified", ip.is_unspecified), ("a loopback", ip.is_loopback),
                       ("a link-local", ip.is_link_local), ("a multicast", ip.is_multicast),
                       ("a reserved", ip.is_reserved), ("a private", ip.is_private)):
        if test:
            return kind
    return None if ip.is_global else "a non-public"


class _DeadlineSocket:
    """A connected socket whose every send and receive is given only the time left before
    the deadline: a server sending a byte a second is cut off when the deadline passes, not
    allowed a full timeout per byte. What ``http.client`` needs of a socket, and no more."""

    def __init__(self, sock: socket.socket, deadline: Deadline):
        self._sock, self._deadline = sock, deadline

    def sendall(self, data) -> None:
        self._sock.settimeout(self._deadline.left())
        self._sock.sendall(data)

    def recv_into(self, buffer) -> int:
        self._sock.settimeout(self._deadline.left())
        return self._sock.recv_into(buffer)

    def makefile(self, mode: str, *args, **kwargs):
        return io.BufferedReader(_Reader(self))

    def close(self) -> None:
        """Nothing: http.client closes its side before the body is read; the fetch closes
        the socket itself when done."""


class _Reader(io.RawIOBase):
    def __init__(self, sock: _DeadlineSocket):
        self._sock = sock

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        return self._sock.recv_into(buffer)


def read_body(response, limit: int) -> bytes:
    """Up to ``limit`` bytes of the body (the deadline bounds how long that takes)."""
    chunks, size = [], 0
    while size < limit:
        chunk = response.read1(limit - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def failure_name(exc: BaseException) -> str:
    """The kind of failure, as the report's status column shows it."""
    if isinstance(exc, BlockedAddress):
        return "blocked address"
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


def visit(url: str, settings: Settings) -> Visit:
    """Fetch ``url``, each redirect target checked against the link policy before it is
    opened, and say what it gave."""
    problem = official_url_problem(url, settings.reviewed)
    if problem:
        return Visit(url, "policy", url, policy_problem=problem, detail=problem)
    try:
        page = fetch(url, settings, lambda target: official_url_problem(target,
                                                                       settings.reviewed))
    except RedirectRefused as exc:
        return Visit(url, exc.status, exc.url, code=exc.code, policy_problem=exc.problem,
                     detail=exc.problem, refused_redirect=True)
    except FetchError as exc:
        return Visit(url, exc.status, exc.url, detail=exc.detail)
    title = None
    if 200 <= page.status < 300:
        title = page_title(decoded_body(page.body, page.headers.get("Content-Encoding")),
                           page.headers.get("Content-Type"))
    return Visit(url, str(page.status), page.final_url, code=page.status, title=title)


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
        try:
            problems += _record_in_file(Path(root) / file, file_links, day)
        except NotWritten as exc:
            problems += [f"NOT RECORDED {link.where}: {exc}" for link in file_links]
    return problems


class NotWritten(Exception):
    """The file was left as it is; the message says why and what to do."""


MAX_WRITE_ATTEMPTS = 5
_BOM = b"\xef\xbb\xbf"


def _record_in_file(path: Path, links: list[Link], day: dt.date) -> list[str]:
    """Edit one file, starting from its content at the moment of writing: a save made
    meanwhile is never overwritten, the edit is redone on it (NotWritten after
    MAX_WRITE_ATTEMPTS saves in a row). Returns a line per link whose edit was refused."""
    hint = f"add 'verified: {day.isoformat()}' by hand"
    for _ in range(MAX_WRITE_ATTEMPTS):
        raw = read_regular(path, hint)
        if not raw.strip():   # caught between an editor's truncation and its write
            time.sleep(0.001)
            continue
        data, problems = _edited(raw, links, day)
        if data == raw:
            if read_regular(path, hint) == raw:
                return problems
        elif swap_if_unchanged(path, raw, data, hint):
            return problems
    raise NotWritten(f"the file changed while verifying (saved {MAX_WRITE_ATTEMPTS} times "
                     "during the edit); run again once it is no longer being edited")


def _edited(raw: bytes, links: list[Link], day: dt.date) -> tuple[bytes, list[str]]:
    """``raw`` with each link's date set, and a line per link that could not be."""
    problems = []
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw, [f"NOT RECORDED {link.where}: the file is not UTF-8 text" for link in links]
    for link in links:
        try:
            text = with_verified(text, link.index, link.url, day)
        except LayoutError as exc:
            problems.append(f"NOT RECORDED {link.where}: {exc}; add 'verified: "
                            f"{day.isoformat()}' by hand")
    return (_BOM if raw.startswith(_BOM) else b"") + text.encode(), problems


def read_regular(path: Path, hint: str, editor: str = "--write") -> bytes:
    """The bytes of ``path``, a regular file that may be written; NotWritten otherwise,
    naming ``editor`` as what leaves the file alone."""
    try:
        status = path.lstat()
        if not stat.S_ISREG(status.st_mode):
            raise NotWritten(f"the file is not a regular file (a symbolic link?); {editor} "
                             f"edits regular files only: {hint}")
        mode = stat.filemode(status.st_mode)
        if not status.st_mode & 0o222:
            raise NotWritten(f"the file is read-only (mode {mode}); {editor} leaves it alone: "
                             f"make it writable (chmod u+w) and run again, or {hint}")
        if not os.access(path, os.W_OK):
            raise NotWritten(f"the file cannot be written (mode {mode}, owner {status.st_uid}; "
                             f"immutable if lsattr shows 'i'); {editor} leaves it alone: make "
                             f"it writable (chmod u+w, chattr -i) and run again, or {hint}")
        return _read_no_follow(path)
    except OSError as exc:
        raise NotWritten(_os_problem("read the file", exc, hint))


def _read_no_follow(path: Path) -> bytes:
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with open(descriptor, "rb") as file:
        return file.read()


def swap_if_unchanged(path: Path, raw: bytes, data: bytes, hint: str) -> bool:
    """Put ``data`` in place of ``path`` if it still holds ``raw``; False (nothing changed)
    when it does not, or when it was saved again meanwhile.

    The file is renamed aside, and compared there: a save from then on creates a new file,
    which the final ``link`` will not replace, and a save into the old file before that
    shows in the comparison (an editor that truncates it first leaves it different from
    ``raw`` at once). A file that changed is linked back whole, so a write still under way
    into it lands in the file the editor sees. No temporary file is left, whatever fails."""
    try:
        mode = path.lstat().st_mode
    except OSError as exc:
        raise NotWritten(_os_problem("read the file", exc, hint))
    new = _temporary_copy(path, data, mode, hint)
    aside = None
    try:
        aside = _set_aside(path, hint)
        try:
            unchanged = _read_no_follow(aside) == raw
        except OSError:
            unchanged = False   # replaced by a symbolic link meanwhile: put it back as it was
        placed = unchanged and _link_if_absent(new, path, hint)
        if not placed:
            _link_if_absent(aside, path, hint)
        return placed
    finally:
        _remove(new)
        if aside is not None:
            _put_back_and_remove(aside, path)


def create_if_absent(path: Path, data: bytes, hint: str) -> bool:
    """``data`` as the new file ``path`` (mode 0644), unless a file of that name exists or
    appears meanwhile: False then, and nothing changed."""
    new = _temporary_copy(path, data, 0o644, hint)
    try:
        return _link_if_absent(new, path, hint)
    finally:
        _remove(new)


def _temporary_copy(path: Path, data: bytes, mode: int, hint: str) -> Path:
    """``data`` in a new hidden file beside ``path``, with ``path``'s permissions."""
    try:
        descriptor, name = tempfile.mkstemp(prefix=f".{path.name}.verify-links.",
                                            suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise NotWritten(_os_problem("create the edited copy beside it", exc, hint))
    try:
        with open(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fchmod(file.fileno(), stat.S_IMODE(mode))
            os.fsync(file.fileno())
    except OSError as exc:
        _remove(Path(name))
        raise NotWritten(_os_problem("write the edited copy beside it", exc, hint))
    return Path(name)


def _set_aside(path: Path, hint: str) -> Path:
    """Rename ``path`` to a new hidden name beside it; that name."""
    try:
        descriptor, name = tempfile.mkstemp(prefix=f".{path.name}.verify-links.",
                                            suffix=".old", dir=path.parent)
        os.close(descriptor)
    except OSError as exc:
        raise NotWritten(_os_problem("create a file beside it", exc, hint))
    try:
        os.rename(path, name)
    except OSError as exc:
        _remove(Path(name))
        raise NotWritten(_os_problem("replace the file", exc, hint))
    return Path(name)


def _link_if_absent(source: Path, path: Path, hint: str) -> bool:
    """Give ``source``'s file the name ``path`` unless something took that name meanwhile
    (a save made during the edit, which stays). Where the file system has no hard links,
    a rename once ``path`` is seen free."""
    try:
        os.link(source, path, follow_symlinks=False)
        return True
    except FileExistsError:
        return False
    except OSError as exc:
        if exc.errno not in _NO_HARD_LINKS:
            raise NotWritten(_os_problem("put the file in place", exc, hint))
    if os.path.lexists(path):
        return False
    try:
        os.rename(source, path)
        return True
    except OSError as exc:
        raise NotWritten(_os_problem("put the file in place", exc, hint))


_NO_HARD_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK, errno.ENOSYS}


def _put_back_and_remove(aside: Path, path: Path) -> None:
    """Remove the set-aside name, after putting the file back if nothing holds ``path``
    (a failure between setting it aside and linking): the file is never lost."""
    if not os.path.lexists(path):
        try:
            _link_if_absent(aside, path, "")
        except NotWritten:
            raise NotWritten(f"could not put the file back: it is now {aside}; rename it to "
                             f"{path.name}") from None
    _remove(aside)


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


_OS_HINTS = {
    errno.ENOSPC: "free some space and run again",
    errno.EDQUOT: "free some space and run again",
    errno.EFBIG: "raise the file size limit (ulimit -f) and run again",
    errno.EACCES: "make the file and its folder writable (chmod u+w) and run again",
    errno.EPERM: "make the file and its folder writable (chmod u+w; chattr -i if lsattr "
                 "shows 'i') and run again",
    errno.EROFS: "the site is on a read-only file system: run it on a writable copy",
}


def _os_problem(action: str, exc: OSError, hint: str) -> str:
    """'could not <action> (<reason>); <what to do>', the file left as it was."""
    advice = _OS_HINTS.get(exc.errno, "run again")
    return (f"could not {action} ({exc.strerror or exc}); the file is unchanged: {advice}, "
            f"or {hint}")


# --- the command -----------------------------------------------------------------------------

def run(root: Path, today: dt.date, write: bool = False, timeout: float = DEFAULT_TIMEOUT,
        workers: int = DEFAULT_WORKERS, resolve: dict | None = None, out=None,
        err=None, allow_addresses: tuple = ()) -> int:
    """The verify-links command: 0 when every link passed (and, with ``write``, was
    recorded), 1 otherwise."""
    from erjian.input.validate import read_site

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
    if allow_addresses:
        print(f"note: --allow-address opens {', '.join(map(str, allow_addresses))} although "
              "not public (for testing against local servers only)", file=err)
    settings = Settings(ssl.create_default_context(), tuple(site.site.official_domains),
                        timeout, resolve, tuple(allow_addresses))
    links = official_links(site)
    visits = visit_all([link.url for link in links], settings, workers)
    for line in [*table(links, visits), "", *summary(links, visits)]:
        print(line, file=out)
    all_recorded = _write(Path(root), links, visits, today, out) if write else True
    return 0 if all_recorded and all(visits[link.url].passed for link in links) else 1


def _write(root: Path, links: list[Link], visits: dict[str, Visit], today: dt.date,
           out) -> bool:
    """Record the passing links; whether every passing authority link was recorded."""
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
    return recorded == len(recordable)


def allowed_networks(texts) -> tuple:
    """``--allow-address`` values as networks (an address alone is a network of one)."""
    from erjian.core.errors import UserError

    networks = []
    for text in texts or ():
        try:
            networks.append(ipaddress.ip_network(text.strip(), strict=False))
        except ValueError:
            raise UserError(f"--allow-address {text}: not an IP address or network",
                            "give an address or network such as 127.0.0.1 or 127.0.0.0/8")
    return tuple(networks)


def checked_resolve(args) -> dict:
    """The ``ERJIAN_VERIFY_RESOLVE`` pins, once ``args.timeout`` is checked (UserError for
    either out of order): what every command that fetches starts with."""
    from erjian.core.errors import UserError

    if not 0 < args.timeout <= 120:
        raise UserError(f"--timeout {args.timeout:g} is out of range",
                        "give a number of seconds above 0 and at most 120")
    try:
        return parse_resolve(os.environ.get(RESOLVE_ENV))
    except ValueError as exc:
        raise UserError(f"{RESOLVE_ENV}: {exc}", "write host=address:port, comma-separated")


def command(root: Path, args) -> int:
    """``build.py verify-links`` with its parsed arguments."""
    resolve = checked_resolve(args)
    return run(root, args.today or today_in_china(), args.write, args.timeout,
               resolve=resolve, allow_addresses=allowed_networks(
                   getattr(args, "allow_address", ())))
