"""The fraud-risk score in the inquiry's answer and the report, on both engines: null before a fraud model is
released, then separate from the credit score with reasons in plain words."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from openbureau.api.app import create_app
from openbureau.audit.service import operator_code
from openbureau.consent.profiles import Purpose
from openbureau.consent.schemas import Subject
from openbureau.kit.db import session_scope
from openbureau.members.service import get_member
from openbureau.present.report import render_html
from openbureau.principals import Principal
from openbureau.reports.schemas import InquiryCreate
from openbureau.reports.service import inquire
from openbureau.scoring import service as scoring
from tests.fraud.conftest import HONEST, subject_id
from tests.fraud.factories import NOW, build

PLAIN = re.compile(r"^[A-Z][a-z ,]+$")


def _inquire(runtime, n: int):
    with session_scope(runtime.engine, write=True) as session:
        principal = Principal.of_member(get_member(session, code="LENDER"))
        return inquire(session, vault=runtime.vault, principal=principal, policy=runtime.policy, now=NOW,
                       request=InquiryCreate(subject=Subject(id_type="CN_RESIDENT_ID", id_number=subject_id(n)),
                                             purpose=Purpose.LOAN_ORIGINATION, consent_ref=f"L-{n}"))


@pytest.fixture
def released(market, fraud_card, monkeypatch):
    """The market with the trained fraud model registered and released (no credit model)."""
    runtime, keys = market
    monkeypatch.setattr(scoring, "RELEASE_CHECK_SECONDS", 0.0)
    build(runtime)
    with session_scope(runtime.engine, write=True) as session:
        scoring.register(session, card=fraud_card, actor_code=operator_code())
        scoring.release(session, version=fraud_card.model_version, actor_code=operator_code())
    return runtime, keys


def test_without_a_released_fraud_model_the_field_is_null(market, monkeypatch) -> None:
    runtime, keys = market
    monkeypatch.setattr(scoring, "RELEASE_CHECK_SECONDS", 0.0)
    build(runtime)
    result = _inquire(runtime, 1)
    assert result.report.fraud_score is None and result.report.score is None
    assert any(s.code == "RING" and s.triggered for s in result.report.signals)  # the signals are there
    with TestClient(create_app(runtime)) as client:
        body = {"subject": {"id_type": "CN_RESIDENT_ID", "id_number": subject_id(HONEST)},
                "purpose": "loan_origination", "consent_ref": f"L-{HONEST}"}
        r = client.post("/v1/inquiries", headers={"X-API-Key": keys["LENDER"]}, json=body)
    assert r.status_code == 201 and r.json()["report"]["fraud_score"] is None


def test_the_answer_carries_the_fraud_score_apart_from_the_credit_score(released) -> None:
    runtime, keys = released
    ring, honest = _inquire(runtime, 1).report, _inquire(runtime, HONEST).report
    assert ring.score is None  # releasing a fraud model released no credit score
    fs = ring.fraud_score
    assert fs is not None and fs.model_version == "fraud-test" and fs.scale == "0-999" and 0 <= fs.score <= 999
    assert fs.score > honest.fraud_score.score  # the ring's member is riskier than the honest person
    assert 1 <= len(fs.reasons) <= 4 and all(PLAIN.match(r.text) for r in fs.reasons)
    assert "RING_DELINQUENT" in {r.code for r in fs.reasons} or "SHARED_DETAILS" in {r.code for r in fs.reasons}
    page = render_html(ring, inquiry_id=1)
    assert 'data-testid="fraud-score"' in page and "higher means more risk" in page and fs.reasons[0].text in page
    with TestClient(create_app(runtime)) as client:
        body = {"subject": {"id_type": "CN_RESIDENT_ID", "id_number": subject_id(1)}, "purpose": "loan_origination",
                "consent_ref": "L-1"}
        answer = client.post("/v1/inquiries", headers={"X-API-Key": keys["LENDER"]}, json=body).json()
    report = answer["report"]
    assert report["score"] is None and report["fraud_score"]["score"] == fs.score
    assert [r["code"] for r in report["fraud_score"]["reasons"]] == [r.code for r in fs.reasons]


def test_a_credit_model_cannot_be_replaced_by_a_fraud_release(released, fraud_card) -> None:
    runtime, _ = released
    with session_scope(runtime.engine) as session:
        assert scoring.released_model(session, kind="fraud").kind == "fraud"
        assert scoring.released_model(session, kind="bureau") is None
