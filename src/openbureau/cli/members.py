"""``openbureau members``: register institutions, manage their API keys, and run membership: licence, vetting,
permitted purposes and products, suspension and reinstatement, and the monthly statement (docs/membership.md)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.table import Table

from openbureau.audit import service as audit
from openbureau.cli.console import console, print_table, reports_errors
from openbureau.kit.db import session_scope
from openbureau.members import service, standing
from openbureau.members.models import LicenceKind, Product, Role, Vetting
from openbureau.members.schemas import (
    LicenceUpdate,
    MemberCreate,
    MembershipRead,
    Permissions,
    SuspensionCreate,
    VettingDecision,
)
from openbureau.runtime import open_runtime

app = typer.Typer(help="Member institutions, their roles and API keys; membership and monthly statements.",
                  no_args_is_help=True)
Code = Annotated[str, typer.Argument(help="The member's code.")]


@app.command("add")
@reports_errors
def add(
    code: Annotated[str, typer.Option(help="Upper-case member code, e.g. BANK_A.")],
    name: Annotated[str, typer.Option(help="The institution's name.")],
    role: Annotated[list[Role], typer.Option(help="A role; repeat for several.")],
    approved: Annotated[bool, typer.Option("--approved", help="Vetted already: approved at registration "
                                                              "(otherwise pending until `members vet`).")] = False,
) -> None:
    """Register an institution and print its first API key (shown only this once)."""
    try:
        data = MemberCreate(code=code, name=name, roles=role, vetting=Vetting.APPROVED if approved else Vetting.PENDING)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise typer.BadParameter(f"{first['loc'][0]}: {first['msg']}") from exc
    runtime = open_runtime()
    with session_scope(runtime.engine, write=True) as session:
        member, key = service.add_member(session, principal=audit.terminal_operator(), data=data)
        roles = ", ".join(sorted(member.roles))
    console.print(f"Registered [bold]{code}[/] ({name}) with roles: {roles}; vetting: {data.vetting.value}")
    console.print(f"API key (shown once, store it now): [bold green]{key.api_key}[/]")


@app.command("list")
@reports_errors
def list_members() -> None:
    """List every member with its roles and keys."""
    runtime = open_runtime()
    table = Table("code", "name", "roles", "standing", "keys (prefix: state)")
    with session_scope(runtime.engine) as session:
        for m in service.list_members(session):
            keys = ", ".join(f"{k.prefix}: {'revoked' if k.revoked_at else 'active'}" for k in m.keys)
            table.add_row(m.code, m.name, ", ".join(sorted(m.roles)), _standing_word(standing.membership(m)), keys)
    print_table(table, console)


@app.command("issue-key")
@reports_errors
def issue_key(code: Annotated[str, typer.Argument(help="The member's code.")]) -> None:
    """Issue another API key for a member (for rotation)."""
    runtime = open_runtime()
    with session_scope(runtime.engine, write=True) as session:
        key = service.issue_key(session, principal=audit.terminal_operator(),
                                member=service.get_member(session, code=code))
    console.print(f"API key for {code} (shown once): [bold green]{key.api_key}[/]")


@app.command("revoke-key")
@reports_errors
def revoke_key(prefix: Annotated[str, typer.Argument(help="The key's prefix (see `members list`).")]) -> None:
    """Revoke an API key: refused by serving processes within OPENBUREAU_API_KEY_CACHE_SECONDS (2 s)."""
    runtime = open_runtime()
    with session_scope(runtime.engine, write=True) as session:
        key = service.revoke_key(session, principal=audit.terminal_operator(), prefix=prefix)
    console.print(f"Revoked key {key.prefix} of {key.member.code}.")


@app.command("second-factor")
@reports_errors
def second_factor(prefix: Annotated[str, typer.Argument(help="The key's prefix (see `members list`).")]) -> None:
    """Enrol (or replace) the second factor of a key for the web sign-in: prints the authenticator app's address
    and secret, shown once (docs/portal.md)."""
    from openbureau.members import second_factor as factors

    runtime = open_runtime()
    with session_scope(runtime.engine, write=True) as session:
        enrolled = factors.enrol(session, vault=runtime.vault, principal=audit.terminal_operator(), prefix=prefix)
    console.print(f"Second factor of {enrolled.member_code}'s key {prefix} (shown once; any earlier one no longer "
                  f"works). Add it to an authenticator app (TOTP, 6 digits, 30 s):", soft_wrap=True, highlight=False)
    console.print(f"  secret: [bold green]{enrolled.secret}[/]", highlight=False)
    console.print(f"  address: {enrolled.uri}", soft_wrap=True, highlight=False)


def _standing_word(read: MembershipRead) -> str:
    if read.suspended:
        return "suspended"
    return read.vetting.value if read.licence_in_force else f"{read.vetting.value}, licence not in force"


def _show(read: MembershipRead) -> None:
    table = Table("", read.code, show_header=True)
    licence = read.licence
    rows = [("name", read.name), ("roles", ", ".join(read.roles)), ("vetting", read.vetting.value),
            ("vetted", f"{read.vetted_by or ''} {read.vetted_at:%Y-%m-%d %H:%M}" if read.vetted_at else ""),
            ("notes", read.vetting_notes or ""),
            ("licence", f"{licence.kind} {licence.number} ({licence.authority}), {licence.valid_from} to "
                        f"{licence.valid_until or 'open-ended'}" if licence else "none recorded"),
            ("licence in force", "yes" if read.licence_in_force else "no"),
            ("purposes", ", ".join(read.purposes)), ("products", ", ".join(read.products)),
            ("may query", "yes" if read.may_query else "no"),
            ("suspended", f"since {read.suspended_at:%Y-%m-%d %H:%M} by {read.suspended_by}: {read.suspension_reason}"
                          if read.suspended and read.suspended_at else "no")]
    for name, value in rows:
        table.add_row(name, value)
    print_table(table, console)


def _valid(model, **values):
    try:
        return model(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise typer.BadParameter(f"{'.'.join(str(p) for p in first['loc']) or 'value'}: {first['msg']}") from None


def _change(change) -> None:
    runtime = open_runtime()
    with session_scope(runtime.engine, write=True) as session:
        read = change(session, audit.terminal_operator())
    _show(read)


@app.command("show")
@reports_errors
def show(code: Code) -> None:
    """A member's standing: vetting, licence, permitted purposes and products, suspension."""
    runtime = open_runtime()
    with session_scope(runtime.engine) as session:
        read = standing.read_membership(session, principal=audit.terminal_operator(), code=code)
    _show(read)


