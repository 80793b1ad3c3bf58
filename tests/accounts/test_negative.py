"""The ladder of negative information is one rule in SQL and in Polars, on each engine."""

from __future__ import annotations

import itertools

import polars as pl
from sqlalchemy import select

from openbureau.accounts.negative import (
    CHARGED_OFF,
    RECOVERED,
    event_level,
    event_level_sql,
    level_words,
    state_level,
    state_level_sql,
)
from openbureau.intake.events.standard import EVENT_TYPES
from openbureau.intake.standard import ACCOUNT_STATUSES, PAYMENT_STATUSES
from openbureau.kit.dialects import dialect_for

DAYS = [0, 1, 30, 31, 60, 61, 90, 91, 120, 121, 150, 151, 180, 181, 400]


def test_the_sql_and_polars_ladders_agree_on_every_state_and_event(runtime) -> None:
    states = pl.DataFrame(list(itertools.product(DAYS, PAYMENT_STATUSES, ACCOUNT_STATUSES)), orient="row",
                          schema={"days_past_due": pl.Int64, "payment_status": pl.String, "account_status": pl.String})
    events = pl.DataFrame(list(itertools.product(EVENT_TYPES, [*DAYS, None])), orient="row",
                          schema={"event_type": pl.String, "days_past_due": pl.Int64})
    with runtime.engine.connect() as conn:
        with dialect_for(conn).staged(conn, states.with_row_index("k").cast({"k": pl.Int64}), "ladder") as t:
            in_sql = conn.execute(select(t.c.k, state_level_sql(t.c.days_past_due, t.c.payment_status,
                                                                t.c.account_status)).order_by(t.c.k)).all()
        with dialect_for(conn).staged(conn, events.with_row_index("k").cast({"k": pl.Int64}), "events") as t:
            events_in_sql = conn.execute(select(t.c.k, event_level_sql(t.c.event_type, t.c.days_past_due))
                                         .order_by(t.c.k)).all()
        conn.rollback()
    assert [level for _, level in in_sql] == states.select(state_level()).to_series().to_list()
    assert [level for _, level in events_in_sql] == events.select(event_level()).to_series().to_list()


def test_the_ladder_follows_the_standards_negative_information() -> None:
    frame = pl.DataFrame({"days_past_due": [0, 1, 30, 31, 181, 0, 0, 0, 45, 0],
                          "payment_status": ["N", "1", "1", "2", "7", "D", "Z", "#", "2", "C"],
                          "account_status": ["open", "open", "open", "open", "open", "closed", "open", "open",
                                             "charged_off", "deleted"]})
    assert frame.select(state_level()).to_series().to_list() == [0, 1, 1, 2, 7, RECOVERED, RECOVERED, 0,
                                                                 CHARGED_OFF, 0]
    assert [level_words(n) for n in (1, 2, 7)] == ["1-30 days past due", "31-60 days past due",
                                                   "more than 180 days past due"]
    assert level_words(RECOVERED, "Z") == "repaid with the collateral"
