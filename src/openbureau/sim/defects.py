"""Identity noise across furnishers and injected data-quality defects.

Identity noise (valid records, hard linkage): each furnisher knows a person by its own variant of the
name (typo with a look-alike character, given name first, a space), its own way of writing the mobile
number, sometimes an OTHER document (its customer number) or a passport instead of the resident ID,
a shortened or missing address, and it learns a changed mobile number late or never. These are drawn once
per (person, furnisher) so a furnisher is consistent with itself over time.

Defects (invalid or incomplete data, recorded in truth/defects.parquet) are injected per record at the
furnisher's configured rates, at most one per record: a required field left empty, a resident ID with a
wrong check character, payment_status disagreeing with days_past_due, closed with a balance, a duplicated
record, an open account silently left out of the month's file. Late files are planned per file.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from openbureau.sim.config import MISSABLE_FIELDS, FurnisherProfile
from openbureau.sim.identities import CHECK_CHARS, NO_CHANGE, Population
from openbureau.sim.timeline import days_in_month, month_start

DEFECT_TYPES: tuple[str, ...] = (
    "missing_required",
    "invalid_id_number",
    "status_mismatch",
    "closed_with_balance",
    "duplicate_record",
    "dropped_account",
)
LATE_FILE = "late_file"
NAME_VARIANTS = ("exact", "typo", "swapped", "spaced", "latin", "latin_given_first", "traditional", "truncated")
ID_VARIANTS = ("resident_id", "other", "passport")
ADDRESS_VARIANTS = ("full", "short", "missing")


@dataclass(frozen=True)
class Relations:
    """How each furnisher knows each person of a block; arrays are flat over person * n_furnishers + f."""

    name_variant: np.ndarray
    id_variant: np.ndarray
    phone_style: np.ndarray
    phone_missing: np.ndarray
    # The day from which the furnisher holds the person's new number on the accounts it had before the change
    # (``NO_CHANGE``: never); a relationship begun after the change starts with the new number.
    phone_from: np.ndarray
    address_variant: np.ndarray
    address_abbreviated: np.ndarray  # a written address (full or short) abbreviated
    dob_transposed: np.ndarray  # day and month swapped where they can be
    consent: np.ndarray  # the furnisher will hold a consent to furnish
    consent_delay: np.ndarray  # days from the first account to the consent
    revoked_after: np.ndarray  # days from the consent to its revocation, NO_CHANGE when never
    phone_changed_on: np.ndarray  # per person: the day the person changed number, NO_CHANGE when never


def draw_relations(pop: Population, furnishers: tuple[FurnisherProfile, ...],
                   rng: np.random.Generator) -> Relations:
    """Draw the (person, furnisher) identity variants and consents of a block."""
    n, n_f = pop.size, len(furnishers)

    def per_furnisher(fn) -> np.ndarray:
        return np.array([fn(f) for f in furnishers], dtype=np.float64)[None, :]

    u = rng.random((n, n_f))
    typo, swapped, spaced = (per_furnisher(lambda f, a=a: getattr(f.noise, a))
                             for a in ("name_typo", "name_swapped", "name_spaced"))
    name_variant = np.select([u < typo, u < typo + swapped, u < typo + swapped + spaced], [1, 2, 3], 0)
    u = rng.random((n, n_f))
    other = per_furnisher(lambda f: f.noise.id_other)
    passport = per_furnisher(lambda f: f.noise.id_passport) * pop.has_passport[:, None]
    id_variant = np.select([u < other, u < other + passport], [1, 2], 0)
    styles = np.array([f.noise.phone_styles for f in furnishers])
    cum = np.cumsum(styles / styles.sum(axis=1, keepdims=True), axis=1)
    phone_style = (rng.random((n, n_f))[:, :, None] > cum[None, :, :]).sum(axis=2).clip(0, styles.shape[1] - 1)
    phone_missing = rng.random((n, n_f)) < per_furnisher(lambda f: f.noise.phone_missing)
    update = per_furnisher(lambda f: f.noise.phone_update)
    phone_lag = np.where(update >= 1.0, 0, rng.geometric(np.clip(update, 1e-3, 1.0), (n, n_f)) - 1)
    u = rng.random((n, n_f))
    missing, short = (per_furnisher(lambda f, a=a: getattr(f.noise, a)) for a in ("address_missing", "address_short"))
    address_variant = np.select([u < missing, u < missing + short], [2, 1], 0)
    consent = (rng.random((n, n_f)) < per_furnisher(lambda f: f.consent_rate)) | pop.synthetic[:, None]
    later = rng.random((n, n_f)) < per_furnisher(lambda f: f.consent_later)
    consent_delay = np.where(later, rng.integers(30, 720, (n, n_f)), rng.integers(0, 2, (n, n_f)))
    revoked_after = np.where(rng.random((n, n_f)) < 0.02, rng.integers(30, 720, (n, n_f)), NO_CHANGE)
    # Variation foreign and older systems bring, from a stream of its own (the draws above are unchanged).
    extra = rng.spawn(1)[0]
    u = extra.random((n, n_f))
    cut = np.cumsum([per_furnisher(lambda f, a=a: getattr(f.noise, a)) for a in
                     ("name_latin_given_first", "name_traditional", "name_truncated")], axis=0)
    foreign = np.select([u < cut[0], u < cut[1], u < cut[2]], [5, 6, 7], 0)
    name_variant = np.where((name_variant == 0) & (foreign > 0), foreign, name_variant)
    passport_latin = (id_variant == 2) & (extra.random((n, n_f)) < per_furnisher(lambda f: f.noise.passport_latin))
    name_variant = np.where(passport_latin, 4, name_variant)
    # Intake rejects a birth date contradicting the resident ID, so only records under another document
    # carry a transposed one past it.
    dob_transposed = ((extra.random((n, n_f)) < per_furnisher(lambda f: f.noise.dob_transposed))
                      & (id_variant != 0))
    address_abbreviated = extra.random((n, n_f)) < per_furnisher(lambda f: f.noise.address_abbreviated)
    changed_on, phone_from = _phone_days(pop, phone_lag, rng.spawn(1)[0])
    # Fraudsters never let a lender learn anything: same phone, full consent, exact names.
    name_variant[pop.synthetic] = 0
    dob_transposed[pop.synthetic] = False

    def flat(a: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(a).reshape(-1).astype(np.int64)

    return Relations(
        name_variant=flat(name_variant), id_variant=flat(id_variant), phone_style=flat(phone_style),
        phone_missing=flat(phone_missing).astype(bool), phone_from=flat(phone_from),
        address_variant=flat(address_variant), address_abbreviated=flat(address_abbreviated).astype(bool),
        dob_transposed=flat(dob_transposed).astype(bool), consent=flat(consent).astype(bool),
        consent_delay=flat(consent_delay), revoked_after=flat(revoked_after), phone_changed_on=changed_on,
    )


def _phone_days(pop: Population, lag: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The day each person changes number (a day of the change month) and the day each furnisher of theirs
    learns it: a day of the month ``lag`` months later (each furnisher's ``phone_update`` a month), never before
    the change. The furnisher of an existing account learns it when the person tells it or when it reaches
    the person through the new number; nothing ties that day to the person's applications elsewhere."""
    n, n_f = lag.shape
    changed = pop.phone_change < NO_CHANGE
    month = np.where(changed, pop.phone_change, 0)
    on = month_start(month) + (rng.random(n) * days_in_month(month)).astype(np.int64)
    changed_on = np.where(changed, on, NO_CHANGE)
    learnt = month[:, None] + lag
    day = month_start(learnt) + (rng.random((n, n_f)) * days_in_month(learnt)).astype(np.int64)
    return changed_on, np.where(changed[:, None], np.maximum(day, changed_on[:, None]), NO_CHANGE)


