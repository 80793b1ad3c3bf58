"""PostgreSQL partitioned by person (migration 0028, ``OPENBUREAU_PG_PARTITIONS``): the account states in hash
partitions of ``person_id``, and the bureau working on them as on one table: loads, inquiries read from one
partition, merges and splits moving rows between partitions, retention, the rewrite in person order, and the
migration both ways on a populated store.

Two databases of their own, migrated with 4 partitions and with none (whatever the environment says), loaded
with the same files through the real services; the session's database serves the other tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from pydantic import ValidationError
from sqlalchemy import event, select, text

from openbureau.accounts.models import AccountState
from openbureau.audit import service as audit
from openbureau.consent.profiles import Purpose, get_profile
from openbureau.consent.schemas import Subject
from openbureau.identity import service as identity
from openbureau.identity.models import Person
from openbureau.kit.crypto import PiiVault, load_keys
from openbureau.kit.db import make_engine, session_scope
from openbureau.kit.dialects import base as dialects
from openbureau.kit.dialects import dialect_for
from openbureau.kit.settings import Settings
from openbureau.members.models import Role
from openbureau.members.service import get_member
from openbureau.migrations import alembic_config, compare_options, upgrade
from openbureau.migrations.metadata import target_metadata
from openbureau.policy import Policy
from openbureau.principals import Principal
from openbureau.reports import service as reports
from openbureau.reports.schemas import InquiryCreate
from openbureau.runtime import Runtime
from openbureau.tradelines.tasks import cluster_by_person, run_retention
from tests.conftest import PG_DEFAULT, PG_ENV, _keys, _truncate_all
from tests.consent.factories import grant
from tests.identity.factories import RESIDENT_ID, add_person, add_records
from tests.intake.factories import PEOPLE
from tests.members.factories import make_member
from tests.reports.conftest import NOW
from tests.reports.factories import furnish, history, month
from tests.security.factories import env_of

PARTITIONS = 4
NATURAL_KEY = ["furnisher_id", "furnisher_account_id", "reporting_period", "version"]
CN = Policy(profile=get_profile("CN"), reciprocity=False)
AT_COUNTER = Principal.operator("OPERATOR:test")
OPERATOR = "OPERATOR:test"
KEYS = _keys()  # one set for both stores: a load numbers its persons in the order of their blind indexes


# -- two databases of the module's own ----------------------------------------------------------------------
def _database(partitions: int) -> Iterator[str]:
    admin = os.environ.get(PG_ENV) or PG_DEFAULT
    name = f"openbureau_test_parts{partitions}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{admin.rsplit('/', 1)[0].replace('postgresql://', 'postgresql+psycopg://', 1)}/{name}"
    engine = make_engine(url)
    upgrade(engine, pg_partitions=partitions)
    engine.dispose()
    yield url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# Both depend on the session's database, so that a run without PostgreSQL fails or skips them as it does the others.
@pytest.fixture(scope="module")
def partitioned_url(postgres_url: str) -> Iterator[str]:
    yield from _database(PARTITIONS)


@pytest.fixture(scope="module")
def plain_url(postgres_url: str) -> Iterator[str]:
    yield from _database(0)


def _runtime(url: str, data_dir: Path, partitions: int) -> Iterator[Runtime]:
    _truncate_all(url)
    data_dir.mkdir()
    settings = Settings(data_dir=data_dir, database_url=url, chunk_size=1_000, pg_partitions=partitions, **KEYS)
    engine = make_engine(url)
    yield Runtime(settings=settings, engine=engine, vault=PiiVault(load_keys(settings)))
    engine.dispose()


@pytest.fixture
def partitioned(partitioned_url: str, tmp_path: Path) -> Iterator[Runtime]:
    yield from _runtime(partitioned_url, tmp_path / "partitioned", PARTITIONS)


@pytest.fixture
def plain(plain_url: str, tmp_path: Path) -> Iterator[Runtime]:
    yield from _runtime(plain_url, tmp_path / "plain", 0)


# -- helpers ------------------------------------------------------------------------------------------------
def _market(runtime: Runtime, folder: Path) -> None:
    """The reports' small market: person 0 at two lenders and a telecom, person 1 at BANK_A; LENDER asks."""
    for code, roles in (("BANK_A", (Role.FURNISHER, Role.SUBSCRIBER)), ("OTHER", (Role.FURNISHER,)),
                        ("TELCO", (Role.FURNISHER,)), ("LENDER", (Role.SUBSCRIBER,))):
        make_member(runtime, code, *roles, name=f"{code.title()} Ltd")
    for code in ("BANK_A", "OTHER", "TELCO"):
        grant(runtime, code, PEOPLE[0][0])
    grant(runtime, "BANK_A", PEOPLE[1][0])
    grant(runtime, "LENDER", PEOPLE[0][0], Purpose.LOAN_ORIGINATION, ref="L-1")
    folder.mkdir()
    furnish(runtime, "BANK_A", history(0, "A-1", "2024-11", "N" * 20 + "12NN", balance="2500000")
            + history(1, "A-2", "2026-09", "NN"), folder)
    furnish(runtime, "OTHER", [month(0, "O-1", "2026-10", product="installment", opened_on="2026-10-03",
                                     phone="13912345678", balance="3600000", amount_due="110000")], folder)
    furnish(runtime, "TELCO", history(0, "T-1", "2026-05", "NN1NNN", product="telecom", balance="8000",
                                      amount_due="8000"), folder)


