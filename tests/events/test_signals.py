"""Events in the file: counted by the next inquiry at once, superseded by the monthly file, reconciled."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from openbureau.accounts.models import LendingEvent
from openbureau.consent.profiles import Purpose
from openbureau.consent.schemas import Subject
from openbureau.identity.models import Person
from openbureau.intake.events import reconcile
from openbureau.kit.db import intake_lock, session_scope
from openbureau.kit.errors import Forbidden
from openbureau.members.models import Role
from openbureau.members.service import get_member
from openbureau.present.report import render_html
from openbureau.principals import Principal
from openbureau.quality import service as quality
from openbureau.reports.schemas import InquiryCreate
from openbureau.reports.service import inquire
from tests.events.conftest import NOW
from tests.events.factories import event
from tests.events.test_intake import _receive
from tests.intake.factories import PEOPLE
from tests.members.factories import make_member
from tests.reports.factories import furnish, month

ID = PEOPLE[0][0]


def _inquire(runtime, income: int | None = None):
    with session_scope(runtime.engine, write=True) as session:
        lender = Principal.of_member(get_member(session, code="LENDER"))
        return inquire(session, vault=runtime.vault, principal=lender, policy=runtime.policy, now=NOW,
                       request=InquiryCreate(subject=Subject(id_type="CN_RESIDENT_ID", id_number=ID),
                                             purpose=Purpose.LOAN_ORIGINATION, consent_ref="L-1",
                                             declared_monthly_income=income))


def _signal(result, code: str):
    return next(s for s in result.report.signals if s.code == code)


def test_loans_opened_at_three_platforms_today_are_flagged_by_the_next_inquiry(platforms) -> None:
    runtime, _ = platforms
    for hours, code in ((5, "P1"), (3, "P2"), (1, "P3")):
        _receive(runtime, code, [event(0, f"{code}-1", at=NOW - timedelta(hours=hours))])
    result = _inquire(runtime, income=300_000)
    multi = _signal(result, "MULTI_LENDING")
    assert multi.triggered and multi.values["lenders_1d"] == 3 and multi.values["new_accounts_1d"] == 3
    assert "in the last 24 hours" in multi.explanation
    debt = _signal(result, "OVER_INDEBTEDNESS")
    assert debt.values["obligations_since_last_file"] == 3 * 52_000 and debt.triggered
    assert "3 of them opened since the last monthly file" in debt.explanation
    loans = result.report.recent_loans
    assert [(loan.lender, loan.status, loan.account_number) for loan in loans] == [
        ("Lender 1", "open", None), ("Lender 2", "open", None), ("Lender 3", "open", None)]
    assert result.report.summary.monthly_obligations == 3 * 52_000
    page = render_html(result.report)
    assert 'data-testid="recent-loans"' in page and "Loans opened since the last monthly file (3)" in page
    assert "P1" not in page  # other lenders stay masked in the lender's view


def test_applications_count_and_ended_loans_stop_counting_as_obligations(platforms) -> None:
    runtime, _ = platforms
    _receive(runtime, "P1", [event(0, "A-1", at=NOW - timedelta(days=3), kind="application")])
    _receive(runtime, "P2", [event(0, "O-1", at=NOW - timedelta(days=3), account="L-2"),
                             event(0, "S-1", at=NOW - timedelta(days=1), kind="settled", account="L-2")])
    result = _inquire(runtime)
    assert _signal(result, "MULTI_LENDING").values["lenders_7d"] == 2
    assert _signal(result, "MULTI_LENDING").values["new_accounts_7d"] == 1  # an application opens nothing
    assert [loan.status for loan in result.report.recent_loans] == ["settled"]
    assert _signal(result, "OVER_INDEBTEDNESS").values["obligations_since_last_file"] == 0


def test_the_monthly_file_supersedes_the_events_it_covers_and_counts_each_account_once(platforms, tmp_path) -> None:
    runtime, _ = platforms
    opened = NOW - timedelta(days=40)  # 2026-10-11
    _receive(runtime, "P1", [event(0, "O-1", at=opened, account="LOAN-1")])
    before = _inquire(runtime)
    assert len(before.report.recent_loans) == 1
    furnish(runtime, "P1", [month(0, "LOAN-1", "2026-10", product="installment", opened_on=str(opened.date()),
                                  original_amount="300000", term_months="6", balance="300000", amount_due="52000")],
            tmp_path, today=date(2026, 11, 20))
    after = _inquire(runtime)
    assert after.report.recent_loans == [] and len(after.report.accounts) == 1
    multi = _signal(after, "MULTI_LENDING")
    # One account (a file and an event speak of it); two lenders: P1, and LENDER's hard inquiry before.
    assert multi.values["new_accounts_90d"] == 1 and multi.values["lenders_90d"] == 2
    assert after.report.summary.monthly_obligations == 52_000  # the file's, not twice


def test_reconciliation_records_what_the_files_contradict_once_for_the_furnisher_and_the_regulator(
        platforms, tmp_path) -> None:
    runtime, _ = platforms
    opened = NOW - timedelta(days=40)
    _receive(runtime, "P1", [event(0, "O-1", at=opened, account="LOAN-1")])  # the file says another amount
    _receive(runtime, "P2", [event(0, "O-2", at=opened, account="LOAN-2")])  # the file leaves it out
    furnish(runtime, "P1", [month(0, "LOAN-1", "2026-10", product="installment", opened_on=str(opened.date()),
                                  original_amount="400000", term_months="6", balance="300000")],
            tmp_path, today=date(2026, 11, 20))
    furnish(runtime, "P2", [month(0, "OTHER-9", "2026-10", product="installment", opened_on="2026-01-05",
                                  original_amount="400000", term_months="12", balance="100000")],
            tmp_path, today=date(2026, 11, 20))
    make_member(runtime, "SUBSCRIBER_ONLY", Role.SUBSCRIBER)
    found = reconcile.reconcile(runtime.engine, now=NOW)
    assert found["EVENT_AMOUNT_MISMATCH"] == 1 and found["EVENT_NOT_IN_FILE"] == 1
    assert sum(reconcile.reconcile(runtime.engine, now=NOW).values()) == 0  # recorded once
    with session_scope(runtime.engine) as session:
        p1 = Principal.of_member(get_member(session, code="P1"))
        regulator = Principal.of_member(get_member(session, code="REGULATOR"))
        lender = Principal.of_member(get_member(session, code="SUBSCRIBER_ONLY"))
        own = reconcile.list_discrepancies(session, principal=p1)
        every = reconcile.list_discrepancies(session, principal=regulator)
        with pytest.raises(Forbidden):
            reconcile.list_discrepancies(session, principal=lender)
        cards = {c.furnisher: c for c in quality.scorecards(session, principal=regulator, policy=runtime.policy
                                                            ).scorecards}
    assert cards["P1"].event_discrepancies == 1 and cards["P2"].event_discrepancies == 1
    assert [d.code for d in own] == ["EVENT_AMOUNT_MISMATCH"] and "400000" in own[0].message
    assert sorted(d.code for d in every) == ["EVENT_AMOUNT_MISMATCH", "EVENT_NOT_IN_FILE"]


def test_a_load_files_the_events_that_arrived_while_it_ran_under_the_person_it_created(platforms, tmp_path) -> None:
    runtime, _ = platforms
    with intake_lock(runtime.engine):
        assert _receive(runtime, "P1", [event(1, "O-1", at=NOW - timedelta(hours=1))]).unlinked == 1
    furnish(runtime, "P2", [month(1, "B-1", "2026-10")], tmp_path, today=date(2026, 11, 20))
    with session_scope(runtime.engine) as session:
        person = session.scalar(select(Person.id))
        filed = session.scalars(select(LendingEvent.person_id)).all()
    assert filed == [person]


def test_a_merge_moves_the_events_with_the_records_and_the_report_follows(platforms) -> None:
    from openbureau.audit.service import terminal_operator
    from openbureau.identity.service import merge

    runtime, _ = platforms
    _receive(runtime, "P1", [event(1, "O-1", at=NOW - timedelta(hours=2))])  # person 1's own person
    _receive(runtime, "P2", [event(0, "O-2", at=NOW - timedelta(hours=1))])
    with session_scope(runtime.engine, write=True) as session:
        ids = dict(session.execute(select(LendingEvent.event_id, LendingEvent.person_id)).all())
        merge(session, principal=terminal_operator(), person_id=ids["O-1"], into_person_id=ids["O-2"])
    with session_scope(runtime.engine) as session:
        assert set(session.scalars(select(LendingEvent.person_id))) == {ids["O-2"]}
    multi = _signal(_inquire(runtime), "MULTI_LENDING")
    assert multi.values["lenders_1d"] == 2 and multi.values["new_accounts_1d"] == 2


def test_old_events_are_purged_and_recent_ones_kept(platforms) -> None:
    runtime, _ = platforms
    _receive(runtime, "P1", [event(0, "OLD", at=NOW - timedelta(days=80))], now=NOW)
    _receive(runtime, "P1", [event(0, "NEW", at=NOW - timedelta(days=1))], now=NOW)
    assert reconcile.purge(runtime.engine, now=NOW + timedelta(days=330)) == 1
    with session_scope(runtime.engine) as session:
        assert session.scalars(select(LendingEvent.event_id)).all() == ["NEW"]
