"""Consent files (CSV or JSON Lines, docs/consent.md): the columns, and every line checked (intake's readers
read the file chunk by chunk, ``intake.consent_files``)."""

from __future__ import annotations

from datetime import datetime

import polars as pl

from openbureau.consent.profiles import Purpose
from openbureau.consent.schemas import CLOCK_SKEW, DOCUMENT_HASH_PATTERN, EVIDENCE_CHANNELS, ImportFinding
from openbureau.documents import ID_TYPES, PROBLEMS, id_problem_expr, normalise_id_number

COLUMNS = ("consent_ref", "id_type", "id_number", "purpose", "granted_at", "expires_at", "channel",
           "evidence_hash", "status", "revoked_at")
REQUIRED = ("consent_ref", "id_type", "id_number", "purpose", "granted_at", "channel", "evidence_hash")
TIMES = ("granted_at", "expires_at", "revoked_at")
DUPLICATE = ("consent_ref", "DUPLICATE_IN_FILE", "the same consent_ref appears earlier in the file")


def repeated_lines(keys: pl.DataFrame, key: list[str]) -> pl.Series:
    """The lines (``_line``) whose ``key`` (the reference, or hashes of it; never null) is on an earlier line
    of the file too: each is a ``DUPLICATE_IN_FILE`` and stores nothing.

    The lines are sorted by key and line, and a line whose key is the one before it repeats an earlier line.
    The sort holds about a copy of the sorted columns; a group-by of a file's millions of distinct keys held
    some 150-200 bytes a line at once (docs/intake.md, "Memory of a load")."""
    by_key = keys.select(*key, "_line").sort([*key, "_line"])
    return by_key.filter(pl.all_horizontal(pl.col(k) == pl.col(k).shift(1) for k in key))["_line"].sort()


def duplicate_findings(lines: pl.Series) -> list[ImportFinding]:
    """The finding of each repeated line (``repeated_lines``) of a file checked a chunk at a time."""
    field_name, code, message = DUPLICATE
    return [ImportFinding(line=line, field=field_name, code=code, message=message) for line in lines.to_list()]


def validate_consent_rows(rows: pl.DataFrame, *, now: datetime,
                          repeated: pl.Series | None = None) -> tuple[pl.DataFrame, list[ImportFinding]]:
    """The lines without problems (identity numbers normalised, times typed, status defaulted to active) and
    a finding per problem. Subjects must be well-formed identity documents by the same rules as intake's,
    and the evidence must name a known channel, carry the signed document's hash and not be dated after
    ``now``. ``rows`` (text columns and ``_line``) may be one chunk of a file: ``repeated`` then gives the
    file's lines whose reference an earlier line holds (``repeated_lines``); by default they are found
    among ``rows``."""
    if repeated is None:
        repeated = repeated_lines(rows.filter(pl.col("consent_ref").is_not_null()), ["consent_ref"])
    parsed = rows.with_columns(
        [pl.col(c).str.to_datetime(time_zone="UTC", strict=False, time_unit="us").alias(f"_{c}") for c in TIMES]
    ).with_columns(pl.col("status").fill_null("active"), normalise_id_number(pl.col("id_number")))
    problem = id_problem_expr(pl.col("id_type"), pl.col("id_number"))
    id_checks = [("id_number", code, pl.col("id_type").is_in(ID_TYPES) & pl.col("id_number").is_not_null()
                  & (problem == code), message)
                 for code, message in PROBLEMS.items() if code not in ("INVALID_ENUM", "REQUIRED_MISSING")]
    checks: list[tuple[str, str, pl.Expr, str]] = [
        *[(c, "REQUIRED_MISSING", pl.col(c).is_null(), f"{c} is required") for c in REQUIRED],
        ("id_type", "INVALID_ENUM", pl.col("id_type").is_not_null() & ~pl.col("id_type").is_in(ID_TYPES),
         f"id_type must be one of {', '.join(ID_TYPES)}"),
        *id_checks,
        ("channel", "INVALID_ENUM", pl.col("channel").is_not_null() & ~pl.col("channel").is_in(EVIDENCE_CHANNELS),
         f"channel must be one of {', '.join(EVIDENCE_CHANNELS)}"),
        ("evidence_hash", "INVALID_EVIDENCE_HASH",
         pl.col("evidence_hash").is_not_null() & ~pl.col("evidence_hash").str.contains(DOCUMENT_HASH_PATTERN),
         "evidence_hash must be the signed document's hex SHA-256/SM3/SHA-512 digest or sig: and a base64 "
         "signature"),
        ("granted_at", "EVIDENCE_IN_FUTURE", pl.col("_granted_at") > pl.lit(now + CLOCK_SKEW),
         "granted_at is in the future: a consent is recorded after it was given"),
        ("purpose", "INVALID_ENUM", pl.col("purpose").is_not_null() & ~pl.col("purpose").is_in([p.value for p in Purpose]),
         f"purpose must be one of {', '.join(p.value for p in Purpose)}"),
        ("status", "INVALID_ENUM", ~pl.col("status").is_in(["active", "revoked"]), "status must be active or revoked"),
        *[(c, "INVALID_DATETIME", pl.col(c).is_not_null() & pl.col(f"_{c}").is_null(),
           f"{c} must be an ISO 8601 date-time with a zone, e.g. 2026-03-01T09:30:00Z") for c in TIMES],
        ("expires_at", "INVALID_WINDOW", pl.col("_expires_at") <= pl.col("_granted_at"),
         "expires_at must be after granted_at"),
        ("revoked_at", "REQUIRED_MISSING", (pl.col("status") == "revoked") & pl.col("revoked_at").is_null(),
         "a revoked consent needs revoked_at"),
        (*DUPLICATE[:2], pl.col("_line").is_in(repeated.implode()), DUPLICATE[2]),
    ]
    flags = parsed.select("_line", *[expr.fill_null(False).alias(f"_bad{i}") for i, (_, _, expr, _) in enumerate(checks)])
    findings: list[ImportFinding] = []
    for i, (field_name, code, _, message) in enumerate(checks):
        for line in flags.filter(pl.col(f"_bad{i}"))["_line"].to_list():
            findings.append(ImportFinding(line=line, field=field_name, code=code, message=message))
    bad = flags.select("_line", pl.any_horizontal(pl.exclude("_line")).alias("_bad"))
    good = parsed.join(bad, on="_line").filter(~pl.col("_bad")).select(
        "_line", "consent_ref", "id_type", "id_number", "purpose", "channel", "evidence_hash", "status",
        *[pl.col(f"_{c}").alias(c) for c in TIMES],
    )
    findings.sort(key=lambda f: (f.line, f.field or ""))
    return good, findings
