"""Replay of the daily lending-event files beside the monthly files, into a bureau on both engines."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import select
from tests.sim.replayed import ReplayedMarket, replayed_bureau

from openbureau.accounts.event_repository import EventRepository
from openbureau.intake.events.files import EVENTS_KIND
from openbureau.intake.events.reconcile import reconcile
from openbureau.intake.models import Submission
from openbureau.kit.db import session_scope
from openbureau.members.service import list_members
from openbureau.sim import generate, read_event_manifest, read_manifest
from openbureau.sim.config import DEFAULT_CONFIG

END = "2025-06"
REPORTING = ("BANK_A", "MICRO_A", "PAYLATER")  # a day's file costs a transaction: three lenders are enough
CHINA = timezone(timedelta(hours=8))


def _config():
    """Three lenders report events, hold every customer's consent from the first day, and contradict their
    monthly files often (so that a small market has some of each contradiction)."""
    furnishers = tuple(
        replace(f, events=f.code in REPORTING, consent_rate=1.0 if f.code in REPORTING else f.consent_rate,
                consent_later=0.0 if f.code in REPORTING else f.consent_later,
                defects=replace(f.defects, event_contradiction=0.6) if f.code in REPORTING else f.defects)
        for f in DEFAULT_CONFIG.furnishers)
    return replace(DEFAULT_CONFIG, furnishers=furnishers)


@pytest.fixture(scope="module")
def event_market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("events") / "market"
    generate(persons=600, months=2, seed=8, out=out, end_period=END, event_months=1, config=_config())
    return out


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def bureau(request: pytest.FixtureRequest, event_market: Path, sqlite_template: Path,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReplayedMarket]:
    yield from replayed_bureau(request, event_market, sqlite_template, tmp_path_factory, "events", events=True,
                               replay_on_postgres=True)


def test_every_days_events_arrive_after_that_days_monthly_files(bureau: ReplayedMarket, event_market: Path) -> None:
    with session_scope(bureau.runtime.engine) as session:
        rows = session.execute(select(Submission.kind, Submission.received_at, Submission.filename)
                               .order_by(Submission.id)).all()
    daily = [e for e in read_event_manifest(event_market) if e.rows]
    assert {e.furnisher for e in daily} == set(REPORTING)
    assert sum(r.kind == EVENTS_KIND for r in rows) == len(daily)
    assert sum(r.kind != EVENTS_KIND for r in rows) == len(read_manifest(event_market))
    moments = [r.received_at.astimezone(UTC) for r in rows]
    assert moments == sorted(moments)  # submitted in time order
    for row in rows:
        if row.kind == EVENTS_KIND:  # at the end of the file's day, Beijing time
            assert row.received_at.astimezone(CHINA).time().isoformat() == "23:59:59"
            assert row.received_at.astimezone(CHINA).date().isoformat() == row.filename.removesuffix(".csv")
        else:
            assert row.received_at.astimezone(UTC).hour == 9


def test_events_are_stored_except_the_invalid_ones(bureau: ReplayedMarket, event_market: Path) -> None:
    result = bureau.result
    assert result is not None
    truth = pl.read_parquet(event_market / "truth" / "defects.parquet").filter(pl.col("row").is_not_null()
                                                                               & pl.col("event_date").is_not_null())
    invalid = dict(truth.filter(pl.col("defect_type").is_in(["event_missing_required", "event_invalid_id_number"]))
                   .group_by("furnisher").len().iter_rows())
    rows = {code: sum(e.rows for e in read_event_manifest(event_market) if e.furnisher == code) for code in REPORTING}
    for code in REPORTING:
        totals = result.totals[code]
        assert totals.events == rows[code] > 0
        assert totals.events_rejected == invalid.get(code, 0), code
        assert totals.events_stored == totals.events - totals.events_rejected and totals.events_duplicates == 0
    assert result.totals["TELECOM"].event_files == 0


def test_reconciliation_finds_the_injected_contradictions(bureau: ReplayedMarket, event_market: Path) -> None:
    engine = bureau.runtime.engine
    found = reconcile(engine, now=datetime(2025, 7, 20, tzinfo=UTC))
    for code in ("EVENT_AMOUNT_MISMATCH", "EVENT_OPENED_ON_MISMATCH", "EVENT_NOT_IN_FILE"):
        assert found[code] > 0, found
    with session_scope(engine) as session:
        rows = EventRepository(session.connection()).discrepancies(limit=10_000)
        codes = {m.id: m.code for m in list_members(session)}
    flagged = pl.DataFrame([{"furnisher": codes[r.furnisher_id], "furnisher_account_id": r.furnisher_account_id}
                            for r in rows])
    # Every discrepancy is about an account the truth says something was done to (an event contradicting the
    # records, or a record left out or rejected): clean events agree with clean records. An event with a
    # mistyped account number is flagged under the number it carries.
    truth = pl.read_parquet(event_market / "truth" / "defects.parquet")
    written = pl.concat([
        pl.read_csv(e.path, infer_schema=False).with_row_index("row", offset=1).select(
            furnisher=pl.lit(e.furnisher), event_date=pl.lit(e.date), row=pl.col("row").cast(pl.Int64),
            furnisher_account_id="furnisher_account_id")
        for e in read_event_manifest(event_market) if e.rows])
    mistyped = truth.filter(pl.col("defect_type") == "event_unknown_account").select(
        "furnisher", "event_date", "row").join(written, on=["furnisher", "event_date", "row"])
    spoiled = pl.concat([truth.select("furnisher", "furnisher_account_id"),
                         mistyped.select("furnisher", "furnisher_account_id")])
    assert flagged.height > 0
    assert flagged.join(spoiled, on=["furnisher", "furnisher_account_id"], how="anti").height == 0
