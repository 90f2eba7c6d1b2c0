"""Link policy for official channels: the page tells readers where to type their ID number,
so an authority link must be https:// on an official domain — a subdomain of gov.cn or a
domain on the reviewed list in content/site.yaml — and must not merely look like one.

Pure functions; ``official_url_problem`` returns why a URL is refused, or None.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

GOV_CN = "gov.cn"
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_DIGIT_LOOKALIKES = str.maketrans({"0": "o", "1": "l", "3": "e", "4": "a", "5": "s",
                                   "6": "g", "7": "t", "8": "b", "9": "g"})


def _ends_with_domain(host: str, domain: str) -> bool:
    return host == domain or host.endswith("." + domain)


def official_url_problem(url: str, reviewed: tuple[str, ...] = ()) -> str | None:
    """Why ``url`` may not be shown as an official channel (None when it may)."""
    parts = urlsplit(url)
    if parts.scheme != "https":
        return f"'{url}' is not https://; official channels are linked only over https"
    if parts.username or parts.password or "@" in parts.netloc:
        return f"'{url}' carries a user name before the host, a classic way to disguise a link"
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        return f"'{url}' has no host name"
    if parts.port not in (None, 443):
        return f"'{url}' uses port {parts.port}; official sites use the standard https port"
    labels = host.split(".")
    if any(label.startswith("xn--") for label in labels):
        return (f"'{host}' contains punycode (xn--), which can display as characters that "
                "imitate an official name")
    if not all(_LABEL.fullmatch(label) for label in labels) or len(labels) < 2:
        return f"'{host}' is not a plain host name"
    allowed = (GOV_CN, *reviewed)
    if any(_ends_with_domain(host, domain) for domain in allowed):
        return None
    normalised = host.translate(_DIGIT_LOOKALIKES)
    for domain in allowed:
        if _ends_with_domain(normalised, domain.translate(_DIGIT_LOOKALIKES)):
            return (f"'{host}' uses digits for letters to look like '{domain}'; only "
                    f"'{domain}' itself is official")
    for domain in allowed:
        if f".{domain}." in f".{host}." or host.startswith(domain + "."):
            return (f"'{host}' contains '{domain}' but belongs to another domain "
                    f"('{'.'.join(labels[-2:])}'); an official site ends with '{domain}'")
        squeezed = domain.replace(".", "")
        if squeezed in host.replace(".", "").replace("-", ""):
            return f"'{host}' imitates '{domain}' without being under it"
    return (f"'{host}' is neither under gov.cn nor on the reviewed list of official domains "
            "(official_domains in content/site.yaml)")
