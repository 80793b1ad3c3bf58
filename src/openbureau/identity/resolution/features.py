"""Comparison features of identity descriptions, computed in memory from decrypted records.

Names meet on two forms (see docs/identity.md and ``normalise.py``): the simplified characters (or the
lower-case letters of a Latin name), which catch exact names and look-alike typos, and the tone-less
pinyin of surname and given name, sorted, which catches the same name written in pinyin, in traditional
characters, given name first, or with a same-sound character. Each normal form is computed once per
distinct value, not per record.
"""

from __future__ import annotations

import polars as pl

from openbureau.identity.resolution.normalise import (
    addresses,
    birth_dates,
    chinese_name_parts,
    name_frame,
    phone_digits,
)

ADDRESS_TAIL = 16  # characters: the street, compound and building-unit-room part, kept by shortened addresses


def pinyin(name: str) -> str:
    """The tone-less pinyin of a Chinese name: surname and given name, separated by a space.

    Example:
        >>> pinyin("张 伟")
        'zhang wei'
    """
    return " ".join(p for p in chinese_name_parts(name.replace(" ", "")) if p)


def features(descriptions: pl.DataFrame) -> pl.DataFrame:
    """Comparison columns of identity descriptions (``full_name``, ``birth_date``, ``phone``, ``address``).

    Returns the frame with ``name``, ``sur_py``, ``given_py``, ``name_key``, ``dob``, ``dob_t`` (day and
    month transposed), ``phone_n`` (the 11 national digits), ``addr`` and ``addr_tail``; other columns kept.
    """
    names = name_frame(descriptions["full_name"])
    distinct = descriptions["address"].unique().drop_nulls()
    places = pl.DataFrame({"address": distinct, "addr": addresses(distinct.rename("addr"))},
                          schema={"address": pl.String, "addr": pl.String})
    iso, transposed = birth_dates(pl.col("birth_date"))
    return (descriptions.join(names, on="full_name", how="left").join(places, on="address", how="left")
            .with_columns(iso.alias("dob"), transposed.alias("dob_t"), phone_digits(pl.col("phone")).alias("phone_n"),
                          pl.col("addr").str.slice(-ADDRESS_TAIL).alias("addr_tail")))
