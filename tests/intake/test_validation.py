"""The validation engine of furnishing standard v1: every rule's examples, identity checks, masking,
duplicates across chunks, typed output and the furnishing-format document."""

from __future__ import annotations

import json
import os
import random
import re
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from openbureau.consent.profiles import get_profile
from openbureau.documents import check_digit, check_digit_expr, resident_id
from openbureau.intake import standard
from openbureau.intake.validation import (
    BASE_RECORD,
    FINDINGS_SCHEMA,
    RULES,
    FileState,
    Rule,
    example_record,
    mask_value,
    validate_chunk,
)
from openbureau.intake.validation.borrowers import borrower_checks, enterprise_party_checks
from openbureau.intake.validation.catalogue import EXAMPLE_MEMBERS
from openbureau.intake.validation.cross_field import cross_field_checks
from openbureau.intake.validation.fields import field_checks
from openbureau.intake.validation.joint_lending import joint_lending_checks

TODAY = date(2026, 11, 22)
DOC = Path(__file__).resolve().parents[2] / "docs" / "furnishing-format.md"
RECORD_RULES = [rule for rule in RULES if rule.kind != "file"]


def chunk_of(records: list[dict[str, str | None]], *, first_line: int = 2) -> pl.DataFrame:
    """A chunk as the readers hand it over: `_line` plus every standard column as String."""
    frame = pl.DataFrame(records, schema={name: pl.String for name in standard.COLUMNS})
    lines = pl.Series("_line", range(first_line, first_line + len(records)), dtype=pl.Int64)
    return frame.insert_column(0, lines)


def validate(*records: dict[str, str | None], state: FileState | None = None, first_line: int = 2):
    return validate_chunk(chunk_of(list(records), first_line=first_line), today=TODAY, state=state,
                          members=EXAMPLE_MEMBERS)


def codes(result) -> set[str]:
    return set(result.findings["code"].to_list())


def test_base_record_has_no_findings() -> None:
    result = validate(BASE_RECORD)
    assert result.findings.height == 0
    assert result.records["_outcome"].to_list() == ["accepted"]


@pytest.mark.parametrize("rule", RECORD_RULES, ids=lambda rule: rule.code)
def test_rule_fail_example_triggers_it(rule: Rule) -> None:
    result = validate(example_record(rule.example_fail))
    found = result.findings.filter(pl.col("code") == rule.code)
    assert found.height >= 1, result.findings
    assert set(found["severity"].to_list()) == {rule.severity}
    assert set(found["field"].to_list()) <= set(rule.fields)
    expected = "rejected" if rule.severity == "error" else "warning"
    assert result.records["_outcome"].to_list() == [expected], result.findings


@pytest.mark.parametrize("rule", RECORD_RULES, ids=lambda rule: rule.code)
def test_rule_pass_example_does_not_trigger_it(rule: Rule) -> None:
    result = validate(example_record(rule.example_pass))
    assert rule.code not in codes(result), result.findings


def test_rule_codes_are_unique_and_well_formed() -> None:
    all_codes = [rule.code for rule in RULES]
    assert len(all_codes) == len(set(all_codes))
    for rule in RULES:
        assert re.fullmatch(r"[A-Z][A-Z0-9_]+", rule.code)
        assert rule.severity in ("error", "warning")
        assert rule.kind in ("field", "cross_field", "file")
        assert set(rule.fields) <= set(standard.COLUMNS)
        assert set(rule.example_fail) | set(rule.example_pass) <= set(standard.COLUMNS)


def test_every_record_rule_is_implemented_and_every_check_is_catalogued() -> None:
    checks = (field_checks() + cross_field_checks(today=TODAY, balance_tolerance=0.10)
              + joint_lending_checks(members=EXAMPLE_MEMBERS) + borrower_checks()
              + enterprise_party_checks())
    implemented = {check.code for check in checks}
    assert implemented == {rule.code for rule in RECORD_RULES}
    assert sum(rule.kind == "cross_field" for rule in RULES) >= 25


@pytest.mark.parametrize(
    "id_number", ["11010519491231002X", "110101199003070011", "440304198511220014", "310104197806150020"]
)
def test_check_digit_of_known_valid_ids(id_number: str) -> None:
    assert check_digit(id_number[:17]) == id_number[17]
    result = validate(example_record({"id_number": id_number, "birth_date": None}))
    assert not codes(result) & {"ID_FORMAT", "ID_CHECK_DIGIT", "ID_REGION", "ID_BIRTH_DATE_INVALID"}


