"""Report assembly: a person's file read once, then shaped into the subscriber's or the person's view.

:func:`read_file` makes the few indexed reads a report needs (the person's account states, inquiries of
the display period, identity conflicts, open disputes, member names); :func:`assemble` builds the
``Report`` from them in memory. The subscriber's view masks other lenders' names and account numbers (as
the PBoC's bank version of the report does) and leaves out other lenders' soft inquiries; the person's view
shows everything, including who looked at the file, why, and on what basis.
"""

from __future__ import annotations

import functools
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from openbureau.accounts.repository import as_date
from openbureau.accounts.service import JointDetails, answered_for, file_states, joint_details, person_events
from openbureau.consent.profiles import JurisdictionProfile
from openbureau.disputes.investigation import FileMarks, marks_of
from openbureau.fraud import signals as fraud_signals
from openbureau.fraud.score import fraud_features, score_fraud
from openbureau.fraud.service import facts_of
from openbureau.fraud.signals import FraudFacts
from openbureau.identity.repository import PersonRef, conflicts_of
from openbureau.identity.service import IDENTITY_FIELDS, open_identity_values, probabilistic_links
from openbureau.inquiries.repository import InquiryRepository
from openbureau.kit.crypto import PiiVault, mask
from openbureau.kit.periods import add_years, last_complete_period, period_end, shift_period
from openbureau.members.repository import MemberRepository
from openbureau.policy import Policy
from openbureau.reports.business import business_accounts, business_section
from openbureau.reports.items import (
    IDENTITY_CONFIRMATION,
    alert_views,
    shown_events,
    shown_tradelines,
    statements,
)
from openbureau.reports.repository import Sections, sections_of
from openbureau.reports.schemas import (
    AccountView,
    DisputeView,
    FunderView,
    IdentityFlag,
    IdentityVariant,
    InquiryView,
    MatchedRecord,
    ObligationView,
    PersonSection,
    RecentLoanView,
    RelatedAccountView,
    Report,
    Summary,
    View,
)
from openbureau.rights.service import Protections, protections_at
from openbureau.scoring.service import released_model, score_file
from openbureau.signals.schemas import RiskSignal
from openbureau.signals.service import CONFLICT_TEXT, evaluate, monthly_obligations
from openbureau.tradelines.events import EventFacts, event_facts, recent_obligations
from openbureau.tradelines.history import (
    HELD_STATUS,
    PAST_DUE,
    Tradeline,
    build_tradelines,
    rank,
    revolving_use,
)

SELF_LABEL = "You, at the bureau"


@dataclass(slots=True)
class PersonFile:
    """Everything a report of one person is built from, read in one transaction."""

    person_id: int
    id_type: str
    id_number: str
    tradelines: list[Tradeline]
    inquiries: Sequence  # rows of InquiryRepository.of_person_since, newest first
    conflicts: list[tuple[str, int | None, datetime]]  # (kind, furnisher_id, detected_at)
    disputes: list[tuple]  # rows of DisputeRepository.open_for
    members: dict[int, tuple[str, str]]  # member id -> (code, name)
    links: Sequence[dict] = ()  # identity.service.probabilistic_links, read for the person's own report only
    events: EventFacts = EventFacts([], [])  # what the lending events add (tradelines.events)
    marks: FileMarks = FileMarks([])  # what the person's disputes hide, mark and add (disputes.investigation)
    protections: Protections = Protections([], False)  # fraud alerts and a freeze in force (rights.service)
    fraud: FraudFacts = FraudFacts()  # the person's ring and fraud reports in force (fraud.service)
    joint: JointDetails = JointDetails({}, set())  # funders, co-borrowers (standard v1.1)
    answered: Sequence[tuple] = ()  # accounts the person guarantees or co-borrows (accounts.service.answered_for)
    businesses: dict = field(default_factory=dict)  # (furnisher, account) -> enterprises.service.Business (v1.1)

    def hard_inquiries(self) -> list[tuple[int | None, datetime]]:
        """(lender, when) of the hard inquiries on file."""
        return [(r.subscriber_id, r.created_at) for r in self.inquiries if r.hard]


