"""Place names in their real pinyin.

pypinyin reads a name character by character (or by its general phrase dictionary), so
polyphonic place names come out wrong: 闵行 → minxing, 阿勒泰 → aleitai, 乌什 → wushen.
``placenames.tsv`` beside this module is the reviewed table of the names whose reading differs
from pypinyin's or from CHARACTER_RULES: one name (full name or name without its suffix) per
line with its syllables and where the reading comes from. ``syllables`` takes the longest
name of the table found at each position of a text and pypinyin only for the rest, with each
polyphonic character as CHARACTER_RULES reads it in place names (都 dū, not dōu), so the
build needs nothing but pypinyin, these rules and this small table.

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
    "麦盖提": ("mai gai ti", "Makit (Maigaiti) County; 盖 reads gě only as a surname"),
    "龙圩": ("long xu", "Longxu District: 圩 reads xū (a market) in Guangxi"),
    # Both sources agree but are wrong (found when every changed slug was read through):
    "万柏林": ("wan bai lin", "Wanbailin District; both sources read 柏林 as Berlin (bólín)"),
    # Names read as CHARACTER_RULES reads them although a source may say otherwise:
    "郫都": ("pi du", "Pidu District: 都 reads dū in place names"),
    "襄都": ("xiang du", "Xiangdu District: 都 reads dū in place names"),
    "信都": ("xin du", "Xindu District: 都 reads dū in place names"),
    "筠连": ("jun lian", "Junlian County: 筠 reads jūn in this name"),
    "康巴什": ("kang ba shi", "Kangbashi District: 什 reads shí in transliterations"),
    "民乐": ("min le", "Minle County: 乐 reads lè"),
    # Names whose reading differs from CHARACTER_RULES (the division's common romanization):
    "东阿": ("dong e", "Dong'e County: 阿 reads ē (阿胶)"),
    "乐亭": ("lao ting", "Laoting County"),
    "乐清": ("yue qing", "Yueqing City"),
    "六盘水": ("liu pan shui", "Liupanshui City; 六 reads lù only in a few old names"),
    "尉犁": ("yu li", "Yuli County"),
    "牟定": ("mou ding", "Mouding County"),
    "番禺": ("pan yu", "Panyu District"),
    "红寺堡": ("hong si bao", "Hongsibao District"),
    "荥阳": ("xing yang", "Xingyang City; 荥 reads yíng only in 荥经"),
    "长子": ("zhang zi", "Zhangzi County: 长 reads zhǎng in this name"),
    "黄埔": ("huang pu", "Huangpu District; 埔 reads bù in 大埔"),
}


# The reading each polyphonic character (one that pypinyin gives several readings) takes in
# a place name, grouped by syllable. Every such character of the divisions' names is here
# (tests/test_names.py checks it); a name read otherwise is in REVIEWED and the table, which
# ``syllables`` consults first. Decided by hand on 2026-12-04 from the divisions' common
# romanizations (editor's knowledge, not checked against a gazetteer): 都 is dū in a place
# name (a capital; dōu is the adverb), 筠 jūn (筠连 Junlian), 什 shí (康巴什 Kangbashi),
# 乐 lè (民乐 Minle).
CHARACTER_RULES = """
a 阿 | an 庵 | ang 昂 | ao 澳 | ba 霸鲅 | bai 柏白百 | bao 包 | beng 蚌 | bi 比泌濞 | bin 彬 | bo 伯泊波
bu 埔堡部 | cai 蔡 | cao 草 | ce 册 | cha 察查 | chai 柴 | chan 禅 | chang 厂长 | chao 朝 | che 车
chen 称郴 | cheng 呈承澄 | chi 池 | chong 重 | chun 淳 | ci 次 | cong 从 | cuo 措 | da 大达 | dan 儋 | dao 刀
de 得 | deng 灯登邓 | di 地坻底棣 | dian 甸 | diao 调 | die 迭 | ding 丁鼎 | dong 侗洞 | dou 斗 | du 度杜都
dui 堆 | dun 敦 | duo 掇 | er 儿 | fan 番繁 | fang 房方 | fei 妃肥 | fen 汾 | feng 封 | fo 佛
fu 扶涪附 | ga 噶 | gai 盖 | gan 干感甘 | gang 港 | gao 皋 | ge 个仡格革 | gong 共拱 | gu 古谷 | guan 灌莞
guang 广 | guo 果涡 | ha 哈 | hang 杭 | hao 浩 | he 合和菏赫 | heng 亨横 | hong 红虹 | hu 呼 | hua 化滑
huai 怀 | huang 湟潢皇 | hui 会 | hun 珲 | huo 霍 | ji 暨积稷 | jia 伽夹家贾迦 | jian 碱 | jiang 将
jiao 焦胶蕉 | jie 介揭解 | jing 景精 | ju 句居巨 | jue 觉 | jun 筠 | ka 卡喀 | ke 可 | ken 垦 | kun 昆
la 腊 | lan 蓝 | lao 佬 | le 乐勒 | leng 冷棱 | li 栗离立蠡 | lian 濂 | liao 聊 | ling 令零 | lu 六碌芦路陆鹿
luo 漯 | lv 绿 | mang 芒茫 | meng 盟 | mian 渑 | ming 明 | mo 墨末莫 | mu 牟 | na 那 | nai 乃 | nan 南
nao 淖 | nei 内 | nian 年 | ning 宁 | pan 潘 | peng 彭 | pi 陂 | ping 屏平 | po 鄱 | pu 莆蒲
qi 奇栖祁耆齐 | qian 乾前犍 | qiang 强 | qie 且茄 | qin 勤 | qing 箐青 | qu 区朐渠 | quan 圈 | ren 任
rong 容 | rui 芮 | ruo 若 | sai 塞 | se 色 | sha 沙莎 | shan 单汕 | shang 尚 | she 射歙涉 | shen 沈莘
sheng 圣嵊省胜 | shi 什峙市施氏石 | shu 墅熟舒 | si 寺思斯 | su 宿 | sui 睢 | ta 塔 | tai 台太 | tan 潭覃
tang 汤 | tao 桃洮陶 | ti 提 | ting 汀 | tong 峒桐潼 | tu 土涂 | tuan 团 | tun 屯 | tuo 拖脱陀 | wa 洼
wan 万宛 | wang 汪王 | wei 尉尾 | wen 汶温 | wo 斡 | wu 吴吾婺无梧 | xi 喜昔溪隰 | xia 厦夏 | xian 咸 | xin 信
xing 行邢 | xiu 休 | xu 圩许 | xue 穴 | xun 寻旬浚 | yan 彦炎烟焉研铅 | yang 央洋 | yao 姚 | ye 叶邺野
yi 沂猗眙邑 | yin 印殷 | ying 英荥 | you 游 | yu 于余蔚豫 | yuan 园苑 | yue 月越 | yun 匀 | za 杂 | zang 藏
zeng 增曾 | zha 扎札柞 | zhai 寨 | zhan 沾湛 | zhao 召招 | zhen 圳 | zhi 枝治至陟 | zhu 助祝 | zhuang 庄
zi 滋 | zong 枞 | zu 族足
"""


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


@lru_cache(maxsize=1)
def character_rules() -> dict[str, str]:
    """Polyphonic character → its syllable in place names, from CHARACTER_RULES."""
    rules: dict[str, str] = {}
    for group in CHARACTER_RULES.replace("\n", " | ").split("|"):
        if group.strip():
            reading, chars = group.split()
            rules.update(dict.fromkeys(chars, reading))
    return rules


def _by_rule(text: str, read: list[str], first_letter: bool) -> list[str]:
    """pypinyin's reading ``read`` of ``text`` with each polyphonic character as
    CHARACTER_RULES reads it (where pypinyin gave one item per character)."""
    if len(read) != len(text):
        return read
    rules = character_rules()
    out = []
    for char, syllable in zip(text, read):
        rule = rules.get(char)
        out.append(syllable if rule is None else rule[0] if first_letter else rule)
    return out


def syllables(text: str, errors=None, first_letter: bool = False) -> list[str]:
    """The pinyin of ``text`` (lowercase, no tones, ü as v as pypinyin writes it): names of
    the table by longest match, everything else through pypinyin's ``lazy_pinyin`` with
    polyphonic characters as CHARACTER_RULES reads them."""
    from pypinyin import Style, lazy_pinyin as plain

    def lazy_pinyin(part: str, **kwargs) -> list[str]:
        return _by_rule(part, plain(part, **kwargs), first_letter)

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
    data += CHARACTER_RULES.encode("utf-8")
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
    ruled = {t: _by_rule(t, default[t], False) for t in texts}
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
            reading = REVIEWED[reviewed][0].split() + ruled[name][len(reviewed):]
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
    rows = sorted((t, " ".join(r), s) for t, (r, s) in final.items()
                  if r != default[t] or r != ruled[t])
    return {"names": len(names), "texts": len(texts), "disagreements": disagreements,
            "rows": rows, "conflicts": conflicts,
            "resolved": {s: sum(1 for d in disagreements if d[3] == s)
                         for s in sorted({d[3] for d in disagreements})}}


def write_table(rows: list[tuple[str, str, str]], note: str) -> None:
    lines = ["# Place-name readings that differ from pypinyin's or CHARACTER_RULES', GENERATED by",
             "# `python -m erjian.editor.import_divisions review-readings --write` — see docs/divisions.md.",
             f"# {note}",
             "# name\treading\tsource"]
    lines += ["\t".join(row) for row in rows]
    TABLE.write_text("\n".join(lines) + "\n", encoding="utf-8")
    table.cache_clear()
