"""Market statistics for the regulator: who lends how much, to whom, with what losses; cells about fewer than
k persons are suppressed."""

from __future__ import annotations

import polars as pl

from openbureau.intake.standard import NON_CREDIT_PRODUCTS
from openbureau.quality.metrics import LIVE_STATUSES, latest_versions

# Short-term consumer credit: revolving lines, credit cards, buy-now-pay-later, and instalment loans of at most
# 12 months. Mortgages and auto loans are secured and long; utility, telecom and rent are not credit.
SHORT_TERM_MAX_MONTHS = 12
SHORT_TERM = (pl.col("product_type").is_in(("revolving", "credit_card", "bnpl"))
              | ((pl.col("product_type") == "installment") & (pl.col("term_months") <= SHORT_TERM_MAX_MONTHS)))
MULTI_LENDER_THRESHOLDS = (3, 5, 10)
FIGURES = ("accounts", "persons", "balance", "delinquent_30_rate", "delinquent_90_rate", "balance_90_share")


def live_accounts(states: pl.DataFrame, *, period: str, include_held: bool = False) -> pl.DataFrame:
    """The newest state in ``period`` of every live (open or charged-off) account; records held for want of
    consent are left out unless ``include_held``."""
    rows = latest_versions(states.filter(pl.col("reporting_period") == period)).filter(
        pl.col("account_status").is_in(LIVE_STATUSES))
    if not include_held:
        rows = rows.filter(pl.col("held") == 0)
    return rows.with_columns(SHORT_TERM.fill_null(False).alias("short_term"),
                             (~pl.col("product_type").is_in(NON_CREDIT_PRODUCTS)).alias("credit"))


def _figures() -> list[pl.Expr]:
    ninety = (pl.col("days_past_due") > 90) | (pl.col("account_status") == "charged_off")
    return [pl.len().alias("accounts"), pl.col("person_id").n_unique().alias("persons"),
            pl.col("balance").sum().alias("balance"),
            (pl.col("days_past_due") > 30).mean().alias("delinquent_30_rate"), ninety.mean().alias("delinquent_90_rate"),
            (pl.col("balance").filter(ninety).sum() / pl.col("balance").sum()).fill_nan(None)
            .alias("balance_90_share")]


def hhi(values: pl.Series) -> float | None:
    """Herfindahl–Hirschman index of the shares of ``values`` (percent squared, 0–10,000).

    ``hhi(pl.Series([50, 50])) == 5000.0``; above 2,500 a market counts as highly concentrated (US DOJ/FTC
    2010 Horizontal Merger Guidelines).
    """
    total = values.sum()
    if not total:
        return None
    return round(float(((values / total * 100) ** 2).sum()), 1)


def suppress(frame: pl.DataFrame, *, k: int, columns: tuple[str, ...] = FIGURES,
             groups: tuple[str, ...] = ()) -> pl.DataFrame:
    """Blank ``columns`` of every row describing fewer than ``k`` persons (``suppressed = True``); a cell of no
    person at all describes nobody and stays.

    Secondary suppression: within each of ``groups`` (columns whose totals are published elsewhere), a lone
    suppressed cell could be recovered by subtraction, so the smallest other cell of that group is
    suppressed too, until no group has exactly one.
    """
    flagged = frame.with_columns(((pl.col("persons") > 0) & (pl.col("persons") < k)).alias("suppressed"))
    for _ in range(10):
        changed = False
        for group in groups:
            lone = pl.col("suppressed").sum().over(group) == 1
            size = pl.len().over(group) > 1
            rank = pl.when(~pl.col("suppressed")).then(pl.col("persons")).otherwise(None).rank("ordinal").over(group)
            extra = lone & size & (rank == 1)
            if flagged.select(extra.any()).item():
                flagged = flagged.with_columns((pl.col("suppressed") | extra.fill_null(False)).alias("suppressed"))
                changed = True
        if not changed:
            break
    present = [c for c in columns if c in flagged.columns]
    return flagged.with_columns(pl.when(pl.col("suppressed")).then(None).otherwise(pl.col(c)).alias(c)
                                for c in present)