def read_file(session: Session, *, vault: PiiVault, person: PersonRef, now: datetime, policy: Policy,
              with_identity: bool = True, with_links: bool = False, subject_indexes: Sequence[bytes] = (),
              as_it_stood: bool = False, sections: Sections | None = None) -> PersonFile:
    """Read a person's file as the policy's jurisdiction profile publishes it at ``now`` (``with_links``: and
    the accounts linked to the person by probabilistic matching, for the person's own report). Lending
    events are those filed under the person and those about ``subject_indexes`` (the subject's blind
    indexes as asked) filed under nobody yet. ``as_it_stood``: a past moment's view, for evaluations over
    a history loaded since (no month after the last complete period before ``now``, no event or inquiry after
    it). ``sections``: which rare sections the file has, when the caller read them with the person."""
    profile = policy.profile
    present = sections or sections_of(session, person.id)
    rows = file_states(session, person.id, with_identity=with_identity)
    marks = marks_of(session, person_id=person.id, now=now) if present.marks else FileMarks([])
    until = last_complete_period(now.date()) if as_it_stood else None
    lines = shown_tradelines(build_tradelines(rows, as_of=now.date(), retention_years=profile.negative_retention_years,
                                              with_identity=with_identity, until_period=until), marks.hidden)
    since = datetime.combine(add_years(now.date(), -profile.inquiry_display_years), now.timetz())
    inquiries = InquiryRepository(session).of_person_since(person.id, since)
    if as_it_stood:  # a history replayed since holds the inquiries made after that moment too
        inquiries = [r for r in inquiries if r.created_at <= now]
    conflicts = conflicts_of(session, person.id) if present.conflicts else []
    links = probabilistic_links(session, person.id) if with_links else []
    found = person_events(session, person_id=person.id, id_type=person.id_type, id_indexes=subject_indexes,
                          since=now - timedelta(days=max(policy.signals.multi_lending())))
    if as_it_stood:
        found = [e for e in found if e.occurred_at <= now]
    events = shown_events(event_facts(found, lines, _contacts(found, vault) if with_identity else None), marks.hidden)
    fraud = facts_of(session, person_id=person.id, now=now) if present.fraud else FraudFacts()
    joint = joint_details(session, [_latest_key(t) for t in lines]) if present.joint else JointDetails({}, set())
    # Hidden by a block or an unverified dispute (the whole account, or its month shown): left out here too.
    answered = [a for a in (answered_for(session, person.id) if present.answered else [])
                if not {(a[0].furnisher_id, a[0].furnisher_account_id, None),
                        (a[0].furnisher_id, a[0].furnisher_account_id, a[0].reporting_period)} & marks.hidden]
    members = member_names(session, needed={t.furnisher_id for t in lines} | {r.subscriber_id for r in inquiries}
                           | {t.facilitator[0] for t in lines if t.facilitator}
                           | {link["furnisher_id"] for link in links}
                           | {loan.furnisher_id for loan in events.recent_loans}
                           | {r.furnisher_id for r in fraud.reports} | {t.latest.row.facilitator_id for t in lines}
                           | {f for funders in joint.funders.values() for f, _ in funders}
                           | {a[0].furnisher_id for a in answered})
    return PersonFile(person.id, person.id_type, vault.decrypt(person.id_enc), lines, inquiries, conflicts,
                      marks.open_disputes, members, links, events, marks,
                      protections_at(session, person_id=person.id, now=now) if present.protections
                      else Protections([], False), fraud, joint, answered,
                      business_accounts(session, vault=vault, tradelines=lines) if present.business else {})


def _latest_key(t: Tradeline) -> tuple[int, str, str, int]:
    return (t.furnisher_id, t.account_id, t.latest.period, t.latest.row.version)


