"""From scored description pairs to decisions per weakly identified person: merge, review, or nothing.

The best pair per (weak person, strong person) carries the match probability; the best candidate of a
weak person is **merged automatically** only when all of these hold (docs/identity.md):

* its match probability is at least the model's upper threshold, and it leads the runner-up candidate by
  ``runner_up_margin`` bits of match weight (two equally good persons are never chosen between);
* the name agrees at some level and the birth date is not different;
* the link is **corroborated**: the phone number or the address agrees in some pair of the two persons'
  descriptions. A name and a birth date alone never merge, however rare the name: in China a common name
  is shared by hundreds of thousands of people, so two persons with the same name and birth date are
  expected in any large bureau. A phone that differs is explained when the strong person's own records
  show the number (its other descriptions are scored too, so the pair with the old number agrees).

Other candidates at or above the lower threshold go to the review queue with their evidence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import polars as pl

FIELDS = ("name", "birth_date", "phone", "address")
CORROBORATING = {"phone": {"same number"}, "address": {"same address", "same street, compound and room"}}
MISSING = "missing"


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome for one weak person."""

    person_id: int
    candidate_person_id: int
    match_weight: float
    match_probability: float
    evidence: dict[str, Any]


def level_table(model: dict[str, Any]) -> dict[str, list[tuple[str, float]]]:
    """Per field, the (label, match weight) of each non-null comparison level of the model."""
    table: dict[str, list[tuple[str, float]]] = {}
    for comparison in model["comparisons"]:
        table[comparison["output_column_name"]] = [
            (level["label_for_charts"], math.log2(level["m_probability"] / level["u_probability"]))
            for level in comparison["comparison_levels"] if not level.get("is_null_level")]
    return table


def label(levels: list[tuple[str, float]], weight: float | None) -> str:
    """The comparison level a field's match weight comes from (``missing`` for a null level)."""
    if weight is None or abs(weight) < 1e-9:
        return MISSING
    return min(levels, key=lambda lw: abs(lw[1] - weight))[0]


def decide(pairs: pl.DataFrame, *, model: dict[str, Any], blocked: set[tuple[int, int]], model_id: int | None
           ) -> tuple[list[Decision], list[Decision]]:
    """Merges and review items from scored pairs (oriented weak → strong, columns as ``linker.PAIR_SCHEMA``)."""
    if pairs.height == 0:
        return [], []
    table = level_table(model)
    labelled = pairs.with_columns(
        *[pl.col(f"mw_{f}").map_elements(lambda w, f=f: label(table[f], w), return_dtype=pl.String)
          .alias(f"level_{f}") for f in FIELDS])
    labelled = labelled.with_columns(
        (pl.col("level_phone").is_in(list(CORROBORATING["phone"]))
         | pl.col("level_address").is_in(list(CORROBORATING["address"]))).alias("corroborated"))
    per_pair = labelled.group_by("person_id_l", "person_id_r").agg(
        pl.col("corroborated").any().alias("corroborated_any"))
    best = (labelled.sort("match_weight", descending=True)
            .unique(["person_id_l", "person_id_r"], keep="first", maintain_order=True)
            .join(per_pair, on=["person_id_l", "person_id_r"]))
    if blocked:
        gone = pl.DataFrame(list(blocked), schema={"person_id_l": pl.Int64, "person_id_r": pl.Int64}, orient="row")
        best = best.join(gone, on=["person_id_l", "person_id_r"], how="anti")
    ranked = best.sort(["person_id_l", "match_weight"], descending=[False, True]).with_columns(
        pl.col("match_weight").shift(-1).over("person_id_l").alias("runner_up"),
        pl.int_range(pl.len()).over("person_id_l").alias("rank"),
    ).filter(pl.col("rank") == 0)
    merges, reviews = [], []
    for row in ranked.iter_rows(named=True):
        weights = {f: round(row[f"mw_{f}"], 2) for f in FIELDS}
        weights["name"] = round(row["mw_name"] + row["mw_tf_adj_name"], 2)
        levels = {f: row[f"level_{f}"] for f in FIELDS}
        clear = row["runner_up"] is None or row["match_weight"] - row["runner_up"] >= model["runner_up_margin"]
        agrees = levels["name"] not in ("different", MISSING) and levels["birth_date"] != "different"
        reasons = [r for r, bad in (
            ("below the upper probability", row["match_probability"] < model["upper_probability"]),
            ("no clear lead over the runner-up", not clear),
            ("name or birth date disagrees", not agrees),
            ("not corroborated by phone or address", not row["corroborated_any"])) if bad]
        evidence = {"model": model["version"], "model_id": model_id, "trained_at": model.get("trained_at"),
                    "agreeing": [f for f in FIELDS if levels[f] not in ("different", MISSING)], "levels": levels, "field_weights": weights,
                    "name_frequency_weight": round(row["mw_tf_adj_name"], 2),
                    "corroborated": bool(row["corroborated_any"]),
                    "runner_up_weight": None if row["runner_up"] is None else round(row["runner_up"], 2),
                    "records": {"weak": row["rid_l"], "strong": row["rid_r"]}}
        if reasons:
            evidence["review_reasons"] = reasons
        decision = Decision(row["person_id_l"], row["person_id_r"], round(row["match_weight"], 3),
                            row["match_probability"], evidence)
        (reviews if reasons else merges).append(decision)
    return merges, reviews
