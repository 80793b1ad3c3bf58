"""Rules of the risk signals, computed from a person's tradelines, hard inquiries and identity conflicts.

* ``MULTI_LENDING``: distinct lenders that opened a credit account for the person, took an application or
  made a hard inquiry in the last 24 hours, 7, 30, 90 and 180 days, from the monthly files and from the
  lending events of the same day; triggers when any window reaches its threshold (borrowing from many
  platforms at once). New accounts are counted once each, whether a file or an event reported them.
* ``OVER_INDEBTEDNESS``: total monthly obligations (the amounts due this month on open credit accounts, and
  the instalments of loans opened since the last monthly file);
  with a declared income, the debt-to-income ratio against ``dti_watch``/``dti_high``; without one,
  revolving utilisation and the number of open credit accounts.
* ``RECENT_DELINQUENCY``: the worst status published on any credit account, at any lender, in the last
  ``delinquency_months`` months.
* ``IDENTITY_CONFLICT``: contradicting descriptions of the person (identity resolution's conflicts).

Example:
    >>> signals = evaluate(tradelines=lines, hard_inquiries=[(7, when)], declared_income=800000,
    ...                    conflicts=[], now=now, currency="CNY", settings=SignalSettings())
    >>> [s.code for s in signals if s.triggered]
    ['OVER_INDEBTEDNESS']
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from openbureau.kit.periods import last_complete_period, shift_period
from openbureau.policy import SignalSettings
from openbureau.signals.schemas import RiskSignal, Severity, SignalCode
from openbureau.tradelines.events import NewCredit, RecentLoan, recent_obligations
from openbureau.tradelines.history import Tradeline, rank, revolving_use

CONFLICT_TEXT = {
    "birth_date_mismatch": "a furnisher reports a birth date that differs from the one in the ID number",
    "name_mismatch": "a furnisher reports a different name",
    "name_typo": "a furnisher reports the name with one character changed (a typing slip)",
    "shared_phone": "a phone number given for this person is also given for other persons",
    "many_phones": "several new phone numbers appeared within a few months",
}
_STRONG_CONFLICTS = frozenset({"birth_date_mismatch", "shared_phone"})


def _yuan(minor: int) -> str:
    return f"{minor / 100:,.2f}"


def monthly_obligations(tradelines: Sequence[Tradeline], *, currency: str) -> int:
    """Sum of this month's amounts due on open credit accounts in ``currency`` (minor units)."""
    return sum(t.latest.amount_due for t in tradelines if t.credit and t.is_open and t.currency == currency)


def _window(days: int) -> str:
    return "24 hours" if days == 1 else f"{days} days"


def multi_lending(*, tradelines: Sequence[Tradeline], hard_inquiries: Sequence[tuple[int | None, datetime]],
                  now: datetime, settings: SignalSettings, new_credit: Sequence[NewCredit] = ()) -> RiskSignal:
    """Distinct lenders with new credit (accounts opened, applications or hard inquiries) per window."""
    counts: dict[str, int] = {}
    hit: list[int] = []
    for days, threshold in settings.multi_lending().items():
        since = now - timedelta(days=days)
        opened = {(t.furnisher_id, t.account_id) for t in tradelines if t.credit and t.opened_on >= since.date()}
        recent = [c for c in new_credit if since <= c.at <= now]
        opened |= {(c.furnisher_id, c.account_id) for c in recent if c.kind == "opened"}
        lenders = {lender for lender, _ in opened}
        lenders |= {lender for lender, at in hard_inquiries if at >= since and lender is not None}
        lenders |= {c.furnisher_id for c in recent}
        counts[f"lenders_{days}d"] = len(lenders)
        counts[f"new_accounts_{days}d"] = len(opened)
        if len(lenders) >= threshold:
            hit.append(days)
    thresholds = {f"lenders_{d}d": t for d, t in settings.multi_lending().items()}
    if hit:
        days = hit[0]
        text = (f"{counts[f'lenders_{days}d']} different lenders opened credit, took an application or made a hard "
                f"inquiry in the last {_window(days)} (threshold {thresholds[f'lenders_{days}d']}): the person may "
                "be borrowing from many platforms at once.")
        severity = Severity.HIGH if days <= 30 else Severity.MEDIUM
    else:
        text = (f"{counts['lenders_30d']} lender(s) opened credit or made a hard inquiry in the last 30 days and "
                f"{counts['lenders_180d']} in the last 180 days, below every threshold.")
        severity = Severity.NONE
    return RiskSignal(code=SignalCode.MULTI_LENDING, triggered=bool(hit), severity=severity, explanation=text,
                      values=counts, thresholds=thresholds)


