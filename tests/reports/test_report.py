"""The consolidated report: what a lender sees, what the person sees, and how the two differ."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from openbureau.audit import service as audit
from openbureau.consent.profiles import Purpose, get_profile
from openbureau.consent.schemas import Subject
from openbureau.disputes import service as disputes
from openbureau.disputes.schemas import DisputeCreate
from openbureau.identity.repository import ResolutionRepository
from openbureau.inquiries.models import Inquiry
from openbureau.kit.db import session_scope
from openbureau.members.service import get_member
from openbureau.policy import Policy
from openbureau.principals import Principal
from openbureau.reports import service
from openbureau.reports.schemas import InquiryCreate, InquiryResult, View
from tests.intake.factories import PEOPLE
from tests.reports.conftest import ID, NOW

CN = Policy(profile=get_profile("CN"), reciprocity=False)
AT_COUNTER = Principal.operator("OPERATOR:test")
SUBJECT = Subject(id_type="CN_RESIDENT_ID", id_number=ID)
SCHEMA_DOC = Path(__file__).resolve().parents[2] / "docs" / "report-schema.json"


def ask(runtime, code, purpose=Purpose.LOAN_ORIGINATION, *, consent_ref=None, now=NOW, **request):
    with session_scope(runtime.engine, write=True) as session:
        return service.inquire(session, vault=runtime.vault, principal=Principal.of_member(get_member(session, code=code)),
                               policy=CN, now=now,
                               request=InquiryCreate(subject=SUBJECT, purpose=purpose, consent_ref=consent_ref,
                                                     **request))


def own(runtime, now=NOW, **kwargs):
    with session_scope(runtime.engine, write=True) as session:
        return service.own_report(session, vault=runtime.vault, subject=SUBJECT, principal=AT_COUNTER,
                                  policy=CN, now=now, **kwargs)


def test_the_lender_sees_every_account_across_lenders_with_others_masked(market) -> None:
    runtime, _ = market
    report = ask(runtime, "LENDER", consent_ref="L-1").report
    assert report.view is View.SUBSCRIBER and report.person.id_number != ID and report.person.id_number[:3] == ID[:3]
    assert [(a.lender, a.product_type, a.account_number) for a in report.accounts] == [
        ("Lender 1", "revolving", None), ("Lender 2", "installment", None)]
    # A telecom company bills for a service; it is a provider, not a lender.
    assert [(o.provider, o.product_type, o.months_late_24m) for o in report.obligations] == [
        ("Provider 1", "telecom", 1)]
    assert report.currency_minor_unit == 2 and report.model_dump(mode="json")["currency_minor_unit"] == 2
    bank = report.accounts[0]
    assert (bank.reporting_period, bank.payment_history_start) == ("2026-10", "2024-11")
    assert bank.payment_history == "N" * 20 + "12NN"


def test_a_lender_sees_its_own_accounts_by_name_and_number(market) -> None:
    runtime, _ = market
    report = ask(runtime, "BANK_A", Purpose.ACCOUNT_REVIEW).report
    assert [(a.lender, a.own_account, a.account_number) for a in report.accounts] == [
        ("BANK_A", True, "A-1"), ("Lender 1", False, None)]


def test_the_summary_adds_up_open_credit_in_the_profile_currency(market) -> None:
    runtime, _ = market
    s = ask(runtime, "LENDER", consent_ref="L-1").report.summary
    assert (s.currency, s.credit_accounts, s.open_accounts, s.distinct_lenders) == ("CNY", 2, 2, 2)
    assert (s.total_credit_limit, s.revolving_balance, s.utilisation) == (5_000_000, 2_500_000, 0.5)
    assert s.total_balance == 2_500_000 + 3_600_000 and s.monthly_obligations == 12_000 + 110_000
    assert (s.worst_status_12m, s.worst_status_24m, s.past_due_amount, s.non_credit_accounts) == ("2", "2", 0, 1)


def test_the_repayment_record_reaches_back_as_far_as_asked(market) -> None:
    runtime, _ = market
    bank = ask(runtime, "LENDER", consent_ref="L-1", history_months=60).report.accounts[0]
    assert len(bank.payment_history) == 60 and bank.payment_history == "/" * 36 + "N" * 20 + "12NN"


def test_soft_inquiries_are_shown_only_to_the_person_and_the_lender_that_made_them(market) -> None:
    runtime, _ = market
    ask(runtime, "BANK_A", Purpose.ACCOUNT_REVIEW)  # soft, by BANK_A
    ask(runtime, "LENDER", consent_ref="L-1")  # hard, by LENDER
    lender_sees = ask(runtime, "LENDER", consent_ref="L-1").report.inquiries
    assert [(q.lender, q.hard) for q in lender_sees] == [("LENDER", True)]  # BANK_A's review is not shown
    bank_sees = ask(runtime, "BANK_A", Purpose.ACCOUNT_REVIEW).report.inquiries
    assert sorted((q.lender, q.hard) for q in bank_sees) == [("BANK_A", False), ("Lender 2", True), ("Lender 2", True)]  # the telecom is Provider 1
    person_sees = own(runtime).inquiries
    assert len(person_sees) == 4 and {q.lender for q in person_sees} == {"Bank_A Ltd (BANK_A)", "Lender Ltd (LENDER)"}
    assert {q.basis for q in person_sees if q.hard} == {"your consent L-1"}
    assert all(q.basis.startswith("post-loan management") for q in person_sees if not q.hard)


def test_the_person_sees_everything_and_the_look_is_logged_as_their_own(market) -> None:
    runtime, _ = market
    report = own(runtime)
    assert report.view is View.CONSUMER and report.person.id_number == ID
    assert [a.account_number for a in report.accounts] == ["A-1", "O-1"]
    assert [a.lender for a in report.accounts] == ["Bank_A Ltd (BANK_A)", "Other Ltd (OTHER)"]
    assert [v.value for v in report.person.names] == [PEOPLE[0][2]]
    assert {(v.value, v.lenders) for v in report.person.phones} == {("13800138000", 2), ("13912345678", 1)}
    with session_scope(runtime.engine) as session:
        logged = session.scalars(select(Inquiry)).one()
        entry = audit.list_entries(session, action="report.self_view")[0]
        assert audit.verify(session).ok
    assert (logged.subscriber_id, logged.purpose, logged.hard, logged.basis, logged.actor_code) == (
        None, "self_inquiry", 0, "self", "OPERATOR:test")
    assert entry.person_id == logged.person_id and json.loads(entry.details)["inquiry_id"] == logged.id
    assert [q.lender for q in own(runtime).inquiries] == ["You, at the bureau"]


def test_inquiries_older_than_the_display_period_are_not_shown(market) -> None:
    runtime, _ = market
    ask(runtime, "LENDER", consent_ref="L-1", now=NOW.replace(year=2024, month=11, day=19))
    ask(runtime, "LENDER", consent_ref="L-1", now=NOW.replace(year=2024, month=11, day=21))
    assert [q.at.date().isoformat() for q in own(runtime).inquiries] == ["2024-11-21"]


def test_open_disputes_and_identity_conflicts_are_flagged(market) -> None:
    runtime, _ = market
    with session_scope(runtime.engine, write=True) as session:
        dispute = disputes.file_dispute(session, vault=runtime.vault, policy=CN, now=NOW,
                                        principal=Principal.operator("OPERATOR:test"),
                                        data=DisputeCreate(subject=SUBJECT, kind="account", lender="OTHER",
                                                           furnisher_account_id="O-1", statement="never borrowed"))
        person_id = dispute.person_id
        other = get_member(session, code="OTHER").id
        ResolutionRepository(session).replace_conflicts([{"kind": "shared_phone", "person_id": person_id,
                                                          "furnisher_id": other, "evidence": "{}", "detected_at": NOW}])
    report = ask(runtime, "LENDER", consent_ref="L-1").report
    assert [a.disputed for a in report.accounts] == [False, True]
    (seen,) = report.disputes
    assert (seen.lender, seen.account_number, (seen.due_at - seen.filed_at).days) == ("Lender 2", None, 20)
    assert [(f.kind, f.lender) for f in report.identity_flags] == [("shared_phone", "Lender 2")]
    conflict = next(s for s in report.signals if s.code == "IDENTITY_CONFLICT")
    assert conflict.triggered and conflict.severity == "high"
    assert own(runtime).disputes[0].account_number == "O-1"


def test_the_published_json_schema_is_the_models_schema() -> None:
    assert json.loads(SCHEMA_DOC.read_text()) == InquiryResult.model_json_schema(), (
        "docs/report-schema.json is stale: python -m openbureau.reports.schemas > docs/report-schema.json")
