"""The demo's monitored portfolio reads its lender's monthly file as the lender knows its customers: a mistyped
resident ID number in the file (the simulator's identity noise, rejected by the bureau as that record's error)
is skipped, never registered, and never stops the demo."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from openbureau.cli.demo_monitoring import SIZE, portfolio_items
from openbureau.documents import id_problem, resident_id


def _file(tmp_path: Path, rows: list[dict]) -> Path:
    path = tmp_path / "BANK_A-2026-05.csv"
    pl.DataFrame(rows).write_csv(path)
    return path


def test_a_mistyped_number_is_skipped_and_the_others_registered_once(tmp_path: Path) -> None:
    good = resident_id("110101", "19900307", "123")
    other = resident_id("310101", "19851111", "456")
    mistyped = good[:-1] + ("0" if good[-1] != "0" else "1")
    assert id_problem("CN_RESIDENT_ID", mistyped)[0] == "ID_CHECK_DIGIT"
    rows = [
        {"id_type": "CN_RESIDENT_ID", "id_number": mistyped, "account_status": "open", "furnisher_account_id": "A0"},
        {"id_type": "CN_RESIDENT_ID", "id_number": good, "account_status": "open", "furnisher_account_id": "A1"},
        {"id_type": "CN_RESIDENT_ID", "id_number": good, "account_status": "open", "furnisher_account_id": "A2"},
        {"id_type": "CN_RESIDENT_ID", "id_number": other.lower(), "account_status": "open",
         "furnisher_account_id": "A3"},
        {"id_type": "CN_RESIDENT_ID", "id_number": other[:6] + "1", "account_status": "open",
         "furnisher_account_id": "A4"},
        {"id_type": "PASSPORT", "id_number": "E12345678", "account_status": "open", "furnisher_account_id": "A5"},
        {"id_type": "CN_RESIDENT_ID", "id_number": resident_id("440101", "19700101", "789"),
         "account_status": "closed", "furnisher_account_id": "A6"},
    ]
    items = portfolio_items(_file(tmp_path, rows))
    assert [(i.reference, i.subject.id_number) for i in items] == [("A1", good), ("A3", other.upper())]


def test_at_most_size_borrowers_are_taken(tmp_path: Path) -> None:
    rows = [{"id_type": "CN_RESIDENT_ID", "id_number": resident_id("110101", "19900307", f"{n:03d}"),
             "account_status": "open", "furnisher_account_id": f"A{n}"} for n in range(SIZE + 20)]
    assert len(portfolio_items(_file(tmp_path, rows))) == SIZE
