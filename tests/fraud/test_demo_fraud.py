"""The demo's fraud-risk model: labels from the market's fraud truth, every pattern a fraud."""

from __future__ import annotations

import polars as pl

from openbureau.cli.demo_fraud import fraud_labels


def test_the_demo_labels_every_person_and_every_fraudster_of_the_truth(fraud_market) -> None:
    truth = fraud_market.market / "truth"
    labels = fraud_labels(fraud_market.market)
    persons = pl.read_parquet(truth / "persons.parquet")
    fraud = pl.read_parquet(truth / "fraud.parquet")
    assert len(labels) == persons.height and {t for t, _, _ in labels} == {"CN_RESIDENT_ID"}
    frauds = {n for _, n, f in labels if f}
    expected = set(persons.join(fraud, on="person_key")["id_number"])
    assert frauds == expected and len(frauds) == fraud["person_key"].n_unique() >= 10
    # The rings' synthetic identities are frauds, and so is every other pattern's person.
    assert set(persons.filter(pl.col("synthetic"))["id_number"]) <= frauds
