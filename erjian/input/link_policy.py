"""Link policy: one rule for every web address a page shows.

- Every link (a source, a link in a notice) must be https:// with a plain host name (no user
  name before it, no other port, no punycode) and must not imitate an official domain: a
  host that contains ``gov.cn`` or a reviewed domain without being under it, or spells one
  with digits for letters, is refused. Sources may otherwise be any site (news reports of a
  holiday arrangement are cited as sources when the notice itself is not online).
- An official channel (an authority, a local office) — where the reader types their ID
  number — must moreover be under gov.cn or on the reviewed list in content/site.yaml.
- A reviewed domain may not be a public suffix (``com.cn``, ``github.io``, …): listing one
  would make every site registered under it official.

- A link target in text (a notice body, guide text) may moreover be mailto: or a link within
  this site; no other scheme (javascript:, data:, …) and no address starting with '//'.

Pure functions; each returns why a value is refused, or None.
"""

from __future__ import annotations

import html
import re
from urllib.parse import unquote, urlsplit

from erjian.input.characters import excerpt

GOV_CN = "gov.cn"
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_DIGIT_LOOKALIKES = str.maketrans({"0": "o", "1": "l", "3": "e", "4": "a", "5": "s",
                                   "6": "g", "7": "t", "8": "b", "9": "g"})

# Names under which anyone can register a domain or get a site, so that none of them may be a
# reviewed official domain. Not the whole Public Suffix List (which changes weekly and would
# be a dependency): the suffixes of China and its regions, the generic top-level domains
# common there, and hosting services that give out subdomains. Any two-label name whose first
# label is a generic second level (com.cn, org.hk, net.tw, gov.uk) counts as one as well.
_GENERIC_SECOND_LEVEL = frozenset({"com", "net", "org", "edu", "gov", "ac", "co", "mil"})
PUBLIC_SUFFIXES = frozenset({
    # China: top level, the provinces' second-level names under .cn, and IDN forms
    "cn", "hk", "mo", "tw", "xn--fiqs8s", "xn--fiqz9s", "xn--55qx5d", "xn--io0a7i",
    "ah.cn", "bj.cn", "cq.cn", "fj.cn", "gd.cn", "gs.cn", "gx.cn", "gz.cn", "ha.cn", "hb.cn",
    "he.cn", "hi.cn", "hk.cn", "hl.cn", "hn.cn", "jl.cn", "js.cn", "jx.cn", "ln.cn", "mo.cn",
    "nm.cn", "nx.cn", "qh.cn", "sc.cn", "sd.cn", "sh.cn", "sn.cn", "sx.cn", "tj.cn", "tw.cn",
    "xj.cn", "xz.cn", "yn.cn", "zj.cn",
    # generic top-level domains
    "com", "net", "org", "info", "biz", "top", "xyz", "site", "online", "vip", "shop", "club",
    "wang", "ltd", "cc", "tv", "me", "io", "co", "app", "dev",
    # hosting that gives anyone a subdomain
    "github.io", "gitee.io", "gitlab.io", "pages.dev", "workers.dev", "r2.dev",
    "netlify.app", "vercel.app", "web.app", "firebaseapp.com", "herokuapp.com", "appspot.com",
    "blogspot.com", "wordpress.com", "azurewebsites.net", "cloudfront.net",
    "s3.amazonaws.com", "aliyuncs.com", "myqcloud.com", "bcebos.com", "sinaapp.com",
    "wixsite.com", "weebly.com", "000webhostapp.com", "ngrok.io", "ngrok-free.app",
    "trycloudflare.com", "onrender.com", "fly.dev", "glitch.me", "surge.sh",
})


def _ends_with_domain(host: str, domain: str) -> bool:
    return host == domain or host.endswith("." + domain)


