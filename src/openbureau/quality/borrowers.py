"""Market statistics by who borrows (standard v1.1): persons, sole traders and enterprises.

Counts and balances of the live accounts of ``period`` (open or charged off, newest version) for each borrower
type: persons' own loans and sole traders' business loans from ``account_states`` (a sole trader's is the
owner's, told apart by its business link), enterprises' from ``enterprise_states``. A row about fewer than
``k`` borrowers is blanked like the other market cells: for persons and sole traders the borrowers are
persons; for enterprises they are firms, whose figures are commercial information of few firms.
"""

from __future__ import annotations

import polars as pl
from sqlalchemy import Connection

from openbureau.enterprises.service import market_frames
from openbureau.quality.market import live_accounts, suppress
from openbureau.quality.metrics import LIVE_STATUSES

BORROWER_TYPES = ("person", "sole_trader", "enterprise")
FIGURES = ("accounts", "borrowers", "balance", "delinquent_90_rate")
_KEY = ["furnisher_id", "furnisher_account_id", "reporting_period", "version"]


def _figures(borrower: str) -> list[pl.Expr]:
    ninety = (pl.col("days_past_due") > 90) | (pl.col("account_status") == "charged_off")
    return [pl.len().alias("accounts"), pl.col(borrower).n_unique().alias("borrowers"),
            pl.col("balance").sum().alias("balance"), ninety.mean().alias("delinquent_90_rate")]


def borrower_types(conn: Connection, states: pl.DataFrame, *, period: str, k: int,
                   include_held: bool = False) -> pl.DataFrame:
    """One row per borrower type (``BORROWER_TYPES`` order): accounts, borrowers (persons, or enterprises),
    balance and the share of accounts 90 days late or charged off; rows about fewer than ``k`` borrowers
    suppressed (``suppressed``). ``states``: the period's account states as the market job reads them."""
    firms, sole = market_frames(conn, period=period)
    live = live_accounts(states, period=period, include_held=include_held).filter(pl.col("credit"))
    live = live.join(sole.with_columns(pl.lit(True).alias("_sole")), on=_KEY, how="left")
    people = live.with_columns(pl.when(pl.col("_sole").fill_null(False)).then(pl.lit("sole_trader"))
                               .otherwise(pl.lit("person")).alias("borrower_type"))
    persons = people.group_by("borrower_type").agg(_figures("person_id"))
    enterprises = (firms.filter(pl.col("account_status").is_in(LIVE_STATUSES))
                   .with_columns(pl.lit("enterprise").alias("borrower_type"))
                   .group_by("borrower_type").agg(_figures("enterprise_id")))
    schema = {"accounts": pl.UInt32, "borrowers": pl.UInt32, "balance": pl.Int64, "delinquent_90_rate": pl.Float64}
    rows = pl.concat([f.cast(schema) for f in (persons, enterprises) if f.height], how="diagonal") \
        if persons.height or enterprises.height else pl.DataFrame(schema={"borrower_type": pl.String, **schema})
    table = pl.DataFrame({"borrower_type": list(BORROWER_TYPES)}).join(rows, on="borrower_type", how="left") \
        .with_columns(pl.col("accounts", "borrowers", "balance").fill_null(0))
    # ``suppress`` counts the ``persons`` column: here the borrowers, whichever they are.
    return suppress(table.rename({"borrowers": "persons"}), k=k, columns=("accounts", "persons", "balance",
                                                                          "delinquent_90_rate")
                    ).rename({"persons": "borrowers"})
