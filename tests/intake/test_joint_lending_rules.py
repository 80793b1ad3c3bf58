"""Standard v1.1 rules beyond their catalogue examples: one owner per mistake, personal values masked, member
codes checked fail-closed, v1 chunks untouched, and the share and group rules against generated records."""

from __future__ import annotations

from datetime import date

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from openbureau.intake import standard
from openbureau.intake.validation import BASE_RECORD, example_record, validate_chunk
from openbureau.intake.validation.catalogue import EXAMPLE_MEMBERS, FUNDED, GUARANTOR

TODAY = date(2026, 11, 22)


def _validate(*records, members=EXAMPLE_MEMBERS):
    frame = pl.DataFrame(list(records), schema={name: pl.String for name in standard.COLUMNS})
    chunk = frame.insert_column(0, pl.Series("_line", range(2, 2 + len(records)), dtype=pl.Int64))
    return validate_chunk(chunk, today=TODAY, members=members)


def _found(result) -> list[tuple[str, str]]:
    return sorted(zip(result.findings["code"].to_list(), result.findings["field"].to_list(), strict=True))


def test_a_joint_record_with_everything_right_has_no_findings() -> None:
    result = _validate(example_record(FUNDED | GUARANTOR | {"facilitator_code": "PLATFORM01"}))
    assert result.findings.height == 0 and result.records["_outcome"].to_list() == ["accepted"]


def test_an_unreadable_share_is_reported_once_by_its_field_rule() -> None:
    assert _found(_validate(example_record(FUNDED | {"funder_1_share": "-7000"}))) == [
        ("NEGATIVE_AMOUNT", "funder_1_share")]
    assert _found(_validate(example_record(FUNDED | {"funder_1_share": "70%"}))) == [
        ("INVALID_INTEGER", "funder_1_share")]


def test_an_unknown_role_is_party_role_invalid_only() -> None:
    assert _found(_validate(example_record(GUARANTOR | {"party_1_role": "Guarantor"}))) == [
        ("PARTY_ROLE_INVALID", "party_1_role")]


def test_member_codes_are_checked_fail_closed() -> None:
    """Without the registered members, no code is a member: nothing unknown loads unnoticed."""
    result = _validate(example_record(FUNDED), members=())
    assert _found(result) == [("FUNDER_UNKNOWN", "funder_1_code"), ("FUNDER_UNKNOWN", "funder_2_code")]


def test_personal_values_of_a_party_are_masked_in_findings() -> None:
    bad = example_record(GUARANTOR | {"party_1_birth_date": "1985-02-30", "party_1_full_name": "李" * 101,
                                      "party_1_id_number": "110101198501010010"})
    findings = _validate(bad).findings
    shown = dict(zip(findings["field"].to_list(), findings["value"].to_list(), strict=True))
    assert shown["party_1_birth_date"] == "198*******30"[:3] + "*" * 5 + "30"
    assert shown["party_1_full_name"] == "李" * 3 + "*" * 96 + "李" * 2
    assert shown["party_1_id_number"] == "110*************10"
    text = findings.write_csv()
    assert "1985-02-30" not in text and "110101198501010010" not in text


def test_a_guarantee_may_equal_the_limit_of_a_card_but_not_exceed_it() -> None:
    card = {"product_type": "credit_card", "original_amount": None, "term_months": None, "credit_limit": "5000000"}
    assert _found(_validate(example_record(card | GUARANTOR | {"party_1_liability": "5000000"}))) == []
    assert _found(_validate(example_record(card | GUARANTOR | {"party_1_liability": "5000001"}))) == [
        ("PARTY_LIABILITY_EXCEEDS", "party_1_liability")]


def test_a_v1_chunk_gives_the_v1_findings_and_null_v1_1_columns() -> None:
    late = example_record({"furnisher_account_id": "ACC-2", "payment_status": "1", "days_past_due": "45"})
    result = _validate(BASE_RECORD, late, members=())
    assert set(result.findings["code"]) == {"STATUS_DPD_MISMATCH", "DPD_WITHOUT_PAST_DUE_AMOUNT",
                                            "DELINQUENCY_DATE_MISSING", "NEGATIVE_NOTICE_MISSING"}
    assert all(result.records[c].null_count() == 2 for c in standard.JOINT_LENDING_COLUMNS)


@settings(max_examples=60, deadline=None)
@given(shares=st.lists(st.integers(1, 10_000), min_size=1, max_size=standard.MAX_FUNDERS))
def test_shares_must_add_up_to_exactly_10000(shares: list[int]) -> None:
    codes = ["BANK01", "BANK02", "PLATFORM01", "F4", "F5"]
    patch = {}
    for n, share in enumerate(shares, start=1):
        patch |= {f"funder_{n}_code": codes[n - 1], f"funder_{n}_share": str(share)}
    members = set(codes)
    codes_found = {c for c, _ in _found(_validate(example_record(patch), members=members))}
    assert ("FUNDER_SHARES_NOT_100" in codes_found) == (sum(shares) != 10_000)
    assert codes_found <= {"FUNDER_SHARES_NOT_100"}


@settings(max_examples=60, deadline=None)
@given(given_suffixes=st.sets(st.sampled_from(standard.PARTY_SUFFIXES)))
def test_a_party_group_is_whole_or_empty(given_suffixes: set[str]) -> None:
    patch = {k: v for k, v in GUARANTOR.items() if k.removeprefix("party_1_") in given_suffixes}
    found = _found(_validate(example_record(patch)))
    missing = {s for s in ("role", "id_type", "id_number", "full_name", "birth_date") if s not in given_suffixes}
    expected = sorted(("PARTY_GROUP_INCOMPLETE", f"party_1_{s}") for s in missing) if given_suffixes else []
    assert [f for f in found if f[0] == "PARTY_GROUP_INCOMPLETE"] == expected
