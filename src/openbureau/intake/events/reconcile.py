"""Reconciliation of lending events with the monthly files: the month's file is the record of truth.

For each furnisher, every event of the last months is set beside the monthly record of the same account
for the event's month (or the first month after it that the file reports). Where the file says otherwise,
or leaves out an account the events opened although the furnisher has filed that month, a *discrepancy*
is recorded for the furnisher: a data-quality finding, listed to the furnisher and to the regulator, never
shown in anyone's report (the file has superseded the event there already, ``tradelines.events``).
A run is idempotent: a discrepancy is recorded once per event and code.

Codes:
    EVENT_NOT_IN_FILE: a loan opened by an event is missing from the furnisher's file of that month or later.
    EVENT_AMOUNT_MISMATCH: the amount lent (or the limit) differs from the file's original amount (limit).
    EVENT_OPENED_ON_MISMATCH: the opening date differs from the file's.
    EVENT_ENDED_BUT_OPEN: the loan was settled, closed or written off, yet the file says it is open and owed.
    EVENT_LATE_NOT_IN_FILE: a payment 30 days or more late, not cured that month, reported current in the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import polars as pl
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from openbureau.accounts import service as accounts
from openbureau.accounts.event_repository import EventRepository
from openbureau.accounts.repository import as_date
from openbureau.members.repository import MemberRepository
from openbureau.principals import Action, Principal, authorize

LOOKBACK = timedelta(days=120)  # events older than this were reconciled by earlier runs
RETENTION = timedelta(days=400)  # events are kept this long: reconciled, superseded by files, past every window
CURING = ("repayment", "settled", "closed")
REVOLVING = ("revolving", "credit_card")
CODES = ("EVENT_NOT_IN_FILE", "EVENT_AMOUNT_MISMATCH", "EVENT_OPENED_ON_MISMATCH", "EVENT_ENDED_BUT_OPEN",
         "EVENT_LATE_NOT_IN_FILE")


def _month(moment: datetime) -> str:
    return f"{moment.year:04d}-{moment.month:02d}"


def _state_for(states: Sequence, period: str):
    """The newest version of the first reported month at or after ``period``."""
    later = [s for s in states if s.reporting_period >= period]
    if not later:
        return None
    first = min(s.reporting_period for s in later)
    return max((s for s in later if s.reporting_period == first), key=lambda s: s.version)


def _discrepancies(events: pl.DataFrame, states: dict[tuple[int, str], list], last_filed: str) -> list[dict]:
    found: list[dict] = []
    cured_in_month = {(r["furnisher_account_id"], _month(r["occurred_at"]), r["occurred_at"])
                      for r in events.iter_rows(named=True) if r["event_type"] in CURING}
    for e in events.iter_rows(named=True):
        month = _month(e["occurred_at"])
        if month > last_filed:
            continue  # the file of that month has not come yet
        key = (e["furnisher_id"], e["furnisher_account_id"])
        state = _state_for(states.get(key, []), month)

        def add(code: str, text: str, period: str = month, e: dict = e) -> None:
            found.append({"event_row_id": e["id"], "furnisher_id": e["furnisher_id"],
                          "furnisher_account_id": e["furnisher_account_id"], "reporting_period": period,
                          "code": code, "message": text})

        kind = e["event_type"]
        if kind == "opened":
            if state is None:
                add("EVENT_NOT_IN_FILE", f"the loan opened on {e['occurred_at']:%Y-%m-%d} is in no monthly file "
                    f"of {month} or later, although the furnisher has filed up to {last_filed}.")
                continue
            furnished = state.credit_limit if state.product_type in REVOLVING else state.original_amount
            if e["amount"] is not None and furnished is not None and furnished != e["amount"]:
                add("EVENT_AMOUNT_MISMATCH", f"the opened event says {e['amount']} but the file of "
                    f"{state.reporting_period} says {furnished}.", state.reporting_period)
            opened_on = as_date(state.opened_on)
            if e["opened_on"] is not None and opened_on is not None and opened_on != e["opened_on"]:
                add("EVENT_OPENED_ON_MISMATCH", f"the opened event says {e['opened_on']} but the file of "
                    f"{state.reporting_period} says {opened_on}.", state.reporting_period)
        elif state is None:
            continue
        elif kind in ("settled", "closed", "written_off"):
            if state.account_status == "open" and state.balance > 0 and state.reporting_period >= month:
                add("EVENT_ENDED_BUT_OPEN", f"the account was {kind.replace('_', ' ')} on "
                    f"{e['occurred_at']:%Y-%m-%d}, but the file of {state.reporting_period} says it is open "
                    f"with {state.balance} owed.", state.reporting_period)
        elif kind == "delinquent" and (e["days_past_due"] or 0) >= 30 and state.reporting_period == month:
            cured = any(a == e["furnisher_account_id"] and m == month and at > e["occurred_at"]
                        for a, m, at in cured_in_month)
            if not cured and state.days_past_due == 0 and state.payment_status == "N":
                add("EVENT_LATE_NOT_IN_FILE", f"a payment was {e['days_past_due']} days late on "
                    f"{e['occurred_at']:%Y-%m-%d}, but the file of {month} reports the account current.")
    return found


def reconcile(engine: Engine, *, now: datetime | None = None, furnisher_ids: Sequence[int] | None = None
              ) -> dict[str, int]:
    """Reconcile each furnisher's recent events with its monthly files; new discrepancies by code."""
    now = now or datetime.now(UTC)
    new: dict[str, int] = dict.fromkeys(CODES, 0)
    if furnisher_ids is None:
        with Session(engine) as session:
            furnisher_ids = sorted(MemberRepository(session).names())
    for furnisher_id in furnisher_ids:
        with Session(engine) as session:
            last_filed = accounts.latest_period(session, furnisher_id=furnisher_id)
            if last_filed is None:
                continue
            events = EventRepository(session.connection()).of_furnisher(furnisher_id=furnisher_id,
                                                                        since=now - LOOKBACK)
            if events.height == 0:
                continue
            keys = sorted({(furnisher_id, a) for a in events["furnisher_account_id"].unique().to_list()})
            states: dict[tuple[int, str], list] = {}
            for start in range(0, len(keys), 500):
                for row in accounts.states_of_accounts(session, keys[start:start + 500]):
                    states.setdefault((row.furnisher_id, row.furnisher_account_id), []).append(row)
            found = _discrepancies(events, states, last_filed)
        if found:
            with engine.execution_options(sqlite_begin="BEGIN IMMEDIATE").begin() as conn:
                frame = pl.DataFrame(found).with_columns(pl.lit(now).alias("detected_at"))
                recorded = EventRepository(conn).record_discrepancies(frame)
                for code, count in recorded["code"].value_counts().iter_rows():
                    new[code] += count
    return new


