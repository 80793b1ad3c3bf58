"""Validate a chunk of furnished records at once and remember each file's account-period keys.

`validate_chunk` evaluates every rule as a Polars expression over the whole chunk: one pass makes the typed
columns, one pass computes a Boolean column per check, and findings are built only from the rows where a
check fired. Every finding of every record is collected; nothing stops at the first.

Example:
    >>> state = FileState()
    >>> result = validate_chunk(chunk, today=date(2026, 11, 22), state=state)  # doctest: +SKIP
    >>> result.records["_outcome"].value_counts()  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from openbureau.consent.profiles import PROFILES, JurisdictionProfile
from openbureau.intake import standard
from openbureau.intake.validation import borrowers
from openbureau.intake.validation.catalogue import ERROR, RULE_BY_CODE, WARNING, Rule
from openbureau.intake.validation.cross_field import cross_field_checks, derived_columns
from openbureau.intake.validation.fields import (
    RAW_PREFIX,
    Check,
    field_checks,
    raw,
    shown_value,
    typed_columns,
)
from openbureau.intake.validation.joint_lending import joint_lending_checks

LINE = "_line"
OUTCOME = "_outcome"
FINDINGS_SCHEMA: dict[str, pl.DataType] = {
    "line": pl.Int64(),
    "furnisher_account_id": pl.String(),
    "field": pl.String(),
    "code": pl.String(),
    "severity": pl.String(),
    "value": pl.String(),
    "message": pl.String(),
}
_KEY_SEPARATOR = "\x1f"  # cannot occur in a stripped account id from a text file
_KEY_SEED = 0x0B0E


@dataclass(frozen=True, slots=True)
class ValidationResult:
    """Typed records with their outcome, and every finding about them."""

    records: pl.DataFrame
    findings: pl.DataFrame


class FileState:
    """The (furnisher_account_id, reporting_period) keys seen so far in one file, across its chunks.

    Keys are kept as 64-bit hashes with the line of their first occurrence, in a few sorted NumPy runs that
    are merged as they grow (lookups are binary searches). Memory is 16 bytes per distinct key: 16 MB per
    million keys, plus the same again briefly while two runs merge. Two different keys share a hash with
    probability about n^2 / 2^65 (under 3 in a million for a 10-million-record file); such a pair would be
    reported as a duplicate. Hashes come from Polars and are stable within one process, which is all a file
    needs.
    """

    def __init__(self) -> None:
        self._runs: list[tuple[np.ndarray, np.ndarray]] = []

    @property
    def key_count(self) -> int:
        """Number of distinct keys remembered."""
        return sum(hashes.size for hashes, _ in self._runs)

    @property
    def run_count(self) -> int:
        """Number of sorted runs a lookup searches (grows logarithmically with the keys)."""
        return len(self._runs)

    @property
    def nbytes(self) -> int:
        """Bytes held by the remembered keys."""
        return sum(hashes.nbytes + lines.nbytes for hashes, lines in self._runs)

    def first_lines(self, hashes: np.ndarray) -> np.ndarray:
        """The first line of each key hash already seen, or -1 when it is new."""
        found_lines = np.full(hashes.size, -1, dtype=np.int64)
        for run_hashes, run_lines in self._runs:
            position = np.minimum(np.searchsorted(run_hashes, hashes), run_hashes.size - 1)
            found = run_hashes[position] == hashes
            found_lines = np.where(found, run_lines[position], found_lines)
        return found_lines

    def remember(self, hashes: np.ndarray, lines: np.ndarray) -> None:
        """Add new, distinct key hashes with their first line."""
        if hashes.size == 0:
            return
        order = np.argsort(hashes, kind="stable")
        self._runs.append((hashes[order], lines[order].astype(np.int64)))
        # Merge while the newer run is at least half the older one: runs stay few (logarithmic) and each key
        # is copied a logarithmic number of times. Timsort merges two sorted runs in linear time.
        while len(self._runs) > 1 and self._runs[-2][0].size <= 2 * self._runs[-1][0].size:
            (older_h, older_l), (newer_h, newer_l) = self._runs[-2:]
            merged_h = np.concatenate([older_h, newer_h])
            merged_l = np.concatenate([older_l, newer_l])
            order = np.argsort(merged_h, kind="stable")
            self._runs[-2:] = [(merged_h[order], merged_l[order])]


def _duplicates(work: pl.DataFrame, state: FileState) -> pl.DataFrame:
    """Flag each record whose account-period key appeared earlier in the file, with that first line."""
    account = raw("furnisher_account_id")
    key = pl.concat_str([account, pl.col("reporting_period")], separator=_KEY_SEPARATOR).hash(seed=_KEY_SEED)
    keys = work.select(
        pl.when(account.is_not_null() & pl.col("reporting_period").is_not_null()).then(key).alias("key"),
        pl.col(LINE),
    ).with_columns(pl.col(LINE).min().over("key").alias("first_in_chunk"))
    valid = keys["key"].is_not_null().to_numpy()
    hashes = keys["key"].fill_null(0).to_numpy()
    lines = keys[LINE].fill_null(-1).to_numpy()
    first_in_chunk = keys["first_in_chunk"].fill_null(-1).to_numpy()
    earlier = state.first_lines(hashes)
    first_line = np.where(earlier >= 0, earlier, first_in_chunk)
    duplicate = valid & (first_line != lines)
    new = valid & (earlier < 0) & (lines == first_in_chunk)
    state.remember(hashes[new], lines[new])
    return pl.DataFrame({"_duplicate": duplicate, "_first_line": np.where(duplicate, first_line, -1)})


def _finding(work: pl.LazyFrame, flag: str, check: Check, order: int, *, rules: Mapping[str, Rule],
             layout: standard.Layout) -> pl.LazyFrame:
    return work.filter(pl.col(flag)).select(
        pl.col(LINE).alias("line"),
        raw("furnisher_account_id").alias("furnisher_account_id"),
        pl.lit(check.field).alias("field"),
        pl.lit(check.code).alias("code"),
        pl.lit(rules[check.code].severity).alias("severity"),
        shown_value(check.field, layout).alias("value"),
        check.message.alias("message"),
        pl.lit(order).alias("_order"),
    )


def findings_and_outcome(work: pl.DataFrame, checks: list[Check], flags: list[str], *,
                         rules: Mapping[str, Rule] = RULE_BY_CODE, layout: standard.Layout = standard.RECORDS
                         ) -> tuple[pl.DataFrame, pl.Expr]:
    """The findings of the checks that fired (each flag a Boolean column of ``work``), in line and check
    order, and the expression of each record's outcome: rejected on an error, warning, or accepted."""
    hits = work.select(pl.col(flag).sum() for flag in flags).row(0)
    parts = [
        _finding(work.lazy(), flag, check, order, rules=rules, layout=layout)
        for order, (check, flag, hit) in enumerate(zip(checks, flags, hits, strict=True))
        if hit
    ]
    if parts:
        findings = pl.concat(parts).sort("line", "_order", maintain_order=True).drop("_order").collect()
    else:
        findings = pl.DataFrame(schema=FINDINGS_SCHEMA)
    errors = [flag for check, flag in zip(checks, flags, strict=True) if rules[check.code].severity == ERROR]
    warnings = [flag for check, flag in zip(checks, flags, strict=True) if rules[check.code].severity == WARNING]
    outcome = (
        pl.when(pl.any_horizontal(errors) if errors else pl.lit(False)).then(pl.lit("rejected"))
        .when(pl.any_horizontal(warnings) if warnings else pl.lit(False)).then(pl.lit("warning"))
        .otherwise(pl.lit("accepted"))
    )  # fmt: skip
    return findings.cast(FINDINGS_SCHEMA), outcome


