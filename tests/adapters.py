"""The bureau of an adapter's tests: the HTTP API's endpoints and the command line, on the embedded default.

An adapter only parses, authorises through the services and renders: its tests check status codes, error
bodies, who may call what and what is shown, while the services and repositories beneath it are tested on
SQLite and on PostgreSQL alike (docs/testing.md, Both engines). A test module of an adapter imports
:func:`embedded_runtime`, which takes the place of the suite's two-engine ``runtime`` for that module:

    from tests.adapters import embedded_runtime  # noqa: F401
"""

from __future__ import annotations

import pytest


@pytest.fixture(name="runtime", params=["sqlite"])
def embedded_runtime(sqlite_runtime):
    """A migrated, empty bureau on SQLite (the adapter tests' ``runtime``)."""
    return sqlite_runtime
