"""Factories of lending events: valid events of the known people, as rows, frames and files."""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

from openbureau.intake.events.catalogue import BASE_EVENT
from openbureau.intake.events.service import receive_events
from openbureau.intake.events.standard import EVENT_COLUMNS
from openbureau.kit.db import session_scope
from openbureau.members.service import get_member
from tests.events.conftest import NOW
from tests.intake.factories import PEOPLE


def event(person: int, event_id: str, *, at: datetime, kind: str = "opened", account: str | None = None,
          **overrides: str | None) -> dict[str, str | None]:
    """A valid event of one of the known people (an instalment loan of 3,000.00 CNY over 6 months)."""
    id_number, birth, name = PEOPLE[person]
    base = BASE_EVENT | {"event_id": event_id, "event_type": kind, "occurred_at": at.isoformat(),
                         "furnisher_account_id": account or f"LOAN-{event_id}", "id_number": id_number,
                         "birth_date": birth, "full_name": name, "opened_on": at.date().isoformat()}
    if kind != "opened":
        base |= {"term_months": None, "opened_on": None, "amount_due": None}
        if kind == "application":
            base |= {"amount": None, "currency": None, "balance": None}
        elif kind == "delinquent":
            base |= {"amount": None, "days_past_due": "31", "past_due_amount": "52000", "product_type": None}
        else:
            base |= {"amount": "52000", "product_type": None}
    return base | overrides


def frame(events: list[dict[str, str | None]]) -> pl.DataFrame:
    """A batch as the API hands it over: every event column as text, and line numbers from 1."""
    return pl.DataFrame([{c: e.get(c) for c in EVENT_COLUMNS} for e in events],
                        schema={c: pl.String for c in EVENT_COLUMNS}).with_columns(
        pl.int_range(1, len(events) + 1, dtype=pl.Int64).alias("_line"))


def days_before(now: datetime, days: float) -> datetime:
    return now - timedelta(days=days)


def receive(runtime, code: str, events: list[dict]):
    """A batch of ``code``'s events, received at the events tests' NOW (every event must be accepted)."""
    with session_scope(runtime.engine) as session:
        member = get_member(session, code=code)
    result = receive_events(runtime.engine, vault=runtime.vault, profile=runtime.policy.profile, furnisher=member,
                            batch=frame(events), now=NOW)
    assert result.rejected == 0, result.findings.to_dicts()
    return result
