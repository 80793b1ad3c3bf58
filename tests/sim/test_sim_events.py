"""Daily lending events: files and manifest, agreement with the monthly records, injected defects."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import polars as pl
import pytest
from tests.sim.conftest import END, furnished_records

from openbureau.intake.events.standard import EVENT_COLUMNS
from openbureau.intake.events.validation import validate_events
from openbureau.intake.validation.engine import LINE, OUTCOME
from openbureau.sim import FURNISHERS, generate
from openbureau.sim.config import DEFAULT_CONFIG
from openbureau.sim.event_defects import EVENT_DEFECT_TYPES
from openbureau.sim.event_files import read_event_manifest
from openbureau.sim.identities import is_valid_resident_id

LENDERS = [f.code for f in FURNISHERS if f.events]
FEED = [date(2025, 4, 1) + timedelta(days=i) for i in range(91)]  # the last three months up to 2025-06
IDENTITY = ["id_type", "id_number", "full_name", "birth_date", "phone", "address"]


@pytest.fixture(scope="module")
def events(market: Path) -> pl.DataFrame:
    """Every event of the small market with its furnisher, file date and row, and its injected defect."""
    return furnished_events(market)


def furnished_events(market: Path) -> pl.DataFrame:
    """Every event of ``market`` with its furnisher, file date and row, and its injected defect (if any)."""
    frames = []
    for entry in read_event_manifest(market):
        frame = pl.read_csv(entry.path, infer_schema=False)
        frames.append(frame.with_columns(furnisher=pl.lit(entry.furnisher), event_date=pl.lit(entry.date),
                                         row=pl.int_range(1, frame.height + 1, dtype=pl.Int64)))
    found = pl.concat(frames).with_columns(
        pl.col("amount", "term_months", "amount_due", "balance", "days_past_due", "past_due_amount").cast(pl.Int64))
    defects = pl.read_parquet(market / "truth" / "defects.parquet").filter(pl.col("row").is_not_null()
                                                                           & pl.col("event_date").is_not_null())
    return found.join(defects.select("furnisher", "event_date", "row", "defect_type", "field"),
                      on=["furnisher", "event_date", "row"], how="left")


@pytest.fixture(scope="module")
def contradicting(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small market whose lenders contradict their monthly files in half their opened and repayment events."""
    config = replace(DEFAULT_CONFIG, furnishers=tuple(
        replace(f, defects=replace(f.defects, event_contradiction=0.5)) if f.events else f
        for f in DEFAULT_CONFIG.furnishers))
    out = tmp_path_factory.mktemp("contradicting") / "market"
    generate(persons=1_000, months=2, seed=4, out=out, end_period=END, event_months=1, config=config)
    return out


@pytest.fixture(scope="module")
def clean(events: pl.DataFrame) -> pl.DataFrame:
    """Events without an injected defect."""
    return events.filter(pl.col("defect_type").is_null())


@pytest.fixture(scope="module")
def clean_records(records: pl.DataFrame) -> pl.DataFrame:
    """Monthly records of account-months without an injected defect (dropped accounts leave no record)."""
    spoiled = records.filter(pl.col("defect_type").is_not_null()).select("furnisher", "reporting_period",
                                                                        "furnisher_account_id").unique()
    return records.join(spoiled, on=["furnisher", "reporting_period", "furnisher_account_id"], how="anti")


