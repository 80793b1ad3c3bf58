"""A released model of either engine scores an inquiry with its reasons, and the person's own report with what
would raise the score: registry, release and inquiry read the artefact's engine, nothing else changes."""

from __future__ import annotations

import json

import pytest

from openbureau.audit.service import operator_code
from openbureau.consent.profiles import Purpose
from openbureau.consent.schemas import Subject
from openbureau.kit.db import session_scope
from openbureau.members.service import get_member
from openbureau.principals import Principal
from openbureau.reports.schemas import InquiryCreate
from openbureau.reports.service import inquire, own_report
from openbureau.scoring import engines, service, training
from openbureau.scoring.features import FEATURE_BY_NAME
from openbureau.scoring.scorecard import SCALES
from tests.reports.conftest import ID, NOW, market  # noqa: F401 (the small market, a fixture)
from tests.scoring import synthetic

CODES = {f.reason for f in FEATURE_BY_NAME.values()}


@pytest.fixture(scope="module", params=engines.ENGINES)
def card(request):
    """A bureau model of each engine, trained on synthetic files."""
    return training.train_bureau(synthetic.training_set(2_500), scale=SCALES["300-850"],
                                 version=f"synthetic-{request.param}", engine=request.param)


def test_a_released_model_of_either_engine_scores_an_inquiry_with_reasons(market, card, monkeypatch) -> None:  # noqa: F811
    runtime, _ = market
    monkeypatch.setattr(service, "RELEASE_CHECK_SECONDS", 0.0)
    with session_scope(runtime.engine, write=True) as session:
        service.register(session, card=card, actor_code=operator_code())
        service.release(session, version=card.model_version, actor_code=operator_code())
        stored = json.loads(service.artefact_text(service.load(session, card.model_version)))
    assert stored == json.loads(service.artefact_text(card))
    assert stored.get("engine", "scorecard") == engines.engine_of(card)
    with session_scope(runtime.engine, write=True) as session:
        principal = Principal.of_member(get_member(session, code="LENDER"))
        result = inquire(session, vault=runtime.vault, principal=principal, policy=runtime.policy, now=NOW,
                         request=InquiryCreate(subject=Subject(id_type="CN_RESIDENT_ID", id_number=ID),
                                               purpose=Purpose.LOAN_ORIGINATION, consent_ref="L-1"))
    score = result.report.score
    assert score is not None and score.scorable and score.model_version == card.model_version
    assert 300 <= score.score <= 850 and score.band and score.improvements is None
    # Late payments in 2026 and an account opened this month: reasons, the costliest first, in the dictionary's codes.
    assert score.reasons and {r.code for r in score.reasons} <= CODES
    assert [r.points for r in score.reasons[:4]] == sorted((r.points for r in score.reasons[:4]), reverse=True)
    assert {"LATE_30", "DELINQUENCY_24M"} & {r.code for r in score.reasons}
    with session_scope(runtime.engine, write=True) as session:
        own = own_report(session, vault=runtime.vault, principal=Principal.operator(operator_code()),
                         policy=runtime.policy, now=NOW, subject=Subject(id_type="CN_RESIDENT_ID", id_number=ID))
    assert own.score.score == score.score and own.score.improvements
    assert own.score.improvements[0].points == score.reasons[0].points
