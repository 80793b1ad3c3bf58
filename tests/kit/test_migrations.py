"""The migration history builds exactly the schema the models declare, on both engines."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from openbureau.migrations import is_current
from openbureau.migrations.metadata import target_metadata


def test_migrations_match_the_models(runtime) -> None:
    assert is_current(runtime.engine)
    with runtime.engine.connect() as conn:
        drift = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), target_metadata)
    assert drift == []
