"""Web sign-in to the bureau's consoles (docs/portal.md): a member's staff with the member's API key and the
key's second factor (``members.second_factor``), and the bureau's operator with a one-time code the command
line issues at the terminal.

Only hashes of session tokens and codes are stored. A member's session keeps the member's id and the prefix of
the key it was opened with, never the key: every request reads that key's row again, so a revoked key or a
suspended member ends the session at once. The operator's code is good for one sign-in within ten minutes;
the session it opens acts as the operator who issued it (``OPERATOR:<user>``), as the command line does.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from openbureau.audit import service as audit
from openbureau.kit.crypto import PiiVault
from openbureau.kit.db import utcnow
from openbureau.kit.errors import Unauthenticated
from openbureau.members import second_factor
from openbureau.members.models import ConsoleSession, Member
from openbureau.members.repository import MemberRepository
from openbureau.members.service import detached
from openbureau.principals import Action, Kind, Principal, authorize

SESSION_TTL = timedelta(minutes=15)
CODE_TTL = timedelta(minutes=10)
MEMBER, OPERATOR, OPERATOR_CODE = "member", "operator", "operator_code"
SESSION_ENDED = "CONSOLE_SESSION_INVALID"


class SecondFactorRefused(Unauthenticated):
    """The key's second factor took no code: none enrolled, locked, wrong or already used. Raised after the
    attempt was counted on the key: the caller commits, then answers 401."""

    code = "SECOND_FACTOR_REFUSED"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _open(session: Session, *, kind: str, actor_code: str, ttl: timedelta, member_id: int | None = None,
          key_prefix: str | None = None) -> str:
    token = f"obc_{secrets.token_urlsafe(32)}"
    MemberRepository(session).add(ConsoleSession(kind=kind, token_hash=_hash(token), member_id=member_id,
                                                 key_prefix=key_prefix, actor_code=actor_code,
                                                 expires_at=utcnow() + ttl))
    session.flush()
    return token


def open_member_session(session: Session, *, vault: PiiVault, member: Member, api_key: str, code: str) -> str:
    """A session for the member whose ``api_key`` the caller has just authenticated, once the key's second
    factor takes ``code`` (``members.second_factor``); its token (shown once). A refused code raises
    ``SecondFactorRefused``, which the caller commits (the wrong code is counted) before answering 401."""
    prefix = api_key.split("_", 2)[1]
    refusal = second_factor.check(session, vault=vault, prefix=prefix, code=code)
    if refusal is not None:
        raise SecondFactorRefused(refusal)
    token = _open(session, kind=MEMBER, actor_code=member.code, ttl=SESSION_TTL, member_id=member.id,
                  key_prefix=prefix)
    audit.record(session, actor_member_id=member.id, actor_code=member.code, action="console.signin",
                 details={"key_prefix": prefix, "second_factor": True})
    return token


def issue_operator_code(session: Session, *, principal: Principal) -> str:
    """A one-time sign-in code for the operator's web pages, issued at the terminal (the operator only)."""
    authorize(principal, Action.MANAGE_MEMBERS, message="only the bureau's operator issues console codes")
    if principal.member_id is not None:
        raise Unauthenticated("console codes are issued at the bureau's terminal", code=SESSION_ENDED)
    code = _open(session, kind=OPERATOR_CODE, actor_code=principal.code, ttl=CODE_TTL)
    audit.record(session, actor_member_id=None, actor_code=principal.code, action="console.code_issue", details={})
    return code


def open_operator_session(session: Session, *, code: str) -> str:
    """Spend a one-time code: a session acting as the operator who issued it; 401 for a wrong, used or expired
    code (alike)."""
    row = MemberRepository(session).console_session(_hash(code))
    if row is None or row.kind != OPERATOR_CODE or row.ended_at is not None or row.expires_at <= utcnow():
        raise Unauthenticated("the code is wrong, expired or already used", code="CONSOLE_CODE_INVALID")
    row.ended_at = utcnow()
    token = _open(session, kind=OPERATOR, actor_code=row.actor_code, ttl=SESSION_TTL)
    audit.record(session, actor_member_id=None, actor_code=row.actor_code, action="console.signin", details={})
    return token


def authenticate(session: Session, *, token: str | None, kind: str) -> Principal:
    """The principal of a live console session of ``kind``; a member's key and standing are read again."""
    row = MemberRepository(session).console_session(_hash(token)) if token else None
    if row is None or row.kind != kind or row.ended_at is not None or row.expires_at <= utcnow():
        raise Unauthenticated("sign in again: the session has ended", code=SESSION_ENDED)
    if kind == OPERATOR:
        return Principal.operator(row.actor_code)
    found = MemberRepository(session).credentials(row.key_prefix)
    if found is None or found.id != row.member_id or found.revoked_at is not None or found.suspended_at is not None:
        raise Unauthenticated("sign in again: the key was revoked or the member suspended", code=SESSION_ENDED)
    return Principal.of_member(detached(found))


def end(session: Session, *, token: str | None) -> None:
    """Sign out: the session stops at once (an unknown or ended one is left as it is)."""
    row = MemberRepository(session).console_session(_hash(token)) if token else None
    if row is not None and row.kind != OPERATOR_CODE and row.ended_at is None:
        row.ended_at = utcnow()


def purge_ended(session: Session, *, before: datetime, actor_code: str, dry_run: bool = False) -> int:
    """Delete the console sessions and operator codes over before ``before`` (retention, as the persons'
    sessions: the audit log keeps every sign-in); how many (counted only when ``dry_run``)."""
    count = MemberRepository(session).console_sessions_over_before(before, delete=not dry_run)
    if not dry_run and count:
        audit.record(session, actor_member_id=None, actor_code=actor_code, action="retention.console_sessions",
                     details={"before": before.isoformat(), "sessions": count})
    return count


def is_operator(principal: Principal) -> bool:
    """Whether ``principal`` is the bureau's own operator (not a member holding the operator role)."""
    return principal.is_a(Kind.OPERATOR) and principal.member_id is None
