"""The quality scorecards' figures over the account states on Spark: the newest version of each
account-period, the counts per furnisher and period, the consistency of each month with the one before and
the fill of the optional fields (`metrics.StateFigures`). The rules are the in-process code's constants and
`metrics.EXPECTED_FIELDS` written into the SQL; the group-bys' small results are finished by the same code
(`metrics.consistency_table`), and each furnisher's files, grades and flags stay in process, so both paths
publish the same scorecards (tests/quality/test_spark_scorecards.py).
"""

# Only the code's own constants are written into the SQL text below; no input reaches it.
# ruff: noqa: S608

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from openbureau.intake.standard import INSTALLMENT_PRODUCTS
from openbureau.quality.metrics import (
    BALANCE_JUMP_FACTOR,
    BALANCE_JUMP_SLACK,
    BUCKETS,
    COUNTS_SCHEMA,
    EXPECTED_FIELDS,
    FILL_SCHEMA,
    LIVE_STATUSES,
    NOT_CREDIT,
    SETTLED_STATUSES,
    QualityFrames,
    StateFigures,
    consistency_table,
)

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

_KEYS = "furnisher_id, reporting_period"
_ON = "{a}.furnisher_id = {b}.furnisher_id AND {a}.reporting_period = {b}.reporting_period"
_ON_ACCOUNT = _ON + " AND {a}.furnisher_account_id = {b}.furnisher_account_id"


def _in(values) -> str:
    return ", ".join("'" + str(v).replace("'", "''") + "'" for v in values)


def _bucket(column: str) -> str:
    return f"CASE {column} " + " ".join(f"WHEN '{k}' THEN {v}" for k, v in BUCKETS.items()) + " END"


# metrics.latest_versions, state_metrics, consistency and optional_fill, with Polars' null semantics (a
# comparison with a null is null and counts for nothing; a sum of nothing is 0 there, so it is coalesced here).
_VIEWS = {
    "q_latest": "SELECT * FROM (SELECT *, max(version) OVER (PARTITION BY furnisher_id, furnisher_account_id, "
                "reporting_period) AS newest FROM q_states) WHERE version = newest",
    "q_prev": "SELECT furnisher_id, furnisher_account_id, date_format(add_months(to_date(concat(reporting_period, "
              "'-01')), 1), 'yyyy-MM') AS reporting_period, account_status AS prev_status, payment_status AS "
              "prev_payment, balance AS prev_balance FROM q_latest",
    "q_filed": f"SELECT DISTINCT {_KEYS} FROM q_submissions",
    "q_owed": f"SELECT p.* FROM q_prev p LEFT SEMI JOIN q_filed f ON {_ON.format(a='p', b='f')} "
              f"WHERE p.prev_status IN ({_in(LIVE_STATUSES)}) AND NOT p.prev_payment IN ({_in(SETTLED_STATUSES)})",
    "q_rejected": "SELECT DISTINCT s.furnisher_id, f.furnisher_account_id, s.reporting_period FROM q_findings f "
                  "JOIN q_submissions s ON f.submission_id = s.submission_id WHERE f.severity = 'error'",
}
_TABLES = {
    "counts": f"SELECT {_KEYS}, count(*) AS accounts, coalesce(sum(held), 0) AS held, count_if(live) AS live_credit, "
              f"count_if(live AND days_past_due > 0) AS delinquent FROM (SELECT *, account_status IN "
              f"({_in(LIVE_STATUSES)}) AND NOT product_type IN ({_in(NOT_CREDIT)}) AS live FROM q_latest) "
              f"GROUP BY {_KEYS}",
    "open_prev": f"SELECT {_KEYS}, count(*) AS open_prev FROM q_owed GROUP BY {_KEYS}",
    "vanished": f"SELECT {_KEYS}, count(*) AS vanished FROM (SELECT o.* FROM q_owed o LEFT ANTI JOIN q_latest s ON "
                f"{_ON_ACCOUNT.format(a='o', b='s')}) o LEFT ANTI JOIN q_rejected r ON "
                f"{_ON_ACCOUNT.format(a='o', b='r')} GROUP BY {_KEYS}",
    "jumps": f"SELECT p.furnisher_id, p.reporting_period, "
             f"count_if(coalesce({_bucket('s.payment_status')} - {_bucket('p.prev_payment')} > 1, false)) "
             f"AS status_jumps, count_if(p.prev_status = 'closed' AND s.account_status IN ({_in(LIVE_STATUSES)})) "
             f"AS reopened, count_if(s.product_type IN ({_in(INSTALLMENT_PRODUCTS)}) AND s.balance > "
             f"p.prev_balance * CAST({BALANCE_JUMP_FACTOR!r} AS DOUBLE) + {BALANCE_JUMP_SLACK}) AS balance_jumps "
             f"FROM q_prev p JOIN q_latest s ON {_ON_ACCOUNT.format(a='p', b='s')} "
             f"GROUP BY p.furnisher_id, p.reporting_period",
    "fill": " UNION ALL ".join(
        f"SELECT {_KEYS}, '{rule.field}' AS field, count_if({rule.sql()}) AS expected, "
        f"count_if({rule.sql()} AND has_{rule.field} = 1) AS filled FROM q_latest GROUP BY {_KEYS}"
        for rule in EXPECTED_FIELDS),
}
_STATE_COLUMNS = ["furnisher_id", "furnisher_account_id", "reporting_period", "version", "product_type",
                  "balance", "days_past_due", "payment_status", "account_status", "held",
                  *(f"has_{rule.field}" for rule in EXPECTED_FIELDS)]
_INPUTS = {"q_states": ("states", _STATE_COLUMNS),
           "q_submissions": ("submissions", ["submission_id", "furnisher_id", "reporting_period"]),
           "q_findings": ("findings", ["submission_id", "furnisher_account_id", "severity"])}
_KEY_SCHEMA = {"furnisher_id": pl.Int64, "reporting_period": pl.String}


def state_figures(spark: SparkSession, frames: QualityFrames) -> StateFigures:
    """:func:`openbureau.quality.metrics.state_figures`, its scans and group-bys run on Spark."""
    for view, (name, columns) in _INPUTS.items():
        spark.createDataFrame(getattr(frames, name).select(columns).to_arrow()).createOrReplaceTempView(view)
    try:
        for view, sql in _VIEWS.items():
            spark.sql(sql).createOrReplaceTempView(view)
        spark.table("q_latest").cache()
        got = {name: pl.from_arrow(spark.sql(sql).toArrow()) for name, sql in _TABLES.items()}
    finally:
        for view in (*_VIEWS, *_INPUTS):
            spark.catalog.dropTempView(view)
        spark.catalog.clearCache()
    return StateFigures(
        counts=got["counts"].cast(COUNTS_SCHEMA),
        consistency=consistency_table(*(got[n].cast(_KEY_SCHEMA) for n in ("open_prev", "vanished", "jumps"))),
        fill=got["fill"].cast(FILL_SCHEMA))
