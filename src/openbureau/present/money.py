"""Amounts and rates as text. Amounts are stored and sent as integer minor units (fen for CNY); people read
major units (yuan) with two decimals and thousands separators."""

from __future__ import annotations

MINOR_PER_MAJOR = 100  # fen per yuan (ISO 4217 exponent 2 for CNY)


def money(minor: int | None, *, decimals: int = 2) -> str:
    """Minor units as major units, e.g. ``money(123456) == "1,234.56"``; None prints as a dash."""
    return "–" if minor is None else f"{minor / MINOR_PER_MAJOR:,.{decimals}f}"


def pct(value: float | None, *, decimals: int = 0) -> str:
    """A share as a percentage, e.g. ``pct(0.125, decimals=1) == "12.5%"``; None prints as a dash."""
    return "–" if value is None else f"{value:.{decimals}%}"
