"""Precision, recall and lead times per fraud pattern, on a hand-checked set of cases."""

from __future__ import annotations

from datetime import date

import pytest

from openbureau.fraud.evaluation import SCORE, Case, flag_reasons, summarise
from openbureau.signals.schemas import RiskSignal, Severity, SignalCode


def _signal(code: SignalCode, triggered: bool) -> RiskSignal:
    return RiskSignal(code=code, triggered=triggered, severity=Severity.MEDIUM if triggered else Severity.NONE,
                      explanation="x", values={}, thresholds={})


def test_flag_reasons_are_the_fraud_signals_triggered_and_a_high_score() -> None:
    signals = [_signal(SignalCode.VELOCITY, True), _signal(SignalCode.RING, False),
               _signal(SignalCode.MULTI_LENDING, True)]
    assert flag_reasons(signals, None) == ("VELOCITY",)
    assert flag_reasons(signals, "medium") == ("VELOCITY",)
    assert flag_reasons([_signal(SignalCode.RING, False)], "very high") == (SCORE,)


def test_summarise_counts_by_hand() -> None:
    d = date(2025, 5, 1)
    cases = [
        # bust-out: 3 of 4 flagged; first misses 10, 20 and 40 days after the flag; one default 100 days after.
        Case("bust_out", ("VELOCITY",), d, date(2025, 5, 11), date(2025, 8, 9)),
        Case("bust_out", ("VELOCITY", "SYNTHETIC_IDENTITY"), d, date(2025, 5, 21)),
        Case("bust_out", ("RING",), d, date(2025, 6, 10)),
        Case("bust_out", (), d, date(2025, 5, 2)),
        # takeover: 1 of 2 flagged, no payment missed yet.
        Case("takeover", ("VELOCITY",), d),
        Case("takeover", (), d),
        # 10 honest persons read, 1 flagged.
        *[Case(None, ("VELOCITY",) if i == 0 else (), d) for i in range(10)],
    ]
    found = summarise(cases, honest_population=10, not_in_bureau=2)
    bust, takeover = found.patterns
    assert (bust.pattern, bust.persons, bust.flagged) == ("bust_out", 4, 3)
    assert bust.recall == 0.75 and bust.precision == 0.75  # 3 / (3 + 1 honest)
    assert bust.median_days_to_first_miss == 20 and bust.median_days_to_default == 100
    assert bust.by_reason == {"VELOCITY": 2, "SYNTHETIC_IDENTITY": 1, "RING": 1}
    # Its own signal, VELOCITY: 2 of 4 fraudsters, and the one honest person it flagged.
    assert bust.signal == "VELOCITY" and bust.signal_recall == 0.5 and bust.signal_precision == pytest.approx(2 / 3)
    assert takeover.recall == 0.5 and takeover.precision == 0.5
    assert takeover.median_days_to_first_miss is None
    assert (found.honest, found.honest_flagged, found.not_in_bureau) == (10, 1, 2)
    # Honest persons sampled: 1 flagged of 10 read stands for 10 of the 100 in the period.
    sampled = summarise(cases, honest_population=100)
    assert sampled.patterns[0].precision == pytest.approx(3 / 13)
    assert sampled.honest_population == 100


def test_nothing_flagged_has_no_precision() -> None:
    found = summarise([Case("bust_out", (), date(2025, 5, 1)), Case(None, (), date(2025, 5, 1))])
    assert found.patterns[0].recall == 0.0 and found.patterns[0].precision is None


def test_on_a_tie_the_patterns_own_signal_is_its_signal_not_the_score() -> None:
    cases = [Case("ring", flagged=(SCORE, "RING"), at=date(2025, 5, 1)) for _ in range(3)]
    cases.append(Case(None, flagged=(SCORE,), at=date(2025, 5, 2)))
    [ring] = summarise(cases).patterns
    assert ring.signal == "RING" and ring.signal_recall == 1.0 and ring.signal_precision == 1.0