def test_x_check_digit_is_accepted_in_either_case_and_a_wrong_one_is_caught() -> None:
    assert check_digit("11010519491231002") == "X"
    good = validate(example_record({"id_number": "11010519491231002x", "birth_date": "1949-12-31"}))
    assert good.findings.height == 0
    assert good.records["id_number"].to_list() == ["11010519491231002X"]
    bad = validate(example_record({"id_number": "110105194912310020", "birth_date": "1949-12-31"}))
    assert codes(bad) == {"ID_CHECK_DIGIT"}


def test_check_digit_expression_agrees_with_the_scalar_rule() -> None:
    rng = random.Random(11643)
    bodies = ["".join(rng.choice("0123456789") for _ in range(17)) for _ in range(500)]
    computed = pl.DataFrame({"n": [body + "0" for body in bodies]}).select(check_digit_expr(pl.col("n")))
    assert computed.to_series().to_list() == [check_digit(body) for body in bodies]
    with pytest.raises(ValueError):
        check_digit("1234")


def test_resident_id_checks_only_apply_to_resident_ids() -> None:
    other = validate(example_record({"id_type": "OTHER", "id_number": "HK-A123456(7)", "birth_date": "1990-01-01"}))
    assert other.findings.height == 0


def test_mask_value_keeps_only_a_few_characters() -> None:
    assert mask_value("11010519491231002X") == "110*************2X"
    assert mask_value("王小明") == "王**"
    assert mask_value("7") == "*"
    assert mask_value(None) is None
    values = ["11010519491231002X", "王小明", "ab", "7", None]
    masked = pl.DataFrame({"v": values}).select(mask_value(pl.col("v"))).to_series().to_list()
    assert masked == [mask_value(value) for value in values]


def test_personal_values_never_appear_in_findings() -> None:
    raw = {
        "id_number": "110101199003071234",  # wrong check digit
        "full_name": "欧阳" + "娜" * 120,  # too long
        "phone": "+86 555 0100 2000",  # not a CN mobile
        "address": "上海市浦东新区世纪大道" + "8" * 200,  # too long
        "birth_date": "1990-03-08",  # disagrees with the ID
    }
    result = validate(example_record(raw))
    assert codes(result) >= {"ID_CHECK_DIGIT", "TOO_LONG", "INVALID_PHONE", "ID_BIRTH_DATE_MISMATCH"}
    text = " ".join(result.findings.select(pl.concat_str("value", "message", ignore_nulls=True)).to_series())
    for value in raw.values():
        assert value not in text
    for row in result.findings.iter_rows(named=True):
        if standard.FIELD_BY_NAME[row["field"]].personal:
            assert row["value"] == mask_value(example_record(raw)[row["field"]])


def test_a_record_with_many_problems_collects_every_finding() -> None:
    record = example_record({
        "id_number": "110101199003071234",  # ID_CHECK_DIGIT
        "phone": "12345",  # INVALID_PHONE (warning)
        "currency": "yuan",  # INVALID_CURRENCY
        "balance": "12.50",  # INVALID_INTEGER
        "payment_status": "X",  # INVALID_ENUM
        "term_months": "0",  # TERM_MONTHS_OUT_OF_RANGE
        "past_due_amount": "5000",  # PAST_DUE_AMOUNT_WITHOUT_DPD
        "closed_on": "2026-09-10",  # CLOSED_ON_WHILE_OPEN
        "account_status": None,  # REQUIRED_MISSING
    })  # fmt: skip
    result = validate(record)
    assert codes(result) == {
        "ID_CHECK_DIGIT", "INVALID_PHONE", "INVALID_CURRENCY", "INVALID_INTEGER", "INVALID_ENUM",
        "TERM_MONTHS_OUT_OF_RANGE", "PAST_DUE_AMOUNT_WITHOUT_DPD", "REQUIRED_MISSING",
    }  # fmt: skip
    # account_status is missing, so nothing is said about closed_on against it: no derived noise.
    assert result.records["_outcome"].to_list() == ["rejected"]
    assert result.findings["line"].to_list() == [2] * result.findings.height
    assert set(result.findings["furnisher_account_id"].to_list()) == {"ACC-000123"}
    enum = result.findings.filter(pl.col("code") == "INVALID_ENUM").row(0, named=True)
    assert enum["value"] == "X" and "N, 1, 2" in enum["message"] and "payment_status" in enum["message"]


