"""Rules of the members domain: registration, key issue, revocation and authentication."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy.orm import Session

from openbureau.audit import service as audit
from openbureau.kit.db import utcnow
from openbureau.kit.errors import Conflict, NotFound, Unauthenticated
from openbureau.members.errors import INVALID_API_KEY, MEMBER_NOT_FOUND
from openbureau.members.models import ApiKey, Member
from openbureau.members.repository import MemberRepository
from openbureau.members.schemas import IssuedKey, MemberCreate
from openbureau.principals import Action, Principal, authorize

KEY_SCHEME = "ob"


def _hash(secret: str) -> str:
    # API keys carry 256 bits of randomness, so a plain SHA-256 is enough (no password stretching).
    return hashlib.sha256(secret.encode()).hexdigest()


def add_member(session: Session, *, principal: Principal, data: MemberCreate) -> tuple[Member, IssuedKey]:
    """Register an institution and issue its first API key (the operator)."""
    authorize(principal, Action.MANAGE_MEMBERS)
    repo = MemberRepository(session)
    if repo.by_code(data.code) is not None:
        raise Conflict(f"a member with code {data.code} already exists", code="MEMBER_EXISTS", field="code")
    roles = ",".join(sorted({r.value for r in data.roles}))
    member = Member(code=data.code, name=data.name, roles_text=roles)
    repo.add(member)
    audit.record(session, actor_member_id=principal.member_id, actor_code=principal.code, action="member.add",
                 details={"member_id": member.id, "code": member.code, "roles": roles})
    return member, issue_key(session, principal=principal, member=member)


def issue_key(session: Session, *, principal: Principal, member: Member) -> IssuedKey:
    """Issue a new API key for ``member`` (the operator); the secret is returned once and stored only hashed."""
    authorize(principal, Action.MANAGE_MEMBERS)
    prefix = secrets.token_hex(6)
    secret = f"{KEY_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"
    MemberRepository(session).add(ApiKey(member_id=member.id, prefix=prefix, key_hash=_hash(secret)))
    audit.record(session, actor_member_id=principal.member_id, actor_code=principal.code, action="key.issue",
                 details={"member_id": member.id, "prefix": prefix})
    return IssuedKey(member_code=member.code, prefix=prefix, api_key=secret)


def revoke_key(session: Session, *, principal: Principal, prefix: str) -> ApiKey:
    """Revoke the key with ``prefix`` at once (the operator)."""
    authorize(principal, Action.MANAGE_MEMBERS)
    key = MemberRepository(session).key_by_prefix(prefix)
    if key is None:
        raise NotFound(f"no API key with prefix {prefix}", code="KEY_NOT_FOUND", field="prefix")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.flush()
        audit.record(session, actor_member_id=principal.member_id, actor_code=principal.code, action="key.revoke",
                     details={"member_id": key.member_id, "prefix": prefix})
    return key


def get_member(session: Session, *, code: str) -> Member:
    """The member with ``code``, or a NotFound error."""
    member = MemberRepository(session).by_code(code)
    if member is None:
        raise NotFound(f"no member with code {code}", code=MEMBER_NOT_FOUND, field="code")
    return member


def members_by_id(session: Session, ids: set[int]) -> dict[int, Member]:
    """The members with the given ids, by id."""
    return {m.id: m for m in MemberRepository(session).all() if m.id in ids} if ids else {}


def list_members(session: Session) -> list[Member]:
    """Every member."""
    return MemberRepository(session).all()


def authenticate(session: Session, *, api_key: str | None) -> Member:
    """The member owning ``api_key``; revoked, unknown or malformed keys are refused alike."""
    if not api_key:
        raise Unauthenticated("an API key is required (header X-API-Key or Authorization: Bearer)")
    parts = api_key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_SCHEME:
        raise Unauthenticated("the API key is malformed", code=INVALID_API_KEY)
    found = MemberRepository(session).credentials(parts[1])
    if found is None or not hmac.compare_digest(found.key_hash, _hash(api_key)):
        raise Unauthenticated("the API key is not valid", code=INVALID_API_KEY)
    if found.revoked_at is not None:
        raise Unauthenticated("the API key has been revoked", code="API_KEY_REVOKED")
    return _detached_member(found.id, found.code, found.name, found.roles_text, found.created_at)


@functools.lru_cache(maxsize=1024)
def _detached_member(member_id: int, code: str, name: str, roles_text: str, created_at: datetime) -> Member:
    """A detached value, not a row of the session: services read its id, code and roles, and it never lingers
    in an identity map. The key is checked on every call; only the value for an unchanged member row is
    reused (every API call authenticates, and building the object cost more than the query)."""
    return Member(id=member_id, code=code, name=name, roles_text=roles_text, created_at=created_at)