def _duplicate_check() -> Check:
    message = pl.format(
        "furnisher_account_id '{}' with reporting_period '{}' already appears on line {}; an account is "
        "reported once per period in a file (send a correction in a later file).",
        raw("furnisher_account_id"), raw("reporting_period"), pl.col("_first_line"),
    )  # fmt: skip
    return Check("DUPLICATE_IN_FILE", "furnisher_account_id", pl.col("_duplicate"), message)


def validate_chunk(
    chunk: pl.DataFrame,
    *,
    today: date,
    state: FileState | None = None,
    balance_tolerance: float = 0.10,
    profile: JurisdictionProfile = PROFILES["CN"],
    members: Collection[str] = (),
) -> ValidationResult:
    """Validate one chunk of a furnished file: typed records with their outcome, and all findings.

    Args:
        chunk: `_line` plus every standard column as String; blanks already null, values stripped.
        today: the validation date (periods, birth dates and notices after it are errors).
        state: the file's `FileState`, shared by all its chunks for duplicate detection; a fresh one when
            None (duplicates are then only found within this chunk).
        balance_tolerance: fraction by which a balance may exceed its credit limit or original amount.
        profile: the jurisdiction profile of the bureau (the phone's numbering plan, the negative-information
            notice rule); the loader passes its policy's.
        members: the codes of the registered members, which a v1.1 facilitator or funder must be (none by
            default: every code is then unknown).

    Returns:
        `records` (same rows and order as `chunk`, typed columns and `_outcome`) and `findings`.
    """
    missing = [name for name in (LINE, *standard.COLUMNS) if name not in chunk.columns]
    if missing:
        raise ValueError(f"chunk lacks columns {missing}; add absent standard columns as all-null")
    if state is None:
        state = FileState()
    # A chunk without any joint-lending value (every v1 file) is checked without joint lending's rules: the
    # same findings, at the v1 cost. The borrower's rules run on every chunk.
    extended = any(chunk[name].null_count() < chunk.height for name in standard.JOINT_LENDING_COLUMNS)
    checks = borrowers.for_borrower_type(
        field_checks(standard.RECORDS if extended else standard.V1_RECORDS, phone_plan=profile.phone_plan)
        + cross_field_checks(today=today, balance_tolerance=balance_tolerance, profile=profile))
    checks += borrowers.borrower_checks()
    if extended:
        checks += joint_lending_checks(members=members) + borrowers.enterprise_party_checks()
    flags = [f"_check{index}" for index in range(len(checks))]
    # One contiguous buffer per column: Polars 2.1 can panic formatting filtered strings from inputs split
    # into hundreds of small chunks (as concatenated reader batches are).
    work = (
        chunk.select(LINE, *standard.COLUMNS).rechunk().lazy()
        .select(pl.col(LINE).cast(pl.Int64), *(pl.col(n).cast(pl.String).alias(RAW_PREFIX + n) for n in standard.COLUMNS))
        .with_columns(typed_columns())
        .with_columns(borrowers.typed_columns())
        .with_columns(derived_columns())
        .with_columns(check.fires.fill_null(False).alias(flag) for check, flag in zip(checks, flags, strict=True))
        .collect()
    )
    work = work.hstack(_duplicates(work, state))
    checks.append(_duplicate_check())
    flags.append("_duplicate")

    findings, outcome = findings_and_outcome(work, checks, flags)
    records = work.select(LINE, *standard.COLUMNS, outcome.alias(OUTCOME))
    return ValidationResult(records=records, findings=findings)