def _related(file: PersonFile, *, labels: Labels, consumer: bool, vault: PiiVault) -> list[RelatedAccountView]:
    """The accounts the person answers for as a guarantor or co-borrower. A lender never sees the borrower's
    identity; the person sees the borrower's name masked (decrypted here, in memory only)."""
    views = []
    for row, role, liability in file.answered:
        own = labels.own(row.furnisher_id)
        name = open_identity_values(vault, row.identity_enc)[0] if consumer else ""
        views.append(RelatedAccountView(
            role=role, lender=labels(row.furnisher_id), own_account=own,
            account_number=row.furnisher_account_id if consumer or own else None, product_type=row.product_type,
            currency=row.currency, amount_lent=row.original_amount if row.original_amount is not None
            else row.credit_limit, balance=row.balance, payment_status=row.payment_status,
            account_status=row.account_status, reporting_period=row.reporting_period,
            liability=liability if liability is not None or role == "guarantor" else row.balance,
            borrower_name=name[:1] + "*" * (len(name) - 1) if name else None))  # the family name's first character
    return views


def _contacts(events: Sequence, vault: PiiVault) -> dict[int, tuple[str | None, str | None]]:
    """Event row id -> (phone, address) given with each application and opening, or furnished as changed on an
    existing account (their sealed identity, decrypted here in memory only: a few per file, docs/fraud.md)."""
    found = {}
    for e in events:
        if e.contact_enc is not None:
            values = open_identity_values(vault, e.contact_enc)
            found[e.id] = (values[2] or None, values[3] or None)
    return found


_NAMES_SECONDS = 60.0
_names: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # engine -> (read at, id -> (code, name))


def member_names(session: Session, *, needed: set[int | None]) -> dict[int, tuple[str, str]]:
    """Member id -> (code, name), read at most once a minute per engine, and again whenever a member
    ``needed`` is not in it (a new member). Names only label lenders in reports; no access rests on them."""
    engine = session.get_bind()
    cached = _names.get(engine)
    now = time.monotonic()
    if cached is None or now - cached[0] > _NAMES_SECONDS or not needed - {None} <= cached[1].keys():
        cached = (now, MemberRepository(session).names())
        _names[engine] = cached
    return cached[1]


LENDER, PROVIDER = "Lender", "Provider"  # the kinds of furnisher a masked label names


class Labels:
    """How furnishers are named in a view: in the subscriber's, other lenders become "Lender 1", "Lender 2" ...
    and other providers of utility, telecom or rent services "Provider 1", ... (a furnisher's kind: it
    lends, or it bills for a service), in order of first appearance, the same label wherever the same member
    appears."""

    def __init__(self, *, view: View, viewer_id: int | None, members: dict[int, tuple[str, str]]) -> None:
        self.view, self.viewer_id, self.members = view, viewer_id, members
        self._masked: dict[int, str] = {}

    def own(self, member_id: int | None) -> bool:
        """Whether the viewing member is this one."""
        return member_id is not None and member_id == self.viewer_id

    def __call__(self, member_id: int | None, *, kind: str = LENDER) -> str:
        if member_id is None:
            return SELF_LABEL if self.view is View.CONSUMER else "the bureau"
        code, name = self.members.get(member_id, (f"member {member_id}", f"member {member_id}"))
        if self.view is View.CONSUMER:
            return f"{name} ({code})"
        if self.own(member_id):
            return code
        if member_id not in self._masked:
            self._masked[member_id] = f"{kind} {sum(1 for v in self._masked.values() if v.startswith(kind)) + 1}"
        return self._masked[member_id]


@functools.lru_cache(maxsize=65_536)
def _normal_phone(value: str) -> str:
    digits = "".join(ch for ch in value if ch.isdigit())
    return digits[-11:] if len(digits) >= 11 else digits


