"""Over-borrowing episodes, the platforms' short loans, the detection measure and the generator's cost."""

from __future__ import annotations

import cProfile
import pstats
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from openbureau.sim import FURNISHERS, detect, generate, load_episodes, read_event_manifest
from openbureau.sim.config import DEFAULT_CONFIG, PLATFORMS

SHORT = {p.prefix: max(p.term_days) for f in FURNISHERS for p in f.products if p.term_days}


@pytest.fixture(scope="module")
def episodes(market: Path) -> pl.DataFrame:
    return load_episodes(market)


@pytest.fixture(scope="module")
def opened(market: Path) -> pl.DataFrame:
    """Every opened event with its file's furnisher, and the injected defect of the event if any."""
    frames = [pl.read_csv(e.path, infer_schema=False).with_row_index("row", offset=1).with_columns(
        furnisher=pl.lit(e.furnisher), event_date=pl.lit(e.date)) for e in read_event_manifest(market) if e.rows]
    found = pl.concat(frames).with_columns(pl.col("row").cast(pl.Int64))
    truth = pl.read_parquet(market / "truth" / "defects.parquet").filter(pl.col("event_date").is_not_null())
    return found.join(truth.select("furnisher", "event_date", "row", "defect_type"),
                      on=["furnisher", "event_date", "row"], how="left")


def test_episodes_are_loans_at_several_platforms_within_days(episodes: pl.DataFrame, persons: pl.DataFrame) -> None:
    assert episodes.schema["opened_at"] == pl.Datetime("ms", "UTC")
    per = episodes.group_by("episode_id").agg(
        loans=pl.len(), lenders=pl.col("furnisher").n_unique(), persons=pl.col("person_key").n_unique(),
        days=(pl.col("opened_at").max().dt.convert_time_zone("Asia/Shanghai").dt.date()
              - pl.col("opened_at").min().dt.convert_time_zone("Asia/Shanghai").dt.date()).dt.total_days(),
        ordered=(pl.col("opened_at").sort_by("position").diff().drop_nulls() >= timedelta(0)).all(),
        positions=pl.col("position").sort().implode(), last=pl.col("position").filter(pl.col("last")))
    assert per.height > 10
    assert (per["loans"] == per["lenders"]).all() and (per["persons"] == 1).all()  # one loan per platform
    assert per["loans"].min() >= 3 and per["loans"].max() <= 8  # type: ignore[operator]
    assert (per["days"] <= 9).all() and per["ordered"].all()  # 1 to 10 calendar days, in the order granted
    assert all(p.to_list() == list(range(1, n + 1)) for p, n in zip(per["positions"], per["loans"], strict=True))
    assert (per["last"].list.len() == 1).all() and (per["last"].list.first() == per["loans"]).all()
    assert set(episodes["furnisher"]) <= set(PLATFORMS)
    assert episodes["opened_at"].min() >= datetime(2025, 3, 31, 16, tzinfo=UTC)  # the last three months (UTC+8)
    # The truth marks the over-borrowers, honest persons with a credit history, riskier than the rest.
    marked = persons.filter(pl.col("over_borrower"))
    assert set(marked["person_key"]) == set(episodes["person_key"])
    assert not (marked["thin_file"] | marked["synthetic"]).any()
    assert 0.008 < marked.height / persons.height < 0.025
    assert marked["latent_risk"].mean() > persons["latent_risk"].mean() + 0.2  # type: ignore[operator]


def test_episode_loans_are_opened_events_and_monthly_accounts(episodes: pl.DataFrame, opened: pl.DataFrame,
                                                              records: pl.DataFrame) -> None:
    events = opened.filter(pl.col("event_type") == "opened").select(
        "furnisher", "furnisher_account_id", "defect_type", "opened_on",
        at=pl.col("occurred_at").str.to_datetime("%Y-%m-%dT%H:%M:%S%:z").dt.convert_time_zone("UTC"))
    joined = episodes.join(events, on=["furnisher", "furnisher_account_id"], how="left")
    shown = joined.filter(pl.col("at").is_not_null())
    assert shown.height >= 0.95 * episodes.height  # the others' opened events were never sent or mistyped
    assert (shown["at"].dt.cast_time_unit("ms") == shown["opened_at"]).all()
    accounts = records.filter(pl.col("defect_type").is_null()).select("furnisher", "furnisher_account_id",
                                                                     record_opened_on="opened_on").unique()
    in_files = episodes.join(accounts, on=["furnisher", "furnisher_account_id"], how="inner")
    assert in_files.height >= 0.95 * episodes.height
    local_day = in_files["opened_at"].dt.convert_time_zone("Asia/Shanghai").dt.date().cast(pl.String)
    assert (local_day == in_files["record_opened_on"]).all()


