"""Market statistics on Spark publish the same tables as in process, on SQLite and PostgreSQL."""

from __future__ import annotations

import polars as pl

from openbureau.kit.db import session_scope
from openbureau.kit.spark import SparkOptions
from openbureau.quality import figures, market_spark
from openbureau.quality.repository import QualityRepository
from tests.quality.conftest import END, ReplayedMarket
from tests.quality.factories import state, states
from tests.quality.test_market import MEMBERS

FRAMES = ("by_furnisher_product", "by_furnisher", "by_product", "multi_lending", "by_borrower_type")


def _same(spark_tables: dict, local: dict) -> None:
    assert spark_tables.keys() == local.keys()
    for name, value in local.items():
        if name in FRAMES:
            assert spark_tables[name].schema == value.schema, name
            for column in value.columns:
                left, right = spark_tables[name][column], value[column]
                if left.dtype == pl.Float64:  # sums of doubles in another order: equal to the last few bits
                    assert left.is_null().equals(right.is_null()), (name, column)
                    assert ((left - right).abs().fill_null(0) <= 1e-12).all(), (name, column)
                else:
                    assert left.equals(right), (name, column)
        else:
            assert spark_tables[name] == value, name


def test_the_market_of_a_replayed_bureau_is_the_same_on_spark(replayed: ReplayedMarket, spark) -> None:
    with session_scope(replayed.runtime.engine) as session:
        conn = session.connection()
        # k=300 and held records included (the command-line test below compares the defaults: k=10, none held)
        local = figures.run_market(conn, period=END, k=300, include_held=True)
        on_spark = figures.run_market(conn, period=END, k=300, include_held=True, spark=SparkOptions())
        assert local.tables["accounts"] > 1_000 and local.tables["by_furnisher_product"].height > 10
        assert local.tables["by_furnisher_product"]["suppressed"].any()  # the suppression is compared too
        _same(on_spark.tables, local.tables)
        members = QualityRepository(conn).members()
    assert members.height > 0


def test_corrections_held_records_and_empty_periods_are_treated_alike(spark) -> None:
    from openbureau.quality.market import market_statistics

    rows = [state(1, "C1", "2026-03", person_id=1, product_type="credit_card", balance=600, term_months=None),
            state(1, "C1", "2026-03", person_id=1, product_type="credit_card", balance=650, term_months=None,
                  version=2),  # the correction replaces the record it corrects
            state(2, "B1", "2026-03", person_id=1, product_type="bnpl", balance=0, term_months=3, days_past_due=95,
                  payment_status="4"),
            state(3, "I1", "2026-03", person_id=2, product_type="installment", balance=None, term_months=None),
            state(2, "H1", "2026-03", person_id=4, product_type="revolving", balance=300, held=1, term_months=None),
            state(4, "U1", "2026-02", person_id=2, product_type="utility", balance=50, term_months=None)]
    for period, held in (("2026-03", False), ("2026-03", True), ("2026-01", False)):  # 2026-01: nothing live
        _same(market_spark.market_statistics(spark, states(rows), MEMBERS, period=period, k=1, include_held=held),
              market_statistics(states(rows), MEMBERS, period=period, k=1, include_held=held))
