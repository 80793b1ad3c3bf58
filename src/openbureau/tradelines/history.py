"""A person's tradelines: each account's months as published, built from its stored states.

Rules, in order, for each account (furnisher, furnisher's account number):

1. **Newest version per month.** A correction is a new version of a month; the highest version is the
   month's record.
2. **Deletions.** A month whose newest record is ``deleted`` is left out; an account whose latest month is
   ``deleted`` is left out whole (the furnisher withdrew it).
3. **Notice before negative information** (CN Credit Reporting Regulation Art. 15). A month furnished with
   negative status but no notice to the person (``negative_held``) is published as ``#`` with nothing past
   due, until a record of the account for that month or a later one carries a notice date.
4. **Payment history profile** (Metro 2). A state furnished in Metro 2 keeps the record's 24-month profile
   (``history_profile``, the month before its period first). A month of the account of which the bureau
   holds no state (no version at all, deleted ones included) takes its status from the profile of the newest
   state that covers it, mapped to the PBoC alphabet (``metro2.mapping.HISTORY``; ``B`` and ``D``, no history,
   give no month); a month the bureau holds is never overridden. Such a month has no amounts (balance unknown) and is
   marked ``from_profile``; it counts for retention, the grid, scoring and signals like a furnished month.
5. **Retention** (CN Art. 16: negative information is kept 5 years from the day the adverse event ended;
   US FCRA §605(a): 7 years). An adverse event is a run of consecutive months with negative information
   (statuses 1-7, D, Z, charged off, or days past due); it ends with the first later month without it (the
   account was brought current or settled; the end is that month's last day) or with the account's closing
   date. Negative months of an event that ended more than the profile's years before the report date are not
   shown, and the retention job deletes them. An event that has not ended (a debt still unpaid) never expires.
5. **One loan reported twice is counted once** (standard v1.1, joint lending). A funder may furnish the loan it
   funds naming the platform that originated it (``facilitator_id``, ``facilitator_account_id`` on its newest
   record). When the facilitator's own account of that number is among the person's tradelines, the funder's
   account is folded into it (:attr:`Tradeline.funder_records`) and is not a tradeline of its own: the report,
   the signals and the scores all read these tradelines, so none counts the loan twice. When the
   facilitator's record is not in the file (not furnished, withdrawn, held for consent), the funder's
   record stands alone and names its facilitator (:attr:`Tradeline.facilitator`).

Example:
    >>> lines = build_tradelines(rows, as_of=date(2026, 12, 1), retention_years=5)
    >>> lines[0].history("2026-10", 24)       # 24 statuses, oldest first, '/' where nothing was reported
    'NNNNNNNNNNNNNNNNNNNN12NN'
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from openbureau.accounts.repository import as_date
from openbureau.intake.standard import NON_CREDIT_PRODUCTS, PAST_DUE_STATUSES, REVOLVING_PRODUCTS
from openbureau.kit.periods import add_years, number_period, period_end, period_number
from openbureau.metro2.mapping import COLLECTION_OR_CHARGE_OFF, DELINQUENCY, HISTORY

# Payment statuses that are negative information (past due, repaid with assets, paid by the guarantor).
NEGATIVE_STATUSES = (*PAST_DUE_STATUSES, "D", "Z")
NEGATIVE = frozenset(NEGATIVE_STATUSES)
PAST_DUE = frozenset(PAST_DUE_STATUSES)
HELD_STATUS = "#"
NO_RECORD = "/"
# Worst first: 7 (over 180 days) .. 1, then Z (repaid with assets) and D (paid by the guarantor); every other
# status ranks 0.
STATUS_RANK = {**{s: 2 + int(s) for s in PAST_DUE_STATUSES}, "Z": 2, "D": 1}


@functools.lru_cache(maxsize=4096)
def periods_ending(end_period: str, months: int) -> tuple[str, ...]:
    """The ``months`` periods ending at ``end_period``, oldest first."""
    end = period_number(end_period)
    return tuple(number_period(n) for n in range(end - months + 1, end + 1))


def rank(status: str) -> int:
    """How bad a payment status is: 0 (nothing adverse) to 9 (over 180 days past due)."""
    return STATUS_RANK.get(status, 0)


@dataclass(slots=True)
class Month:
    """One reporting month of an account, as published."""

    period: str
    status: str
    balance: int | None  # None: a month known only from a payment history profile
    amount_due: int | None
    past_due_amount: int | None
    days_past_due: int
    row: object = field(repr=False)  # the stored state (a row of ``STATE_COLUMNS``), or a ``ProfileRow``

    @property
    def from_profile(self) -> bool:
        """Whether the month is known only from a later state's payment history profile."""
        return isinstance(self.row, ProfileRow)


