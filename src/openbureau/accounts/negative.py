"""How bad an account's state is: the ladder of negative information that decides what is a *new* negative item.

An account state (a month of a furnished account) or a lending event has a **level** on one ladder:

====== ========================================================================== ==========================
level  the state                                                                  events
====== ========================================================================== ==========================
0      nothing adverse (current, settled, closed, nothing due, unknown without     opened, repayment,
       days past due, deleted)                                                    settled, closed, application
1 - 7  past due, by the PBoC buckets of 30 days: 1 = 1-30 days ... 7 = over 180   delinquent (its days past
       days (``days_past_due``, or payment status ``1``-``7``)                    due)
8      repaid by the guarantor (``D``) or with the collateral (``Z``)
9      charged off (``account_status = charged_off``)                             written_off
====== ========================================================================== ==========================

Levels 1 to 9 are the standard's negative information (docs/furnishing-format.md, "Statuses 1-7, D and Z,
any days past due above 0, and charged_off"). A state or event is a new negative item when its level is
above the level of the account's state just before it (``intake.negative_notices`` says which state that
is). The ladder exists twice, as a SQL expression (the state before is read in the database) and as a Polars
expression (the new rows are in frames); ``tests/accounts/test_negative.py`` holds them equal.
"""

from __future__ import annotations

import functools

import polars as pl
from sqlalchemy import ColumnElement, case, literal

CHARGED_OFF = 9
RECOVERED = 8  # paid by the guarantor (D) or repaid with the collateral (Z)
PAST_DUE_LEVELS = 7
# (level, lowest days past due) of each past-due bucket, worst first.
_BUCKETS = tuple((level, 30 * (level - 1) + 1) for level in range(PAST_DUE_LEVELS, 0, -1))
NEGATIVE_EVENTS = ("delinquent", "written_off")


def state_level_sql(days_past_due: ColumnElement, payment_status: ColumnElement,
                    account_status: ColumnElement) -> ColumnElement[int]:
    """The level of an account state, over its columns in a statement."""
    whens = [(account_status == "deleted", literal(0)), (account_status == "charged_off", literal(CHARGED_OFF)),
             (payment_status.in_(("D", "Z")), literal(RECOVERED))]
    whens += [((days_past_due >= low) | (payment_status == str(level)), literal(level)) for level, low in _BUCKETS]
    return case(*whens, else_=literal(0))


def event_level_sql(event_type: ColumnElement, days_past_due: ColumnElement) -> ColumnElement[int]:
    """The level of a lending event, over its columns in a statement."""
    whens = [(event_type == "written_off", literal(CHARGED_OFF))]
    whens += [((event_type == "delinquent") & (days_past_due >= low), literal(level)) for level, low in _BUCKETS]
    return case(*whens, else_=literal(0))


def _chain(whens: list[tuple[pl.Expr, int]]) -> pl.Expr:
    expr = pl.when(whens[0][0]).then(pl.lit(whens[0][1], dtype=pl.Int8))
    for condition, level in whens[1:]:
        expr = expr.when(condition).then(pl.lit(level, dtype=pl.Int8))
    return expr.otherwise(pl.lit(0, dtype=pl.Int8))


@functools.cache
def state_level() -> pl.Expr:
    """The level of each account state of a frame (``days_past_due``, ``payment_status``, ``account_status``)."""
    dpd, status, account = pl.col("days_past_due"), pl.col("payment_status"), pl.col("account_status")
    whens = [(account == "deleted", 0), (account == "charged_off", CHARGED_OFF), (status.is_in(["D", "Z"]), RECOVERED)]
    whens += [((dpd >= low) | (status == str(level)), level) for level, low in _BUCKETS]
    return _chain([(w.fill_null(False), level) for w, level in whens])


@functools.cache
def event_level() -> pl.Expr:
    """The level of each lending event of a frame (``event_type``, ``days_past_due``); built once, as the
    state's (an expression is immutable)."""
    kind, dpd = pl.col("event_type"), pl.col("days_past_due")
    whens = [(kind == "written_off", CHARGED_OFF)]
    whens += [((kind == "delinquent") & (dpd >= low), level) for level, low in _BUCKETS]
    return _chain([(w.fill_null(False), level) for w, level in whens])


def level_words(level: int, payment_status: str | None = None) -> str:
    """What a level says, in the words of a notice to the person."""
    if level == CHARGED_OFF:
        return "charged off (written off as a loss)"
    if level == RECOVERED:
        return "repaid with the collateral" if payment_status == "Z" else "paid by the guarantor"
    if level == PAST_DUE_LEVELS:
        return "more than 180 days past due"
    if level >= 1:
        return f"{30 * (level - 1) + 1}-{30 * level} days past due"
    return "current"
