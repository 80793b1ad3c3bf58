"""Until the audit table has its migration, make it exist (and empty) for every test that uses a bureau.

Harmless once the migration exists: the table is then there already, and emptying it again costs nothing.
"""

from __future__ import annotations

import pytest

from openbureau.audit.models import AuditEntry
from openbureau.kit.db import make_engine

TABLE = AuditEntry.__table__


@pytest.fixture(autouse=True)
def audit_table(request: pytest.FixtureRequest) -> None:
    """Create ``audit_entries`` in the test's bureau if it is missing, and delete every entry in it."""
    name = next((n for n in ("runtime", "sqlite_runtime") if n in request.fixturenames), None)
    if name is None:
        return
    callspec = getattr(request.node, "callspec", None)
    if callspec is not None and callspec.params.get("runtime") == "postgresql":
        # The shared runtime fixture truncates every registered table (ours included, once this module is
        # imported) before it yields, so the table must exist in the shared database before that.
        engine = make_engine(request.getfixturevalue("postgres_url"))
        TABLE.create(engine, checkfirst=True)
        engine.dispose()
    runtime = request.getfixturevalue(name)
    TABLE.create(runtime.engine, checkfirst=True)
    with runtime.engine.begin() as conn:
        conn.execute(TABLE.delete())
