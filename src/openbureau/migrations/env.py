"""Alembic environment: the engine comes from the caller (see ``openbureau.migrations``)."""

from __future__ import annotations

from alembic import context

from openbureau.kit.dialects import dialect_for
from openbureau.migrations import compare_options
from openbureau.migrations.metadata import target_metadata

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # invoked by the alembic command line: take the URL from settings
    from openbureau.kit.db import get_engine
    from openbureau.kit.settings import get_settings

    engine = get_engine(get_settings().resolved_database_url)

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=dialect_for(connection).batch_migrations,
        **compare_options(connection),
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
