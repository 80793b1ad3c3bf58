"""Cross-field rules: identity documents, dates, delinquency, account status and amounts.

Every check reads the typed columns made by `fields.typed_columns`, where a missing or unparsable value is
null. Comparisons with null are null and count as not firing, so a value that already failed a field rule
adds no second, derived finding. Where a rule is about a value being absent it reads the raw column, so an
unparsable value (already reported) is not also called missing. Codes, severities and reasons live in
`catalogue.py`.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from openbureau import documents as ids
from openbureau.consent.profiles import PROFILES, JurisdictionProfile
from openbureau.intake import standard
from openbureau.intake.validation.catalogue import (
    ADULT_AGE_YEARS,
    MAX_AGE_YEARS,
    MAX_TERM_MONTHS,
)
from openbureau.intake.validation.fields import Check, raw

PERIOD_END = "_period_end"

# PBoC repayment status -> allowed days past due (lowest, highest; None = no upper bound). D (paid by
# guarantor), Z (repaid with assets) and # (unknown) describe a resolution or a gap and take any value.
STATUS_DPD_RANGE: dict[str, tuple[int, int | None]] = {
    "N": (0, 0),
    "C": (0, 0),
    "G": (0, 0),
    "*": (0, 0),
    **{str(bucket): (30 * bucket - 29, 30 * bucket) for bucket in range(1, 7)},
    "7": (181, None),
}
NEGATIVE_STATUSES = (*standard.PAST_DUE_STATUSES, "D", "Z")


def derived_columns() -> list[pl.Expr]:
    """Helper columns the checks share: the last day of the reporting period."""
    first_day = pl.concat_str([pl.col("reporting_period"), pl.lit("-01")]).str.to_date("%Y-%m-%d", strict=False)
    return [first_day.dt.month_end().alias(PERIOD_END)]


def _days(later: pl.Expr, earlier: pl.Expr) -> pl.Expr:
    return (later - earlier).dt.total_days()


def identity_checks() -> list[Check]:
    """Checks of the identity document and its embedded birth date (records and events)."""
    number = pl.col("id_number")
    resident = pl.col("id_type") == "CN_RESIDENT_ID"
    well_formed = resident & ids.cn_id_format_ok(number)
    embedded_birth = ids.cn_id_birth_date(number)
    birth = pl.col("birth_date")
    return [
        Check("ID_FORMAT", "id_number", resident & number.is_not_null() & ~ids.cn_id_format_ok(number),
              pl.lit("id_number is not a resident ID number: it needs 17 digits followed by a digit or X.")),
        Check("ID_CHECK_DIGIT", "id_number", well_formed & ~ids.cn_id_check_digit_ok(number),
              pl.lit("id_number fails the GB 11643-1999 check: its last character does not match the first "
                     "17 digits, so a digit was probably mistyped.")),
        Check("ID_REGION", "id_number", well_formed & ~ids.cn_id_region_ok(number),
              pl.format("id_number starts with {}, which is not a province-level region code.",
                        number.str.slice(0, 2))),
        Check("ID_BIRTH_DATE_INVALID", "id_number", well_formed & embedded_birth.is_null(),
              pl.lit("id_number positions 7-14 are not a real birth date (YYYYMMDD).")),
        Check("ID_BIRTH_DATE_MISMATCH", "birth_date", well_formed & (birth != embedded_birth),
              pl.lit("birth_date differs from the birth date in positions 7-14 of id_number.")),
        Check("PASSPORT_FORMAT", "id_number",
              (pl.col("id_type") == "PASSPORT") & number.is_not_null() & ~ids.passport_format_ok(number),
              pl.lit("id_number is not a passport number: use 6-12 letters and digits without separators.")),
    ]  # fmt: skip


def _date_checks(today: date) -> list[Check]:
    period, end = pl.col("reporting_period"), pl.col(PERIOD_END)
    opened, birth = pl.col("opened_on"), pl.col("birth_date")
    oldest = pl.lit(today).dt.offset_by(f"-{MAX_AGE_YEARS}y")
    adult_on = birth.dt.offset_by(f"{ADULT_AGE_YEARS}y")
    return [
        Check("PERIOD_IN_FUTURE", "reporting_period", period > today.strftime("%Y-%m"),
              pl.format(f"reporting_period '{{}}' is after the current month {today:%Y-%m}.", period)),
        Check("OPENED_AFTER_PERIOD", "opened_on", opened > end,
              pl.format("opened_on '{}' is after the end of reporting_period {} ({}).", opened, period, end)),
        Check("BIRTH_AFTER_OPENED", "birth_date", birth > opened,
              pl.format("birth_date is after opened_on {}.", opened)),
        Check("BIRTH_DATE_IN_FUTURE", "birth_date", birth > pl.lit(today),
              pl.lit(f"birth_date is after today ({today.isoformat()}).")),
        Check("BIRTH_DATE_TOO_OLD", "birth_date", birth < oldest,
              pl.lit(f"birth_date makes the borrower older than {MAX_AGE_YEARS} years.")),
        Check("BORROWER_UNDER_18", "birth_date", (birth <= opened) & (adult_on > opened),
              pl.format(f"birth_date makes the borrower under {ADULT_AGE_YEARS} on opened_on {{}}; check the "
                        "date and the contract.", opened)),
    ]  # fmt: skip


def _delinquency_checks() -> list[Check]:
    end, opened = pl.col(PERIOD_END), pl.col("opened_on")
    status, dpd = pl.col("payment_status"), pl.col("days_past_due")
    past_due, first_late = pl.col("past_due_amount"), pl.col("first_delinquency_date")
    lowest = status.replace_strict({k: lo for k, (lo, _) in STATUS_DPD_RANGE.items()}, default=None,
                                   return_dtype=pl.Int64)  # fmt: skip
    highest = status.replace_strict({k: hi for k, (_, hi) in STATUS_DPD_RANGE.items()}, default=None,
                                    return_dtype=pl.Int64)  # fmt: skip
    expected = status.replace_strict(
        {k: (str(lo) if lo == hi else f"{lo}-{hi}" if hi else f"over {lo - 1}") for k, (lo, hi) in STATUS_DPD_RANGE.items()},
        default=None, return_dtype=pl.String)  # fmt: skip
    days_late_possible = _days(end, first_late) + 1
    return [
        Check("STATUS_DPD_MISMATCH", "payment_status", (dpd < lowest) | (dpd > highest),
              pl.format("payment_status '{}' needs days_past_due {}, but days_past_due is {}.",
                        status, expected, dpd)),
        Check("PAST_DUE_AMOUNT_WITHOUT_DPD", "past_due_amount", (past_due > 0) & (dpd == 0),
              pl.format("past_due_amount is {} but days_past_due is 0.", past_due)),
        Check("DPD_WITHOUT_PAST_DUE_AMOUNT", "days_past_due", (dpd > 0) & (past_due == 0),
              pl.format("days_past_due is {} but past_due_amount is 0.", dpd)),
        Check("DPD_EXCEEDS_ACCOUNT_AGE", "days_past_due", (opened <= end) & (dpd > _days(end, opened)),
              pl.format("days_past_due {} is more than the {} days the account has been open.",
                        dpd, _days(end, opened))),
        Check("DELINQUENCY_DATE_MISSING", "first_delinquency_date",
              (dpd > 0) & raw("first_delinquency_date").is_null(),
              pl.format("first_delinquency_date is empty but days_past_due is {}.", dpd)),
        Check("DELINQUENCY_AFTER_PERIOD", "first_delinquency_date", first_late > end,
              pl.format("first_delinquency_date '{}' is after the end of the reporting period ({}).",
                        first_late, end)),
        Check("DELINQUENCY_BEFORE_OPENED", "first_delinquency_date", first_late < opened,
              pl.format("first_delinquency_date '{}' is before opened_on {}.", first_late, opened)),
        Check("DELINQUENCY_TOO_RECENT", "first_delinquency_date",
              (first_late <= end) & (dpd > days_late_possible),
              pl.format("days_past_due is {}, but first_delinquency_date '{}' allows at most {} days by the end "
                        "of the period.", dpd, first_late, days_late_possible)),
        Check("DELINQUENCY_DATE_WHILE_CURRENT", "first_delinquency_date",
              (pl.col("account_status") == "open") & (status == "N") & (dpd == 0) & first_late.is_not_null(),
              pl.format("first_delinquency_date '{}' is given but the account is current (status N, 0 days "
                        "past due); leave it empty once a delinquency is cured.", first_late)),
        Check("PAST_DUE_OVER_BALANCE", "past_due_amount", past_due > pl.col("balance"),
              pl.format("past_due_amount {} is more than balance {}.", past_due, pl.col("balance"))),
    ]  # fmt: skip


def _status_checks() -> list[Check]:
    end, opened = pl.col(PERIOD_END), pl.col("opened_on")
    account, status = pl.col("account_status"), pl.col("payment_status")
    balance, closed_on = pl.col("balance"), pl.col("closed_on")
    late = pl.col("days_past_due") > 0
    return [
        Check("CLOSED_WITH_BALANCE", "balance", (account == "closed") & (balance > 0),
              pl.format("account_status is closed but balance is {}; a closed account owes nothing.", balance)),
        Check("CLOSED_DATE_MISSING", "closed_on", (account == "closed") & raw("closed_on").is_null(),
              pl.lit("closed_on is empty but account_status is closed.")),
        Check("CLOSED_ON_WHILE_OPEN", "closed_on", (account == "open") & closed_on.is_not_null(),
              pl.format("closed_on '{}' is given but account_status is open.", closed_on)),
        Check("CLOSED_AFTER_PERIOD", "closed_on", closed_on > end,
              pl.format("closed_on '{}' is after the end of the reporting period ({}).", closed_on, end)),
        Check("CLOSED_BEFORE_OPENED", "closed_on", closed_on < opened,
              pl.format("closed_on '{}' is before opened_on {}.", closed_on, opened)),
        Check("CHARGED_OFF_WITHOUT_DELINQUENCY", "first_delinquency_date",
              (account == "charged_off") & raw("first_delinquency_date").is_null() & ~late.fill_null(False),
              pl.lit("first_delinquency_date is empty but account_status is charged_off.")),
        Check("SETTLED_WITH_BALANCE", "payment_status", (status == "C") & (balance > 0),
              pl.format("payment_status is C (settled) but balance is {}.", balance)),
        Check("NOTHING_DUE_WITH_AMOUNT_DUE", "payment_status", (status == "*") & (pl.col("amount_due") > 0),
              pl.format("payment_status is * (nothing due) but amount_due is {}.", pl.col("amount_due"))),
        Check("TRANSFERRED_WITH_BALANCE", "balance", (account == "transferred") & (balance > 0),
              pl.format("account_status is transferred but balance is {}; the new holder reports it.", balance)),
        Check("PAYMENT_WITHOUT_DEBT", "amount_paid",
              (pl.col("amount_paid") > 0) & (pl.col("amount_due") == 0) & (balance == 0)
              & (pl.col("past_due_amount") == 0),
              pl.format("amount_paid is {} although nothing was due, past due or owed.", pl.col("amount_paid"))),
    ]  # fmt: skip


def _product_checks(balance_tolerance: float) -> list[Check]:
    product, balance = pl.col("product_type"), pl.col("balance")
    limit, original, term = pl.col("credit_limit"), pl.col("original_amount"), pl.col("term_months")
    revolving = product.is_in(standard.REVOLVING_PRODUCTS)
    instalment = product.is_in(standard.INSTALLMENT_PRODUCTS)
    non_credit = product.is_in(standard.NON_CREDIT_PRODUCTS)
    headroom = 1 + balance_tolerance
    return [
        Check("CREDIT_LIMIT_MISSING", "credit_limit", revolving & (raw("credit_limit").is_null() | (limit == 0)),
              pl.format("product_type '{}' needs a credit_limit above 0.", product)),
        Check("ORIGINAL_AMOUNT_MISSING", "original_amount",
              instalment & (raw("original_amount").is_null() | (original == 0)),
              pl.format("product_type '{}' needs an original_amount above 0.", product)),
        Check("TERM_MONTHS_MISSING", "term_months", instalment & raw("term_months").is_null(),
              pl.format("product_type '{}' needs term_months.", product)),
        Check("TERM_MONTHS_OUT_OF_RANGE", "term_months", (term < 1) | (term > MAX_TERM_MONTHS),
              pl.format(f"term_months {{}} is outside 1-{MAX_TERM_MONTHS}.", term)),
        Check("BALANCE_OVER_LIMIT", "balance", (limit > 0) & (balance > limit * headroom),
              pl.format(f"balance {{}} is more than credit_limit {{}} plus {balance_tolerance:.0%}.", balance, limit)),
        Check("BALANCE_OVER_ORIGINAL", "balance", instalment & (original > 0) & (balance > original * headroom),
              pl.format(f"balance {{}} is more than original_amount {{}} plus {balance_tolerance:.0%}.",
                        balance, original)),
        Check("NON_CREDIT_WITH_CREDIT_TERMS", "credit_limit", non_credit & (limit > 0),
              pl.format("product_type '{}' is not credit but has credit_limit {}.", product, limit)),
        Check("NON_CREDIT_WITH_CREDIT_TERMS", "original_amount", non_credit & (original > 0),
              pl.format("product_type '{}' is not credit but has original_amount {}.", product, original)),
    ]  # fmt: skip


def _notice_checks(today: date, profile: JurisdictionProfile) -> list[Check]:
    notice, end = pl.col("negative_notice_date"), pl.col(PERIOD_END)
    status = pl.col("payment_status")
    negative = (
        status.is_in(NEGATIVE_STATUSES)
        | (pl.col("days_past_due") > 0)
        | (pl.col("account_status") == "charged_off")
    )
    in_future = Check("NOTICE_IN_FUTURE", "negative_notice_date", notice > pl.lit(today),
                      pl.format(f"negative_notice_date '{{}}' is after today ({today.isoformat()}).", notice))
    if profile.furnisher_notice_days > 0:
        # US, FCRA §623(a)(7)(A)-(B): the furnisher tells the person no later than 30 days after furnishing
        # negative information. At intake the notice may lawfully still be to come, so neither its absence nor
        # a date after the period is a finding, and nothing is held back (the bureau's own notice to the
        # person says the lender must tell them within the profile's days: intake.negative_notices).
        return [in_future]
    held = ("its negative status will be held back until the person has been told." if
            profile.negative_notice_required else "the profile holds nothing back for it.")
    return [
        # Art. 15: the person is told before negative information is furnished. Missing notice is not an
        # error: the record is stored and its negative status is held back until a notice is on file.
        Check("NEGATIVE_NOTICE_MISSING", "negative_notice_date",
              negative & raw("negative_notice_date").is_null(),
              pl.lit("negative_notice_date is empty for a negative record (late, status 1-7, D or Z, or charged "
                     f"off); {held}")),
        Check("NOTICE_AFTER_PERIOD", "negative_notice_date", (notice > end) & (notice <= pl.lit(today)),
              pl.format("negative_notice_date '{}' is after the end of the reporting period ({}).", notice, end)),
        in_future,
    ]  # fmt: skip


def cross_field_checks(*, today: date, balance_tolerance: float,
                       profile: JurisdictionProfile = PROFILES["CN"]) -> list[Check]:
    """Every cross-field check, parameterised by the validation date, the balance tolerance and the profile.

    Args:
        today: the date of validation; periods, birth dates and notices after it are errors.
        balance_tolerance: fraction by which a balance may exceed its limit or original amount.
        profile: the jurisdiction profile: when the person must be told of negative information (before
            furnishing under CN Art. 15; within 30 days after it under FCRA §623(a)(7)).

    Returns:
        Checks over the typed columns and `PERIOD_END` (see `derived_columns`).
    """
    return [
        *identity_checks(),
        *_date_checks(today),
        *_delinquency_checks(),
        *_status_checks(),
        *_product_checks(balance_tolerance),
        *_notice_checks(today, profile),
    ]
