"""``openbureau identity``: resolve, review, merge, split and evaluate the bureau's persons."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from openbureau.audit import service as audit
from openbureau.cli.batch import check_batch_engine
from openbureau.cli.console import console, print_table, reports_errors
from openbureau.identity import service
from openbureau.identity.evaluate import evaluate as evaluate_links
from openbureau.identity.repository import ResolutionRepository
from openbureau.identity.resolution import resolve as resolve_persons
from openbureau.identity.resolution.training import level_weights
from openbureau.identity.resolution.training import train as train_model
from openbureau.kit.db import session_scope
from openbureau.members.service import get_member
from openbureau.runtime import open_runtime

app = typer.Typer(help="Identity resolution: link, review, merge and split persons.", no_args_is_help=True)
review_app = typer.Typer(help="Candidate links waiting for an operator.", no_args_is_help=True)
app.add_typer(review_app, name="review")


def _print(data: dict, as_json: bool) -> None:
    if as_json:
        console.print_json(json.dumps(data))
        return
    table = Table("figure", "value")
    for key, value in data.items():
        table.add_row(key, str(value))
    print_table(table, console)


@app.command("resolve")
@reports_errors
def resolve(
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    batch_engine: Annotated[str | None, typer.Option(
        "--engine", help="Where the pairs are scored: duckdb (this machine, in memory) or spark (the master "
        "URL of OPENBUREAU_SPARK_MASTER, local[2] by default); default: OPENBUREAU_BATCH_ENGINE, else duckdb.",
        callback=check_batch_engine)] = None,
) -> None:
    """Link persons known by a passport or customer number to resident-ID persons; refresh conflicts."""
    runtime = open_runtime()
    settings = runtime.settings
    if batch_engine is not None:
        settings = settings.model_copy(update={"batch_engine": batch_engine})
    summary = resolve_persons(runtime.engine, settings=settings, vault=runtime.vault,
                              principal=audit.terminal_operator())
    _print(summary.as_dict(), as_json)
    if summary.model_id is None and not as_json:
        console.print("no trained identity model: the starting values were used (run `openbureau identity train`)")


@app.command("train")
@reports_errors
def train(
    seed: Annotated[int, typer.Option(help="Seed of the random sampling (the same data and seed: the same model).")] = 42,
    as_json: Annotated[bool, typer.Option("--json", help="Print the estimated weights as JSON.")] = False,
) -> None:
    """Estimate the linkage model's weights from the bureau's records and store it as the newest (audited)."""
    runtime = open_runtime()
    stored = train_model(runtime.engine, vault=runtime.vault, actor_code=audit.operator_code(), seed=seed)
    _show_model(stored.id, json.loads(stored.model), as_json)


@app.command("model")
@reports_errors
def model(as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False) -> None:
    """The linkage model resolution uses now: its training date and the weight of every comparison level."""
    runtime = open_runtime()
    with session_scope(runtime.engine) as session:
        stored = ResolutionRepository(session).latest_model()
        found = (stored.id, json.loads(stored.model)) if stored else None
    if found is None:
        console.print("no trained identity model yet: run `openbureau identity train`")
        raise typer.Exit(1)
    _show_model(*found, as_json)


def _show_model(model_id: int, data: dict, as_json: bool) -> None:
    rows = level_weights(data)
    if as_json:
        console.print_json(json.dumps({"model_id": model_id, "version": data["version"],
                                       "trained_at": data["trained_at"], "training": data["training"],
                                       "levels": rows}))
        return
    console.print(f"identity model {model_id} ({data['version']}), trained {data['trained_at']} on "
                  f"{data['training']['descriptions']:,} descriptions of {data['training']['persons']:,} persons")
    table = Table("field", "level", "m", "u", "weight (bits)", "name frequency")
    for r in rows:
        table.add_row(r["field"], r["level"], f"{r['m']:.4g}", f"{r['u']:.3g}", f"{r['weight']:+.2f}",
                      "adjusted" if r["term_frequency"] else "")
    print_table(table, console)


@app.command("links")
@reports_errors
def links(person: Annotated[int, typer.Argument(help="The person.")],
          as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False) -> None:
    """Accounts filed under a person by probabilistic matching, with the evidence for each."""
    runtime = open_runtime()
    with session_scope(runtime.engine) as session:
        found = service.probabilistic_links(session, person)
    if as_json:
        console.print_json(json.dumps(found, default=str))
        return
    table = Table("furnisher", "account", "method", "weight", "probability", "levels")
    table.columns[5].overflow = "fold"
    for link in found:
        levels = ", ".join(f"{k}: {v}" for k, v in link["evidence"].get("levels", {}).items())
        table.add_row(str(link["furnisher_id"]), link["furnisher_account_id"], link["method"],
                      f"{link['match_weight']:.1f}", f"{link['match_probability']:.6f}", Text(levels))
    print_table(table, console)


@app.command("evaluate")
@reports_errors
def evaluate(
    truth: Annotated[Path, typer.Option(help="The simulation's truth/ directory.", exists=True, file_okay=False)],
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Precision, recall, F1, record-level false merges and namesakes merged, against a truth directory."""
    runtime = open_runtime()
    _print(evaluate_links(runtime.engine, truth=truth).as_dict(), as_json)


