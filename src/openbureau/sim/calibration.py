"""Market statistics of a generated output, for the calibration table in docs/simulation.md.

Reads the furnishing files and the truth tables of an output directory (this is an evaluation helper: the
bureau itself never reads truth/). Example::

    from openbureau.sim.calibration import measure
    print(measure("data/sim"))
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from openbureau.intake.standard import NON_CREDIT_PRODUCTS
from openbureau.sim.config import PLATFORMS

_KEEP = ["furnisher_account_id", "reporting_period", "product_type", "account_status", "days_past_due",
         "consent_ref", "opened_on"]
THIN_PRODUCTS = ("bnpl", *NON_CREDIT_PRODUCTS)
ONLINE_LENDERS = PLATFORMS  # platforms, not banks


def load_records(out: Path | str) -> pl.DataFrame:
    """Every furnished record (a few columns, as text) with its furnisher and true person_key."""
    root = Path(out)
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    frames = []
    for entry in manifest["files"]:
        path = root / entry["path"]
        if entry["rows"] == 0:
            continue
        if entry["format"] == "csv":
            frame = pl.read_csv(path, columns=_KEEP, infer_schema=False)
        elif entry["format"] == "jsonl":
            frame = pl.read_ndjson(path, infer_schema_length=None).select(_KEEP).cast(pl.String)
        else:
            frame = pl.read_parquet(path, columns=_KEEP).cast(pl.String)
        frames.append(frame.with_columns(furnisher=pl.lit(entry["furnisher"])))
    records = pl.concat(frames).unique(maintain_order=True)
    truth = pl.read_parquet(root / "truth" / "records.parquet", columns=[
        "furnisher", "period", "furnisher_account_id", "person_key"])
    return records.join(truth.rename({"period": "reporting_period"}),
                        on=["furnisher", "reporting_period", "furnisher_account_id"], how="left")


def measure(out: Path | str) -> dict[str, object]:
    """Simulated figures: default rate, accounts per borrower, multi-lending, consent and thin-file shares."""
    root = Path(out)
    records = load_records(root)
    persons = pl.read_parquet(root / "truth" / "persons.parquet")
    default = pl.read_parquet(root / "truth" / "default_12m.parquet")
    last = records["reporting_period"].max()
    credit = records.filter(~pl.col("product_type").is_in(NON_CREDIT_PRODUCTS)
                            & (pl.col("account_status") == "open"))
    credit_last = credit.filter(pl.col("reporting_period") == last)
    per_borrower = credit_last.group_by("person_key").agg(
        accounts=pl.len(), lenders=pl.col("furnisher").n_unique())
    online = credit_last.filter(pl.col("furnisher").is_in(ONLINE_LENDERS)).group_by("person_key").agg(
        lenders=pl.col("furnisher").n_unique())
    all_last = records.filter((pl.col("reporting_period") == last) & (pl.col("account_status") == "open"))
    borrowers = set(credit.filter(pl.col("reporting_period") == last)["person_key"].to_list())
    eligible = default.filter((pl.col("horizon_months") == 12) & ~pl.col("in_default")
                              & pl.col("person_key").is_in(list(borrowers) or [""]))
    products = records.group_by("person_key").agg(pl.col("product_type").unique())
    thin = products.filter(pl.col("product_type").list.eval(pl.element().is_in(THIN_PRODUCTS)).list.all())
    consent = records.filter(pl.col("reporting_period") == last).group_by("furnisher").agg(
        consent_share=pl.col("consent_ref").is_not_null().mean()).sort("furnisher")
    reach = all_last.group_by("furnisher").agg(customers=pl.col("person_key").n_unique()).sort("furnisher")
    observed = records["person_key"].n_unique()
    return {
        "persons_observed": observed,
        "borrowers_last_period": len(borrowers),
        "default_12m_rate": round(float(eligible["default_12m"].mean() or 0.0), 4),
        "default_12m_base": eligible.height,
        "accounts_per_borrower": round(float(per_borrower["accounts"].mean() or 0.0), 2),
        "accounts_per_person_all_products": round(all_last.height / max(all_last["person_key"].n_unique(), 1), 2),
        "share_3plus_lenders": round(float((per_borrower["lenders"] >= 3).mean() or 0.0), 4),
        "share_5plus_lenders": round(float((per_borrower["lenders"] >= 5).mean() or 0.0), 4),
        "share_2plus_lenders": round(float((per_borrower["lenders"] >= 2).mean() or 0.0), 4),
        "online_borrowers_2plus_platforms": round(float((online["lenders"] >= 2).mean() or 0.0), 4),
        "thin_file_share": round(thin.height / max(observed, 1), 4),
        "synthetic_persons": int(persons["synthetic"].sum()),
        "fraud_rings": persons["ring_id"].drop_nulls().n_unique(),
        "consent_share_by_furnisher": dict(zip(consent["furnisher"], consent["consent_share"].round(3), strict=True)),
        "customers_by_furnisher": dict(zip(reach["furnisher"], reach["customers"], strict=True)),
        "lenders_before_default": lenders_before_default(records, default),
    }


def lenders_before_default(records: pl.DataFrame, default: pl.DataFrame, window: int = 6) -> dict[str, float]:
    """Average number of lenders with an open credit account, k months before a person's first default,
    beside the average over persons who never default (the multi-lending signal)."""
    periods = sorted(default["period"].unique().to_list())
    index = {p: i for i, p in enumerate(periods)}
    first = (default.filter(pl.col("in_default")).group_by("person_key")
             .agg(first=pl.col("period").min()))
    ever = set(first["person_key"].to_list())
    lenders = (records.filter(~pl.col("product_type").is_in(NON_CREDIT_PRODUCTS)
                              & (pl.col("account_status") == "open"))
               .group_by("person_key", "reporting_period").agg(lenders=pl.col("furnisher").n_unique())
               .with_columns(t=pl.col("reporting_period").replace_strict(index, return_dtype=pl.Int64)))
    joined = lenders.join(first.with_columns(d=pl.col("first").replace_strict(index, return_dtype=pl.Int64)),
                          on="person_key", how="inner").filter(pl.col("d") >= window)
    result = {f"t-{k}": round(float(joined.filter(pl.col("t") == pl.col("d") - k)["lenders"].mean() or 0.0), 3)
              for k in range(window, 0, -1)}
    never = lenders.filter(~pl.col("person_key").is_in(list(ever) or [""]))
    result["never_default"] = round(float(never["lenders"].mean() or 0.0), 3)
    return result
