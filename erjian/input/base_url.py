"""The rule for the address a site is published at (``base_url`` in content/site.yaml and
``--base-url``), in one pure function so that both places accept the same addresses."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

EXAMPLE = "e.g. https://example.org/ or https://example.org/erjian/"

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_HOST = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?|\[[0-9A-Fa-f:.]+\]")
_PATH = re.compile(r"(?:/(?:[A-Za-z0-9._~!$&()*+,;=:@-]|%[0-9A-Fa-f]{2})*)*")


def normalise_base_url(text: str) -> str:
    """``text`` as a base address ending in '/', or ValueError saying what is wrong.

    Accepted: an absolute http(s) address with a host, an optional port and an optional
    path; no user name or password, query or fragment. A missing final '/' is added
    (``https://host/erjian`` means the folder ``/erjian/``)."""
    if not isinstance(text, str) or not text:
        raise ValueError("the site address is empty; give the full address, " + EXAMPLE)
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in text):
        raise ValueError(f"{text!r} contains spaces or control characters")
    scheme, separator, rest = text.partition("://")
    if not separator or not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme):
        raise ValueError(f"{text!r} is not an absolute web address; give the full address "
                         f"starting with https://, {EXAMPLE}")
    if scheme.lower() not in ("http", "https"):
        raise ValueError(f"{text!r} must start with https:// or http://, not {scheme}://")
    if "?" in rest or "#" in rest:
        raise ValueError(f"{text!r} must not have a query ('?…') or fragment ('#…'); "
                         f"give the address of the site's folder, {EXAMPLE}")
    try:
        parts = urlsplit(scheme.lower() + "://" + rest)
    except ValueError:  # e.g. an unclosed '[' of an IPv6 address
        raise ValueError(f"{text!r} has no valid host name; {EXAMPLE}") from None
    if "@" in parts.netloc:
        raise ValueError(f"{text!r} must not contain a user name or password ('…@')")
    _check_host_and_port(text, parts)
    path = parts.path or "/"
    if not _PATH.fullmatch(path) or any(s in (".", "..") for s in path.split("/")) \
            or "//" in path:
        raise ValueError(f"{text!r} has a path that is not a plain folder path; use letters, "
                         f"digits and '-', '_', '.' between single '/', {EXAMPLE}")
    if not path.endswith("/"):
        path += "/"
    return f"{parts.scheme}://{parts.netloc}{path}"


def _check_host_and_port(text: str, parts) -> None:
    host, colon, port = parts.netloc.rpartition(":")
    if not colon or host.startswith("[") != host.endswith("]"):
        host, colon, port = parts.netloc, "", ""   # no port, or a colon inside [IPv6]
    if not host or not _HOST.fullmatch(host):
        raise ValueError(f"{text!r} has no valid host name; {EXAMPLE}")
    if colon and not (port.isascii() and port.isdigit() and 1 <= int(port) <= 65535):
        raise ValueError(f"{text!r} has an invalid port {port!r}; a port is 1-65535")
