"""``openbureau model fraud``: train and evaluate the fraud-risk scorecard on labelled persons (operator;
registration audited). ``openbureau model release`` and ``model list`` serve both kinds of model."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from openbureau.audit import service as audit
from openbureau.cli.console import console, err_console, reports_errors
from openbureau.fraud.training import evaluate_fraud, read_labels
from openbureau.kit.db import session_scope
from openbureau.kit.errors import Unprocessable
from openbureau.reports.fraud_training import fraud_training_set, train_fraud_on_bureau
from openbureau.runtime import open_runtime
from openbureau.scoring import service
from openbureau.scoring.scorecard import Scorecard
from openbureau.scoring.training import TableError

app = typer.Typer(help="The fraud-risk score (0-999, higher = more risk): train, evaluate (docs/fraud.md).",
                  no_args_is_help=True)

LabelsOption = Annotated[Path, typer.Option(help="CSV or Parquet table of identity numbers and a fraud label (e.g. "
                                                 "a simulated market's truth/persons.parquet).")]
TargetOption = Annotated[str, typer.Option(help="The label column (1/0, true/false, bad/good).")]
IdOption = Annotated[str, typer.Option("--id", help="The identity-number column.")]
AtOption = Annotated[datetime | None, typer.Option(help="Observe the files as an inquiry at this moment would "
                                                        "(default: now).")]


def _labels(path: Path, target: str, id_column: str) -> list[tuple[str, str, bool]]:
    try:
        return read_labels(path, id_column=id_column, target=target)
    except TableError as exc:
        raise Unprocessable(str(exc), code="TABLE_INVALID", field="labels") from exc


def _moment(at: datetime | None) -> datetime:
    if at is None:
        return datetime.now(UTC)
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _print(result: dict, what: str) -> None:
    psi = "" if result.get("psi") is None else f", PSI {result['psi']:.3f}"
    console.print(f"{what}: {result['rows']:,} persons, {result['frauds']:,} frauds ({result['bad_rate']:.2%}), "
                  f"AUC {result['auc']:.4f}, KS {result['ks']:.4f}, Gini {result['gini']:.4f}{psi}", highlight=False)


@app.command("train")
@reports_errors
def train(labels: LabelsOption, target: TargetOption = "synthetic", id_column: IdOption = "id_number",
          at: AtOption = None,
          version: Annotated[str | None, typer.Option(help="Model version (default: from the moment).")] = None,
          out: Annotated[Path | None, typer.Option(help="Also write the model's JSON artefact here.")] = None,
          release: Annotated[bool, typer.Option("--release", help="Release the model at once.")] = False) -> None:
    """Train the fraud-risk scorecard on the labelled persons' files as an inquiry reads them; registered (kind
    fraud), released apart from the credit score."""
    rows = _labels(labels, target, id_column)
    runtime = open_runtime()
    with err_console.status(f"reading {len(rows):,} labelled persons' files, fitting the scorecard"):
        card, data = train_fraud_on_bureau(runtime.engine, vault=runtime.vault, policy=runtime.policy, labels=rows,
                                           actor_code=audit.operator_code(), now=_moment(at), version=version,
                                           release_it=release)
    if out is not None:
        out.write_text(service.artefact_text(card), encoding="utf-8")
    t = card.training
    console.print(f"Observed at {data.observed_at}: {len(data.rows):,} persons, {t['frauds']:,} frauds; left out: "
                  + ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in data.excluded.items()), highlight=False)
    _print(card.validation, f"Validation ({t['validation_rows']:,} persons held out)")
    kept = ", ".join(f.name for f in card.segments["main"].features)
    console.print(f"Features kept: {kept}", highlight=False)
    console.print(f"Model [bold]{card.model_version}[/] registered" + (" and released" if release else
                                                                       f"; release it with `openbureau model release "
                                                                       f"{card.model_version}`"), highlight=False)


@app.command("evaluate")
@reports_errors
def evaluate(model: Annotated[str, typer.Option(help="A registered fraud model's version, or its JSON file.")],
             labels: LabelsOption, target: TargetOption = "synthetic", id_column: IdOption = "id_number",
             at: AtOption = None) -> None:
    """Validate a fraud model on labelled persons: AUC, KS, Gini, PSI against its own validation sample."""
    rows = _labels(labels, target, id_column)
    runtime = open_runtime()
    path = Path(model)
    if path.suffix == ".json" and path.exists():
        card = Scorecard.from_json(json.loads(path.read_text(encoding="utf-8")))
    else:
        with session_scope(runtime.engine) as session:
            card = service.load(session, model)
    if card.kind != "fraud":
        raise Unprocessable(f"model {card.model_version} is a {card.kind} model, not a fraud model",
                            code="MODEL_NOT_FRAUD", field="model")
    with err_console.status(f"reading {len(rows):,} labelled persons' files"):
        data = fraud_training_set(runtime.engine, vault=runtime.vault, policy=runtime.policy, labels=rows,
                                  now=_moment(at))
    _print(evaluate_fraud(card, data), f"Model {card.model_version} on {len(data.rows):,} labelled persons")
