"""Lending events at intake: every rule, idempotency, the consent gate, linking without waiting for a load."""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl
import pytest
from sqlalchemy import func, select, text

from openbureau.accounts.models import LendingEvent
from openbureau.identity.models import Person
from openbureau.intake.events.catalogue import EVENT_NOW, EVENT_RULES, example_event
from openbureau.intake.events.service import receive_events
from openbureau.intake.events.validation import validate_events
from openbureau.kit.db import intake_lock, session_scope
from openbureau.members.service import get_member
from tests.consent.factories import grant
from tests.events.conftest import NOW
from tests.events.factories import event, frame
from tests.intake.factories import PEOPLE

ROW_RULES = [rule for rule in EVENT_RULES if rule.kind != "file"]


@pytest.mark.parametrize("rule", ROW_RULES, ids=lambda rule: rule.code)
def test_every_event_rule_fires_on_its_failing_example_and_not_on_its_passing_one(rule) -> None:
    now = datetime.fromisoformat(EVENT_NOW)
    failing = validate_events(frame([example_event(rule.example_fail)]), now=now)
    assert rule.code in failing.findings["code"].to_list()
    assert set(failing.findings.filter(pl.col("code") == rule.code)["field"]) <= set(rule.fields)
    passing = validate_events(frame([example_event(rule.example_pass)]), now=now)
    assert passing.findings.height == 0, passing.findings.to_dicts()
    expected = "rejected" if rule.severity == "error" else "warning"
    assert failing.records["_outcome"].to_list() == [expected]


def test_findings_name_line_field_and_code_and_never_show_an_identity_number() -> None:
    now = datetime.fromisoformat(EVENT_NOW)
    bad = example_event({"id_number": "11010119900307123X", "occurred_at": "yesterday", "amount": None})
    result = validate_events(frame([example_event({}), bad]), now=now)
    found = {(f["line"], f["field"], f["code"]) for f in result.findings.iter_rows(named=True)}
    assert {(2, "occurred_at", "INVALID_TIMESTAMP"), (2, "amount", "EVENT_FIELD_MISSING")} <= found
    assert all("11010119900307123X" not in (f["value"] or "") + f["message"]
               for f in result.findings.iter_rows(named=True))
    assert result.records["_outcome"].to_list() == ["accepted", "rejected"]


def test_a_contact_change_without_the_new_phone_or_address_is_rejected_with_either_it_is_accepted() -> None:
    now = datetime.fromisoformat(EVENT_NOW)
    base = {"event_type": "contact_changed", "product_type": None, "amount": None, "term_months": None,
            "opened_on": None}
    rows = [example_event({**base, "event_id": f"EVT-CHANGE-{n}", **details})
            for n, details in enumerate(({"phone": None, "address": None}, {"address": None}, {"phone": None}))]
    result = validate_events(frame(rows), now=now)
    found = {(f["line"], f["field"], f["code"]) for f in result.findings.iter_rows(named=True)}
    assert (1, "phone", "EVENT_FIELD_MISSING") in found
    assert result.records["_outcome"].to_list() == ["rejected", "accepted", "accepted"]


def _receive(runtime, code: str, events: list[dict], now: datetime = NOW):
    with session_scope(runtime.engine) as session:
        member = get_member(session, code=code)
    return receive_events(runtime.engine, vault=runtime.vault, profile=runtime.policy.profile, furnisher=member,
                          batch=frame(events), now=now)


def _stored(runtime) -> int:
    with session_scope(runtime.engine) as session:
        return session.scalar(select(func.count()).select_from(LendingEvent))


def test_an_event_sent_again_is_stored_once_and_a_reused_id_is_refused(platforms) -> None:
    runtime, _ = platforms
    first = _receive(runtime, "P1", [event(0, "E-1", at=NOW - timedelta(hours=2))])
    assert (first.stored, first.duplicates, first.rejected) == (1, 0, 0)
    again = _receive(runtime, "P1", [event(0, "E-1", at=NOW - timedelta(hours=2)),
                                     event(0, "E-1", at=NOW - timedelta(hours=1)),
                                     event(0, "E-2", at=NOW - timedelta(hours=1), amount="999999")])
    assert (again.received, again.stored, again.duplicates, again.rejected) == (3, 1, 1, 1)
    assert again.outcomes["outcome"].to_list() == ["duplicate", "rejected", "accepted"]
    assert again.findings.select("line", "code").rows() == [(2, "DUPLICATE_EVENT_ID")]
    # Another furnisher may use the same id for its own event; the same id with other content is refused.
    other = _receive(runtime, "P2", [event(0, "E-1", at=NOW - timedelta(hours=1))])
    reused = _receive(runtime, "P1", [event(0, "E-1", at=NOW - timedelta(minutes=5), amount="300001")])
    assert other.stored == 1 and reused.rejected == 1 and reused.findings["code"].to_list() == ["EVENT_ID_REUSED"]
    assert _stored(runtime) == 3