def defect_rates(furnishers: tuple[FurnisherProfile, ...]) -> np.ndarray:
    """Matrix (furnisher, defect type) of the configured per-record rates, in DEFECT_TYPES order."""
    return np.array([[getattr(f.defects, d) for d in DEFECT_TYPES] for f in furnishers])


def inject_defects(frame: pl.DataFrame, rates: np.ndarray, rng: np.random.Generator) -> pl.DataFrame:
    """Apply at most one defect per record and mark it.

    `frame` carries the standard columns plus `_f` (furnisher index), `_open` (account open) and
    `_resident` (record identified by a resident ID). The result keeps those and adds `_defect` (index into
    DEFECT_TYPES, -1 for none) and `_field` (the emptied field of a missing_required defect). Dropped
    records are kept (marked) so the caller can record them; duplicates appear right after the original.
    """
    n = frame.height
    if n == 0:
        return frame.with_columns(_defect=pl.lit(-1, pl.Int64), _field=pl.lit(None, pl.String))
    f = frame["_f"].to_numpy()
    cum = np.cumsum(rates[f], axis=1)
    defect = (rng.random(n)[:, None] >= cum).sum(axis=1)
    defect = np.where(defect >= len(DEFECT_TYPES), -1, defect)
    defect[(defect == 1) & ~frame["_resident"].to_numpy()] = -1
    defect[(defect == 5) & ~frame["_open"].to_numpy()] = -1
    fields = np.array([name for name, _ in MISSABLE_FIELDS])
    weights = np.array([w for _, w in MISSABLE_FIELDS])
    field = np.where(defect == 0, rng.choice(len(fields), n, p=weights / weights.sum()), -1)
    wrong = rng.integers(1, 11, n)  # offset to a different check character
    mismatch = rng.choice(np.array(["1", "2", "3"]), n)
    extra_balance = rng.integers(100, 500_000, n)

    # A duplicate is a second copy of the record: the copy carries the defect, the original stays clean.
    dup = defect == 4
    order = np.repeat(np.arange(n), 1 + dup)
    is_copy = np.zeros(len(order), dtype=bool)
    is_copy[np.flatnonzero(np.diff(order, prepend=-1) == 0)] = True
    marks = pl.DataFrame({
        "_defect": np.where(dup[order] & ~is_copy, -1, defect[order]),
        "_field": pl.Series(field[order]).replace_strict(list(range(len(fields))), list(fields), default=None,
                                                         return_dtype=pl.String),
        "_wrong": wrong[order],
        "_mismatch": mismatch[order],
        "_extra": extra_balance[order],
    })
    out = pl.concat([frame[order], marks], how="horizontal")
    d = pl.col("_defect")
    closed_bad = d == 3
    updates = {
        "id_number": pl.when(d == 1).then(wrong_check_character(pl.col("id_number"), pl.col("_wrong")))
        .otherwise(pl.col("id_number")),
        "payment_status": pl.when(d == 2).then(
            pl.when(pl.col("days_past_due") > 0).then(pl.lit("N")).otherwise(pl.col("_mismatch"))
        ).otherwise(pl.col("payment_status")),
        "account_status": pl.when(closed_bad).then(pl.lit("closed")).otherwise(pl.col("account_status")),
        "closed_on": pl.when(closed_bad).then(pl.col("_period_end")).otherwise(pl.col("closed_on")),
        "balance": pl.when(closed_bad & (pl.col("balance") == 0)).then(pl.col("_extra"))
        .otherwise(pl.col("balance")),
    }
    out = out.with_columns(**updates)
    out = out.with_columns(**{
        name: pl.when((d == 0) & (pl.col("_field") == name)).then(None).otherwise(pl.col(name))
        for name, _ in MISSABLE_FIELDS
    })
    return out.drop("_wrong", "_mismatch", "_extra")


