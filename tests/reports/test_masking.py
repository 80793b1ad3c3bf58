"""Masking: what a lender may not see of other lenders and of a person's identifiers, at its edges."""

from __future__ import annotations

import polars as pl
import pytest

from openbureau.intake.validation.fields import mask_value
from openbureau.kit.crypto import mask
from openbureau.reports.assembly import SELF_LABEL, Labels
from openbureau.reports.schemas import View

MEMBERS = {1: ("BANK_A", "Bank A Ltd"), 2: ("OTHER", "Other Ltd"), 3: ("TELCO", "Telco Ltd")}


def test_a_subscriber_sees_its_own_code_and_every_other_lender_numbered_by_first_appearance() -> None:
    labels = Labels(view=View.SUBSCRIBER, viewer_id=1, members=MEMBERS)
    assert [labels(m) for m in (3, 1, 2, 3, 99, 2)] == ["Lender 1", "BANK_A", "Lender 2", "Lender 1", "Lender 3",
                                                         "Lender 2"]
    assert labels(None) == "the bureau"
    assert labels.own(1) and not labels.own(2) and not labels.own(None)


def test_a_subscriber_that_is_no_member_of_the_file_sees_every_lender_masked() -> None:
    labels = Labels(view=View.SUBSCRIBER, viewer_id=None, members=MEMBERS)
    assert [labels(m) for m in (1, 2)] == ["Lender 1", "Lender 2"] and not labels.own(None)


def test_the_person_sees_every_lender_by_name_and_code() -> None:
    labels = Labels(view=View.CONSUMER, viewer_id=None, members=MEMBERS)
    assert [labels(m) for m in (1, 3, None, 99)] == ["Bank A Ltd (BANK_A)", "Telco Ltd (TELCO)", SELF_LABEL,
                                                       "member 99 (member 99)"]


@pytest.mark.parametrize("value, shown", [
    ("11010519491231002X", "110*************2X"), ("123456", "123*56"), ("12345", "*" * 5), ("1234", "*" * 4),
    ("", ""), (None, None), ("abcdef", "abc*ef"),
])
def test_mask_keeps_three_characters_at_the_start_and_two_at_the_end(value, shown) -> None:
    assert mask(value) == shown
    assert mask("abcdefgh", keep_start=1, keep_end=3) == "a****fgh"


@pytest.mark.parametrize("value, shown", [
    ("12345678", "123***78"), ("1234567", "1******"), ("12", "1*"), ("7", "*"), ("", ""), (None, None),
])
def test_a_value_quoted_in_a_finding_is_masked_alike_in_python_and_in_polars(value, shown) -> None:
    assert mask_value(value) == shown
    frame = pl.DataFrame({"v": [value]}, schema={"v": pl.String})
    assert frame.select(mask_value(pl.col("v"))).item() == shown
