"""Comparison features of identity descriptions, computed in memory from decrypted records.

Chinese names are compared on two forms (see docs/identity.md): the characters with spaces removed, which
catch exact names and look-alike typos (one character differs), and the tone-less pinyin, which catches
same-sound substitutions (伟/玮 → wei, 张/章 → zhang) that differ in characters. Both forms are also
sorted, so a name written given name first matches its surname-first form.
"""

from __future__ import annotations

from functools import lru_cache

import polars as pl
from pypinyin import Style, lazy_pinyin

ADDRESS_TAIL = 18  # characters: the street, building and room part, kept by shortened addresses


@lru_cache(maxsize=200_000)
def pinyin(name: str) -> str:
    """The tone-less pinyin of a name, syllables separated by spaces.

    Example:
        >>> pinyin("张 伟")
        'zhang wei'
    """
    return " ".join(s for s in lazy_pinyin(name.replace(" ", ""), style=Style.NORMAL) if s.strip())


def _sorted_chars(expr: pl.Expr) -> pl.Expr:
    return expr.str.split("").list.sort().list.join("")


def features(descriptions: pl.DataFrame) -> pl.DataFrame:
    """Comparison columns of identity descriptions (``full_name``, ``birth_date``, ``phone``, ``address``).

    Returns the frame with ``name``, ``name_sorted``, ``name_py``, ``name_py_sorted``, ``dob``, ``phone_n``
    (the 11 national digits), ``addr`` and ``addr_tail``; other columns are kept.
    """
    name = pl.col("full_name").str.replace_all(r"\s+", "")
    frame = descriptions.with_columns(
        name.alias("name"),
        pl.col("birth_date").cast(pl.String).alias("dob"),
        pl.col("phone").str.replace_all(r"\D", "").str.slice(-11).alias("phone_n"),
        pl.col("address").str.replace_all(r"\s+", "").alias("addr"),
    ).with_columns(
        pl.when(pl.col("name") == "").then(None).otherwise(pl.col("name")).alias("name"),
        pl.when(pl.col("phone_n").str.len_chars() < 7).then(None).otherwise(pl.col("phone_n")).alias("phone_n"),
        pl.when(pl.col("addr") == "").then(None).otherwise(pl.col("addr")).alias("addr"),
    )
    names = frame["name"].drop_nulls().unique()
    mapping = pl.DataFrame({"name": names, "name_py": [pinyin(n) for n in names.to_list()]},
                           schema={"name": pl.String, "name_py": pl.String})
    return frame.join(mapping, on="name", how="left").with_columns(
        _sorted_chars(pl.col("name")).alias("name_sorted"),
        pl.col("name_py").str.split(" ").list.sort().list.join(" ").alias("name_py_sorted"),
        pl.col("addr").str.slice(-ADDRESS_TAIL).alias("addr_tail"),
    )