def wrong_check_character(id_number: pl.Expr, offset: pl.Expr) -> pl.Expr:
    """A resident ID number with its check character moved `offset` (1-10) places: well formed, invalid."""
    check_index = id_number.str.slice(17, 1).replace_strict(list(CHECK_CHARS), list(range(11)), default=0,
                                                            return_dtype=pl.Int64)
    wrong = ((check_index + offset) % 11).replace_strict(list(range(11)), list(CHECK_CHARS), return_dtype=pl.String)
    return id_number.str.slice(0, 17) + wrong


def plan_files(furnishers: tuple[FurnisherProfile, ...], n_periods: int,
               rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Days after period end each monthly file arrives, and whether it is late: arrays (furnisher, period)."""
    late = np.zeros((len(furnishers), n_periods), dtype=bool)
    delay = np.zeros((len(furnishers), n_periods), dtype=np.int64)
    for i, f in enumerate(furnishers):
        late[i] = rng.random(n_periods) < f.defects.late_file
        on_time = rng.integers(f.timeliness.on_time_days[0], f.timeliness.on_time_days[1] + 1, n_periods)
        tardy = rng.integers(f.timeliness.late_days[0], f.timeliness.late_days[1] + 1, n_periods)
        delay[i] = np.where(late[i], tardy, on_time)
    return delay, late