@app.command("licence")
@reports_errors
def licence(
    code: Code,
    kind: Annotated[LicenceKind, typer.Option(help="licence, registration or authorisation.")],
    number: Annotated[str, typer.Option(help="The licence's or registration's number.")],
    authority: Annotated[str, typer.Option(help="Who issued it.")],
    valid_from: Annotated[str, typer.Option(help="First valid day, YYYY-MM-DD.")],
    valid_until: Annotated[str | None, typer.Option(help="Last valid day, YYYY-MM-DD; none: open-ended.")] = None,
) -> None:
    """Record a member's licence or registration (it replaces the one recorded before)."""
    data = _valid(LicenceUpdate, kind=kind, number=number, authority=authority, valid_from=_day(valid_from),
                  valid_until=_day(valid_until) if valid_until else None)
    _change(lambda s, op: standing.record_licence(s, principal=op, code=code, licence=data))


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"not a day (YYYY-MM-DD): {text[:20]!r}") from None


@app.command("vet")
@reports_errors
def vet(
    code: Code,
    status: Annotated[Vetting, typer.Option(help="approved, rejected or pending.")],
    notes: Annotated[str, typer.Option(help="Why; what was checked.")] = "",
) -> None:
    """Record the bureau's vetting decision about a member."""
    data = _valid(VettingDecision, status=status, notes=notes)
    _change(lambda s, op: standing.vet(s, principal=op, code=code, decision=data))


@app.command("permit")
@reports_errors
def permit(
    code: Code,
    purpose: Annotated[list[str] | None, typer.Option(help="A purpose it may query for; repeat; * for all.")] = None,
    product: Annotated[list[str] | None, typer.Option(
        help=f"A product it may use ({', '.join(p.value for p in Product)}); repeat; * for all.")] = None,
) -> None:
    """Set the purposes a member may query for and the products it may use (those given replace the old)."""
    if purpose is None and product is None:
        raise typer.BadParameter("give --purpose or --product")
    runtime = open_runtime()
    products = None if product is None else (list(Product) if "*" in product else product)
    data = _valid(Permissions, purposes=purpose, products=products)
    known = [p.value for p, role in runtime.policy.grantee_role.items() if role == Role.SUBSCRIBER]
    with session_scope(runtime.engine, write=True) as session:
        read = standing.permit(session, principal=audit.terminal_operator(), code=code, permissions=data,
                               known_purposes=known)
    _show(read)