def _variants(file: PersonFile, vault: PiiVault) -> dict[str, list[IdentityVariant]]:
    """Every distinct name, birth date, phone and address in the person's records, with when and by how many
    lenders each was reported (each record's description is decrypted here, in memory only)."""
    seen: tuple[dict, ...] = ({}, {}, {}, {})  # IDENTITY_FIELDS order: name, birth date, phone, address
    for line in file.tradelines:
        for period, furnisher_id, token in line.identities:
            for index, value in enumerate(open_identity_values(vault, token)):
                if not value:
                    continue
                if index == 2:
                    value = _normal_phone(value)
                entry = seen[index].get(value)
                if entry is None:
                    seen[index][value] = [period, period, {furnisher_id}]
                else:
                    if period < entry[0]:
                        entry[0] = period
                    elif period > entry[1]:
                        entry[1] = period
                    entry[2].add(furnisher_id)
    # Newest first, then the most widely reported.
    return {name: sorted((IdentityVariant(value=v, first_reported=e[0], last_reported=e[1], lenders=len(e[2]))
                          for v, e in values.items()), key=lambda x: (x.last_reported, x.lenders, x.value),
                         reverse=True)
            for name, values in zip(IDENTITY_FIELDS, seen, strict=True)}


def _summary(file: PersonFile, *, as_of_period: str, currency: str, now: datetime) -> Summary:
    credit = [t for t in file.tradelines if t.credit]
    mine = [t for t in credit if t.currency == currency]
    open_ = [t for t in mine if t.is_open]
    revolving, limits = revolving_use(open_)

    def worst(months: int) -> str:
        start = shift_period(as_of_period, -(months - 1))
        found = max((s for t in credit if (s := t.worst_since(start)) is not None), key=rank, default="N")
        return found if rank(found) else "N"

    year_ago = now - timedelta(days=365)
    return Summary(
        currency=currency, credit_accounts=len(mine), open_accounts=len(open_),
        closed_accounts=len(mine) - len(open_), distinct_lenders=len({t.furnisher_id for t in open_}),
        total_credit_limit=limits, total_balance=sum(t.latest.balance for t in open_), revolving_balance=revolving,
        utilisation=round(revolving / limits, 4) if limits else None,
        monthly_obligations=monthly_obligations(file.tradelines, currency=currency)
        + recent_obligations(file.events.recent_loans, currency=currency),
        past_due_amount=sum(t.latest.past_due_amount for t in open_),
        worst_status_12m=worst(12), worst_status_24m=worst(24),
        non_credit_accounts=sum(1 for t in file.tradelines if not t.credit),
        accounts_in_other_currencies=len(credit) - len(mine),
        hard_inquiries_12m=sum(1 for r in file.inquiries if r.hard and r.created_at >= year_ago),
    )