def _inquire(runtime: Runtime, id_number: str = PEOPLE[0][0]):
    with session_scope(runtime.engine, write=True) as session:
        return reports.inquire(session, vault=runtime.vault, policy=CN, now=NOW,
                               principal=Principal.of_member(get_member(session, code="LENDER")),
                               request=InquiryCreate(subject=Subject(id_type="CN_RESIDENT_ID", id_number=id_number),
                                                     purpose=Purpose.LOAN_ORIGINATION, consent_ref="L-1")).report


def _own_report(runtime: Runtime, id_number: str) -> dict:
    with session_scope(runtime.engine, write=True) as session:
        return reports.own_report(session, vault=runtime.vault, principal=AT_COUNTER, policy=CN, now=NOW,
                                  subject=Subject(id_type="CN_RESIDENT_ID", id_number=id_number)
                                  ).model_dump(mode="json", include={"person", "summary", "accounts", "obligations"})


def _rows(runtime: Runtime, *, leave_out: tuple[str, ...] = ()) -> list[tuple]:
    """Every stored state but its sealed identity and time of storing (and ``leave_out``), in key order."""
    columns = [c for c in AccountState.__table__.columns if c.name not in ("stored_at", "identity_enc", *leave_out)]
    with session_scope(runtime.engine) as session:
        return sorted(tuple(r) for r in session.execute(select(*columns)))


def _partition_of_rows(runtime: Runtime) -> dict[int, set[str]]:
    """person id -> the partitions its states are stored in."""
    with runtime.engine.connect() as conn:
        rows = conn.execute(text("SELECT person_id, tableoid::regclass::text FROM account_states")).all()
    found: dict[int, set[str]] = {}
    for person_id, partition in rows:
        found.setdefault(person_id, set()).add(partition)
    return found


def _partition_of(runtime: Runtime, person_id: int) -> str:
    """The partition whose hash bound takes ``person_id``, as PostgreSQL routes a row."""
    with runtime.engine.connect() as conn:
        [name] = [f"account_states_p{r}" for r in range(PARTITIONS) if conn.execute(text(
            "SELECT satisfies_hash_partition('account_states'::regclass, :m, :r, CAST(:p AS bigint))"),
            {"m": PARTITIONS, "r": r, "p": person_id}).scalar_one()]
    return name


