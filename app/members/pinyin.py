"""Pinyin keys for name lookup: initials (张三 → zs) and full pinyin (zhangsan).

pypinyin reads heteronym surnames with their common-word reading (单 → dan); a surname is read with its surname
reading instead (单 shan, 曾 zeng, 解 xie, 仇 qiu, 朴 piao, 区 ou, 查 zha, 盖 ge…). Single characters are cached,
which makes a million names take seconds instead of the 16–25 s pypinyin needs on whole names.
"""

from __future__ import annotations

import re
from functools import lru_cache

_TOKEN = re.compile(r"[A-Za-z0-9]+|[^\sA-Za-z0-9·.]")

SURNAME_READINGS: dict[str, str] = {
    "单": "shan",
    "曾": "zeng",
    "解": "xie",
    "仇": "qiu",
    "朴": "piao",
    "区": "ou",
    "查": "zha",
    "盖": "ge",
    "覃": "qin",
    "缪": "miao",
    "翟": "zhai",
    "乐": "yue",
    "尉": "yu",
    "秘": "bi",
    "召": "shao",
    "种": "chong",
    "繁": "po",
    "员": "yun",
    "長": "zhang",
    "任": "ren",
    "纪": "ji",
    "华": "hua",
    "燕": "yan",
    "相": "xiang",
    "万": "wan",
    "沈": "shen",
    "石": "shi",
    "柏": "bai",
    "藏": "zang",
    "阚": "kan",
    "薄": "bo",
    "都": "du",
    "谌": "chen",
    "訾": "zi",
    "郇": "huan",
    "隗": "wei",
    "句": "gou",
    "宓": "mi",
    "冼": "xian",
    "洗": "xian",
    "黑": "he",
    "过": "guo",
    "蕃": "pi",
}
COMPOUND_SURNAMES: dict[str, tuple[str, str]] = {
    "欧阳": ("ou", "yang"),
    "司马": ("si", "ma"),
    "上官": ("shang", "guan"),
    "诸葛": ("zhu", "ge"),
    "尉迟": ("yu", "chi"),
    "长孙": ("zhang", "sun"),
    "令狐": ("ling", "hu"),
    "皇甫": ("huang", "fu"),
    "慕容": ("mu", "rong"),
    "司徒": ("si", "tu"),
    "东方": ("dong", "fang"),
    "夏侯": ("xia", "hou"),
    "公孙": ("gong", "sun"),
    "宇文": ("yu", "wen"),
    "澹台": ("tan", "tai"),
    "万俟": ("mo", "qi"),
}


@lru_cache(maxsize=65536)
def _char_reading(ch: str) -> str:
    if ch.isascii():
        return ch.lower()
    from pypinyin import Style, lazy_pinyin

    reading = lazy_pinyin(ch, style=Style.NORMAL, errors="ignore", v_to_u=False)
    return reading[0].lower() if reading else ""


def name_readings(name: str) -> list[str]:
    name = (name or "").strip()
    compound = COMPOUND_SURNAMES.get(name[:2])
    if compound is not None:
        return [*compound, *(_char_reading(c) for c in name[2:])]
    tokens = _TOKEN.findall(name)
    if not tokens:
        return []
    head = SURNAME_READINGS.get(tokens[0]) or _char_reading(tokens[0])
    return [head, *(_char_reading(t) for t in tokens[1:])]


INITIALS_MAX = 40
FULL_MAX = 100


@lru_cache(maxsize=200_000)
def pinyin_keys(name: str) -> tuple[str, str]:
    """(initials, full) for a name; ASCII names give their letters. Both lower case, no spaces, cut to their
    columns' widths (a 40-character name reads to as many as 240 letters; a prefix search never needs them all)."""
    readings = [r for r in name_readings(name) if r]
    return "".join(r[0] for r in readings)[:INITIALS_MAX], "".join(readings)[:FULL_MAX]
