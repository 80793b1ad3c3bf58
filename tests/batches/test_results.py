"""The results file as a lender opens it: CSV cells a spreadsheet will not run, numbers kept as numbers."""

from __future__ import annotations

import csv
import io

from openbureau.batches.results import COLUMNS, csv_header, to_csv


def test_a_lenders_reference_comes_back_inert_in_a_spreadsheet_and_amounts_stay_numbers() -> None:
    line = {"row": 1, "reference": '=HYPERLINK("http://x.example","click")', "outcome": "answered",
            "total_balance": -1250, "person_found": True, "signals": ["RECENT_DELINQUENCY", "VELOCITY"],
            "message": "+cmd|' /C calc'!A0"}
    rows = list(csv.reader(io.StringIO((csv_header() + to_csv([line])).decode())))
    assert rows[0] == list(COLUMNS)
    cells = dict(zip(COLUMNS, rows[1], strict=True))
    assert cells["reference"] == "'" + line["reference"] and cells["message"].startswith("'+")
    assert (cells["row"], cells["total_balance"], cells["person_found"]) == ("1", "-1250", "true")
    assert cells["signals"] == "RECENT_DELINQUENCY;VELOCITY" and cells["score"] == ""
