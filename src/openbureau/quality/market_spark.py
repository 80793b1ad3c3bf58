"""Market statistics on Spark: the scan and the group-bys over every account state run on Spark; the small
aggregates they return are finished (shares, HHI, suppression below k persons) by the code the DuckDB/Polars
path uses, so both paths publish the same tables (tests/quality/test_spark_market.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from openbureau.intake.standard import NON_CREDIT_PRODUCTS
from openbureau.quality.market import AGGREGATE_SCHEMAS, SHORT_TERM_MAX_MONTHS, market_tables
from openbureau.quality.metrics import LIVE_STATUSES

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

_COLUMNS = ["furnisher_id", "furnisher_account_id", "reporting_period", "version", "person_id", "product_type",
            "term_months", "account_status", "held", "balance", "days_past_due"]


def _in(values: tuple[str, ...]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


# What market.live_accounts and market._figures say, in Spark SQL (the same null semantics: a comparison with
# a null is null, and avg and sum skip nulls; a sum of nothing is 0 there, so it is coalesced here). Only the
# code's constants are written into the text; the period and the held switch are parameters.
_LIVE = f"""
SELECT s.*, m.furnisher,
       coalesce(s.product_type IN ('revolving', 'credit_card', 'bnpl')
                OR (s.product_type = 'installment' AND s.term_months <= {SHORT_TERM_MAX_MONTHS}), false) AS short_term,
       NOT s.product_type IN ({_in(NON_CREDIT_PRODUCTS)}) AS credit,
       (s.days_past_due > 90 OR s.account_status = 'charged_off') AS ninety
FROM (SELECT *, max(version) OVER (PARTITION BY furnisher_id, furnisher_account_id, reporting_period) AS newest
      FROM market_states WHERE reporting_period = :period) s
JOIN market_members m ON m.furnisher_id = s.furnisher_id
WHERE s.version = s.newest AND s.account_status IN ({_in(LIVE_STATUSES)}) AND (:include_held OR s.held = 0)
"""  # noqa: S608
_FIGURES = """count(*) AS accounts, count(DISTINCT person_id) AS persons, coalesce(sum(balance), 0) AS balance,
       avg(CAST(days_past_due > 30 AS DOUBLE)) AS delinquent_30_rate, avg(CAST(ninety AS DOUBLE)) AS delinquent_90_rate,
       try_divide(coalesce(sum(CASE WHEN ninety THEN balance END), 0), coalesce(sum(balance), 0)) AS balance_90_share"""
_AGGREGATES = {
    "cells": f"SELECT furnisher, product_type, {_FIGURES} FROM market_live GROUP BY furnisher, product_type",  # noqa: S608
    "furnishers": f"SELECT furnisher, {_FIGURES} FROM market_live GROUP BY furnisher",  # noqa: S608
    "products": f"SELECT product_type, {_FIGURES} FROM market_live GROUP BY product_type",  # noqa: S608
    "credit": "SELECT product_type, furnisher, coalesce(sum(balance), 0) AS balance FROM market_live WHERE credit "
              "GROUP BY product_type, furnisher",
    "short_term": "SELECT furnisher, coalesce(sum(balance), 0) AS balance FROM market_live WHERE credit AND short_term "
                  "GROUP BY furnisher",
    "lenders": "SELECT lenders, count(*) AS persons FROM (SELECT person_id, count(DISTINCT furnisher_id) AS lenders "
               "FROM market_live WHERE credit GROUP BY person_id) GROUP BY lenders",
    "accounts": "SELECT count(*) AS accounts FROM market_live",
}


def market_statistics(spark: SparkSession, states: pl.DataFrame, members: pl.DataFrame, *, period: str,
                      k: int = 10, include_held: bool = False) -> dict[str, object]:
    """:func:`openbureau.quality.market.market_statistics`, its group-bys computed on Spark."""
    spark.createDataFrame(states.select(_COLUMNS).to_arrow()).createOrReplaceTempView("market_states")
    spark.createDataFrame(members.select("furnisher_id", "furnisher").to_arrow()).createOrReplaceTempView(
        "market_members")
    try:
        live = spark.sql(_LIVE, args={"period": period, "include_held": include_held}).cache()
        live.createOrReplaceTempView("market_live")
        agg = {}
        for name, sql in _AGGREGATES.items():
            frame = pl.from_arrow(spark.sql(sql).toArrow())
            agg[name] = frame.cast({c: t for c, t in AGGREGATE_SCHEMAS.items() if c in frame.columns})
        # 0 / 0 is NaN in Polars (then blanked) and null in Spark: the same blank either way.
        for name in ("cells", "furnishers", "products"):
            agg[name] = agg[name].with_columns(pl.col("balance_90_share").fill_nan(None))
    finally:
        for view in ("market_live", "market_states", "market_members"):
            spark.catalog.dropTempView(view)
        spark.catalog.clearCache()
    return market_tables(agg, k=k)