def _layout(runtime: Runtime) -> dict[str, object]:
    """How account_states is stored: its partitioning, partitions and bounds, and its primary key."""
    with runtime.engine.connect() as conn:
        strategy = conn.execute(text(
            "SELECT p.partstrat, a.attname FROM pg_partitioned_table p JOIN pg_attribute a ON a.attrelid = p.partrelid "
            "AND a.attnum = p.partattrs[0] WHERE p.partrelid = 'account_states'::regclass")).all()
        bounds = dict(conn.execute(text(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i JOIN pg_class c ON c.oid = "
            "i.inhrelid WHERE i.inhparent = 'account_states'::regclass")).all())
        key = list(conn.execute(text(
            "SELECT a.attname FROM pg_constraint c CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY k(n, o) "
            "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n "
            "WHERE c.conrelid = 'account_states'::regclass AND c.contype = 'p' ORDER BY k.o")).scalars())
    return {"strategy": [tuple(r) for r in strategy], "bounds": bounds, "key": key}


PARTITIONED_LAYOUT = {
    "strategy": [("h", "person_id")],
    "bounds": {f"account_states_p{r}": f"FOR VALUES WITH (modulus {PARTITIONS}, remainder {r})"
               for r in range(PARTITIONS)},
    "key": [*NATURAL_KEY, "person_id"],
}


# -- the schema -----------------------------------------------------------------------------------------------
def test_the_account_states_are_hash_partitioned_by_person_and_the_rest_is_the_models(partitioned, plain) -> None:
    assert _layout(partitioned) == PARTITIONED_LAYOUT
    assert _layout(plain) == {"strategy": [], "bounds": {}, "key": NATURAL_KEY}
    with partitioned.engine.connect() as conn:
        # Each partition has the parent's indexes (the person's, the held records'), attached to them.
        attached = dict(conn.execute(text(
            "SELECT c.relname, count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhparent "
            "WHERE c.relname IN ('ix_account_states_person_id', 'ix_account_states_held', 'pk_account_states') "
            "GROUP BY c.relname")).all())
        others = set(conn.execute(text(
            "SELECT relname FROM pg_class WHERE relkind = 'p' AND relnamespace = 'public'::regnamespace")).scalars())
        drift = compare_metadata(MigrationContext.configure(conn, opts=compare_options(conn)), target_metadata)
    assert attached == {"ix_account_states_person_id": PARTITIONS, "ix_account_states_held": PARTITIONS,
                        "pk_account_states": PARTITIONS}
    assert others == {"account_states"}  # lending events, inquiries and notifications stay plain tables
    assert drift == []  # the partitions are storage: the models declare the table


def test_the_setting_is_bounded_and_sqlite_ignores_it(tmp_path) -> None:
    for wrong in (-1, 1025):
        with pytest.raises(ValidationError):
            Settings(pg_partitions=wrong)
    engine = make_engine(f"sqlite:///{tmp_path / 'bureau.db'}")
    upgrade(engine, pg_partitions=PARTITIONS)
    with engine.connect() as conn:
        drift = compare_metadata(MigrationContext.configure(conn, opts=compare_options(conn)), target_metadata)
    engine.dispose()
    assert drift == []


# -- loads and inquiries ----------------------------------------------------------------------------------------
def test_a_loaded_market_reads_the_same_as_on_a_plain_store_from_the_partitions_of_its_persons(
        partitioned, plain, tmp_path) -> None:
    for runtime in (partitioned, plain):
        _market(runtime, tmp_path / f"files-{runtime.settings.pg_partitions}")
    assert _rows(partitioned) == _rows(plain) and len(_rows(plain)) == 33
    for person_id, stored_in in _partition_of_rows(partitioned).items():
        assert stored_in == {_partition_of(partitioned, person_id)}
    lender = [_inquire(runtime).model_dump(mode="json") for runtime in (partitioned, plain)]
    assert lender[0] == lender[1] and [a["lender"] for a in lender[0]["accounts"]] == ["Lender 1", "Lender 2"]
    for id_number in (PEOPLE[0][0], PEOPLE[1][0]):
        assert _own_report(partitioned, id_number) == _own_report(plain, id_number)


