"""Rings, the fraud list and the fraud signals through the services, on both engines."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from openbureau.audit import service as audit
from openbureau.audit.service import terminal_operator
from openbureau.consent.profiles import Purpose
from openbureau.consent.schemas import Subject
from openbureau.disputes import service as disputes
from openbureau.disputes.models import DisputeKind, DisputeOutcome
from openbureau.disputes.schemas import DisputeCreate
from openbureau.fraud import service as fraud
from openbureau.fraud.schemas import FraudCategory, FraudReportCreate
from openbureau.fraud.tasks import build_rings
from openbureau.kit.db import session_scope
from openbureau.kit.errors import Conflict, Forbidden, NotFound
from openbureau.members.service import get_member
from openbureau.principals import Principal
from openbureau.reports.schemas import InquiryCreate
from openbureau.reports.service import inquire
from tests.fraud.conftest import CALLERS, HONEST, subject_id
from tests.fraud.factories import NOW, RING_ADDRESS, RING_PHONE, build


def _principal(session, code: str) -> Principal:
    return Principal.of_member(get_member(session, code=code))


def _inquire(runtime, n: int, lender: str = "LENDER"):
    with session_scope(runtime.engine, write=True) as session:
        return inquire(session, vault=runtime.vault, principal=_principal(session, lender), policy=runtime.policy,
                       now=NOW, request=InquiryCreate(subject=Subject(id_type="CN_RESIDENT_ID", id_number=subject_id(n)),
                                                      purpose=Purpose.LOAN_ORIGINATION, consent_ref=f"L-{n}"))


def _signal(result, code: str):
    return next(s for s in result.report.signals if s.code == code)


def _report(runtime, lender: str, n: int, **kwargs):
    data = FraudReportCreate(subject=Subject(id_type="CN_RESIDENT_ID", id_number=subject_id(n)),
                             category=kwargs.pop("category", FraudCategory.IDENTITY_THEFT), occurred_on=date(2026, 10, 1),
                             reference="CASE-1", description="The victim confirmed at a branch that she never applied.",
                             accounts=["A-1"], **kwargs)
    with session_scope(runtime.engine, write=True) as session:
        return fraud.report_fraud(session, vault=runtime.vault, principal=_principal(session, lender), data=data, now=NOW)


def test_a_ring_is_found_over_blind_indexes_and_shown_without_naming_its_members(market) -> None:
    runtime, _ = market
    done = build(runtime)
    assert (done.rings, done.persons, done.flagged_persons, done.over_cap) == (1, 3, 3, 1)
    result = _inquire(runtime, 1)
    ring = _signal(result, "RING")
    # The phone persons 1 and 2 share was reported by one lender only: it links nobody; the address links all.
    assert ring.triggered and ring.values["ring_size"] == 3 and ring.values["linked_by"] == "address"
    assert ring.values["lenders"] == 2 and ring.values["delinquent_share"] == pytest.approx(1 / 3, abs=1e-4)
    assert ring.explanation.startswith("An address given for this person is also given for 2 other persons")
    assert "2 different lenders" in ring.explanation and "1 of the 3 (33%)" in ring.explanation
    page = result.model_dump_json()
    for other in (2, 3):  # never another member's identity, name or ring number
        assert subject_id(other) not in page and subject_id(other)[-6:] not in page
    assert "钱伟" not in page and "吴敏" not in page and "ring_id" not in page
    # The stored rings hold no clear phone or address.
    with session_scope(runtime.engine) as session:
        stored = [tuple(r) for r in session.execute(__import__("sqlalchemy").text("SELECT * FROM fraud_ring_members"))]
    assert stored and not any(RING_PHONE in str(r) or RING_ADDRESS in str(r) for r in stored)


def test_a_shared_hotline_over_the_cap_and_an_honest_person_make_no_ring(market) -> None:
    runtime, _ = market
    build(runtime)
    for n in (HONEST, CALLERS[0]):
        ring = _signal(_inquire(runtime, n), "RING")
        assert not ring.triggered and ring.values["ring_size"] == 0


def test_the_synthetic_identity_signal_names_its_reasons(market) -> None:
    runtime, _ = market
    build(runtime)
    synthetic = _signal(_inquire(runtime, 2), "SYNTHETIC_IDENTITY")  # young file and shared contact details
    assert synthetic.triggered and synthetic.values["young_file"] == 1 and synthetic.values["shared_attributes"] == 1
    assert "the file is young" in synthetic.explanation.lower() and "unrelated person" in synthetic.explanation
    honest = _signal(_inquire(runtime, HONEST), "SYNTHETIC_IDENTITY")  # young but nothing shared: not enough
    assert not honest.triggered and honest.values["young_file"] == 1


def test_only_the_operator_builds_rings(market) -> None:
    runtime, _ = market
    with session_scope(runtime.engine) as session:
        regulator = _principal(session, "REG")
    with pytest.raises(Forbidden):
        build_rings(runtime.engine, vault=runtime.vault, settings=runtime.policy.signals, principal=regulator, now=NOW)
    with pytest.raises(TypeError):
        build_rings(runtime.engine, vault=runtime.vault, settings=runtime.policy.signals, principal=None, now=NOW)


def test_a_fraud_report_is_shown_to_other_lenders_without_its_reporter_and_audited(market) -> None:
    runtime, _ = market
    filed = _report(runtime, "BANK_A", 1)
    result = _inquire(runtime, 1)
    listed = _signal(result, "FRAUD_LIST")
    assert listed.triggered and listed.values["reports"] == 1 and "a lender reported identity theft" in listed.explanation
    page = result.model_dump_json()
    assert "BANK_A" not in page and "CASE-1" not in page and "never applied" not in page
    with session_scope(runtime.engine) as session:
        (entry,) = [e for e in audit.list_entries(session, action="inquiry.read")]
        (filing,) = audit.list_entries(session, action="fraud.report")
    details = [d if isinstance(d, dict) else json.loads(d) for d in (entry.details, filing.details)]
    assert details[0]["fraud_list_reports"] == 1 and details[1]["report_id"] == filed.id


def test_a_lender_withdraws_only_its_own_report(market) -> None:
    runtime, _ = market
    filed = _report(runtime, "BANK_A", 1)
    with session_scope(runtime.engine, write=True) as session, pytest.raises(NotFound):
        fraud.withdraw_report(session, principal=_principal(session, "BANK_B"), report_id=filed.id, reason="x", now=NOW)
    assert _signal(_inquire(runtime, 1), "FRAUD_LIST").triggered
    with session_scope(runtime.engine, write=True) as session:
        done = fraud.withdraw_report(session, principal=_principal(session, "BANK_A"), report_id=filed.id,
                                     reason="filed in error", now=NOW)
    assert done.status == "withdrawn"
    assert not _signal(_inquire(runtime, 1), "FRAUD_LIST").triggered
    with session_scope(runtime.engine, write=True) as session, pytest.raises(Conflict):
        fraud.withdraw_report(session, principal=_principal(session, "BANK_A"), report_id=filed.id, reason="x", now=NOW)


def test_only_a_lender_that_dealt_with_the_person_may_report_and_never_a_regulator_or_the_person(market) -> None:
    runtime, _ = market
    with pytest.raises(Forbidden, match="no account"):
        _report(runtime, "BANK_B", 1)  # BANK_B holds no account of person 1 and never inquired
    with pytest.raises(Forbidden):
        _report(runtime, "REG", 1)
    data = FraudReportCreate(subject=Subject(id_type="CN_RESIDENT_ID", id_number=subject_id(1)),
                             category=FraudCategory.SYNTHETIC_IDENTITY, occurred_on=date(2026, 10, 1), reference="R",
                             description="a person reporting themselves")
    with session_scope(runtime.engine, write=True) as session, pytest.raises(Forbidden):
        fraud.report_fraud(session, vault=runtime.vault, principal=Principal.person("PERSON:1", person_id=1), data=data)
    _inquire(runtime, 1)  # an inquiry is a relationship: LENDER may report now
    assert _report(runtime, "LENDER", 1).status == "active"


def test_the_person_disputes_a_report_and_a_deletion_takes_it_off_the_list(market) -> None:
    runtime, _ = market
    filed = _report(runtime, "BANK_A", 1)
    ops = terminal_operator()
    data = DisputeCreate(subject=Subject(id_type="CN_RESIDENT_ID", id_number=subject_id(1)),
                         kind=DisputeKind.FRAUD_REPORT, fraud_report_id=filed.id, statement="I was the victim.")
    with session_scope(runtime.engine, write=True) as session:
        with pytest.raises(NotFound):  # another person's or no report
            disputes.file_dispute(session, vault=runtime.vault, principal=ops, policy=runtime.policy, now=NOW,
                                  data=data.model_copy(update={"fraud_report_id": filed.id + 99}),
                                  fraud_reports=fraud.reporter_of)
    with session_scope(runtime.engine, write=True) as session:
        dispute = disputes.file_dispute(session, vault=runtime.vault, principal=ops, policy=runtime.policy, now=NOW,
                                        data=data, fraud_reports=fraud.reporter_of)
        dispute_id = dispute.id
    listed = _signal(_inquire(runtime, 1), "FRAUD_LIST")
    assert listed.triggered and listed.values["disputed"] == 1 and "the person disputes" in listed.explanation
    with session_scope(runtime.engine, write=True) as session:
        disputes.resolve_dispute(session, vault=runtime.vault, principal=ops, dispute_id=dispute_id,
                                 outcome=DisputeOutcome.DELETED, now=NOW + timedelta(days=1))
    assert not _signal(_inquire(runtime, 1), "FRAUD_LIST").triggered


def test_a_young_file_with_a_typed_slip_of_its_name_is_no_synthetic_identity() -> None:
    """A lender that typed one character of the name wrong (张玮 for 张伟) made a slip of data entry; a lender
    that reports another name says the person may be someone else."""
    from openbureau.fraud.signals import synthetic_identity
    from openbureau.policy import SignalSettings

    young = dict(first_account=date(2026, 9, 1), facts=None, now=datetime(2026, 11, 20, tzinfo=UTC),
                 settings=SignalSettings())
    slip = synthetic_identity(conflicts=["name_typo"], **young)
    assert not slip.triggered and slip.values["name_conflict"] == 0
    other = synthetic_identity(conflicts=["name_mismatch", "name_typo"], **young)
    assert other.triggered and "lenders report different names" in other.explanation
