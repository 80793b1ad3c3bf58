"""Hand-made frames shaped like the quality repository's reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from openbureau.quality.metrics import QualityFrames
from openbureau.quality.repository import STATE_SCHEMA, STORED_FINDING_SCHEMA, SUBMISSION_SCHEMA

MEMBERS = pl.DataFrame({"furnisher_id": [1, 2], "furnisher": ["GOOD", "BAD"]})


def state(furnisher_id: int = 1, account: str = "A1", period: str = "2026-01", **overrides) -> dict:
    """One stored account state, every optional field filled, current and open."""
    row = {"furnisher_id": furnisher_id, "furnisher_account_id": account, "reporting_period": period, "version": 1,
           "person_id": int(account.strip("ABCDEFGHIJKLMNOPQRSTUVWXYZ_") or 0) + 1000 * furnisher_id,
           "product_type": "installment", "term_months": 12, "balance": 100_000, "days_past_due": 0,
           "payment_status": "N", "account_status": "open", "has_credit_limit": 0, "has_original_amount": 1,
           "has_term_months": 1, "has_first_delinquency_date": 0, "has_closed_on": 0, "has_consent_ref": 1,
           "has_negative_notice_date": 0, "held": 0}
    row.update(overrides)
    return row


def states(rows: list[dict]) -> pl.DataFrame:
    """A frame of `state` rows."""
    return pl.DataFrame(rows, schema={**STATE_SCHEMA, "has_term_months": pl.Int8})


def submission(submission_id: int, furnisher_id: int, period: str, *, day: int = 5, received: int = 100,
               rejected: int = 0) -> dict:
    """A loaded submission of ``period`` arriving ``day`` days after the period end."""
    end = pl.Series([period]).str.to_date("%Y-%m").dt.month_end()[0]
    at = datetime(end.year, end.month, end.day, 9, tzinfo=UTC) + timedelta(days=day)
    return {"submission_id": submission_id, "furnisher_id": furnisher_id, "filename": f"{period}.csv",
            "received_at": at, "records_received": received, "records_rejected": rejected,
            "reporting_period": period}


def submissions(rows: list[dict]) -> pl.DataFrame:
    """A frame of `submission` rows (with their reporting period attached)."""
    return pl.DataFrame(rows, schema={**SUBMISSION_SCHEMA, "reporting_period": pl.String})


def findings(rows: list[tuple[int, int, str | None, str, str | None, str]]) -> pl.DataFrame:
    """(submission_id, line, account, code, field, severity) tuples as a findings frame."""
    return pl.DataFrame(rows, schema=STORED_FINDING_SCHEMA, orient="row")


def frames(state_rows: list[dict], submission_rows: list[dict], finding_rows=()) -> QualityFrames:
    """All four inputs of the metric job."""
    return QualityFrames(members=MEMBERS, submissions=submissions(submission_rows),
                         findings=findings(list(finding_rows)), states=states(state_rows))
