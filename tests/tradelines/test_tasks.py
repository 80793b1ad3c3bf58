"""The retention job deletes exactly what reports no longer show, on both engines, and is audited."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
from datetime import date

import pytest
from sqlalchemy import func, inspect, select, text

from openbureau.accounts.models import AccountState
from openbureau.audit import service as audit
from openbureau.consent.profiles import get_profile
from openbureau.consent.schemas import Subject
from openbureau.kit.db import session_scope
from openbureau.kit.dialects import base as dialects
from openbureau.kit.dialects import dialect_for
from openbureau.members.models import Role
from openbureau.policy import Policy
from openbureau.principals import Principal
from openbureau.reports import service
from openbureau.tradelines import tasks
from openbureau.tradelines.tasks import cluster_by_person, run_retention
from tests.consent.factories import grant
from tests.intake.factories import PEOPLE
from tests.members.factories import make_member
from tests.reports.conftest import NOW
from tests.reports.factories import furnish, history

CN = Policy(profile=get_profile("CN"), reciprocity=False)
AT_COUNTER = Principal.operator("OPERATOR:test")


def _states(runtime) -> int:
    with session_scope(runtime.engine) as session:
        return session.scalar(select(func.count()).select_from(AccountState))


def _run(runtime, **kwargs):
    return run_retention(runtime.engine, as_of=kwargs.pop("as_of", NOW.date()), retention_years=5,
                         actor_code="OPERATOR:test", **kwargs)


@pytest.fixture
def folder(runtime, tmp_path):
    """BANK_A furnishes person 0 (with consent); files go in the returned folder."""
    make_member(runtime, "BANK_A", Role.FURNISHER)
    grant(runtime, "BANK_A", PEOPLE[0][0])
    path = tmp_path / "files"
    path.mkdir()
    return path


def test_expired_negative_months_are_hidden_then_purged_and_ongoing_ones_stay(runtime, folder) -> None:
    # Late in 2020, cured 2021-01: the event ended 2021-01-31, over five years before NOW (2026-11-20).
    furnish(runtime, "BANK_A", history(0, "OLD", "2020-10", "N23NN"), folder)
    # Late in 2022-09 and cured 2022-10: ended 2022-10-31, less than five years ago.
    furnish(runtime, "BANK_A", history(0, "RECENT", "2022-08", "N1NN"), folder)
    stored = _states(runtime)

    def old_account():
        with session_scope(runtime.engine, write=True) as session:
            report = service.own_report(session, vault=runtime.vault, principal=AT_COUNTER, policy=CN, now=NOW,
                                        subject=Subject(id_type="CN_RESIDENT_ID", id_number=PEOPLE[0][0]),
                                        history_months=60)
        return {a.account_number: a for a in report.accounts}, report.notes

    accounts, notes = old_account()
    assert accounts["OLD"].payment_history.endswith("N//NN") and accounts["RECENT"].payment_history.count("1") == 1
    assert any("2 month(s) of negative information" in n for n in notes)

    dry = _run(runtime, dry_run=True)
    assert (dry.months_expired, dry.rows_deleted, _states(runtime)) == (2, 0, stored)
    done = _run(runtime)
    assert (done.months_expired, done.rows_deleted, _states(runtime)) == (2, 2, stored - 2)
    accounts, notes = old_account()
    assert accounts["OLD"].payment_history.endswith("N//NN")  # the report did not change
    assert not any("negative information past" in n for n in notes)
    assert _run(runtime).months_expired == 0  # nothing left to purge
    with session_scope(runtime.engine) as session:
        entry = audit.list_entries(session, action="retention.purge")[-1]
        assert audit.verify(session).ok
    assert json.loads(entry.details)["rows"] == 2 and entry.person_id is None


def test_the_us_profile_keeps_negative_information_seven_years(runtime, folder) -> None:
    furnish(runtime, "BANK_A", history(0, "OLD", "2020-10", "N23NN"), folder)
    run = run_retention(runtime.engine, as_of=date(2026, 11, 20), retention_years=7, actor_code="OPERATOR:test")
    assert run.months_expired == 0


def test_clustering_by_person_keeps_every_row_and_every_report_and_puts_each_file_together(runtime, folder) -> None:
    grant(runtime, "BANK_A", PEOPLE[1][0])
    # Two persons' months interleaved in load order: person 0 and person 1 alternate file by file.
    for period, statuses in (("2026-01", "NN"), ("2026-03", "N1"), ("2026-05", "NN")):
        furnish(runtime, "BANK_A", history(0, f"P0-{period}", period, statuses), folder)
        furnish(runtime, "BANK_A", history(1, f"P1-{period}", period, statuses), folder)
    columns = [c for c in AccountState.__table__.columns if c.name != "stored_at"]

    def snapshot():
        with session_scope(runtime.engine) as session:
            rows = sorted(tuple(r) for r in session.execute(select(*columns)))
            reports = [service.own_report(session, vault=runtime.vault, principal=AT_COUNTER, policy=CN,
                                          now=NOW, subject=Subject(id_type="CN_RESIDENT_ID", id_number=p[0]))
                       .model_dump(include={"person", "summary", "accounts", "obligations", "signals"})
                       for p in PEOPLE[:2]]  # not the inquiries: each report logs one
        return rows, reports

    before = snapshot()
    done = cluster_by_person(runtime.engine, actor_code="OPERATOR:test")
    assert done.rows == len(before[0]) == 12
    assert snapshot() == before  # every row, and every report, exactly as they were
    with session_scope(runtime.engine) as session:
        # Rows now lie in person order in the table itself, and the table keeps its indexes.
        if runtime.engine.dialect.name == "sqlite":
            rows = session.execute(text("SELECT 0, person_id FROM account_states ORDER BY rowid"))
            indexes = {tuple(c for (c,) in session.execute(text("SELECT name FROM pragma_index_info(:n)"), {"n": n}))
                       for n in session.scalars(text("SELECT name FROM sqlite_master WHERE type = 'index' AND "
                                                     "tbl_name = 'account_states' AND sql IS NOT NULL"))}
        else:
            # Where the store is partitioned by person (docs/scaling.md), each partition in person order.
            rows = session.execute(text("SELECT tableoid, person_id FROM account_states ORDER BY tableoid, ctid"))
            indexes = {tuple(c.strip() for c in d.split("(")[1].split(")")[0].split(","))
                       for d in session.scalars(text("SELECT indexdef FROM pg_indexes WHERE tablename = 'account_states' "
                                                     "AND indexname = ANY(ARRAY['ix_account_states_person_id', "
                                                     "'ix_account_states_held'])"))}
            assert session.scalar(text("SELECT count(*) FROM pg_proc WHERE proname LIKE 'account_states_ordered%'")) == 0
        orders: dict[int, list[int]] = {}
        for table, person_id in rows:
            orders.setdefault(table, []).append(person_id)
        assert all(order == sorted(order) for order in orders.values())
        assert indexes == {("person_id",), ("furnisher_id", "person_id")}
        partitions = dialect_for(session).partitions(session.connection(), "account_states")
        leftovers = [t for t in inspect(session.connection()).get_table_names()
                     if t.startswith("account_states_") and t not in partitions]
        assert leftovers == []
        entries = audit.list_entries(session, action="tradelines.cluster")
        assert audit.verify(session).ok
    assert len(entries) == 1 and json.loads(entries[0].details)["rows"] == 12
    # Loads go on after it: a new month lands and is part of the file.
    furnish(runtime, "BANK_A", history(0, "P0-2026-01", "2026-07", "N"), folder)
    assert _states(runtime) == 13


def test_a_consent_released_while_the_rewrite_copies_is_in_the_rewritten_table(runtime, folder, monkeypatch) -> None:
    monkeypatch.setattr(dialects, "REWRITE_CHUNK_ROWS", 2)  # many short copy transactions over a few rows
    grant(runtime, "BANK_A", PEOPLE[1][0])
    for index in (0, 1, 2):  # person 2 has no consent to furnish yet: held
        furnish(runtime, "BANK_A", history(index, f"A{index}", "2026-01", "NNN"), folder)
    with session_scope(runtime.engine) as session:
        held = session.scalar(select(func.count()).select_from(AccountState).where(AccountState.held_reason.is_not(None)))
    assert held == 3
    copied: list[int] = []

    def meanwhile(rows: int) -> None:  # a consent arrives while the rewrite is under way
        copied.append(rows)
        if len(copied) == 1:
            assert grant(runtime, "BANK_A", PEOPLE[2][0])[1] == 3

    done = cluster_by_person(runtime.engine, actor_code="OPERATOR:test", progress=meanwhile)
    assert len(copied) > 2 and done.rows == sum(copied)
    with session_scope(runtime.engine) as session:
        assert session.scalar(select(func.count()).select_from(AccountState)) == 9
        assert session.scalar(select(func.count()).select_from(AccountState)
                              .where(AccountState.held_reason.is_not(None))) == 0
        report = service.own_report(session, vault=runtime.vault, principal=AT_COUNTER, policy=CN, now=NOW,
                                    subject=Subject(id_type="CN_RESIDENT_ID", id_number=PEOPLE[2][0]))
    assert [a.account_number for a in report.accounts] == ["A2"]
    again = cluster_by_person(runtime.engine, actor_code="OPERATOR:test")  # SQLite: the index names move back
    assert again.rows == 9


KILL_DURING_REWRITE = textwrap.dedent("""
    import os, signal
    from openbureau.kit.dialects import base
    from openbureau.runtime import open_runtime
    from openbureau.tradelines.tasks import cluster_by_person

    base.REWRITE_CHUNK_ROWS = 2
    runtime = open_runtime()
    cluster_by_person(runtime.engine, actor_code="OPERATOR:test",
                      progress=lambda n: os.kill(os.getpid(), signal.SIGKILL))