def assemble(file: PersonFile, *, view: View, viewer_id: int | None, vault: PiiVault, now: datetime,
             policy: Policy, history_months: int = 24, declared_income: int | None = None,
             session: Session | None = None) -> Report:
    """The report of ``file`` in ``view`` (for ``viewer_id``, the subscriber looking; None for the person),
    under ``policy`` (its profile and signal thresholds), scored by the released credit model and the released
    fraud model (each only once released) when ``session`` is given."""
    profile = policy.profile
    labels = Labels(view=view, viewer_id=viewer_id, members=file.members)
    consumer = view is View.CONSUMER
    disputed = {(d[2], d[3]) for d in file.disputes if d[1] == "account" and d[0] not in file.marks.overdue}
    accounts, obligations, business_views = [], [], []
    # Credit first, so that masked lenders are numbered in the order of the accounts list.
    for t in sorted(file.tradelines, key=lambda t: not t.credit):
        m, row = t.latest, t.latest.row
        own = labels.own(t.furnisher_id)
        history = t.history(m.period, history_months)
        common = dict(own_account=own, account_number=t.account_id if consumer or own else None,
                      product_type=t.product_type, opened_on=t.opened_on, currency=t.currency, balance=m.balance,
                      amount_due=m.amount_due, past_due_amount=m.past_due_amount, payment_status=m.status,
                      account_status=row.account_status, reporting_period=m.period,
                      payment_history_start=shift_period(m.period, -(history_months - 1)), payment_history=history,
                      balance_history=t.balances(m.period, history_months),
                      disputed=(t.furnisher_id, t.account_id) in disputed,
                      consumer_statements=statements(file.marks, vault, t.furnisher_id, t.account_id))
        if t.credit:
            key = _latest_key(t)
            (business_views if (t.furnisher_id, t.account_id) in file.businesses else accounts).append(AccountView(
                lender=labels(t.furnisher_id), closed_on=as_date(row.closed_on), credit_limit=row.credit_limit,
                original_amount=row.original_amount, term_months=row.term_months, amount_paid=row.amount_paid,
                days_past_due=m.days_past_due, joint=key in file.joint.co_borrowed,
                facilitator=labels(t.facilitator[0]) if t.facilitator else None,
                funders=[FunderView(lender=labels(f), own=labels.own(f), share_bp=share)
                         for f, share in file.joint.funders.get(key, [])],
                funder_records=len(t.funder_records), **common))
        else:
            obligations.append(ObligationView(
                provider=labels(t.furnisher_id, kind=PROVIDER), months_late_24m=sum(1 for s in t.history(m.period, 24) if s in PAST_DUE),
                **common))
    related = _related(file, labels=labels, consumer=consumer, vault=vault)
    businesses = business_section(business_views, file=file, consumer=consumer)
    recent = [RecentLoanView(lender=labels(loan.furnisher_id), own_account=labels.own(loan.furnisher_id),
                             account_number=loan.account_id if consumer or labels.own(loan.furnisher_id) else None,
                             product_type=loan.product_type, currency=loan.currency, amount=loan.amount,
                             term_months=loan.term_months, opened_on=loan.opened_on,
                             monthly_amount=loan.monthly_amount, status=loan.status,
                             days_past_due=loan.days_past_due, reported_at=loan.reported_at)
              for loan in file.events.recent_loans]
    inquiries = [InquiryView(at=r.created_at, lender=labels(r.subscriber_id), purpose=r.purpose, hard=bool(r.hard),
                             basis=_basis(r) if consumer else None)
                 for r in file.inquiries if consumer or r.hard or labels.own(r.subscriber_id)]
    disputes = [DisputeView(id=d[0], kind=d[1], lender=labels(d[2]) if d[2] is not None else None,
                            account_number=d[3] if consumer or labels.own(d[2]) else None, reporting_period=d[4],
                            filed_at=d[6], due_at=d[7], overdue=d[0] in file.marks.overdue)
                for d in file.disputes if consumer or d[0] not in file.marks.overdue]  # a lender: shown items only
    lends = {t.furnisher_id for t in file.tradelines if t.credit}
    flags = [IdentityFlag(kind=kind, detected_at=at, lender=None if furnisher is None else labels(
                              furnisher, kind=LENDER if furnisher in lends else PROVIDER),
                          explanation=CONFLICT_TEXT.get(kind, kind)) for kind, furnisher, at in file.conflicts]
    signals: list[RiskSignal] = evaluate(
        tradelines=file.tradelines, hard_inquiries=file.hard_inquiries(), declared_income=declared_income,
        conflicts=[c[0] for c in file.conflicts], now=now, currency=profile.currency,
        settings=policy.signals, new_credit=file.events.new_credit, recent_loans=file.events.recent_loans)
    matched = [MatchedRecord(lender=labels(link["furnisher_id"]), account_number=link["furnisher_account_id"],
                             linked_at=link["linked_at"], match_probability=link["match_probability"],
                             method="automatic" if link["method"] == "splink" else "operator review",
                             agreeing=link["evidence"].get("agreeing", []))
               for link in file.links] if consumer else []
    variants = _variants(file, vault)
    as_of_period = last_complete_period(now.date())
    signals += _fraud_signals(file, multi_lending=signals[0], variants=variants, viewer_id=viewer_id,
                              consumer=consumer, as_of_period=as_of_period, policy=policy, now=now)
    card = released_model(session) if session is not None else None
    score = None if card is None else score_file(
        card, tradelines=file.tradelines, hard_inquiries=[at for _, at in file.hard_inquiries()],
        observed=period_end(as_of_period), for_person=consumer)
    # The fraud-risk score reads only the signals above: no statement of its own (docs/fraud.md).
    fraud_card = released_model(session, kind="fraud") if session is not None else None
    fraud_score = None if fraud_card is None else score_fraud(fraud_card, fraud_features(signals, now=now))
    return Report(
        view=view, generated_at=now, as_of_period=as_of_period, jurisdiction=profile.code,
        person=PersonSection(id_type=file.id_type, id_number=file.id_number if consumer else mask(file.id_number),
                             names=variants["full_name"], birth_dates=variants["birth_date"],
                             phones=variants["phone"], addresses=variants["address"]),
        summary=_summary(file, as_of_period=as_of_period, currency=profile.currency, now=now),
        accounts=accounts, obligations=obligations, business_accounts=businesses, recent_loans=recent,
        guarantees=[r for r in related if r.role == "guarantor"],
        joint_accounts=[r for r in related if r.role == "co_borrower"], inquiries=inquiries, disputes=disputes,
        fraud_alerts=alert_views(file.protections), security_freeze=file.protections.frozen, identity_flags=flags,
        matched_records=matched, signals=signals, score=score, fraud_score=fraud_score, notes=_notes(file, view=view, profile=profile),
    )


