"""The database dialect seam: one class per engine for everything the engines do differently.

``dialect_for(conn)`` (or an engine, a session, a URL) gives the engine's :class:`~.base.Dialect`; this is
the only place that asks which engine a connection talks to. See docs/architecture.md, "The dialect seam".
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from openbureau.kit.dialects.base import INTAKE_LOCK, Dialect, IntakeBusy
from openbureau.kit.dialects.postgresql import PostgresDialect
from openbureau.kit.dialects.sqlite import SqliteDialect

__all__ = ["INTAKE_LOCK", "Dialect", "IntakeBusy", "PostgresDialect", "SqliteDialect", "dialect_for",
           "dialect_for_url"]

_DIALECTS: dict[str, Dialect] = {d.name: d for d in (SqliteDialect(), PostgresDialect())}


def _named(name: str) -> Dialect:
    try:
        return _DIALECTS[name]
    except KeyError:
        raise NotImplementedError(f"the bureau does not run on {name}") from None


def dialect_for(bind: Connection | Engine | Session) -> Dialect:
    """The dialect of the engine behind ``bind``."""
    if isinstance(bind, Session):
        bind = bind.get_bind()
    return _named(bind.dialect.name)


def dialect_for_url(url: str) -> Dialect:
    """The dialect of a database URL (``sqlite:///...``, ``postgresql+psycopg://...``)."""
    return _named(make_url(url).get_backend_name())
