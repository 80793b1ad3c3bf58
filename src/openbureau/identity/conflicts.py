"""Identity conflicts: contradicting descriptions of a person, charged to the furnisher that sent them.

Detected on decrypted records in memory, every resolution run, and stored without clear identifiers:

* ``birth_date_mismatch``: a record's birth date differs from the one in the person's resident ID
  (GB 11643-1999 digits 7-14).
* ``name_mismatch``: a furnisher names the person differently (the characters, in simplified form,
  ignoring spaces and order: 張偉 and 伟张 name 张伟 alike) from the name most furnishers use. Names written
  in Latin letters (a passport's) take no part: they are another script, not another name.
* ``name_typo``: the same, but the furnisher's name is another name lenders use for the person with one
  character replaced (张玮 for 张伟: a look-alike or same-sound character typed by mistake). A slip of the furnisher's
  data entry, charged to it like the others, and no sign that the person is someone else (the fraud
  signals read ``name_mismatch`` only).
* ``shared_phone``: one phone number is given for ``SHARED_PHONE_MIN`` or more persons.
* ``many_phones``: ``MANY_PHONES_MIN`` or more numbers first seen for one person within
  ``MANY_PHONES_MONTHS`` months.
"""

from __future__ import annotations

from collections import Counter

import polars as pl

from openbureau.identity.resolution.normalise import name_frame
from openbureau.kit.crypto import PiiVault

SHARED_PHONE_MIN = 3
MANY_PHONES_MIN = 3
MANY_PHONES_MONTHS = 6
_KEY = ["kind", "person_id", "furnisher_id"]


def id_birth_dates(anchors: list[tuple[int, bytes]], vault: PiiVault) -> pl.DataFrame:
    """``person_id`` and ``id_birth_date`` (ISO) read from each resident ID."""
    ids = [vault.decrypt(token) for _, token in anchors]
    return pl.DataFrame({"person_id": [p for p, _ in anchors], "id": ids},
                        schema={"person_id": pl.Int64, "id": pl.String}).select(
        "person_id", pl.format("{}-{}-{}", pl.col("id").str.slice(6, 4), pl.col("id").str.slice(10, 2),
                               pl.col("id").str.slice(12, 2)).alias("id_birth_date"))


def detect(records: pl.DataFrame, *, birth_dates: pl.DataFrame, vault: PiiVault,
           names: pl.DataFrame | None = None) -> list[dict]:
    """Conflict rows (``kind``, ``person_id``, ``furnisher_id``, ``evidence``) found in ``records``.

    Args:
        records: ``person_id`` (the surviving person), ``furnisher_id``, ``period``, ``full_name``,
            ``birth_date``, ``phone`` in clear (in memory only).
        birth_dates: from :func:`id_birth_dates`.
        vault: keys the digest that names a shared phone in the evidence.
        names: ``full_name`` → normal ``name`` of every name (``normalise.name_frame``), when already known.
    """
    names = name_frame(records["full_name"]) if names is None else names
    keys = names.select("full_name", pl.when(pl.col("name").str.contains(r"[\u3400-\u9fff]"))
                                                   .then(pl.col("name").str.split("").list.sort().list.join(""))
                                                   .alias("name_key"))
    frame = records.join(keys, on="full_name", how="left").with_columns(
        pl.col("name_key").fill_null(""),
        pl.col("phone").str.replace_all(r"\D", "").str.slice(-11).alias("phone_n"),
        (pl.col("period").str.slice(0, 4).cast(pl.Int32) * 12 + pl.col("period").str.slice(5, 2).cast(pl.Int32))
        .alias("month"),
    )
    found = [_birth_dates(frame, birth_dates), _names(frame), _shared_phones(frame, vault), _many_phones(frame)]
    found = [f for f in found if f.height]
    if not found:
        return []
    out = pl.concat(found)
    out = out.unique(_KEY, keep="first", maintain_order=True)
    return out.select(_KEY + ["evidence"]).to_dicts()


