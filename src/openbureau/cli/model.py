"""``openbureau model``: train, evaluate, release and list scorecards (operator; registry actions audited)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from openbureau.audit import service as audit
from openbureau.cli import model_fraud
from openbureau.cli.batch import check_batch_engine, spark_of
from openbureau.cli.console import console, err_console, print_table, reports_errors
from openbureau.kit.db import session_scope
from openbureau.kit.errors import Unprocessable
from openbureau.kit.periods import period_end
from openbureau.present.validation import validation_html
from openbureau.runtime import open_runtime
from openbureau.scoring import calibration, engines, evaluation, governance, service, training
from openbureau.scoring.scorecard import SCALES
from openbureau.scoring.training_set import default_periods

app = typer.Typer(help="Scorecards: train on the bureau or on any table, evaluate, import, release; the fraud-risk "
                       "score's own (`model fraud`).", no_args_is_help=True)
app.add_typer(model_fraud.app, name="fraud")

ScaleOption = Annotated[str, typer.Option(help=f"Score range: {', '.join(SCALES)}.")]
EngineOption = Annotated[str, typer.Option(help="scorecard (monotone bins, logistic regression), additive (an "
                                                "explainable boosting machine as points tables) or auto (the "
                                                "better cross-validated AUC on the same folds).")]


def _engine(name: str) -> str:
    if name not in engines.CHOICES:
        raise typer.BadParameter(f"unknown engine {name!r}; choose {', '.join(engines.CHOICES)}")
    return name


def _print_engine(card) -> None:
    choice = card.training.get("engine_choice")
    if choice is not None:
        means = choice["mean_auc"]
        console.print(f"Engine auto: cross-validated AUC ({choice['folds']} stratified folds of the training rows, the "
                      f"same for both) scorecard {means['scorecard']:.4f}, additive {means['additive']:.4f} (at most "
                      f"{choice['max_interactions']} interactions): chose [bold]{choice['engine']}[/]", highlight=False)


def _size(card) -> str:
    segment = card.segments["main"]
    if engines.engine_of(card) == "additive":
        pairs = sum(1 for t in segment.terms if len(t.features) > 1)
        return f"additive, {len(segment.terms) - pairs} shapes and {pairs} interactions"
    return f"scorecard, {len(segment.features)} features"


def _scale(name: str):
    if name not in SCALES:
        raise typer.BadParameter(f"unknown scale {name!r}; choose {', '.join(SCALES)}")
    return SCALES[name]


def _print_figures(result: dict, what: str) -> None:
    psi = "" if result.get("psi") is None else f", PSI {result['psi']:.3f}"
    console.print(f"{what}: {result['rows']:,} rows, bad rate {result['bad_rate']:.2%}, AUC {result['auc']:.4f}, "
                  f"KS {result['ks']:.4f}, Gini {result['gini']:.4f}{psi}", highlight=False)


def _table_or_exit(path: Path, target: str, id_column: str | None) -> training.Table:
    try:
        return training.read_table(path, target=target, id_column=id_column)
    except training.TableError as exc:
        raise Unprocessable(str(exc), code="TABLE_INVALID", field="table") from exc


@app.command("train")
@reports_errors
def train(
    table: Annotated[Path | None, typer.Option(help="Train on this CSV or Parquet table instead of the bureau.")] = None,
    target: Annotated[str | None, typer.Option(help="The table's target column (0/1, true/false, good/bad).")] = None,
    id_column: Annotated[str | None, typer.Option("--id", help="The table's id column (not a feature).")] = None,
    out: Annotated[Path | None, typer.Option(help="Also write the model's JSON artefact here.")] = None,
    observation_period: Annotated[str | None, typer.Option(help="Bureau: observe at YYYY-MM (default: six months before the newest "
                                                                "with 12 months of outcome).")] = None,
    scale: ScaleOption = "300-850",
    version: Annotated[str | None, typer.Option(help="Model version (default: from the data and the time).")] = None,
    release: Annotated[bool, typer.Option("--release", help="Bureau: release the model at once.")] = False,
    engine: EngineOption = "scorecard",
    batch_engine: Annotated[str | None, typer.Option(
        "--batch-engine", help="Bureau: where the training set's rows are computed: duckdb (this machine, in "
        "process) or spark (OPENBUREAU_SPARK_MASTER); the same rows either way. Default: OPENBUREAU_BATCH_ENGINE.",
        callback=check_batch_engine)] = None,
) -> None:
    """Train a model: on the bureau's own data (registered), or on a table (written to --out)."""
    engine = _engine(engine)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    if table is not None:
        if target is None or out is None:
            raise typer.BadParameter("--table needs --target and --out")
        data = _table_or_exit(table, target, id_column)
        with err_console.status(f"fitting ({engine}) on {len(data.bad):,} rows of {table.name}"):
            card = training.train_table(data, scale=_scale(scale), version=version or f"table-{table.stem}-{stamp}",
                                        source=table.name, target=f"{target} (bad = 1, true or bad)", engine=engine)
        out.write_text(service.artefact_text(card), encoding="utf-8")
        _print_engine(card)
        _print_figures(card.validation, f"Validation ({card.training['validation_rows']:,} rows held out)")
        console.print(f"Model {card.model_version} ({_size(card)}); written to {out}", highlight=False)
        return
    runtime = open_runtime()
    with err_console.status(f"reading every file as it stood at the observation period, fitting ({engine})"):
        card, data = service.train_on_bureau(
            runtime.engine, scale=_scale(scale), actor_code=audit.operator_code(),
            observation_period=observation_period, version=version, release_it=release,
            retention_years=runtime.policy.profile.negative_retention_years, model_engine=engine,
            spark=spark_of(runtime, batch_engine))
    period = data.observation_period
    if out is not None:
        out.write_text(service.artefact_text(card), encoding="utf-8")
    t = card.training
    console.print(f"Observed at {period}: {len(data.rows):,} scorable persons, bad rate {t['bad_rate']:.2%}, thin files "
                  f"{t['thin_share']:.1%} ({t['thin_segment']}); left out: " +
                  ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in data.excluded.items()), highlight=False)
    _print_engine(card)
    _print_figures(card.validation, f"Validation, in-time hold-out ({t['validation_rows']:,} persons held out)")
    if observation_period is None:
        _print_out_of_time(runtime, card)
    console.print(f"Model [bold]{card.model_version}[/] ({_size(card)}) registered" + (" and released" if release else
                                                                       f"; release it with `openbureau model release "
                                                                       f"{card.model_version}`"), highlight=False)


