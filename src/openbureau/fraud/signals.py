"""The fraud signals of a report, computed in memory from what one indexed read of the fraud tables returned
and from what the report has read already (its tradelines, identity variants, conflicts, multi-lending).

* ``RING``: the person belongs to a ring of at least ``ring_min_size`` persons linked by shared phones or
  addresses that different lenders reported (``fraud.tasks.build_rings``); explained by the ring's size, what
  links it, when it was first seen and the share of its persons who are delinquent, never by who they are.
* ``VELOCITY``: a burst of new credit: accounts opened, applications or hard inquiries at
  ``velocity_lenders_1d`` or more distinct lenders in 24 hours (the multi-lending signal's count, reused, not
  recounted) for at least two kinds of credit, or at one more lender whatever the kind (comparing offers for
  one loan at two or three lenders is no burst).
* ``CONTACT_CHANGE``: a phone or address that a lender furnished as changed on an existing account (a
  ``contact_changed`` event) within ``velocity_change_days``, then given with new credit in the last 7 days and
  never before the change, while the monthly records held another: the account taken over, then used to borrow.
* ``SYNTHETIC_IDENTITY``: a young file (first account opened within ``synthetic_file_months``) together with
  phones or addresses shared with unrelated persons or a name or birth date conflicting across lenders; or
  shared attributes together with a conflicting birth date.
* ``FRAUD_LIST``: confirmed fraud reported by a lender, in force (not withdrawn, not deleted after the
  person's dispute, not left unanswered past the dispute's deadline). Other lenders are not told who reported.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from openbureau.kit.periods import shift_period
from openbureau.policy import SignalSettings
from openbureau.signals.schemas import RiskSignal, Severity, SignalCode

ATTRIBUTE_WORDS = {"phone": "a phone number", "address": "an address"}
CATEGORY_WORDS = {"identity_theft": "identity theft", "synthetic_identity": "a synthetic identity",
                  "application_fraud": "application fraud", "first_party_fraud": "borrowing without intent to repay",
                  "account_takeover": "an account takeover"}


@dataclass(frozen=True, slots=True)
class RingFacts:
    """The person's ring as the last build found it (``fraud_ring_members``)."""

    size: int
    linked_by: str
    lenders: int
    delinquent: int
    shared_attributes: int
    first_seen: str
    built_at: datetime


@dataclass(frozen=True, slots=True)
class ListedReport:
    """A fraud report on the person's file, and the person's dispute of it if any."""

    id: int
    furnisher_id: int
    category: str
    occurred_on: date
    reported_at: datetime
    disputed_until: datetime | None = None  # an open dispute's deadline


@dataclass(frozen=True, slots=True)
class FraudFacts:
    """What the fraud tables hold about one person."""

    ring: RingFacts | None = None
    reports: tuple[ListedReport, ...] = ()


def _linked_words(linked_by: str) -> str:
    return " and ".join(ATTRIBUTE_WORDS.get(k, k) for k in linked_by.split(",") if k)


def ring(*, facts: RingFacts | None, settings: SignalSettings) -> RiskSignal:
    """Whether the person is in a ring of linked persons, in plain words and without naming anyone."""
    thresholds = {"ring_min_size": settings.ring_min_size, "ring_attribute_cap": settings.ring_attribute_cap,
                  "ring_min_lenders": settings.ring_min_lenders, "ring_delinquent_high": settings.ring_delinquent_high}
    if facts is None:
        return RiskSignal(code=SignalCode.RING, triggered=False, severity=Severity.NONE, thresholds=thresholds,
                          explanation="No phone number or address of this person is shared with other persons.",
                          values={"ring_size": 0})
    share = facts.delinquent / facts.size
    values = {"ring_size": facts.size, "linked_by": facts.linked_by, "lenders": facts.lenders,
              "delinquent_share": round(share, 4), "first_seen": facts.first_seen,
              "built_at": facts.built_at.isoformat()}
    others = facts.size - 1
    shared = (f"{_linked_words(facts.linked_by)} given for this person {'is' if facts.shared_attributes == 1 else 'are'}"
              f" also given for {others} other person{'s' if others != 1 else ''}").capitalize()
    if facts.size < settings.ring_min_size:
        return RiskSignal(code=SignalCode.RING, triggered=False, severity=Severity.NONE, values=values,
                          thresholds=thresholds,
                          explanation=f"{shared}; a group of {facts.size} is below the ring size of "
                                      f"{settings.ring_min_size}.")
    severity = Severity.HIGH if share >= settings.ring_delinquent_high else Severity.MEDIUM
    text = (f"{shared}: a group of {facts.size} persons linked by {_linked_words(facts.linked_by)} that "
            f"{facts.lenders} different lenders reported, first seen in {facts.first_seen}. {facts.delinquent} of "
            f"the {facts.size} ({share:.0%}) have been 30 or more days past due. Persons sharing contact details "
            "across lenders can be a fraud ring: check the applicant's identity and contact details.")
    return RiskSignal(code=SignalCode.RING, triggered=True, severity=severity, explanation=text, values=values,
                      thresholds=thresholds)


