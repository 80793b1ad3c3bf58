"""Compare the bureau's links with a truth: pairwise precision, recall, F1, record-level false merges.

A pair is two stored records (furnisher, period, account) of the same person. The bureau's pairs come from
each record's surviving person (merges followed); the true pairs from ``truth/records.parquet``'s
``person_key``. Only records present in both are compared (rejected records were never stored).

Record-level figures, which a large population of singletons cannot flatter the way pairs can:

* **false merges**: records under a bureau person whose records are mostly another true person's (the
  mixed file a lender would see);
* **record recall** (when the truth has ``id_variant``): of the records not identified by a resident ID
  whose person has records that are, the share that sit with those records; when the truth also has
  ``corroborable`` (the record shows a phone the bureau has seen or an address), the same share among
  those records, which are the ones the resolver may link without an operator; and **record recall with
  review**: the share linked or waiting in the review queue with their own person as the candidate (name
  and birth date alone never merge automatically: the operator is asked instead);
* **namesakes merged** (when ``truth/persons.parquet`` has ``namesake_of``): pairs of different persons
  with the same name and birth date whose records share a bureau person.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy.engine import Engine

from openbureau.accounts import service as account_states
from openbureau.identity.repository import ResolutionRepository
from openbureau.identity.resolution.resolver import with_survivors
from openbureau.kit.db import session_scope
from openbureau.kit.errors import Unprocessable


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Pairwise quality of the bureau's links against the truth."""

    records: int
    pairs_true: int
    pairs_linked: int
    pairs_correct: int
    precision: float
    recall: float
    f1: float
    persons_bureau: int
    persons_true: int
    true_persons_split: int  # true persons whose records sit under more than one bureau person
    bureau_persons_mixed: int  # bureau persons holding records of more than one true person
    false_merged_records: int  # records under a bureau person that is mostly another true person
    false_merge_rate: float
    linkable_records: int | None  # records without a resident ID, of persons who have records with one
    linkable_linked: int | None  # of those, records filed with the person's resident-ID records
    record_recall: float | None
    record_recall_corroborable: float | None  # the same, of records whose own phone or address could corroborate
    record_recall_with_review: float | None  # linked, or queued for review with their own person as candidate
    namesake_pairs: int | None  # different persons with the same name and birth date, both stored
    namesakes_merged: int | None  # of those, pairs whose records share a bureau person

    def as_dict(self) -> dict[str, Any]:
        """The evaluation as plain values."""
        return asdict(self)


def _pairs(frame: pl.DataFrame, keys: list[str]) -> int:
    sizes = frame.group_by(keys).agg(pl.len().alias("n"))["n"].cast(pl.Int64)
    return int((sizes * (sizes - 1) // 2).sum())


def evaluate(engine: Engine, *, truth: Path) -> Evaluation:
    """Evaluate the bureau's current links against ``truth`` (a simulation's ``truth/`` directory).

    Example:
        >>> evaluate(runtime.engine, truth=Path("data/sim/truth")).precision
        0.9998
    """
    keys = ["furnisher", "period", "furnisher_account_id"]
    available = pl.read_parquet_schema(truth / "records.parquet")
    extra = [c for c in ("id_variant", "corroborable") if c in available]
    true = pl.read_parquet(truth / "records.parquet", columns=[*keys, "person_key", *extra]).unique(keys)
    with session_scope(engine) as session:
        repo = ResolutionRepository(session)
        stored = account_states.account_persons(session)
        survivors = with_survivors(repo.persons()).select("person_id", "survivor")
        pending = repo.pending_review_pairs()
    stored = (stored.join(survivors, on="person_id", how="left")
              .select(*keys, pl.coalesce("survivor", "person_id").alias("person_id")).unique(keys))
    both = stored.join(true, on=keys, how="inner")
    if both.height == 0:
        raise Unprocessable(
            f"no stored record of this bureau appears in {truth}: is this the bureau the simulated market was "
            "loaded into (OPENBUREAU_DATA_DIR)?", code="NOTHING_TO_EVALUATE", field="truth")
    pairs_true, pairs_linked = _pairs(both, ["person_key"]), _pairs(both, ["person_id"])
    correct = _pairs(both, ["person_key", "person_id"])
    precision = correct / pairs_linked if pairs_linked else 1.0
    recall = correct / pairs_true if pairs_true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    split = both.group_by("person_key").agg(pl.col("person_id").n_unique().alias("n")).filter(pl.col("n") > 1)
    mixed = both.group_by("person_id").agg(pl.col("person_key").n_unique().alias("n")).filter(pl.col("n") > 1)
    owner = (both.group_by("person_id", "person_key").len().sort(["person_id", "len", "person_key"],
                                                                 descending=[False, True, False])
             .unique("person_id", keep="first").select("person_id", pl.col("person_key").alias("owner")))
    false_merged = both.join(owner, on="person_id").filter(pl.col("person_key") != pl.col("owner")).height
    linkable = linked = record_recall = corroborated_recall = with_review = None
    if "id_variant" in extra:
        home = (both.filter(pl.col("id_variant") == "resident_id").group_by("person_key", "person_id").len()
                .sort(["person_key", "len"], descending=[False, True]).unique("person_key", keep="first")
                .select("person_key", pl.col("person_id").alias("home")))
        others = both.filter(pl.col("id_variant") != "resident_id").join(home, on="person_key")
        linkable, linked = others.height, others.filter(pl.col("person_id") == pl.col("home")).height
        record_recall = round(linked / linkable, 6) if linkable else 1.0
        asked = others.join(pending, left_on=["person_id", "home"], right_on=["person_id", "candidate_person_id"],
                            how="semi").height
        with_review = round((linked + asked) / linkable, 6) if linkable else 1.0
        if "corroborable" in extra:
            able = others.filter(pl.col("corroborable"))
            corroborated_recall = (round(able.filter(pl.col("person_id") == pl.col("home")).height / able.height, 6)
                                   if able.height else 1.0)
    namesake_pairs = namesakes_merged = None
    persons_file = truth / "persons.parquet"
    if persons_file.exists() and "namesake_of" in pl.read_parquet_schema(persons_file):
        pairs = pl.read_parquet(persons_file, columns=["person_key", "namesake_of"]).drop_nulls()
        held = both.select("person_key", "person_id").unique()
        pairs = pairs.filter(pl.col("person_key").is_in(held["person_key"].implode())
                             & pl.col("namesake_of").is_in(held["person_key"].implode()))
        shared = (pairs.join(held, on="person_key")
                  .join(held.rename({"person_key": "namesake_of"}), on=["namesake_of", "person_id"]))
        namesake_pairs = pairs.height
        namesakes_merged = shared.select("person_key", "namesake_of").unique().height
    return Evaluation(records=both.height, pairs_true=pairs_true, pairs_linked=pairs_linked,
                      pairs_correct=correct, precision=round(precision, 6), recall=round(recall, 6),
                      f1=round(f1, 6), persons_bureau=both["person_id"].n_unique(),
                      persons_true=both["person_key"].n_unique(), true_persons_split=split.height,
                      bureau_persons_mixed=mixed.height, false_merged_records=false_merged,
                      false_merge_rate=round(false_merged / both.height, 6), linkable_records=linkable,
                      linkable_linked=linked, record_recall=record_recall,
                      record_recall_corroborable=corroborated_recall, record_recall_with_review=with_review,
                      namesake_pairs=namesake_pairs,
                      namesakes_merged=namesakes_merged)
