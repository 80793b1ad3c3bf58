"""Unified social credit codes (GB 32100-2015): the check character, as a scalar and as an expression."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openbureau.uscc import (
    ALPHABET,
    PROBLEMS,
    WEIGHTS,
    is_individual_business,
    normalise_uscc,
    normalise_uscc_expr,
    uscc_check_character,
    uscc_problem,
    uscc_problem_expr,
)

# Published codes of registered organisations (the example code printed with GB 32100-2015, and companies'
# codes as shown in the National Enterprise Credit Information Publicity System), and one code of an
# institution registered by a public-sector office (first character 1).
REAL_CODES = (
    "91350100M000100Y43",  # the standard's example
    "914403001922038216",  # Huawei Technologies Co., Ltd.
    "91440300708461136T",  # Shenzhen Tencent Computer Systems Co., Ltd.
    "91330100716105852F",  # Alibaba (China) Co., Ltd.
    "91110108551385082Q",  # Beijing Xiaomi Technology Co., Ltd.
    "91110000802100433B",  # Beijing Baidu Netcom Science and Technology Co., Ltd.
    "91310000717854505W",
    "91110000100010433L",
    "91110105771583283D",
    "91110108740084270C",
    "91110108735106340Y",
    "911101077776591113",
    "112302070019030687",
)


def test_the_weights_are_powers_of_three_mod_31() -> None:
    assert WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    assert len(ALPHABET) == 31 and not set("IOSVZ") & set(ALPHABET)


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_published_codes_are_valid(code: str) -> None:
    assert uscc_check_character(code[:17]) == code[17]
    assert uscc_problem(code) is None
    assert pl.select(uscc_problem_expr(pl.lit(code))).item() is None


@pytest.mark.parametrize("code", REAL_CODES)
def test_every_single_character_corruption_is_caught(code: str) -> None:
    """Any one character replaced by any other of the alphabet fails the format or the check character."""
    corrupted = [code[:i] + c + code[i + 1:] for i in range(18) for c in ALPHABET if c != code[i]]
    scalar = [uscc_problem(bad) for bad in corrupted]
    assert all(problem is not None for problem in scalar)
    assert {p[0] for p in scalar if p} <= {"USCC_FORMAT", "USCC_CHECK_CHARACTER"}
    expressed = pl.DataFrame({"code": corrupted}).select(uscc_problem_expr(pl.col("code"))).to_series().to_list()
    assert expressed == [p[0] for p in scalar if p]


def test_the_check_character_of_the_standards_example() -> None:
    assert uscc_check_character("91350100M000100Y4") == "3"
    with pytest.raises(ValueError):
        uscc_check_character("91350100M000100I4")  # I is not in the alphabet


@pytest.mark.parametrize(("raw", "problem"), [
    ("", "REQUIRED_MISSING"),
    ("9" * 33, "TOO_LONG"),
    ("91350100M000100Y4", "USCC_FORMAT"),  # 17 characters
    ("91350100M000100Y433", "USCC_FORMAT"),  # 19
    ("9135010OM000100Y43", "USCC_FORMAT"),  # letter O in the division
    ("91350100M000100I43", "USCC_FORMAT"),  # I is never used
    ("91350100M000100Y44", "USCC_CHECK_CHARACTER"),
    ("91350100'; DROP--Y", "USCC_FORMAT"),
])
def test_malformed_codes(raw: str, problem: str) -> None:
    assert uscc_problem(raw) == (problem, PROBLEMS[problem])
    assert pl.select(uscc_problem_expr(pl.lit(raw, dtype=pl.String))).item() == problem


def test_spaces_and_case_are_normalised_alike() -> None:
    furnished = " 9135 0100 m000 100y43\u3000"
    assert normalise_uscc(furnished) == "91350100M000100Y43"
    assert pl.select(normalise_uscc_expr(pl.lit(furnished))).item() == "91350100M000100Y43"


def test_individual_businesses_are_category_92() -> None:
    body = "92440300MA5EQ7X81"
    code = body + uscc_check_character(body)
    assert uscc_problem(code) is None and is_individual_business(code)
    assert not is_individual_business(REAL_CODES[1])


codes = st.one_of(st.sampled_from(REAL_CODES), st.text(ALPHABET + "IOSVZ ", min_size=0, max_size=20),
                  st.text(min_size=0, max_size=40))


@settings(max_examples=300, deadline=None)
@given(st.lists(codes, min_size=1, max_size=20))
def test_the_scalar_and_the_expression_agree(raw: list[str]) -> None:
    normalised = pl.DataFrame({"c": raw}, schema={"c": pl.String}).select(normalise_uscc_expr(pl.col("c")))
    assert normalised.to_series().to_list() == [normalise_uscc(c) for c in raw]
    expressed = normalised.select(uscc_problem_expr(pl.col("c"))).to_series().to_list()
    scalar = [uscc_problem(normalise_uscc(c)) for c in raw]
    assert expressed == [None if p is None else p[0] for p in scalar]