def test_a_loads_statistics_refresh_counts_the_partitions_rows(partitioned) -> None:
    """A partitioned table's counts are its partitions': a bulk write refreshes the planner's statistics by the
    same rule as on one table (at least a tenth of what the planner knew)."""
    table, dialect = AccountState.__table__, dialect_for(partitioned.engine)

    def known(conn) -> float:
        return conn.execute(text("SELECT sum(reltuples) FROM pg_class WHERE relname LIKE 'account\\_states\\_p%' "
                                 "AND relkind = 'r'")).scalar_one()

    for person_id in range(1, 41):
        add_records(partitioned, person_id)
    with partitioned.engine.begin() as conn:
        dialect.refresh_statistics(conn, table, rows_written=40)  # never analysed: at once
        assert known(conn) == 40
    add_records(partitioned, 41)
    with partitioned.engine.begin() as conn:
        dialect.refresh_statistics(conn, table, rows_written=1)  # under a tenth: left to autovacuum
        assert known(conn) == 40
    add_records(partitioned, 42, periods=("2025-01", "2025-02", "2025-03", "2025-04"))
    with partitioned.engine.begin() as conn:
        dialect.refresh_statistics(conn, table, rows_written=4)
        assert known(conn) == 45


def _relations(plan: dict) -> set[str]:
    """The partitions of account_states a plan (EXPLAIN) reads."""
    found = {plan["Relation Name"]} if plan.get("Relation Name", "").startswith("account_states_p") else set()
    return found.union(*(_relations(child) for child in plan.get("Plans", ())))


def test_an_inquiry_reads_the_persons_states_from_one_partition(partitioned, tmp_path) -> None:
    """The inquiry's reads of account states by the person (a bound parameter) are planned on the person's
    partition alone: the others are pruned before the statement runs."""
    _market(partitioned, tmp_path / "files")
    statements: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany) -> None:
        if "FROM account_states" in statement and "account_states.person_id = %(" in statement:
            statements.append((statement, parameters))

    event.listen(partitioned.engine, "before_cursor_execute", capture)
    try:
        assert len(_inquire(partitioned).accounts) == 2
    finally:
        event.remove(partitioned.engine, "before_cursor_execute", capture)
    [(_, partition)] = _owners(partitioned, "A-1")
    assert statements  # the person's states, with their sealed identities
    raw = partitioned.engine.raw_connection()
    try:
        for statement, parameters in statements:
            with raw.cursor() as cursor:
                cursor.execute(f"EXPLAIN (FORMAT JSON) {statement}", parameters)
                assert _relations(cursor.fetchone()[0][0]["Plan"]) == {partition}, statement
    finally:
        raw.close()


# -- identity moves rows between partitions -------------------------------------------------------------------
def _owners(runtime: Runtime, account: str) -> set[tuple[int, str]]:
    with runtime.engine.connect() as conn:
        return set(conn.execute(text("SELECT person_id, tableoid::regclass::text FROM account_states "
                                     "WHERE furnisher_account_id = :a"), {"a": account}).all())


def test_a_merge_and_a_split_move_the_accounts_to_the_partition_of_their_new_person(partitioned) -> None:
    strong = 1
    weak = next(p for p in range(2, 100) if _partition_of(partitioned, p) != _partition_of(partitioned, strong))
    add_person(partitioned, strong, "CN_RESIDENT_ID", RESIDENT_ID)
    mine = add_records(partitioned, strong, periods=("2025-01", "2025-02"))
    add_person(partitioned, weak, "OTHER", "UT0000001")
    theirs = add_records(partitioned, weak, furnisher_id=2, periods=("2025-01", "2025-02", "2025-03"))
    assert _owners(partitioned, theirs) == {(weak, _partition_of(partitioned, weak))}
    with session_scope(partitioned.engine, write=True) as session:
        identity.merge(session, person_id=weak, into_person_id=strong, principal=AT_COUNTER)
    assert _owners(partitioned, theirs) == _owners(partitioned, mine) == {(strong, _partition_of(partitioned, strong))}
    with session_scope(partitioned.engine, write=True) as session:
        entry = identity.split(session, vault=partitioned.vault, person_id=strong, furnisher_id=2,
                               furnisher_account_id=theirs, principal=AT_COUNTER)
        assert session.get(Person, weak).merged_into_id is None
    assert entry.into_person_id == weak
    assert _owners(partitioned, theirs) == {(weak, _partition_of(partitioned, weak))}
    assert len(_rows(partitioned)) == 5