def test_platform_short_loans_are_repaid_within_weeks(market: Path, records: pl.DataFrame) -> None:
    frames = [pl.read_csv(e.path, infer_schema=False).with_columns(furnisher=pl.lit(e.furnisher))
              for e in read_event_manifest(market) if e.rows and e.furnisher in PLATFORMS]
    events = pl.concat(frames).with_columns(
        day=pl.col("occurred_at").str.slice(0, 10).str.to_date(),
        prefix=pl.col("furnisher_account_id").str.extract(r"^([A-Z]+)\d"))
    short = events.filter(pl.col("prefix").is_in(list(SHORT)))
    life = short.group_by("furnisher_account_id", "prefix").agg(
        opened=pl.col("day").filter(pl.col("event_type") == "opened").min(),
        paid=pl.col("day").filter(pl.col("event_type") == "repayment").min(),
        ended=pl.col("day").filter(pl.col("event_type").is_in(["closed", "settled"])).min(),
        late=(pl.col("event_type") == "delinquent").any(),
    ).drop_nulls()
    on_time = life.filter(~pl.col("late"))
    assert on_time.height > 100 and on_time.height > 0.8 * life.height
    weeks = (on_time["ended"] - on_time["opened"]).dt.total_days()
    assert (weeks >= 6).all() and (weeks <= 28).all()  # 7 to 28 days (a day less when due on a month's end)
    assert (on_time["paid"] == on_time["ended"]).all()  # one payment, the day the loan ends
    monthly = records.filter(pl.col("furnisher_account_id").str.extract(r"^([A-Z]+)\d").is_in(list(SHORT)))
    assert (monthly["term_months"] == 1).all()


def test_detection_asks_each_lender_before_it_grants_and_stops_at_the_first_flag(episodes: pl.DataFrame) -> None:
    asked: list[tuple[str, datetime, str]] = []

    def after_two_loans(lender: str, at: datetime, person_key: str) -> bool:
        """A bureau that has seen every loan of the episode granted before `at` and flags from two on."""
        asked.append((lender, at, person_key))
        earlier = episodes.filter((pl.col("person_key") == person_key) & (pl.col("opened_at") < at))
        return earlier.height >= 2

    result = detect(episodes, after_two_loans)
    n = episodes["episode_id"].n_unique()
    assert result.episodes == n and result.flagged == n and result.share == 1.0
    assert result.first_flag == {3: n}  # asked at the third loan, after two were granted
    assert result.loans_after_flag == episodes.height - 2 * n
    assert len(asked) == 3 * n and all(at.tzinfo is not None for _, at, _ in asked)
    first = episodes.filter(pl.col("position") <= 3).sort("episode_id", "position")
    assert [(f, a) for f, a, _ in asked] == list(zip(first["furnisher"], first["opened_at"], strict=True))

    never = detect(episodes, lambda lender, at, person_key: False)
    assert never.flagged == 0 and never.share == 0.0 and never.first_flag == {} and never.loans_after_flag == 0
    # Monthly files only: the episode's loans reach the bureau weeks later, so only one that spans a
    # file's arrival could be seen; a bureau that sees nothing within 10 days flags none.
    late = detect(episodes, lambda lender, at, person_key: episodes.filter(
        (pl.col("person_key") == person_key) & (pl.col("opened_at") < at - timedelta(days=10))).height >= 2)
    assert late.flagged == 0
    assert detect(episodes.clear(), lambda *_: True).share == 0.0


def test_generation_makes_no_python_call_per_person_or_event(tmp_path: Path) -> None:
    """Vectorised: four times the persons (and events) make about as many Python function calls."""
    calls = {}
    generate(persons=200, months=2, seed=3, out=tmp_path / "warm", end_period="2025-06", event_months=1)  # imports
    for persons in (1_500, 6_000):
        profile = cProfile.Profile()
        profile.enable()
        summary = generate(persons=persons, months=2, seed=3, out=tmp_path / str(persons), end_period="2025-06",
                           event_months=1)
        profile.disable()
        calls[persons] = pstats.Stats(profile).total_calls  # type: ignore[attr-defined]
        assert summary.events > persons
    assert calls[6_000] < 1.05 * calls[1_500], calls
    assert DEFAULT_CONFIG.block_size > 6_000  # one block each: the comparison is of rows, not blocks
