"""A score that moves by the threshold a lender set on its registration is a score_change trigger for that
registration only, measured from the score last told; the payload says which way, never the score."""

from __future__ import annotations

from datetime import timedelta

import pytest

from openbureau.kit.db import session_scope
from openbureau.kit.errors import NotFound
from openbureau.monitoring import service
from openbureau.monitoring.schemas import SubscriptionUpdate
from openbureau.reports.score_watch import watch_scores
from openbureau.scoring import service as scoring
from openbureau.scoring.scorecard import SCALES, BinnedFeature, Scorecard, Segment
from tests.events.conftest import NOW
from tests.monitoring.factories import add_endpoint, principal, register, subscription, triggers, worker
from tests.reports.factories import furnish, history, month


def _release_card(runtime) -> None:
    """700 points with less than 2,000.00 owed on open credit, 500 with more."""
    feature = BinnedFeature("total_balance", "numeric", splits=[200_000.0], labels=["< 2000", ">= 2000"],
                            points=[300.0, 100.0], missing_points=100.0)
    card = Scorecard(model_version="watch-test", kind="bureau", scale=SCALES["300-850"],
                     segments={"main": Segment("main", 0.0, 400.0, [feature])})
    with session_scope(runtime.engine, write=True) as session:
        scoring.register(session, card=card, actor_code="OPERATOR:test")
        scoring.release(session, version="watch-test", actor_code="OPERATOR:test")


def test_a_score_moved_by_the_threshold_is_a_trigger(market, receiver, tmp_path, monkeypatch) -> None:
    runtime, _ = market
    monkeypatch.setattr(scoring, "RELEASE_CHECK_SECONDS", 0.0)
    furnish(runtime, "LENDER", history(1, "LOAN-1", "2024-11", "N" * 24, balance="100000"), tmp_path,
            today=NOW.date())
    _release_card(runtime)
    with session_scope(runtime.engine, write=True) as session:
        read = service.register(session, registrar=_registrar(runtime), principal=principal(runtime, "LENDER"),
                                data=subscription(1, "REF-1").model_copy(update={"score_threshold": 150}), now=NOW)
        other = service.register(session, registrar=_registrar(runtime), principal=principal(runtime, "LENDER"),
                                 data=subscription(0, "REF-0"), now=NOW)  # no threshold: its score is not watched
    assert read.score_threshold == 150 and other.score_threshold is None
    add_endpoint(runtime, "LENDER", receiver.url)
    first = watch_scores(runtime.engine, policy=runtime.policy, now=NOW)
    assert (first.looked, first.baselines, first.triggers) == (1, 1, 0)  # the first look sets the baseline
    assert watch_scores(runtime.engine, policy=runtime.policy, now=NOW).triggers == 0  # unchanged
    # Another lender's new instalment loan with a large balance: 700 -> 500, by 200 >= 150.
    furnish(runtime, "P2", [month(1, "BIG-1", "2026-10", product="installment", opened_on="2025-01-05",
                                  balance="9000000")], tmp_path, today=NOW.date())
    before = len(triggers(runtime))
    assert watch_scores(runtime.engine, policy=runtime.policy, now=NOW + timedelta(hours=1)).triggers == 1
    assert triggers(runtime)[before:] == [("score_change", "score_fell", "REF-1")]
    assert watch_scores(runtime.engine, policy=runtime.policy, now=NOW + timedelta(hours=2)).triggers == 0
    w = worker(runtime)
    while w.run_once().handled:  # the load's new-credit trigger (at the clock's time) comes first
        pass
    (got,) = [r for r in receiver.received if r.payload["type"] == "monitoring.score_change"]
    assert got.payload["data"] == {"reference": "REF-1", "category": "score_fell",
                                   "occurred_at": (NOW + timedelta(hours=1)).isoformat()}
    assert "500" not in got.body.decode() and "700" not in got.body.decode()


def test_a_threshold_is_set_and_cleared_on_ones_own_registration_only(market) -> None:
    runtime, _ = market
    read = register(runtime, "LENDER", 0, "REF-0")
    lender, other = principal(runtime, "LENDER"), principal(runtime, "OTHER")
    with session_scope(runtime.engine, write=True) as session:
        changed = service.update_subscription(session, principal=lender, subscription_id=read.id,
                                              data=SubscriptionUpdate(score_threshold=40))
        assert changed.score_threshold == 40
        with pytest.raises(NotFound):
            service.update_subscription(session, principal=other, subscription_id=read.id,
                                        data=SubscriptionUpdate(score_threshold=10))
        cleared = service.update_subscription(session, principal=lender, subscription_id=read.id,
                                              data=SubscriptionUpdate(score_threshold=None))
    assert cleared.score_threshold is None
    with pytest.raises(ValueError):
        SubscriptionUpdate(score_threshold=0)


def _registrar(runtime):
    from tests.monitoring.factories import registrar
    return registrar(runtime)