def _form_problem(url: str) -> str | None:
    """Why ``url`` is not an https address on a plain host name (None when it is)."""
    parts = urlsplit(url)
    if parts.scheme != "https":
        return (f"'{url}' is not https://; pages link only over https, so that nobody on the "
                "way can change what the reader sees")
    if parts.username or parts.password or "@" in parts.netloc:
        return f"'{url}' carries a user name before the host, a classic way to disguise a link"
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        return f"'{url}' has no host name"
    try:
        port = parts.port
    except ValueError:
        return f"'{url}' has an invalid port"
    if port not in (None, 443):
        return f"'{url}' uses port {port}; pages link only to the standard https port"
    labels = host.split(".")
    if any(label.startswith("xn--") for label in labels):
        return (f"'{host}' contains punycode (xn--), which can display as characters that "
                "imitate an official name")
    if not all(_LABEL.fullmatch(label) for label in labels) or len(labels) < 2:
        return f"'{host}' is not a plain host name"
    return None


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower().rstrip(".")


def lookalike_problem(host: str, domains: tuple[str, ...]) -> str | None:
    """Why ``host``, which is under none of ``domains``, imitates one of them (or None)."""
    labels = host.split(".")
    normalised = host.translate(_DIGIT_LOOKALIKES)
    for domain in domains:
        if _ends_with_domain(normalised, domain.translate(_DIGIT_LOOKALIKES)):
            return (f"'{host}' uses digits for letters to look like '{domain}'; only "
                    f"'{domain}' itself is official")
    for domain in domains:
        if f".{domain}." in f".{host}." or host.startswith(domain + "."):
            return (f"'{host}' contains '{domain}' but belongs to another domain "
                    f"('{'.'.join(labels[-2:])}'); an official site ends with '{domain}'")
        squeezed = domain.replace(".", "")
        if squeezed in host.replace(".", "").replace("-", ""):
            return f"'{host}' imitates '{domain}' without being under it"
    return None


def link_problem(url: str, reviewed: tuple[str, ...] = ()) -> str | None:
    """Why ``url`` may not be linked from a page at all (None when it may)."""
    reason = _form_problem(url)
    if reason:
        return reason
    host = _host(url)
    allowed = (GOV_CN, *reviewed)
    if any(_ends_with_domain(host, domain) for domain in allowed):
        return None
    return lookalike_problem(host, allowed)


def official_url_problem(url: str, reviewed: tuple[str, ...] = ()) -> str | None:
    """Why ``url`` may not be shown as an official channel (None when it may)."""
    reason = link_problem(url, reviewed)
    if reason:
        return reason
    host = _host(url)
    if any(_ends_with_domain(host, domain) for domain in (GOV_CN, *reviewed)):
        return None
    return (f"'{host}' is neither under gov.cn nor on the reviewed list of official domains "
            "(official_domains in content/site.yaml)")


def reviewed_domain_problem(domain: str) -> str | None:
    """Why ``domain`` may not be listed as a reviewed official domain (None when it may)."""
    labels = domain.split(".")
    if _ends_with_domain(domain, GOV_CN):
        return (f"'{domain}' is {'' if domain == GOV_CN else 'under '}gov.cn, which is official "
                "without being listed")
    if domain in PUBLIC_SUFFIXES or (len(labels) == 2 and labels[0] in _GENERIC_SECOND_LEVEL):
        return (f"'{domain}' is a public suffix: anyone can register a site under it, so "
                "listing it would make all of them official")
    if any(label.startswith("xn--") for label in labels):
        return f"'{domain}' contains punycode (xn--); list the plain ASCII domain"
    return lookalike_problem(domain, (GOV_CN,))


def target_problem(target: str, reviewed: tuple[str, ...] = ()) -> str | None:
    """Why the link target ``target`` (an href or src as a browser reads it: entities
    decoded) may not be published: web links must pass :func:`link_problem`; mailto: and
    links within this site are allowed; anything else is refused (None when it may)."""
    # Its scheme read generously (entities and %-escapes decoded once more, controls
    # dropped): a target that might be read as another scheme is refused.
    compact = re.sub(r"[\s\x00-\x1f]", "", html.unescape(unquote(target))).lower()
    scheme = re.match(r"[a-z][a-z0-9+.-]*:", compact)
    if scheme is None:
        if compact.replace("\\", "/").startswith("//"):
            return (f"'{excerpt(target)}' starts with '//', which leaves this site without "
                    "saying https://")
        return None
    if scheme.group() == "mailto:":
        return None
    if scheme.group() in ("http:", "https:"):
        return link_problem(target.strip(), reviewed)
    return (f"'{excerpt(target)}' uses {scheme.group()}; only https:// links, mailto: and "
            "links within this site are allowed")
