"""Queries of the scoring domain."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from openbureau.scoring.models import ScoreModel

_RELEASED = (select(ScoreModel.version).where(ScoreModel.released_at.is_not(None), ScoreModel.kind == bindparam("kind"))
             .order_by(ScoreModel.released_at.desc(), ScoreModel.id.desc()).limit(1))
_ARTEFACT = select(ScoreModel.artefact).where(ScoreModel.version == bindparam("version"))


class ModelRepository:
    """All SQL about registered models."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def by_version(self, version: str) -> ScoreModel | None:
        """The model registered as ``version``."""
        return self.session.scalars(select(ScoreModel).where(ScoreModel.version == version)).one_or_none()

    def released_version(self, kind: str = "bureau") -> str | None:
        """The version of the model of ``kind`` (``bureau``: the credit score; ``fraud``: the fraud-risk score)
        released last."""
        return self.session.connection().execute(_RELEASED, {"kind": kind}).scalar()

    def artefact(self, version: str) -> str | None:
        """The JSON artefact of ``version``."""
        return self.session.connection().execute(_ARTEFACT, {"version": version}).scalar()

    def all(self) -> list[ScoreModel]:
        """Every registered model, newest first."""
        return list(self.session.scalars(select(ScoreModel).order_by(ScoreModel.id.desc())))

    def add(self, model: ScoreModel) -> None:
        """Stage a new model and write it."""
        self.session.add(model)
        self.session.flush()
