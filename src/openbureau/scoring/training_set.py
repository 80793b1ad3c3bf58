"""Training data from the bureau itself: every scorable person at an observation period, and whether they
went bad in the 12 months after it.

**Bad** = any credit account 90 or more days past due (status 4 or worse) or charged off in the
``outcome_months`` periods after the observation period, as furnished. Persons already bad at the
observation period (an account 90+ days past due or charged off that month) are left out: there is nothing
left to predict. Persons who cannot be scored then (``features.unscorable_reason``) are left out too.
Features use only months up to the observation period and inquiries up to its last day.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time

import numpy as np
from sqlalchemy.orm import Session

from openbureau.accounts import service as account_states
from openbureau.inquiries.repository import InquiryRepository
from openbureau.intake.standard import NON_CREDIT_PRODUCTS
from openbureau.kit.errors import Unprocessable
from openbureau.kit.periods import months_between, period_end, shift_period
from openbureau.kit.spark import SparkOptions
from openbureau.scoring.features import FEATURE_NAMES, is_thin, point_in_time, unscorable_reason
from openbureau.tradelines.history import build_tradelines

BAD_STATUSES = frozenset("4567")


@dataclass(slots=True)
class TrainingSet:
    """Feature rows of the scorable persons at one observation period, with their outcome."""

    observation_period: str
    outcome_months: int
    person_ids: list[int]
    rows: list[dict[str, float | None]]
    bad: np.ndarray
    thin: np.ndarray
    excluded: dict[str, int]

    def frame(self):
        """The feature rows as a pandas DataFrame (columns in ``FEATURE_NAMES`` order)."""
        import pandas as pd

        return pd.DataFrame(self.rows, columns=list(FEATURE_NAMES), dtype=float)


def latest_period(session: Session) -> str | None:
    """The newest reporting period in the bureau."""
    return account_states.latest_period(session)


def _went_bad(rows: list, *, after: str, until: str) -> bool:
    return any(after < r.reporting_period <= until and r.product_type not in NON_CREDIT_PRODUCTS
               and (r.payment_status in BAD_STATUSES or r.account_status == "charged_off") for r in rows)


def _bad_at(rows: list, period: str) -> bool:
    return any(r.reporting_period == period and r.product_type not in NON_CREDIT_PRODUCTS
               and (r.payment_status in BAD_STATUSES or r.account_status == "charged_off") for r in rows)


@dataclass(frozen=True, slots=True)
class Observation:
    """When a training set observes the files: features up to ``period`` (inquiries up to its last day), the
    outcome over the ``outcome_months`` periods after it."""

    period: str
    outcome_months: int
    retention_years: int

    @property
    def until(self) -> str:
        """The last period of the outcome."""
        return shift_period(self.period, self.outcome_months)

    @property
    def moment(self) -> datetime:
        """The last moment of the observation period."""
        return datetime.combine(period_end(self.period), time.max, tzinfo=UTC)


LEFT_OUT = ("no_file_at_observation", "unscorable", "already_bad")


def observe_person(states: list, inquiries, observation: Observation) -> tuple[str | None, dict | None, int, bool]:
    """One person's row of the training set: (None, features, bad, thin), or (the reason they are left out,
    one of ``LEFT_OUT``, None, 0, False). The same code in process and on Spark (``training_set_spark``)."""
    observed = period_end(observation.period)
    before = [r for r in states if r.reporting_period <= observation.period]
    if not before:
        return LEFT_OUT[0], None, 0, False
    lines = build_tradelines(before, as_of=observed, retention_years=observation.retention_years)
    if unscorable_reason(lines, observed=observed) is not None:
        return LEFT_OUT[1], None, 0, False
    if _bad_at(before, observation.period):
        return LEFT_OUT[2], None, 0, False
    values = point_in_time(lines, hard_inquiries=inquiries, observed=observed)
    return (None, values, int(_went_bad(states, after=observation.period, until=observation.until)),
            is_thin(values, sum(1 for t in lines if t.credit)))


def training_set(session: Session, *, observation_period: str, outcome_months: int = 12, retention_years: int = 5,
                 progress: Callable[[int], None] | None = None, spark: SparkOptions | None = None) -> TrainingSet:
    """Every scorable person's features at ``observation_period`` and their outcome over the next
    ``outcome_months`` periods (which the bureau must already hold). With ``spark``, each person's row is
    computed on Spark by the same code (the files read here and handed over as Arrow); the set is the same."""
    observation = Observation(observation_period, outcome_months, retention_years)
    newest = latest_period(session)
    if newest is None or newest < observation.until:
        raise Unprocessable(f"the bureau's newest period is {newest}; an observation at {observation_period} needs "
                            f"data through {observation.until} ({outcome_months} months of outcome)",
                            code="OUTCOME_NOT_OBSERVED", field="observation_period")
    inquiries = InquiryRepository(session).hard_by_person(until=observation.moment)
    if spark is not None:
        from openbureau.scoring import training_set_spark

        observed = training_set_spark.observe(account_states.files_by_person(session), inquiries, observation,
                                              options=spark)
    else:
        observed = ((person_id, *observe_person(states, inquiries.get(person_id, ()), observation))
                    for person_id, states in account_states.files_by_person(session))
    ids, rows, bad, thin = [], [], [], []
    excluded = dict.fromkeys(LEFT_OUT, 0)
    for seen, (person_id, left_out, values, went_bad, is_thin_) in enumerate(observed, start=1):
        if progress is not None and seen % 5_000 == 0:
            progress(5_000)
        if left_out is not None:
            excluded[left_out] += 1
            continue
        ids.append(person_id)
        rows.append(values)
        bad.append(went_bad)
        thin.append(is_thin_)
    return TrainingSet(observation_period, outcome_months, ids, rows, np.array(bad, dtype=int),
                       np.array(thin, dtype=bool), excluded)


def default_observation_period(session: Session, outcome_months: int = 12) -> str:
    """The newest observation period with a full outcome window in the bureau: where ``model evaluate``
    validates by default."""
    newest = latest_period(session)
    if newest is None:
        raise Unprocessable("the bureau holds no account states to train on", code="NO_TRAINING_DATA")
    return shift_period(newest, -outcome_months)


OUT_OF_TIME_MONTHS = 6  # how far before the validation period a model trains by default
MIN_HISTORY_MONTHS = 3  # the months of files (the training period's included) a default training period needs


@dataclass(frozen=True, slots=True)
class DefaultPeriods:
    """Where a bureau model trains and is validated by default, and why."""

    training: str
    validation: str
    note: str

    @property
    def out_of_time(self) -> bool:
        return self.training < self.validation


def default_periods(session: Session, outcome_months: int = 12, gap: int = OUT_OF_TIME_MONTHS) -> DefaultPeriods:
    """The default training period lies ``gap`` months before the validation period (the newest with a whole
    outcome), so that the default evaluation is **out-of-time**: files of a later month, none of them seen in
    training. A bureau too short for the whole gap trains as late as leaves ``MIN_HISTORY_MONTHS`` of files
    behind the training period; one too short even for that trains at the validation period, whose only
    validation is then the in-time hold-out (and the note says so)."""
    validation = default_observation_period(session, outcome_months)
    earliest = account_states.earliest_period(session) or validation
    training = max(shift_period(validation, -gap), shift_period(earliest, MIN_HISTORY_MONTHS - 1))
    months = months_between(training, validation)
    if months <= 0:
        return DefaultPeriods(validation, validation,
                              f"the bureau's files start at {earliest}: too short to hold out a later period "
                              f"({MIN_HISTORY_MONTHS} months of files, then {outcome_months} of outcome, then one more "
                              "month), so the only validation is the in-time hold-out")
    return DefaultPeriods(training, validation, f"trained at {training}, validated out-of-time at {validation} "
                                                f"({months} months later)")
