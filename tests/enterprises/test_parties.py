"""Related persons on an enterprise's record (the owner guaranteeing the firm's loan): not stored yet, and never
dropped unseen: the loan loads with a warning ENTERPRISE_PARTIES_NOT_SUPPORTED on each party group (and
ENTERPRISE_FUNDERS_NOT_SUPPORTED for its facilitator and funders). A sole trader's related persons are stored
like a person's."""

from __future__ import annotations

from sqlalchemy import func, select

from openbureau.accounts.models import AccountFunder, AccountParty
from openbureau.enterprises.models import EnterpriseState
from openbureau.identity.models import Person
from openbureau.intake.models import Finding
from openbureau.kit.db import session_scope
from openbureau.members.models import Role
from tests.consent.factories import grant
from tests.enterprises.factories import enterprise, sole_trader
from tests.enterprises.test_storage import submit
from tests.intake.factories import PEOPLE, write_file
from tests.intake.test_joint_lending_load import party
from tests.members.factories import make_member

OWNER, PARTNER = PEOPLE[1], PEOPLE[2]


def test_an_enterprises_guarantor_is_not_stored_and_the_furnisher_is_told(runtime, tmp_path) -> None:
    make_member(runtime, "BANK_A", Role.FURNISHER)
    grant(runtime, "BANK_A", OWNER[0])  # the owner consented: the party is refused for the firm, not the consent
    grant(runtime, "BANK_A", PEOPLE[0][0])
    rows = [enterprise("E1", **party(1, OWNER, "guarantor", liability="500000"), **party(2, PARTNER, "co_borrower")),
            sole_trader(0, "S1", **party(1, OWNER, "guarantor", liability="500000"))]
    s = submit(runtime, write_file(tmp_path / "firm.csv", rows))
    assert (s.records_accepted, s.records_warnings, s.records_rejected, s.records_quarantined, s.parties_held) == (
        1, 1, 0, 0, 0)
    assert s.finding_counts == {"ENTERPRISE_PARTIES_NOT_SUPPORTED": 2}, s.finding_counts
    with session_scope(runtime.engine) as session:
        findings = session.execute(select(Finding.line, Finding.furnisher_account_id, Finding.field,
                                          Finding.severity, Finding.value).order_by(Finding.field)).all()
        assert [tuple(f) for f in findings] == [(2, "E1", "party_1_role", "warning", "guarantor"),
                                                (2, "E1", "party_2_role", "warning", "co_borrower")]
        # The firm's loan loads; the sole trader's guarantee is stored, the firm's is not (no party row, and
        # the partner, named nowhere else, is not made a person).
        assert [st.furnisher_account_id for st in session.scalars(select(EnterpriseState))] == ["E1"]
        stored = session.execute(select(AccountParty.furnisher_account_id, AccountParty.role)).all()
        assert [tuple(p) for p in stored] == [("S1", "guarantor")]
        assert session.scalar(select(func.count()).select_from(Person)) == 2  # the sole trader and the owner


def test_an_enterprises_funders_and_facilitator_are_not_stored_and_the_furnisher_is_told(runtime, tmp_path) -> None:
    for code in ("BANK_A", "FUND_B", "PLAT_A"):
        make_member(runtime, code, Role.FURNISHER)
    funded = {"funder_1_code": "BANK_A", "funder_1_share": "6000", "funder_2_code": "FUND_B", "funder_2_share": "4000"}
    rows = [enterprise("E1", facilitator_code="PLAT_A", **funded), enterprise("E2", facilitator_account_id="P-9"),
            enterprise("E3")]
    s = submit(runtime, write_file(tmp_path / "firm.csv", rows))
    assert (s.records_accepted, s.records_warnings, s.records_rejected) == (1, 2, 0), s.finding_counts
    with session_scope(runtime.engine) as session:
        findings = session.execute(select(Finding.furnisher_account_id, Finding.code, Finding.field, Finding.severity)
                                   .order_by(Finding.line, Finding.field)).all()
        assert session.scalar(select(func.count()).select_from(AccountFunder)) == 0
        assert session.scalar(select(func.count()).select_from(EnterpriseState)) == 3
    assert [tuple(f) for f in findings] == [
        ("E1", "ENTERPRISE_FUNDERS_NOT_SUPPORTED", "facilitator_code", "warning"),
        ("E1", "ENTERPRISE_FUNDERS_NOT_SUPPORTED", "funder_1_code", "warning"),
        ("E2", "FACILITATOR_ACCOUNT_WITHOUT_FACILITATOR", "facilitator_account_id", "warning"),  # as for anybody
        ("E2", "ENTERPRISE_FUNDERS_NOT_SUPPORTED", "facilitator_code", "warning")]
