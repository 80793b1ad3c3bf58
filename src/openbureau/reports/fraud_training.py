"""The fraud-risk score's training data, read through the inquiry's own path, and the training batch job.

Each labelled person's file is read and assembled exactly as an inquiry at ``now`` reads and assembles it
(``read_file``, ``assemble``: the same signals), and the features are taken from the report's signals
(``fraud.score.fraud_features``), so training and scoring cannot drift apart. A batch job of the operator:
it reads in one transaction and registers in another (docs/fraud.md, The fraud-risk score).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import numpy as np
from pydantic import ValidationError
from sqlalchemy import Engine

from openbureau.consent.schemas import Subject
from openbureau.consent.service import subject_indexes
from openbureau.fraud.score import fraud_features
from openbureau.fraud.training import FraudTrainingSet, train_fraud
from openbureau.identity.repository import find_person_by_any
from openbureau.kit.crypto import PiiVault
from openbureau.kit.db import session_scope
from openbureau.policy import Policy
from openbureau.reports.assembly import assemble, read_file
from openbureau.reports.schemas import View
from openbureau.scoring import service as scoring
from openbureau.scoring.scorecard import Scorecard


def fraud_training_set(engine: Engine, *, vault: PiiVault, policy: Policy, labels: Sequence[tuple[str, str, bool]],
                       now: datetime, progress: Callable[[int], None] | None = None) -> FraudTrainingSet:
    """The fraud features at ``now`` of every labelled (id_type, id_number, fraud) person the bureau holds, in the
    order of their first label; a person labelled twice (merged identities) is fraud when any label says so."""
    found: dict[int, tuple[dict, bool]] = {}
    excluded = {"not_in_bureau": 0, "invalid_identifier": 0}
    with session_scope(engine) as session:
        for done, (id_type, id_number, fraud) in enumerate(labels, start=1):
            if progress is not None and done % 1_000 == 0:
                progress(1_000)
            try:
                subject = Subject(id_type=id_type, id_number=id_number)
            except ValidationError:
                excluded["invalid_identifier"] += 1
                continue
            indexes = subject_indexes(vault, subject)
            person = find_person_by_any(session, id_type=id_type, id_indexes=indexes)
            if person is None:
                excluded["not_in_bureau"] += 1
                continue
            if person.id in found:
                found[person.id] = (found[person.id][0], found[person.id][1] or fraud)
                continue
            file = read_file(session, vault=vault, person=person, now=now, policy=policy, subject_indexes=indexes)
            report = assemble(file, view=View.SUBSCRIBER, viewer_id=None, vault=vault, now=now, policy=policy)
            found[person.id] = (fraud_features(report.signals, now=now), fraud)
    ids = list(found)  # the labels' order, not the bureau's internal ids: the same labels train the same model
    return FraudTrainingSet(observed_at=now.isoformat(timespec="seconds"), person_ids=ids,
                            rows=[found[i][0] for i in ids], fraud=np.array([int(found[i][1]) for i in ids], dtype=int),
                            excluded=excluded)


def train_fraud_on_bureau(engine: Engine, *, vault: PiiVault, policy: Policy, labels: Sequence[tuple[str, str, bool]],
                          actor_code: str, now: datetime | None = None, version: str | None = None,
                          release_it: bool = False, seed: int = 42) -> tuple[Scorecard, FraudTrainingSet]:
    """Train a fraud-risk scorecard on the labelled persons' files at ``now``, register it (kind ``fraud``) and,
    with ``release_it``, release it; a failed fit leaves the registry as it was."""
    now = now or datetime.now(UTC)
    data = fraud_training_set(engine, vault=vault, policy=policy, labels=labels, now=now)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    card = train_fraud(data, version=version or f"fraud-{now:%Y-%m-%d}-{stamp}", seed=seed)
    with session_scope(engine, write=True) as session:
        scoring.register(session, card=card, actor_code=actor_code)
        if release_it:
            scoring.release(session, version=card.model_version, actor_code=actor_code)
    return card, data
