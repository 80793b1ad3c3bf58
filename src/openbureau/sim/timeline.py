"""Calendar helpers: months as integers (months since 1970-01) and dates as integers (days since 1970-01-01).

Integer months and days keep the monthly simulation vectorised: numpy computes due dates, days past due
and period ends on whole arrays at once, and polars turns the day numbers into Date columns for free.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

EPOCH = dt.date(1970, 1, 1)
NO_DAY = -(1 << 40)  # "no date" in day-number arrays (real dates before 1970 are negative)


def month_start(months: np.ndarray | int) -> np.ndarray:
    """First day (days since epoch) of each month index."""
    return np.asarray(months).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def month_end(months: np.ndarray | int) -> np.ndarray:
    """Last day (days since epoch) of each month index: the reporting period end."""
    return month_start(np.asarray(months) + 1) - 1


def days_in_month(months: np.ndarray | int) -> np.ndarray:
    """Number of days in each month index."""
    return month_end(months) - month_start(months) + 1


def period_label(month: int) -> str:
    """Reporting period `YYYY-MM` of a month index."""
    return f"{1970 + month // 12:04d}-{month % 12 + 1:02d}"


def parse_period(period: str) -> int:
    """Month index of a `YYYY-MM` reporting period.

    Raises:
        ValueError: when the text is not a valid `YYYY-MM` period.
    """
    try:
        year, month = (int(part) for part in period.split("-"))
    except ValueError as exc:
        raise ValueError(f"period must be YYYY-MM, got {period!r}") from exc
    if len(period) != 7 or not 1 <= month <= 12 or year < 1971:
        raise ValueError(f"period must be YYYY-MM, got {period!r}")
    return (year - 1970) * 12 + month - 1


def last_complete_period(today: dt.date | None = None) -> str:
    """The month before the current one (UTC): the default end of a simulated history."""
    today = today or dt.datetime.now(dt.UTC).date()
    return period_label((today.year - 1970) * 12 + today.month - 2)


def to_date(day: int) -> dt.date:
    """Calendar date of a day number."""
    return EPOCH + dt.timedelta(days=int(day))