# -- retention and the rewrite in person order -------------------------------------------------------------------
def test_retention_purges_expired_months_from_the_partitions(partitioned, tmp_path) -> None:
    make_member(partitioned, "BANK_A", Role.FURNISHER)
    grant(partitioned, "BANK_A", PEOPLE[0][0])
    folder = tmp_path / "files"
    folder.mkdir()
    furnish(partitioned, "BANK_A", history(0, "OLD", "2020-10", "N23NN"), folder)  # late in 2020: expired
    furnish(partitioned, "BANK_A", history(0, "RECENT", "2022-08", "N1NN"), folder)
    run = run_retention(partitioned.engine, as_of=NOW.date(), retention_years=5, actor_code=OPERATOR)
    assert (run.months_expired, run.rows_deleted, len(_rows(partitioned))) == (2, 2, 7)


def _physical_order(runtime: Runtime) -> dict[str, list[int]]:
    with runtime.engine.connect() as conn:
        return {p: list(conn.execute(text(f"SELECT person_id FROM {p} ORDER BY ctid")).scalars())  # noqa: S608
                for p in PARTITIONED_LAYOUT["bounds"]}


def test_the_rewrite_in_person_order_goes_partition_by_partition_and_keeps_every_row(partitioned, tmp_path,
                                                                                    monkeypatch) -> None:
    monkeypatch.setattr(dialects, "REWRITE_CHUNK_ROWS", 2)  # many short copy transactions over a few rows
    make_member(partitioned, "BANK_A", Role.FURNISHER)
    for index in (0, 1, 2):
        grant(partitioned, "BANK_A", PEOPLE[index][0])
    folder = tmp_path / "files"
    folder.mkdir()
    # Four persons' months interleaved in load order; person 3 has no consent yet: held.
    for period in ("2026-01", "2026-03", "2026-05"):
        for index in range(4):
            furnish(partitioned, "BANK_A", history(index, f"P{index}-{period}", period, "NN"), folder)
    released = ("held_reason", "released_at")
    before = _rows(partitioned, leave_out=released)
    reports_before = [_own_report(partitioned, p[0]) for p in PEOPLE[:3]]
    assert len({p for ps in _partition_of_rows(partitioned).values() for p in ps}) > 1
    copied: list[int] = []

    def meanwhile(rows: int) -> None:  # a consent arrives while the rewrite is under way
        copied.append(rows)
        if len(copied) == 1:
            assert grant(partitioned, "BANK_A", PEOPLE[3][0])[1] == 6

    done = cluster_by_person(partitioned.engine, actor_code=OPERATOR, progress=meanwhile)
    assert done.rows == sum(copied) == len(before) == 24
    assert _rows(partitioned, leave_out=released) == before
    with partitioned.engine.connect() as conn:  # released meanwhile, wherever the rewrite was
        assert conn.execute(text("SELECT count(*) FROM account_states WHERE held_reason IS NOT NULL")).scalar_one() == 0
    assert [_own_report(partitioned, p[0]) for p in PEOPLE[:3]] == reports_before
    assert _layout(partitioned) == PARTITIONED_LAYOUT
    assert all(order == sorted(order) for order in _physical_order(partitioned).values())
    for person_id, stored_in in _partition_of_rows(partitioned).items():
        assert stored_in == {_partition_of(partitioned, person_id)}
    with partitioned.engine.connect() as conn:
        attached = conn.execute(text(
            "SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhparent WHERE c.relname IN "
            "('ix_account_states_person_id', 'ix_account_states_held', 'pk_account_states')")).scalar_one()
        leftovers = conn.execute(text(
            "SELECT (SELECT count(*) FROM pg_class WHERE relname LIKE '%\\_ordered%') + (SELECT count(*) FROM pg_proc "
            "WHERE proname LIKE '%\\_ordered\\_capture') + (SELECT count(*) FROM pg_constraint WHERE conname LIKE "
            "'%\\_bound')")).scalar_one()
        indexes = conn.execute(text(
            "SELECT count(*) FROM pg_index WHERE indrelid = ANY(SELECT inhrelid FROM pg_inherits "
            "WHERE inhparent = 'account_states'::regclass)")).scalar_one()
    # The copies' indexes were adopted by the parent's (none built twice), and nothing of the rewrite is left.
    assert (attached, indexes, leftovers) == (3 * PARTITIONS, 3 * PARTITIONS, 0)
    with session_scope(partitioned.engine) as session:
        [entry] = audit.list_entries(session, action="tradelines.cluster")
        assert audit.verify(session).ok
    assert json.loads(entry.details)["rows"] == 24
    furnish(partitioned, "BANK_A", history(0, "P0-2026-01", "2026-07", "N"), folder)  # loads go on after it
    assert len(_rows(partitioned)) == 25
    assert cluster_by_person(partitioned.engine, actor_code=OPERATOR).rows == 25  # and so does the next rewrite


