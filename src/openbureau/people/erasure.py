"""The person's erasure of what the jurisdiction profile allows (PIPL Art. 47).

The profile says what may be erased and why (``JurisdictionProfile.erasure_grounds``). CN: records a lender
furnished without the person's consent in force, held back from the file (``held_records``: account states
and lending events held for want of consent, including those furnished after a consent was revoked), and
negative months whose retention period has ended (``expired_negative``, the retention job's rule applied to
the person's file now); ``all_allowed`` asks for both. Records furnished under a consent are the person's
credit history and are kept (the refusal says why, ``erasure_note``). US: the FCRA gives no right to erasure,
and every request is refused with 403 ``ERASURE_NOT_AVAILABLE`` naming the law.

How: the request is recorded, then erased in short write transactions of at most ``ERASURE_BATCH`` rows, as
the retention job does, each with an audit entry of its counts; loads and inquiries never wait behind it.
Each step holds the intake lock for its own transaction only: when a load is running, the request answers
409 ``LOAD_IN_PROGRESS`` at once (what was erased stays erased; asking again finishes it). Erased account
periods and events are listed (``erased_states``, ``erased_events``) and never stored again: a file sent
again is refused for them (``ERASED_RECORD``), an event sent again is a duplicate, and a consent that arrives
later releases nothing, because nothing is left to release. The last step records the outcome, audits it
(``person.erasure``, counts only) and tells the person (outbox).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from openbureau.accounts import service as accounts
from openbureau.audit import service as audit
from openbureau.consent.profiles import ErasureScope, JurisdictionProfile
from openbureau.enterprises import service as enterprises
from openbureau.identity.errors import PERSON_NOT_FOUND
from openbureau.identity.repository import find_person_by_id
from openbureau.kit.crypto import PiiVault
from openbureau.kit.db import IntakeBusy, session_scope, try_lock_intake
from openbureau.kit.errors import Forbidden, NotFound
from openbureau.notifications import service as notifications
from openbureau.people.errors import ERASURE_NOT_AVAILABLE
from openbureau.people.models import ErasureRequest
from openbureau.people.repository import PeopleRepository
from openbureau.people.rights import HELD_FOR_CONSENT
from openbureau.people.schemas import ErasureResult, Refusal
from openbureau.policy import Policy
from openbureau.principals import Action, Principal, authorize
from openbureau.tradelines.history import expired_periods, negative_periods

ERASURE_BATCH = 500  # rows (held) or months (expired) per write transaction
BUSY = "a file is being loaded: ask again in a few minutes (what was erased so far stays erased)"
# What the bureau keeps whatever the scope, and why: shown with ``all_allowed``.
KEPT_LOGS = ("the inquiry log, your consents, disputes and protections, and the access log: the record of who "
             "looked at your file and why, kept so that every access stays answerable to you and the regulator")


def check_scope(profile: JurisdictionProfile, scope: ErasureScope) -> tuple[ErasureScope, ...]:
    """The categories ``scope`` erases under ``profile``; 403 ``ERASURE_NOT_AVAILABLE`` naming the law when
    the profile allows none of them."""
    categories = profile.erasure_categories(scope)
    refused = [c for c in categories if c not in profile.erasure_grounds]
    if refused or not categories:
        raise Forbidden(f"erasure ({scope.value}) is not available under the {profile.code} profile: "
                        f"{profile.erasure_note}", code=ERASURE_NOT_AVAILABLE, field="scope")
    return categories


@dataclass(slots=True)
class _Run:
    request_id: int
    person_id: int
    code: str


@contextmanager
def _step(engine: Engine, run: _Run) -> Iterator[Session]:
    """One short write transaction of the erasure, with no load running and the person's rows locked."""
    with session_scope(engine, write=True) as session:
        if not try_lock_intake(session.connection()):
            raise IntakeBusy(BUSY)
        PeopleRepository(session).lock_person(run.person_id)
        yield session


def erase(engine: Engine, *, vault: PiiVault, principal: Principal, policy: Policy, scope: ErasureScope,
          now: datetime | None = None) -> ErasureResult:
    """Erase what ``scope`` asks for and the profile allows, in short transactions; what was erased (counts)
    and what was kept and why. See the module's docstring."""
    authorize(principal, Action.ERASE_OWN_DATA)
    now = now or datetime.now(UTC)
    profile = policy.profile
    categories = check_scope(profile, scope)
    with session_scope(engine, write=True) as session:
        person = find_person_by_id(session, principal.person_id) if principal.person_id is not None else None
        if person is None:
            raise NotFound("the bureau holds no file for you", code=PERSON_NOT_FOUND)
        if not try_lock_intake(session.connection()):
            raise IntakeBusy(BUSY)
        request = ErasureRequest(person_id=person.id, scope=scope.value, status="in_progress",
                                 requested_by=principal.code, requested_at=now)
        PeopleRepository(session).add(request)
        run = _Run(request.id, person.id, principal.code)
    erased: Counter[str] = Counter()
    if ErasureScope.HELD_RECORDS in categories:
        _erase_held(engine, run, erased, now)
    if ErasureScope.EXPIRED_NEGATIVE in categories:
        _erase_expired(engine, run, erased, now, profile)
    with _step(engine, run) as session:
        enterprises.forget_orphan_links(session.connection())  # v1.1: the erased states' business links
        refused = _refused(session, run.person_id, scope=scope, categories=categories, profile=profile, now=now)
        request = session.get(ErasureRequest, run.request_id)
        request.status, request.completed_at = "completed", now
        counts = dict(sorted(erased.items()))
        request.outcome = json.dumps({"erased": counts, "refused": [r.model_dump() for r in refused]},
                                     sort_keys=True, separators=(",", ":"))
        audit.record(session, actor_member_id=None, actor_code=run.code, action="person.erasure",
                     person_id=run.person_id, details={"erasure_id": run.request_id, "scope": scope.value, **counts,
                                                       "refused": {r.what: r.count for r in refused}})
        notifications.enqueue(session, [notifications.compose(
            vault, kind="erasure.done", subject="Your erasure request", person_id=run.person_id, now=now,
            body=_notice(erased, refused, now))])
        return ErasureResult(id=run.request_id, scope=scope.value, jurisdiction=profile.code, status=request.status,
                             requested_at=request.requested_at, completed_at=request.completed_at, erased=counts,
                             grounds={c.value: profile.erasure_grounds[c] for c in categories}, refused=refused)


