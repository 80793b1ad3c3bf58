"""Sign-in of a person with an identity document and a one-time code, and their short sessions.

1. :func:`start_signin`: the person names their identity document. When the bureau holds a file for it
   with a phone on file (the most recently reported), a random 6-digit code is sent to that phone through
   the notifications outbox; the answer is the same whether or not it did (a challenge token and when it
   expires), so nobody learns from it who is in the files.
2. :func:`verify_signin`: the challenge token and the code give a session token (15 minutes). Codes expire
   after 10 minutes; 5 wrong codes for one document lock its sign-in for 15 minutes (audited), and at most
   5 codes are sent per document and hour. A document the bureau does not know gets a challenge no code
   answers, which counts and locks alike.
3. :func:`authenticate`: a session token becomes ``Principal.person`` (person id, and the documents of the
   person: the anchor and those of persons merged into it, such as a linked passport) until it expires or the
   person signs out (:func:`sign_out`).

Codes and tokens are stored only as hashes (codes keyed with the bureau's sign-in key, since six digits are
easily tried against a plain hash); documents as a keyed hash, or sealed on the session. Every step is
audited under the person's principal (``PERSON:<person id>``) when a person was found.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from openbureau.audit import service as audit
from openbureau.consent.schemas import Subject
from openbureau.consent.service import subject_indexes
from openbureau.documents import normalise_id
from openbureau.identity.repository import find_person_by_any, find_person_by_id, merged_documents
from openbureau.identity.service import latest_phone
from openbureau.kit.crypto import PiiVault
from openbureau.kit.errors import BureauError, Unauthenticated
from openbureau.notifications import service as notifications
from openbureau.notifications.channels import Contact
from openbureau.people.errors import SESSION_INVALID, SIGNIN_FAILED, SIGNIN_LOCKED
from openbureau.people.models import PersonSession, SigninChallenge, SigninLockout
from openbureau.people.repository import PeopleRepository
from openbureau.principals import Principal

CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=10)
MAX_WRONG_CODES = 5  # per document, over the challenges of the last LOCKOUT (then locked)
LOCKOUT = timedelta(minutes=15)
MAX_CODES_PER_HOUR = 5  # codes sent per document and hour: nobody floods a phone through the bureau
SESSION_TTL = timedelta(minutes=15)
SESSION_PREFIX = "obp_"  # a person's session token; members' API keys start ob_
ANONYMOUS = "PERSON:unidentified"  # the actor of sign-in steps about a document the bureau does not know
SENT = ("If the bureau holds a file for this document and a phone number on file, a {digits}-digit code was "
        "sent to that phone. It expires in {minutes} minutes.")


class SigninLocked(BureauError):
    """Sign-in with this document is locked for a while (same answer for known and unknown documents)."""

    status_code = 429
    code = SIGNIN_LOCKED


def _failed() -> Unauthenticated:
    return Unauthenticated("the code is wrong, expired or already used: ask for a new one", code=SIGNIN_FAILED)


def person_code(person_id: int) -> str:
    """The actor code a person's actions are logged under."""
    return f"PERSON:{person_id}"


