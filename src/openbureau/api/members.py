"""HTTP endpoints of the members domain: the calling member, its standing and its monthly statement; the
operator's licence, vetting, permissions, suspension and reinstatement of members, and any member's statement
(docs/membership.md)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from openbureau.api.deps import MemberDep, PrincipalDep, RuntimeDep, SessionDep
from openbureau.kit.db import session_scope
from openbureau.members import standing
from openbureau.members.schemas import (
    LicenceUpdate,
    MemberRead,
    MembershipRead,
    Permissions,
    SuspensionCreate,
    VettingDecision,
)
from openbureau.members.service import get_member
from openbureau.metering import service as metering
from openbureau.metering.schemas import Statement
from openbureau.principals import Action, Kind, authorize

router = APIRouter(tags=["members"])

CodePath = Annotated[str, Path(pattern=r"^[A-Z0-9_]{2,32}$", description="The member's code.")]
MonthPath = Annotated[str, Path(min_length=7, max_length=7, description="YYYY-MM (UTC)")]
StatementFormat = Annotated[Literal["json", "csv"], Query(description="json (default) or csv")]
STATEMENT = {200: {"content": {"text/csv": {}}, "description": "with format=csv: one line per measure"}}


@router.get("/members/me", response_model=MemberRead, summary="The calling member")
def read_me(member: MemberDep) -> MemberRead:
    """The institution the API key belongs to."""
    return MemberRead(code=member.code, name=member.name, roles=sorted(member.roles), created_at=member.created_at)


@router.get("/members/me/membership", response_model=MembershipRead, summary="Your standing at the bureau")
def read_my_membership(member: MemberDep, session: SessionDep) -> MembershipRead:
    """Your vetting, licence, the purposes and products you may use."""
    return standing.membership(get_member(session, code=member.code))


def _statement(statement: Statement, fmt: str) -> Response:
    if fmt == "csv":
        name = f"statement-{statement.member_code}-{statement.month}.csv"
        return Response(metering.statement_csv(statement), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    return Response(statement.model_dump_json(), media_type="application/json")


@router.get("/members/me/statements/{month}", response_model=Statement, responses=STATEMENT,
            summary="Your monthly statement")
def my_statement(month: MonthPath, session: SessionDep, principal: PrincipalDep,
                 format: StatementFormat = "json") -> Response:
    """What you used in a calendar month: inquiries by purpose (hard and soft), batch rows, webhook deliveries,
    files and records furnished."""
    return _statement(metering.own_statement(session, principal=principal, month=month), format)


@router.get("/members/{code}/statements/{month}", response_model=Statement, responses=STATEMENT,
            summary="A member's monthly statement (the operator)")
def member_statement(code: CodePath, month: MonthPath, session: SessionDep, principal: PrincipalDep,
                     format: StatementFormat = "json") -> Response:
    """Any member's statement; for the bureau's operator only."""
    return _statement(metering.member_statement(session, principal=principal, code=code, month=month), format)


@router.get("/members/{code}/membership", response_model=MembershipRead, summary="A member's standing (the operator)")
def read_membership(code: CodePath, session: SessionDep, principal: PrincipalDep) -> MembershipRead:
    """Vetting, licence, permitted purposes and products, suspension."""
    return standing.read_membership(session, principal=principal, code=code)


def _change(request: Request, runtime, change) -> MembershipRead:
    """Make a change of standing in a transaction of its own, then forget the member's keys in this process: a
    serving process that made the change refuses (or reads anew) the member's keys from its next call."""
    with session_scope(runtime.engine, write=True) as session:
        read = change(session)
        member_id = get_member(session, code=read.code).id
    request.app.state.edge.keys.forget_member(member_id)
    return read


def _operator(principal) -> None:
    authorize(principal, Action.MANAGE_MEMBERS)  # before a transaction is opened


@router.put("/members/{code}/licence", response_model=MembershipRead, summary="Record a licence (the operator)")
def put_licence(code: CodePath, data: LicenceUpdate, request: Request, runtime: RuntimeDep,
                principal: PrincipalDep) -> MembershipRead:
    """The member's licence or registration: kind, number, issuing authority, validity."""
    _operator(principal)
    return _change(request, runtime, lambda s: standing.record_licence(s, principal=principal, code=code, licence=data))


@router.post("/members/{code}/vetting", response_model=MembershipRead, summary="Vet a member (the operator)")
def post_vetting(code: CodePath, data: VettingDecision, request: Request, runtime: RuntimeDep,
                 principal: PrincipalDep) -> MembershipRead:
    """Approve or reject a member, or put it back to pending, with notes."""
    _operator(principal)
    return _change(request, runtime, lambda s: standing.vet(s, principal=principal, code=code, decision=data))


@router.put("/members/{code}/permissions", response_model=MembershipRead,
            summary="Set permitted purposes and products (the operator)")
def put_permissions(code: CodePath, data: Permissions, request: Request, runtime: RuntimeDep,
                    principal: PrincipalDep) -> MembershipRead:
    """The purposes the member may query for and the products it may use."""
    _operator(principal)
    known = [p.value for p, role in runtime.policy.grantee_role.items() if role == Kind.SUBSCRIBER]
    return _change(request, runtime, lambda s: standing.permit(s, principal=principal, code=code, permissions=data,
                                                                known_purposes=known))


@router.post("/members/{code}/suspend", response_model=MembershipRead, summary="Suspend a member (the operator)")
def post_suspend(code: CodePath, data: SuspensionCreate, request: Request, runtime: RuntimeDep,
                 principal: PrincipalDep) -> MembershipRead:
    """Every key of the member stops (at once here, within OPENBUREAU_API_KEY_CACHE_SECONDS in other serving
    processes); its batch jobs and webhook deliveries wait; its data stays."""
    _operator(principal)
    return _change(request, runtime, lambda s: standing.suspend(s, principal=principal, code=code, suspension=data))


@router.post("/members/{code}/reinstate", response_model=MembershipRead, summary="Reinstate a member (the operator)")
def post_reinstate(code: CodePath, request: Request, runtime: RuntimeDep, principal: PrincipalDep) -> MembershipRead:
    """Lift the suspension: the keys work again and the waiting work resumes."""
    _operator(principal)
    return _change(request, runtime, lambda s: standing.reinstate(s, principal=principal, code=code))



