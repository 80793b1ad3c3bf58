"""Standard v1.1 in reports: a sole trader's business accounts in the person's report, and an enterprise's
report for members with a permitted purpose (logged, audited, other lenders masked), on both engines."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from openbureau.api.app import create_app
from openbureau.audit import service as audit
from openbureau.consent.profiles import Purpose, get_profile
from openbureau.consent.schemas import Subject
from openbureau.enterprises.models import Enterprise
from openbureau.inquiries.log import write_entries
from openbureau.inquiries.models import Inquiry
from openbureau.kit.crypto import PiiVault, load_keys, rotate_index_key
from openbureau.kit.db import session_scope
from openbureau.kit.errors import Forbidden, Unprocessable
from openbureau.kit.keyrotation import index_columns, reindex
from openbureau.members.models import Role
from openbureau.members.service import get_member
from openbureau.migrations.metadata import target_metadata
from openbureau.policy import Policy
from openbureau.present.report import render_html
from openbureau.principals import Principal
from openbureau.reports import service
from openbureau.reports.enterprise import enterprise_report, prepare_enterprise_report
from openbureau.reports.schemas import InquiryCreate
from tests.consent.factories import grant
from tests.enterprises.factories import FIRM_NAME, FIRM_USCC, SHOP_NAME, SHOP_USCC, enterprise, sole_trader
from tests.intake.factories import PEOPLE, person
from tests.members.factories import make_member
from tests.reports.factories import furnish

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
CN = Policy(profile=get_profile("CN"), reciprocity=False)
ID = PEOPLE[0][0]
LATE = dict(days_past_due="45", payment_status="2", past_due_amount="1200", first_delinquency_date="2026-08-16")


@pytest.fixture
def market(runtime, tmp_path):
    """BANK_A lends to the firm (E-A1) and to person 0's shop (S-1) and to person 0 (P-1); OTHER lends to the
    firm, late (E-O1). LENDER only subscribes; REG regulates; FURN only furnishes."""
    keys = {code: make_member(runtime, code, *roles, name=f"{code.title()} Ltd") for code, roles in (
        ("BANK_A", (Role.FURNISHER, Role.SUBSCRIBER)), ("OTHER", (Role.FURNISHER,)), ("LENDER", (Role.SUBSCRIBER,)),
        ("REG", (Role.REGULATOR,)), ("FURN", (Role.FURNISHER,)))}
    grant(runtime, "BANK_A", ID)
    grant(runtime, "LENDER", ID, Purpose.LOAN_ORIGINATION, ref="L-1")
    folder = tmp_path / "files"
    folder.mkdir()
    furnish(runtime, "BANK_A", [enterprise("E-A1"), sole_trader(0, "S-1"), person(0, furnisher_account_id="P-1")],
            folder)
    furnish(runtime, "OTHER", [enterprise("E-O1", **LATE, negative_notice_date=None)], folder)
    return runtime, keys


def ask_enterprise(runtime, code, uscc=FIRM_USCC, purpose=Purpose.LOAN_ORIGINATION, vault=None):
    with session_scope(runtime.engine, write=True) as session:
        return enterprise_report(session, vault=vault or runtime.vault, principal=Principal.of_member(
            get_member(session, code=code)), uscc=uscc, purpose=purpose, policy=CN, now=NOW)


def inquiries(runtime) -> list[tuple]:
    with session_scope(runtime.engine) as session:
        return [tuple(r) for r in session.execute(select(Inquiry.subscriber_id, Inquiry.person_id,
                                                         Inquiry.enterprise_id, Inquiry.purpose, Inquiry.basis))]


def test_an_enterprises_report_shows_its_accounts_across_lenders_others_masked(market) -> None:
    runtime, _ = market
    seen = ask_enterprise(runtime, "LENDER")
    report = seen.report
    assert seen.found and seen.inquiry_id > 0 and report.enterprise_name == FIRM_NAME
    assert report.enterprise_uscc == FIRM_USCC
    assert sorted((a.lender, a.account_number, a.payment_status) for a in report.accounts) == [
        ("Lender 1", None, "N"), ("Lender 2", None, "2")]
    assert (report.summary.credit_accounts, report.summary.distinct_lenders, report.summary.worst_status) == (2, 2, "2")
    assert report.summary.total_balance == 240000 and report.summary.past_due_amount == 1200
    # The lender that furnished an account sees it as its own, with its number; the other stays masked.
    own = ask_enterprise(runtime, "BANK_A", uscc="9135 0100 m000 100y43").report
    assert sorted((a.lender, a.own_account, a.account_number) for a in own.accounts) == [
        ("BANK_A", True, "E-A1"), ("Lender 1", False, None)]
    assert "OTHER" not in own.model_dump_json() and "E-O1" not in own.model_dump_json()


def test_a_sole_traders_accounts_are_personal_and_never_in_an_enterprise_report(market) -> None:
    runtime, _ = market
    shop = ask_enterprise(runtime, "LENDER", uscc=SHOP_USCC)
    assert (shop.found, shop.report) == (False, None)
    assert SHOP_NAME not in shop.model_dump_json()


def test_the_enterprise_inquiry_is_logged_and_audited_like_a_persons(market) -> None:
    runtime, _ = market
    seen = ask_enterprise(runtime, "LENDER", purpose=Purpose.ACCOUNT_REVIEW)
    unknown = ask_enterprise(runtime, "LENDER", uscc="914403001922038216")  # well formed, not furnished
    assert unknown.found is False and unknown.inquiry_id > seen.inquiry_id
    with session_scope(runtime.engine) as session:
        lender = get_member(session, code="LENDER").id
        logged = sorted(inquiries(runtime), key=lambda r: r[3])
        assert [(s, p, e is not None, purpose, basis) for s, p, e, purpose, basis in logged] == [
            (lender, None, True, "account_review", "enterprise"), (lender, None, False, "loan_origination", "enterprise")]
        entries = audit.list_entries(session, action="enterprise.report_read")
        assert len(entries) == 2 and all(e.actor_code == "LENDER" and e.person_id is None for e in entries)
        assert {json.loads(e.details)["inquiry_id"] for e in entries} == {seen.inquiry_id, unknown.inquiry_id}
        assert audit.verify(session).ok
        listed = service.list_inquiries(session, principal=Principal.of_member(get_member(session, code="LENDER")))
        assert [(i.enterprise, i.person_found, i.basis) for i in listed] == [(True, False, "enterprise")] * 2


@pytest.mark.parametrize(("code", "purpose", "refusal"), [
    ("LENDER", Purpose.SELF_INQUIRY, "PURPOSE_NOT_ALLOWED"),
    ("LENDER", Purpose.FURNISH, "PURPOSE_NOT_ALLOWED"),
    ("FURN", Purpose.LOAN_ORIGINATION, "ROLE_REQUIRED"),
    ("REG", Purpose.LOAN_ORIGINATION, "ROLE_REQUIRED"),
])
def test_a_lawful_purpose_and_the_subscriber_role_are_required(market, code, purpose, refusal) -> None:
    runtime, _ = market
    with pytest.raises(Forbidden) as refused:
        ask_enterprise(runtime, code, purpose=purpose)
    assert refused.value.code == refusal
    assert inquiries(runtime) == []  # nothing was read, nothing logged


@pytest.mark.parametrize(("uscc", "code"), [
    ("91350100M000100Y44", "USCC_CHECK_CHARACTER"),
    ("91350100M000100", "USCC_FORMAT"),
    ("91350100M000100Y43'--", "USCC_FORMAT"),
    ("9" * 65, "TOO_LONG"),
    ("", "REQUIRED_MISSING"),
])
def test_malformed_and_oversized_codes_are_refused_before_anything_is_read(market, uscc, code) -> None:
    runtime, _ = market
    with pytest.raises(Unprocessable) as refused:
        ask_enterprise(runtime, "LENDER", uscc=uscc)
    assert (refused.value.code, refused.value.field) == (code, "uscc")
    assert inquiries(runtime) == []


def test_the_person_sees_their_business_accounts_in_a_section_of_their_own(market) -> None:
    runtime, _ = market
    with session_scope(runtime.engine, write=True) as session:
        mine = service.own_report(session, vault=runtime.vault, subject=Subject(id_type="CN_RESIDENT_ID", id_number=ID),
                                  principal=Principal.operator("OPERATOR:test"), policy=CN, now=NOW)
    assert [a.account_number for a in mine.accounts] == ["P-1"]
    assert [(b.account_number, b.business_name, b.enterprise_uscc) for b in mine.business_accounts] == [
        ("S-1", SHOP_NAME, SHOP_USCC)]
    assert mine.summary.credit_accounts == 2  # the owner answers for the shop's debt (Civil Code Art. 56)
    # No enterprise's account is ever in a person's file.
    assert "E-A1" not in mine.model_dump_json() and FIRM_NAME not in mine.model_dump_json()
    page = render_html(mine)
    assert 'data-testid="business-accounts"' in page and SHOP_NAME in page and SHOP_USCC in page


def test_the_lender_sees_the_business_section_with_the_code_masked(market) -> None:
    runtime, _ = market
    with session_scope(runtime.engine, write=True) as session:
        seen = service.inquire(session, vault=runtime.vault, principal=Principal.of_member(
            get_member(session, code="LENDER")), policy=CN, now=NOW, request=InquiryCreate(
            subject=Subject(id_type="CN_RESIDENT_ID", id_number=ID), purpose=Purpose.LOAN_ORIGINATION,
            consent_ref="L-1"))
    business = seen.report.business_accounts
    assert [(b.lender, b.account_number, b.business_name) for b in business] == [("Lender 1", None, SHOP_NAME)]
    assert business[0].enterprise_uscc != SHOP_USCC and business[0].enterprise_uscc[:3] == SHOP_USCC[:3]
    assert [a.lender for a in seen.report.accounts] == ["Lender 1"]


def test_the_api_serves_the_enterprise_report(market) -> None:
    runtime, keys = market
    url = f"/v1/enterprises/{FIRM_USCC}/report"
    with TestClient(create_app(runtime)) as client:
        ok = client.get(url, params={"purpose": "loan_origination"}, headers={"X-API-Key": keys["LENDER"]})
        assert ok.status_code == 200 and ok.json()["found"] and len(ok.json()["report"]["accounts"]) == 2
        bad = client.get("/v1/enterprises/91350100M000100Y44/report", params={"purpose": "loan_origination"},
                         headers={"X-API-Key": keys["LENDER"]})
        assert (bad.status_code, bad.json()["code"]) == (422, "USCC_CHECK_CHARACTER")
        huge = client.get(f"/v1/enterprises/{'9' * 5000}/report", params={"purpose": "loan_origination"},
                          headers={"X-API-Key": keys["LENDER"]})
        assert huge.status_code in (414, 422)
        assert client.get(url, params={"purpose": "loan_origination"},
                          headers={"X-API-Key": keys["REG"]}).status_code == 403
        assert client.get(url, params={"purpose": "loan_origination"}).status_code == 401
        assert client.get(url, headers={"X-API-Key": keys["LENDER"]}).status_code == 422  # a purpose is required


def test_an_index_key_rotation_keeps_finding_the_enterprise(market, tmp_path) -> None:
    """Halfway through a rotation (the enterprises' indexes not yet recomputed) a load names the same
    enterprise and the report finds it; after the re-indexing too."""
    runtime, _ = market
    rotate_index_key(runtime.settings)
    rotating = PiiVault(load_keys(runtime.settings))
    furnish(runtime, "OTHER", [enterprise("E-O2", enterprise_uscc="9135 0100 M000 100Y43")], tmp_path)
    with session_scope(runtime.engine) as session:
        assert session.scalar(select(func.count()).select_from(Enterprise)) == 2  # the firm and the shop
    assert len(ask_enterprise(runtime, "LENDER", vault=rotating).report.accounts) == 3
    column = next(c for c in index_columns(target_metadata) if c.table.name == "enterprises")
    assert reindex(runtime.engine, column, rotating) == 2
    assert len(ask_enterprise(runtime, "LENDER", vault=rotating).report.accounts) == 3


def test_a_group_commit_logs_persons_and_enterprises_inquiries_in_one_batch(market) -> None:
    """The serving process's group commit writes whatever piled up: a person's inquiry and an enterprise's."""
    runtime, _ = market
    with session_scope(runtime.engine, write=True) as session:
        principal = Principal.of_member(get_member(session, code="LENDER"))
        person_entry = service.prepare_inquiry(session, vault=runtime.vault, principal=principal, policy=CN, now=NOW,
                                               request=InquiryCreate(subject=Subject(id_type="CN_RESIDENT_ID",
                                                                                     id_number=ID),
                                                                     purpose=Purpose.LOAN_ORIGINATION,
                                                                     consent_ref="L-1")).entry
        firm_entry = prepare_enterprise_report(session, vault=runtime.vault, principal=principal, uscc=FIRM_USCC,
                                               purpose=Purpose.LOAN_ORIGINATION, policy=CN, now=NOW).entry
        ids = write_entries(session, [person_entry, firm_entry, person_entry])
    assert len(set(ids)) == 3
    logged = inquiries(runtime)
    assert sorted((p is not None, e is not None) for _, p, e, _, _ in logged) == [
        (False, True), (True, False), (True, False)]
