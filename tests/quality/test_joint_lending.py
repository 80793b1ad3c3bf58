"""Joint lending in the quality figures, on hand-built frames: the two joint-loan under-reporting codes (a
platform whose files lack the loans its funding bank reports, a bank that reports none of the loans a platform
lists it as funding) and each funder's exposure to each facilitator's loans, small cells suppressed."""

from __future__ import annotations

import polars as pl

from openbureau.accounts.funding_repository import EXPOSURE_SCHEMA
from openbureau.quality.exposure import funder_exposure
from openbureau.quality.under_reporting import (
    CLAIM_SCHEMA,
    JOINT_LOAN_NOT_REPORTED_BY_FACILITATOR,
    JOINT_LOAN_NOT_REPORTED_BY_FUNDER,
    LISTING_SCHEMA,
    UnderReportingInputs,
    UnderReportingRules,
    under_reporting,
)

PLATFORM, BANK, SILENT, INQUIRER = 1, 2, 3, 4  # INQUIRER funds loans but furnishes no file
LOANS = 40
MEMBERS = pl.DataFrame({"furnisher_id": [PLATFORM, BANK, SILENT, INQUIRER],
                        "furnisher": ["PLATFORM", "BANK", "SILENT", "INQUIRER"]})


def _inputs(*, platform_has: int = LOANS, platform_last: str = "2026-03", bank_reports: int = LOANS,
            silent_last: str | None = "2026-03") -> UnderReportingInputs:
    claims, listings = [], []
    for i in range(LOANS):
        for period in ("2026-02", "2026-03"):
            for funder in (BANK, SILENT, INQUIRER):
                listings.append((PLATFORM, f"PL-{i:05d}", period, funder, 100 + i, "PLATFORM"))
            if i < bank_reports:
                claims.append((BANK, f"BK-{i:05d}", period, PLATFORM, f"PL-{i:05d}", int(i < platform_has), 100 + i))
    last = [(PLATFORM, platform_last), (BANK, "2026-03")] + ([(SILENT, silent_last)] if silent_last else [])
    empty = pl.DataFrame
    return UnderReportingInputs(
        accounts=empty(schema={"furnisher_id": pl.Int64, "furnisher_account_id": pl.String, "person_id": pl.Int64,
                               "opened_on": pl.Date, "last_period": pl.String}),
        last_filed=empty(last, schema={"furnisher_id": pl.Int64, "last_period": pl.String}, orient="row"),
        inquiries=empty(schema={"inquiry_id": pl.Int64, "furnisher_id": pl.Int64, "person_id": pl.Int64,
                                "created_at": pl.Datetime("us", "UTC")}),
        events=empty(schema={"event_row_id": pl.Int64, "furnisher_id": pl.Int64, "furnisher_account_id": pl.String,
                             "person_id": pl.Int64, "occurred_at": pl.Datetime("us", "UTC")}),
        consents=empty(schema={"consent_id": pl.Int64, "furnisher_id": pl.Int64, "consent_ref": pl.String,
                               "person_id": pl.Int64, "recorded_at": pl.Datetime("us", "UTC")}),
        furnished=empty(schema={"furnisher_id": pl.Int64, "person_id": pl.Int64}),
        furnished_refs=empty(schema={"furnisher_id": pl.Int64, "consent_ref": pl.String}),
        claims=empty(claims, schema=CLAIM_SCHEMA, orient="row"),
        listings=empty(listings, schema=LISTING_SCHEMA, orient="row"))


def _finding(inputs: UnderReportingInputs, furnisher: int, code: str) -> dict | None:
    found, _ = under_reporting(inputs, UnderReportingRules())
    rows = found.filter((pl.col("furnisher_id") == furnisher) & (pl.col("code") == code)).to_dicts()
    return rows[0] if rows else None


