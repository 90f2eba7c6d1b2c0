"""Characters refused in every input file and text value (control, bidirectional and
invisible ones), Unicode normalisation, and quoting input text in messages without letting it
leak a file or reorder the message."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Characters refused in every input file and every text value: they are invisible or change
# the direction of the text around them, so two names that look identical can differ (马鞍山市
# beside 马鞍\u200b山市), a reviewer can be shown something other than what is built, and they
# pass on into pages, feeds and .ics files. The set is the standard's, not a hand list:
#
# - the general categories Cc (controls), Cf (format characters: zero-width space and joiners,
#   bidi marks, embeddings, overrides and isolates, soft hyphen, BOM, tags, U+1D173 musical
#   beams, U+1BCA0 shorthand overlaps, ...), Cs (surrogates, reachable only through a YAML
#   escape) and Zl/Zp (line and paragraph separators), from unicodedata;
# - the rest of Unicode's Default_Ignorable_Code_Point: Other_Default_Ignorable_Code_Point and
#   Variation_Selector as PropList.txt lists them (unicodedata does not expose either), which
#   adds combining joiners (U+034F, U+17B4, U+17B5), Hangul fillers, the Mongolian free
#   variation selectors (U+180B–U+180F), the variation selectors and reserved ignorables.
#
# Tab and newline are the only controls allowed, and only where a text may have several
# lines. Deliberately refused with them: the zero-width joiner and variation selectors of
# emoji sequences (a single emoji is accepted; 👨‍👩‍👧 and ❤️ are not, and nothing the site
# publishes needs them) and ideographic variation sequences (the base character is kept
# when the selector is deleted). Private-use and unassigned code points are not refused:
# they are visible (a glyph or a box), and rare characters of place names were once
# private-use. Text is compared in NFC (``read_text``, ``nfc``), so two spellings of one
# name are one name.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_IGNORABLE_RANGES = (   # PropList.txt (Unicode 15.1): Other_Default_Ignorable_Code_Point
    (0x034F, 0x034F), (0x115F, 0x1160), (0x17B4, 0x17B5), (0x2065, 0x2065), (0x3164, 0x3164),
    (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0xE0000, 0xE0000), (0xE0002, 0xE001F),
    (0xE0080, 0xE00FF), (0xE01F0, 0xE0FFF),
    # Variation_Selector
    (0x180B, 0x180D), (0x180F, 0x180F), (0xFE00, 0xFE0F), (0xE0100, 0xE01EF),
)
_ALLOWED_CONTROLS = frozenset("\t\n")


@lru_cache(maxsize=1)
def hidden_pattern() -> re.Pattern:
    """One character class of every refused character, built on first use from the Unicode
    database of this Python (one pass over the code points, about a tenth of a second)."""
    points = [code for code in range(0x110000)
              if unicodedata.category(chr(code)) in _REFUSED_CATEGORIES
              and chr(code) not in _ALLOWED_CONTROLS]
    ranges: list[list[int]] = []
    for code in sorted(set(points).union(*(range(a, b + 1) for a, b in _IGNORABLE_RANGES))):
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    return re.compile("[" + "".join(f"\\U{a:08x}" + (f"-\\U{b:08x}" if b != a else "")
                                    for a, b in ranges) + "]")


def nfc(text: str) -> str:
    """``text`` in Unicode normalisation form C: 'é' typed as e + U+0301 and 'é' typed as one
    character become the same text, so they name the same region."""
    return unicodedata.normalize("NFC", text)


LINE_BREAKS = re.compile("[\t\n]")


def describe_char(char: str) -> str:
    """``U+202E (RIGHT-TO-LEFT OVERRIDE)``; controls, which have no name, say so."""
    name = unicodedata.name(char, "")
    if not name:
        name = "control character" if unicodedata.category(char) == "Cc" else "unnamed"
    return f"U+{ord(char):04X} ({name})"


def find_hidden(text: str, multiline: bool = True) -> int | None:
    """Index of the first character refused in ``text`` (tab and newline are refused too
    unless ``multiline``), or None."""
    patterns = (hidden_pattern(),) if multiline else (hidden_pattern(), LINE_BREAKS)
    found = [match.start() for match in (p.search(text) for p in patterns) if match]
    return min(found) if found else None


def excerpt(value, limit: int = 60) -> str:
    """A value as it may appear in a message: its first line, at most ``limit`` characters,
    with refused characters written as escapes (so a message can neither leak a file nor be
    reordered by a bidi control)."""
    text = str(value)
    cut = text.split("\n", 1)[0][:limit]
    return escape_hidden(cut).replace("\t", "\\t") + ("…" if len(cut) < len(text) else "")


def escape_hidden(text: str) -> str:
    """``text`` with every refused character written as a \\u escape."""
    return hidden_pattern().sub(lambda m: f"\\u{ord(m.group()):04x}" if ord(m.group()) < 0x10000
                                else f"\\U{ord(m.group()):08x}", text)