def _per_furnisher(frame: pl.DataFrame, kind: str, **extra: pl.Expr) -> pl.DataFrame:
    return frame.group_by("person_id", "furnisher_id").agg(
        pl.len().alias("records"), pl.col("period").min().alias("first_period"),
        pl.col("period").max().alias("last_period"), *[e.alias(k) for k, e in extra.items()],
    ).select(pl.lit(kind).alias("kind"), "person_id", "furnisher_id",
             pl.struct(pl.exclude("person_id", "furnisher_id")).struct.json_encode().alias("evidence")
             ).sort("person_id", "furnisher_id")


def _birth_dates(frame: pl.DataFrame, birth_dates: pl.DataFrame) -> pl.DataFrame:
    wrong = frame.join(birth_dates, on="person_id").filter(
        pl.col("birth_date").is_not_null() & (pl.col("birth_date") != pl.col("id_birth_date")))
    return _per_furnisher(wrong, "birth_date_mismatch")


def _names(frame: pl.DataFrame) -> pl.DataFrame:
    used = frame.filter(pl.col("name_key") != "").group_by("person_id", "furnisher_id").agg(
        pl.col("name_key").mode().first())
    votes = used.group_by("person_id", "name_key").agg(pl.len().alias("votes"))
    per_person = votes.group_by("person_id").agg(pl.len().alias("names"), pl.col("votes").max().alias("top"),
                                                 (pl.col("votes") == pl.col("votes").max()).sum().alias("tied"))
    odd = (used.join(votes, on=["person_id", "name_key"]).join(per_person, on="person_id")
           .filter((pl.col("names") > 1) & ((pl.col("votes") < pl.col("top")) | (pl.col("tied") > 1))))
    # A typo is one character away from another name lenders use for the person (two lenders that each
    # name the person once, one of them with a slip, tie: either may be the slip, and it is one all the same).
    others = votes.group_by("person_id").agg(pl.col("name_key").alias("keys"))
    odd = odd.join(others, on="person_id").with_columns(
        pl.struct("name_key", "keys").map_elements(
            lambda r: any(_one_character_apart(r["name_key"], k) for k in r["keys"] if k != r["name_key"]),
            return_dtype=pl.Boolean).alias("typo"))
    found = [_per_furnisher(frame.join(odd.filter(pl.col("typo") == typo).select("person_id", "furnisher_id", "names"),
                                       on=["person_id", "furnisher_id"]), kind, names=pl.col("names").first())
             for typo, kind in ((False, "name_mismatch"), (True, "name_typo"))]
    return pl.concat(found)


def _one_character_apart(key: str, other: str) -> bool:
    """Whether two name keys (a name's characters, sorted) differ in one character replaced by another."""
    return len(key) == len(other) and sum((Counter(key) - Counter(other)).values()) == 1


def _shared_phones(frame: pl.DataFrame, vault: PiiVault) -> pl.DataFrame:
    phones = frame.filter(pl.col("phone_n").str.len_chars() >= 7)
    shared = phones.group_by("phone_n").agg(pl.col("person_id").n_unique().alias("persons")).filter(
        pl.col("persons") >= SHARED_PHONE_MIN)
    if shared.height == 0:
        return pl.DataFrame()
    digests = [vault.blind_index(p, domain="conflict.phone").hex()[:16] for p in shared["phone_n"].to_list()]
    shared = shared.with_columns(pl.Series("phone_digest", digests))
    hit = phones.join(shared, on="phone_n")
    return _per_furnisher(hit, "shared_phone", persons=pl.col("persons").max(),
                          phone_digest=pl.col("phone_digest").first())


def _many_phones(frame: pl.DataFrame) -> pl.DataFrame:
    first = (frame.filter(pl.col("phone_n").str.len_chars() >= 7).sort("month")
             .group_by("person_id", "phone_n", maintain_order=True).agg(pl.col("month").first(),
                                                                         pl.col("furnisher_id").first())
             .sort("person_id", "month"))
    lag = MANY_PHONES_MIN - 1
    window = first.with_columns(
        (pl.col("month") - pl.col("month").shift(lag).over("person_id")).alias("span")
    ).filter(pl.col("span") < MANY_PHONES_MONTHS)
    if window.height == 0:
        return pl.DataFrame()
    hit = frame.join(window.select("person_id", "furnisher_id").unique(), on=["person_id", "furnisher_id"])
    return _per_furnisher(hit, "many_phones", phones=pl.lit(MANY_PHONES_MIN))