@dataclass(frozen=True, slots=True)
class ProfileRow:
    """A month of an account given by the payment history profile of a later state (``source``): the columns
    the rules read, with no amounts."""

    reporting_period: str
    payment_status: str
    days_past_due: int
    source: object = field(repr=False)  # the stored state whose profile gives the month
    account_status: str = "open"
    closed_on: None = None
    negative_notice_date: None = None
    negative_held: int = 0
    balance: None = None
    amount_due: None = None
    past_due_amount: None = None


@dataclass(slots=True)
class Tradeline:
    """One account of a person, its months as published, oldest first."""

    furnisher_id: int
    account_id: str
    product_type: str
    opened_on: date
    currency: str
    months: list[Month]
    hidden_months: int = 0  # negative months past their retention period, not shown
    identities: list[tuple[str, int, bytes]] = field(default_factory=list)  # (period, furnisher, identity_enc)
    # Joint lending (rule 5): the originating platform and its account number when a funder furnished this
    # record, and the funders' records folded into this one.
    facilitator: tuple[int, str] | None = None
    funder_records: list[tuple[int, str]] = field(default_factory=list)

    @property
    def credit(self) -> bool:
        """Whether this is credit (not a utility, telecom or rent account)."""
        return self.product_type not in NON_CREDIT_PRODUCTS

    @property
    def revolving(self) -> bool:
        """Whether this is a revolving line or a card."""
        return self.product_type in REVOLVING_PRODUCTS

    @property
    def latest(self) -> Month:
        """The newest month."""
        return self.months[-1]

    @property
    def is_open(self) -> bool:
        """Whether the account is open in its newest month."""
        return self.months[-1].row.account_status == "open"

    def history(self, end_period: str, months: int) -> str:
        """``months`` statuses ending at ``end_period``, oldest first; ``/`` where nothing was reported."""
        by_period = {m.period: m.status for m in self.months}
        return "".join([by_period.get(p, NO_RECORD) for p in periods_ending(end_period, months)])

    def balances(self, end_period: str, months: int) -> list[int | None]:
        """The balance of each of ``months`` months ending at ``end_period``, oldest first; None where nothing
        was reported (aligned with :meth:`history`)."""
        by_period = {m.period: m.balance for m in self.months}
        return [by_period.get(p) for p in periods_ending(end_period, months)]

    def worst_since(self, start_period: str) -> str | None:
        """The worst status published in ``start_period`` or later (None: no month there)."""
        statuses = [m.status for m in self.months if m.period >= start_period]
        return max(statuses, key=rank) if statuses else None


def revolving_use(lines: Iterable[Tradeline]) -> tuple[int, int]:
    """(balances, limits) of the revolving lines and cards among ``lines`` (pass the open ones)."""
    revolving = [t for t in lines if t.revolving]
    return sum(t.latest.balance for t in revolving), sum(t.latest.row.credit_limit or 0 for t in revolving)


def _negative(row) -> bool:
    return row.payment_status in NEGATIVE or row.account_status == "charged_off" or row.days_past_due > 0


