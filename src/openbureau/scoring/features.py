"""Point-in-time features of a person's file: what the bureau knew at an observation date, nothing after.

Computed from tradelines (``tradelines.history``, built with ``until_period`` = the observation period) and
the person's hard inquiries up to the observation moment. The same function serves training (many persons
at a past observation period) and scoring inside an inquiry (one person now), so the two cannot drift.
Every feature is documented in ``FEATURES`` (the feature dictionary, also in docs/scoring.md): its group,
meaning, the reason code it gives when it lowers a score and what would raise it.

Example:
    >>> values = point_in_time(lines, hard_inquiries=[when], observed=date(2026, 10, 31))
    >>> values["revolving_utilisation"], values["late_90_24m"]
    (0.42, 0)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from openbureau.kit.periods import months_between, period_of, shift_period
from openbureau.tradelines.history import PAST_DUE, Tradeline, rank, revolving_use

# Hard inquiries this close together count once: several lenders quoted for one loan ("rate shopping").
RATE_SHOPPING_DAYS = 14
THIN_FILE_MAX_ACCOUNTS = 0  # a file with no credit account (only bills) is thin ...
THIN_FILE_MIN_MONTHS = 6  # ... and so is one whose oldest credit account is younger than this


@dataclass(frozen=True, slots=True)
class FeatureSpec:
    """One feature of the dictionary."""

    name: str
    group: str  # payment_history, amounts_owed, history_length, new_credit, credit_mix, non_credit
    description: str
    reason: str  # stable reason code when the feature lowers the score
    reason_text: str
    advice: str  # what would raise the score


FEATURES: tuple[FeatureSpec, ...] = (
    FeatureSpec("worst_status_6m", "payment_history", "Worst payment status on any credit account in the last 6 "
                "months, as a rank: 0 paid as agreed, 1 paid by a guarantor, 2 repaid with assets, 3-9 statuses 1-7.",
                "DELINQUENCY_RECENT", "A recent late payment", "Pay every account on time; bring any late account current."),
    FeatureSpec("worst_status_24m", "payment_history", "Worst payment status in the last 24 months (same ranks).",
                "DELINQUENCY_24M", "Late payments in the last two years",
                "Keep paying on time: late payments weigh less as they age."),
    FeatureSpec("months_since_delinquency", "payment_history", "Months since the last month with a past-due "
                "status on a credit account; missing when there was none.", "DELINQUENCY_RECENT_MONTHS",
                "Too little time since the last late payment", "Each month paid on time moves a late payment further back."),
    FeatureSpec("late_30_24m", "payment_history", "Account-months 30 or more days past due (status 2 or worse) in "
                "24 months.", "LATE_30", "Payments 30 days late", "Avoid letting a payment slip past 30 days."),
    FeatureSpec("late_60_24m", "payment_history", "Account-months 60 or more days past due (status 3 or worse).",
                "LATE_60", "Payments 60 days late", "Bring late accounts current before they reach 60 days."),
    FeatureSpec("late_90_24m", "payment_history", "Account-months 90 or more days past due (status 4 or worse).",
                "LATE_90", "Serious delinquency (90+ days)", "Settle seriously late debts; serious delinquency weighs most."),
    FeatureSpec("past_due_amount", "payment_history", "Amount past due now on open credit accounts (minor units).",
                "PAST_DUE_NOW", "An amount is past due now", "Pay the amounts past due."),
    FeatureSpec("derogatory_accounts", "payment_history", "Credit accounts charged off, or repaid by a guarantor "
                "or with assets, within the retention period.", "DEROGATORY", "An account was charged off",
                "Settle charged-off accounts; the record ages off 5 years after the debt ends."),
    FeatureSpec("revolving_utilisation", "amounts_owed", "Balances of open revolving lines and cards / their "
                "limits; missing without a revolving limit.", "UTILISATION_HIGH", "High use of revolving credit",
                "Pay revolving balances down, to well under a third of the limits."),
    FeatureSpec("open_credit_accounts", "amounts_owed", "Open credit accounts.", "MANY_OPEN_ACCOUNTS",
                "Many open credit accounts", "Close credit lines you do not use once they are paid off."),
    FeatureSpec("total_balance", "amounts_owed", "Balances of open credit accounts (minor units).", "BALANCE_HIGH",
                "High balances owed", "Reduce what you owe."),
    FeatureSpec("instalment_remaining", "amounts_owed", "Balances of open instalment loans / amounts lent; missing "
                "without one.", "INSTALMENT_REMAINING", "Little of the instalment loans repaid yet",
                "Keep repaying instalment loans; the share still owed falls with each payment."),
    FeatureSpec("monthly_obligations", "amounts_owed", "Amounts due this month on open credit accounts (minor units).",
                "OBLIGATIONS_HIGH", "High monthly repayments", "Take on less new debt until repayments fall."),
    FeatureSpec("oldest_account_months", "history_length", "Months since the oldest credit account was opened.",
                "HISTORY_SHORT", "A short credit history", "Keep your oldest accounts open and in good standing."),
    FeatureSpec("average_account_months", "history_length", "Average age of credit accounts, in months.",
                "ACCOUNTS_NEW", "Credit accounts are new on average", "Avoid opening many new accounts."),
    FeatureSpec("accounts_opened_6m", "new_credit", "Credit accounts opened in the last 6 months.",
                "NEW_ACCOUNTS_6M", "Several accounts opened recently", "Space out applications for new credit."),
    FeatureSpec("accounts_opened_12m", "new_credit", "Credit accounts opened in the last 12 months.",
                "NEW_ACCOUNTS_12M", "Several accounts opened in the last year", "Space out applications for new credit."),
    FeatureSpec("lenders_new_6m", "new_credit", "Distinct lenders that opened credit in the last 6 months.",
                "MANY_NEW_LENDERS", "Borrowing from many lenders recently",
                "Borrow from fewer platforms at once."),
    FeatureSpec("hard_inquiries_6m", "new_credit", "Hard inquiries in the last 6 months, those within "
                f"{RATE_SHOPPING_DAYS} days of each other counted once (rate shopping).", "INQUIRIES",
                "Recent applications for credit", "Apply for credit only when you need it."),
    FeatureSpec("hard_inquiries_12m", "new_credit", "Hard inquiries in the last 12 months, de-duplicated the same way.",
                "INQUIRIES_12M", "Applications for credit in the last year", "Apply for credit only when you need it."),
    FeatureSpec("newest_account_months", "new_credit", "Months since the newest credit account was opened.",
                "NEWEST_ACCOUNT_RECENT", "A credit account opened very recently", "Give new accounts time to age."),
    FeatureSpec("product_types", "credit_mix", "Distinct kinds of credit held (revolving, card, instalment, "
                "mortgage, auto, BNPL).", "MIX_NARROW", "Few kinds of credit", "A mix of credit, used well, helps over time."),
    FeatureSpec("bnpl_share", "credit_mix", "Share of open credit accounts that are buy-now-pay-later.",
                "BNPL_HEAVY", "Much of the credit is buy-now-pay-later", "Rely less on buy-now-pay-later credit."),
    FeatureSpec("noncredit_accounts", "non_credit", "Utility, telecom and rent accounts on file.",
                "NONCREDIT_FEW", "Few bills on file", "Ask your utility or phone company to report your payments."),
    FeatureSpec("noncredit_late_24m", "non_credit", "Months with a late utility, telecom or rent payment in 24.",
                "NONCREDIT_LATE", "Late bill payments", "Pay utility, phone and rent bills on time."),
    FeatureSpec("noncredit_history_months", "non_credit", "Months since the oldest utility, telecom or rent "
                "account was opened.", "NONCREDIT_SHORT", "A short record of bill payments",
                "Keep bill accounts in good standing over time."),
)
FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)
FEATURE_BY_NAME: dict[str, FeatureSpec] = {f.name: f for f in FEATURES}


def _age_months(opened: date, observed: date) -> int:
    return max(0, (observed.year - opened.year) * 12 + observed.month - opened.month)


def deduplicated(moments: Sequence[datetime], *, days: int = RATE_SHOPPING_DAYS) -> list[datetime]:
    """Inquiry moments with those less than ``days`` after a counted one dropped (rate shopping)."""
    counted: list[datetime] = []
    for moment in sorted(moments):
        if not counted or moment - counted[-1] >= timedelta(days=days):
            counted.append(moment)
    return counted


def _payment_history(credit: Sequence[Tradeline], *, start_6: str, start_24: str
                     ) -> tuple[int, int, list[int], str | None, int]:
    """One pass over the credit accounts' months (the inquiry's hot loop): the worst status rank since
    ``start_6`` and since ``start_24``, the ranks of the months past due since ``start_24``, the newest month
    past due, and how many accounts were ever charged off or settled otherwise (status D or Z)."""
    worst_6 = worst_24 = derogatory = 0
    late: list[int] = []
    last_late = None
    for t in credit:
        marked = False
        for m in t.months:
            status, period = m.status, m.period
            r = rank(status)
            if period >= start_24:
                worst_24 = max(worst_24, r)
                if period >= start_6:
                    worst_6 = max(worst_6, r)
            if status in PAST_DUE:
                if last_late is None or period > last_late:
                    last_late = period
                if period >= start_24:
                    late.append(r)
            if not marked and (status in ("D", "Z") or m.row.account_status == "charged_off"):
                marked = True
        derogatory += marked
    return worst_6, worst_24, late, last_late, derogatory


def point_in_time(tradelines: Sequence[Tradeline], *, hard_inquiries: Sequence[datetime],
                  observed: date) -> dict[str, float | None]:
    """The feature values of a file as the bureau knew it on ``observed`` (tradelines built up to its period,
    inquiries up to that day). Missing values are None."""
    period = period_of(observed)
    start_6, start_24 = shift_period(period, -5), shift_period(period, -23)
    credit = [t for t in tradelines if t.credit]
    other = [t for t in tradelines if not t.credit]
    open_credit = [t for t in credit if t.is_open]
    worst_6, worst_24, late, last_late, derogatory = _payment_history(credit, start_6=start_6, start_24=start_24)
    revolving, limits = revolving_use(open_credit)
    instalments = [t for t in open_credit if not t.revolving and t.latest.row.original_amount]
    lent = sum(t.latest.row.original_amount for t in instalments)
    ages = [_age_months(t.opened_on, observed) for t in credit]
    recent_6 = observed - timedelta(days=182)
    recent_12 = observed - timedelta(days=365)
    inquiries = deduplicated([q for q in hard_inquiries if q.date() <= observed])
    return {
        "worst_status_6m": worst_6,
        "worst_status_24m": worst_24,
        "months_since_delinquency": None if last_late is None else months_between(last_late, period),
        "late_30_24m": sum(1 for r in late if r >= 4),
        "late_60_24m": sum(1 for r in late if r >= 5),
        "late_90_24m": sum(1 for r in late if r >= 6),
        "past_due_amount": sum(t.latest.past_due_amount for t in open_credit),
        "derogatory_accounts": derogatory,
        "revolving_utilisation": revolving / limits if limits else None,
        "open_credit_accounts": len(open_credit),
        "total_balance": sum(t.latest.balance for t in open_credit),
        "instalment_remaining": sum(t.latest.balance for t in instalments) / lent if lent else None,
        "monthly_obligations": sum(t.latest.amount_due for t in open_credit),
        "oldest_account_months": max(ages) if ages else None,
        "average_account_months": sum(ages) / len(ages) if ages else None,
        "accounts_opened_6m": sum(1 for t in credit if t.opened_on >= recent_6),
        "accounts_opened_12m": sum(1 for t in credit if t.opened_on >= recent_12),
        "lenders_new_6m": len({t.furnisher_id for t in credit if t.opened_on >= recent_6}),
        "hard_inquiries_6m": sum(1 for q in inquiries if q.date() >= recent_6),
        "hard_inquiries_12m": sum(1 for q in inquiries if q.date() >= recent_12),
        "newest_account_months": min(ages) if ages else None,
        "product_types": len({t.product_type for t in credit}),
        "bnpl_share": sum(1 for t in open_credit if t.product_type == "bnpl") / len(open_credit) if open_credit else None,
        "noncredit_accounts": len(other),
        "noncredit_late_24m": sum(1 for t in other for m in t.months if m.period >= start_24 and m.status in PAST_DUE),
        "noncredit_history_months": max((_age_months(t.opened_on, observed) for t in other), default=None),
    }


def is_thin(values: dict[str, float | None], credit_accounts: int) -> bool:
    """Whether a file is thin: at most ``THIN_FILE_MAX_ACCOUNTS`` credit accounts, or credit history younger
    than ``THIN_FILE_MIN_MONTHS`` months. Thin files are scored by their own segment."""
    oldest = values.get("oldest_account_months")
    return credit_accounts <= THIN_FILE_MAX_ACCOUNTS or oldest is None or oldest < THIN_FILE_MIN_MONTHS


def unscorable_reason(tradelines: Sequence[Tradeline], *, observed: date) -> str | None:
    """Why a file cannot be scored (the minimum scoring criteria), or None when it can:

    * ``NO_FILE``: no account at all;
    * ``NO_RECENT_ACTIVITY``: no account reported in the 6 months up to the observation period;
    * ``TOO_LITTLE_HISTORY``: fewer than 3 months of records on file.
    """
    if not tradelines:
        return "NO_FILE"
    period = period_of(observed)
    if max(t.latest.period for t in tradelines) < shift_period(period, -5):
        return "NO_RECENT_ACTIVITY"
    if len({m.period for t in tradelines for m in t.months}) < 3:
        return "TOO_LITTLE_HISTORY"
    return None


UNSCORABLE_TEXT = {
    "NO_FILE": "The bureau holds no account of this person.",
    "NO_RECENT_ACTIVITY": "No account was reported in the last 6 months.",
    "TOO_LITTLE_HISTORY": "Fewer than 3 months of records are on file.",
}
