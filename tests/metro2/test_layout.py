"""The field table against the published CRRG positions."""

from openbureau.intake import standard
from openbureau.metro2 import layout, mapping


def test_every_segment_has_its_crrg_length_and_contiguous_fields() -> None:
    lengths = {"header": 426, "base": 426, "trailer": 426, "J1": 100, "J2": 200, "K1": 34, "K2": 34, "K3": 40,
               "K4": 30, "L1": 54, "N1": 146}
    for name, segment in layout.SEGMENTS.items():
        assert segment.length == lengths[name]
        position = 0
        for f in segment.fields:
            assert f.start == position
            position = f.end
        assert position == segment.length


def test_base_segment_positions_of_key_fields() -> None:
    # 1-based CRRG positions: account status 124-125, payment history profile 127-150, ECOA 325,
    # date of first delinquency 190-197, surname 232-256
    base = layout.BASE
    assert (base.field("account_status").start + 1, base.field("account_status").length) == (124, 2)
    assert (base.field("payment_history_profile").start + 1, base.field("payment_history_profile").length) == (127, 24)
    assert base.field("ecoa_code").start + 1 == 325
    assert base.field("date_of_first_delinquency").start + 1 == 190
    assert base.field("surname").start + 1 == 232
    assert layout.TRAILER.field("total_telephone_numbers_all_segments").start + 1 == 399


def test_mapping_speaks_the_standards_column_names() -> None:
    from openbureau.metro2 import read_bytes
    from tests.metro2.factories import valid_file

    record = next(r for r in read_bytes(valid_file()) if r.kind == "base")
    row = mapping.to_standard(record)
    # Metro 2 carries persons' accounts only: the v1.1 business columns are left empty (intake fills them).
    business = ("borrower_type", "enterprise_uscc", "enterprise_name")
    assert [c for c in row if not c.startswith("metro2_")] == [c for c in standard.COLUMNS if c not in business]
    assert set(mapping.ACCOUNT_STATUS.values()) <= set(standard.ACCOUNT_STATUSES)
    assert {s for _, s in mapping.DELINQUENCY.values()} | set(mapping.PAID_STATUS.values()) <= set(standard.PAYMENT_STATUSES)
    assert set(mapping.ACCOUNT_TYPE_PRODUCT.values()) | set(mapping.PORTFOLIO_PRODUCT.values()) <= set(standard.PRODUCT_TYPES)
    assert set(layout.ACCOUNT_STATUSES) == set(mapping.ACCOUNT_STATUS)


def test_docs_list_every_field_and_code() -> None:
    from pathlib import Path

    from openbureau.metro2.errors import CODES

    doc = (Path(__file__).resolve().parents[2] / "docs" / "metro2.md").read_text()
    for segment in layout.SEGMENTS.values():
        assert f"#### {segment.name} ({segment.length} characters)" in doc
        for f in segment.fields:
            assert f"| `{f.name}` | {f.start + 1}-{f.end} | {f.length} |" in doc
    for code in CODES:
        assert f"`{code}`" in doc
    for code in (*mapping.ACCOUNT_STATUS, *mapping.ECOA, *mapping.COMPLIANCE_CONDITION):
        assert code in doc
