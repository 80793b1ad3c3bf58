"""Consent files (CSV or JSON Lines, docs/consent.md): read as text, check every line, keep the good ones."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import polars as pl

from openbureau.consent.profiles import Purpose
from openbureau.consent.schemas import CLOCK_SKEW, DOCUMENT_HASH_PATTERN, EVIDENCE_CHANNELS, ImportFinding
from openbureau.documents import ID_TYPES, PROBLEMS, id_problem_expr, normalise_id_number
from openbureau.kit.errors import FILE_FORMAT_UNKNOWN, FILE_MISSING_COLUMNS, FILE_UNREADABLE, Unprocessable

COLUMNS = ("consent_ref", "id_type", "id_number", "purpose", "granted_at", "expires_at", "channel",
           "evidence_hash", "status", "revoked_at")
REQUIRED = ("consent_ref", "id_type", "id_number", "purpose", "granted_at", "channel", "evidence_hash")
TIMES = ("granted_at", "expires_at", "revoked_at")


def read_consent_file(path: Path, *, source: BinaryIO | None = None, name: str | None = None) -> pl.DataFrame:
    """Every line of a consent file as text columns, with ``_line``; a file without the columns is refused.

    ``source`` reads the bytes from an open file instead (a sealed upload, decrypted as it is read), whose
    format ``name`` tells.
    """
    suffix = Path(name or path.name).suffix.lower()
    handle = source if source is not None else None
    try:
        if suffix == ".csv":
            frame = pl.read_csv(handle if handle is not None else path, infer_schema=False)
            frame = frame.with_row_index("_line", offset=2)
        elif suffix in (".jsonl", ".ndjson"):
            text = handle.read().decode("utf-8") if handle is not None else path.read_text("utf-8")
            lines = text.splitlines()
            rows = [json.loads(line) for line in lines if line.strip()]
            numbers = [i for i, line in enumerate(lines, start=1) if line.strip()]
            frame = pl.DataFrame([{k: (None if v is None else str(v)) for k, v in r.items()} for r in rows],
                                 infer_schema_length=None).with_columns(pl.Series("_line", numbers))
        else:
            raise Unprocessable(f"consent files are .csv or .jsonl, not {suffix or 'no suffix'}",
                                code=FILE_FORMAT_UNKNOWN, field="file")
    except json.JSONDecodeError as exc:  # the message would quote the line: say where, not what
        raise Unprocessable(f"the consent file cannot be read: line {exc.lineno} is not JSON",
                            code=FILE_UNREADABLE, field="file") from exc
    except UnicodeDecodeError as exc:
        raise Unprocessable("the consent file cannot be read: it must be UTF-8 (convert it, e.g. from GBK or "
                            "GB18030, and import it again)", code="FILE_NOT_UTF8", field="file") from exc
    except pl.exceptions.PolarsError as exc:
        if "utf-8" in str(exc).lower():  # Polars reads CSV as UTF-8 only: a GBK file fails here
            raise Unprocessable("the consent file cannot be read: it must be UTF-8 (convert it, e.g. from GBK or "
                                "GB18030, and import it again)", code="FILE_NOT_UTF8", field="file") from exc
        raise Unprocessable("the consent file cannot be read as CSV (a row with the wrong number of fields?)",
                            code=FILE_UNREADABLE, field="file") from exc
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise Unprocessable(f"the consent file lacks columns: {', '.join(missing)}", code=FILE_MISSING_COLUMNS,
                            field=missing[0], details={"columns": missing})
    present = set(frame.columns)
    return frame.select(
        pl.col("_line").cast(pl.Int64),
        *[(pl.col(c).cast(pl.String).str.strip_chars().replace("", None) if c in present
           else pl.lit(None, dtype=pl.String)).alias(c) for c in COLUMNS],
    )


def validate_consent_rows(rows: pl.DataFrame, *, now: datetime) -> tuple[pl.DataFrame, list[ImportFinding]]:
    """The lines without problems (identity numbers normalised, times typed, status defaulted to active) and
    a finding per problem. Subjects must be well-formed identity documents by the same rules as intake's,
    and the evidence must name a known channel, carry the signed document's hash and not be dated after
    ``now``."""
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
        ("consent_ref", "DUPLICATE_IN_FILE", pl.col("consent_ref").is_not_null()
         & pl.col("consent_ref").is_duplicated() & (pl.col("_line") != pl.col("_line").min().over("consent_ref")),
         "the same consent_ref appears earlier in the file"),
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