def over_indebtedness(*, tradelines: Sequence[Tradeline], declared_income: int | None, currency: str,
                      settings: SignalSettings, recent_loans: Sequence[RecentLoan] = ()) -> RiskSignal:
    """Monthly obligations (with loans opened since the last file) against the declared income, or
    utilisation and open accounts without one."""
    since_file = recent_obligations(recent_loans, currency=currency)
    obligations = monthly_obligations(tradelines, currency=currency) + since_file
    fresh = [loan for loan in recent_loans if loan.is_open and loan.currency == currency]
    open_credit = [t for t in tradelines if t.credit and t.is_open and t.currency == currency]
    revolving, limits = revolving_use(open_credit)
    utilisation = revolving / limits if limits else None
    values: dict[str, float | int | str | None] = {
        "monthly_obligations": obligations, "currency": currency, "declared_monthly_income": declared_income,
        "debt_to_income": None, "revolving_utilisation": None if utilisation is None else round(utilisation, 4),
        "open_credit_accounts": len(open_credit) + len(fresh), "obligations_since_last_file": since_file}
    thresholds = {"dti_watch": settings.dti_watch, "dti_high": settings.dti_high,
                  "utilisation_high": settings.utilisation_high, "open_accounts_high": settings.open_accounts_high}
    owed = (f"Monthly obligations are {_yuan(obligations)} {currency} on {len(open_credit) + len(fresh)} open "
            "credit account(s)" + (f", {len(fresh)} of them opened since the last monthly file" if fresh else ""))
    if declared_income:
        dti = obligations / declared_income
        values["debt_to_income"] = round(dti, 4)
        severity = (Severity.HIGH if dti >= settings.dti_high else
                    Severity.MEDIUM if dti >= settings.dti_watch else Severity.NONE)
        text = (f"{owed}, {dti:.0%} of the declared income of {_yuan(declared_income)} {currency}"
                + (f" (at or above {settings.dti_watch:.0%}): repayments may be more than the person can carry."
                   if severity is not Severity.NONE else f", below {settings.dti_watch:.0%}."))
    else:
        reasons = []
        if utilisation is not None and utilisation >= settings.utilisation_high:
            reasons.append(f"revolving credit is {utilisation:.0%} used")
        if len(open_credit) + len(fresh) >= settings.open_accounts_high:
            reasons.append(f"{len(open_credit) + len(fresh)} credit accounts are open")
        severity = Severity.MEDIUM if reasons else Severity.NONE
        text = (f"{owed}; no income was declared, so no debt-to-income ratio"
                + (f"; {' and '.join(reasons)}." if reasons else "; utilisation and open accounts are below "
                   "their thresholds."))
    return RiskSignal(code=SignalCode.OVER_INDEBTEDNESS, triggered=severity is not Severity.NONE, severity=severity,
                      explanation=text, values=values, thresholds=thresholds)


def recent_delinquency(*, tradelines: Sequence[Tradeline], now: datetime, settings: SignalSettings) -> RiskSignal:
    """The worst published status on any credit account in the recent months."""
    start = shift_period(last_complete_period(now.date()), -(settings.delinquency_months - 1))
    worst, lenders, past_due = "N", set(), 0
    for t in tradelines:
        if not t.credit:
            continue
        status = t.worst_since(start)
        if status is not None and rank(status) > 0:
            lenders.add(t.furnisher_id)
            if rank(status) > rank(worst):
                worst = status
        if t.is_open:
            past_due += t.latest.past_due_amount
    level = rank(worst)
    severity = (Severity.HIGH if level >= 6 else Severity.MEDIUM if level >= 4 else
                Severity.LOW if level >= 1 else Severity.NONE)
    if level:
        text = (f"Status {worst} was reported in the last {settings.delinquency_months} months by "
                f"{len(lenders)} lender(s); {_yuan(past_due)} is past due now.")
    else:
        text = f"No late payment was reported on any credit account in the last {settings.delinquency_months} months."
    return RiskSignal(code=SignalCode.RECENT_DELINQUENCY, triggered=level > 0, severity=severity, explanation=text,
                      values={"worst_status": worst, "lenders": len(lenders), "past_due_amount": past_due,
                              "since_period": start},
                      thresholds={"delinquency_months": settings.delinquency_months})


def identity_conflict(*, conflicts: Sequence[str]) -> RiskSignal:
    """Contradicting descriptions of the person on file."""
    kinds = sorted(set(conflicts))
    severity = (Severity.HIGH if _STRONG_CONFLICTS & set(kinds) else Severity.MEDIUM if kinds else Severity.NONE)
    text = ("; ".join(CONFLICT_TEXT.get(k, k) for k in kinds).capitalize() + ": check the applicant's identity."
            if kinds else "The furnishers' descriptions of this person agree.")
    return RiskSignal(code=SignalCode.IDENTITY_CONFLICT, triggered=bool(kinds), severity=severity, explanation=text,
                      values={"conflicts": len(conflicts), "kinds": ",".join(kinds) or None}, thresholds={})


def evaluate(*, tradelines: Sequence[Tradeline], hard_inquiries: Sequence[tuple[int | None, datetime]],
             declared_income: int | None, conflicts: Sequence[str], now: datetime, currency: str,
             settings: SignalSettings, new_credit: Sequence[NewCredit] = (),
             recent_loans: Sequence[RecentLoan] = ()) -> list[RiskSignal]:
    """Every risk signal, in a fixed order.

    Args:
        tradelines: The person's tradelines as published (``tradelines.history``).
        hard_inquiries: (lender member id, when) of hard inquiries, the current one excluded.
        declared_income: Monthly income declared with the inquiry (minor units), if any.
        conflicts: Kinds of the person's identity conflicts.
        now: The moment of the report.
        currency: The currency the obligations are summed in (the profile's).
        new_credit: Applications and openings the lending events report (``tradelines.events``).
        recent_loans: Loans opened since the last monthly file (``tradelines.events``).
    """
    return [
        multi_lending(tradelines=tradelines, hard_inquiries=hard_inquiries, now=now, settings=settings,
                      new_credit=new_credit),
        over_indebtedness(tradelines=tradelines, declared_income=declared_income, currency=currency,
                          settings=settings, recent_loans=recent_loans),
        recent_delinquency(tradelines=tradelines, now=now, settings=settings),
        identity_conflict(conflicts=conflicts),
    ]
