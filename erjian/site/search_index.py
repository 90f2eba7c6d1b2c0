"""The home page's search index, in shards a slow phone can fetch one at a time
(api/search/<key>.json; docs/api.md).

A region is in the shard of the first letter of its pinyin (and of its slug, where that
starts otherwise) and in the shard of the first character of its name (``h`` and the
character's code point modulo HAN_SHARDS), so the first keystroke of a query, Latin or
Chinese, needs one small file. Each shard is ``{"places": [[where, province slug], …],
"rows": "row|row|…"}``, a row being ``name,slug,stem pinyin,stem initials,suffix pinyin,
suffix initials,level,place``: ``slug`` empty where it is the stem's pinyin (the page is
``<province slug>/<slug>/``), the whole name's pinyin is the stem's followed by the
suffix's, ``level`` is 1 for a prefecture-level division and 2 below, ``place`` indexes
``places``."""

from __future__ import annotations

import json
import string

from erjian.site.views import search_forms

PREFECTURE_LEVELS = ("prefecture", "prefecture_city")
HAN_SHARDS = 10
SHARD_KEYS = tuple(string.ascii_lowercase) + tuple(f"h{n}" for n in range(HAN_SHARDS))


def index_entry(region, where: str, memo) -> tuple:
    """What the search index needs of one region."""
    level = 1 if region.level in PREFECTURE_LEVELS else 2
    return (region.name, region.slug, search_forms(region, memo), level, where,
            region.province.slug)


def _row(entry: tuple, place: int) -> str:
    name, slug, (stem, stem_initials, full, initials), level, _, _ = entry
    suffix, suffix_initials = full[len(stem):], initials[len(stem_initials):]
    if not (full.startswith(stem) and initials.startswith(stem_initials)):
        suffix, suffix_initials = "", ""   # the stem's forms alone are matched
    fields = (name, "" if slug == stem else slug, stem, stem_initials, suffix,
              suffix_initials, str(level), str(place))
    return ",".join(fields)


def shard_keys(entry: tuple) -> set[str]:
    """The shards a region is in."""
    name, slug, (stem, *_), *_ = entry
    keys = {f"h{ord(name[0]) % HAN_SHARDS}"} if name else set()
    keys.update(text[0] for text in (stem, slug) if text and text[0] in string.ascii_lowercase)
    return keys


def _shard(entries: list[tuple]) -> str:
    places: dict[tuple[str, str], int] = {}
    rows = []
    for entry in entries:
        place = places.setdefault((entry[4], entry[5]), len(places))
        rows.append(_row(entry, place))
    return json.dumps({"places": [list(p) for p in places], "rows": "|".join(rows)},
                      ensure_ascii=False, separators=(",", ":")) + "\n"


def search_shards(entries: list[tuple]) -> dict[str, str]:
    """Shard key → JSON text, for every key of SHARD_KEYS (empty shards too, so the page
    never asks for a file that is not there)."""
    members: dict[str, list[tuple]] = {key: [] for key in SHARD_KEYS}
    for entry in entries:
        for key in shard_keys(entry):
            members[key].append(entry)
    return {key: _shard(found) for key, found in members.items()}
