"""Model governance on the bureau's data: the protected attributes a fairness report needs, and the report.

The bureau holds ID numbers encrypted and never gives them to a model. Deriving gender, age band and region
from them (``fairness.attributes_of``) is a documented purpose of its own, **model governance**: checking
that a model treats groups alike. Each derivation is audited (``model.fairness_attributes``, purpose
``model_governance``: the model, how many persons, which attributes); the numbers are decrypted in memory,
reduced to the three coarse attributes at once and never stored or printed.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from openbureau.audit import service as audit
from openbureau.identity import service as identity
from openbureau.kit.crypto import PiiVault
from openbureau.scoring import fairness, training
from openbureau.scoring.engines import Model
from openbureau.scoring.scorecard import Scale

PURPOSE = "model_governance"
ACTION = "model.fairness_attributes"


def default_cutoff(scale: Scale) -> float:
    """The cut-off a fairness report states by default: the lowest score of the scale's ``good`` band (670 on
    300-850, 600 on 350-950)."""
    return float(scale.bands[2][0])


def protected_groups(session: Session, *, vault: PiiVault, person_ids: list[int], observed: date, actor_code: str,
                     model_version: str) -> dict[str, list[str]]:
    """Per attribute (gender, age band, region), the group of each of ``person_ids`` (``unknown`` without a
    resident ID); audited as model governance."""
    numbers = identity.resident_ids(session, vault=vault, person_ids=person_ids)
    derived = [fairness.attributes_of(numbers.get(pid), observed) for pid in person_ids]
    audit.record(session, actor_member_id=None, actor_code=actor_code, action=ACTION, purpose=PURPOSE,
                 details={"model": model_version, "persons": len(person_ids), "with_resident_id": len(numbers),
                          "attributes": list(fairness.ATTRIBUTES), "observed": observed.isoformat()})
    return {a: [d[a] for d in derived] for a in fairness.ATTRIBUTES}


def fairness_report(card: Model, frame, bad: np.ndarray, *, groups: dict[str, list[str]],
                    segments: list[str] | None = None, cutoff: float | None = None,
                    source: str = "") -> dict[str, Any]:
    """``fairness.report`` of ``card`` on these rows (the model scores them; ``groups`` label them)."""
    score, probability = training.score_frame(card, frame, segments=segments)
    return fairness.report(bad=bad, score=score, probability=probability, groups=groups,
                           cutoff=default_cutoff(card.scale) if cutoff is None else cutoff, source=source)
