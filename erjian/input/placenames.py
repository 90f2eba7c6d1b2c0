"""Place names in their real pinyin.

pypinyin reads a name character by character (or by its general phrase dictionary), so
polyphonic place names come out wrong: 闵行 → minxing, 阿勒泰 → aleitai, 乌什 → wushen.
``placenames.tsv`` beside this module is the reviewed table of the names whose reading differs
from pypinyin's: one name (full name or name without its suffix) per line with its syllables
and where the reading comes from. ``syllables`` takes the longest name of the table found at
each position of a text and pypinyin only for the rest, so the build needs nothing but
pypinyin and this small table.

The table is made by ``python -m erjian.editor.import_divisions review-readings`` (docs/divisions.md): every
name of the generated divisions is read by two independent sources, CC-CEDICT's phrase data
(as the PyPI package pypinyin-dict ships it; a dictionary with entries for place names) and
the npm package pinyin-pro; each disagreement is resolved by the rule written down in
``REVIEWED`` below, and the names whose final reading differs from pypinyin's are written to
the table. Neither source is needed by the build.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

TABLE = Path(__file__).with_name("placenames.tsv")
CEDICT_SOURCE = "cc-cedict"        # an exact entry of CC-CEDICT (pypinyin-dict's phrase data)
AGREED_SOURCE = "cc-cedict+pinyin-pro"   # both sources agree (against pypinyin)

# Readings decided by hand: where CC-CEDICT's exact entry is contradicted by pinyin-pro and
# the name's common official romanization (the one on road signs, maps and the division's
# own English name) follows pinyin-pro, and the few names where both sources agree on a
# wrong reading. Syllables of the name's start; the rest is read as usual.
REVIEWED = {
    "石鼓": ("shi gu", "石 reads dàn only as a unit of measure; Shigu District"),
    "中牟": ("zhong mu", "牟 reads mù in this name; Zhongmu County"),
    "色达": ("se da", "Seda County (Sêrtar); CC-CEDICT's own entry 色达 reads sè"),
    "扎囊": ("zha nang", "Zhanang County"),
    "扎鲁特": ("zha lu te", "Zhalute (Jarud) Banner"),
    "栖霞": ("qi xia", "Qixia City; xī is an old reading"),
    "长子": ("zhang zi", "Zhangzi County: 长 reads zhǎng in this name"),
    "麦盖提": ("mai gai ti", "Makit (Maigaiti) County; 盖 reads gě only as a surname"),
    "龙圩": ("long xu", "Longxu District: 圩 reads xū (a market) in Guangxi"),
    # Both sources agree but are wrong (found when every changed slug was read through):
    "万柏林": ("wan bai lin", "Wanbailin District; both sources read 柏林 as Berlin (bólín)"),
}


@lru_cache(maxsize=1)
def table() -> dict[str, tuple[str, ...]]:
    """Name → syllables, from placenames.tsv."""
    readings: dict[str, tuple[str, ...]] = {}
    if not TABLE.exists():
        return readings
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        name, reading, *_ = line.split("\t")
        readings[name] = tuple(reading.split())
    return readings


def syllables(text: str, errors=None, first_letter: bool = False) -> list[str]:
    """The pinyin of ``text`` (lowercase, no tones, ü as v as pypinyin writes it): names of
    the table by longest match, everything else through pypinyin's ``lazy_pinyin``."""
    from pypinyin import Style, lazy_pinyin

    readings = table()
    longest = max((len(k) for k in readings), default=0)
    style = Style.FIRST_LETTER if first_letter else Style.NORMAL
    kwargs = {"style": style} if errors is None else {"style": style, "errors": errors}
    out: list[str] = []
    pending = ""
    i = 0
    while i < len(text):
        for j in range(min(len(text), i + longest), i, -1):
            found = readings.get(text[i:j])
            if found is not None and len(found) == j - i:
                break
        else:
            pending += text[i]
            i += 1
            continue
        if pending:
            out.extend(lazy_pinyin(pending, **kwargs))
            pending = ""
        out.extend(s[0] for s in found) if first_letter else out.extend(found)
        i = j
    if pending:
        out.extend(lazy_pinyin(pending, **kwargs))
    return out


def full(text: str) -> str:
    """Full pinyin of ``text`` without spaces (闵行区 → minhangqu)."""
    return "".join(syllables(text)).lower()


def initials(text: str) -> str:
    """First letters (闵行区 → mhq)."""
    return "".join(syllables(text, first_letter=True)).lower()


