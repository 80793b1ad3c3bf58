"""Fraud patterns beyond the rings: bust-out, synthetic identities built over months, account takeover."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from tests.sim.test_sim_events import furnished_events

from openbureau.cli.demo import demo_config
from openbureau.sim import generate
from openbureau.sim.config import DEFAULT_CONFIG
from openbureau.sim.fraud_patterns import PATTERNS

SHARE = 0.01
PARAMS = replace(DEFAULT_CONFIG.fraud_patterns, bust_out_share=SHARE, built_share=SHARE, takeover_share=SHARE)
PERSONS = 2_000


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("patterns") / "market"
    generate(persons=PERSONS, months=12, seed=31, out=out, end_period="2025-06",
             config=replace(DEFAULT_CONFIG, fraud_patterns=PARAMS))
    return out


@pytest.fixture(scope="module")
def fraud(market: Path) -> pl.DataFrame:
    persons = pl.read_parquet(market / "truth" / "persons.parquet")
    return pl.read_parquet(market / "truth" / "fraud.parquet").join(persons, on="person_key")


@pytest.fixture(scope="module")
def opened(market: Path, fraud: pl.DataFrame) -> pl.DataFrame:
    """The opened events of the fraudsters, with their truth."""
    events = furnished_events(market).filter(pl.col("event_type") == "opened")
    return events.join(fraud, on="id_number").with_columns(
        on=pl.col("occurred_at").str.slice(0, 10).str.to_date())


def test_every_pattern_is_written_with_its_share(fraud: pl.DataFrame) -> None:
    counts = dict(fraud.group_by("pattern").len().iter_rows())
    for pattern in PATTERNS:
        assert counts[pattern] == round(PERSONS * SHARE), counts
    assert counts["ring"] == round(PERSONS * DEFAULT_CONFIG.population.fraud_share)
    # Patterns begin in the last three months (the event feed), and no fraudster is two things at once.
    mine = fraud.filter(pl.col("pattern") != "ring")
    assert mine["began_at"].dt.date().min() >= date(2025, 4, 1)
    assert fraud["person_key"].n_unique() == fraud.height
    assert not mine["synthetic"].any() and mine["ring_id"].is_null().all()


def test_the_fraud_stops_paying_after_it_began(fraud: pl.DataFrame) -> None:
    missed = fraud.filter(pl.col("first_missed_on").is_not_null())
    assert (missed["first_missed_on"] > missed["began_at"].dt.date()).all()
    # Most fraudsters have missed a payment by the end of the window (the last ones begin in its last weeks).
    for pattern in PATTERNS:
        mine = fraud.filter(pl.col("pattern") == pattern)
        assert mine["first_missed_on"].is_not_null().mean() >= 0.5, pattern


def test_bust_out_opens_at_several_lenders_within_weeks(opened: pl.DataFrame) -> None:
    began = pl.col("began_at").dt.date()
    weeks = opened.filter(pl.col("pattern") == "bust_out", pl.col("on") >= began,
                          pl.col("on") <= began + timedelta(days=PARAMS.bust_out_days[1]))
    per = weeks.group_by("person_key").agg(lenders=pl.col("furnisher").n_unique(), last=pl.col("on").max(),
                                           missed=pl.col("first_missed_on").first())
    assert per.height == round(PERSONS * SHARE)
    assert (per["lenders"] >= PARAMS.bust_out_lenders[0] - 1).all()  # an event may be lost to a defect
    missed = per.filter(pl.col("missed").is_not_null())
    assert missed.height and (missed["missed"] > missed["last"]).all()  # every line is drawn, then nothing paid


def test_bust_out_applications_are_stacked_before_the_first_account(market: Path, fraud: pl.DataFrame) -> None:
    # Every lender of a bust-out got its application within hours before the first account was granted.
    stamp = pl.col("occurred_at").str.to_datetime("%Y-%m-%dT%H:%M:%S%:z")
    events = furnished_events(market).filter(pl.col("defect_type").is_null())
    applied = events.filter(pl.col("event_type") == "application").select("id_number", "furnisher", at=stamp)
    bust = fraud.filter(pl.col("pattern") == "bust_out").select("id_number", "person_key", "began_at")
    window = applied.join(bust, on="id_number").filter(
        pl.col("at") < pl.col("began_at"),
        pl.col("at") >= pl.col("began_at") - timedelta(hours=PARAMS.bust_out_apply_hours))
    per = window.group_by("person_key").agg(lenders=pl.col("furnisher").n_unique())
    assert per.height == bust.height
    assert (per["lenders"] >= PARAMS.bust_out_lenders[0] - 1).all()  # an event may be lost to a defect
    assert per["lenders"].mean() >= PARAMS.bust_out_lenders[0]


def test_honest_persons_shop_for_one_kind_of_credit(market: Path, fraud: pl.DataFrame) -> None:
    # About a quarter of the loans granted follow applications for the same kind of credit at one or two other
    # lenders in the days before, none of them granted (their reference is no account).
    events = furnished_events(market).filter(pl.col("defect_type").is_null(), ~pl.col("id_number").is_in(
        fraud["id_number"].implode()))
    day = pl.col("occurred_at").str.slice(0, 10).str.to_date()
    opened = events.filter(pl.col("event_type") == "opened").select(
        "id_number", "product_type", "furnisher", "furnisher_account_id", opened_on=day)
    accounts = opened["furnisher_account_id"].implode()
    elsewhere = events.filter(pl.col("event_type") == "application", ~pl.col("furnisher_account_id").is_in(accounts)
                              ).select("id_number", "product_type", shop_furnisher="furnisher", applied_on=day)
    shopped = opened.join(elsewhere, on=["id_number", "product_type"]).filter(
        pl.col("shop_furnisher") != pl.col("furnisher"), pl.col("applied_on") <= pl.col("opened_on"),
        pl.col("applied_on") >= pl.col("opened_on") - timedelta(days=DEFAULT_CONFIG.events.shopping_days))
    share = shopped["furnisher_account_id"].n_unique() / opened.height
    assert 0.15 < share < 0.45, share


def test_takeover_changes_the_phone_on_one_existing_account_before_borrowing(
        market: Path, opened: pl.DataFrame, fraud: pl.DataFrame) -> None:
    takeover = fraud.filter(pl.col("pattern") == "takeover")
    assert takeover["phone_new"].is_not_null().all()
    assert (takeover["phone_changed_on"] < takeover["began_at"].dt.date()).all()
    assert ((takeover["began_at"].dt.date() - takeover["phone_changed_on"]).dt.total_days()
            <= PARAMS.takeover_days[1] + 2).all()
    events = furnished_events(market).join(takeover, on="id_number").with_columns(
        on=pl.col("occurred_at").str.slice(0, 10).str.to_date(),
        digits=pl.col("phone").str.replace_all(r"\D", "").str.slice(-11))
    # The fraudster's number is put on one existing account the day of the change, and its lender furnishes it
    # (a lender of the fraud's loans that held accounts of the person takes it up with the application).
    changed = events.filter(pl.col("event_type") == "contact_changed")
    assert (changed["digits"] == changed["phone_new"]).all() and (changed["on"] >= changed["phone_changed_on"]).all()
    first = changed.filter(pl.col("on") == pl.col("phone_changed_on"))
    assert first["id_number"].n_unique() >= 0.8 * takeover.height
    assert (first.group_by("id_number").agg(pl.col("furnisher").n_unique())["furnisher"] == 1).mean() >= 0.8
    # The fraud's loans and their applications carry it; the person's other lenders keep the person's own.
    fraud_loans = opened.filter(pl.col("pattern") == "takeover", pl.col("on") > pl.col("phone_changed_on"),
                                pl.col("on") <= pl.col("began_at").dt.date(), pl.col("phone").is_not_null())
    digits = fraud_loans["phone"].str.replace_all(r"\D", "").str.slice(-11)
    assert fraud_loans.height and (digits == fraud_loans["phone_new"]).mean() >= 0.9
    applied = events.filter(pl.col("event_type") == "application", pl.col("phone").is_not_null(),
                            pl.col("on") >= pl.col("phone_changed_on"), pl.col("on") <= pl.col("began_at").dt.date())
    assert applied.height and (applied["digits"] == applied["phone_new"]).mean() >= 0.9
    others = events.filter(pl.col("event_type") == "repayment", pl.col("on") > pl.col("phone_changed_on"),
                           ~pl.col("furnisher").is_in(changed["furnisher"].implode()), pl.col("digits").is_not_null())
    assert others.height and (others["digits"] == others["phone_right"]).mean() >= 0.9  # the person's own


def test_built_identity_is_young_pays_then_borrows(market: Path, fraud: pl.DataFrame) -> None:
    built = fraud.filter(pl.col("pattern") == "built_identity")
    months = (built["began_at"].dt.date() - built["built_since"]).dt.total_days() / 30.4
    assert (months >= PARAMS.built_months[0] - 1).all() and (months <= PARAMS.built_months[1] + 1).all()
    records = pl.read_parquet(market / "truth" / "records.parquet").join(built, on="person_key")
    first = records.group_by("person_key").agg(pl.col("period").min(), pl.col("built_since").first())
    assert (first["period"] >= first["built_since"].dt.strftime("%Y-%m")).all()
    # Its address is an unrelated person's.
    persons = pl.read_parquet(market / "truth" / "persons.parquet")
    sharing = persons.group_by("address").agg(n=pl.len())
    assert built.join(sharing, on="address")["n"].min() >= 2


def test_default_market_keeps_small_shares(tmp_path: Path) -> None:
    generate(persons=1_000, months=3, seed=2, out=tmp_path / "m", end_period="2025-06", event_months=0)
    fraud = pl.read_parquet(tmp_path / "m" / "truth" / "fraud.parquet")
    assert fraud.filter(pl.col("pattern") != "ring").height == 3 * round(1_000 * 0.002)
    assert pl.read_parquet(tmp_path / "m" / "truth" / "first_credit.parquet").height > 0
    assert date(2025, 4, 1) - timedelta(days=1) < fraud["began_at"].dt.date().max()


def test_the_demo_puts_every_pattern_in_its_one_month_event_feed(tmp_path: Path) -> None:
    # The demo's feed is one month: its patterns begin in it, so that their applications are events.
    config = demo_config(1)
    generate(persons=1_000, months=4, seed=2, out=tmp_path / "m", end_period="2025-06", event_months=1,
             config=replace(config, fraud_patterns=replace(config.fraud_patterns, bust_out_share=SHARE,
                                                           built_share=SHARE, takeover_share=SHARE)))
    fraud = pl.read_parquet(tmp_path / "m" / "truth" / "fraud.parquet").filter(pl.col("pattern") != "ring")
    assert fraud.height == 3 * round(1_000 * SHARE)
    assert fraud["began_at"].dt.date().min() >= date(2025, 6, 1) - timedelta(days=1)
    assert demo_config(0) == DEFAULT_CONFIG
