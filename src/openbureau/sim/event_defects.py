"""Defects of the lending events: the monthly records' defects, and events contradicting the records.

Events follow the same defects policy as the furnisher's monthly records, at the same per-record rates: a
required field left empty (``event_missing_required``) and a resident ID with a wrong check character
(``event_invalid_id_number``). On top of them, at the furnisher's ``DefectRates.event_contradiction``
rate per opened and repayment event, an event disagrees with the monthly records of its account, for the
bureau's reconciliation to find:

* ``event_amount_mismatch``: the amount lent (opened) or paid (repayment) differs from the records';
* ``event_opened_on_mismatch``: the opened event gives an earlier opening date than the records;
* ``event_unknown_account``: the opened event carries an account number no record has (a typo);
* ``event_missing``: the opened event was never sent (the account appears in the monthly files only).

At most one defect per event; each is listed in ``truth/defects.parquet`` with its file's date and row.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from openbureau.sim.config import FurnisherProfile
from openbureau.sim.defects import wrong_check_character
from openbureau.sim.events import APPLICATION, DELINQUENT, EVENT_TYPES, OPENED, REPAYMENT, WRITTEN_OFF

EVENT_DEFECT_TYPES: tuple[str, ...] = (
    "event_missing_required",
    "event_invalid_id_number",
    "event_amount_mismatch",
    "event_opened_on_mismatch",
    "event_unknown_account",
    "event_missing",
)
MISSING_REQUIRED, INVALID_ID, AMOUNT_MISMATCH, OPENED_ON_MISMATCH, UNKNOWN_ACCOUNT, MISSING = range(6)
# Fields a missing-required defect may empty, with weights; "required" is the one the event type needs.
EVENT_MISSABLE: tuple[tuple[str, float], ...] = (
    ("id_number", 3.0), ("full_name", 2.0), ("birth_date", 2.0), ("id_type", 0.5), ("occurred_at", 0.5),
    ("furnisher_account_id", 0.5), ("required", 1.5),
)
_REQUIRED_BY_TYPE = {APPLICATION: "product_type", OPENED: "amount", REPAYMENT: "amount",
                     DELINQUENT: "days_past_due", WRITTEN_OFF: "amount"}
_FIELD_OF = {AMOUNT_MISMATCH: "amount", OPENED_ON_MISMATCH: "opened_on", UNKNOWN_ACCOUNT: "furnisher_account_id"}


def event_defect_rates(furnishers: tuple[FurnisherProfile, ...]) -> np.ndarray:
    """Matrix (furnisher, [missing required, invalid ID, contradiction]) of per-event rates."""
    return np.array([[f.defects.missing_required, f.defects.invalid_id_number, f.defects.event_contradiction]
                     for f in furnishers])


def inject_event_defects(frame: pl.DataFrame, rates: np.ndarray, rng: np.random.Generator) -> pl.DataFrame:
    """Apply at most one defect per event and mark it in `_defect` (index into EVENT_DEFECT_TYPES, -1 for
    none) and `_field`. Events never sent stay in the frame, marked ``event_missing``: the writer leaves
    them out of the files and lists them in the truth."""
    n = frame.height
    if n == 0:
        return frame.with_columns(_defect=pl.lit(-1, pl.Int64), _field=pl.lit(None, pl.String))
    f, etype = frame["_f"].to_numpy(), frame["_etype"].to_numpy()
    cum = np.cumsum(rates[f], axis=1)
    u = rng.random(n)
    kind = (u[:, None] >= cum).sum(axis=1)  # 0 missing, 1 invalid ID, 2 contradiction, 3 none
    contradiction = rng.integers(0, 4, n)  # of an opened event: amount, opened_on, account, never sent
    defect = np.select(
        [kind == 0, (kind == 1) & frame["_resident"].to_numpy(),
         (kind == 2) & (etype == OPENED), (kind == 2) & (etype == REPAYMENT)],
        [MISSING_REQUIRED, INVALID_ID, AMOUNT_MISMATCH + contradiction, AMOUNT_MISMATCH], -1)
    # Field names by number: the missable ones, then those the event types require and contradictions touch.
    names = [name for name, _ in EVENT_MISSABLE]
    names += sorted({*_REQUIRED_BY_TYPE.values(), *_FIELD_OF.values()} - set(names))
    weights = np.array([w for _, w in EVENT_MISSABLE])
    chosen = rng.choice(len(EVENT_MISSABLE), n, p=weights / weights.sum())
    required = np.array([names.index(_REQUIRED_BY_TYPE.get(t, "id_number")) for t in range(len(EVENT_TYPES))])[etype]
    chosen = np.where(chosen == names.index("required"), required, chosen)
    touched = np.array([names.index(_FIELD_OF[d]) if d in _FIELD_OF else -1 for d in range(6)] + [-1])[defect]
    field = np.where(defect == MISSING_REQUIRED, chosen, touched)
    marks = pl.DataFrame({
        "_defect": defect.astype(np.int64),
        "_field": pl.Series(field).replace_strict(list(range(len(names))), names, default=None,
                                                 return_dtype=pl.String),
        "_wrong": rng.integers(1, 11, n),
        "_tenfold": rng.random(n) < 0.5,
        "_more": rng.uniform(0.05, 0.5, n),
        "_earlier": rng.integers(1, 21, n),
        "_digit": rng.integers(1, 10, n),
    })
    out = pl.concat([frame, marks], how="horizontal")
    d, amount = pl.col("_defect"), pl.col("amount")
    last_digit = pl.col("furnisher_account_id").str.slice(-1).cast(pl.Int64, strict=False).fill_null(0)
    out = out.with_columns(
        id_number=pl.when(d == INVALID_ID).then(wrong_check_character(pl.col("id_number"), pl.col("_wrong")))
        .otherwise(pl.col("id_number")),
        # a misplaced decimal point, or a different amount
        amount=pl.when(d == AMOUNT_MISMATCH).then(
            pl.when(pl.col("_tenfold")).then(amount * 10)
            .otherwise(amount + (amount.cast(pl.Float64) * pl.col("_more")).round().cast(pl.Int64).clip(100)))
        .otherwise(amount),
        opened_on=pl.when(d == OPENED_ON_MISMATCH).then(pl.col("opened_on") - pl.duration(days=pl.col("_earlier")))
        .otherwise(pl.col("opened_on")),
        furnisher_account_id=pl.when(d == UNKNOWN_ACCOUNT).then(
            pl.col("furnisher_account_id").str.head(-1) + ((last_digit + pl.col("_digit")) % 10).cast(pl.String))
        .otherwise(pl.col("furnisher_account_id")),
    )
    out = out.with_columns(**{
        name: pl.when((d == MISSING_REQUIRED) & (pl.col("_field") == name)).then(None).otherwise(pl.col(name))
        for name in names if name != "required"
    })
    return out.drop("_wrong", "_tenfold", "_more", "_earlier", "_digit")
