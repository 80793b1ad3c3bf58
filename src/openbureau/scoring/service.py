"""Rules of scoring: register and release models, and score a person's file with reason codes.

Only a ``bureau`` model (the credit score, trained on the bureau's own features) or a ``fraud`` model (the
fraud-risk score, docs/fraud.md) can be released; of each kind, the released model with the newest release
time scores every inquiry, and the two kinds never replace each other. Serving processes re-read which model is released at most
every ``RELEASE_CHECK_SECONDS``, so a release reaches every process within that time. Registration and
release are audited.

A model of either engine (``scoring.engines``: a scorecard or an additive model) registers, releases and
scores the same way; the artefact says which engine reads it.

Reason codes: the features whose points fall furthest below their best bin, up to four, then the inquiry
feature as a fifth when inquiries cost points but did not make the four (as US scoring practice does).
The person's own view adds "what would raise my score": every feature below its best, with the points it
could add, all else equal.
"""

from __future__ import annotations

import hashlib
import json
import time
import weakref
from collections.abc import Sequence
from datetime import UTC, date, datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from openbureau.audit import service as audit
from openbureau.kit.db import session_scope
from openbureau.kit.errors import Conflict, NotFound, Unprocessable
from openbureau.kit.spark import SparkOptions
from openbureau.scoring import engines, evaluation, training
from openbureau.scoring.engines import Model
from openbureau.scoring.errors import MODEL_NOT_FOUND
from openbureau.scoring.features import FEATURE_BY_NAME, is_thin, point_in_time, unscorable_reason
from openbureau.scoring.models import ScoreModel
from openbureau.scoring.repository import ModelRepository
from openbureau.scoring.schemas import Improvement, ModelRead, Reason, ScoreView
from openbureau.scoring.scorecard import Scale, Scored
from openbureau.scoring.training_set import (
    TrainingSet,
    default_observation_period,
    default_periods,
    training_set,
)
from openbureau.tradelines.history import Tradeline

RELEASE_CHECK_SECONDS = 10.0
MAX_REASONS = 4
MIN_REASON_POINTS = 0.5
INQUIRY_FEATURES = ("hard_inquiries_6m", "hard_inquiries_12m")
RELEASABLE = ("bureau", "fraud")  # model kinds that score inquiries, each on its own
_released: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # engine -> kind -> (checked at, model or None)


def artefact_text(card: Model) -> str:
    """The model's JSON artefact as stored and exported (sorted keys, UTF-8)."""
    return json.dumps(card.to_json(), ensure_ascii=False, sort_keys=True, indent=1)


def register(session: Session, *, card: Model, actor_code: str) -> ScoreModel:
    """Add a trained model to the registry (not yet released)."""
    repo = ModelRepository(session)
    if repo.by_version(card.model_version) is not None:
        raise Conflict(f"a model {card.model_version} is registered already", code="MODEL_EXISTS", field="version")
    text = artefact_text(card)
    model = ScoreModel(version=card.model_version, kind=card.kind, scale=card.scale.name, artefact=text,
                       sha256=hashlib.sha256(text.encode()).hexdigest(), created_by=actor_code)
    repo.add(model)
    audit.record(session, actor_member_id=None, actor_code=actor_code, action="model.register",
                 details={"version": model.version, "kind": model.kind, "sha256": model.sha256,
                          "auc": card.validation.get("auc")})
    return model


def release(session: Session, *, version: str, actor_code: str, now: datetime | None = None) -> ScoreModel:
    """Release ``version``: from now on it scores every inquiry (a ``bureau`` model the credit score, a ``fraud``
    model the fraud-risk score)."""
    model = ModelRepository(session).by_version(version)
    if model is None:
        raise NotFound(f"no model {version} is registered", code=MODEL_NOT_FOUND, field="version")
    if model.kind not in RELEASABLE:
        raise Unprocessable(f"model {version} was trained on a table, not on the bureau's features; only a bureau "
                            "model can score inquiries", code="MODEL_NOT_RELEASABLE", field="version")
    model.released_at = now or datetime.now().astimezone()
    model.released_by = actor_code
    session.flush()
    audit.record(session, actor_member_id=None, actor_code=actor_code, action="model.release",
                 details={"version": version, "kind": model.kind, "sha256": model.sha256})
    return model


def train_on_bureau(engine: Engine, *, scale: Scale, actor_code: str, observation_period: str | None = None,
                    version: str | None = None, prefix: str = "bureau", retention_years: int = 5,
                    release_it: bool = False, model_engine: str = "scorecard",
                    spark: SparkOptions | None = None) -> tuple[Model, TrainingSet]:
    """Train a model of ``model_engine`` (``scorecard``, ``additive`` or ``auto``) on the bureau's files as they
    stood at ``observation_period`` (default: ``training_set.default_periods``, months before the newest period
    with a whole outcome, so that the default evaluation is out-of-time), register it and, with ``release_it``,
    release it. A batch job: it reads in one transaction and registers in another, so a failed fit leaves the
    registry as it was. With ``spark``, the training set's rows are computed on Spark (the same set)."""
    with session_scope(engine) as session:
        period = observation_period or default_periods(session).training
        data = training_set(session, observation_period=period, retention_years=retention_years, spark=spark)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    card = training.train_bureau(data, scale=scale, version=version or f"{prefix}-{period}-{stamp}",
                                 engine=model_engine)
    with session_scope(engine, write=True) as session:
        register(session, card=card, actor_code=actor_code)
        if release_it:
            release(session, version=card.model_version, actor_code=actor_code)
    return card, data


def segment_labels(data: TrainingSet) -> list[str]:
    """Each row's segment (``thin`` or ``main``), as evaluations and the fairness report split them."""
    return ["thin" if t else "main" for t in data.thin]