@dataclass(frozen=True, slots=True)
class NewCreditContact:
    """An application or opening a lender reported, with the contact details it was given (normalised)."""

    furnisher_id: int
    product_type: str | None
    at: datetime
    phone: str | None = None
    address: str | None = None


@dataclass(frozen=True, slots=True)
class AccountContactChange:
    """A lender's change of the phone or address on an existing account (a ``contact_changed`` event), with the
    details it now holds."""

    furnisher_id: int
    at: datetime
    phone: str | None = None
    address: str | None = None


@dataclass(frozen=True, slots=True)
class ContactChange:
    """A phone or address changed on an existing account and then given with new credit."""

    kind: str  # phone | address
    changed_at: datetime  # when the lender of the existing account furnished the change
    days_before: int  # from the change to the moment of the report
    lenders: int  # lenders whose existing accounts took it


def phone_key(value: str | None) -> str | None:
    """A phone's last 11 digits (a country code dropped); fewer than 7 digits: nothing."""
    digits = re.sub(r"\D", "", value or "")[-11:]
    return digits if len(digits) >= 7 else None


def address_key(value: str | None) -> str | None:
    """An address as compared: its numbers (house, building, unit, room) when it has at least two, so that
    another written form of the same address (shorter, abbreviated) is not read as a move; else its text
    without spaces and punctuation, upper case (the same as another when either contains the other: a form
    without the province or city)."""
    if not value:
        return None
    text_ = unicodedata.normalize("NFKC", value).upper()
    numbers = re.findall(r"\d+", text_)
    if len(numbers) >= 2:
        return "#" + "-".join(numbers)
    text_ = re.sub(r"[\s,.;:·，。、\-#]", "", text_)
    return text_ if len(text_) >= 6 else None


def _known(value: str, known: Iterable[str]) -> bool:
    if value in known:
        return True
    return not value.startswith("#") and any(not k.startswith("#") and (k in value or value in k) for k in known)


def contact_changes(*, new_credit: Sequence[NewCreditContact], updates: Sequence[AccountContactChange],
                    phones: Iterable[tuple[str, str]], addresses: Iterable[tuple[str, str]], now: datetime,
                    settings: SignalSettings) -> list[ContactChange]:
    """Phones and addresses that a lender furnished as changed on an existing account within
    ``velocity_change_days``, then given with new credit in the last 7 days, never with new credit before the
    change (a day's leeway for the lender's furnishing), and held by no monthly record of a period before the
    change while another was: the account was given new contact details just before credit was sought, as when
    it is taken over.

    A person's own new number or move reaches their lenders over weeks or months and is given with their
    applications from the day it is theirs, usually before an old lender has it: no signal. ``phones`` and
    ``addresses`` are the file's monthly-record values with the first period (``YYYY-MM``) that carried each.

    Example: a change of phone at the person's bank on day 0 and an application at another lender with that
    phone on day 2 give ``[ContactChange("phone", day 0, 2, 1)]``."""
    recent, leeway = now - timedelta(days=7), timedelta(days=1)
    window = now - timedelta(days=settings.velocity_change_days)
    changes = []
    for kind, on_file, key in (("phone", phones, phone_key), ("address", addresses, address_key)):
        records = [(k, first) for value, first in on_file if (k := key(value)) is not None]
        given: dict[str, list[datetime]] = {}
        for c in new_credit:
            if c.at <= now and (value := key(getattr(c, kind))) is not None:
                given.setdefault(value, []).append(c.at)
        found: dict[str, tuple[datetime, set[int]]] = {}
        for u in sorted(updates, key=lambda u: u.at):
            value = key(getattr(u, kind))
            if value is None or not window <= u.at <= now:
                continue
            before = {k for k, first in records if first < f"{u.at:%Y-%m}"}
            uses = [at for v, ats in given.items() if v == value or _known(v, {value}) for at in ats]
            if (not before or _known(value, before) or not uses or min(uses) < u.at - leeway
                    or max(uses) < recent):
                continue
            at, lenders = found.get(value, (u.at, set()))
            found[value] = (at, lenders | {u.furnisher_id})
        if found:
            at, lenders = min(found.values(), key=lambda f: f[0])
            changes.append(ContactChange(kind, at, (now - at).days, len(lenders)))
    return changes


