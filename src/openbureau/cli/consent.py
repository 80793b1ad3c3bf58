"""``openbureau consent``: import, list and revoke consents, and release quarantined records (operator)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from openbureau.audit import service as audit
from openbureau.cli.console import console, print_table, progress, reports_errors
from openbureau.consent import service as consents
from openbureau.consent.schemas import Subject
from openbureau.intake import quarantine
from openbureau.kit.db import session_scope
from openbureau.members.repository import MemberRepository
from openbureau.members.service import get_member
from openbureau.runtime import open_runtime

app = typer.Typer(help="Consents to furnish and to query; the quarantine they unblock.", no_args_is_help=True)


@app.command("import")
@reports_errors
def import_file(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV or JSON Lines (docs/consent.md).")],
    member: Annotated[str, typer.Option(help="Code of the member holding these consents.")],
) -> None:
    """Import a member's consents; print the counts, every bad line, and the records released."""
    runtime = open_runtime()
    with session_scope(runtime.engine) as session:
        actor = get_member(session, code=member)
    with progress(TextColumn("[bold]{task.description}"), MofNCompleteColumn(), TimeElapsedColumn(),
                  transient=True) as bar:
        task = bar.add_task("checking every line", total=None)
        outcome, released = quarantine.import_consents(
            runtime.engine, vault=runtime.vault, profile=runtime.policy.profile, actor=actor, path=file,
            checked=lambda lines: bar.update(task, total=lines, description="consents stored"),
            progress=lambda n: bar.update(task, advance=n))
    console.print(f"{outcome.received:,} lines: {outcome.created:,} created, {outcome.revoked:,} revoked, "
                  f"{outcome.unchanged:,} unchanged, {outcome.rejected:,} rejected; "
                  f"{released:,} quarantined records released", soft_wrap=True)
    for finding in outcome.findings[:50]:
        console.print(f"  line {finding.line}: {finding.code} ({finding.field}): {finding.message}", soft_wrap=True)
    total = sum(outcome.finding_counts.values())
    if total > 50:
        counts = ", ".join(f"{code} {n:,}" for code, n in outcome.finding_counts.most_common())
        console.print(f"  ... and {total - 50:,} more ({counts})", soft_wrap=True)


@app.command("list")
@reports_errors
def list_consents(
    id_type: Annotated[str, typer.Option(help="CN_RESIDENT_ID, PASSPORT or OTHER.")],
    id_number: Annotated[str, typer.Option(help="The person's identity number.")],
) -> None:
    """Every consent of one person (an operator view of personal data: audited)."""
    runtime = open_runtime()
    with session_scope(runtime.engine, write=True) as session:
        found = consents.list_for_subject(session, vault=runtime.vault, principal=audit.terminal_operator(),
                                          subject=Subject(id_type=id_type, id_number=id_number))
        codes = {m.id: m.code for m in MemberRepository(session).all()}
        rows = [consents.to_read(c, vault=runtime.vault, grantee_code=codes[c.grantee_member_id]) for c in found]
        audit.record(session, actor_member_id=None, actor_code=audit.operator_code(), action="consent.operator_view",
                     details={"consent_ids": [c.id for c in found]})
    table = Table("id", "ref", "grantee", "purpose", "status", "valid from", "valid until", "channel")
    for c in rows:
        table.add_row(str(c.id), c.consent_ref, c.grantee, c.purpose, c.status, f"{c.valid_from:%Y-%m-%d}",
                      f"{c.valid_until:%Y-%m-%d}" if c.valid_until else "", c.evidence_channel)
    print_table(table, console)


@app.command("revoke")
@reports_errors
def revoke(
    consent_id: Annotated[int, typer.Argument(help="The consent's id (see `consent list`).")],
    reason: Annotated[str, typer.Option(help="Why, as the person said it.")] = "revoked by the person",
) -> None:
    """Revoke a consent at once (audited)."""
    runtime = open_runtime()
    with session_scope(runtime.engine, write=True) as session:
        consent = consents.revoke(session, vault=runtime.vault, principal=audit.terminal_operator(), consent_id=consent_id, reason=reason)
        console.print(f"Consent {consent.id} ({consent.consent_ref}) revoked.")


@app.command("release")
@reports_errors
def release(
    furnisher: Annotated[str | None, typer.Option(help="Only this furnisher's records.")] = None,
) -> None:
    """Release every quarantined record whose consent is now in force (e.g. a consent dated ahead)."""
    runtime = open_runtime()
    with session_scope(runtime.engine, write=True) as session:
        member_id = get_member(session, code=furnisher).id if furnisher else None
        released = quarantine.release(session, vault=runtime.vault, profile=runtime.policy.profile,
                                      furnisher_id=member_id)
        left = quarantine.held_count(session, furnisher_id=member_id)
    console.print(f"Released {released:,} records; {left:,} still held for want of consent.", soft_wrap=True)
