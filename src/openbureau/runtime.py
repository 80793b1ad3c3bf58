"""What a running bureau holds: its settings, its database engine (migrated) and its PII vault."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from openbureau.kit.crypto import PiiVault, load_keys
from openbureau.kit.db import make_engine
from openbureau.kit.settings import Settings, get_settings
from openbureau.migrations import ensure_current


@dataclass(frozen=True, slots=True)
class Runtime:
    """Settings, engine and vault of one bureau."""

    settings: Settings
    engine: Engine
    vault: PiiVault


def open_runtime(settings: Settings | None = None, *, migrate: bool = True) -> Runtime:
    """Open the bureau named by ``settings``: make its data directory, migrate its schema, load its keys."""
    settings = settings or get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    if migrate:
        ensure_current(engine)
    return Runtime(settings=settings, engine=engine, vault=PiiVault(load_keys(settings)))
