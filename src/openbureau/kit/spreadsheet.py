"""CSV files the bureau hands out: every cell safe to open in a spreadsheet.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read as a formula by
spreadsheet programs (CSV injection, CWE-1236); OWASP's advice is to prefix such a cell with a single
quote, which the programs show as text. Every CSV export of the bureau writes through :func:`csv_writer`.
Files in the furnishing format (the simulator's, read back by the intake) are data, not exports, and are
written as they are: a quote before a negative amount would change it.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, TextIO

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """``value`` with a single quote in front when a spreadsheet would read it as a formula (OWASP).

    Example: ``spreadsheet_safe("=HYPERLINK(...)") == "'=HYPERLINK(...)"``; numbers pass unchanged.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SafeCsvWriter:
    """``csv.writer`` whose every string cell goes through :func:`spreadsheet_safe`."""

    def __init__(self, handle: TextIO) -> None:
        self._writer = csv.writer(handle)

    def writerow(self, row: Iterable[Any]) -> None:
        """Write one row."""
        self._writer.writerow([spreadsheet_safe(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        """Write several rows."""
        for row in rows:
            self.writerow(row)


def csv_writer(handle: TextIO) -> SafeCsvWriter:
    """A writer for a CSV export (open ``handle`` with ``newline=""``)."""
    return SafeCsvWriter(handle)
