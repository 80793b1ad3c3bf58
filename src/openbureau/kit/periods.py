"""Reporting periods (``YYYY-MM``) as month numbers, for arithmetic on them.

Example:
    >>> shift_period("2026-01", -1)
    '2025-12'
    >>> months_between("2025-11", "2026-02")
    3
"""

from __future__ import annotations

import calendar
from datetime import date


def period_number(period: str) -> int:
    """``YYYY-MM`` as a month number (year × 12 + month − 1)."""
    return int(period[:4]) * 12 + int(period[5:7]) - 1


def number_period(number: int) -> str:
    """The inverse of :func:`period_number`."""
    return f"{number // 12:04d}-{number % 12 + 1:02d}"


def shift_period(period: str, months: int) -> str:
    """``period`` moved by ``months`` (negative: earlier). ``shift_period("2026-01", -1) == "2025-12"``."""
    return number_period(period_number(period) + months)


def months_between(start: str, end: str) -> int:
    """Months from ``start`` to ``end`` (negative when ``end`` is earlier)."""
    return period_number(end) - period_number(start)


def period_of(day: date) -> str:
    """The period ``day`` falls in."""
    return f"{day.year:04d}-{day.month:02d}"


def period_end(period: str) -> date:
    """The last day of ``period``."""
    year, month = int(period[:4]), int(period[5:7])
    return date(year, month, calendar.monthrange(year, month)[1])


def last_complete_period(day: date) -> str:
    """The newest period that has ended by ``day`` (the month before ``day``'s month)."""
    return shift_period(period_of(day), -1)


def add_years(day: date, years: int) -> date:
    """``day`` moved by whole ``years`` (29 February becomes 28 February in a common year)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)