def _print_out_of_time(runtime, card) -> None:
    """The default evaluation of a model trained at the default period: out-of-time, when the bureau is long
    enough (``training_set.default_periods``)."""
    with session_scope(runtime.engine) as session:
        periods = default_periods(session)
    if not periods.out_of_time:
        console.print(f"[dim]No out-of-time validation: {periods.note}.[/]", highlight=False)
        return
    with err_console.status(f"reading every file as it stood at {periods.validation} (out-of-time)"):
        sets, _ = service.evaluate_on_bureau(runtime.engine, card, observation_period=periods.validation,
                                             retention_years=runtime.policy.profile.negative_retention_years)
    _print_figures(sets[0].result, f"Validation, out-of-time ({periods.note}; `model evaluate` by default)")


@app.command("evaluate")
@reports_errors
def evaluate(
    model: Annotated[str, typer.Option(help="A registered version, or a model's JSON file.")],
    table: Annotated[Path | None, typer.Option(help="Evaluate on this table (default: the bureau).")] = None,
    target: Annotated[str | None, typer.Option(help="The table's target column.")] = None,
    id_column: Annotated[str | None, typer.Option("--id", help="The table's id column.")] = None,
    observation_period: Annotated[str | None, typer.Option(help="Bureau: observe at YYYY-MM.")] = None,
    html: Annotated[Path | None, typer.Option(help="Write the validation report (HTML with charts).")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the report's figures as JSON.")] = None,
    fairness: Annotated[bool, typer.Option(help="Bureau: add the fairness report (gender, age band, region derived "
                                                "from resident IDs for model governance; audited).")] = True,
    cutoff: Annotated[float | None, typer.Option(help="The approval cut-off of the fairness report (default: the "
                                                      "scale's good band, 670 or 600).")] = None,
) -> None:
    """Evaluate a model: AUC, KS, Gini, calibration by band with confidence intervals, score distribution and PSI
    against its training, labelled by which rows were scored (in-sample figures are never called validation);
    on the bureau, with --html or --json, the fairness report."""
    runtime = None
    path = Path(model)
    if path.suffix == ".json" and path.exists():
        card = engines.from_json(json.loads(path.read_text(encoding="utf-8")))
    else:
        runtime = open_runtime()
        with session_scope(runtime.engine) as session:
            card = service.load(session, model)
    if table is not None:
        if target is None:
            raise typer.BadParameter("--table needs --target")
        data = _table_or_exit(table, target, id_column)
        try:
            sets = evaluation.evaluate_labelled(card, data.frame, data.bad)
        except training.TableError as exc:
            raise Unprocessable(str(exc), code="TABLE_INVALID", field="table") from exc
        what = f"{table.name}"
    else:
        runtime = runtime or open_runtime()
        with err_console.status("reading every file as it stood at the observation period"):
            sets, data = service.evaluate_on_bureau(
                runtime.engine, card, observation_period=observation_period,
                retention_years=runtime.policy.profile.negative_retention_years)
        labels = service.segment_labels(data)
        what = f"the bureau observed at {data.observation_period}"
        if fairness and (html is not None or json_out is not None):
            _add_fairness(runtime, card, data, labels, next((s for s in sets if s.validation), sets[-1]), cutoff)
    for s in sets:
        _print_figures(s.result, f"Model {card.model_version} on {what}, {_heading(s)} ({s.note})")
        check = s.result["calibration_check"]
        console.print(f"  calibration: predicted bad rate within the observed rate's {check['interval']} interval in "
                      f"{check['bands'] - len(check['outside'])} of {check['bands']} bands" +
                      (f"; outside: {', '.join(check['outside'])}" if check["outside"] else ""), highlight=False)
    shown = next((s for s in sets if s.validation), sets[-1])
    if json_out is not None:
        json_out.write_text(json.dumps({"model": card.model_version, "rows": _heading(shown), "note": shown.note,
                                        **shown.result}, ensure_ascii=False, indent=1), encoding="utf-8")
        console.print(f"Figures ({_heading(shown)}): {json_out}")
    if html is not None:
        heading = _heading(shown)
        html.write_text(validation_html(card, shown.result, title=f"{heading[0].upper()}{heading[1:]}: "
                                                                  f"{card.model_version} on {what}"), encoding="utf-8")
        console.print(f"Report ({_heading(shown)}): {html}")


def _add_fairness(runtime, card, data, labels: list[str], shown: evaluation.Evaluated, cutoff: float | None) -> None:
    """The fairness report of the shown rows, into their result (attributes derived and audited)."""
    rows = shown.rows if shown.rows is not None else list(range(len(data.bad)))
    ids = [data.person_ids[i] for i in rows]
    with session_scope(runtime.engine, write=True) as session:
        groups = governance.protected_groups(session, vault=runtime.vault, person_ids=ids,
                                             observed=period_end(data.observation_period),
                                             actor_code=audit.operator_code(), model_version=card.model_version)
    shown.result["fairness"] = governance.fairness_report(
        card, data.frame().iloc[list(rows)], data.bad[list(rows)], groups=groups,
        segments=[labels[i] for i in rows], cutoff=cutoff,
        source="gender, age band and region derived from resident ID numbers (model governance, audited)")


@app.command("recalibrate")
@reports_errors
def recalibrate(
    model: Annotated[str, typer.Argument(help="The registered version to recalibrate.")],
    observation_period: Annotated[str, typer.Option(help="The held-out period to fit on (YYYY-MM, not the "
                                                         "training period; 12 months of outcome needed).")],
    version: Annotated[str | None, typer.Option(help="The new version (default: VERSION-rPERIOD).")] = None,
    release: Annotated[bool, typer.Option("--release", help="Release the new version at once.")] = False,
    method: Annotated[str, typer.Option(help="auto (Platt when it agrees in every band of the period, else "
                                             "isotonic if it leaves fewer bands outside), platt (two parameters "
                                             "per segment) or isotonic (a monotone step function).")] = "auto",
) -> None:
    """Register a new version of a model whose probability of bad is recalibrated (Platt scaling per segment) on
    a held-out period; its scores, bands and reasons stay the same."""
    if method not in ("auto", *calibration.METHODS):
        raise typer.BadParameter(f"unknown method {method!r}; choose auto, {', '.join(calibration.METHODS)}")
    runtime = open_runtime()
    with err_console.status(f"reading every file as it stood at {observation_period}"):
        card, data = service.recalibrate_on_bureau(
            runtime.engine, version=model, observation_period=observation_period, new_version=version,
            actor_code=audit.operator_code(), release_it=release, method=method,
            retention_years=runtime.policy.profile.negative_retention_years)
    r = card.recalibration
    for name, fit in r["segments"].items():
        how = (f"log-odds × {fit['slope']:.3f} {fit['intercept']:+.3f}" if r["method"] == "platt" else
               f"isotonic, {len(fit['logit'])} breakpoints")
        console.print(f"Segment {name}: {how} ({fit['rows']:,} files, {fit['bads']:,} bads)", highlight=False)
    for name, why in r["unchanged"].items():
        console.print(f"Segment {name}: {why}", highlight=False)
    for when in ("before", "after"):
        check = r[f"{when}_check"]
        console.print(f"{when.capitalize()}: predicted within the observed {check['interval']} interval in "
                      f"{check['bands'] - len(check['outside'])} of {check['bands']} bands" +
                      (f" (outside: {', '.join(check['outside'])})" if check["outside"] else ""), highlight=False)
    console.print(f"Model [bold]{card.model_version}[/] registered" + (" and released" if release else ""),
                  highlight=False)


def _heading(s: evaluation.Evaluated) -> str:
    """The rows' label, and whether the figures are validation (never for rows the model was fitted on)."""
    if s.validation is None:
        return s.label
    return f"validation, {s.label}" if s.validation else f"{s.label}, not validation"


@app.command("import")
@reports_errors
def import_model(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A model's JSON artefact.")],
    release: Annotated[bool, typer.Option("--release", help="Release it at once (bureau models only).")] = False,
) -> None:
    """Register a model trained elsewhere (its JSON artefact, e.g. from `model train --out`)."""
    try:
        card = engines.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, KeyError, TypeError) as exc:
        raise Unprocessable(f"{path.name} is not a model artefact: {exc}", code="MODEL_INVALID", field="path") from exc
    runtime = open_runtime()
    with session_scope(runtime.engine, write=True) as session:
        service.register(session, card=card, actor_code=audit.operator_code())
        if release:
            service.release(session, version=card.model_version, actor_code=audit.operator_code())
    console.print(f"Registered {card.model_version}" + (" and released it" if release else ""))


@app.command("release")
@reports_errors
def release(version: Annotated[str, typer.Argument(help="The registered version to release.")]) -> None:
    """Release a bureau model (the credit score) or a fraud model (the fraud-risk score): it scores every inquiry
    from now on (within 10 s in running servers); the other kind's release stays."""
    runtime = open_runtime()
    with session_scope(runtime.engine, write=True) as session:
        service.release(session, version=version, actor_code=audit.operator_code())
    console.print(f"Released {version}")


@app.command("list")
@reports_errors
def list_models() -> None:
    """Every registered model, newest first."""
    runtime = open_runtime()
    with session_scope(runtime.engine) as session:
        models = service.list_models(session)
    table = Table("version", "kind", "scale", "created", "released", "AUC", "KS", title="Models")
    for m in models:
        table.add_row(m.version, m.kind, m.scale, f"{m.created_at:%Y-%m-%d %H:%M}",
                      f"{m.released_at:%Y-%m-%d %H:%M}" if m.released_at else "",
                      f"{m.auc:.4f}" if m.auc is not None else "–", f"{m.ks:.4f}" if m.ks is not None else "–")
    print_table(table, console)
