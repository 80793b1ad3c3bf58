"""Metro 2 associated consumers (J1, J2) as standard v1.1 related persons: ECOA 2 a co-borrower, 5 a guarantor;
stored by intake; written back byte for byte."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from openbureau.accounts.models import AccountParty
from openbureau.intake import service
from openbureau.kit.db import session_scope
from openbureau.metro2 import base, read_bytes
from openbureau.metro2.layout import BASE
from openbureau.metro2.mapping import from_standard, to_standard
from openbureau.metro2.writer import format_record
from tests.metro2.factories import CONSUMERS, consumer_file, consumer_values

TODAY = date(2026, 11, 22)
SSN, SURNAME, FIRST, BORN = CONSUMERS[1]
CO = {"surname": SURNAME, "first_name": FIRST, "social_security_number": SSN, "date_of_birth": BORN,
      "ecoa_code": "2"}
GUARANTOR = {**CO, "social_security_number": CONSUMERS[2][0], "surname": CONSUMERS[2][1], "first_name": CONSUMERS[2][2],
             "date_of_birth": CONSUMERS[2][3], "ecoa_code": "5", "country_code": "US",
             "first_line_of_address": "9 OAK AVE", "city": "CHICAGO", "state": "IL", "postal_zip_code": "60601"}
USER = {**CO, "social_security_number": CONSUMERS[3][0], "ecoa_code": "3"}  # an authorised user: not liable


def _joint():
    return base(consumer_values(0, "JOINT-1"), ("J1", CO), ("J2", GUARANTOR), ("J1", USER), ("J1", CO))


def _read(record) -> object:
    return read_bytes(format_record(record).encode())[0]


def test_liable_associated_consumers_map_to_party_groups() -> None:
    row = to_standard(_read(_joint()))
    assert (row["party_1_role"], row["party_1_id_type"], row["party_1_id_number"], row["party_1_full_name"],
            row["party_1_birth_date"]) == ("co_borrower", "OTHER", SSN, f"{FIRST} {SURNAME}", BORN.isoformat())
    assert (row["party_2_role"], row["party_2_id_number"], row["party_2_full_name"]) == (
        "guarantor", CONSUMERS[2][0], f"{CONSUMERS[2][2]} {CONSUMERS[2][1]}")
    # The authorised user is not liable and the repeated co-borrower is the same person: neither is a party.
    assert row["party_3_role"] is None and row["party_4_role"] is None
    assert row["metro2_associated_consumers"] == "4"


def test_the_associated_consumers_are_written_back_byte_for_byte() -> None:
    """The J1 and J2 segments after the base segment come back as read (the base segment itself keeps what the
    standard holds: tests/metro2/test_mapping.py)."""
    original = format_record(_joint())
    again = format_record(from_standard(to_standard(read_bytes(original.encode())[0])))
    assert again[BASE.length:] == original[BASE.length:] and len(again) == len(original)


def test_party_groups_without_the_segments_are_written_as_j1_segments() -> None:
    row = to_standard(_read(_joint()))
    row["metro2_associated"] = None  # as from the standard's columns alone
    again = to_standard(_read(from_standard(row)))
    assert [again[f"party_{n}_{s}"] for n in (1, 2) for s in ("role", "id_number", "birth_date")] == [
        row[f"party_{n}_{s}"] for n in (1, 2) for s in ("role", "id_number", "birth_date")]
    assert again["metro2_associated_consumers"] == "2"


def test_intake_stores_the_associated_consumers_as_parties(us_bureau, tmp_path) -> None:
    path = tmp_path / "joint.m2"
    path.write_bytes(consumer_file(1, records=[_joint()]))
    submission = service.submit(us_bureau.engine, settings=us_bureau.settings, policy=us_bureau.policy,
                                furnisher_code="BANK_US", path=path, today=TODAY).submission
    assert (submission.records_received, submission.records_rejected, submission.parties_held) == (2, 0, 0), \
        submission.finding_counts
    with session_scope(us_bureau.engine) as session:
        parties = session.execute(select(AccountParty.furnisher_account_id, AccountParty.position,
                                         AccountParty.role).order_by(AccountParty.position)).all()
    assert [tuple(p) for p in parties] == [("JOINT-1", 1, "co_borrower"), ("JOINT-1", 2, "guarantor")]
