"""A lender's prescreen on a hand-built file, both engines: the criteria select exactly the right persons;
opted-out, frozen and alerted persons are left off; each person selected has a soft inquiry that they see and
no other lender does, and that counts nowhere; another lender cannot read the list; bad criteria are answered
with their field and code; the CN profile refuses; only a subscriber may run one."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from openbureau.audit.models import AuditEntry
from openbureau.consent.profiles import Purpose
from openbureau.inquiries.models import Inquiry
from openbureau.kit.db import session_scope
from openbureau.kit.errors import BureauError
from openbureau.prescreen import optouts
from openbureau.prescreen import service as prescreen
from openbureau.prescreen.models import PrescreenSelection
from openbureau.principals import Principal
from openbureau.reports import service as reports
from openbureau.reports.schemas import InquiryCreate
from openbureau.rights import service as rights
from openbureau.signals.schemas import SignalCode
from tests.consent.factories import grant
from tests.intake.factories import PEOPLE
from tests.prescreen.conftest import CN, NAMES
from tests.prescreen.factories import names, person_id, run, signed_in, subject
from tests.reports.conftest import NOW

AT_COUNTER = Principal.operator("OPERATOR:t")


def _code(call) -> str:
    with pytest.raises(BureauError) as caught:
        call()
    return caught.value.code


def test_each_criterion_selects_exactly_the_persons_whose_files_meet_it(market) -> None:
    runtime, who, _ = market
    lender = who["LENDER"]
    cases = [
        ({"no_delinquency_days": 30}, {0, 2, 3}),
        ({"no_delinquency_days": 60}, {0, 1, 2, 3}),  # 31-60 days late is not 60 days late
        ({"no_delinquency_days": 30, "delinquency_months": 2}, {0, 1, 2, 3}),  # 2026-08 is outside 2026-09..10
        ({"max_open_accounts": 1}, {0, 1, 3}),
        ({"max_total_balance": 200_000}, {0, 1, 3}),
        ({"score_min": 650}, {0, 1, 3}),
        ({"score_min": 400, "score_max": 600}, {2}),
        ({"regions": ["TX"]}, {2}),
        ({"regions": ["606"], "no_delinquency_days": 30}, {3}),
        ({"regions": ["IL"], "score_min": 650, "no_delinquency_days": 30, "max_open_accounts": 1}, {0, 3}),
    ]
    for criteria, expected in cases:
        done = run(runtime, lender, **criteria)
        assert done.status == "done" and done.persons_considered == 4, criteria
        assert done.persons_selected == len(expected), criteria
        assert names(runtime, lender, done.id) == {NAMES[i] for i in expected}, criteria
        assert done.model_version == "prescreen-test"


def test_the_list_holds_a_reference_a_name_and_an_address_only_and_stops_at_its_cap(market) -> None:
    runtime, who, _ = market
    done = run(runtime, who["LENDER"], max_persons=2, no_delinquency_days=90)
    assert done.persons_selected == 2
    with session_scope(runtime.engine, write=True) as session:
        page = prescreen.firm_offer_list(session, vault=runtime.vault, principal=who["LENDER"], prescreen_id=done.id)
        sealed = session.scalars(select(PrescreenSelection.mailing_enc)).all()
    assert [set(e.model_dump()) for e in page.entries] == [{"reference", "name", "address"}] * 2
    assert all(e.reference.startswith(f"pre-{done.id}-") for e in page.entries)
    # sealed at rest: neither a name nor an address is in the stored bytes
    assert all(n.encode() not in b"".join(sealed) for n in NAMES)


def test_opted_out_frozen_and_alerted_persons_are_never_selected(market) -> None:
    runtime, who, _ = market
    criteria = {"no_delinquency_days": 90}
    with session_scope(runtime.engine, write=True) as session:
        optouts.opt_out(session, vault=runtime.vault, policy=runtime.policy, principal=signed_in(runtime, 0),
                        term="five_years", now=NOW - timedelta(days=1))
        rights.place_freeze(session, vault=runtime.vault, principal=AT_COUNTER, subject=subject(1),
                            now=NOW - timedelta(days=1))
        rights.place_fraud_alert(session, vault=runtime.vault, principal=AT_COUNTER, subject=subject(2),
                                 now=NOW - timedelta(days=1))
    done = run(runtime, who["LENDER"], **criteria)
    assert names(runtime, who["LENDER"], done.id) == {NAMES[3]}
    assert done.persons_considered == 1  # the excluded files are not even read
    # Before they protected their files, all four were candidates.
    earlier = run(runtime, who["LENDER"], now=NOW - timedelta(days=2), **criteria)
    assert earlier.persons_selected == 4


def test_the_prescreen_is_a_soft_inquiry_the_person_sees_and_no_other_lender_does_nor_any_count(market) -> None:
    runtime, who, _ = market
    done = run(runtime, who["LENDER"], no_delinquency_days=30, regions=["IL"])
    with session_scope(runtime.engine) as session:
        logged = session.scalars(select(Inquiry).where(Inquiry.purpose == "prescreen")).all()
        audited = session.scalars(select(AuditEntry).where(AuditEntry.action == "prescreen.select")).all()
    assert sorted(i.person_id for i in logged) == sorted(person_id(runtime, i) for i in (0, 3))
    assert all(i.hard == 0 and i.subscriber_id == who["LENDER"].member_id and i.basis == "prescreen" for i in logged)
    assert {(a.person_id, json.loads(a.details)["prescreen_id"]) for a in audited} == {
        (i.person_id, done.id) for i in logged}
    later = NOW + timedelta(minutes=5)
    # The person sees it, with the law it rests on.
    with session_scope(runtime.engine, write=True) as session:
        mine = reports.person_inquiries(session, principal=signed_in(runtime, 0), policy=runtime.policy, now=later)
        own = reports.own_report(session, vault=runtime.vault, subject=subject(0), principal=AT_COUNTER,
                                 policy=runtime.policy, now=later)
    assert [(q.by, q.purpose, q.hard) for q in mine] == [("LENDER", "prescreen", False)]
    assert "§604(c)(1)(B)" in mine[0].note
    assert any(q.purpose == "prescreen" and "§604(c)(1)(B)" in q.basis for q in own.inquiries)
    # Another lender's report shows neither the inquiry nor a count of it, and no signal counts it.
    grant(runtime, "OTHER", PEOPLE[0][0], Purpose.LOAN_ORIGINATION, ref="O-1")
    with session_scope(runtime.engine, write=True) as session:
        seen = reports.inquire(session, vault=runtime.vault, principal=who["OTHER"], policy=runtime.policy, now=later,
                               request=InquiryCreate(subject=subject(0), purpose=Purpose.LOAN_ORIGINATION,
                                                     consent_ref="O-1")).report
    assert not any(q.purpose == "prescreen" for q in seen.inquiries)
    assert seen.summary.hard_inquiries_12m == 0
    signals = {s.code: s for s in seen.signals}
    assert not signals[SignalCode.MULTI_LENDING].triggered and not signals[SignalCode.VELOCITY].triggered
    assert all(v == 0 for k, v in signals[SignalCode.MULTI_LENDING].values.items() if k.startswith("lenders_"))
    assert seen.score is not None and seen.score.score == 700


def test_another_lender_cannot_read_a_prescreen_or_its_list(market) -> None:
    runtime, who, _ = market
    done = run(runtime, who["LENDER"], no_delinquency_days=30)
    with session_scope(runtime.engine, write=True) as session:
        for call in (lambda: prescreen.get_prescreen(session, principal=who["OTHER"], prescreen_id=done.id),
                     lambda: prescreen.firm_offer_list(session, vault=runtime.vault, principal=who["OTHER"],
                                                       prescreen_id=done.id)):
            assert _code(call) == "PRESCREEN_NOT_FOUND"
        assert prescreen.list_prescreens(session, principal=who["OTHER"]) == []
        assert [p.id for p in prescreen.list_prescreens(session, principal=who["LENDER"])] == [done.id]


@pytest.mark.parametrize(("criteria", "field", "code"), [
    ({}, "criteria", "NO_CRITERIA"),
    ({"score_min": 700, "score_max": 600}, "criteria.score_min", "INVALID_SCORE_RANGE"),
    ({"score_min": 200}, "criteria.score_min", "SCORE_OUT_OF_SCALE"),
    ({"score_max": 900}, "criteria.score_max", "SCORE_OUT_OF_SCALE"),
    ({"regions": ["IL", "Illinois"]}, "criteria.regions.1", "INVALID_REGION"),
])
def test_bad_criteria_are_answered_with_their_field_and_code_and_run_nothing(market, criteria, field, code) -> None:
    runtime, who, _ = market
    with pytest.raises(BureauError) as caught:
        run(runtime, who["LENDER"], **criteria)
    assert (caught.value.code, caught.value.field, caught.value.status_code) == (code, field, 422)
    with session_scope(runtime.engine) as session:
        assert prescreen.list_prescreens(session, principal=who["LENDER"]) == []
        assert session.scalars(select(Inquiry)).all() == []


def test_a_score_range_needs_a_released_scorecard(runtime) -> None:
    from openbureau.members.models import Role
    from openbureau.members.service import get_member
    from tests.members.factories import make_member
    from tests.prescreen.conftest import US

    make_member(runtime, "LENDER", Role.SUBSCRIBER)
    with session_scope(runtime.engine) as session:
        lender = Principal.of_member(get_member(session, code="LENDER"))
    with pytest.raises(BureauError) as caught:
        run(runtime, lender, policy=US, score_min=600)
    assert (caught.value.code, caught.value.field) == ("NO_RELEASED_MODEL", "criteria.score_min")


def test_the_cn_profile_refuses_prescreening_naming_the_law(market) -> None:
    runtime, who, _ = market
    with pytest.raises(BureauError) as caught:
        run(runtime, who["LENDER"], policy=CN, no_delinquency_days=30)
    assert caught.value.code == "PRESCREEN_NOT_AVAILABLE" and caught.value.status_code == 403
    assert "Art. 18" in caught.value.message and "PIPL" in caught.value.message
    with session_scope(runtime.engine, write=True) as session:
        assert _code(lambda: optouts.opt_out(session, vault=runtime.vault, policy=CN, principal=signed_in(runtime, 0),
                                             term="permanent")) == "PRESCREEN_NOT_AVAILABLE"


def test_only_a_subscriber_may_run_a_prescreen(market) -> None:
    runtime, who, _ = market
    for principal in (who["BANK_A"], who["REG"], signed_in(runtime, 0), AT_COUNTER,
                      Principal.person("PERSON:outsider")):
        assert _code(lambda p=principal: run(runtime, p, no_delinquency_days=30)) == "ROLE_REQUIRED"
        with session_scope(runtime.engine) as session:
            assert _code(lambda p=principal: prescreen.list_prescreens(session, principal=p)) == "ROLE_REQUIRED"
    with pytest.raises(TypeError):
        run(runtime, None, no_delinquency_days=30)
    with session_scope(runtime.engine) as session:
        assert session.scalars(select(Inquiry)).all() == []


def test_a_merged_persons_opt_out_keeps_the_survivor_off_the_list_and_nobody_else(market) -> None:
    # The opt-out of a person later merged into another follows the survivor; it must not reach the files of
    # persons who merged with nobody (the condition once read "merged into anyone" for every candidate).
    from openbureau.identity import service as identity

    runtime, who, _ = market
    ids = [person_id(runtime, index) for index in range(4)]
    with session_scope(runtime.engine, write=True) as session:
        optouts.opt_out(session, vault=runtime.vault, policy=runtime.policy, principal=signed_in(runtime, 1),
                        term="five_years", now=NOW - timedelta(days=1))
    with session_scope(runtime.engine, write=True) as session:
        identity.merge(session, principal=AT_COUNTER, person_id=ids[1], into_person_id=ids[0])
    done = run(runtime, who["LENDER"], no_delinquency_days=90)
    assert names(runtime, who["LENDER"], done.id) == {NAMES[2], NAMES[3]}