KILL_DURING_REWRITE = textwrap.dedent("""
    import os, signal
    from openbureau.kit.dialects import base
    from openbureau.runtime import open_runtime
    from openbureau.tradelines.tasks import cluster_by_person

    base.REWRITE_CHUNK_ROWS = 2
    calls = []

    def progress(rows):
        calls.append(rows)
        if len(calls) == 5:  # past the first partition's few ranges: one swapped, the next one copying
            os.kill(os.getpid(), signal.SIGKILL)

    cluster_by_person(open_runtime().engine, actor_code="OPERATOR:test", progress=progress)
""")


def test_a_rewrite_killed_between_partitions_leaves_every_row_and_the_next_run_finishes(partitioned) -> None:
    for person_id in range(1, 13):  # a range of persons per copy transaction: several in each partition
        add_records(partitioned, person_id, periods=("2025-01", "2025-02"))
    rows = _rows(partitioned)
    killed = subprocess.run([sys.executable, "-c", KILL_DURING_REWRITE], env=env_of(partitioned), capture_output=True,
                            text=True, timeout=120)
    assert killed.returncode == -9, killed.stderr

    def copies() -> list[str]:
        with partitioned.engine.connect() as conn:
            return list(conn.execute(text("SELECT relname FROM pg_class WHERE relkind = 'r' AND relname LIKE "
                                          "'account\\_states\\_p%\\_ordered'")).scalars())

    [left] = copies()  # one partition's copy, half made
    assert left != "account_states_p0_ordered"
    assert _rows(partitioned) == rows and _layout(partitioned) == PARTITIONED_LAYOUT
    assert cluster_by_person(partitioned.engine, actor_code=OPERATOR).rows == 24
    assert _rows(partitioned) == rows and _layout(partitioned) == PARTITIONED_LAYOUT and copies() == []


# -- the migration, both ways, on a populated store --------------------------------------------------------------
def test_the_migration_copies_a_populated_store_into_partitions_and_back(partitioned, tmp_path) -> None:
    _market(partitioned, tmp_path / "files")
    rows, report = _rows(partitioned), _own_report(partitioned, PEOPLE[0][0])
    command.downgrade(alembic_config(partitioned.engine), "0027")
    try:
        assert _layout(partitioned) == {"strategy": [], "bounds": {}, "key": NATURAL_KEY}
        assert _rows(partitioned) == rows
    finally:
        upgrade(partitioned.engine, pg_partitions=PARTITIONS)
    assert _layout(partitioned) == PARTITIONED_LAYOUT
    assert _rows(partitioned) == rows and _own_report(partitioned, PEOPLE[0][0]) == report
    for person_id, stored_in in _partition_of_rows(partitioned).items():
        assert stored_in == {_partition_of(partitioned, person_id)}
    with session_scope(partitioned.engine) as session:  # the planner has statistics of the copied rows
        assert session.scalar(text("SELECT sum(reltuples) FROM pg_class WHERE relname LIKE 'account_states\\_p%' "
                                   "AND relkind = 'r'")) == len(rows)