def _expired_months(rows: list, *, as_of: date, retention_years: int) -> set[int]:
    """Indexes of the months (chronological ``rows``) whose adverse event ended over the retention period ago."""
    expired: set[int] = set()
    i, n = 0, len(rows)
    while i < n:
        if not _negative(rows[i]):
            i += 1
            continue
        j = i
        while j + 1 < n and _negative(rows[j + 1]):
            j += 1
        if j + 1 < n:
            ended = period_end(rows[j + 1].reporting_period)
            if rows[j].closed_on is not None:
                ended = min(ended, as_date(rows[j].closed_on))
        else:
            ended = as_date(rows[j].closed_on)  # None: the event goes on
        if ended is not None and add_years(ended, retention_years) < as_of:
            expired.update(range(i, j + 1))
        i = j + 1
    return expired


def _newest_versions(rows: Iterable, until_period: str | None) -> dict[tuple[int, str], dict[str, object]]:
    """account -> period -> the newest version's row."""
    accounts: dict[tuple[int, str], dict[str, object]] = {}
    for row in rows:
        if until_period is not None and row.reporting_period > until_period:
            continue
        months = accounts.setdefault((row.furnisher_id, row.furnisher_account_id), {})
        kept = months.get(row.reporting_period)
        if kept is None or row.version > kept.version:
            months[row.reporting_period] = row
    return accounts


PROFILE_MONTHS = 24  # months a Metro 2 payment history profile covers, the month before its record's first
# A Metro 2 history character's PBoC status; B (no history yet) and D (no history reported for the month) give
# no month, so the grid shows "/" there, as for any month the bureau was not told of.
_PROFILE_STATUS = {**HISTORY, "D": ""}
# A Metro 2 history character's days past due (the bucket's lower bound, as ``metro2.mapping.delinquency``).
_PROFILE_DAYS = {**{str(n): days for n, (days, _) in DELINQUENCY.items()}, "G": COLLECTION_OR_CHARGE_OFF[0],
                 "L": COLLECTION_OR_CHARGE_OFF[0]}


def profile_months(by_period: dict[str, object]) -> list[ProfileRow]:
    """The months of one account (``by_period``: period -> newest stored version) that only a payment
    history profile gives: periods of which no state is held, each from the newest state whose profile
    covers it, never before the account was opened."""
    profiled = {period_number(p): r for p, r in by_period.items() if getattr(r, "history_profile", None)}
    if not profiled:
        return []
    held = {period_number(p) for p in by_period}
    opened = {n: period_number(str(r.opened_on)[:7]) for n, r in profiled.items()}
    newest = max(profiled)
    found: list[ProfileRow] = []
    for month in range(min(profiled) - PROFILE_MONTHS, newest):  # month numbers: no text for a held month
        if month in held:
            continue
        for source in range(min(month + PROFILE_MONTHS, newest), month, -1):  # the newest state covering it first
            row = profiled.get(source)
            if row is None or month < opened[source]:
                continue
            profile = row.history_profile
            char = profile[source - month - 1] if source - month <= len(profile) else ""
            status = _PROFILE_STATUS.get(char, "")
            if status:
                found.append(ProfileRow(number_period(month), status, _PROFILE_DAYS.get(char, 0), row))
                break
    return found


