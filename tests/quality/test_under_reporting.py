"""Under-reporting findings on a hand-built market of frames: a lender that drops accounts from its files
from its first file on is flagged by inquiries, events and consents; honest lenders are not."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest

from openbureau.quality.under_reporting import (
    CONSENT_WITHOUT_RECORD,
    EVENT_WITHOUT_RECORD,
    INQUIRY_WITHOUT_ACCOUNT,
    UnderReportingInputs,
    UnderReportingRules,
    under_reporting,
    wilson,
)

HONEST, SHY = (1, 2, 3), 4  # SHY reports a quarter of the loans it grants
APPLICATIONS, GRANTED = 40, 24  # per lender, in January 2026


def _market(*, shy_reports: int = 6, last_period: str = "2026-03", honest_missing_events: int = 0
            ) -> UnderReportingInputs:
    inquiries, accounts, events, consents, furnished, refs = [], [], [], [], [], []
    for lender in (*HONEST, SHY):
        for i in range(APPLICATIONS):
            person = lender * 1000 + i
            asked = datetime(2026, 1, 1 + i % 28, 10, tzinfo=UTC)
            inquiries.append((lender * 1000 + i, lender, person, asked))
            consents.append((lender * 1000 + i, lender, f"CONSENT-{lender}-{i:04d}", person, asked))
            if i >= GRANTED:
                continue
            account = f"LOAN-{lender}-{i:04d}"
            events.append((lender * 1000 + i, lender, account, person, asked + timedelta(days=2)))
            reported = i < shy_reports if lender == SHY else i >= honest_missing_events or lender != 1
            if reported:
                accounts.append((lender, account, person, (asked + timedelta(days=2)).date(), last_period))
                furnished.append((lender, person))
    return UnderReportingInputs(
        accounts=pl.DataFrame(accounts, orient="row", schema={
            "furnisher_id": pl.Int64, "furnisher_account_id": pl.String, "person_id": pl.Int64,
            "opened_on": pl.Date, "last_period": pl.String}),
        last_filed=pl.DataFrame({"furnisher_id": [*HONEST, SHY], "last_period": [last_period] * 4}),
        inquiries=pl.DataFrame(inquiries, orient="row", schema={
            "inquiry_id": pl.Int64, "furnisher_id": pl.Int64, "person_id": pl.Int64,
            "created_at": pl.Datetime("us", "UTC")}),
        events=pl.DataFrame(events, orient="row", schema={
            "event_row_id": pl.Int64, "furnisher_id": pl.Int64, "furnisher_account_id": pl.String,
            "person_id": pl.Int64, "occurred_at": pl.Datetime("us", "UTC")}),
        consents=pl.DataFrame(consents, orient="row", schema={
            "consent_id": pl.Int64, "furnisher_id": pl.Int64, "consent_ref": pl.String, "person_id": pl.Int64,
            "recorded_at": pl.Datetime("us", "UTC")}),
        furnished=pl.DataFrame(furnished, orient="row", schema={"furnisher_id": pl.Int64, "person_id": pl.Int64}),
        furnished_refs=pl.DataFrame(refs, schema={"furnisher_id": pl.Int64, "consent_ref": pl.String}),
    )


def _row(findings: pl.DataFrame, furnisher: int, code: str) -> dict:
    return findings.filter((pl.col("furnisher_id") == furnisher) & (pl.col("code") == code)).row(0, named=True)


def test_a_lender_that_under_reports_from_its_first_file_is_flagged_and_honest_ones_are_not() -> None:
    findings, examples = under_reporting(_market())
    assert set(findings.filter("flagged")["furnisher_id"]) == {SHY}
    assert set(findings.filter(pl.col("furnisher_id") == SHY).filter("flagged")["code"]) == {
        INQUIRY_WITHOUT_ACCOUNT, EVENT_WITHOUT_RECORD, CONSENT_WITHOUT_RECORD}
    shy = _row(findings, SHY, INQUIRY_WITHOUT_ACCOUNT)
    # 16 declined + 18 granted but never reported, of 40; the others' rate is 16/40 each, pooled.
    assert (shy["observations"], shy["count"], shy["rate"], shy["baseline"]) == (40, 34, 0.85, 0.4)
    assert shy["corroborated"] == 18  # its own opened events show it lent to them
    assert shy["excess"] == 18 and shy["threshold"] == pytest.approx(0.5)
    assert shy["lower"] > shy["threshold"]
    honest = _row(findings, 1, INQUIRY_WITHOUT_ACCOUNT)
    assert (honest["count"], honest["corroborated"], honest["flagged"]) == (16, 0, False)
    assert honest["baseline"] == pytest.approx((16 + 16 + 34) / 120)
    events = _row(findings, SHY, EVENT_WITHOUT_RECORD)
    assert (events["observations"], events["count"], events["baseline"]) == (24, 18, 0.02)
    consents = _row(findings, SHY, CONSENT_WITHOUT_RECORD)
    assert (consents["observations"], consents["count"], consents["persons"]) == (40, 34, 34)
    assert _row(findings, 2, CONSENT_WITHOUT_RECORD)["flagged"] is False
    shown = examples.filter(pl.col("furnisher_id") == SHY)
    assert shown.group_by("code").len()["len"].to_list() == [3, 3, 3]  # three examples per finding
    loans = shown.filter(pl.col("code") == EVENT_WITHOUT_RECORD)["reference"].to_list()
    assert loans == ["LOA******06", "LOA******07", "LOA******08"]  # masked account numbers, oldest first
    assert shown.filter(pl.col("code") == INQUIRY_WITHOUT_ACCOUNT)["on"].to_list()[0] == date(2026, 1, 1)  # i = 28, declined


def test_a_few_missing_records_of_an_honest_lender_are_counted_but_not_flagged() -> None:
    findings, _ = under_reporting(_market(honest_missing_events=2))
    one = _row(findings, 1, EVENT_WITHOUT_RECORD)
    assert (one["count"], one["flagged"]) == (2, False)  # fewer than min_count (3)
    assert not _row(findings, 1, INQUIRY_WITHOUT_ACCOUNT)["flagged"]


def test_inquiries_and_consents_wait_for_the_files_of_their_follow_up_periods() -> None:
    """Filed up to February only: an inquiry of January has one period of its two behind it, so none is
    judged; an event of January is (its month's file is in)."""
    findings, _ = under_reporting(_market(last_period="2026-02"))
    assert set(findings["code"]) == {EVENT_WITHOUT_RECORD}
    findings, _ = under_reporting(_market(last_period="2026-02"), UnderReportingRules(follow_periods=1,
                                                                                      consent_grace_periods=1))
    assert set(findings.filter("flagged")["code"]) == {INQUIRY_WITHOUT_ACCOUNT, EVENT_WITHOUT_RECORD,
                                                       CONSENT_WITHOUT_RECORD}


def test_an_account_opened_long_after_the_inquiry_does_not_follow_it() -> None:
    market = _market()
    late = market.accounts.with_columns(pl.when(pl.col("furnisher_id") == 1).then(date(2026, 4, 2))
                                        .otherwise(pl.col("opened_on")).alias("opened_on"))
    findings, _ = under_reporting(replace(market, accounts=late))
    assert _row(findings, 1, INQUIRY_WITHOUT_ACCOUNT)["count"] == APPLICATIONS


def test_small_lenders_are_counted_never_flagged_and_a_market_of_one_has_no_baseline() -> None:
    market = _market()
    only_shy = replace(market, inquiries=market.inquiries.filter(pl.col("furnisher_id") == SHY))
    row = _row(under_reporting(only_shy)[0], SHY, INQUIRY_WITHOUT_ACCOUNT)
    assert (row["count"], row["baseline"], row["flagged"]) == (34, None, False)
    few = replace(market, inquiries=market.inquiries.filter(
        (pl.col("furnisher_id") != SHY) | (pl.col("inquiry_id") % 1000 >= 20)))  # 20 inquiries, all missing
    row = _row(under_reporting(few)[0], SHY, INQUIRY_WITHOUT_ACCOUNT)
    assert (row["observations"], row["count"], row["flagged"]) == (20, 20, False)  # under min_observations


def test_wilson_interval() -> None:
    lower, upper = wilson(pl.lit(20.0), pl.lit(40.0), 1.96)
    assert pl.select(lower.alias("lower"), upper.alias("upper")).row(0) == pytest.approx((0.352, 0.648), abs=1e-3)