def test_a_platform_whose_files_lack_the_loans_its_funder_reports_is_flagged() -> None:
    inputs = _inputs(platform_has=10)
    found = _finding(inputs, PLATFORM, JOINT_LOAN_NOT_REPORTED_BY_FACILITATOR)
    assert (found["observations"], found["count"], found["persons"], found["flagged"]) == (LOANS, 30, 30, True)
    _, examples = under_reporting(inputs, UnderReportingRules())
    shown = examples.filter(pl.col("code") == JOINT_LOAN_NOT_REPORTED_BY_FACILITATOR)
    # The platform's own account numbers, masked; the first missing period dates each.
    assert len(shown) == 3 and shown["furnisher_id"].unique().to_list() == [PLATFORM]
    assert all(r.startswith("PL-***") and int(r[-2:]) >= 10 for r in shown["reference"])
    assert str(shown["on"][0]) == "2026-02-01"
    # A platform holding every loan is not charged; nor is one whose file of the period has not arrived yet.
    assert _finding(_inputs(), PLATFORM, JOINT_LOAN_NOT_REPORTED_BY_FACILITATOR)["count"] == 0
    late = _finding(_inputs(platform_has=10, platform_last="2026-02"), PLATFORM, JOINT_LOAN_NOT_REPORTED_BY_FACILITATOR)
    assert (late["observations"], late["count"]) == (LOANS, 30)  # judged on February only
    assert _finding(_inputs(platform_has=10, platform_last="2026-01"), PLATFORM,
                    JOINT_LOAN_NOT_REPORTED_BY_FACILITATOR) is None


def test_a_funder_that_furnishes_but_reports_none_of_its_funded_loans_is_flagged() -> None:
    inputs = _inputs(bank_reports=30)
    bank = _finding(inputs, BANK, JOINT_LOAN_NOT_REPORTED_BY_FUNDER)
    assert (bank["observations"], bank["count"], bank["flagged"]) == (LOANS, 10, True)
    silent = _finding(inputs, SILENT, JOINT_LOAN_NOT_REPORTED_BY_FUNDER)
    assert (silent["observations"], silent["count"], silent["flagged"]) == (LOANS, LOANS, True)
    # A funding bank that furnishes no file at all is not judged: it has no files to lack a loan.
    assert _finding(inputs, INQUIRER, JOINT_LOAN_NOT_REPORTED_BY_FUNDER) is None
    assert _finding(_inputs(silent_last=None), SILENT, JOINT_LOAN_NOT_REPORTED_BY_FUNDER) is None
    _, examples = under_reporting(inputs, UnderReportingRules())
    shown = examples.filter((pl.col("code") == JOINT_LOAN_NOT_REPORTED_BY_FUNDER) & (pl.col("furnisher_id") == BANK))
    assert len(shown) == 3 and all(r.startswith("PLATFORM PL-***") and int(r[-2:]) >= 30 for r in shown["reference"])
    assert _finding(_inputs(), BANK, JOINT_LOAN_NOT_REPORTED_BY_FUNDER)["count"] == 0


def _exposure_rows(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=EXPOSURE_SCHEMA, orient="row")


def test_each_funders_exposure_to_each_facilitator_counts_a_loan_once_and_suppresses_small_cells() -> None:
    rows = []
    for i in range(12):
        dpd = 15 if i < 3 else 0
        # The platform's record lists both funders; the bank's own record of the same loan lists itself too.
        rows += [(PLATFORM, f"P-{i}", None, None, 100 + i, 1_000_000, dpd, 0, BANK, 7000),
                 (PLATFORM, f"P-{i}", None, None, 100 + i, 1_000_000, dpd, 0, SILENT, 3000),
                 (BANK, f"B-{i}", PLATFORM, f"P-{i}", 100 + i, 1_000_000, dpd, 0, BANK, 7000)]
    rows.append((SILENT, "S-1", None, None, 999, 500_000, 0, 0, BANK, 5000))  # one person: a small cell
    rows.append((PLATFORM, "P-held", None, None, 998, 500_000, 0, 1, BANK, 5000))  # held: left out by default
    cells = {(c["funder"], c["facilitator"]): c for c in funder_exposure(_exposure_rows(rows), MEMBERS, k=10).to_dicts()}
    bank = cells[("BANK", "PLATFORM")]
    assert (bank["loans"], bank["persons"], bank["balance"], bank["funded_balance"]) == (12, 12, 12_000_000, 8_400_000)
    assert (bank["past_due_funded_balance"], bank["past_due_share"], bank["suppressed"]) == (2_100_000, 0.25, False)
    assert cells[("SILENT", "PLATFORM")]["funded_balance"] == 3_600_000
    small = cells[("BANK", "SILENT")]
    assert small["suppressed"] and small["loans"] is None and small["funded_balance"] is None
    held = funder_exposure(_exposure_rows(rows), MEMBERS, k=10, include_held=True).filter(
        (pl.col("funder") == "BANK") & (pl.col("facilitator") == "PLATFORM"))
    assert held["loans"].item() == 13
