"""The funders' exposure to each facilitator's loans (standard v1.1, joint lending) for the regulator's market
statistics: per funder and facilitator, the loans, their balance, the funder's share of it (balance x share) and
how much of that share is past due. Pure Polars over ``accounts.funding_repository.EXPOSURE_SCHEMA`` rows.

A loan is (facilitator, the facilitator's account number): the facilitator is a record's ``facilitator_id``, or
its furnisher when the record names none (a platform reporting its own loan). When the facilitator's record and a
funder's record of the same loan both list funders, the facilitator's is used, so no loan counts twice.
Cells about fewer than k persons are suppressed like every other market cell (``market.suppress``).
"""

from __future__ import annotations

import polars as pl

from openbureau.quality.market import suppress

COLUMNS = {"funder": pl.String, "facilitator": pl.String, "loans": pl.Int64, "persons": pl.Int64,
           "balance": pl.Int64, "funded_balance": pl.Int64, "past_due_funded_balance": pl.Int64,
           "past_due_share": pl.Float64, "suppressed": pl.Boolean}
FIGURES = ("loans", "persons", "balance", "funded_balance", "past_due_funded_balance", "past_due_share")


def funder_exposure(rows: pl.DataFrame, members: pl.DataFrame, *, k: int, include_held: bool = False
                    ) -> pl.DataFrame:
    """Exposure of each funder to each facilitator's loans (``COLUMNS``), small cells suppressed.

    ``rows``: one row per funder of a record of the period; ``members``: ``furnisher_id, furnisher`` codes.
    Past due: the loan's newest record of the period reports days past due.

    Example: a 1,000,000 balance funded 70% by BANK, 15 days past due, gives BANK funded_balance 700,000 and
    past_due_share 1.0 against its facilitator.
    """
    if not include_held:
        rows = rows.filter(pl.col("held") == 0)
    own = pl.col("facilitator_id").is_null() | (pl.col("facilitator_id") == pl.col("furnisher_id"))
    loans = rows.with_columns(
        pl.when(own).then(pl.col("furnisher_id")).otherwise(pl.col("facilitator_id")).alias("_facilitator"),
        pl.when(own).then(pl.col("furnisher_account_id")).otherwise(pl.col("facilitator_account_id")).alias("_loan"),
        (~own).cast(pl.Int8).alias("_second"),
    ).sort("_second").unique(["_facilitator", "_loan", "funder_id"], keep="first").with_columns(
        (pl.col("balance") * pl.col("share_bp") // 10_000).alias("_funded"))
    cells = loans.group_by("funder_id", "_facilitator").agg(
        pl.col("_loan").n_unique().alias("loans"), pl.col("person_id").n_unique().alias("persons"),
        pl.col("balance").sum().alias("balance"), pl.col("_funded").sum().alias("funded_balance"),
        pl.col("_funded").filter(pl.col("days_past_due") > 0).sum().alias("past_due_funded_balance"))
    codes = members.select("furnisher_id", "furnisher")
    cells = (cells.join(codes.rename({"furnisher_id": "funder_id", "furnisher": "funder"}), on="funder_id", how="left")
             .join(codes.rename({"furnisher_id": "_facilitator", "furnisher": "facilitator"}), on="_facilitator",
                   how="left")
             .with_columns(pl.when(pl.col("funded_balance") > 0)
                           .then(pl.col("past_due_funded_balance") / pl.col("funded_balance")).alias("past_due_share")))
    return suppress(cells, k=k, columns=FIGURES).select(list(COLUMNS)).cast(COLUMNS).sort("funder", "facilitator")