def test_duplicates_are_found_across_chunks_and_name_the_first_line() -> None:
    def account(account_id: str, period: str = "2026-09") -> dict[str, str | None]:
        return example_record({"furnisher_account_id": account_id, "reporting_period": period})

    state = FileState()
    first = validate(account("A"), account("B"), account("B", "2026-08"), state=state, first_line=2)
    assert "DUPLICATE_IN_FILE" not in codes(first)
    second = validate(account("C"), account("A"), account("C"), account("D"), state=state, first_line=5)
    duplicates = second.findings.filter(pl.col("code") == "DUPLICATE_IN_FILE")
    assert duplicates["line"].to_list() == [6, 7]
    assert duplicates["severity"].to_list() == ["error", "error"]
    assert "line 2" in duplicates["message"][0] and "line 5" in duplicates["message"][1]
    assert second.records["_outcome"].to_list() == ["accepted", "rejected", "rejected", "accepted"]
    assert state.key_count == 5
    assert state.nbytes == 16 * state.key_count


def test_file_state_stays_sorted_and_bounded_over_many_chunks() -> None:
    state = FileState()
    lines = 2
    for index in range(12):
        records = [example_record({"furnisher_account_id": f"ACC-{index}-{n}"}) for n in range(50)]
        result = validate(*records, state=state, first_line=lines)
        assert "DUPLICATE_IN_FILE" not in codes(result)
        lines += len(records)
    repeat = validate(example_record({"furnisher_account_id": "ACC-3-7"}), state=state, first_line=lines)
    assert "line 159" in repeat.findings.filter(pl.col("code") == "DUPLICATE_IN_FILE")["message"][0]
    assert state.key_count == 600
    assert state.run_count <= 4


def test_without_a_state_duplicates_are_found_within_the_chunk() -> None:
    result = validate(BASE_RECORD, BASE_RECORD)
    assert result.findings["code"].to_list() == ["DUPLICATE_IN_FILE"]
    assert result.findings["line"].to_list() == [3]


def test_typed_output_columns_and_dtypes() -> None:
    record = example_record({
        "id_number": "1101 0119 9003 0712 33", "currency": "cny", "correction": "1", "term_months": "036",
        "balance": "-5", "opened_on": "2024-1-5",
    })  # fmt: skip
    result = validate(record)
    records = result.records
    assert records.columns == ["_line", *standard.COLUMNS, "_outcome"]
    expected = {"_line": pl.Int64, "_outcome": pl.String}
    for field in standard.FIELDS:
        expected[field.name] = {
            standard.FieldType.DATE: pl.Date, standard.FieldType.AMOUNT: pl.Int64,
            standard.FieldType.INTEGER: pl.Int64,
        }.get(field.type, pl.String)  # fmt: skip
    expected["correction"] = pl.Int8
    assert dict(records.schema) == expected
    row = records.row(0, named=True)
    assert row["id_number"] == "110101199003071233"
    assert row["currency"] == "CNY"
    assert row["correction"] == 1
    assert row["term_months"] == 36
    assert row["balance"] is None and row["opened_on"] is None  # unparsable or negative: null, and reported
    assert row["birth_date"] == date(1990, 3, 7)
    assert row["reporting_period"] == "2026-09"
    assert codes(result) == {"NEGATIVE_AMOUNT", "INVALID_DATE"}
    assert dict(result.findings.schema) == FINDINGS_SCHEMA


def test_records_keep_the_order_of_the_chunk_and_empty_chunks_work() -> None:
    records = [example_record({"furnisher_account_id": f"ACC-{n}", "balance": str(n)}) for n in range(30)]
    records[7]["balance"] = "oops"
    result = validate(*records, first_line=100)
    assert result.records["_line"].to_list() == list(range(100, 130))
    assert result.records["furnisher_account_id"].to_list() == [f"ACC-{n}" for n in range(30)]
    assert result.records["_outcome"][7] == "rejected"
    assert result.findings["line"].to_list() == [107]
    empty = validate()
    assert empty.records.height == 0 and empty.findings.height == 0
    assert dict(empty.findings.schema) == FINDINGS_SCHEMA


def test_a_chunk_without_a_standard_column_is_refused() -> None:
    with pytest.raises(ValueError, match="balance"):
        validate_chunk(chunk_of([BASE_RECORD]).drop("balance"), today=TODAY)


def test_balance_tolerance_is_a_parameter() -> None:
    card = example_record({"product_type": "credit_card", "original_amount": None, "term_months": None,
                           "credit_limit": "2000000", "balance": "2100000"})  # fmt: skip
    strict = validate_chunk(chunk_of([card]), today=TODAY, balance_tolerance=0.0)
    lenient = validate_chunk(chunk_of([card]), today=TODAY, balance_tolerance=0.10)
    assert "BALANCE_OVER_LIMIT" in codes(strict)
    assert "BALANCE_OVER_LIMIT" not in codes(lenient)


