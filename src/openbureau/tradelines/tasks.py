"""Batch jobs of the tradelines domain: the retention purge, and the rewrite of account states in person order.

The retention job deletes negative information whose retention period has run out.

``openbureau retention run`` calls :func:`run_retention`. It examines only accounts with negative
information old enough to have expired, applies the same rule as every report (``history``), and deletes
every stored version of each expired month in short write transactions, each with an audit entry of its
counts. A dry run counts without deleting.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Engine

from openbureau.accounts import service as account_states
from openbureau.audit import service as audit
from openbureau.enterprises import service as enterprises
from openbureau.kit.db import checkpoint, intake_lock, session_scope
from openbureau.kit.dialects import dialect_for
from openbureau.kit.periods import add_years, period_of
from openbureau.tradelines.history import NEGATIVE_STATUSES, expired_periods


@dataclass(slots=True)
class RetentionRun:
    """What a retention run found and deleted."""

    as_of: date
    retention_years: int
    latest_expirable_period: str
    dry_run: bool
    accounts_examined: int = 0
    months_expired: int = 0
    rows_deleted: int = 0
    by_furnisher: Counter = field(default_factory=Counter)
    seconds: float = 0.0


# Accounts examined (and their expired months deleted) per write transaction of a retention run: short
# enough that inquiries never wait behind it.
RETENTION_BATCH = 500


def run_retention(engine: Engine, *, as_of: date, retention_years: int, actor_code: str, dry_run: bool = False,
                  progress: Callable[[int], None] | None = None) -> RetentionRun:
    """Delete (or, with ``dry_run``, count) expired negative months.

    Loads are kept out for the whole run (the intake lock), and the deletions are committed
    ``RETENTION_BATCH`` accounts at a time, each batch with its own audit entry, so that no inquiry waits
    behind a run. Every month is expired by the same rule whichever batch it falls in, so a run killed part
    way has deleted only expired months, and the next run deletes the rest.
    """
    started = time.perf_counter()
    # An event that ended on or before this date has expired; its months are no later than this period.
    limit = add_years(as_of, -retention_years)
    run = RetentionRun(as_of=as_of, retention_years=retention_years, latest_expirable_period=period_of(limit),
                       dry_run=dry_run)
    with intake_lock(engine):  # no load may add states of these accounts meanwhile
        with session_scope(engine) as session:
            # The only accounts whose information can have outlived its retention period: negative ones.
            batches = list(account_states.accounts_with_status_before(
                session, run.latest_expirable_period, payment_statuses=NEGATIVE_STATUSES, batch=RETENTION_BATCH))
        for accounts in batches:
            dialect_for(engine).between_writes(engine)
            with session_scope(engine, write=not dry_run) as session:
                keys = expired_periods(account_states.states_of_accounts(session, accounts), as_of=as_of,
                                       retention_years=retention_years)
                run.accounts_examined += len(accounts)
                run.months_expired += len(keys)
                run.by_furnisher.update(f for f, _, _ in keys)
                if keys and not dry_run:
                    rows = account_states.delete_periods(session, keys)
                    enterprises.forget_orphan_links(session.connection())  # v1.1: their business links too
                    run.rows_deleted += rows
                    audit.record(session, actor_member_id=None, actor_code=actor_code, action="retention.purge",
                                 details={"as_of": as_of.isoformat(), "retention_years": retention_years,
                                          "months": len(keys), "rows": rows,
                                          "by_furnisher": {str(k): v for k, v in
                                                           sorted(Counter(f for f, _, _ in keys).items())}})
            if progress is not None:
                progress(len(accounts))
    run.seconds = time.perf_counter() - started
    return run


@dataclass(frozen=True, slots=True)
class ClusterRun:
    """What a rewrite in person order did."""

    rows: int
    seconds: float


def cluster_by_person(engine: Engine, *, actor_code: str, progress: Callable[[int], None] | None = None
                      ) -> ClusterRun:
    """Rewrite account states in person order (``accounts.service.cluster_by_person``) while inquiries and
    consent releases go on, loads and retention runs waiting for it (the intake lock); audit it, and on
    SQLite shrink the write-ahead log the rewrite filled. Reports are unchanged by it; they read a person's
    file from a few pages afterwards."""
    started = time.perf_counter()
    with intake_lock(engine):
        rows = account_states.cluster_by_person(engine, progress=progress)
        with session_scope(engine, write=True) as session:
            audit.record(session, actor_member_id=None, actor_code=actor_code, action="tradelines.cluster",
                         details={"rows": rows, "seconds": round(time.perf_counter() - started, 1)})
    checkpoint(engine, mode="TRUNCATE")  # SQLite: the log holds a copy of the whole table
    return ClusterRun(rows=rows, seconds=time.perf_counter() - started)
