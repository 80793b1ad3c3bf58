"""Rules of monitoring registrations: a lender registers the subjects it holds, and reads its triggers.

A subscriber may monitor a person only on the lawful basis an account review would need at that moment:
a consent of the person to it for ``account_review`` in force, or the profile's existing-account exception
(an open account of the lender released in the person's file, and no objection of the person). The check
is the inquiry's own (``inquiries.access``), handed in by the adapter because the inquiry domain sits above
the load and the event intake that write triggers. A lender sees and deletes only its own registrations;
every registration, deletion and read is audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

from sqlalchemy import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from openbureau.audit import service as audit
from openbureau.consent.profiles import Purpose
from openbureau.identity.repository import PersonRef, find_person
from openbureau.kit.crypto import PiiVault
from openbureau.kit.errors import BureauError, Conflict, NotFound
from openbureau.members.models import Product
from openbureau.monitoring.errors import ALREADY_MONITORED, SUBJECT_NOT_FOUND, SUBSCRIPTION_NOT_FOUND
from openbureau.monitoring.repository import MonitoringRepository
from openbureau.monitoring.schemas import (
    MAX_BULK,
    BulkOutcome,
    BulkResult,
    SubscriptionCreate,
    SubscriptionRead,
    SubscriptionUpdate,
    TriggerRead,
)
from openbureau.policy import Policy
from openbureau.principals import Action, Principal, authorize

PURPOSE = Purpose.ACCOUNT_REVIEW
MAX_PAGE = 500


class LawfulAccess(Protocol):
    """The inquiry's access rules (``openbureau.inquiries.access``): the member's checks and the basis."""

    def check_member(self, session: Session, *, principal: Principal, purpose: Purpose, policy: Policy,
                     product: Product, day: date | None = None) -> None: ...

    def lawful_basis(self, session: Session, *, principal: Principal, purpose: Purpose, id_type: str,
                     id_indexes: tuple[bytes, ...], consent_ref: str | None, person: PersonRef | None,
                     policy: Policy, moment: datetime) -> Any: ...


@dataclass(frozen=True, slots=True)
class Registrar:
    """What every registration needs: the vault, the policy and the inquiry's access rules."""

    vault: PiiVault
    policy: Policy
    access: LawfulAccess


def register(session: Session, *, registrar: Registrar, principal: Principal, data: SubscriptionCreate,
             now: datetime | None = None) -> SubscriptionRead:
    """Register one subject for monitoring; 403 without a lawful basis, 404 when the bureau holds no file of
    the person (asked only once the basis is found), 409 when the lender monitors the subject already."""
    authorize(principal, Action.MONITOR_PORTFOLIO)
    now = now or datetime.now(UTC)
    registrar.access.check_member(session, principal=principal, purpose=PURPOSE, policy=registrar.policy,
                                  product=Product.MONITORING, day=now.date())
    return _register(session, registrar=registrar, principal=principal, data=data, now=now)


def _register(session: Session, *, registrar: Registrar, principal: Principal, data: SubscriptionCreate,
              now: datetime) -> SubscriptionRead:
    vault, subject = registrar.vault, data.subject
    indexes = vault.index_candidates(subject.id_number, domain=subject.id_type)
    person = next((p for p in (find_person(session, id_type=subject.id_type, id_index=i) for i in indexes)
                   if p is not None), None)
    basis = registrar.access.lawful_basis(
        session, principal=principal, purpose=PURPOSE, id_type=subject.id_type, id_indexes=indexes,
        consent_ref=data.consent_ref, person=person, policy=registrar.policy, moment=now)
    if person is None:
        raise NotFound("the bureau holds no file of this person yet", code=SUBJECT_NOT_FOUND, field="subject")
    repo = MonitoringRepository(session.connection())
    if repo.subject_by_index(subscriber_id=principal.member_id, id_type=subject.id_type, id_indexes=indexes):
        raise Conflict("you monitor this subject already", code=ALREADY_MONITORED, field="subject")
    values = dict(subscriber_id=principal.member_id, reference=data.reference, id_type=subject.id_type,
                  id_index=indexes[0], id_enc=vault.encrypt(subject.id_number), person_id=person.id,
                  basis=basis.describe()[:80], created_at=now, score_threshold=data.score_threshold,
                  score_baseline=None)
    try:
        with session.begin_nested():
            subscription_id = repo.add_subject(values)
    except IntegrityError:  # registered by a concurrent request
        raise Conflict("you monitor this subject already", code=ALREADY_MONITORED, field="subject") from None
    audit.record(session, actor_member_id=principal.member_id, actor_code=principal.code, action="monitoring.register",
                 person_id=person.id, purpose=PURPOSE.value,
                 details={"subscription_id": subscription_id, "basis": values["basis"]})
    return SubscriptionRead(id=subscription_id, reference=data.reference, id_type=subject.id_type,
                            basis=values["basis"], created_at=now, score_threshold=data.score_threshold)