def _keyed(key: bytes, *parts: str) -> str:
    return hmac.new(key, "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()


def _sha256(token: str) -> str:
    # Tokens carry 256 random bits: a plain hash is enough (as for API keys).
    return hashlib.sha256(token.encode()).hexdigest()


def document_hash(key: bytes, document: Subject) -> str:
    """The keyed hash a document's sign-ins and lock-outs are kept under."""
    return _keyed(key, "document", document.id_type, normalise_id(document.id_number))


@dataclass(frozen=True, slots=True)
class Started:
    """A challenge made: its token (to send back with the code) and when its code expires."""

    challenge: str
    expires_at: datetime
    message: str


def _check_lock(repo: PeopleRepository, doc: str, now: datetime) -> None:
    lock = repo.lockout(doc, now)
    if lock is not None:
        raise SigninLocked(f"too many wrong codes: sign-in with this document is locked until "
                           f"{lock.locked_until:%Y-%m-%d %H:%M} UTC", details={"locked_until": lock.locked_until.isoformat()})


def start_signin(session: Session, *, vault: PiiVault, key: bytes, document: Subject, now: datetime | None = None
                 ) -> Started:
    """Make a sign-in challenge for ``document`` and, when the person has a phone on file, queue its code
    (see the module's docstring). 429 ``SIGNIN_LOCKED`` while the document is locked or asked too often."""
    now = now or datetime.now(UTC)
    repo = PeopleRepository(session)
    doc = document_hash(key, document)
    _check_lock(repo, doc, now)
    if repo.codes_since(doc, now - timedelta(hours=1)) >= MAX_CODES_PER_HOUR:
        raise SigninLocked(f"at most {MAX_CODES_PER_HOUR} codes an hour are sent for one document: try again later",
                           details={"locked_until": (now + timedelta(hours=1)).isoformat()})
    repo.supersede_open(doc)
    person = find_person_by_any(session, id_type=document.id_type, id_indexes=subject_indexes(vault, document))
    phone = latest_phone(session, vault=vault, person_id=person.id) if person is not None else None
    token, code = secrets.token_urlsafe(32), f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    token_hash = _sha256(token)
    reachable = person is not None and phone is not None
    challenge = SigninChallenge(token_hash=token_hash, document_hash=doc, person_id=person.id if reachable else None,
                                code_hash=_keyed(key, "code", token_hash, code if reachable else secrets.token_hex(16)),
                                status="open", attempts=0, created_at=now, expires_at=now + CODE_TTL)
    repo.add(challenge)
    if reachable:
        notifications.enqueue(session, [notifications.compose(
            vault, kind="signin.code", subject="Your credit bureau sign-in code", person_id=person.id, now=now,
            body=f"Your code is {code}. It expires in {CODE_TTL.seconds // 60} minutes. The bureau never asks "
                 f"for it by phone; if you did not ask to sign in, ignore this message.",
            recipient=Contact("phone", phone), expires_at=challenge.expires_at)])
    audit.record(session, actor_member_id=None, actor_code=person_code(person.id) if person else ANONYMOUS,
                 action="person.signin_start", person_id=person.id if person else None,
                 details={"challenge_id": challenge.id, "code_sent": reachable})
    return Started(token, challenge.expires_at, SENT.format(digits=CODE_DIGITS, minutes=CODE_TTL.seconds // 60))


@dataclass(frozen=True, slots=True)
class Issued:
    """A session token, shown once."""

    token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Verified:
    """The outcome of a code: a session, or the error to answer once the attempt is committed."""

    issued: Issued | None = None
    error: BureauError | None = None

    def result(self) -> Issued:
        """The session, or raise the error (after the transaction that counted the attempt committed)."""
        if self.error is not None:
            raise self.error
        assert self.issued is not None
        return self.issued


def verify_signin(session: Session, *, vault: PiiVault, key: bytes,
                  challenge: str, code: str, now: datetime | None = None) -> Verified:
    """Check a code against its challenge; a session on success. A wrong code is counted (and may lock the
    document) in this transaction, so the caller commits before it answers with :meth:`Verified.result`;
    the answer never says whether the document is known."""
    now = now or datetime.now(UTC)
    repo = PeopleRepository(session)
    found = repo.challenge(_sha256(challenge)) if len(challenge) <= 128 else None
    if found is None:
        return Verified(error=_failed())
    try:
        _check_lock(repo, found.document_hash, now)
    except SigninLocked as exc:
        return Verified(error=exc)
    right = hmac.compare_digest(found.code_hash, _keyed(key, "code", found.token_hash, code.strip()))
    if right and found.status == "open" and now < found.expires_at and found.person_id is not None:
        found.status, found.used_at = "used", now
        return Verified(issued=_open_session(session, vault=vault, person_id=found.person_id,
                                             challenge_id=found.id, now=now))
    found.attempts += 1
    session.flush()
    actor = person_code(found.person_id) if found.person_id else ANONYMOUS
    audit.record(session, actor_member_id=None, actor_code=actor, action="person.signin_failed",
                 person_id=found.person_id, details={"challenge_id": found.id, "attempt": found.attempts})
    since = max(now - LOCKOUT, repo.last_lockout_at(found.document_hash) or now - LOCKOUT)
    if repo.wrong_codes_since(found.document_hash, since) >= MAX_WRONG_CODES:
        found.status = "locked"
        repo.add(SigninLockout(document_hash=found.document_hash, locked_at=now, locked_until=now + LOCKOUT))
        audit.record(session, actor_member_id=None, actor_code=actor, action="person.signin_locked", person_id=found.person_id,
                     details={"challenge_id": found.id, "locked_until": (now + LOCKOUT).isoformat()})
        return Verified(error=SigninLocked(f"{MAX_WRONG_CODES} wrong codes: sign-in with this document is locked "
                                           f"until {now + LOCKOUT:%Y-%m-%d %H:%M} UTC",
                                           details={"locked_until": (now + LOCKOUT).isoformat()}))
    return Verified(error=_failed())


def _open_session(session: Session, *, vault: PiiVault, person_id: int, challenge_id: int, now: datetime) -> Issued:
    person = find_person_by_id(session, person_id)  # the person may have been merged since the code was sent
    if person is None:
        raise Unauthenticated("the code is wrong, expired or already used: ask for a new one", code=SIGNIN_FAILED)
    token = SESSION_PREFIX + secrets.token_urlsafe(32)
    row = PersonSession(token_hash=_sha256(token), person_id=person.id, id_type=person.id_type,
                        id_enc=person.id_enc, created_at=now, expires_at=now + SESSION_TTL)
    PeopleRepository(session).add(row)
    audit.record(session, actor_member_id=None, actor_code=person_code(person.id), action="person.signin",
                 person_id=person.id, details={"challenge_id": challenge_id, "session_id": row.id})
    return Issued(token, row.expires_at)


def authenticate(session: Session, *, vault: PiiVault, token: str | None, now: datetime | None = None) -> Principal:
    """The person a session token belongs to, as a principal; 401 ``SESSION_INVALID`` when it is missing,
    unknown, expired or signed out (a member's API key included)."""
    now = now or datetime.now(UTC)
    if not token or not token.startswith(SESSION_PREFIX) or len(token) > 128:
        raise Unauthenticated("a person's session token is required (Authorization: Bearer obp_...): sign in at "
                              "POST /v1/me/signin", code=SESSION_INVALID)
    row = PeopleRepository(session).session_by_hash(_sha256(token))
    if row is None or row.revoked_at is not None or now >= row.expires_at:
        raise Unauthenticated("the session has expired or was signed out: sign in again", code=SESSION_INVALID)
    documents = frozenset(
        (id_type, index) for id_type, id_enc in [(row.id_type, row.id_enc), *merged_documents(session, row.person_id)]
        for index in vault.index_candidates(vault.decrypt(id_enc), domain=id_type))
    return Principal.person(person_code(row.person_id), person_id=row.person_id, documents=documents)


def sign_out(session: Session, *, principal: Principal, token: str, now: datetime | None = None) -> None:
    """End the session at once: its token is refused from now on. Audited."""
    now = now or datetime.now(UTC)
    row = PeopleRepository(session).session_by_hash(_sha256(token))
    if row is None or row.person_id != principal.person_id:
        raise Unauthenticated("the session has expired or was signed out: sign in again", code=SESSION_INVALID)
    if row.revoked_at is None:
        row.revoked_at = now
        session.flush()
        audit.record(session, actor_member_id=None, actor_code=principal.code, action="person.signout",
                     person_id=principal.person_id, details={"session_id": row.id})


def contact_of(vault: PiiVault):
    """The notifications dispatcher's resolver: the newest phone on file of the person a message names (by
    person id, or by the identity document of a consent), with the person found."""

    def resolve(session: Session, person_id: int | None, id_type: str | None, id_enc: bytes | None
                ) -> tuple[Contact, int] | None:
        person = find_person_by_id(session, person_id) if person_id is not None else None
        if person is None and id_type is not None and id_enc is not None:
            number = vault.decrypt(id_enc)
            person = find_person_by_any(session, id_type=id_type,
                                        id_indexes=vault.index_candidates(number, domain=id_type))
        if person is None:
            return None
        phone = latest_phone(session, vault=vault, person_id=person.id)
        return None if phone is None else (Contact("phone", phone), person.id)

    return resolve


def purge_ended_sessions(session: Session, *, before: datetime, actor_code: str, dry_run: bool = False
                         ) -> tuple[int, int]:
    """Delete the person sessions (each holds the sealed document it was opened with) and sign-in challenges
    that were over before ``before`` (retention: ``OPENBUREAU_SESSION_RECORD_DAYS`` after they ended; the audit
    log keeps who signed in and when). How many of each; counted only when ``dry_run``. Flushes, never commits."""
    sessions, challenges = PeopleRepository(session).ended_before(before, delete=not dry_run)
    if not dry_run and (sessions or challenges):
        audit.record(session, actor_member_id=None, actor_code=actor_code, action="retention.person_sessions",
                     details={"before": before.isoformat(), "sessions": sessions, "challenges": challenges})
    return sessions, challenges