def _erase_held(engine: Engine, run: _Run, erased: Counter[str], now: datetime) -> None:
    """Held records and events, ``ERASURE_BATCH`` of each per transaction, until none is left."""
    while True:
        with _step(engine, run) as session:
            step = accounts.erase_held(session, person_id=run.person_id, reason=HELD_FOR_CONSENT,
                                       erasure_id=run.request_id, moment=now, limit=ERASURE_BATCH)
            if step.states or step.events or step.parties:
                audit.record(session, actor_member_id=None, actor_code=run.code, action="erasure.delete",
                             person_id=run.person_id, details={"erasure_id": run.request_id,
                                                               "category": ErasureScope.HELD_RECORDS.value,
                                                               "records": step.states, "events": step.events,
                                                               **({"parties": step.parties} if step.parties else {})})
        erased["held_records"] += step.states
        erased["held_events"] += step.events
        if step.parties:  # named as a co-borrower or guarantor without consent (standard v1.1)
            erased["held_parties"] += step.parties
        if step.states < ERASURE_BATCH and step.events < ERASURE_BATCH:
            return


def _erase_expired(engine: Engine, run: _Run, erased: Counter[str], now: datetime, profile: JurisdictionProfile
                   ) -> None:
    """Negative months past retention (the retention job's rule), ``ERASURE_BATCH`` months per transaction,
    each batch found again inside its own transaction so that nothing read earlier is trusted."""
    while True:
        with _step(engine, run) as session:
            states, _ = accounts.records_of_person(session, run.person_id)
            keys = expired_periods(states, as_of=now.date(), retention_years=profile.negative_retention_years)
            if not keys:
                return
            step = accounts.erase_periods(session, keys[:ERASURE_BATCH], erasure_id=run.request_id, moment=now)
            audit.record(session, actor_member_id=None, actor_code=run.code, action="erasure.delete",
                         person_id=run.person_id, details={"erasure_id": run.request_id,
                                                           "category": ErasureScope.EXPIRED_NEGATIVE.value,
                                                           "months": step.periods, "records": step.states})
        erased["expired_negative_months"] += step.periods
        erased["expired_negative_records"] += step.states


def _refused(session: Session, person_id: int, *, scope: ErasureScope, categories: tuple[ErasureScope, ...],
             profile: JurisdictionProfile, now: datetime) -> list[Refusal]:
    """What the request leaves in place, and why."""
    refused: list[Refusal] = []
    if ErasureScope.EXPIRED_NEGATIVE in categories:
        states, _ = accounts.records_of_person(session, person_id)
        kept = len(negative_periods(states))
        if kept:
            refused.append(Refusal(
                what="negative_within_retention", count=kept, code="RETENTION_PERIOD_RUNNING",
                reason=f"negative months still within their retention period: "
                       f"{profile.erasure_grounds[ErasureScope.EXPIRED_NEGATIVE]}; an adverse event that has not "
                       f"ended (a debt still unpaid) does not expire"))
    if scope is ErasureScope.ALL_ALLOWED:
        in_file, _ = accounts.file_counts(session, person_id)
        if in_file:
            refused.append(Refusal(what="credit_history", count=in_file, code="RETENTION_REQUIRED",
                                   reason=profile.erasure_note))
        refused.append(Refusal(what="logs", count=None, code="ACCOUNTABILITY_RECORD", reason=KEPT_LOGS))
    return refused


def _notice(erased: Counter[str], refused: list[Refusal], now: datetime) -> str:
    """The person's notice: counts and reasons, never an identifier."""
    held = erased["held_records"] + erased["held_events"]
    text = (f"On {now:%Y-%m-%d} the bureau erased, at your request, {held} record(s) furnished without your "
            f"consent and {erased['expired_negative_months']} month(s) of negative information past their "
            f"retention period; they will not be stored again.")
    if refused:
        text += " Kept: " + "; ".join(f"{r.what.replace('_', ' ')}" + (f" ({r.count})" if r.count is not None else "")
                                      for r in refused) + ". Sign in to see why."
    return text