def velocity(*, multi_lending: RiskSignal, settings: SignalSettings, new_credit: Sequence[NewCreditContact] = (),
             now: datetime | None = None) -> RiskSignal:
    """A burst of new credit across lenders: several lenders within 24 hours, for more than one kind of credit
    (or more lenders than a shopper asks whatever the kind: ``velocity_one_kind_lenders``). Bureaus count a
    shopper's inquiries for one kind of credit within a short window as one, and so does this signal: lenders
    whose kind of credit is not known (a hard inquiry) are not taken for another kind."""
    if multi_lending.code is not SignalCode.MULTI_LENDING:
        raise ValueError("velocity reads the multi-lending signal's figures")
    lenders_1d = int(multi_lending.values.get("lenders_1d") or 0)
    lenders_7d = int(multi_lending.values.get("lenders_7d") or 0)
    day_ago = None if now is None else now - timedelta(days=1)
    kinds_1d = len({c.product_type for c in new_credit
                    if c.product_type and day_ago is not None and day_ago <= c.at <= now})
    values = {"lenders_1d": lenders_1d, "lenders_7d": lenders_7d, "kinds_1d": kinds_1d,
              "new_accounts_1d": multi_lending.values.get("new_accounts_1d"),
              "new_accounts_7d": multi_lending.values.get("new_accounts_7d")}
    thresholds = {"velocity_lenders_1d": settings.velocity_lenders_1d,
                  "velocity_one_kind_lenders": settings.velocity_one_kind_lenders}
    burst = ((lenders_1d >= settings.velocity_lenders_1d and kinds_1d >= 2)
             or lenders_1d >= settings.velocity_one_kind_lenders)
    if not burst:
        return RiskSignal(code=SignalCode.VELOCITY, triggered=False, severity=Severity.NONE, values=values,
                          thresholds=thresholds,
                          explanation=f"{lenders_1d} lender(s) in the last 24 hours and {lenders_7d} in the last "
                                      f"7 days: no burst of applications (comparing offers for one kind of credit "
                                      f"at fewer than {settings.velocity_one_kind_lenders} lenders is none).")
    severity = Severity.HIGH if lenders_1d > settings.velocity_lenders_1d else Severity.MEDIUM
    text = (f"{lenders_1d} different lenders opened credit, took an application or made a hard inquiry in the last "
            "24 hours" + (f", for {kinds_1d} kinds of credit" if kinds_1d >= 2 else "")
            + ": applications sent to many lenders at once, before any can see the others' loans, are how a "
            "bust-out borrows; confirm the applicant's identity and intent.")
    return RiskSignal(code=SignalCode.VELOCITY, triggered=True, severity=severity, explanation=text, values=values,
                      thresholds=thresholds)


def contact_change(*, changes: Sequence[ContactChange], lenders_7d: int, settings: SignalSettings) -> RiskSignal:
    """A phone number or address changed on an existing account and then given with new credit within
    ``velocity_change_days``: the contact details changed just before credit was sought, as in a takeover."""
    values = {"recent_changes": ",".join(c.kind for c in changes) or None,
              "changed_days_before": min((c.days_before for c in changes), default=None), "lenders_7d": lenders_7d}
    thresholds = {"velocity_change_days": settings.velocity_change_days}
    if not changes:
        return RiskSignal(code=SignalCode.CONTACT_CHANGE, triggered=False, severity=Severity.NONE, values=values,
                          thresholds=thresholds,
                          explanation="No phone number or address changed on an existing account was then given "
                                      "with new credit.")
    reasons = []
    for c in changes:
        word = "phone number" if c.kind == "phone" else "address"
        when = "the same day" if c.days_before == 0 else f"{c.days_before} day(s) ago"
        reasons.append(f"a {word} new to the file was put on an existing account at {c.lenders} lender(s) {when} "
                       "and then given with an application")
    text = ("; ".join(reasons).capitalize() + f", and new credit was sought at {lenders_7d} lender(s) in the last 7 "
            "days: the contact details of an existing account changed just before credit was sought, as when an "
            "account is taken over (or a person told one lender of a new number before applying elsewhere); "
            "confirm the applicant through contact details on file before the change.")
    severity = Severity.HIGH if len(changes) > 1 else Severity.MEDIUM
    return RiskSignal(code=SignalCode.CONTACT_CHANGE, triggered=True, severity=severity, explanation=text,
                      values=values, thresholds=thresholds)