def market_statistics(states: pl.DataFrame, members: pl.DataFrame, *, period: str, k: int = 10,
                      include_held: bool = False) -> dict[str, object]:
    """Every market table for ``period``.

    Returns:
        ``by_furnisher_product``, ``by_furnisher``, ``by_product`` and ``multi_lending`` (frames, suppressed
        below ``k`` persons), ``hhi_credit``, ``hhi_short_term``, ``borrowers`` and ``accounts``.
    """
    live = live_accounts(states, period=period, include_held=include_held).join(members, on="furnisher_id")
    return market_tables(aggregates(live), k=k)


def aggregates(live: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """The market's group-by aggregates of its live accounts (joined to the members' codes): small frames,
    whatever the market's size. The Spark batch path computes the same ones (``quality/market_spark.py``)."""
    credit = live.filter(pl.col("credit"))
    short = credit.filter(pl.col("short_term"))
    lenders = credit.group_by("person_id").agg(pl.col("furnisher_id").n_unique().alias("lenders"))
    return {
        "cells": live.group_by("furnisher", "product_type").agg(_figures()),
        "furnishers": live.group_by("furnisher").agg(_figures()),
        "products": live.group_by("product_type").agg(_figures()),
        "credit": credit.group_by("product_type", "furnisher").agg(pl.col("balance").sum()),
        "short_term": short.group_by("furnisher").agg(pl.col("balance").sum()),
        "lenders": lenders.group_by("lenders").agg(pl.len().alias("persons")),
        "accounts": pl.DataFrame({"accounts": [live.height]}),
    }


AGGREGATE_SCHEMAS = {"accounts": pl.UInt32, "persons": pl.UInt32, "lenders": pl.UInt32, "balance": pl.Int64}


def market_tables(agg: dict[str, pl.DataFrame], *, k: int) -> dict[str, object]:
    """The published tables of :func:`market_statistics` from its :func:`aggregates` (suppressed below ``k``)."""
    credit_by = agg["credit"].group_by("furnisher").agg(pl.col("balance").sum().alias("credit_balance"))
    short_by = agg["short_term"].rename({"balance": "short_term_balance"})
    credit_total, short_total = credit_by["credit_balance"].sum(), short_by["short_term_balance"].sum()
    cells = agg["cells"].sort("furnisher", "product_type")
    by_furnisher = (agg["furnishers"].join(credit_by, on="furnisher", how="left")
                    .join(short_by, on="furnisher", how="left")
                    .with_columns(pl.col("credit_balance", "short_term_balance").fill_null(0))
                    .with_columns((pl.col("credit_balance") / max(credit_total, 1)).alias("credit_share"),
                                  (pl.col("short_term_balance") / max(short_total, 1)).alias("short_term_share"))
                    .sort("furnisher"))
    concentration = agg["credit"].group_by("product_type").agg(
        pl.col("balance").sort().map_batches(lambda s: pl.Series([hhi(s)]), returns_scalar=True,
                                             return_dtype=pl.Float64).alias("hhi"),
        pl.len().alias("furnishers"))
    by_product = (agg["products"].join(concentration, on="product_type", how="left").sort("product_type"))
    lenders = agg["lenders"]
    borrowers = int(lenders["persons"].sum())
    multi = pl.DataFrame({"min_lenders": list(MULTI_LENDER_THRESHOLDS)}).with_columns(
        pl.col("min_lenders").map_elements(
            lambda t: int(lenders.filter(pl.col("lenders") >= t)["persons"].sum()), return_dtype=pl.Int64
        ).alias("persons"))
    multi = multi.with_columns((pl.col("persons") / max(borrowers, 1)).alias("share_of_borrowers"))
    extra = ("credit_balance", "short_term_balance", "credit_share", "short_term_share")
    return {
        "by_furnisher_product": suppress(cells, k=k, groups=("furnisher", "product_type")),
        "by_furnisher": suppress(by_furnisher, k=k, columns=FIGURES + extra),
        "by_product": suppress(by_product, k=k, columns=(*FIGURES, "hhi", "furnishers")),
        "multi_lending": suppress(multi, k=k, columns=("persons", "share_of_borrowers")),
        "hhi_credit": hhi(credit_by["credit_balance"].sort()),
        "hhi_short_term": hhi(short_by["short_term_balance"].sort()),
        "borrowers": borrowers if borrowers >= k else None,
        "accounts": int(agg["accounts"]["accounts"][0]),
    }
