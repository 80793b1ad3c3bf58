"""Rules of the members domain: registration, key issue, revocation and authentication."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy.orm import Session

from openbureau.audit import service as audit
from openbureau.kit.db import utcnow
from openbureau.kit.errors import Conflict, NotFound, Unauthenticated
from openbureau.members.errors import INVALID_API_KEY, MEMBER_NOT_FOUND, MEMBER_SUSPENDED
from openbureau.members.models import ApiKey, Member, Vetting
from openbureau.members.repository import MemberRepository
from openbureau.members.schemas import IssuedKey, MemberCreate
from openbureau.principals import Action, Principal, authorize

KEY_SCHEME = "ob"


def _hash(secret: str) -> str:
    # API keys carry 256 bits of randomness, so a plain SHA-256 is enough (no password stretching).
    return hashlib.sha256(secret.encode()).hexdigest()


def add_member(session: Session, *, principal: Principal, data: MemberCreate) -> tuple[Member, IssuedKey]:
    """Register an institution and issue its first API key (the operator).

    The member starts ``pending`` (it may furnish but use no product until vetted: ``members.standing.vet``)
    unless the operator registers it as vetted already (``data.vetting``), with every purpose and product
    permitted (narrowed by ``members.standing.permit``).
    """
    authorize(principal, Action.MANAGE_MEMBERS)
    repo = MemberRepository(session)
    if repo.by_code(data.code) is not None:
        raise Conflict(f"a member with code {data.code} already exists", code="MEMBER_EXISTS", field="code")
    roles = ",".join(sorted({r.value for r in data.roles}))
    vetted = data.vetting is not Vetting.PENDING
    member = Member(code=data.code, name=data.name, roles_text=roles, vetting=data.vetting.value,
                    vetted_by=principal.code if vetted else None, vetted_at=utcnow() if vetted else None,
                    vetting_notes="vetted at registration" if vetted else None)
    repo.add(member)
    audit.record(session, actor_member_id=principal.member_id, actor_code=principal.code, action="member.add",
                 details={"member_id": member.id, "code": member.code, "roles": roles,
                          "vetting": data.vetting.value})
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
    if found.suspended_at is not None:  # every key of a suspended member stops; its data stays
        raise Unauthenticated("the member is suspended: its keys are refused until the bureau reinstates it",
                              code=MEMBER_SUSPENDED)
    return detached(found)


def detached(found) -> Member:
    """The member of a row of ``MemberRepository.credentials`` as a detached value (see ``_detached_member``)."""
    return _detached_member(found.id, found.code, found.name, found.roles_text, found.created_at, found.vetting,
                            found.licence_valid_from, found.licence_valid_until, found.purposes_text,
                            found.products_text)


@functools.lru_cache(maxsize=1024)
def _detached_member(member_id: int, code: str, name: str, roles_text: str, created_at: datetime, vetting: str,
                     licence_from: date | None, licence_until: date | None, purposes: str, products: str) -> Member:
    """A detached value, not a row of the session: services read its id, code, roles and standing, and it never
    lingers in an identity map. The key is checked on every call; only the value for an unchanged member row
    is reused (every API call authenticates, and building the object cost more than the query)."""
    return Member(id=member_id, code=code, name=name, roles_text=roles_text, created_at=created_at, vetting=vetting,
                  licence_valid_from=licence_from, licence_valid_until=licence_until, purposes_text=purposes,
                  products_text=products)


class RecentKeys:
    """API keys authenticated in the last ``seconds``, so that a serving process does not look its caller's key
    up in the database on every call (the look-up, with its session and connection, cost as much as a third
    of an inquiry's reads).

    Only a successful authentication is remembered, under the key's SHA-256 (the secret itself is not kept),
    for ``seconds`` from the look-up that found it; an unknown, malformed or revoked key is looked up every
    time. **A revoked key, or a key of a member suspended or whose standing changed, is refused (or read
    anew) by every serving process at most ``seconds`` after the change committed** (``revoke_key``,
    ``members.standing``: the command line, another process), and at once by a process that calls
    :meth:`forget` or :meth:`forget_member` after the commit. A look-up that began before a forget is not
    remembered, so a forget is never undone by a read of the state before the change. ``seconds`` = 0
    remembers nothing.

    Example:
        >>> keys = RecentKeys(2.0)
        >>> member = keys.authenticate(api_key, look_up=lambda: authenticate(session, api_key=api_key))
    """

    def __init__(self, seconds: float, *, max_keys: int = 4_096, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self.max_keys = max_keys
        self.clock = clock
        self._found: OrderedDict[str, tuple[float, str, Member]] = OrderedDict()  # hash -> (until, prefix, member)
        self._generation = 0  # moved by every forget: a look-up that began before it is not remembered

    def authenticate(self, api_key: str | None, *, look_up: Callable[[], Member]) -> Member:
        """The member owning ``api_key``: remembered, or ``look_up()`` (which raises for a bad key)."""
        if not api_key or self.seconds <= 0:
            return look_up()
        digest = _hash(api_key)
        now = self.clock()
        found = self._found.get(digest)
        if found is not None:
            if now < found[0]:
                return found[2]
            del self._found[digest]
        generation = self._generation
        member = look_up()
        if generation != self._generation:  # forgotten meanwhile: the look-up may have read the state before
            return member
        self._found[digest] = (now + self.seconds, api_key.split("_", 2)[1], member)
        if len(self._found) > self.max_keys:
            self._found.popitem(last=False)  # the oldest look-up goes first
        return member

    def forget(self, prefix: str | None = None) -> None:
        """Forget the key with ``prefix`` (every key when None), so that its next call is looked up again."""
        self._generation += 1
        if prefix is None:
            self._found.clear()
            return
        for digest, (_, known, _) in list(self._found.items()):
            if known == prefix:
                del self._found[digest]

    def forget_member(self, member_id: int) -> None:
        """Forget every key of the member ``member_id`` (a suspension or a change of its standing)."""
        self._generation += 1
        for digest, (_, _, member) in list(self._found.items()):
            if member.id == member_id:
                del self._found[digest]