def test_one_file_per_lender_and_day_listed_in_time_order(market: Path, events: pl.DataFrame) -> None:
    entries = read_event_manifest(market)
    assert {(e.furnisher, e.date) for e in entries} == {(code, day) for code in LENDERS for day in FEED}
    assert len(entries) == len(LENDERS) * len(FEED)
    assert [(e.date, e.furnisher) for e in entries] == sorted((e.date, e.furnisher) for e in entries)
    for entry in entries[:40]:
        assert entry.path == (market / "events" / entry.furnisher / f"{entry.date.isoformat()}.csv").resolve()
        lines = entry.path.read_text(encoding="utf-8").splitlines()
        assert tuple(lines[0].split(",")) == EVENT_COLUMNS and len(lines) == entry.rows + 1
    manifest = json.loads((market / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["event_months"] == 3 and manifest["event_furnishers"] == LENDERS
    assert {"path": "truth/episodes.parquet", "rows": pl.read_parquet(market / "truth" / "episodes.parquet").height} \
        in manifest["truth"]
    assert set(events["event_type"]) == {"application", "opened", "repayment", "delinquent", "settled", "closed",
                                         "written_off", "contact_changed"}


def test_events_happen_on_their_files_day_in_order_with_unique_ids(events: pl.DataFrame) -> None:
    dated = events.filter(pl.col("occurred_at").is_not_null())
    assert dated["occurred_at"].str.contains(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$").all()
    assert (dated["occurred_at"].str.slice(0, 10) == dated["event_date"].cast(pl.String)).all()
    assert dated.group_by("furnisher", "event_date").agg(
        ordered=(pl.col("occurred_at") == pl.col("occurred_at").sort()).all())["ordered"].all()
    assert events["event_id"].str.contains(r"^EV\d{15}$").all()
    assert events.select("furnisher", "event_id").n_unique() == events.height  # unique per furnisher
    assert events["event_id"].n_unique() == events.height  # and across furnishers too


def test_each_type_carries_its_fields(clean: pl.DataFrame) -> None:
    def of(kind: str) -> pl.DataFrame:
        return clean.filter(pl.col("event_type") == kind)

    assert of("opened").select("product_type", "amount", "opened_on", "currency").null_count().sum_horizontal().item() == 0
    assert (of("opened")["opened_on"] == of("opened")["event_date"].cast(pl.String)).all()
    loans = of("opened").filter(pl.col("product_type").is_in(["installment", "mortgage", "auto", "bnpl"]))
    assert loans["term_months"].is_not_null().all() and (loans["amount_due"] <= loans["amount"]).all()
    assert of("application")["product_type"].is_not_null().all()
    for kind in ("repayment", "written_off"):
        assert (of(kind)["amount"] > 0).all(), kind
    delinquent = of("delinquent")
    assert set(delinquent["days_past_due"]) == {1, 30, 60, 90}
    assert (delinquent["past_due_amount"] > 0).all()
    assert (of("settled")["balance"] == 0).all() and (of("closed")["balance"] == 0).all()
    with_amount = clean.filter(pl.any_horizontal(pl.col(c).is_not_null() for c in ("amount", "balance")))
    assert (with_amount["currency"] == "CNY").all()
    assert clean.filter(pl.col("id_type") == "CN_RESIDENT_ID")["id_number"].map_elements(
        is_valid_resident_id, return_dtype=pl.Boolean).all()


def test_a_lender_furnishes_a_persons_new_number_the_day_it_takes_it_up(market: Path, clean: pl.DataFrame) -> None:
    persons = pl.read_parquet(market / "truth" / "persons.parquet").select(
        "id_number", own="phone", new="phone_new", period="phone_changed_period")
    digits = pl.col("phone").str.replace_all(r"\D", "").str.slice(-11)
    changed = clean.filter(pl.col("event_type") == "contact_changed").join(persons, on="id_number")
    assert changed.height and changed["amount"].is_null().all()
    # The new number, on or after the month of the change; before it, the same account's events had the old one.
    assert (changed.select(digits)["phone"] == changed["new"]).all()
    assert (changed["event_date"].dt.strftime("%Y-%m") >= changed["period"]).all()
    before = clean.filter(pl.col("phone").is_not_null()).join(
        changed.select("furnisher", "furnisher_account_id", changed_on="event_date"),
        on=["furnisher", "furnisher_account_id"]).filter(pl.col("event_date") < pl.col("changed_on")
                                                         ).join(persons, on="id_number")
    assert before.height and (before.select(digits)["phone"] == before["own"]).all()


def test_opened_events_agree_with_the_records_and_every_new_account_has_one(
        market: Path, events: pl.DataFrame, clean: pl.DataFrame, clean_records: pl.DataFrame) -> None:
    opened = clean.filter(pl.col("event_type") == "opened")
    first = (clean_records.filter(pl.col("furnisher").is_in(LENDERS)).sort("reporting_period")
             .unique(["furnisher", "furnisher_account_id"], keep="first"))
    joined = opened.join(first, on=["furnisher", "furnisher_account_id"], how="left", suffix="_record")
    joined = joined.filter(pl.col("reporting_period").is_not_null())
    assert joined.height > 0.95 * opened.height  # the others' only records had a defect
    assert (joined["opened_on"] == joined["opened_on_record"]).all()
    assert (joined["amount"] == joined.select(pl.coalesce("credit_limit", "original_amount")).to_series()).all()
    assert (joined["product_type"] == joined["product_type_record"]).all()
    assert (joined["term_months"].fill_null(-1) == joined["term_months_record"].fill_null(-1)).all()
    opening_month = joined.filter(pl.col("reporting_period") == pl.col("opened_on").str.slice(0, 7))
    assert opening_month.height > 0.95 * joined.height
    # The same person description as the opening month's record, but for a new number the lender took up later
    # that month (its contact_changed event on the account; none when the account had closed by then).
    changed = events.filter(pl.col("event_type") == "contact_changed").select("furnisher", "furnisher_account_id")
    same_month = opening_month.join(changed, on=["furnisher", "furnisher_account_id"], how="anti").filter(
        pl.col("closed_on").is_null())
    assert same_month.height > 0.7 * opening_month.height  # many short loans close the month they open
    for column in IDENTITY:
        assert (same_month[column].fill_null("") == same_month[f"{column}_record"].fill_null("")).all(), column
    # The consent ref is the record's, from the day the consent was given (a day after opening for some).
    refs = opening_month.filter(pl.col("consent_ref").fill_null("") != pl.col("consent_ref_record").fill_null(""))
    assert refs["consent_ref"].is_null().all() and refs.height < 0.2 * opening_month.height
    # Every account the monthly files show opening within the feed has its opened event, unless the event was
    # never sent or lost its account number (a defect the truth names).
    new = first.filter(pl.col("opened_on") >= "2025-04-01").select("furnisher", "furnisher_account_id")
    spoiled = pl.read_parquet(market / "truth" / "defects.parquet").filter(pl.col("event_date").is_not_null())
    missing = new.join(clean.filter(pl.col("event_type") == "opened"), on=["furnisher", "furnisher_account_id"],
                       how="anti")
    assert new.height > 500
    assert missing.join(spoiled, on=["furnisher", "furnisher_account_id"], how="anti").height == 0


def test_applications_come_shortly_before_openings_and_some_are_declined(market: Path, events: pl.DataFrame) -> None:
    stamp = pl.col("occurred_at").str.to_datetime("%Y-%m-%dT%H:%M:%S%:z")
    kinds = events.filter(pl.col("defect_type").is_null() & pl.col("event_type").is_in(["application", "opened"]))
    applied = kinds.filter(pl.col("event_type") == "application").select("furnisher", "furnisher_account_id",
                                                                         applied_at=stamp, asked="amount")
    granted = kinds.filter(pl.col("event_type") == "opened").select("furnisher", "furnisher_account_id",
                                                                    opened_at=stamp, lent="amount")
    pairs = granted.join(applied, on=["furnisher", "furnisher_account_id"], how="inner")
    wait = (pairs["opened_at"] - pairs["applied_at"]).dt.total_seconds()
    # A day or two, except a bust-out's stacked applications: all sent hours before its first account opens,
    # the accounts opened over the following days (tests/sim/test_sim_fraud_patterns.py).
    patterns = DEFAULT_CONFIG.fraud_patterns
    assert pairs.height > 0.9 * granted.height and (wait > 0).all() and (wait < 3 * 86_400).mean() > 0.99
    assert (wait < (patterns.bust_out_days[1] + 1) * 86_400 + patterns.bust_out_apply_hours * 3_600).all()
    assert 0.4 < (pairs["opened_at"].dt.date() == pairs["applied_at"].dt.date()).mean() < 0.8  # type: ignore[operator]
    assert (pairs["asked"] >= pairs["lent"]).all() and (pairs["asked"] > pairs["lent"]).any()
    spoiled = pl.read_parquet(market / "truth" / "defects.parquet").filter(pl.col("event_date").is_not_null())
    declined = (applied.join(granted, on=["furnisher", "furnisher_account_id"], how="anti")
                .join(spoiled, on=["furnisher", "furnisher_account_id"], how="anti"))
    assert declined.height > 50 and declined["furnisher_account_id"].str.contains(r"R\d{12}$").all()


def test_repayments_and_settlements_add_up_to_the_months_amount_paid(
        market: Path, clean: pl.DataFrame, clean_records: pl.DataFrame) -> None:
    paid = (clean.filter(pl.col("event_type").is_in(["repayment", "settled"]))
            .group_by("furnisher", "furnisher_account_id", reporting_period=pl.col("event_date").dt.strftime("%Y-%m"))
            .agg(pl.col("amount").sum()))
    # Account-months with a defective event (the truth names the account even when the event lost it).
    spoiled = pl.read_parquet(market / "truth" / "defects.parquet").filter(pl.col("event_date").is_not_null()).select(
        "furnisher", "furnisher_account_id", reporting_period="period").unique()
    months = clean_records.filter(pl.col("furnisher").is_in(LENDERS) & (pl.col("reporting_period") >= "2025-04")
                                  & ~pl.col("product_type").is_in(["utility", "telecom"]))
    joined = (months.join(spoiled, on=["furnisher", "furnisher_account_id", "reporting_period"], how="anti")
              .join(paid, on=["furnisher", "furnisher_account_id", "reporting_period"], how="left"))
    assert joined.height > 1_000
    assert (joined["amount"].fill_null(0) == joined["amount_paid"]).all()


def test_endings_and_write_offs_agree_with_the_records(clean: pl.DataFrame, clean_records: pl.DataFrame) -> None:
    period = pl.col("event_date").dt.strftime("%Y-%m").alias("reporting_period")
    keys = ["furnisher", "furnisher_account_id", "reporting_period"]
    ended = clean.filter(pl.col("event_type").is_in(["settled", "closed"])).with_columns(period).join(
        clean_records, on=keys, how="inner", suffix="_record")
    assert ended.height > 100
    assert (ended["account_status"] == "closed").all()
    assert (ended["closed_on"] == ended["event_date"].cast(pl.String)).all()
    # Paid off early, or a charged-off debt settled, is "settled"; a loan repaid at maturity or a cancelled line
    # is "closed".
    assert set(ended.filter(pl.col("event_type") == "closed")["payment_status"]) <= {"C", "G"}
    off = clean.filter(pl.col("event_type") == "written_off").with_columns(period).join(
        clean_records, on=keys, how="inner", suffix="_record")
    assert off.height > 5
    assert (off["account_status"] == "charged_off").all() and (off["amount"] == off["balance_record"]).all()
    assert (off["days_past_due_record"] > 180).all()


def test_delinquent_events_count_days_as_the_records_do(clean: pl.DataFrame, clean_records: pl.DataFrame) -> None:
    late = clean.filter(pl.col("event_type") == "delinquent").with_columns(
        reporting_period=pl.col("event_date").dt.strftime("%Y-%m"),
        previous=pl.col("event_date").dt.offset_by("-1mo").dt.strftime("%Y-%m"))
    fdd = clean_records.select("furnisher", "furnisher_account_id", "reporting_period",
                               fdd=pl.col("first_delinquency_date").str.to_date(), dpd="days_past_due")
    keys = ["furnisher", "furnisher_account_id"]
    joined = (late.join(fdd, on=[*keys, "reporting_period"], how="inner")
              .join(fdd.rename({"reporting_period": "previous", "fdd": "fdd_before", "dpd": "dpd_before"}),
                    on=[*keys, "previous"], how="left"))
    assert joined.height > 100
    # Days past due count from the oldest unpaid due date: this month's, or last month's before a payment moved it.
    now = (joined["event_date"] - joined["fdd"]).dt.total_days()
    before = (joined["event_date"] - joined["fdd_before"]).dt.total_days()
    assert ((now == joined["days_past_due"]) | (before == joined["days_past_due"])).all()
    # Each month an account first falls past due there is a "1" event; crossing 30, 60 or 90 gives one too.
    months = (fdd.with_columns(previous=(pl.col("reporting_period") + "-01").str.to_date().dt.offset_by("-1mo")
                               .dt.strftime("%Y-%m"))
              .join(fdd.select(*keys, previous="reporting_period", dpd_before="dpd"), on=[*keys, "previous"])
              .filter((pl.col("reporting_period") >= "2025-04") & pl.col("furnisher").is_in(LENDERS)))
    for threshold in (1, 30):
        crossed = months.filter((pl.col("dpd") >= threshold) & (pl.col("dpd_before") < threshold)
                                & (pl.col("dpd") - pl.col("dpd_before") < 40))
        shown = joined.filter(pl.col("days_past_due") == threshold).select(*keys, "reporting_period")
        assert crossed.height > 10
        # (the rest: events an injected defect spoiled, left out of the clean ones)
        assert crossed.join(shown, on=[*keys, "reporting_period"], how="anti").height <= 0.03 * crossed.height


def test_invalid_events_are_where_the_truth_says(market: Path, events: pl.DataFrame) -> None:
    truth = pl.read_parquet(market / "truth" / "defects.parquet").filter(pl.col("event_date").is_not_null())
    assert set(truth["defect_type"]) <= set(EVENT_DEFECT_TYPES)
    marked = events.filter(pl.col("defect_type").is_not_null())
    assert marked.height == truth.filter(pl.col("row").is_not_null()).height
    emptied = marked.filter(pl.col("defect_type") == "event_missing_required")
    assert emptied.height > 0 and emptied["field"].is_not_null().all()
    assert all(row[field] is None for row, field in zip(emptied.iter_rows(named=True), emptied["field"], strict=True))
    invalid = marked.filter(pl.col("defect_type") == "event_invalid_id_number")
    assert invalid.height > 0
    assert not invalid["id_number"].map_elements(is_valid_resident_id, return_dtype=pl.Boolean).any()


def test_contradictions_are_where_the_truth_says(contradicting: Path) -> None:
    events, records = furnished_events(contradicting), furnished_records(contradicting)
    truth = pl.read_parquet(contradicting / "truth" / "defects.parquet").filter(pl.col("event_date").is_not_null())
    assert set(truth["defect_type"]) == set(EVENT_DEFECT_TYPES)
    marked = events.filter(pl.col("defect_type").is_not_null())
    first = records.sort("reporting_period").unique(["furnisher", "furnisher_account_id"], keep="first")
    lent = pl.coalesce("credit_limit", "original_amount")
    # The amount lent or paid differs from the records' (a misplaced decimal point, or more).
    opened = marked.filter((pl.col("defect_type") == "event_amount_mismatch") & (pl.col("event_type") == "opened"))
    joined = opened.join(first, on=["furnisher", "furnisher_account_id"], suffix="_record")
    assert joined.height > 3 and (joined["amount"] > joined.select(lent).to_series()).all()
    paid = marked.filter((pl.col("defect_type") == "event_amount_mismatch") & (pl.col("event_type") == "repayment"))
    month = paid.with_columns(reporting_period=pl.col("event_date").dt.strftime("%Y-%m")).join(
        records, on=["furnisher", "furnisher_account_id", "reporting_period"], suffix="_record")
    assert month.height > 50 and (month["amount"] > month["amount_paid"]).all()
    # An earlier opening date; an account number no record has; an opened event never sent.
    dates = marked.filter(pl.col("defect_type") == "event_opened_on_mismatch").join(
        first, on=["furnisher", "furnisher_account_id"], suffix="_record")
    assert dates.height > 3 and (dates["opened_on"] < dates["opened_on_record"]).all()
    unknown = marked.filter(pl.col("defect_type") == "event_unknown_account")
    assert unknown.height > 3
    assert unknown.join(records, on=["furnisher", "furnisher_account_id"], how="semi").height == 0
    never_sent = truth.filter(pl.col("defect_type") == "event_missing")
    assert never_sent.height > 3 and never_sent["row"].is_null().all() and never_sent["event_id"].is_null().all()
    assert never_sent.join(records, on=["furnisher", "furnisher_account_id"], how="semi").height == never_sent.height
    sent = events.filter(pl.col("event_type") == "opened")
    assert never_sent.join(sent, on=["furnisher", "furnisher_account_id"], how="semi").height == 0
    # The truth names the true account, whatever the event says.
    assert truth.join(records, on=["furnisher", "furnisher_account_id"], how="semi").height > 0.95 * truth.height


def test_defect_rates_match_the_configuration(events: pl.DataFrame) -> None:
    by_code = {f.code: f for f in FURNISHERS}
    for code in LENDERS:
        rows = events.filter(pl.col("furnisher") == code)
        counted = rows.filter(pl.col("event_type").is_in(["opened", "repayment"]))
        observed = {d: rows.filter(pl.col("defect_type") == d).height for d in EVENT_DEFECT_TYPES}
        rates = by_code[code].defects
        assert _within(observed["event_missing_required"], rows.height, rates.missing_required), code
        contradictions = sum(observed[d] for d in EVENT_DEFECT_TYPES[2:5])
        assert _within(contradictions, counted.height, rates.event_contradiction), code


def test_the_event_feed_changes_no_monthly_file(tmp_path: Path) -> None:
    for months in (0, 2):
        generate(persons=400, months=3, seed=5, out=tmp_path / str(months), end_period=END, event_months=months)
    furnishing = sorted((tmp_path / "0" / "furnishers").rglob("*.*"))
    assert furnishing
    for path in furnishing:
        other = tmp_path / "2" / path.relative_to(tmp_path / "0")
        assert path.read_bytes() == other.read_bytes(), path
    assert not (tmp_path / "0" / "events").exists()
    assert read_event_manifest(tmp_path / "0") == []
    assert {e.date.month for e in read_event_manifest(tmp_path / "2")} == {5, 6}


def _within(observed: int, n: int, rate: float) -> bool:
    expected = n * rate
    return abs(observed - expected) <= 4.5 * math.sqrt(n * rate * (1 - rate)) + 2


def test_intake_validator_accepts_clean_events_and_rejects_each_invalid_one(market: Path) -> None:
    """The bureau's own event validator agrees with the truth: clean events pass, invalid ones are caught."""
    frames = [pl.read_csv(e.path, infer_schema=False).with_columns(furnisher=pl.lit(e.furnisher),
                                                                   event_date=pl.lit(e.date),
                                                                   row=pl.int_range(1, pl.len() + 1, dtype=pl.Int64))
              for e in read_event_manifest(market) if e.rows]
    found = pl.concat(frames).with_row_index(LINE, offset=1).with_columns(pl.col(LINE).cast(pl.Int64))
    outcomes = []
    for part in found.with_columns(m=pl.col("event_date").dt.month()).partition_by("m"):  # events of a month
        received = datetime.combine(part["event_date"].max(), time(23, 59, 59), tzinfo=timezone(timedelta(hours=8)))
        checked = validate_events(part.select(LINE, *EVENT_COLUMNS), now=received)
        outcomes.append(checked.records.select(LINE, OUTCOME).join(
            checked.findings.filter(pl.col("severity") == "error").group_by(pl.col("line").alias(LINE))
            .agg(codes=pl.col("code").unique()), on=LINE, how="left"))
    judged = found.join(pl.concat(outcomes), on=LINE).join(
        pl.read_parquet(market / "truth" / "defects.parquet").select("furnisher", "event_date", "row", "defect_type"),
        on=["furnisher", "event_date", "row"], how="left")
    clean = judged.filter(pl.col("defect_type").is_null() | pl.col("defect_type").str.contains("mismatch|unknown"))
    assert (clean[OUTCOME] != "rejected").all(), clean.filter(pl.col(OUTCOME) == "rejected")["codes"].head(5)
    assert (clean[OUTCOME] == "accepted").mean() > 0.99  # type: ignore[operator]
    invalid = judged.filter(pl.col("defect_type").is_in(["event_missing_required", "event_invalid_id_number"]))
    assert invalid.height > 20 and (invalid[OUTCOME] == "rejected").all()
    wrong_ids = invalid.filter(pl.col("defect_type") == "event_invalid_id_number")
    assert wrong_ids["codes"].list.contains("ID_CHECK_DIGIT").all()
