"""How well the fraud signals and score find each fraud pattern, against known cases (a simulated market's truth).

A *case* is a person seen at one moment: a fraudster at the first application of their fraud, an honest
person at their own first application of the same period. A case is **flagged** when the report at that
moment (the inquiry's view) has any fraud signal triggered (``RING``, ``VELOCITY``, ``CONTACT_CHANGE``, ``SYNTHETIC_IDENTITY``,
``FRAUD_LIST``) or, once a fraud model is released, a fraud-risk score in the band ``high`` or above (500:
even odds of fraud). Per pattern:

* recall: flagged fraudsters of the pattern / fraudsters of the pattern;
* precision: flagged fraudsters of the pattern / (those + honest persons flagged), as if the pattern were the
  only fraud in the market (the honest persons flagged at their first application are the same for every
  pattern; when they were sampled, their count is scaled to the honest population);
* the same for the pattern's own signal alone: the reason that flagged most of its fraudsters (``RING`` for
  the rings), counting only the honest persons that reason flagged: what a lender acting on that one signal
  would see;
* days from the flag to the fraud's first missed payment and to its default (90+ days past due), medians
  over the flagged fraudsters whose truth has them.

Pure computation over cases: ``reports.fraud_evaluation`` reads the bureau and builds them.

Example:
    >>> cases = [Case("bust_out", flagged=("VELOCITY",), at=date(2025, 5, 1), first_missed_on=date(2025, 6, 2)),
    ...          Case(None, flagged=(), at=date(2025, 5, 3))]
    >>> summarise(cases, honest_population=1).patterns[0].recall
    1.0
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from openbureau.signals.schemas import RiskSignal, SignalCode

FRAUD_SIGNALS = (SignalCode.RING, SignalCode.VELOCITY, SignalCode.CONTACT_CHANGE, SignalCode.SYNTHETIC_IDENTITY,
                 SignalCode.FRAUD_LIST)
FLAG_BANDS = ("high", "very high")
SCORE = "FRAUD_SCORE"


@dataclass(frozen=True, slots=True)
class Case:
    """One person at one moment: ``pattern`` None for an honest person; ``flagged`` what flagged them."""

    pattern: str | None
    flagged: tuple[str, ...]
    at: date
    first_missed_on: date | None = None
    defaulted_on: date | None = None


@dataclass(frozen=True, slots=True)
class PatternFigures:
    """One pattern's figures."""

    pattern: str
    persons: int
    flagged: int
    recall: float | None
    precision: float | None
    median_days_to_first_miss: float | None
    median_days_to_default: float | None
    by_reason: dict[str, int] = field(default_factory=dict)
    signal: str | None = None  # the reason that flagged most of the pattern's fraudsters
    signal_recall: float | None = None
    signal_precision: float | None = None


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Every pattern's figures and the honest persons they are measured against."""

    patterns: list[PatternFigures]
    honest: int  # honest persons evaluated
    honest_flagged: int
    honest_population: int  # honest persons with an application in the period (>= honest when sampled)
    honest_by_reason: dict[str, int]
    not_in_bureau: int = 0


def flag_reasons(signals: Sequence[RiskSignal], fraud_band: str | None) -> tuple[str, ...]:
    """What flags a report: the fraud signals triggered, and the fraud-risk score when high or above."""
    found = tuple(str(s.code) for s in signals if s.code in FRAUD_SIGNALS and s.triggered)
    return (*found, SCORE) if fraud_band in FLAG_BANDS else found


def summarise(cases: Iterable[Case], *, honest_population: int | None = None, not_in_bureau: int = 0) -> Evaluation:
    """Precision, recall and lead times per pattern (module docstring)."""
    cases = list(cases)
    honest = [c for c in cases if c.pattern is None]
    honest_flagged = sum(1 for c in honest if c.flagged)
    population = max(honest_population or len(honest), len(honest))
    scale = population / len(honest) if honest else 0.0
    false_positives = honest_flagged * scale
    figures = []
    for pattern in sorted({c.pattern for c in cases if c.pattern is not None}):
        mine = [c for c in cases if c.pattern == pattern]
        hits = [c for c in mine if c.flagged]
        flagged_total = len(hits) + false_positives
        reasons = Counter(r for c in hits for r in c.flagged)
        # The score flags across patterns: on a tie the pattern's own signal is the signal's, not the score's.
        signal = max(sorted(reasons), key=lambda r: (reasons[r], r != SCORE)) if reasons else None
        own = reasons.get(signal, 0)
        own_total = own + sum(1 for c in honest if signal in c.flagged) * scale
        figures.append(PatternFigures(
            pattern=pattern, persons=len(mine), flagged=len(hits),
            recall=len(hits) / len(mine) if mine else None,
            precision=len(hits) / flagged_total if flagged_total else None,
            median_days_to_first_miss=_median((c.first_missed_on - c.at).days for c in hits if c.first_missed_on),
            median_days_to_default=_median((c.defaulted_on - c.at).days for c in hits if c.defaulted_on),
            by_reason=dict(reasons), signal=signal, signal_recall=own / len(mine) if signal else None,
            signal_precision=own / own_total if own_total else None,
        ))
    return Evaluation(patterns=figures, honest=len(honest), honest_flagged=honest_flagged,
                      honest_population=population, honest_by_reason=dict(Counter(r for c in honest for r in c.flagged)),
                      not_in_bureau=not_in_bureau)


def _median(values: Iterable[int]) -> float | None:
    found = list(values)
    return float(statistics.median(found)) if found else None