def forms(text: str) -> tuple[str, str]:
    """Full pinyin and initials of ``text``, what the home page's search matches
    (闵行 → minhang, mh)."""
    return full(text), initials(text)


@lru_cache(maxsize=1)
def version() -> str:
    """Identifies the reading table, for cached readings (with pypinyin's version)."""
    import hashlib

    data = TABLE.read_bytes() if TABLE.exists() else b""
    return hashlib.blake2b(data, digest_size=8).hexdigest()


# ---------------------------------------------------------------------------------------
# The review that makes placenames.tsv (not used by the build).

PINYIN_PRO_JS = (
    "const {pinyin}=require('pinyin-pro');"
    "const names=JSON.parse(require('fs').readFileSync(0,'utf8'));"
    "process.stdout.write(JSON.stringify(names.map(n=>pinyin(n,"
    "{toneType:'none',type:'array',v:true}))));")


def _plain(syllable: str) -> str:
    """A toned syllable of CC-CEDICT's data without its tone, ü as v."""
    import unicodedata

    text = unicodedata.normalize("NFD", syllable.lower()).replace("u\u0308", "v")
    return "".join(c for c in text if not unicodedata.combining(c))


def review(names: list[str], stems: dict[str, str], root: Path) -> dict:
    """Every name read by CC-CEDICT (pypinyin-dict) and pinyin-pro (node), compared and
    resolved. Returns the figures, the disagreements and the table's rows."""
    import json
    import subprocess

    from pypinyin import lazy_pinyin
    from pypinyin_dict.phrase_pinyin_data import cc_cedict

    texts = sorted(set(names) | set(stems.values()))
    default = {t: lazy_pinyin(t) for t in texts}
    out = subprocess.run(["node", "-e", PINYIN_PRO_JS], input=json.dumps(names),
                         capture_output=True, text=True, check=True, cwd=root)
    pro = {n: [s.replace("ü", "v") for s in r] for n, r in zip(names, json.loads(out.stdout))}
    entries = cc_cedict.phrases_dict

    def cedict_entry(text: str) -> list[str] | None:
        entry = entries.get(text)
        return [_plain(s[0]) for s in entry] if entry else None

    from pypinyin import load_phrases_dict
    load_phrases_dict(entries)   # this process only: pypinyin with CC-CEDICT's phrases

    final: dict[str, tuple[list[str], str]] = {}
    disagreements = []
    for name in names:
        stem = stems[name]
        exact = cedict_entry(name)
        if exact is None and cedict_entry(stem) and len(stem) < len(name):
            exact = cedict_entry(stem) + lazy_pinyin(name[len(stem):])
        a, b = exact or lazy_pinyin(name), pro[name]
        reviewed = next((s for s in REVIEWED if name.startswith(s)), None)
        if reviewed is not None:
            reading = REVIEWED[reviewed][0].split() + default[name][len(reviewed):]
            source = "reviewed"
        elif a == b:
            reading, source = a, AGREED_SOURCE
        elif exact:
            reading, source = a, CEDICT_SOURCE
        else:
            reading, source = None, "unresolved"
        if a != b:
            disagreements.append((name, " ".join(a), " ".join(b), source,
                                  " ".join(reading or [])))
        if reading is None:
            reading, source = default[name], "pypinyin"
        final[name] = (reading, source)
    conflicts = []
    for name in names:   # a stem reads as the start of its name
        stem, (reading, source) = stems[name], final[name]
        if stem == name:
            continue
        mine = (reading[:len(stem)], source)
        if stem in final and final[stem][0] != mine[0]:
            if stem not in names:
                conflicts.append((stem, " ".join(final[stem][0]), " ".join(mine[0])))
            continue
        final.setdefault(stem, mine)
    rows = sorted((t, " ".join(r), s) for t, (r, s) in final.items() if r != default[t])
    return {"names": len(names), "texts": len(texts), "disagreements": disagreements,
            "rows": rows, "conflicts": conflicts,
            "resolved": {s: sum(1 for d in disagreements if d[3] == s)
                         for s in sorted({d[3] for d in disagreements})}}


def write_table(rows: list[tuple[str, str, str]], note: str) -> None:
    lines = ["# Place-name readings that differ from pypinyin's, GENERATED by",
             "# `python -m erjian.editor.import_divisions review-readings --write` — see docs/divisions.md.",
             f"# {note}",
             "# name\treading\tsource"]
    lines += ["\t".join(row) for row in rows]
    TABLE.write_text("\n".join(lines) + "\n", encoding="utf-8")
    table.cache_clear()
