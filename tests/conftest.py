"""Test harness: every database test runs on SQLite and on PostgreSQL.

PostgreSQL: a throw-away database is created for the run on the server named by
``OPENBUREAU_TEST_POSTGRES_URL`` (default: postgres@127.0.0.1:5432). An unreachable server fails every
PostgreSQL test, whether the variable is set or not: half of the suite is never skipped silently. Only
``OPENBUREAU_TEST_SKIP_POSTGRES=1`` skips them (a SQLite-only run, e.g. the mutation run), and the end of
the run then says how many were skipped.
"""

from __future__ import annotations

import base64
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import func, select, text

from openbureau.kit.crypto import PiiVault, load_keys
from openbureau.kit.db import make_engine
from openbureau.kit.settings import Settings
from openbureau.migrations import upgrade
from openbureau.migrations.metadata import target_metadata
from openbureau.runtime import Runtime

# Test processes of pytest-xdist start with COLUMNS=80 in their environment, which would fix the width of the
# command line's consoles when they are imported; without it, a test's own COLUMNS applies as in a shell.
os.environ.pop("COLUMNS", None)

PG_ENV = "OPENBUREAU_TEST_POSTGRES_URL"
PG_SKIP_ENV = "OPENBUREAU_TEST_SKIP_POSTGRES"
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_SKIPPED = f"PostgreSQL skipped: {PG_SKIP_ENV}=1"


def _skip_postgres() -> bool:
    return os.environ.get(PG_SKIP_ENV, "") not in ("", "0")


def _on_postgres(item: pytest.Item) -> bool:
    """Whether a test runs on PostgreSQL (an engine parameter, or the database fixture itself)."""
    params = getattr(getattr(item, "callspec", None), "params", {})
    return "postgresql" in params.values() or "postgres_url" in getattr(item, "fixturenames", ())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _skip_postgres():
        for item in items:
            if _on_postgres(item):
                item.add_marker(pytest.mark.skip(reason=PG_SKIPPED))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The run's controller (not an xdist worker) drops the template databases of replayed markets."""
    from tests.sim.replayed import drop_templates

    if hasattr(session.config, "workerinput") or _skip_postgres():
        return
    try:
        drop_templates(os.environ.get(PG_ENV) or PG_DEFAULT, session.config._tmp_path_factory.getbasetemp())
    except psycopg.OperationalError:
        pass  # the server is gone: the run has failed already and said why


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if PG_SKIPPED in str(r.longrepr)]
    if skipped:
        terminalreporter.write_sep("!", f"{len(skipped)} PostgreSQL tests were SKIPPED ({PG_SKIP_ENV}=1): this run "
                                        "covered SQLite only", red=True, bold=True)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run, dropped at the end."""
    admin = os.environ.get(PG_ENV) or PG_DEFAULT
    name = f"openbureau_test_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL at {admin} is unreachable: {exc}. Every database test runs on PostgreSQL too: "
                    f"start the server, point {PG_ENV} at one, or set {PG_SKIP_ENV}=1 to run SQLite only.")
    base = admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    url = f"{base}/{name}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database file, copied for each test."""
    path = tmp_path_factory.mktemp("template") / "bureau.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


def _keys() -> dict[str, str]:
    return {"pii_key": base64.b64encode(os.urandom(32)).decode(),
            "index_key": base64.b64encode(os.urandom(32)).decode()}


@pytest.fixture(params=["sqlite", "postgresql"])
def runtime(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[Runtime]:
    """A migrated, empty bureau on each engine, with its own data directory and keys."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    if request.param == "sqlite":
        shutil.copyfile(sqlite_template, data_dir / "bureau.db")
        url = f"sqlite:///{data_dir / 'bureau.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
        _truncate_all(url)
    settings = Settings(data_dir=data_dir, database_url=url, chunk_size=1_000, **_keys())
    engine = make_engine(url)
    yield Runtime(settings=settings, engine=engine, vault=PiiVault(load_keys(settings)))
    engine.dispose()


def _truncate_all(url: str) -> None:
    """Empty every table of the bureau and restart the sequences their columns own, as ``TRUNCATE ... RESTART
    IDENTITY CASCADE`` would: by ``DELETE``, children first, and ``setval``, which on the few rows a test
    writes costs a tenth of a ``TRUNCATE`` of every table (which makes new files for each of them)."""
    engine = make_engine(url)
    tables = [t.name for t in target_metadata.sorted_tables]
    with engine.begin() as conn:
        sequences = conn.execute(text(
            "SELECT DISTINCT s.relname FROM pg_class s JOIN pg_depend d ON d.objid = s.oid AND d.deptype IN ('a', 'i') "
            "JOIN pg_class t ON t.oid = d.refobjid WHERE s.relkind = 'S' AND t.relname = ANY(:tables)"),
            {"tables": tables}).scalars().all()
        for table in reversed(target_metadata.sorted_tables):
            conn.execute(table.delete())
        if sequences:
            conn.execute(select(*(func.setval(f'"{name}"', 1, False) for name in sorted(sequences))))
    engine.dispose()


@pytest.fixture
def sqlite_runtime(tmp_path: Path, sqlite_template: Path) -> Iterator[Runtime]:
    """A migrated, empty bureau on SQLite only (for tests about the embedded default)."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    shutil.copyfile(sqlite_template, data_dir / "bureau.db")
    settings = Settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'bureau.db'}", chunk_size=1_000,
                        **_keys())
    engine = make_engine(settings.resolved_database_url)
    yield Runtime(settings=settings, engine=engine, vault=PiiVault(load_keys(settings)))
    engine.dispose()


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    """One Spark session (local[2], two shuffle partitions, no UI) for every Spark test of this process."""
    from openbureau.kit.spark import SparkOptions, spark_session

    with spark_session(SparkOptions(master="local[2]", shuffle_partitions=2)) as session:
        yield session