def synthetic_identity(*, first_account: date | None, facts: RingFacts | None, conflicts: Sequence[str],
                       now: datetime, settings: SignalSettings) -> RiskSignal:
    """Signs of an invented or stolen identity, each a reason: a young file, attributes shared with others,
    a name or birth date that lenders disagree on."""
    young_since = shift_period(f"{now:%Y-%m}", -settings.synthetic_file_months)
    young = first_account is not None and f"{first_account:%Y-%m}" > young_since
    shared = facts is not None and facts.shared_attributes > 0
    birth = "birth_date_mismatch" in conflicts
    name = "name_mismatch" in conflicts
    reasons = []
    if young:
        reasons.append(f"the file is young: its first account was opened in {first_account:%Y-%m}")
    if shared:
        reasons.append(f"{_linked_words(facts.linked_by)} of this person {'is' if facts.shared_attributes == 1 else 'are'}"
                       f" also given for {facts.size - 1} unrelated person(s)")
    if birth:
        reasons.append("a lender reports a birth date that differs from the ID number's")
    if name:
        reasons.append("lenders report different names")
    triggered = (young and (shared or birth or name)) or (shared and birth)
    values = {"first_account": None if first_account is None else first_account.isoformat(), "young_file": int(young),
              "shared_attributes": facts.shared_attributes if facts else 0,
              "birth_date_conflict": int(birth), "name_conflict": int(name), "reasons": len(reasons)}
    thresholds = {"synthetic_file_months": settings.synthetic_file_months}
    if not triggered:
        text = ("No combination of a young file, shared contact details and conflicting names or birth dates"
                + (f" ({'; '.join(reasons)})." if reasons else "."))
        return RiskSignal(code=SignalCode.SYNTHETIC_IDENTITY, triggered=False, severity=Severity.NONE, values=values,
                          thresholds=thresholds, explanation=text)
    severity = Severity.HIGH if len(reasons) >= 3 else Severity.MEDIUM
    text = ("; ".join(reasons).capitalize() + ": together these are signs of an invented or stolen identity; "
            "check the identity document and its holder.")
    return RiskSignal(code=SignalCode.SYNTHETIC_IDENTITY, triggered=True, severity=severity, explanation=text,
                      values=values, thresholds=thresholds)


def fraud_list(*, reports: Sequence[ListedReport], viewer_id: int | None, consumer: bool,
               members: dict[int, tuple[str, str]], settings: SignalSettings) -> RiskSignal:
    """Confirmed fraud on the bureau's fraud list. The person sees who reported each and how to dispute it;
    a lender sees its own reports as its own and others' as "a lender" (unless the policy names them)."""
    thresholds = {"disclose_reporter": int(settings.fraud_list_disclose_reporter)}
    if not reports:
        return RiskSignal(code=SignalCode.FRAUD_LIST, triggered=False, severity=Severity.NONE, values={"reports": 0},
                          thresholds=thresholds, explanation="No lender reported confirmed fraud on this file.")
    parts = []
    for r in reports:
        what = f"{CATEGORY_WORDS.get(r.category, r.category)} on {r.occurred_on:%Y-%m-%d}"
        if consumer:
            code, name = members.get(r.furnisher_id, ("?", "a lender"))
            who = f"{name} ({code}) reported {what} (report {r.id}; dispute it if it is wrong)"
        elif r.furnisher_id == viewer_id:
            who = f"you reported {what}"
        elif settings.fraud_list_disclose_reporter:
            who = f"{members.get(r.furnisher_id, ('a lender',))[0]} reported {what}"
        else:
            who = f"a lender reported {what}"
        if r.disputed_until is not None:
            who += f", which the person disputes (answer due {r.disputed_until:%Y-%m-%d})"
        parts.append(who)
    disputed = sum(1 for r in reports if r.disputed_until is not None)
    values: dict[str, float | int | str | None] = {
        "reports": len(reports), "disputed": disputed,
        "categories": ",".join(sorted({r.category for r in reports})),
        "own_reports": sum(1 for r in reports if viewer_id is not None and r.furnisher_id == viewer_id)}
    if consumer:
        values["report_ids"] = ",".join(str(r.id) for r in reports)
    text = ("Confirmed fraud is on the bureau's fraud list: " + "; ".join(parts) + "."
            + ("" if consumer else " Confirm the applicant's identity before granting credit."))
    severity = Severity.MEDIUM if disputed == len(reports) else Severity.HIGH
    return RiskSignal(code=SignalCode.FRAUD_LIST, triggered=True, severity=severity, explanation=text, values=values,
                      thresholds=thresholds)
