"""Joint lending in the report and the funder's review, on both engines: PLATFORM originated a loan of person 0
that FUNDBANK (70%) and BANK2 (30%) fund; FUNDBANK furnishes its record of the same loan too. The report shows
one account with its funders; each funder reviews what it funds; NOSY, funding nothing, sees nothing."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from openbureau.accounts import funding
from openbureau.accounts.models import AccountFunder
from openbureau.api.app import create_app
from openbureau.audit.models import AuditEntry
from openbureau.consent.profiles import Purpose
from openbureau.kit.db import session_scope
from openbureau.kit.errors import Forbidden, NotFound, Unprocessable
from openbureau.members.models import Role
from openbureau.members.service import get_member
from openbureau.present.report import render_html
from openbureau.principals import Principal
from tests.consent.factories import grant
from tests.intake.factories import PEOPLE
from tests.members.factories import make_member
from tests.reports.conftest import ID
from tests.reports.factories import furnish, history
from tests.reports.test_report import ask

LOAN = {"product": "installment", "opened_on": "2026-08-03", "balance": "1000000", "amount_due": "50000"}


@pytest.fixture
def joint(runtime, tmp_path):
    keys = {code: make_member(runtime, code, *roles) for code, roles in (
        ("PLATFORM", (Role.FURNISHER,)), ("FUNDBANK", (Role.FURNISHER, Role.SUBSCRIBER)),
        ("BANK2", (Role.SUBSCRIBER,)), ("NOSY", (Role.FURNISHER, Role.SUBSCRIBER)), ("LENDER", (Role.SUBSCRIBER,)))}
    for code in ("PLATFORM", "FUNDBANK", "NOSY"):
        grant(runtime, code, ID)
    grant(runtime, "PLATFORM", PEOPLE[1][0])
    grant(runtime, "LENDER", ID, Purpose.LOAN_ORIGINATION, ref="L-1")
    folder = tmp_path / "files"
    folder.mkdir()
    funded = {"funder_1_code": "FUNDBANK", "funder_1_share": "7000", "funder_2_code": "BANK2", "funder_2_share": "3000"}
    furnish(runtime, "PLATFORM", history(0, "P-1", "2026-09", "N1", **LOAN, **funded)
            + history(1, "P-2", "2026-09", "NN", **LOAN, **funded), folder)
    furnish(runtime, "FUNDBANK", history(0, "F-1", "2026-09", "N1", **LOAN, facilitator_code="PLATFORM",
                                         facilitator_account_id="P-1"), folder)
    furnish(runtime, "NOSY", history(0, "N-1", "2026-09", "NN", product="revolving"), folder)
    return runtime, keys


def test_the_report_shows_a_jointly_reported_loan_once_with_its_funders(joint) -> None:
    runtime, _ = joint
    report = ask(runtime, "LENDER", consent_ref="L-1").report
    loans = [a for a in report.accounts if a.product_type == "installment"]
    assert len(loans) == 1 and loans[0].funder_records == 1 and loans[0].facilitator is None
    assert [(f.lender, f.own, f.share_bp) for f in loans[0].funders] == [("Lender 3", False, 7000),
                                                                         ("Lender 4", False, 3000)]
    assert (report.summary.credit_accounts, report.summary.distinct_lenders) == (2, 2)
    page = render_html(report)
    assert "funded by Lender 3 70.00%, Lender 4 30.00% (also reported by 1 funder, counted once)" in page
    card = next(a for a in report.accounts if a.product_type == "revolving")
    assert report.summary.total_balance == 1_000_000 + card.balance  # the loan's balance once, not twice
    assert report.summary.monthly_obligations == 50_000 + card.amount_due
    # The funder asking sees itself by name among the funders, other lenders still masked.
    mine = ask(runtime, "FUNDBANK", Purpose.ACCOUNT_REVIEW).report
    loan = next(a for a in mine.accounts if a.product_type == "installment")
    assert (loan.own_account, loan.account_number) == (False, None)  # the facilitator's record, not its own
    assert [(f.lender, f.own) for f in loan.funders] == [("FUNDBANK", True), ("Lender 3", False)]


def _review(runtime, code: str | None, **kwargs):
    with session_scope(runtime.engine, write=True) as session:
        principal = (Principal.of_member(get_member(session, code=code)) if code
                     else Principal.operator("OPERATOR:test"))
        return funding.funded_accounts(session, principal=principal, **kwargs)


def test_a_funder_reviews_the_accounts_it_funds_and_its_share_of_them(joint) -> None:
    runtime, _ = joint
    page = _review(runtime, "FUNDBANK")
    assert [(a.furnisher, a.furnisher_account_id, a.facilitator, a.facilitator_account_id, a.reporting_period)
            for a in page.accounts] == [("PLATFORM", "P-1", "PLATFORM", "P-1", "2026-10"),
                                        ("PLATFORM", "P-2", "PLATFORM", "P-2", "2026-10")]
    first = page.accounts[0]
    assert (first.share_bp, first.balance, first.funded_balance) == (7000, 1_000_000, 700_000)
    assert (first.payment_status, first.days_past_due, first.past_due_amount) == ("1", 15, 1200)
    assert "id_number" not in first.model_dump() and page.next_after is None
    assert [a.share_bp for a in _review(runtime, "BANK2").accounts] == [3000, 3000]  # a funder that only inquires
    # Paged in (furnisher, account) order.
    one = _review(runtime, "FUNDBANK", limit=1)
    assert [a.furnisher_account_id for a in one.accounts] == ["P-1"] and one.next_after
    rest = _review(runtime, "FUNDBANK", limit=1, after=one.next_after)
    assert [a.furnisher_account_id for a in rest.accounts] == ["P-2"]
    # Every page read is audited, with the account references it returned.
    with session_scope(runtime.engine) as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "account.read_funded")).all()
    assert len(entries) == 4 and json.loads(entries[0].details)["accounts"][0][1] == "P-1" and entries[0].actor_code == "FUNDBANK"


def test_a_funder_removed_by_a_correction_or_a_non_funder_sees_nothing(joint) -> None:
    runtime, _ = joint
    assert _review(runtime, "NOSY").accounts == []  # furnishes the person's other account, funds nothing
    assert _review(runtime, "PLATFORM").accounts == []  # originates, is not listed as a funder
    # The newest record decides: P-2's 2026-10 record no longer lists BANK2 (a correction as a new version).
    with session_scope(runtime.engine, write=True) as session:
        session.execute(AccountFunder.__table__.delete().where(
            AccountFunder.furnisher_account_id == "P-2", AccountFunder.reporting_period == "2026-10",
            AccountFunder.position == 2))
    assert [a.furnisher_account_id for a in _review(runtime, "BANK2").accounts] == ["P-1"]


def test_the_review_refuses_a_forged_cursor_a_person_and_an_unnamed_funder(joint) -> None:
    runtime, _ = joint
    for bad in ("1", "x/P-1", "1/", "9" * 90 + "/a"):
        with pytest.raises(Unprocessable):
            _review(runtime, "FUNDBANK", after=bad)
    with pytest.raises(NotFound):
        _review(runtime, None)  # the operator must name the funder
    assert len(_review(runtime, None, funder_code="BANK2").accounts) == 2
    with session_scope(runtime.engine) as session, pytest.raises(Forbidden):
        funding.funded_accounts(session, principal=Principal.person("P-1"))


def test_the_api_shows_each_member_its_own_funding_only(joint) -> None:
    runtime, keys = joint
    with TestClient(create_app(runtime)) as client:
        def get(code, **params):
            return client.get("/v1/funded-accounts", headers={"X-API-Key": keys[code]}, params=params)

        mine = get("FUNDBANK", limit=1)
        assert mine.status_code == 200 and mine.json()["accounts"][0]["funded_balance"] == 700_000
        assert get("NOSY").json() == {"accounts": [], "next_after": None}
        # Another member's cursor leads nowhere but to its own accounts after that key.
        assert get("NOSY", after=mine.json()["next_after"]).json()["accounts"] == []
        assert get("FUNDBANK", after="x" * 200).status_code == 422
        assert get("FUNDBANK", limit=100_000).status_code == 422
        assert client.get("/v1/funded-accounts").status_code == 401
