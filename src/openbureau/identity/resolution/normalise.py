"""Normal forms of names, birth dates, phones and addresses as furnishers and foreign systems write them.

* **Traditional characters** (Hong Kong, Taiwan, Macau, older systems) are converted to simplified with
  OpenCC's ``t2s`` table, character by character: only strings holding a traditional character are
  converted (a regular expression finds them), which keeps the cost off the common case.
* **Names in Latin letters** (passports, foreign systems): ICAO 9303 passports write a Chinese name in
  Hanyu Pinyin, surname first and in capitals (``ZHANG WEIMING``); foreign systems often put the given
  name first (``Weiming Zhang``). A Latin name is split into surname and given name by, in order: a comma
  (``Zhang, Weiming``), the token written all in capitals, the token that is a surname's pinyin among the
  Chinese names of the same run, the first token. A Chinese name's surname is its first character, or
  its first two for the compound surnames below (欧阳, 司马, ...). Both scripts then meet on the tone-less
  pinyin of surname and given name (``zhang`` + ``weiming``), which is also what a same-sound typo gives.
* **Wade-Giles and Hong Kong spellings** (``CHANG Chih-ming``, ``CHAN Tai Man``): read back to the pinyin
  of the one Chinese name of the run they spell (``romanise.py``); a spelling of two names stays as written.
* **Birth dates with day and month transposed** (a ``MM/DD`` system read as ``DD/MM``): the transposed
  date is kept beside the date, when both day and month are 12 or less and differ.
* **Phones**: the 11 national digits, after the ``+86``/``0086``/``86`` country prefix (ITU-T E.164) and
  every separator are removed.
* **Addresses**: simplified characters, without the province and the word 市 after the city, and
  building, unit and room written ``3-2-1203`` however the furnisher wrote them (``3栋2单元1203室``,
  ``3幢2单元1203``, ``3号楼2单元1203室``).
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

import polars as pl

from openbureau.identity.resolution.romanise import LATIN_TOKEN, read_back

COMPOUND_SURNAMES = frozenset({
    "欧阳", "司马", "诸葛", "上官", "司徒", "皇甫", "令狐", "慕容", "东方", "夏侯", "尉迟", "公孙", "长孙",
    "宇文", "轩辕", "端木", "独孤", "南宫", "西门", "澹台", "万俟", "闻人", "申屠", "太史", "呼延",
})
# Surnames read otherwise than their character's most common reading (GB/T 28039-2011 writes a name in
# its reading as a name: 曾 Zeng, not ceng); pypinyin's default reading would miss the passport's spelling.
SURNAME_READINGS = {"曾": "zeng", "覃": "qin", "单": "shan", "仇": "qiu", "解": "xie", "区": "ou", "查": "zha",
                    "朴": "piao", "盖": "ge", "缪": "miao", "乐": "yue", "翟": "zhai", "召": "shao", "员": "yun",
                    "秘": "bi", "种": "chong", "长孙": "zhangsun", "尉迟": "yuchi", "万俟": "moqi", "黑": "he",
                    "句": "gou", "难": "ning", "繁": "po", "能": "nai", "尉": "yu", "宓": "mi", "阚": "kan"}
_CJK = r"[\u3400-\u9fff]"


@cache
def _traditional() -> tuple[str, dict[str, str]]:
    """A regular expression matching any traditional character, and the character table, from OpenCC."""
    import opencc

    converter = opencc.OpenCC("t2s")
    chars = [chr(c) for c in range(0x4E00, 0xA000)]
    table = {c: s for c, s in zip(chars, (converter.convert(c) for c in chars), strict=True)
             if s != c and len(s) == 1}
    return "[" + "".join(table) + "]", table


def simplified(texts: pl.Series) -> pl.Series:
    """Simplified characters of a text column; only rows holding a traditional character are converted."""
    pattern, table = _traditional()
    found = texts.str.contains(pattern).fill_null(False)
    if not found.any():
        return texts
    values = texts.to_list()
    for i in found.arg_true().to_list():
        values[i] = "".join(table.get(c, c) for c in values[i])
    return pl.Series(texts.name, values, dtype=pl.String)


def to_simplified(text: str) -> str:
    """Simplified characters of one string.

    Example:
        >>> to_simplified("張偉")
        '张伟'
    """
    _, table = _traditional()
    return "".join(table.get(c, c) for c in text)


@lru_cache(maxsize=400_000)
def chinese_name_parts(name: str) -> tuple[str, str]:
    """Tone-less pinyin of a Chinese name's surname and given name (simplified characters, no spaces).

    Example:
        >>> chinese_name_parts("欧阳娜娜")
        ('ouyang', 'nana')
    """
    # pypinyin's dictionaries take 0.3 s to import: only processes that read a name pay it.
    from pypinyin import Style, lazy_pinyin

    cut = 2 if name[:2] in COMPOUND_SURNAMES else 1
    syllables = lazy_pinyin(name, style=Style.NORMAL, errors="ignore")
    if len(syllables) != len(name):  # a character without a reading: keep the name whole
        return "".join(syllables), ""
    surname = SURNAME_READINGS.get(name[:cut]) or "".join(syllables[:cut])
    return surname, "".join(syllables[cut:])


@lru_cache(maxsize=400_000)
def name_syllables(name: str) -> str:
    """The pinyin syllables of a Chinese name sorted, whatever the order its parts were written in.

    Example:
        >>> name_syllables("杰波王") == name_syllables("王杰波")
        True
    """
    from pypinyin import Style, lazy_pinyin

    return " ".join(sorted(lazy_pinyin(name, style=Style.NORMAL, errors="ignore")))


def latin_name_parts(text: str, surnames: frozenset[str]) -> tuple[str, str]:
    """Surname and given name (lower case, no separators) of a name written in Latin letters.

    Args:
        text: The name as written, e.g. ``"ZHANG Weiming"``, ``"Weiming Zhang"``, ``"Zhang, Wei-Ming"``.
        surnames: Surnames' pinyin known from Chinese names, to tell which token is the surname.

    Example:
        >>> latin_name_parts("Weiming ZHANG", frozenset())
        ('zhang', 'weiming')
    """
    tokens = LATIN_TOKEN.findall(text.replace("ü", "v").replace("Ü", "V"))
    if not tokens:
        return "", ""
    # ü is written u:, v, yu (passports since 2012: LYU) or ü; pypinyin writes v.
    clean = [re.sub(r"^([ln])(yu|u:|ü)", r"\1v", re.sub(r"[-'’]", "", t).lower()) for t in tokens]
    if len(tokens) == 1:
        return clean[0], ""
    if "," in text:
        at = 0
    else:
        capitals = [i for i, t in enumerate(tokens) if t.isupper() and len(t) > 1]
        known = [i for i, t in enumerate(clean) if t in surnames]
        mixed = any(not t.isupper() for t in tokens)
        if mixed and len(capitals) == 1:
            at = capitals[0]
        elif len(known) == 1:
            at = known[0]
        elif len(known) > 1 and known[-1] == len(clean) - 1 and 0 not in known:
            at = known[-1]
        else:
            at = 0
    return clean[at], "".join(c for i, c in enumerate(clean) if i != at)


def name_frame(names: pl.Series) -> pl.DataFrame:
    """Normal forms of distinct names: ``full_name`` (as given), ``name``, ``sur_py``, ``given_py``, ``name_key``,
    ``name_syl``.

    ``name`` is the simplified characters without spaces (Chinese) or the lower-case letters (Latin);
    ``name_key`` is surname and given-name pinyin sorted, so the order a name was written in does not matter;
    ``name_syl`` (Chinese names only) is every syllable sorted, for a given name written first (杰波王).
    """
    frame = pl.DataFrame({"full_name": names.unique().drop_nulls()}, schema={"full_name": pl.String})
    frame = frame.with_columns(simplified(frame["full_name"].str.replace_all(r"\s+", "")).alias("_chars"))
    chinese = frame["_chars"].str.contains(_CJK).to_list()
    chars, given = frame["_chars"].to_list(), frame["full_name"].to_list()
    parts: list[tuple[str, str]] = [("", "")] * frame.height
    syllables: list[str | None] = [None] * frame.height
    for i, (is_cjk, c) in enumerate(zip(chinese, chars, strict=True)):
        if is_cjk:
            parts[i] = chinese_name_parts(c)
            syllables[i] = name_syllables(c)
    surnames = frozenset(p[0] for p, cjk in zip(parts, chinese, strict=True) if cjk and p[0])
    for i, is_cjk in enumerate(chinese):
        if not is_cjk:
            parts[i] = latin_name_parts(given[i], surnames)
    # Wade-Giles (Taiwan) and Hong Kong Cantonese spellings of the run's Chinese names (romanise.py).
    latin = [(i, given[i]) for i, is_cjk in enumerate(chinese) if not is_cjk]
    if latin:
        named = [(c, 2 if c[:2] in COMPOUND_SURNAMES else 1, p)
                 for c, p, is_cjk in zip(chars, parts, chinese, strict=True) if is_cjk and p[1]]
        for row, found in read_back(latin, named, {f"{s} {g}" for _, _, (s, g) in named}).items():
            parts[row] = found
    latin_name = [sur + giv for sur, giv in parts]
    return frame.with_columns(
        pl.Series("sur_py", [p[0] for p in parts], dtype=pl.String),
        pl.Series("given_py", [p[1] for p in parts], dtype=pl.String),
        pl.Series("_latin", latin_name, dtype=pl.String),
        pl.Series("_cjk", chinese, dtype=pl.Boolean),
        pl.Series("name_syl", syllables, dtype=pl.String),
    ).with_columns(
        pl.when(pl.col("_cjk")).then(pl.col("_chars")).otherwise(pl.col("_latin")).alias("name"),
        pl.concat_list("sur_py", "given_py").list.sort().list.join(" ").str.strip_chars().alias("name_key"),
    ).with_columns(
        *[pl.when(pl.col(c) == "").then(None).otherwise(pl.col(c)).alias(c)
          for c in ("name", "sur_py", "given_py", "name_key")],
    ).drop("_chars", "_latin", "_cjk")


def phone_digits(expr: pl.Expr) -> pl.Expr:
    """The 11 national digits of a mobile number, or null when fewer than 7 digits are left."""
    digits = expr.str.replace_all(r"\D", "").str.replace(r"^(0086|86)(\d{11})$", "$2").str.slice(-11)
    return pl.when(digits.str.len_chars() < 7).then(None).otherwise(digits)


def birth_dates(expr: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """The ISO birth date and its day-month transposition (null when it cannot be one)."""
    iso = expr.cast(pl.String).str.slice(0, 10)
    month, day = iso.str.slice(5, 2), iso.str.slice(8, 2)
    swappable = (day.cast(pl.Int32, strict=False) <= 12) & (day != month)
    return iso, pl.when(swappable).then(pl.concat_str([iso.str.slice(0, 5), day, pl.lit("-"), month]))


def addresses(texts: pl.Series) -> pl.Series:
    """Addresses in simplified characters without province, 市, spaces, with building-unit-room as 3-2-1203."""
    text = pl.col("a")
    text = (text.str.replace(r"^[^省]{2,3}省", "").str.replace(r"^[^区]{2,7}自治区", "")
            .str.replace(r"^([^市]{2,4})市", "$1")
            .str.replace_all(r"(\d+)(栋|幢|号楼|座)", "$1-").str.replace_all(r"(\d+)单元", "$1-")
            .str.replace_all(r"(\d+)室", "$1"))
    frame = pl.DataFrame({"a": simplified(texts.str.replace_all(r"[\s,，、]+", ""))})
    return frame.select(pl.when(text == "").then(None).otherwise(text).alias(texts.name)).to_series()
