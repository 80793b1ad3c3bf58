"""Identity documents: one normalisation and one set of well-formedness rules, as a scalar and as an expression."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from openbureau.documents import (
    ID_TYPES,
    PROBLEMS,
    id_problem,
    id_problem_expr,
    normalise_id,
    normalise_id_number,
    resident_id,
)

# Numbers near the rules' edges: resident IDs with any check character, region and date, passports, junk.
digits = st.text("0123456789", min_size=17, max_size=17)
resident_like = st.builds(lambda body, end: body + end, digits, st.sampled_from("0123456789X"))
valid_residents = st.builds(lambda r, y, m, d, s: resident_id(r, f"{y:04d}{m:02d}{d:02d}", f"{s:03d}"),
                            st.sampled_from(["110101", "440304", "990101", "310104"]),
                            st.integers(1900, 2030), st.integers(0, 13), st.integers(0, 32), st.integers(0, 999))
numbers = st.one_of(resident_like, valid_residents, st.text(min_size=0, max_size=40),
                    st.text("ABCDEFGHXYZ0123456789 -", min_size=0, max_size=14))


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([*ID_TYPES, "BOGUS"]), numbers), min_size=1, max_size=20))
def test_the_scalar_and_the_expression_agree(pairs) -> None:
    frame = pl.DataFrame({"t": [t for t, _ in pairs], "n": [n for _, n in pairs]},
                         schema={"t": pl.String, "n": pl.String})
    normalised = frame.select(pl.col("t"), normalise_id_number(pl.col("n")).alias("n"))
    assert normalised["n"].to_list() == [normalise_id(n) for _, n in pairs]
    codes = normalised.select(id_problem_expr(pl.col("t"), pl.col("n"))).to_series().to_list()
    scalar = [id_problem(t, n) for t, n in normalised.iter_rows()]
    assert codes == [None if p is None else p[0] for p in scalar]
    assert all(p is None or p[1] == PROBLEMS[p[0]] for p in scalar)


def test_a_well_formed_resident_id_has_no_problem_and_each_defect_its_code() -> None:
    good = resident_id("110101", "19900307", "123")
    assert id_problem("CN_RESIDENT_ID", good) is None
    assert id_problem("CN_RESIDENT_ID", good[:17] + ("0" if good[17] != "0" else "1"))[0] == "ID_CHECK_DIGIT"
    assert id_problem("CN_RESIDENT_ID", "１１０１０１１９９００３０７１２３Ｘ")[0] == "ID_FORMAT"  # full-width digits
    assert id_problem("OTHER", "CUST-000123") is None and id_problem("OTHER", "")[0] == "REQUIRED_MISSING"
