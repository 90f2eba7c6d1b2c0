"""Polite fetching for the harvest, on ``erjian.editor.verify_links.fetch`` and its rules
(TLS verified, public addresses only, one deadline, bounded body, every redirect checked
against the link policy before it is opened).

On top of them: robots.txt read once per host with Protego (wildcards, Crawl-delay), one
request at a time with a pause between two requests to the same host, conditional requests
from the ETag / Last-Modified kept in the state (an unchanged page costs a 304 and no body),
an honest User-Agent, and answers sorted into what the harvest can say about them: a page,
"unchanged", "blocked: check by hand" (412/521 or a script-only stub), "too large",
"refused" (link policy or robots.txt), or a failure.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from erjian.editor.verify_links import (FetchError, RedirectRefused, Settings, decode_page,
                                        fetch)
from erjian.input.link_policy import official_url_problem

USER_AGENT = ("erjian-harvest/1 (+https://github.com/; reads the official notices of the "
              "second-level constructor exam for a static guide site; obeys robots.txt, "
              "one request at a time)")
DEFAULT_DELAY = 2.0          # seconds between two requests to one host
MAX_CRAWL_DELAY = 60.0       # a larger Crawl-delay makes the host 'check by hand'
MAX_PAGE = 2 * 1024 * 1024   # bytes; a larger page is refused as too large
BLOCKED_CODES = (412, 521)   # what anti-bot front ends answer a client without JavaScript


@dataclass(frozen=True)
class Answer:
    """What asking for one page gave. ``outcome`` is 'page', 'unchanged', 'blocked',
    'too large', 'refused', 'error' or 'http'; ``text`` the decoded page for 'page'."""

    url: str
    outcome: str
    final_url: str = ""
    text: str = ""
    detail: str = ""
    status: int | None = None
    size: int = 0

    @property
    def usable(self) -> bool:
        return self.outcome == "page"


@dataclass
class Tally:
    """Requests made and body bytes received, for the report and the benchmark."""

    requests: int = 0
    bytes: int = 0


@dataclass
class PoliteFetcher:
    """Fetches one page at a time under every rule. ``validators`` is the state's
    {url: {"etag": …, "last_modified": …}}, updated as pages are read."""

    settings: Settings
    validators: dict = field(default_factory=dict)
    delay: float = DEFAULT_DELAY
    sleep: object = time.sleep
    clock: object = time.monotonic
    tally: Tally = field(default_factory=Tally)
    _robots: dict = field(default_factory=dict)
    _last: dict = field(default_factory=dict)

    def get(self, url: str, conditional: bool = True) -> Answer:
        """The page at ``url``, or why there is none."""
        problem = official_url_problem(url, self.settings.reviewed)
        if problem:
            return Answer(url, "refused", url, detail=f"link policy: {problem}")
        robots = self._robots_for(url)
        if isinstance(robots, str):
            return Answer(url, "error", url, detail=robots)
        if robots is not None and not robots.can_fetch(url, USER_AGENT):
            return Answer(url, "refused", url, detail="robots.txt disallows it; not fetched")
        headers = self._conditions(url) if conditional else {}
        result = self._request(url, headers, self._pause(robots))
        return self._answer(url, result, headers, remember=conditional)

    def _answer(self, url: str, result, headers: dict, remember: bool) -> Answer:
        if isinstance(result, Answer):
            return result
        page = result
        size = len(page.body)
        if page.status == 304 and headers:
            return Answer(url, "unchanged", page.final_url, status=304)
        if page.status in BLOCKED_CODES:
            return Answer(url, "blocked", page.final_url, status=page.status, size=size,
                          detail=f"HTTP {page.status}, an anti-bot challenge")
        if not 200 <= page.status < 300:
            return Answer(url, "http", page.final_url, status=page.status, size=size,
                          detail=f"HTTP {page.status}")
        if size > MAX_PAGE:
            return Answer(url, "too large", page.final_url, status=page.status, size=size,
                          detail=f"more than {MAX_PAGE // 1024} KiB; not read")
        text = decode_page(page.body, page.headers.get("Content-Type"))
        if is_script_stub(text):
            return Answer(url, "blocked", page.final_url, status=page.status, size=size,
                          detail="the page is only a script (an anti-bot challenge)")
        if remember:
            self._remember(url, page.headers)
        return Answer(url, "page", page.final_url, text=text, status=page.status, size=size)

    def _request(self, url: str, headers: dict, pause: float):
        """verify_links.fetch after the host's pause: its Page, or an Answer saying why not."""
        host = urlsplit(url).hostname or ""
        wait = self._last.get(host, -1e9) + pause - self.clock()
        if wait > 0:
            self.sleep(wait)
        self.tally.requests += 1
        try:
            page = fetch(url, self.settings, lambda target: official_url_problem(
                target, self.settings.reviewed), headers)
        except RedirectRefused as exc:
            return Answer(url, "refused", exc.url, detail=f"redirects to {exc.url}, which the "
                          f"link policy refuses ({exc.problem}); not opened")
        except FetchError as exc:
            return Answer(url, "error", exc.url, detail=f"{exc.status}: {exc.detail}")
        finally:
            self._last[host] = self.clock()
        self.tally.bytes += len(page.body)
        return page

    def _conditions(self, url: str) -> dict:
        known = self.validators.get(url) or {}
        headers = {}
        if known.get("etag"):
            headers["If-None-Match"] = known["etag"]
        if known.get("last_modified"):
            headers["If-Modified-Since"] = known["last_modified"]
        return headers

    def _remember(self, url: str, headers) -> None:
        kept = {"etag": headers.get("ETag"), "last_modified": headers.get("Last-Modified")}
        if any(kept.values()):
            self.validators[url] = {k: v for k, v in kept.items() if v}

    def _pause(self, robots) -> float:
        asked = robots.crawl_delay(USER_AGENT) if robots is not None else None
        return max(self.delay, min(float(asked or 0), MAX_CRAWL_DELAY))

    def _robots_for(self, url: str):
        """The host's robots.txt parsed by Protego; None when it has none (4xx); why not,
        when it could not be read (5xx, network failure): then nothing is fetched there."""
        from protego import Protego

        parts = urlsplit(url)
        origin = f"https://{parts.netloc}"
        if origin not in self._robots:
            result = self._request(f"{origin}/robots.txt", {}, self.delay)
            if isinstance(result, Answer) or result.status >= 500:
                shown = result.detail if isinstance(result, Answer) else f"HTTP {result.status}"
                self._robots[origin] = (f"robots.txt could not be read ({shown}); nothing "
                                        "fetched from this host")
            elif 200 <= result.status < 300:
                text = decode_page(result.body, result.headers.get("Content-Type"))
                self._robots[origin] = Protego.parse(text)
            else:
                self._robots[origin] = None
        return self._robots[origin]


_SCRIPT = re.compile(r"<script\b.*?</script\s*>", re.I | re.S)
_TAG = re.compile(r"<[^>]+>")


def is_script_stub(text: str) -> bool:
    """A page that is a script and next to no text: what a JavaScript challenge serves."""
    if not re.search(r"<script\b", text, re.I):
        return False
    visible = _TAG.sub("", _SCRIPT.sub("", re.sub(r"<(style|noscript)\b.*?</\1\s*>", "",
                                                  text, flags=re.I | re.S)))
    return len("".join(visible.split())) < 40