@app.command("suspend")
@reports_errors
def suspend(code: Code, reason: Annotated[str, typer.Option(help="Why (kept in the audit log).")]) -> None:
    """Suspend a member: its keys are refused by serving processes within OPENBUREAU_API_KEY_CACHE_SECONDS (2 s),
    its batch jobs and webhook deliveries wait; nothing it furnished or asked is deleted."""
    data = _valid(SuspensionCreate, reason=reason)
    _change(lambda s, op: standing.suspend(s, principal=op, code=code, suspension=data))


@app.command("reinstate")
@reports_errors
def reinstate(code: Code, notes: Annotated[str, typer.Option(help="Why (kept in the audit log).")] = "") -> None:
    """Lift a member's suspension: its keys work again and its waiting work resumes."""
    _change(lambda s, op: standing.reinstate(s, principal=op, code=code, notes=notes))


@app.command("statement")
@reports_errors
def statement(
    code: Code,
    month: Annotated[str, typer.Option(help="The month, YYYY-MM (UTC).")],
    csv: Annotated[Path | None, typer.Option("--csv", help="Also write the statement to this CSV file.")] = None,
) -> None:
    """A member's monthly statement: inquiries by purpose, batch rows, webhook deliveries, files furnished."""
    from openbureau.metering import service as metering

    runtime = open_runtime()
    with session_scope(runtime.engine, read_only=True) as session:
        read = metering.member_statement(session, principal=audit.terminal_operator(), code=code, month=month)
    table = Table("product", "measure", "purpose", "kind", "quantity",
                  title=f"{read.member_name} ({read.member_code}), {read.month}"
                        f"{'' if read.complete else ' (month still running)'}")
    for line in read.lines:
        table.add_row(line.product, line.measure, line.purpose or "", line.kind or "", f"{line.quantity:,}")
    print_table(table, console)
    console.print(f"Inquiries {read.inquiries:,} ({read.hard_inquiries:,} hard, {read.soft_inquiries:,} soft); "
                  f"batch rows {read.batch_rows:,}; webhook deliveries {read.webhook_deliveries:,}.")
    if csv is not None:
        csv.write_text(metering.statement_csv(read), encoding="utf-8", newline="")
        console.print(f"Wrote {csv}")


@app.command("funded-accounts")
@reports_errors
def funded_accounts(
    code: Code,
    after: Annotated[str | None, typer.Option(help="next_after of the previous page.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="Accounts per page.")] = 100,
) -> None:
    """The accounts a member is listed as funder of (joint lending): facilitator, share, balance and its share of
    it, status (docs/reports.md, The funder's review). Audited as the operator's read."""
    from openbureau.accounts import funding

    runtime = open_runtime()
    with session_scope(runtime.engine, write=True) as session:
        page = funding.funded_accounts(session, principal=audit.terminal_operator(), funder_code=code, after=after,
                                       limit=limit)
    table = Table("furnisher", "account", "facilitator", "period", "share", "balance", "funded", "status", "dpd",
                  title=f"Accounts {code} funds")
    for a in page.accounts:
        table.add_row(a.furnisher, a.furnisher_account_id, a.facilitator, a.reporting_period,
                      f"{a.share_bp / 100:.2f}%", f"{a.balance:,}", f"{a.funded_balance:,}", a.payment_status,
                      str(a.days_past_due))
    print_table(table, console)
    if page.next_after:
        console.print(f"More: --after {page.next_after}", highlight=False)


@app.command("console-code")
@reports_errors
def console_code() -> None:
    """A one-time code (ten minutes) to sign in to the operator's web pages as the operator at this terminal
    (served by `openbureau serve --operator-console`)."""
    from openbureau.members import console as consoles

    runtime = open_runtime()
    with session_scope(runtime.engine, write=True) as session:
        code = consoles.issue_operator_code(session, principal=audit.terminal_operator())
    console.print(f"Sign in at /operator/signin with this code within 10 minutes (once): {code}",
                  soft_wrap=True, highlight=False)