@review_app.command("list")
@reports_errors
def review_list(
    status: Annotated[str, typer.Option(help="pending, accepted, rejected or all.")] = "pending",
    limit: Annotated[int, typer.Option(help="At most this many items.")] = 100,
) -> None:
    """Queued candidate links, oldest first, with their evidence."""
    runtime = open_runtime()
    table = Table("id", "person", "candidate", "weight", "probability", "status", "evidence")
    table.columns[6].overflow = "fold"
    with session_scope(runtime.engine) as session:
        for r in service.list_reviews(session, principal=audit.terminal_operator(),
                                      status=None if status == "all" else status, limit=limit):
            table.add_row(str(r.id), str(r.person_id), str(r.candidate_person_id), f"{r.match_weight:.1f}",
                          f"{r.match_probability:.4f}", r.status, Text(r.evidence))
    print_table(table, console)


@review_app.command("show")
@reports_errors
def review_show(review_id: Annotated[int, typer.Argument(help="The review item's id.")]) -> None:
    """A queued pair side by side: each person's descriptions (in clear, on this console only) and the evidence."""
    runtime = open_runtime()
    with session_scope(runtime.engine) as session:
        pair = service.review_side_by_side(session, principal=audit.terminal_operator(), vault=runtime.vault,
                                           review_id=review_id)
    evidence = pair["evidence"]
    console.print(f"review {pair['review']} ({pair['status']}): person {pair['person_id']} → candidate "
                  f"{pair['candidate_person_id']}, weight {pair['match_weight']:.1f}, "
                  f"probability {pair['match_probability']:.6f}")
    table = Table("field", "level", "weight", f"person {pair['person_id']}", f"candidate {pair['candidate_person_id']}")
    names = {"name": "full_name", "birth_date": "birth_date", "phone": "phone", "address": "address"}
    for field, column in names.items():
        table.add_row(field, evidence.get("levels", {}).get(field, ""),
                      str(evidence.get("field_weights", {}).get(field, "")),
                      Text("\n".join(str(d[column]) for d in pair["person"])),
                      Text("\n".join(str(d[column]) for d in pair["candidate"])))
    print_table(table, console)
    for reason in evidence.get("review_reasons", []):
        console.print(f"queued: {reason}")


def _decide(review_id: int, accept: bool) -> None:
    runtime = open_runtime()
    with session_scope(runtime.engine, write=True) as session:
        item = service.decide_review(session, principal=audit.terminal_operator(), review_id=review_id,
                                     accept=accept)
        console.print(f"review {item.id}: {item.status}")


@review_app.command("accept")
@reports_errors
def review_accept(review_id: Annotated[int, typer.Argument(help="The review item's id.")]) -> None:
    """Accept a candidate link: merge the person into the candidate (audited)."""
    _decide(review_id, True)


@review_app.command("reject")
@reports_errors
def review_reject(review_id: Annotated[int, typer.Argument(help="The review item's id.")]) -> None:
    """Reject a candidate link: the two persons are never merged automatically (audited)."""
    _decide(review_id, False)


@app.command("merge")
@reports_errors
def merge(
    person: Annotated[int, typer.Argument(help="The person that disappears.")],
    into: Annotated[int, typer.Argument(help="The person that remains.")],
) -> None:
    """Merge person A into person B, keeping the history (audited)."""
    runtime = open_runtime()
    with session_scope(runtime.engine, write=True) as session:
        entry = service.merge(session, principal=audit.terminal_operator(), person_id=person, into_person_id=into)
        console.print(f"person {person} merged into {into} (merge {entry.id})")


@app.command("split")
@reports_errors
def split(
    person: Annotated[int, typer.Argument(help="The person holding the wrongly linked account.")],
    account: Annotated[str, typer.Option(help="FURNISHER:ACCOUNT, e.g. BANK_A:6225000012345678.")],
) -> None:
    """Move one account's records out of a person, keeping the history (audited)."""
    code, sep, account_id = account.partition(":")
    if not sep or not code or not account_id:
        raise typer.BadParameter("expected FURNISHER:ACCOUNT", param_hint="--account")
    runtime = open_runtime()
    with session_scope(runtime.engine, write=True) as session:
        furnisher = get_member(session, code=code)
        entry = service.split(session, principal=audit.terminal_operator(), vault=runtime.vault, person_id=person,
                              furnisher_id=furnisher.id, furnisher_account_id=account_id)
        console.print(f"account {account} moved from person {person} to person {entry.into_person_id} "
                      f"(split {entry.id})")


@app.command("history")
@reports_errors
def history(person: Annotated[int, typer.Argument(help="The person.")]) -> None:
    """Merges and splits involving a person, and its identity conflicts."""
    runtime = open_runtime()
    table = Table("id", "kind", "method", "person", "into", "weight", "by", "at (UTC)", "evidence")
    table.columns[8].overflow = "fold"
    with session_scope(runtime.engine) as session:
        for m in service.history(session, person):
            table.add_row(str(m.id), m.kind, m.method, str(m.person_id), str(m.into_person_id),
                          "" if m.match_weight is None else f"{m.match_weight:.1f}", Text(m.actor_code),
                          m.created_at.strftime("%Y-%m-%d %H:%M:%S"), Text(m.evidence))
        conflicts = service.conflicts_for(session, person)
    print_table(table, console)
    for c in conflicts:
        console.print(Text(f"conflict {c.kind} (furnisher {c.furnisher_id}): {c.evidence}"))