def build_tradelines(rows: Iterable, *, as_of: date, retention_years: int, until_period: str | None = None,
                     with_identity: bool = False) -> list[Tradeline]:
    """A person's tradelines from their stored states (rows of ``STATE_COLUMNS``, plus ``identity_enc`` when
    ``with_identity``), by the rules of this module; oldest account first.

    Args:
        as_of: The report date, against which retention periods are measured.
        retention_years: The profile's retention of negative information.
        until_period: Leave out months after this period (a file as it stood then).
        with_identity: Keep each published month's encrypted identity description.
    """
    lines = []
    for (furnisher_id, account_id), by_period in _newest_versions(rows, until_period).items():
        ordered = [by_period[p] for p in sorted(by_period)]
        if ordered[-1].account_status == "deleted":
            continue
        ordered = [r for r in ordered if r.account_status != "deleted"]
        profiled = profile_months(by_period)
        if profiled:
            ordered = sorted([*ordered, *profiled], key=lambda r: r.reporting_period)
        expired = _expired_months(ordered, as_of=as_of, retention_years=retention_years)
        noticed = [False] * len(ordered)
        seen_notice = False
        for k in range(len(ordered) - 1, -1, -1):
            seen_notice = seen_notice or ordered[k].negative_notice_date is not None
            noticed[k] = seen_notice
        months: list[Month] = []
        identities: list[tuple[str, int, bytes]] = []
        for k, r in enumerate(ordered):
            if k in expired:
                continue
            if r.negative_held and not noticed[k]:
                months.append(Month(r.reporting_period, HELD_STATUS, r.balance, r.amount_due, 0, 0, r))
            else:
                months.append(Month(r.reporting_period, r.payment_status, r.balance, r.amount_due,
                                    r.past_due_amount, r.days_past_due, r))
            if with_identity and not isinstance(r, ProfileRow):
                identities.append((r.reporting_period, furnisher_id, r.identity_enc))
        while months and months[-1].from_profile:  # the newest state's own month expired: no profile after it
            months.pop()
        if not months:
            continue
        last = months[-1].row
        lines.append(Tradeline(furnisher_id, account_id, last.product_type, as_date(last.opened_on), last.currency,
                               months, len(expired), identities, _facilitator(last, furnisher_id)))
    lines = fold_funded(lines)
    lines.sort(key=lambda t: (t.opened_on, t.furnisher_id, t.account_id))
    return lines


def _facilitator(row, furnisher_id: int) -> tuple[int, str] | None:
    """(facilitator, its account number) a funder's record names; None for a furnisher's own loan."""
    facilitator_id = getattr(row, "facilitator_id", None)
    account = getattr(row, "facilitator_account_id", None)
    if facilitator_id is None or account is None or facilitator_id == furnisher_id:
        return None
    return facilitator_id, account


def fold_funded(lines: list[Tradeline]) -> list[Tradeline]:
    """``lines`` without the funders' records whose facilitator's record of the same loan is among them, each
    folded into the facilitator's (rule 5)."""
    if not any(t.facilitator for t in lines):
        return lines
    by_key = {(t.furnisher_id, t.account_id): t for t in lines}
    kept = []
    for t in lines:
        origin = by_key.get(t.facilitator) if t.facilitator else None
        if origin is None or origin.facilitator is not None:  # no chain: a funder's record never absorbs another
            kept.append(t)
        else:
            origin.funder_records.append((t.furnisher_id, t.account_id))
            origin.identities.extend(t.identities)  # how the funder described the person still counts
    return kept


def expired_periods(rows: Iterable, *, as_of: date, retention_years: int) -> list[tuple[int, str, str]]:
    """(furnisher_id, furnisher_account_id, reporting_period) of every month whose negative information has
    outlived its retention period: what the retention job deletes (every version of each)."""
    out = []
    for (furnisher_id, account_id), by_period in _newest_versions(rows, None).items():
        ordered = [by_period[p] for p in sorted(by_period) if by_period[p].account_status != "deleted"]
        for k in sorted(_expired_months(ordered, as_of=as_of, retention_years=retention_years)):
            out.append((furnisher_id, account_id, ordered[k].reporting_period))
    return out


def negative_periods(rows: Iterable) -> list[tuple[int, str, str]]:
    """(furnisher_id, furnisher_account_id, reporting_period) of every month whose newest version carries
    negative information (statuses 1-7, D, Z, a charge-off or days past due)."""
    return [(furnisher_id, account_id, period)
            for (furnisher_id, account_id), by_period in _newest_versions(rows, None).items()
            for period, row in sorted(by_period.items())
            if row.account_status != "deleted" and _negative(row)]