""")


def test_a_rewrite_killed_part_way_leaves_the_table_as_it_was_and_the_next_run_finishes(runtime, folder) -> None:
    grant(runtime, "BANK_A", PEOPLE[1][0])
    for index in (0, 1):
        furnish(runtime, "BANK_A", history(index, f"A{index}", "2026-01", "NN1"), folder)
    settings = runtime.settings
    env = {**os.environ, "OPENBUREAU_DATA_DIR": str(settings.data_dir),
           "OPENBUREAU_DATABASE_URL": settings.resolved_database_url,
           "OPENBUREAU_PII_KEY": settings.pii_key.get_secret_value(),
           "OPENBUREAU_INDEX_KEY": settings.index_key.get_secret_value()}
    killed = subprocess.run([sys.executable, "-c", KILL_DURING_REWRITE], env=env, capture_output=True, text=True,
                            timeout=120)
    assert killed.returncode == -9, killed.stderr
    assert _states(runtime) == 6
    furnish(runtime, "BANK_A", history(0, "A0", "2026-04", "N"), folder)  # loads go on: the lock died with it
    assert cluster_by_person(runtime.engine, actor_code="OPERATOR:test").rows == 7 == _states(runtime)
    with session_scope(runtime.engine) as session:
        tables = inspect(session.connection()).get_table_names()
        partitions = dialect_for(session).partitions(session.connection(), "account_states")
    assert [t for t in tables if t.startswith("account_states_") and t not in partitions] == []


def test_a_retention_run_reports_what_it_examined_and_audits_what_it_deleted(runtime, folder) -> None:
    furnish(runtime, "BANK_A", history(0, "OLD", "2020-10", "N23NN"), folder)  # negative in 2020-11/12: expired
    furnish(runtime, "BANK_A", history(0, "RECENT", "2022-08", "N1NN"), folder)  # negative after 2021-11: not examined
    seen: list[int] = []
    run = run_retention(runtime.engine, as_of=date(2026, 11, 20), retention_years=5, actor_code="OPERATOR:test",
                        progress=seen.append)
    with session_scope(runtime.engine) as session:
        bank = session.execute(text("SELECT id FROM members WHERE code = 'BANK_A'")).scalar_one()
    assert (run.as_of, run.retention_years, run.latest_expirable_period, run.dry_run) == (
        date(2026, 11, 20), 5, "2021-11", False)  # an event that ended by 2021-11-20 has expired
    assert (run.accounts_examined, run.months_expired, run.rows_deleted, dict(run.by_furnisher)) == (1, 2, 2, {bank: 2})
    assert seen == [1] and 0 <= run.seconds < 60
    with session_scope(runtime.engine) as session:
        (entry,) = audit.list_entries(session, action="retention.purge")
    assert (entry.actor_code, entry.actor_member_id, entry.person_id) == ("OPERATOR:test", None, None)
    assert json.loads(entry.details) == {"as_of": "2026-11-20", "retention_years": 5, "months": 2, "rows": 2,
                                         "by_furnisher": {str(bank): 2}}
    dry = run_retention(runtime.engine, as_of=date(2026, 11, 20), retention_years=5, actor_code="OPERATOR:test",
                        dry_run=True)
    assert dry.dry_run is True and (dry.accounts_examined, dry.months_expired) == (0, 0)


def test_a_run_in_several_batches_adds_up_every_batch(runtime, folder, monkeypatch) -> None:
    monkeypatch.setattr(tasks, "RETENTION_BATCH", 1)  # one account per batch: three batches
    for account in ("OLD1", "OLD2", "OLD3"):
        furnish(runtime, "BANK_A", history(0, account, "2020-10", "N23NN"), folder)  # 2 expired months each
    stored, seen = _states(runtime), []
    run = run_retention(runtime.engine, as_of=date(2026, 11, 20), retention_years=5, actor_code="OPERATOR:test",
                        progress=seen.append)
    with session_scope(runtime.engine) as session:
        bank = session.execute(text("SELECT id FROM members WHERE code = 'BANK_A'")).scalar_one()
        entries = audit.list_entries(session, action="retention.purge")
    assert (run.accounts_examined, run.months_expired, run.rows_deleted, dict(run.by_furnisher)) == (3, 6, 6, {bank: 6})
    assert seen == [1, 1, 1] and _states(runtime) == stored - 6
    assert [json.loads(entry.details)["months"] for entry in entries] == [2, 2, 2]  # one audit entry per batch


def test_a_purge_waits_for_a_writer_that_holds_the_database_and_deletes_from_what_it_read_then(runtime, folder) -> None:
    """A batch is a writer from its first read (SQLite: ``BEGIN IMMEDIATE``), so a purge started while an
    inquiry's transaction writes waits for it to commit. A batch that read first and asked for the write
    lock only to delete would hold a read older than that commit and fail ("database is locked")."""
    furnish(runtime, "BANK_A", history(0, "OLD", "2020-10", "N23NN"), folder)  # 2 expired months
    stored, writing, done = _states(runtime), threading.Event(), threading.Event()

    def inquiry() -> None:
        with session_scope(runtime.engine, write=True) as session:
            audit.record(session, actor_member_id=None, actor_code="BANK_B", action="inquiry.read", person_id=1)
            writing.set()
            done.wait(0.5)  # still writing when the purge's batch begins

    writer = threading.Thread(target=inquiry)
    writer.start()
    assert writing.wait(10)
    try:
        run = _run(runtime, as_of=date(2026, 11, 20))
    finally:
        done.set()
        writer.join()
    assert (run.months_expired, run.rows_deleted, _states(runtime)) == (2, 2, stored - 2)
    with session_scope(runtime.engine) as session:
        assert [e.action for e in audit.list_entries(session)][:2] == ["retention.purge", "inquiry.read"]
    with session_scope(runtime.engine) as session:
        assert audit.verify(session).ok
