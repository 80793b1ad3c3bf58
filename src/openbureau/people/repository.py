"""Queries of the people domain: sign-ins, sessions and erasure requests."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete as delete_rows
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from openbureau.people.models import ErasureRequest, PersonSession, SigninChallenge, SigninLockout


class PeopleRepository:
    """All SQL about sign-ins, person sessions and erasure requests."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: object) -> None:
        """Stage and flush a new row."""
        self.session.add(row)
        self.session.flush()

    def challenge(self, token_hash: str) -> SigninChallenge | None:
        """The challenge with this token hash, locked for update (its attempts change)."""
        return self.session.scalars(select(SigninChallenge).where(SigninChallenge.token_hash == token_hash)
                                    .with_for_update()).first()

    def supersede_open(self, document_hash: str) -> None:
        """Void the document's open challenges: only the newest code works."""
        self.session.execute(update(SigninChallenge).where(
            SigninChallenge.document_hash == document_hash, SigninChallenge.status == "open").values(status="superseded"))

    def codes_since(self, document_hash: str, since: datetime) -> int:
        """Challenges made for the document since ``since``."""
        return self.session.scalar(select(func.count()).select_from(SigninChallenge).where(
            SigninChallenge.document_hash == document_hash, SigninChallenge.created_at >= since)) or 0

    def wrong_codes_since(self, document_hash: str, since: datetime) -> int:
        """Wrong codes entered for the document's challenges made since ``since``."""
        return self.session.scalar(select(func.coalesce(func.sum(SigninChallenge.attempts), 0)).where(
            SigninChallenge.document_hash == document_hash, SigninChallenge.created_at >= since)) or 0

    def lockout(self, document_hash: str, now: datetime) -> SigninLockout | None:
        """The document's lock-out in force at ``now``, if any."""
        return self.session.scalars(select(SigninLockout).where(
            SigninLockout.document_hash == document_hash, SigninLockout.locked_until > now)
            .order_by(SigninLockout.locked_until.desc()).limit(1)).first()

    def last_lockout_at(self, document_hash: str) -> datetime | None:
        """When the document was last locked out."""
        return self.session.scalar(select(func.max(SigninLockout.locked_at)).where(
            SigninLockout.document_hash == document_hash))

    def session_by_hash(self, token_hash: str) -> PersonSession | None:
        """The person session with this token hash."""
        return self.session.scalars(select(PersonSession).where(PersonSession.token_hash == token_hash)).first()

    def lock_person(self, person_id: int) -> None:
        """Serialise one person's requests that count against a quota: lock their sessions' rows
        (PostgreSQL; SQLite's write transactions are serial already)."""
        self.session.execute(select(PersonSession.id).where(PersonSession.person_id == person_id)
                             .with_for_update()).all()

    def erasures_of(self, person_ids: list[int]) -> list[ErasureRequest]:
        """Every erasure request of the given persons, newest first."""
        return list(self.session.scalars(select(ErasureRequest).where(ErasureRequest.person_id.in_(person_ids))
                                         .order_by(ErasureRequest.requested_at.desc(), ErasureRequest.id.desc())))

    def ended_before(self, before: datetime, *, delete: bool) -> tuple[int, int]:
        """Person sessions and sign-in challenges over (expired, signed out or used) before ``before``: how many,
        deleted when ``delete``."""
        sessions = or_(PersonSession.expires_at < before, PersonSession.revoked_at < before)
        challenges = SigninChallenge.expires_at < before
        counts = (self.session.scalar(select(func.count()).select_from(PersonSession).where(sessions)) or 0,
                  self.session.scalar(select(func.count()).select_from(SigninChallenge).where(challenges)) or 0)
        if delete:
            self.session.execute(delete_rows(PersonSession).where(sessions))
            self.session.execute(delete_rows(SigninChallenge).where(challenges))
        return counts
