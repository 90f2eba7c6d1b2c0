"""What the harvest watches, as the data names it, and how a watched page is read.

Sources are data: each authority's ``notices`` (list pages, optional CSS selectors) and each
calendar layer's ``search``. A list page gives links to notices; a notice page gives its
text. The default selectors fit most provincial sites: every link whose text names the exam,
and the whole page's text."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from urllib.parse import quote, urljoin

EXAM_WORDS = ("建造师", "二建")   # a link about the exam names one of them
DATE_NEAR_LINK = re.compile(r"(20\d\d)[-./年](\d{1,2})[-./月](\d{1,2})")


@dataclass(frozen=True)
class Watched:
    """One page to watch: a province's notice list, or a calendar layer's search."""

    url: str
    file: str                  # the data file naming it, for the report
    province: str | None       # slug, for notice lists
    layer: str | None          # slug, for a calendar layer's search
    name: str                  # the authority or layer, as the report names it
    list_selector: str | None = None
    body_selector: str | None = None
    words: tuple = EXAM_WORDS   # the default selector keeps links whose text has one


def watched_pages(site) -> list[Watched]:
    """Every watched page of a validated site (``validate.SiteInput``), provinces first."""
    pages = []
    for province in sorted(site.provinces.values(), key=lambda p: p.slug):
        for authority in province.authorities:
            pages += [Watched(page.url, province.file, province.slug, None, authority.name,
                              page.list_selector, page.body_selector)
                      for page in authority.notices]
    for slug, layer in sorted(site.layers.items()):
        if layer.search is not None:
            search = layer.search
            pages.append(Watched(search.url + quote(search.query), layer.file, None, slug,
                                 layer.name, search.list_selector, search.body_selector,
                                 (search.query[:6],)))
    return pages


def unwatched_provinces(site) -> list:
    """Provinces whose authorities name no notice page: exam bodies nobody watches."""
    return [p for p in sorted(site.provinces.values(), key=lambda p: p.slug)
            if not any(a.notices for a in p.authorities)]


@dataclass(frozen=True)
class Listed:
    """A notice as a list page links it."""

    title: str
    url: str
    published: dt.date | None


def _soup(html: str):
    from bs4 import BeautifulSoup

    return BeautifulSoup(html, "html.parser")


def listed_notices(html: str, base_url: str, watched: Watched) -> list[Listed] | None:
    """The notices the list page links, in page order; None when the page no longer has
    what the selector looks for (the layout changed)."""
    soup = _soup(html)
    items = soup.select(watched.list_selector or "a[href]")
    if not items:
        return None
    found: dict[str, Listed] = {}
    for item in items:
        link = item if item.name == "a" and item.get("href") else item.select_one("a[href]")
        if link is None:
            continue
        title = " ".join((link.get("title") or link.get_text(" ")).split())
        if watched.list_selector is None and not any(w in title for w in watched.words):
            continue
        url = _escaped(urljoin(base_url, link["href"].strip()))
        if url.startswith(("https://", "http://")) and url not in found:   # http: refused,
            # and reported, when fetched: never dropped unseen
            found[url] = Listed(title, url, _date_near(item))
    return list(found.values())


def _escaped(url: str) -> str:
    """``url`` with spaces, control characters, quotes and angle brackets percent-encoded:
    an address from a web page is written into YAML, Markdown and the report."""
    return re.sub(r"[\s\x00-\x1f\x7f\"'<>\\`]", lambda m: quote(m.group()), url)


def _date_near(item) -> dt.date | None:
    """The date printed beside a list item's link: in the item, or in the nearest element
    around it that holds no other link (a <li>, a table row)."""
    node = item
    while node is not None and len(node.select("a[href]")) <= 1:
        match = DATE_NEAR_LINK.search(node.get_text(" "))
        if match:
            try:
                return dt.date(*map(int, match.groups()))
            except ValueError:
                return None
        node = node.parent
    return None


def notice_text(html: str, selector: str | None) -> tuple[str, str] | None:
    """(the page's title, its text with one paragraph or table row a line, a row's cells
    joined by ' | '); None when ``selector`` matches nothing."""
    soup = _soup(html)
    for tag in soup(["script", "style", "noscript"]):
        tag.decompose()
    title = " ".join(soup.title.get_text().split()) if soup.title else ""
    node = soup.select_one(selector) if selector else (soup.body or soup)
    if node is None:
        return None
    for row in node.find_all("tr"):   # a table row on one line: "cell | cell | cell"
        cells = [" ".join(cell.get_text(" ").split()) for cell in row.find_all(["td", "th"])]
        row.replace_with(soup.new_string("\n" + " | ".join(cells) + "\n"))
    lines = (" ".join(line.split()) for line in node.get_text("\n").splitlines())
    return title, "\n".join(line for line in lines if line)


def looks_like_html(text: str) -> bool:
    return bool(re.match(r"\s*(<!doctype|<html|<head|<body|<meta|<div|<p\b)", text, re.I))
