"""Typed dependencies shared by every endpoint: the runtime, its policy, a session, the calling principal.

Dependencies check no roles: services do, through ``principals.authorize``. The one exception is
``FurnisherDep``, which refuses a non-furnisher's upload before its body is read (the same check, asked early).

They are ``async def`` although their work is blocking: FastAPI runs a plain ``def`` dependency in its
thread pool, and a thread hop per dependency (with the GIL handed back and forth around every database
call) cost more than the short, local queries they make. Endpoints that do long work stay ``def``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Header, Path, Query, Request
from sqlalchemy.orm import Session
from starlette.types import Scope

from openbureau.api.edge import MEMBER_SCOPE_KEY, PERSON_SCOPE_KEY
from openbureau.inquiries.log import GroupCommitLog
from openbureau.intake.events.gathering import EventGatherer
from openbureau.kit.db import session_scope
from openbureau.kit.errors import Unauthenticated
from openbureau.members.models import Member
from openbureau.members.service import authenticate
from openbureau.people import service as people
from openbureau.policy import Policy
from openbureau.principals import Action, Principal, authorize
from openbureau.runtime import Runtime


async def get_runtime(request: Request) -> Runtime:
    """The bureau this app serves."""
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_policy(runtime: RuntimeDep) -> Policy:
    """The bureau's policy, built once when it opened."""
    return runtime.policy


PolicyDep = Annotated[Policy, Depends(get_policy)]


async def get_session(runtime: RuntimeDep) -> AsyncIterator[Session]:
    """A session whose transaction the request owns: committed on success, rolled back on error."""
    with session_scope(runtime.engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


async def get_api_key(
    x_api_key: Annotated[str | None, Header(description="The member's API key.")] = None,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> str | None:
    """The API key that came with the request (``X-API-Key`` or ``Authorization: Bearer``), unchecked."""
    if x_api_key is None and authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return x_api_key


ApiKeyDep = Annotated[str | None, Depends(get_api_key)]


def authenticate_request(scope: Scope, api_key: str | None) -> Member:
    """The member whose API key came with a request, checked by the edge before the body is read.

    A key this process authenticated in the last ``OPENBUREAU_API_KEY_CACHE_SECONDS`` is not looked up again
    (``members.service.RecentKeys``: a revoked key is refused within that time). Otherwise it is looked up
    in a short read of its own, so that an endpoint that waits (an inquiry waiting for its group commit)
    holds no connection meanwhile; the member is a detached value.
    """
    app = scope["app"]

    def look_up() -> Member:
        with session_scope(app.state.runtime.engine, read_only=True) as session:
            return authenticate(session, api_key=api_key)

    return app.state.edge.keys.authenticate(api_key, look_up=look_up)


def authenticate_person_request(scope: Scope, token: str | None) -> Principal:
    """The signed-in person whose session token came with a request to /v1/me, checked by the edge."""
    runtime: Runtime = scope["app"].state.runtime
    with session_scope(runtime.engine, read_only=True) as session:
        return people.authenticate(session, vault=runtime.vault, token=token)


async def get_person(
    request: Request,
    authorization: Annotated[str | None, Header(description="Bearer <session token> (obp_..., from "
                                                            "POST /v1/me/signin/verify)")] = None,
) -> Principal:
    """The signed-in person the edge authenticated; the parameter documents the bearer header."""
    principal = request.scope.get(PERSON_SCOPE_KEY)
    if principal is None:
        raise Unauthenticated("a person's session token is required: sign in at POST /v1/me/signin",
                              code="SESSION_INVALID")
    return principal


PersonDep = Annotated[Principal, Depends(get_person)]


async def get_member(request: Request, _: ApiKeyDep) -> Member:
    """The member the edge authenticated (``api.edge``); the key parameter documents the header."""
    member = request.scope.get(MEMBER_SCOPE_KEY)
    if member is None:  # a route the edge treats as public asked for a member: refuse, never guess
        raise Unauthenticated("an API key is required (header X-API-Key or Authorization: Bearer)")
    return member


MemberDep = Annotated[Member, Depends(get_member)]


async def get_principal(member: MemberDep) -> Principal:
    """The principal the authenticated member acts as: one kind per role it holds."""
    return Principal.of_member(member)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def get_furnisher(member: MemberDep, principal: PrincipalDep) -> Member:
    """The calling member, refused before its upload is read unless it may submit files."""
    authorize(principal, Action.SUBMIT_FILE)
    return member


FurnisherDep = Annotated[Member, Depends(get_furnisher)]


async def get_inquiry_log(request: Request, runtime: RuntimeDep) -> GroupCommitLog:
    """This process's inquiry log: one group committer on the event loop, made on first use."""
    state = request.app.state
    if state.inquiry_log is None:
        state.inquiry_log = GroupCommitLog(runtime.engine)
    return state.inquiry_log


InquiryLogDep = Annotated[GroupCommitLog, Depends(get_inquiry_log)]


async def get_event_gatherer(request: Request, runtime: RuntimeDep, policy: PolicyDep) -> EventGatherer:
    """This process's intake of event batches, gathering a furnisher's concurrent batches; made on first use."""
    state = request.app.state
    if getattr(state, "event_gatherer", None) is None:
        process = state.event_process  # a serving app's intake process, or None (api.app)
        state.event_gatherer = EventGatherer(runtime.engine, vault=runtime.vault, profile=policy.profile,
                                             take_in=None if process is None else process.take_in,
                                             linger=runtime.settings.event_gather_ms / 1000)
    return state.event_gatherer


EventGathererDep = Annotated[EventGatherer, Depends(get_event_gatherer)]


# Ids and offsets are bounded so that an absurd value is a 422, never an overflow in the database driver.
MAX_ID = 2**63 - 1
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
Offset = Annotated[int, Query(ge=0, le=10**9)]