def list_discrepancies(session: Session, *, principal: Principal, limit: int = 100, offset: int = 0) -> Sequence:
    """Discrepancies visible to ``principal``: a furnisher its own, the regulator and the operator all."""
    seen = authorize(principal, Action.READ_ALL_SCORECARDS, Action.READ_OWN_SCORECARD,
                     message="discrepancies are for the furnisher, the regulator and the operator")
    own = None if seen is Action.READ_ALL_SCORECARDS else principal.member_id
    return EventRepository(session.connection()).discrepancies(furnisher_id=own, limit=limit, offset=offset)


def discrepancy_counts(session: Session) -> dict[tuple[int, str], int]:
    """(furnisher id, code) -> discrepancies recorded (for the quality figures)."""
    return EventRepository(session.connection()).discrepancy_counts()


def purge(engine: Engine, *, now: datetime | None = None, keep: timedelta = RETENTION) -> int:
    """Delete events older than ``keep`` in short transactions (the files have long superseded them, and no
    signal window reaches back so far); how many."""
    before = (now or datetime.now(UTC)) - keep
    writing = engine.execution_options(sqlite_begin="BEGIN IMMEDIATE")
    total = 0
    while True:
        with writing.begin() as conn:
            deleted = EventRepository(conn).purge_batch(before=before)
        total += deleted
        if deleted == 0:
            return total
