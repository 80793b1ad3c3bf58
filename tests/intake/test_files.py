"""Column admissibility: banned attributes by whole word, required columns, unknown columns."""

from __future__ import annotations

import pytest

from openbureau.intake import standard
from openbureau.intake.errors import FileRejected
from openbureau.intake.files import banned_columns, check_columns


def test_banned_attributes_match_whole_words_and_chinese_terms() -> None:
    names = ["general_note", "generated_at", "blood_type", "Religion", "genetic-test", "bloodGroup",
             "HealthScore", "客户血型", "medical_history", "dna_sample", "faith", "branch_code"]
    assert banned_columns(names) == ["blood_type", "Religion", "genetic-test", "bloodGroup", "HealthScore",
                                     "客户血型", "medical_history", "dna_sample", "faith"]


def test_unknown_columns_are_returned_and_missing_ones_refused() -> None:
    assert check_columns([*standard.COLUMNS, "branch_code"]) == ["branch_code"]
    with pytest.raises(FileRejected) as err:
        check_columns([c for c in standard.COLUMNS if c != "balance"])
    assert err.value.code == "FILE_MISSING_COLUMNS" and err.value.field == "balance"