def _fraud_signals(file: PersonFile, *, multi_lending: RiskSignal, variants: dict[str, list[IdentityVariant]],
                   viewer_id: int | None, consumer: bool, as_of_period: str, policy: Policy, now: datetime
                   ) -> list[RiskSignal]:
    """RING, VELOCITY, CONTACT_CHANGE, SYNTHETIC_IDENTITY and FRAUD_LIST from what the file read (docs/fraud.md)."""
    settings = policy.signals
    applied = [fraud_signals.NewCreditContact(c.furnisher_id, c.product_type, c.at, c.phone, c.address)
               for c in file.events.new_credit]
    updates = [fraud_signals.AccountContactChange(u.furnisher_id, u.at, u.phone, u.address)
               for u in file.events.contact_updates]
    changes = fraud_signals.contact_changes(
        new_credit=applied, updates=updates, now=now, settings=settings,
        phones=[(v.value, v.first_reported) for v in variants["phone"]],
        addresses=[(v.value, v.first_reported) for v in variants["address"]])
    opened = [t.opened_on for t in file.tradelines if t.credit] + [loan.opened_on for loan in file.events.recent_loans
                                                                   if loan.opened_on is not None]
    return [
        fraud_signals.ring(facts=file.fraud.ring, settings=settings),
        fraud_signals.velocity(multi_lending=multi_lending, settings=settings, new_credit=applied, now=now),
        fraud_signals.contact_change(changes=changes, lenders_7d=int(multi_lending.values.get("lenders_7d") or 0),
                                     settings=settings),
        fraud_signals.synthetic_identity(first_account=min(opened, default=None), facts=file.fraud.ring,
                                         conflicts=[c[0] for c in file.conflicts], now=now, settings=settings),
        fraud_signals.fraud_list(reports=file.fraud.reports, viewer_id=viewer_id, consumer=consumer,
                                 members=file.members, settings=settings),
    ]


def _basis(row) -> str:
    if row.basis == "consent":
        return f"your consent {row.consent_ref}"
    if row.basis == "self":
        return "your own request"
    return row.basis_note or row.basis


def _notes(file: PersonFile, *, view: View, profile: JurisdictionProfile) -> list[str]:
    notes = [f"Negative information is shown for {profile.negative_retention_years} years after the adverse event "
             f"ended; inquiries for {profile.inquiry_display_years} years ({profile.code} profile)."]
    hidden = sum(t.hidden_months for t in file.tradelines)
    if hidden:
        notes.append(f"{hidden} month(s) of negative information past the retention period are no longer shown.")
    if any(m.status == HELD_STATUS for t in file.tradelines for m in t.months):
        notes.append("# marks negative information not yet published: the lender has not shown that the person "
                     "was notified of it (Art. 15).")
    if file.protections.alerts:
        notes.append(IDENTITY_CONFIRMATION)
    if view is View.CONSUMER and file.marks.hidden:
        notes.append(f"{len(file.marks.hidden)} item(s) are not shown: deleted after a dispute, blocked after an "
                     "identity-theft report, or disputed and not verified by the deadline.")
    if view is View.SUBSCRIBER:
        notes.append("Other lenders' names and account numbers are masked; their soft inquiries are not shown.")
    return notes
