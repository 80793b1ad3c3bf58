"""Tables of the scoring domain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from openbureau.kit.db import Base, BigId, UtcDateTime, utcnow


class ScoreModel(Base):
    """A registered model: its JSON artefact, who trained it and whether (and when) it was released.

    The released bureau model with the newest ``released_at`` scores every inquiry. Artefacts are JSON
    (``scoring.scorecard.FORMAT``), never pickles; ``sha256`` is the digest of the artefact text.
    """

    __tablename__ = "score_models"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    version: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16), doc="bureau or table")
    scale: Mapped[str] = mapped_column(String(16))
    artefact: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))
    released_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    released_by: Mapped[str | None] = mapped_column(String(64), default=None)
