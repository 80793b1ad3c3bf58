"""Rules that compare a record with what the bureau already stores for the same account and period.

- ``ORIGINAL_ALREADY_STORED`` (error): an original record (correction = 0) for an account and period that
  is stored already; a furnisher changes stored data only with a replacement (correction = 1).
- ``CORRECTION_WITHOUT_ORIGINAL`` (warning): a replacement for an account and period the bureau has never
  stored; it is stored as the first version.
- ``ERASED_RECORD`` (error): a record (original or replacement) for an account and period the person had
  erased (``people.erasure``: the suppression list); it is never stored again.
A replacement is stored as a new version (stored version + 1); earlier versions are kept.
"""

from __future__ import annotations

import polars as pl

STORED_RULES = {
    "ORIGINAL_ALREADY_STORED": (
        "error",
        "an original record (correction 0) for an account and period already stored; send correction 1 "
        "to replace it",
    ),
    "CORRECTION_WITHOUT_ORIGINAL": (
        "warning",
        "a replacement (correction 1) for an account and period never stored; stored as its first version",
    ),
    "ERASED_RECORD": (
        "error",
        "a record for an account and period the person had erased; it is never stored again",
    ),
}


def check_against_stored(records: pl.DataFrame, *, versions: pl.DataFrame, erased: pl.DataFrame | None = None
                         ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Give each record its version and findings against stored data.

    Args:
        records: validated records with ``_outcome``.
        versions: (``furnisher_account_id``, ``reporting_period``, ``stored_version``) already stored.
        erased: (``furnisher_account_id``, ``reporting_period``) the persons had erased (none if omitted).
    Returns:
        The records with ``version`` and updated ``_outcome``, and the new findings.
    """
    keys = ["furnisher_account_id", "reporting_period"]
    joined = records.join(versions.select(*keys, "stored_version"), on=keys, how="left", maintain_order="left")
    live = pl.col("_outcome") != "rejected"
    if erased is not None and erased.height:
        joined = joined.join(erased.select(*keys).unique().with_columns(pl.lit(True).alias("_erased")), on=keys,
                             how="left", maintain_order="left")
        joined = joined.with_columns((live & pl.col("_erased").fill_null(False)).alias("_erased"))
    else:
        joined = joined.with_columns(pl.lit(False).alias("_erased"))
    live = live & ~pl.col("_erased")
    stored = pl.col("stored_version").is_not_null()
    joined = joined.with_columns(
        (live & stored & (pl.col("correction") == 0)).alias("_dup"),
        (live & ~stored & (pl.col("correction") == 1)).alias("_orphan"),
    )
    findings = pl.concat([
        _findings(joined.filter("_erased"), "ERASED_RECORD", "the person had account {account} erased for "
                  "{period}; it is not stored again"),
        _findings(joined.filter("_dup"), "ORIGINAL_ALREADY_STORED", "the account {account} is already stored "
                  "for {period}; send it with correction 1 to replace it"),
        _findings(joined.filter("_orphan"), "CORRECTION_WITHOUT_ORIGINAL", "no stored record of account "
                  "{account} for {period} to replace; stored as the first version"),
    ])
    out = joined.with_columns(
        (pl.col("stored_version").fill_null(0) + 1).cast(pl.Int16).alias("version"),
        pl.when(pl.col("_dup") | pl.col("_erased")).then(pl.lit("rejected"))
        .when(pl.col("_orphan") & (pl.col("_outcome") == "accepted")).then(pl.lit("warning"))
        .otherwise(pl.col("_outcome")).alias("_outcome"),
    ).drop("stored_version", "_dup", "_orphan", "_erased")
    return out, findings


def _findings(rows: pl.DataFrame, code: str, template: str) -> pl.DataFrame:
    severity = STORED_RULES[code][0]
    message = pl.format(
        template.replace("{account}", "{}").replace("{period}", "{}"),
        pl.col("furnisher_account_id"), pl.col("reporting_period"),
    )
    return rows.select(
        pl.col("_line").alias("line"),
        "furnisher_account_id",
        pl.lit("correction").alias("field"),
        pl.lit(code).alias("code"),
        pl.lit(severity).alias("severity"),
        pl.col("correction").cast(pl.String).alias("value"),
        message.alias("message"),
    )
