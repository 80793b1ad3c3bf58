"""Standard v1.1 rules of who borrows, beyond the catalogue's examples: every borrower type's columns, the
notice rules, and v1 records unchanged."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from openbureau.intake import standard
from openbureau.intake.validation import validate_chunk
from tests.enterprises.factories import FIRM_USCC, PERSON_COLUMNS, V1_COLUMNS, enterprise, sole_trader
from tests.intake.factories import person

TODAY = date(2026, 11, 22)
LATE = dict(days_past_due="45", payment_status="2", past_due_amount="1200", first_delinquency_date="2026-08-16",
            negative_notice_date=None)


def findings(*records: dict, columns=standard.COLUMNS) -> list[tuple[int, str, str]]:
    frame = pl.DataFrame([{c: r.get(c) if c in columns else None for c in standard.COLUMNS} for r in records],
                         schema={c: pl.String for c in standard.COLUMNS})
    chunk = frame.insert_column(0, pl.Series("_line", range(2, 2 + len(records)), dtype=pl.Int64))
    found = validate_chunk(chunk, today=TODAY).findings
    return sorted((r["line"], r["code"], r["field"]) for r in found.iter_rows(named=True))


def test_a_v1_record_gets_exactly_the_v1_findings() -> None:
    """Without the v1.1 columns a record is a person's: the same findings as before, person columns required."""
    bare = {**person(0), "full_name": None, **LATE}
    assert findings(bare, columns=V1_COLUMNS) == findings(bare | {"borrower_type": "person"}) == [
        (2, "NEGATIVE_NOTICE_MISSING", "negative_notice_date"), (2, "REQUIRED_MISSING", "full_name")]


def test_valid_sole_traders_and_enterprises_have_no_finding() -> None:
    assert findings(sole_trader(0, "S-1"), enterprise("E-1")) == []


def test_an_enterprise_needs_no_person_and_no_notice_but_a_sole_trader_does() -> None:
    assert findings(enterprise("E-1", **LATE)) == []  # Art. 15's notice is about personal information
    assert findings(sole_trader(0, "S-1", **LATE)) == [(2, "NEGATIVE_NOTICE_MISSING", "negative_notice_date")]


@pytest.mark.parametrize("column", ["id_type", "id_number", "full_name", "birth_date"])
def test_a_sole_traders_owner_is_required(column) -> None:
    assert findings(sole_trader(0, "S-1", **{column: None})) == [(2, "SOLE_TRADER_PERSON_MISSING", column)]


@pytest.mark.parametrize("column", PERSON_COLUMNS)
def test_an_enterprises_record_names_no_person(column) -> None:
    given = person(0)[column]
    assert (2, "ENTERPRISE_PERSON_GIVEN", column) in findings(enterprise("E-1", **{column: given}))


@pytest.mark.parametrize(("patch", "expected"), [
    ({"enterprise_uscc": None}, [(2, "ENTERPRISE_USCC_MISSING", "enterprise_uscc")]),
    ({"enterprise_name": None}, [(2, "ENTERPRISE_NAME_MISSING", "enterprise_name")]),
    ({"enterprise_name": "名" * 201}, [(2, "TOO_LONG", "enterprise_name")]),
    ({"enterprise_uscc": "9" * 33}, [(2, "TOO_LONG", "enterprise_uscc")]),
    ({"enterprise_uscc": "9" * 32}, [(2, "USCC_FORMAT", "enterprise_uscc")]),
    ({"enterprise_uscc": FIRM_USCC[:-1] + "4"}, [(2, "USCC_CHECK_CHARACTER", "enterprise_uscc")]),
])
def test_the_business_columns(patch, expected) -> None:
    assert findings(enterprise("E-1", **patch)) == expected
    assert findings(sole_trader(0, "S-1", **patch)) == expected


def test_business_columns_on_a_persons_record_and_an_unknown_type() -> None:
    assert findings(person(0, enterprise_name="某公司")) == [(2, "ENTERPRISE_FIELDS_WITHOUT_TYPE", "enterprise_name")]
    # An unknown type is one finding; nothing that depends on the type fires beside it.
    assert findings(enterprise("E-1", borrower_type="Enterprise")) == [(2, "INVALID_ENUM", "borrower_type")]