def test_events_without_consent_are_held_and_released_when_it_arrives(platforms) -> None:
    runtime, _ = platforms
    result = _receive(runtime, "P1", [event(2, "E-9", at=NOW - timedelta(hours=1))])  # person 2: no consent
    assert result.held == 1 and result.outcomes["outcome"].to_list() == ["held"]
    with session_scope(runtime.engine) as session:
        held = session.scalars(select(LendingEvent.held_reason)).all()
    assert held == ["no_consent"]
    _, released = grant(runtime, "P1", PEOPLE[2][0])
    assert released == 1
    with session_scope(runtime.engine) as session:
        assert session.scalars(select(LendingEvent.held_reason)).all() == [None]


def test_identity_numbers_are_stored_encrypted(platforms) -> None:
    runtime, _ = platforms
    _receive(runtime, "P1", [event(0, "E-1", at=NOW - timedelta(hours=1))])
    with session_scope(runtime.engine) as session:
        row = session.execute(select(LendingEvent)).scalar_one()
        stored = b"".join(v for v in (row.id_enc, row.identity_enc, row.id_index) if isinstance(v, bytes))
    assert PEOPLE[0][0].encode() not in stored and PEOPLE[0][2].encode() not in stored
    assert runtime.vault.decrypt(row.id_enc) == PEOPLE[0][0]


def test_a_batch_during_a_load_never_waits_and_files_its_new_subjects_afterwards(platforms) -> None:
    """While a load holds the intake lock, events about a person the bureau has never seen are stored under
    no person (found by their subject); the next batch with no load running numbers the person."""
    runtime, _ = platforms
    with intake_lock(runtime.engine):
        during = _receive(runtime, "P1", [event(1, "E-1", at=NOW - timedelta(hours=1)),
                                          event(0, "E-2", at=NOW - timedelta(hours=1))])
    assert during.stored == 2 and during.unlinked == 2
    with session_scope(runtime.engine) as session:
        assert session.scalar(select(func.count()).select_from(Person)) == 0
    after = _receive(runtime, "P2", [event(1, "E-3", at=NOW - timedelta(minutes=30))])
    assert after.unlinked == 0
    with session_scope(runtime.engine) as session:
        persons = session.scalar(select(func.count()).select_from(Person))
        unfiled = session.scalar(select(func.count()).select_from(LendingEvent).where(LendingEvent.person_id.is_(None)))
    assert persons == 2 and unfiled == 0


def test_the_furnishing_format_lists_every_event_column_and_rule() -> None:
    from pathlib import Path

    from openbureau.intake.events.standard import EVENT_COLUMNS

    text = (Path(__file__).parents[2] / "docs" / "furnishing-format.md").read_text(encoding="utf-8")
    events = text[text.index("## Events"):]
    assert [c for c in EVENT_COLUMNS if f"| `{c}` |" not in events] == []
    assert [r.code for r in EVENT_RULES if f"| `{r.code}` |" not in events] == []


def _planned_events(runtime) -> float:
    """The rows of lending_events PostgreSQL's planner knows of (-1: never analysed)."""
    with runtime.engine.connect() as conn:
        return conn.execute(text("SELECT reltuples FROM pg_class WHERE relname = 'lending_events'")).scalar()


@pytest.mark.parametrize("runtime", ["postgresql"], indirect=True)  # SQLite plans without statistics
def test_the_planner_learns_of_stored_events_as_they_add_up_to_a_tenth_of_the_table(platforms) -> None:
    """Without statistics PostgreSQL planned the duplicate check of the next batches as a scan of all of the
    lender's events (5.8 s per 900 ids at 350,000 events, docs/events.md); batches refresh them as autovacuum
    would, at once and also where autovacuum is off."""
    runtime, _ = platforms
    batch = [event(n % 2, f"E-{n}", at=NOW - timedelta(minutes=n + 1)) for n in range(300)]
    assert _receive(runtime, "P1", batch).stored == 300
    assert _planned_events(runtime) == _stored(runtime) == 300  # analysed in the batch's own transaction
    # A batch of a tenth or more of the table refreshes them (the smaller ones add up: tests/kit/test_bulk.py).
    assert _receive(runtime, "P2", [event(0, f"F-{n}", at=NOW - timedelta(minutes=n + 1)) for n in range(40)]).stored == 40
    assert _planned_events(runtime) == _stored(runtime) == 340
