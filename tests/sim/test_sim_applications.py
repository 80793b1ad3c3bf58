"""Credit applications of the simulated market: every opened account was applied for first, rate shoppers
apply to several lenders within days, and the replay records every application as a hard inquiry."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import func, select
from tests.sim.replayed import ReplayedMarket, replayed_bureau

from openbureau.consent.schemas import Subject
from openbureau.consent.service import subject_indexes
from openbureau.identity.repository import find_person_by_any
from openbureau.inquiries.models import Inquiry
from openbureau.kit.db import session_scope
from openbureau.reports.service import full_report
from openbureau.sim import generate
from openbureau.sim.applications import APPLICATIONS_FILE, SHOPPING_DAYS, ApplicationParams
from openbureau.sim.config import FURNISHERS

END = "2025-06"


@pytest.fixture(scope="module")
def applying_market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("applications") / "market"
    generate(persons=600, months=3, seed=21, out=out, end_period=END, event_months=0)
    return out


@pytest.fixture(scope="module")
def applications(applying_market: Path) -> pl.DataFrame:
    return pl.read_parquet(applying_market / "truth" / APPLICATIONS_FILE)


def test_every_opened_account_was_applied_for_shortly_before(applications: pl.DataFrame) -> None:
    opened = applications.filter(pl.col("outcome") == "opened")
    assert opened.height > 100
    lead = (opened["opened_on"] - opened["applied_at"].dt.date()).dt.total_days()
    assert lead.min() >= 0
    assert lead.max() <= ApplicationParams().lead_days
    assert applications.filter(pl.col("outcome") != "opened")["opened_on"].is_null().sum() == \
        applications.filter(pl.col("outcome") == "declined").height  # a declined application opens nothing


def test_the_opened_accounts_are_in_the_lenders_files(applying_market: Path, applications: pl.DataFrame) -> None:
    lenders = {f.code for f in FURNISHERS if "subscriber" in f.roles}
    assert set(applications["furnisher"].unique()) <= lenders
    records = pl.read_parquet(applying_market / "truth" / "records.parquet")
    within = applications.filter((pl.col("outcome") == "opened") & (pl.col("opened_on") >= datetime(2025, 4, 1)))
    reported = within.join(records.select(pl.col("person_key"), pl.col("furnisher")).unique(),
                           on=["person_key", "furnisher"], how="semi")
    assert reported.height >= 0.9 * within.height  # (an account opened and closed between reports is not)


def test_rate_shopping_bursts_fall_within_their_window(applications: pl.DataFrame) -> None:
    bursts = applications.filter(pl.col("burst_id").is_not_null()).group_by("burst_id").agg(
        n=pl.len(), lenders=pl.col("furnisher").n_unique(), opened=(pl.col("outcome") == "opened").sum(),
        first=pl.col("applied_at").min(), last=pl.col("applied_at").max(), opened_on=pl.col("opened_on").max(),
        other=(pl.col("outcome").is_in(["opened", "not_taken"])).all())
    assert bursts.height >= 20
    assert bursts["n"].min() >= 2 and bursts["n"].max() <= 5
    assert (bursts["lenders"] == bursts["n"]).all()  # each lender quotes once
    assert (bursts["opened"] == 1).all() and bursts["other"].all()
    span = (bursts["last"].dt.date() - bursts["first"].dt.date()).dt.total_days()
    assert span.max() < SHOPPING_DAYS
    assert (bursts["last"].dt.date() <= bursts["opened_on"]).all()  # every quote precedes the account


def test_riskier_persons_apply_more_but_the_outcome_is_not_copied(applying_market: Path,
                                                                 applications: pl.DataFrame) -> None:
    persons = pl.read_parquet(applying_market / "truth" / "persons.parquet").select("person_key", "latent_risk")
    declined = applications.filter(pl.col("outcome") == "declined").group_by("person_key").len()
    joined = persons.join(declined, on="person_key", how="left").with_columns(pl.col("len").fill_null(0))
    risky = joined.filter(pl.col("latent_risk") > joined["latent_risk"].quantile(0.8))["len"].mean()
    safe = joined.filter(pl.col("latent_risk") < joined["latent_risk"].quantile(0.2))["len"].mean()
    assert risky > safe
    assert "default_12m" not in applications.columns and "in_default" not in applications.columns


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def bureau(request: pytest.FixtureRequest, applying_market: Path, sqlite_template: Path,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReplayedMarket]:
    yield from replayed_bureau(request, applying_market, sqlite_template, tmp_path_factory, "applications",
                               replay_on_postgres=True)


def test_the_replay_stores_every_application_as_a_hard_inquiry(bureau: ReplayedMarket,
                                                               applications: pl.DataFrame) -> None:
    assert bureau.result is not None
    totals = bureau.result.applications
    assert totals.applications == totals.consents == totals.inquiries == applications.height
    assert totals.persons_found >= 0.9 * applications.height
    with session_scope(bureau.runtime.engine) as session:
        rows = session.execute(select(Inquiry.purpose, Inquiry.hard, Inquiry.basis, func.count())
                               .group_by(Inquiry.purpose, Inquiry.hard, Inquiry.basis)).all()
        first = session.scalar(select(func.min(Inquiry.created_at)))
    assert [tuple(r) for r in rows] == [("loan_origination", 1, "consent", applications.height)]
    assert first.astimezone(UTC) == applications["applied_at"].min()


def test_a_persons_report_shows_their_applications(bureau: ReplayedMarket, applications: pl.DataFrame) -> None:
    runtime = bureau.runtime
    shopper = applications.filter(pl.col("burst_id").is_not_null()).sort("applied_at")[-1]
    mine = applications.filter(pl.col("person_key") == shopper["person_key"][0])
    subject = Subject(id_type="CN_RESIDENT_ID", id_number=shopper["id_number"][0])
    indexes = subject_indexes(runtime.vault, subject)
    now = mine["applied_at"].max() + timedelta(days=1)
    with session_scope(runtime.engine) as session:
        person = find_person_by_any(session, id_type="CN_RESIDENT_ID", id_indexes=indexes)
        assert person is not None
        report = full_report(session, vault=runtime.vault, person=person, subject_indexes=indexes,
                             policy=runtime.policy, history_months=24, now=now)
    hard = sorted(q.at.astimezone(UTC) for q in report.inquiries if q.hard)
    assert hard == sorted(mine["applied_at"].to_list())
    assert len({q.lender for q in report.inquiries}) == mine["furnisher"].n_unique() >= 2
    assert all(q.purpose == "loan_origination" and q.basis.startswith("your consent ") for q in report.inquiries)
