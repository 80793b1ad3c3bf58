"""Everything the bureau holds about one person, as one machine-readable JSON document (PIPL Art. 45; FCRA
§609(a)(1)).

The document (``people.export_schemas.PersonExport``, versioned) holds the identity documents and every
description of the person as furnished (decrypted for them), every account's stored records (all periods
and versions, held ones with their reason), lending events, every inquiry, the consents and objections,
disputes with their statements, protections, the subjects of the messages sent to them, their erasure
requests, the lenders monitoring their file and what each was told, and the audit log's entries about them
(who, when, what, why). It names nobody else: every row is found by the person's own id (and those of persons
merged into them) or by their own identity documents.

The person asks for it signed in (``GET /v1/me/export``, at most ``OPENBUREAU_EXPORT_MAX_BYTES``; past it 413
``EXPORT_TOO_LARGE``), or the operator writes it at the bureau's counter (``openbureau people export``, no
limit). Either way it is audited (``person.export``, with its counts and size).
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from openbureau.accounts import service as accounts
from openbureau.audit import service as audit
from openbureau.consent import service as consents
from openbureau.consent.schemas import Subject
from openbureau.disputes.service import disputes_of_person, whose_file
from openbureau.enterprises import service as enterprises
from openbureau.identity.repository import PersonRef, merged_documents, person_ids
from openbureau.identity.service import open_identity
from openbureau.inquiries.objections import objections_of
from openbureau.kit.crypto import PiiVault
from openbureau.kit.errors import BureauError
from openbureau.members.service import members_by_id
from openbureau.monitoring import service as monitoring
from openbureau.notifications.service import messages_about
from openbureau.people.errors import EXPORT_TOO_LARGE
from openbureau.people.export_schemas import (
    ExportedAccess,
    ExportedAccount,
    ExportedBusiness,
    ExportedDispute,
    ExportedDocument,
    ExportedErasure,
    ExportedEvent,
    ExportedIdentity,
    ExportedMonitoring,
    ExportedNotice,
    ExportedState,
    ExportedTrigger,
    PersonExport,
)
from openbureau.people.repository import PeopleRepository
from openbureau.people.rights import HELD_FOR_CONSENT
from openbureau.people.schemas import ObjectionRead
from openbureau.policy import Policy
from openbureau.principals import Action, Kind, Principal, authorize
from openbureau.reports.service import inquiries_of
from openbureau.rights.service import protections_of

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
LEGEND = {
    f"held_reason.{HELD_FOR_CONSENT}": "held back from your file: the lender holds no consent of yours to furnish "
                                       "it (you may have it erased: POST /v1/me/erasure)",
    "amounts": "integer minor units of the record's currency (fen, cents)",
    "payment_status": "N current; 1-7 days past due in 30-day steps (7: over 180); C closed; D paid by the "
                      "guarantor; Z repaid with assets",
}


def export_person(session: Session, *, vault: PiiVault, principal: Principal, policy: Policy,
                  subject: Subject | None = None, max_bytes: int | None = None, indent: int | None = None,
                  now: datetime | None = None) -> bytes:
    """The JSON document of everything held about the person, audited (``person.export``).

    Args:
        principal: The signed-in person (their own file), or the operator at the counter (``subject`` names
            the person).
        max_bytes: Refuse with 413 ``EXPORT_TOO_LARGE`` past this size (None: no limit).
        indent: JSON indentation (None: compact).
    """
    authorize(principal, Action.EXPORT_OWN_DATA)
    now = now or datetime.now(UTC)
    person = _person(session, vault=vault, principal=principal, subject=subject)
    document = build_export(session, vault=vault, person=person, policy=policy, now=now)
    body = json.dumps(document.model_dump(mode="json"), ensure_ascii=False, indent=indent).encode()
    if max_bytes is not None and len(body) > max_bytes:
        raise BureauError(f"your export is {len(body):,} bytes, over the {max_bytes:,} bytes served here: ask the "
                          "bureau's counter for it", code=EXPORT_TOO_LARGE, status_code=413,
                          details={"bytes": len(body), "max_bytes": max_bytes})
    audit.record(session, actor_member_id=principal.member_id, actor_code=principal.code, action="person.export",
                 person_id=person.id, details={
                     "for_person": not principal.is_a(Kind.PERSON), "bytes": len(body),
                     "accounts": len(document.accounts), "records": sum(len(a.records) for a in document.accounts),
                     "events": len(document.lending_events), "inquiries": len(document.inquiries),
                     "consents": len(document.consents), "monitored_by": len(document.monitored_by),
                     "access_log": len(document.access_log)})
    return body


def _person(session: Session, *, vault: PiiVault, principal: Principal, subject: Subject | None) -> PersonRef:
    """The person whose file is exported: the signed-in person themselves, or the one the operator names."""
    return whose_file(session, vault=vault, principal=principal, subject=subject)


def build_export(session: Session, *, vault: PiiVault, person: PersonRef, policy: Policy, now: datetime
                 ) -> PersonExport:
    """Everything held about ``person`` (no principal: :func:`export_person` checks who asks and audits)."""
    ids = person_ids(session, person.id)
    documents = [(person.id_type, vault.decrypt(person.id_enc), True)] + [
        (t, vault.decrypt(enc), False) for t, enc in merged_documents(session, person.id)]
    indexes = frozenset((t, i) for t, n, _ in documents for i in vault.index_candidates(n, domain=t))
    states, events = accounts.records_of_person(session, person.id)
    found_consents = consents.consents_about(session, documents=indexes)
    inquiries = inquiries_of(session, person_ids=sorted(ids), since=EPOCH)
    entries = audit.entries_about(session, ids)
    watching, told = monitoring.about_persons(session, person_ids=sorted(ids))
    members = members_by_id(session, {r.furnisher_id for r in states} | {e.furnisher_id for e in events}
                            | {c.grantee_member_id for c in found_consents}
                            | {w.subscriber_id for w in watching} | {t.subscriber_id for t in told}
                            | {e.actor_member_id for e in entries if e.actor_member_id is not None})

    def code(member_id: int | None) -> str | None:
        return None if member_id is None else members[member_id].code if member_id in members else str(member_id)

    disputes = disputes_of_person(session, person_id=person.id)
    notices = messages_about(session, vault=vault, person_ids=ids, documents={(t, n) for t, n, _ in documents},
                             at={c.created_at for c in found_consents}
                             | {c.revoked_at for c in found_consents if c.revoked_at is not None})
    own = {f"PERSON:{i}" for i in ids}
    return PersonExport(
        generated_at=now, jurisdiction=policy.profile.code, legal_basis=policy.profile.export_note, legend=LEGEND,
        person_id=person.id,
        documents=[ExportedDocument(id_type=t, id_number=n, anchor=a) for t, n, a in documents],
        identities=_identities(vault, states, events, code),
        accounts=_accounts(states, members, code),
        businesses=[ExportedBusiness(lender=code(key[0]), account_id=key[1], reporting_period=key[2], version=key[3],
                                     business_name=b.name, enterprise_uscc=b.uscc)
                    for key, b in sorted(enterprises.businesses_of(session.connection(), vault=vault, keys=[
                        (s.furnisher_id, s.furnisher_account_id, s.reporting_period, s.version)
                        for s in states]).items())],
        lending_events=[ExportedEvent(lender=code(e.furnisher_id), account_id=e.furnisher_account_id, **{
            k: getattr(e, k) for k in ExportedEvent.model_fields if k not in ("lender", "account_id")}) for e in events],
        inquiries=inquiries,
        consents=[consents.to_read(c, vault=vault, grantee_code=code(c.grantee_member_id), now=now)
                  for c in found_consents],
        objections=[ObjectionRead.model_validate(o) for o in objections_of(session, person_id=person.id)],
        disputes=[ExportedDispute(
            id=d.id, kind=d.kind, lender=code(d.furnisher_id), account_id=d.furnisher_account_id,
            reporting_period=d.reporting_period, statement=vault.decrypt(d.statement_enc), status=d.status,
            outcome=d.outcome, channel=d.channel, filed_at=d.filed_at, due_at=d.due_at, resolved_at=d.resolved_at,
            consumer_statement=vault.decrypt(d.consumer_statement_enc) if d.consumer_statement_enc else None,
            consumer_statement_at=d.consumer_statement_at) for d in disputes],
        protections=protections_of(session, vault=vault, person_id=person.id, now=now),
        notifications=[ExportedNotice(kind=n.kind, subject=n.subject, created_at=n.created_at, status=n.status,
                                      sent_at=n.sent_at) for n in notices],
        erasures=[ExportedErasure(id=r.id, scope=r.scope, status=r.status, requested_at=r.requested_at,
                                  completed_at=r.completed_at, outcome=json.loads(r.outcome))
                  for r in PeopleRepository(session).erasures_of(sorted(ids))],
        monitored_by=[ExportedMonitoring(lender=code(w.subscriber_id), reference=w.reference, basis=w.basis,
                                         registered_at=w.created_at, score_watched=w.score_threshold is not None)
                      for w in watching],
        monitoring_triggers=[ExportedTrigger(lender=code(t.subscriber_id), kind=t.kind, category=t.category,
                                             occurred_at=t.occurred_at, sent_at=t.created_at) for t in told],
        access_log=[ExportedAccess(at=e.at, by=code(e.actor_member_id) if e.actor_member_id is not None
                                   else "you" if e.actor_code in own else "the bureau",
                                   action=e.action, purpose=e.purpose) for e in entries])


def _identities(vault: PiiVault, states, events, code) -> list[ExportedIdentity]:
    """The distinct descriptions of the person in their records, with who furnished each and when."""
    seen: dict[tuple, dict] = {}
    tagged = [(s.identity_enc, s.furnisher_id, s.reporting_period) for s in states] + [
        (e.identity_enc, e.furnisher_id, f"{e.occurred_at:%Y-%m}") for e in events]
    for token, furnisher_id, period in tagged:
        fields = open_identity(vault, token)
        key = tuple(sorted(fields.items()))
        entry = seen.setdefault(key, {**fields, "lenders": set(), "records": 0, "first": period, "last": period})
        entry["lenders"].add(code(furnisher_id))
        entry["records"] += 1
        entry["first"], entry["last"] = min(entry["first"], period), max(entry["last"], period)
    return [ExportedIdentity(full_name=e["full_name"], birth_date=e["birth_date"], phone=e["phone"],
                             address=e["address"], reported_by=sorted(e["lenders"]), records=e["records"],
                             first_seen=e["first"], last_seen=e["last"])
            for e in sorted(seen.values(), key=lambda e: (e["first"], e["last"]))]


def _accounts(states, members, code) -> list[ExportedAccount]:
    """Every account's stored records, by lender and account."""
    by_account: dict[tuple[int, str], list] = defaultdict(list)
    for s in states:
        by_account[(s.furnisher_id, s.furnisher_account_id)].append(s)
    fields = [k for k in ExportedState.model_fields if k != "negative_held"]
    return [ExportedAccount(lender=code(f), lender_name=members[f].name if f in members else None, account_id=a,
                            records=[ExportedState(negative_held=bool(s.negative_held),
                                                   **{k: getattr(s, k) for k in fields}) for s in rows])
            for (f, a), rows in sorted(by_account.items())]