def test_banned_attributes_reject_the_whole_file() -> None:
    from openbureau.intake.errors import FileRejected
    from openbureau.intake.files import check_columns

    with pytest.raises(FileRejected) as refused:
        check_columns([*standard.COLUMNS, "blood_type"])
    assert refused.value.code == "BANNED_ATTRIBUTE"


def test_base_record_id_is_generated_from_documented_parts() -> None:
    assert BASE_RECORD["id_number"] == resident_id("110101", "19900307", "123") == "110101199003071233"


def test_document_mentions_every_rule_and_every_column() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing_codes = [rule.code for rule in RULES if f"`{rule.code}`" not in text]
    missing_columns = [name for name in standard.COLUMNS if f"`{name}`" not in text]
    assert not missing_codes, missing_codes
    assert not missing_columns, missing_columns
    for word in standard.BANNED_ATTRIBUTE_WORDS:
        assert word in text


MESSAGES = Path(__file__).with_name("rule_messages.json")


def _said(rule: Rule, profile: str = "CN") -> list[dict[str, str | None]]:
    chunk = chunk_of([example_record(rule.example_fail)])
    found = validate_chunk(chunk, today=TODAY, profile=get_profile(profile), members=EXAMPLE_MEMBERS).findings.filter(
        pl.col("code") == rule.code)
    return found.select("field", "value", "message").sort("field", "message").to_dicts()


def test_every_rule_says_what_is_wrong_in_the_words_the_furnisher_reads() -> None:
    """Each rule's finding on its failing example (field, value shown, message), as furnishers read it in
    their findings: pinned in rule_messages.json. Where the US profile says otherwise (or says nothing), its
    words are pinned too, under ``US:<code>``. After changing a message on purpose, rewrite the file with
    ``OPENBUREAU_UPDATE_MESSAGES=1 pytest tests/intake/test_validation.py -k words`` and review the diff."""
    said = {rule.code: _said(rule) for rule in RECORD_RULES}
    said |= {f"US:{rule.code}": us for rule in RECORD_RULES if (us := _said(rule, "US")) != said[rule.code]}
    if os.environ.get("OPENBUREAU_UPDATE_MESSAGES") == "1":
        MESSAGES.write_text(json.dumps(said, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    assert said == json.loads(MESSAGES.read_text(encoding="utf-8"))


CARD = {"product_type": "credit_card", "credit_limit": "2000000", "original_amount": None, "term_months": None}
UTILITY = {"product_type": "utility", "original_amount": None, "term_months": None, "balance": "0",
           "amount_due": "5000", "amount_paid": "5000"}


@pytest.mark.parametrize(("patch", "code", "fires"), [
    ({**UTILITY, "credit_limit": "0"}, "NON_CREDIT_WITH_CREDIT_TERMS", False),  # a zero limit is no credit term
    ({**UTILITY, "credit_limit": "1"}, "NON_CREDIT_WITH_CREDIT_TERMS", True),
    ({**CARD, "credit_limit": "0"}, "CREDIT_LIMIT_MISSING", True),  # zero is as missing as empty
    ({**CARD, "credit_limit": "1", "balance": "1"}, "CREDIT_LIMIT_MISSING", False),
    ({"payment_status": "C", "account_status": "closed", "closed_on": "2026-09-20", "balance": "1"},
     "SETTLED_WITH_BALANCE", True),  # one fen left is a balance
    ({"payment_status": "C", "account_status": "closed", "closed_on": "2026-09-20", "balance": "0"},
     "SETTLED_WITH_BALANCE", False),
    ({"payment_status": "D", "days_past_due": "0", "past_due_amount": "0"}, "NEGATIVE_NOTICE_MISSING", True),
    ({"id_number": "11010119900307123"}, "ID_CHECK_DIGIT", False),  # malformed: ID_FORMAT alone says so
    ({"id_type": "OTHER", "id_number": "110101199003071230"}, "ID_CHECK_DIGIT", False),  # not a resident ID
], ids=lambda v: v if isinstance(v, str) else None)
def test_rules_at_their_boundaries(patch, code, fires) -> None:
    assert (code in codes(validate(example_record(patch)))) is fires


def test_a_notice_dated_today_is_after_the_period_but_not_in_the_future() -> None:
    found = codes(validate(example_record({"payment_status": "2", "days_past_due": "45", "past_due_amount": "112000",
                                           "first_delinquency_date": "2026-08-17",
                                           "negative_notice_date": TODAY.isoformat()})))
    assert "NOTICE_AFTER_PERIOD" in found and "NOTICE_IN_FUTURE" not in found
