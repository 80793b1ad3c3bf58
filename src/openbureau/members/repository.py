"""Queries of the members domain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Connection, Row, bindparam, exists, func, or_, select
from sqlalchemy import delete as delete_rows
from sqlalchemy.orm import Session

from openbureau.members.models import ApiKey, ConsoleSession, Member

# Read on every API call: built once (building a statement costs more than running it).
_KEY_BY_PREFIX = select(ApiKey).where(ApiKey.prefix == bindparam("prefix"))
# The key and its member's standing in one read: a suspension, a vetting or a licence is honoured with the key.
_CREDENTIALS = (select(ApiKey.key_hash, ApiKey.revoked_at, Member.id, Member.code, Member.name,
                       Member.roles_text.label("roles_text"),
                       Member.created_at, Member.suspended_at, Member.vetting, Member.licence_valid_from,
                       Member.licence_valid_until, Member.purposes_text.label("purposes_text"),
                       Member.products_text.label("products_text"))
                .join(Member, Member.id == ApiKey.member_id).where(ApiKey.prefix == bindparam("prefix")))
_NAMES = select(Member.id, Member.code, Member.name)


def not_suspended(member_id: ColumnElement) -> ColumnElement[bool]:
    """Whether the member ``member_id`` names is not suspended (a condition for another domain's statement: the
    batch and webhook workers leave a suspended member's work waiting)."""
    return ~exists().where(Member.id == member_id, Member.suspended_at.is_not(None))


def member_ids_by_code(conn: Connection) -> dict[str, int]:
    """Every registered member's id by its code (intake checks a furnished facilitator or funder against it)."""
    return {code: member_id for member_id, code, _ in conn.execute(_NAMES)}


class MemberRepository:
    """All SQL about members and their keys."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def by_code(self, code: str) -> Member | None:
        """The member with ``code``."""
        return self.session.scalars(select(Member).where(Member.code == code)).one_or_none()

    def by_id(self, member_id: int) -> Member | None:
        """The member with ``member_id``."""
        return self.session.get(Member, member_id)

    def all(self) -> list[Member]:
        """Every member, by code."""
        return list(self.session.scalars(select(Member).order_by(Member.code)))

    def key_by_prefix(self, prefix: str) -> ApiKey | None:
        """The API key whose public prefix is ``prefix``."""
        return self.session.scalars(_KEY_BY_PREFIX, {"prefix": prefix}).one_or_none()

    def key_to_change(self, prefix: str) -> ApiKey | None:
        """The API key with ``prefix``, locked for this transaction (PostgreSQL; SQLite's writes are serial)."""
        return self.session.scalars(select(ApiKey).where(ApiKey.prefix == prefix).with_for_update(of=ApiKey)
                                    ).one_or_none()

    def credentials(self, prefix: str) -> Row | None:
        """(key_hash, revoked_at, id, code, name, roles_text, created_at, and the member's standing) of the key
        with ``prefix`` and its member, in one plain-row query (every API call authenticates)."""
        return self.session.connection().execute(_CREDENTIALS, {"prefix": prefix}).first()

    def key_prefixes(self, member_id: int) -> list[str]:
        """The prefixes of every key of the member (revoked or not)."""
        return list(self.session.scalars(select(ApiKey.prefix).where(ApiKey.member_id == member_id)))

    def names(self) -> dict[int, tuple[str, str]]:
        """Every member's id -> (code, name)."""
        return {r.id: (r.code, r.name) for r in self.session.connection().execute(_NAMES)}

    def console_session(self, token_hash: str) -> ConsoleSession | None:
        """The console session (or operator's one-time code) whose token hashes to ``token_hash``."""
        return self.session.scalar(select(ConsoleSession).where(ConsoleSession.token_hash == token_hash))

    def console_sessions_over_before(self, before: datetime, *, delete: bool) -> int:
        """Console sessions and operator codes over (ended or expired) before ``before``: how many, deleted when
        ``delete``."""
        over = or_(ConsoleSession.expires_at < before, ConsoleSession.ended_at < before)
        count = self.session.scalar(select(func.count()).select_from(ConsoleSession).where(over)) or 0
        if delete:
            self.session.execute(delete_rows(ConsoleSession).where(over))
        return count

    def add(self, obj: Member | ApiKey | ConsoleSession) -> None:
        """Stage a new row."""
        self.session.add(obj)
        self.session.flush()
