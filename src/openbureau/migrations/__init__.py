"""Alembic migrations of the bureau's schema, for SQLite and PostgreSQL alike."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from openbureau.kit.dialects import dialect_for

HERE = Path(__file__).parent


def alembic_config(engine: Engine, *, pg_partitions: int | None = None) -> Config:
    """An Alembic configuration bound to ``engine``; ``pg_partitions``: the setting of that name for the
    migrations that read it (None: the process's settings)."""
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.attributes["engine"] = engine
    config.attributes["pg_partitions"] = pg_partitions
    return config


def pg_partitions(config: Config) -> int:
    """The hash partitions per person-keyed table a migration makes on PostgreSQL: the count its caller gave,
    else the setting ``OPENBUREAU_PG_PARTITIONS`` (the alembic command line)."""
    count = config.attributes.get("pg_partitions")
    if count is None:
        from openbureau.kit.settings import get_settings

        count = get_settings().pg_partitions
    return count


def upgrade(engine: Engine, revision: str = "head", *, pg_partitions: int | None = None) -> None:
    """Bring the database up to ``revision``."""
    command.upgrade(alembic_config(engine, pg_partitions=pg_partitions), revision)


def is_current(engine: Engine) -> bool:
    """Whether the database is at the newest revision."""
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision() == head


def ensure_current(engine: Engine, *, pg_partitions: int | None = None) -> None:
    """Upgrade the database when it is behind (a no-op when it is current)."""
    if not is_current(engine):
        upgrade(engine, pg_partitions=pg_partitions)


def compare_options(conn: Connection) -> dict[str, object]:
    """How the database is compared with the models (``env.py`` and the tests): column types too, and a
    partitioned table's partitions left out (the models declare the table; its partitions are storage)."""
    partitions = dialect_for(conn).partition_names(conn)
    return {"compare_type": True,
            "include_name": lambda name, kind, parents: not (kind == "table" and name in partitions)}
