"""Account dynamics, thin files, fraud rings and the multi-lending signal before default."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from openbureau.sim import generate
from openbureau.sim.behaviour import instalment_amount, remaining_principal
from openbureau.sim.calibration import THIN_PRODUCTS, lenders_before_default, load_records
from openbureau.sim.config import DEFAULT_CONFIG
from openbureau.sim.identities import normalise_phone

CREDIT_PRODUCTS = ["revolving", "installment", "credit_card", "mortgage", "auto", "bnpl"]


def test_instalments_amortise_to_zero() -> None:
    principal = np.array([1_000_000, 500_000, 120_000])
    rate = np.array([0.01, 0.0035, 0.0])
    term = np.array([12, 360, 6])
    inst = instalment_amount(principal, rate, term)
    assert inst[2] == 20_000
    loans = {"rate": rate, "principal": principal, "instalment": inst, "term": term}
    balances = [remaining_principal(loans, np.full(3, j)) for j in range(0, 361)]
    assert (balances[0] == principal).all()
    assert all((b >= a).all() for a, b in zip(balances[1:], balances[:-1], strict=True))
    assert balances[12][0] == 0 and balances[6][2] == 0 and balances[360][1] == 0


def test_thin_file_share_matches_configuration(market: Path, persons: pl.DataFrame) -> None:
    records = load_records(market)
    products = records.group_by("person_key").agg(pl.col("product_type").drop_nulls().unique())
    only_thin = products.filter(pl.col("product_type").list.eval(pl.element().is_in(THIN_PRODUCTS)).list.all())
    share = only_thin.height / products.height
    assert abs(share - DEFAULT_CONFIG.population.thin_file_share) < 0.03
    observed = set(products["person_key"])
    flagged = set(persons.filter(pl.col("thin_file"))["person_key"]) & observed
    assert flagged <= set(only_thin["person_key"])
    # A few others look thin because their only credit line was closed before the window.
    assert len(set(only_thin["person_key"]) - flagged) < 0.03 * len(observed)


def test_default_truth_agrees_with_the_records(market: Path) -> None:
    records = load_records(market)
    default = pl.read_parquet(market / "truth" / "default_12m.parquet")
    bad = (records.filter(pl.col("product_type").is_in(CREDIT_PRODUCTS)
                          & ((pl.col("account_status") == "charged_off")
                             | (pl.col("days_past_due").cast(pl.Int64) >= 90)))
           .select("person_key", period="reporting_period").unique())
    flagged = default.filter(pl.col("in_default")).select("person_key", "period")
    assert bad.join(flagged, on=["person_key", "period"], how="anti").height == 0
    assert 0.005 < default["in_default"].mean() < 0.1  # type: ignore[operator]
    last = default.filter(pl.col("period") == "2025-06")
    assert (last["horizon_months"] == 0).all() and not last["default_12m"].any()


def test_fraud_rings_share_phones_and_addresses_and_open_many_accounts(
    market: Path, persons: pl.DataFrame, records: pl.DataFrame
) -> None:
    rings = persons.filter(pl.col("ring_id").is_not_null())
    assert rings.height >= 6 and rings["synthetic"].all()
    furnished = load_records(market)
    shared_in_files = 0
    for _, members in rings.group_by("ring_id"):
        keys = members["person_key"].to_list()
        assert members["address"].n_unique() == 1
        assert members["phone"].n_unique() <= 2
        assert members["id_number"].str.slice(0, 6).n_unique() == 1
        accounts = furnished.filter(pl.col("person_key").is_in(keys))
        lenders = accounts.group_by("person_key").agg(pl.col("furnisher").n_unique())
        assert lenders["furnisher"].mean() >= 2.5  # type: ignore[operator]
        opened = accounts["opened_on"].drop_nulls().str.to_date()
        assert (opened.max() - opened.min()).days <= 62  # type: ignore[operator]
        # Whatever the furnishers' phone formats, the members' records carry the ring's shared numbers.
        shown = records.filter(pl.col("person_key").is_in(keys) & pl.col("phone").is_not_null()).select(
            "person_key", digits=pl.col("phone").map_elements(normalise_phone, return_dtype=pl.String))
        assert set(shown["digits"]) <= set(members["phone"])
        per_phone = shown.unique().group_by("digits").len()
        shared_in_files += int((per_phone["len"] >= 2).any())
    assert shared_in_files >= rings["ring_id"].n_unique() - 1


@pytest.fixture(scope="module")
def longer_market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim") / "long"
    generate(persons=4_000, months=12, seed=21, out=out, end_period="2025-06")
    return out


def test_people_heading_to_default_borrow_from_more_lenders(longer_market: Path) -> None:
    records = load_records(longer_market)
    default = pl.read_parquet(longer_market / "truth" / "default_12m.parquet")
    signal = lenders_before_default(records, default, window=5)
    assert signal["t-1"] > signal["t-5"] + 0.2
    assert signal["t-1"] > signal["never_default"] + 0.3