def register_many(session: Session, *, registrar: Registrar, principal: Principal, items: list[SubscriptionCreate],
                  now: datetime | None = None) -> BulkResult:
    """Register up to ``MAX_BULK`` subjects, each on its own (a refusal does not stop the others)."""
    authorize(principal, Action.MONITOR_PORTFOLIO)
    if not 0 < len(items) <= MAX_BULK:
        raise ValueError(f"1 to {MAX_BULK} subjects at once")
    now = now or datetime.now(UTC)
    registrar.access.check_member(session, principal=principal, purpose=PURPOSE, policy=registrar.policy,
                                  product=Product.MONITORING, day=now.date())
    outcomes = []
    for position, item in enumerate(items, start=1):
        try:
            with session.begin_nested():
                read = _register(session, registrar=registrar, principal=principal, data=item, now=now)
            outcomes.append(BulkOutcome(position=position, reference=item.reference, outcome="registered",
                                        subscription_id=read.id))
        except BureauError as exc:
            outcomes.append(BulkOutcome(position=position, reference=item.reference, outcome="refused",
                                        code=exc.code, message=str(exc.message)[:200]))
    registered = sum(o.outcome == "registered" for o in outcomes)
    return BulkResult(registered=registered, refused=len(outcomes) - registered, outcomes=outcomes)


def list_subscriptions(session: Session, *, principal: Principal, after_id: int = 0,
                       limit: int = 100) -> list[SubscriptionRead]:
    """A page of the lender's own registrations (never the identity numbers)."""
    authorize(principal, Action.MONITOR_PORTFOLIO)
    rows = MonitoringRepository(session.connection()).subjects(subscriber_id=principal.member_id, after_id=after_id,
                                                               limit=min(max(limit, 1), MAX_PAGE))
    audit.record(session, actor_member_id=principal.member_id, actor_code=principal.code, action="monitoring.list",
                 purpose=PURPOSE.value, details={"subscriptions": [r.id for r in rows][:MAX_PAGE]})
    return [SubscriptionRead(id=r.id, reference=r.reference, id_type=r.id_type, basis=r.basis,
                             created_at=r.created_at, score_threshold=r.score_threshold) for r in rows]


def _own_subject(session: Session, *, principal: Principal, subscription_id: int):
    """The repository and the calling lender's registration ``subscription_id`` (another lender's: not found)."""
    authorize(principal, Action.MONITOR_PORTFOLIO)
    repo = MonitoringRepository(session.connection())
    row = repo.subject(subscriber_id=principal.member_id, subject_id=subscription_id)
    if row is None:
        raise NotFound(f"you monitor no subject {subscription_id}", code=SUBSCRIPTION_NOT_FOUND,
                       field="subscription_id")
    return repo, row


def update_subscription(session: Session, *, principal: Principal, subscription_id: int,
                        data: SubscriptionUpdate) -> SubscriptionRead:
    """Set (or clear) the score watch of one of the lender's registrations; the next look of the score watch
    takes the score then as the one changes are measured from."""
    repo, row = _own_subject(session, principal=principal, subscription_id=subscription_id)
    repo.set_score_threshold(row.id, data.score_threshold)
    audit.record(session, actor_member_id=principal.member_id, actor_code=principal.code,
                 action="monitoring.update", person_id=row.person_id, purpose=PURPOSE.value,
                 details={"subscription_id": row.id, "score_threshold": data.score_threshold})
    read = repo.subjects(subscriber_id=principal.member_id, after_id=row.id - 1, limit=1)[0]
    return SubscriptionRead(id=read.id, reference=read.reference, id_type=read.id_type, basis=read.basis,
                            created_at=read.created_at, score_threshold=read.score_threshold)


def delete_subscription(session: Session, *, principal: Principal, subscription_id: int) -> None:
    """Stop monitoring one of the lender's subjects (another lender's is not found)."""
    repo, row = _own_subject(session, principal=principal, subscription_id=subscription_id)
    repo.delete_subject(row.id)
    audit.record(session, actor_member_id=principal.member_id, actor_code=principal.code,
                 action="monitoring.unregister", person_id=row.person_id, purpose=PURPOSE.value,
                 details={"subscription_id": row.id})


def list_triggers(session: Session, *, principal: Principal, after_id: int = 0, limit: int = 100) -> list[TriggerRead]:
    """The lender's triggers after ``after_id``, oldest first (a pull beside the webhooks)."""
    authorize(principal, Action.MONITOR_PORTFOLIO)
    rows = MonitoringRepository(session.connection()).triggers(subscriber_id=principal.member_id, after_id=after_id,
                                                               limit=min(max(limit, 1), MAX_PAGE))
    audit.record(session, actor_member_id=principal.member_id, actor_code=principal.code,
                 action="monitoring.triggers", purpose=PURPOSE.value, details={"triggers": [r.id for r in rows]})
    return [TriggerRead(id=r.id, kind=r.kind, category=r.category, reference=r.reference, occurred_at=r.occurred_at,
                        created_at=r.created_at) for r in rows]


def about_persons(session: Session, *, person_ids: Sequence[int]) -> tuple[Sequence[Row], Sequence[Row]]:
    """Who monitors these persons' file and the triggers written about them (the person's export: the caller
    checks who asks and audits); see ``MonitoringRepository.about_persons``."""
    return MonitoringRepository(session.connection()).about_persons(person_ids)

