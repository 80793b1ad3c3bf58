"""Intake's rules follow the bureau's jurisdiction profile: the phone's numbering plan (CN mobiles, US numbers
of the North American plan) and when the person must be told of negative information (before furnishing under
CN Art. 15; within 30 days after it under FCRA §623(a)(7))."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
import pytest

from openbureau.consent.profiles import get_profile
from openbureau.intake import standard
from openbureau.intake.events.standard import EVENTS
from openbureau.intake.events.validation import validate_events
from openbureau.intake.validation import validate_chunk
from openbureau.intake.validation.catalogue import BASE_RECORD, LATE

TODAY = date(2026, 11, 22)


def _findings(record: dict, profile: str) -> pl.DataFrame:
    chunk = pl.DataFrame([record], schema={name: pl.String for name in standard.COLUMNS}).insert_column(
        0, pl.Series("_line", [2], dtype=pl.Int64))
    return validate_chunk(chunk, today=TODAY, profile=get_profile(profile)).findings


def _phone_warned(phone: str, profile: str) -> bool:
    return "INVALID_PHONE" in _findings(BASE_RECORD | {"phone": phone}, profile)["code"].to_list()


@pytest.mark.parametrize(("phone", "cn", "us"), [
    ("+86 138-0013-8000", True, False),  # a CN mobile
    ("13800138000", True, False),
    ("0086 139 1234 5678", True, False),
    ("2175550123", False, True),  # a US number: area code 217, exchange 555
    ("(217) 555-0123", False, True),
    ("+1 217.555.0123", False, True),
    ("1-212-555-0100", False, True),
    ("0175550123", False, False),  # an area code cannot start with 0 ...
    ("2171550123", False, False),  # ... nor an exchange with 1
    ("217555012", False, False),  # 9 digits
    ("12345", False, False),
])
def test_a_phone_is_checked_against_the_profiles_numbering_plan(phone: str, cn: bool, us: bool) -> None:
    assert (not _phone_warned(phone, "CN"), not _phone_warned(phone, "US")) == (cn, us)


def test_the_us_phone_finding_names_the_north_american_plan() -> None:
    found = _findings(BASE_RECORD | {"phone": "13800138000"}, "US").filter(pl.col("code") == "INVALID_PHONE")
    assert found["message"].to_list() == [
        "phone is not a US number (10 digits of the North American Numbering Plan, area code and exchange "
        "starting 2-9, optionally with +1); it will not be used for matching."]
    assert found["severity"].to_list() == ["warning"]


def test_event_phones_follow_the_profile_too() -> None:
    event = {"event_id": "E1", "event_type": "opened", "occurred_at": "2026-11-20T10:00:00Z",
             "furnisher_account_id": "L1", "id_type": "OTHER", "id_number": "123456789", "full_name": "JANE DOE",
             "birth_date": "1980-03-07", "phone": "(217) 555-0123", "product_type": "installment",
             "currency": "USD", "amount": "100000", "term_months": "12", "opened_on": "2026-11-20"}
    batch = pl.DataFrame([event], schema={name: pl.String for name in EVENTS.columns}).insert_column(
        0, pl.Series("_line", [1], dtype=pl.Int64))
    moment = datetime(2026, 11, 20, 12, tzinfo=UTC)
    us = validate_events(batch, now=moment, phone_plan="NANP").findings["code"].to_list()
    cn = validate_events(batch, now=moment).findings["code"].to_list()
    assert "INVALID_PHONE" not in us and "INVALID_PHONE" in cn


US_PHONE = {"phone": "(217) 555-0123"}
UNNOTICED = BASE_RECORD | LATE | {"negative_notice_date": None}


def test_a_negative_record_without_a_notice_is_held_back_under_cn() -> None:
    found = _findings(UNNOTICED, "CN").filter(pl.col("code") == "NEGATIVE_NOTICE_MISSING")
    assert found["message"].to_list() == [
        "negative_notice_date is empty for a negative record (late, status 1-7, D or Z, or charged off); its "
        "negative status will be held back until the person has been told."]


def test_under_the_us_profile_a_missing_or_later_notice_is_no_finding() -> None:
    """FCRA §623(a)(7)(B): the notice may follow furnishing by up to 30 days, so intake cannot find it missing
    or late; a notice dated in the future is still an error."""
    assert _findings(UNNOTICED | US_PHONE, "US").height == 0
    after = BASE_RECORD | LATE | {"negative_notice_date": "2026-10-05"}  # after the period of 2026-09
    assert _findings(after | US_PHONE, "US").height == 0
    assert _findings(after, "CN")["code"].to_list() == ["NOTICE_AFTER_PERIOD"]
    future = BASE_RECORD | LATE | US_PHONE | {"negative_notice_date": "2099-01-01"}
    assert _findings(future, "US")["code"].to_list() == ["NOTICE_IN_FUTURE"]
