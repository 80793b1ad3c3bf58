"""Rule 5 of the tradelines: one loan reported by its facilitator and by a funder is one tradeline, so the
signals and the score's features count it once."""

from __future__ import annotations

from datetime import UTC, datetime

from openbureau.policy import SignalSettings
from openbureau.scoring.features import point_in_time
from openbureau.signals.service import monthly_obligations, multi_lending
from openbureau.tradelines.history import build_tradelines
from tests.tradelines.factories import TODAY, row
from tests.tradelines.test_history import IdRow

PLATFORM, BANK, OTHER = 1, 2, 3
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _loan(furnisher: int, account: str, **kwargs) -> list:
    return [row(p, account=account, furnisher=furnisher, product="installment", opened_on="2026-08-03",
                credit_limit=None, amount_due=50_000, **kwargs) for p in ("2026-09", "2026-10")]


def _lines(rows: list):
    return build_tradelines(rows, as_of=TODAY, retention_years=5)


def test_a_funders_record_folds_into_the_facilitators_record_of_the_same_loan() -> None:
    rows = _loan(PLATFORM, "P-1") + _loan(BANK, "B-9", facilitator=PLATFORM, facilitator_account="P-1")
    lines = _lines(rows)
    assert [(t.furnisher_id, t.account_id, t.funder_records, t.facilitator) for t in lines] == [
        (PLATFORM, "P-1", [(BANK, "B-9")], None)]
    # The identity descriptions of the funder's record stay in the file (names and phones reported by lenders).
    described = [IdRow(*r, identity_enc=f"{r.furnisher_id}".encode()) for r in rows]
    (line,) = build_tradelines(described, as_of=TODAY, retention_years=5, with_identity=True)
    assert sorted({furnisher for _, furnisher, _ in line.identities}) == [PLATFORM, BANK]


def test_a_funders_record_stands_alone_when_the_facilitators_record_is_not_in_the_file() -> None:
    # Not furnished, another account number, or withdrawn (deleted) by the facilitator: the loan is still shown once.
    for platform in ([], _loan(PLATFORM, "P-2"), _loan(PLATFORM, "P-1", account_status="deleted")):
        lines = _lines(platform + _loan(BANK, "B-9", facilitator=PLATFORM, facilitator_account="P-1"))
        bank = [t for t in lines if t.furnisher_id == BANK]
        assert [(t.account_id, t.facilitator, t.funder_records) for t in bank] == [("B-9", (PLATFORM, "P-1"), [])]


def test_a_record_naming_its_own_furnisher_as_facilitator_is_its_own_loan() -> None:
    lines = _lines(_loan(PLATFORM, "P-1", facilitator=PLATFORM, facilitator_account="P-1"))
    assert [(t.account_id, t.facilitator) for t in lines] == [("P-1", None)]


def test_only_the_newest_record_decides_and_two_funders_fold_into_one_loan() -> None:
    rows = (_loan(PLATFORM, "P-1") + _loan(BANK, "B-9", facilitator=PLATFORM, facilitator_account="P-1")
            + _loan(OTHER, "O-3", facilitator=PLATFORM, facilitator_account="P-1"))
    assert [(t.account_id, sorted(t.funder_records)) for t in _lines(rows)] == [
        ("P-1", [(BANK, "B-9"), (OTHER, "O-3")])]
    # A correction that drops the facilitator makes the bank's record a loan of its own again.
    corrected = [r._replace(version=2, facilitator_id=None, facilitator_account_id=None)
                 for r in _loan(BANK, "B-9")]
    lines = _lines(_loan(PLATFORM, "P-1") + _loan(BANK, "B-9", facilitator=PLATFORM, facilitator_account="P-1")
                   + corrected)
    assert sorted(t.account_id for t in lines) == ["B-9", "P-1"]


def test_signals_and_features_count_a_jointly_reported_loan_once() -> None:
    rows = _loan(PLATFORM, "P-1") + _loan(BANK, "B-9", facilitator=PLATFORM, facilitator_account="P-1")
    lines = _lines(rows)
    assert monthly_obligations(lines, currency="CNY") == 50_000
    signal = multi_lending(tradelines=lines, hard_inquiries=[], now=NOW, settings=SignalSettings())
    assert max(v for k, v in signal.values.items() if k.startswith("lenders_")) == 1
    features = point_in_time(lines, hard_inquiries=[], observed=TODAY)
    apart = point_in_time(_lines(_loan(PLATFORM, "P-1") + _loan(BANK, "B-9")), hard_inquiries=[], observed=TODAY)
    assert features == point_in_time(_lines(_loan(PLATFORM, "P-1")), hard_inquiries=[], observed=TODAY)
    assert features != apart  # the same two records without the facilitator's key are two loans