def evaluate_on_bureau(engine: Engine, card: Model, *, observation_period: str | None = None,
                       retention_years: int = 5) -> tuple[list[evaluation.Evaluated], TrainingSet]:
    """``card``'s figures on the bureau's files as they stood at ``observation_period`` (default: the newest
    period with a whole outcome, out-of-time for a model trained at the default period), labelled by which rows
    they are (``scoring.evaluation``)."""
    with session_scope(engine) as session:
        period = observation_period or default_observation_period(session)
        data = training_set(session, observation_period=period, retention_years=retention_years)
    return evaluation.evaluate_labelled(card, data.frame(), data.bad, observation_period=period,
                                        segments=segment_labels(data)), data


def recalibrate_on_bureau(engine: Engine, *, version: str, observation_period: str, actor_code: str,
                          new_version: str | None = None, retention_years: int = 5,
                          release_it: bool = False, method: str = "auto") -> tuple[Model, TrainingSet]:
    """Register a new version of model ``version`` whose probability of bad is recalibrated on the bureau's
    files at ``observation_period`` (held out: not the training period; ``training.recalibrate``) and, with
    ``release_it``, release it."""
    with session_scope(engine) as session:
        card = load(session, version)
        data = training_set(session, observation_period=observation_period, retention_years=retention_years)
    new = training.recalibrate(card, data.frame(), data.bad, version=new_version or f"{version}-r{observation_period}"[-64:],
                               segments=["thin" if t else "main" for t in data.thin],
                               observation_period=observation_period, method=method)
    with session_scope(engine, write=True) as session:
        register(session, card=new, actor_code=actor_code)
        if release_it:
            release(session, version=new.model_version, actor_code=actor_code)
    return new, data


def load(session: Session, version: str) -> Model:
    """The registered model ``version``."""
    text = ModelRepository(session).artefact(version)
    if text is None:
        raise NotFound(f"no model {version} is registered", code=MODEL_NOT_FOUND, field="version")
    return engines.from_json(json.loads(text))


def released_model(session: Session, kind: str = "bureau") -> Model | None:
    """The released model of ``kind`` (None before any release), re-read at most every
    ``RELEASE_CHECK_SECONDS``."""
    engine = session.get_bind()
    kinds = _released.setdefault(engine, {})
    cached = kinds.get(kind)
    now = time.monotonic()
    if cached is not None and now - cached[0] < RELEASE_CHECK_SECONDS:
        return cached[1]
    version = ModelRepository(session).released_version(kind)
    card = cached[1] if cached is not None and cached[1] is not None and cached[1].model_version == version else (
        load(session, version) if version is not None else None)
    kinds[kind] = (now, card)
    return card


def list_models(session: Session) -> list[ModelRead]:
    """Every registered model, newest first, with its headline validation figures."""
    out = []
    for m in ModelRepository(session).all():
        data = json.loads(m.artefact)
        validation = data.get("validation", {})
        out.append(ModelRead(version=m.version, kind=m.kind, scale=m.scale, created_at=m.created_at,
                             created_by=m.created_by, released_at=m.released_at, auc=validation.get("auc"),
                             ks=validation.get("ks"), gini=validation.get("gini"), training=data.get("training", {})))
    return out


def _reason_of(name: str, points: float) -> Reason:
    spec = FEATURE_BY_NAME.get(name)
    if spec is None:  # a table model's column
        return Reason(code=f"F_{name.upper()}"[:48], text=f"{name} lowered the score", points=round(points, 1))
    return Reason(code=spec.reason, text=spec.reason_text, points=round(points, 1))


def reasons(scored: Scored) -> list[Reason]:
    """Up to four key factors that lowered the score, plus inquiries when they counted."""
    ranked = sorted(((p, n) for n, p in scored.lost.items() if p >= MIN_REASON_POINTS), reverse=True)
    chosen = [n for _, n in ranked[:MAX_REASONS]]
    inquiries = [n for _, n in ranked if n in INQUIRY_FEATURES]
    if inquiries and not set(inquiries) & set(chosen):
        chosen.append(inquiries[0])
    return [_reason_of(n, scored.lost[n]) for n in chosen]


def improvements(scored: Scored) -> list[Improvement]:
    """What would raise the score: every feature below its best, the most points first."""
    out = []
    for name, points in sorted(scored.lost.items(), key=lambda kv: -kv[1]):
        if points < MIN_REASON_POINTS:
            continue
        spec = FEATURE_BY_NAME.get(name)
        out.append(Improvement(code=spec.reason if spec else f"F_{name.upper()}"[:48],
                               advice=spec.advice if spec else f"a better value of {name}", points=round(points, 1)))
    return out


def score_file(card: Model, *, tradelines: Sequence[Tradeline], hard_inquiries: Sequence[datetime],
               observed: date, for_person: bool = False) -> ScoreView:
    """The score of a file as observed on ``observed`` (the last day of the newest complete period)."""
    base = dict(scale=card.scale.name, model_version=card.model_version)
    why = unscorable_reason(tradelines, observed=observed)
    if why is not None:
        return ScoreView(scorable=False, score=None, band=None, segment=None, probability_bad=None, reasons=[],
                         unscorable_reason=why, **base)
    values = point_in_time(tradelines, hard_inquiries=hard_inquiries, observed=observed)
    segment = "thin" if is_thin(values, sum(1 for t in tradelines if t.credit)) else "main"
    scored = card.score(values, segment=segment)
    return ScoreView(scorable=True, score=scored.score, band=card.scale.band(scored.score), segment=scored.segment,
                     probability_bad=round(scored.probability_bad, 5), reasons=reasons(scored),
                     unscorable_reason=None, improvements=improvements(scored) if for_person else None, **base)
