"""Compare the bureau's links with the simulator's truth: pairwise precision, recall, F1, cluster counts.

A pair is two stored records (furnisher, period, account) of the same person. The bureau's pairs come from
each record's surviving person (merges followed); the true pairs from ``truth/records.parquet``'s
``person_key``. Only records present in both are compared (rejected records were never stored).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy.engine import Engine

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
    true = pl.read_parquet(truth / "records.parquet", columns=[*keys, "person_key"]).unique(keys)
    with session_scope(engine) as session:
        repo = ResolutionRepository(session)
        stored = repo.account_persons()
        survivors = with_survivors(repo.persons()).select("person_id", "survivor")
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
    return Evaluation(records=both.height, pairs_true=pairs_true, pairs_linked=pairs_linked,
                      pairs_correct=correct, precision=round(precision, 6), recall=round(recall, 6),
                      f1=round(f1, 6), persons_bureau=both["person_id"].n_unique(),
                      persons_true=both["person_key"].n_unique(), true_persons_split=split.height,
                      bureau_persons_mixed=mixed.height)
