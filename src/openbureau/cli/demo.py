"""``openbureau demo``: a whole bureau on the embedded default, from an empty directory to a served API."""

from __future__ import annotations

import errno
import fcntl
import json
import shutil
import socket
import time
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn

from openbureau import sim
from openbureau.api.app import server_limits
from openbureau.audit import service as audit
from openbureau.cli import demo_fraud, demo_person
from openbureau.cli.console import (
    console,
    err_console,
    openbureau_command,
    progress,
    reports_errors,
    shell_path,
)
from openbureau.cli.demo_monitoring import Portfolio
from openbureau.cli.notifications import dispatch_in_background
from openbureau.consent.schemas import Subject
from openbureau.fraud.tasks import build_rings
from openbureau.identity.resolution import resolve
from openbureau.identity.resolution.training import TooFewRecords
from openbureau.identity.resolution.training import train as train_identity_model
from openbureau.intake.events.reconcile import reconcile as reconcile_events
from openbureau.intake.service import bureau_totals, intake_statistics
from openbureau.kit.db import session_scope
from openbureau.kit.errors import BureauError, Conflict
from openbureau.kit.settings import Settings
from openbureau.members import second_factor
from openbureau.present.fonts import cjk_font_warning
from openbureau.quality import service as quality
from openbureau.runtime import Runtime, open_runtime
from openbureau.scoring import service as scoring
from openbureau.scoring.scorecard import SCALES
from openbureau.sim.config import DEFAULT_CONFIG, SimConfig
from openbureau.sim.metro2_files import METRO2_LENDER
from openbureau.sim.replay import register_members, replay
from openbureau.web.app import create_app

MARKER = ".openbureau-demo"
LOCK = ".openbureau-demo.lock"  # held (flock) by the demo building or serving the directory
DEMO_CONSENT = "LX-APP-0001"
_held: list = []  # the lock of this process's demo directory, kept open while it builds and serves


def _check_port(port: int) -> None:
    """Refuse at once, before anything is deleted, when ``port`` is taken (an earlier demo still serving?)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            raise Conflict(f"port {port} is in use, perhaps by an earlier `openbureau demo` still serving: stop it "
                           f"(Ctrl-C in its terminal) or choose another port (--port {port + 1}); nothing was changed",
                           code="PORT_IN_USE", field="port") from None


def _claim(path: Path) -> None:
    """Refuse when another demo is building or serving ``path`` (it holds the directory's lock)."""
    _release()
    lock = path / LOCK
    if not lock.exists():
        return
    with lock.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Conflict(f"{path.absolute()} is in use by another `openbureau demo` (building or serving it): stop "
                           "that one first, or choose another directory (--data-dir); nothing was changed",
                           code="DIRECTORY_IN_USE", field="data_dir") from None
        fcntl.flock(handle, fcntl.LOCK_UN)


def _hold(path: Path) -> None:
    """Hold ``path``'s lock until this process ends."""
    handle = (path / LOCK).open("a")
    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    _held.append(handle)


def _release() -> None:
    while _held:
        _held.pop().close()


def _fresh_directory(path: Path) -> None:
    """Empty ``path`` if it is an earlier demo's; refuse to touch anything else."""
    if path.exists() and any(path.iterdir()):
        if not (path / MARKER).exists():
            raise typer.BadParameter(f"{path} is not empty and is not an earlier demo; choose --data-dir")
        shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    (path / MARKER).write_text("created by `openbureau demo`; the whole directory is replaced on the next run\n")


@reports_errors
def demo(
    persons: Annotated[int, typer.Option(min=100, help="Simulated persons.")] = 20_000,
    months: Annotated[int, typer.Option(min=2, max=120, help="Simulated reporting months.")] = 24,
    event_months: Annotated[int, typer.Option(min=0, max=3, help="Last months with daily lending-event files "
                                                                "(replayed beside the monthly files).")] = 1,
    seed: Annotated[int, typer.Option(help="Random seed of the market.")] = 42,
    data_dir: Annotated[Path, typer.Option(help="Directory of the demo bureau (replaced each run).")] = Path(
        "demo-bureau"),
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve the API when the bureau is built.")] = True,
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8000,
    profile: Annotated[str | None, typer.Option(
        help="Jurisdiction profile of the bureau: CN or US (default: OPENBUREAU_JURISDICTION, else CN). Under US, "
             f"{METRO2_LENDER} furnishes its monthly files in Metro 2.")] = None,
) -> None:
    """Build a demo bureau: members, a simulated market, every file ingested; then serve it."""
    started = time.perf_counter()
    if serve:
        _check_port(port)
    _claim(data_dir)
    _fresh_directory(data_dir)
    _hold(data_dir)
    if profile is not None and profile.upper() not in ("CN", "US"):
        raise typer.BadParameter(f"{profile[:8]!r} is not a profile: CN or US", param_hint="--profile")
    runtime = open_runtime(Settings(data_dir=data_dir, database_url=None,
                                    **({"jurisdiction": profile.upper()} if profile else {})))
    metro2 = frozenset({METRO2_LENDER}) if runtime.policy.profile.code == "US" else frozenset()
    console.rule("[bold]OpenBureau demo")
    if (font := cjk_font_warning()) is not None:
        err_console.print(f"[yellow]warning[/] {font}", soft_wrap=True, highlight=False)
    console.print(f"Bureau in [bold]{data_dir.resolve()}[/] (SQLite: {data_dir / 'bureau.db'})")

    issued = register_members(runtime.engine)
    console.print("[bold]Members registered[/] (API keys are shown only now):")
    width = max(len(m.code) for m in issued)
    for m in issued:
        console.print(f"  {m.code:<{width}}  {m.api_key}  [dim]{', '.join(m.roles)}: {m.name}[/]",
                      soft_wrap=True, highlight=False)
    _enrol_web_factors(runtime, issued)

    market = data_dir / "market"
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with progress(*columns, transient=True) as bar:
        task = bar.add_task("simulating the market (persons)", total=persons)
        summary = sim.generate(persons=persons, months=months, seed=seed, out=market, event_months=event_months,
                               progress=lambda done, _total: bar.update(task, completed=done),
                               config=demo_config(event_months))
    console.print(f"Simulated {summary.persons:,} persons over {summary.months} months "
                  f"({summary.periods[0]} .. {summary.end_period}): {summary.files:,} files, "
                  f"{summary.records:,} records, {summary.events:,} lending events in {summary.event_files:,} daily "
                  f"files, in {summary.seconds:.1f} s")

    portfolio = Portfolio(runtime, periods=list(summary.periods))
    with progress(*columns) as bar:
        files = bar.add_task("files", total=summary.files)
        records = bar.add_task("records", total=summary.records)
        days = bar.add_task("event files", total=sum(1 for e in sim.read_event_manifest(market) if e.rows))
        result = replay(
            runtime.engine, settings=runtime.settings, policy=runtime.policy, vault=runtime.vault, market=market,
            on_file=lambda entry: bar.update(files, advance=1, description=f"{entry.furnisher} {entry.period}"),
            on_records=lambda n: bar.update(records, advance=n),
            on_event_file=lambda entry: bar.update(days, advance=1, description=f"events {entry.date}"),
            after=portfolio.after, metro2=metro2,
        )
    with err_console.status("estimating the identity model from the bureau's records (Splink)"):
        try:
            train_identity_model(runtime.engine, vault=runtime.vault, actor_code="SYSTEM:demo")
        except TooFewRecords:  # a small demo resolves with the model's starting values
            pass
    with err_console.status("resolving identities across furnishers (Splink)"):
        linked = resolve(runtime.engine, settings=runtime.settings, vault=runtime.vault,
                         principal=audit.terminal_operator())
    console.print(f"Identity resolution: {linked.persons_weak:,} persons known only by a passport or a "
                  f"furnisher's customer number; {linked.merged:,} linked to their resident-ID file, "
                  f"{linked.queued:,} queued for review, {linked.unlinked:,} left alone; {linked.conflicts:,} "
                  f"identity conflicts flagged ({linked.seconds:.1f} s)", soft_wrap=True, highlight=False)
    _train_and_release(runtime, months=months)
    coverage = {row.furnisher: row for row in _statistics(runtime)}
    window = runtime.policy.quality.window_months  # the window `quality report` and the API grade over
    grades = _grades(runtime, months=min(window, months))
    header = ("furnisher", "records", "ok", "warned", "rejected", "held", "released", "cover", "grade")
    rows = [(code, f"{t.received:,}", f"{t.accepted:,}", f"{t.warnings:,}", f"{t.rejected:,}", f"{t.quarantined:,}",
             f"{t.released:,}", f"{coverage[code].consent_coverage:.0%}", grades.get(code) or "-")
            for code, t in result.totals.items()]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    console.print("[bold]Intake per furnisher[/]")
    for i, row in enumerate([header, *rows]):
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)]
        console.print(("[bold]" if i == 0 else "") + "  ".join(cells) + ("[/]" if i == 0 else ""), highlight=False,
                      soft_wrap=True)
    console.print("[dim]ok: stored without findings; held: stored but kept out of the person's file at intake for want of a consent to "
                  "furnish; released: let in when the consent arrived; cover: share of stored records in the "
                  f"file now; grade: data quality A-E over the last {min(window, months)} months (`openbureau quality "
                  "report`).[/]")
    for code in sorted(metro2):
        t = result.totals[code]
        console.print(f"{code} furnished in Metro 2 (US profile): {t.metro2_files:,} files written by the codec from "
                      f"the simulator's records and loaded through intake, {t.received:,} records received, "
                      f"{t.rejected:,} rejected ({t.metro2_left_out:,} defective records the writer could not write "
                      "were not sent)", soft_wrap=True, highlight=False)
    lenders = [t for t in result.totals.values() if t.event_files]
    if lenders:
        received, stored = sum(t.events for t in lenders), sum(t.events_stored for t in lenders)
        with err_console.status("reconciling the lending events with the monthly files"):
            found = reconcile_events(runtime.engine)
        codes = ", ".join(f"{n:,} {code}" for code, n in found.items() if n) or "none"
        console.print(f"Lending events: {sum(t.event_files for t in lenders):,} daily files of {len(lenders)} lenders, "
                      f"{received:,} events, {stored:,} stored ({sum(t.events_held for t in lenders):,} held awaiting "
                      f"consent), {sum(t.events_rejected for t in lenders):,} rejected; discrepancies with the monthly "
                      f"files: {codes} (`openbureau events discrepancies`)", soft_wrap=True, highlight=False)
    for line in portfolio.summary():
        console.print(line, soft_wrap=True, highlight=False)
    with err_console.status("finding rings of persons sharing phones and addresses"):
        rings = build_rings(runtime.engine, vault=runtime.vault, settings=runtime.policy.signals,
                            principal=audit.terminal_operator())
    console.print(f"Fraud rings: {rings.rings:,} groups of {rings.persons:,} persons sharing contact details, "
                  f"{rings.flagged_persons:,} in rings of {runtime.policy.signals.ring_min_size} or more "
                  f"(`openbureau fraud rings build` after later loads), {rings.seconds:.1f} s", highlight=False)
    with err_console.status("training the fraud-risk scorecard on the market's fraud truth"):
        trained = demo_fraud.train_and_release(runtime, market)
    console.print(trained, soft_wrap=True, highlight=False)
    built = _built(runtime)
    console.print(f"Built: {built['persons']:,} persons, {built['accounts']:,} accounts, "
                  f"{built['states']:,} monthly account states, in {time.perf_counter() - started:.0f} s")
    key = {m.code: m.api_key for m in issued}
    base = f"http://127.0.0.1:{port}/v1"
    borrower = demo_person.borrowers(market, "BANK_A")["id_number"][0]
    subject = {"id_type": "CN_RESIDENT_ID", "id_number": borrower}
    demo_person.applicant_consent(runtime, Subject(**subject), lender="LENDER_X", ref=DEMO_CONSENT)
    review = json.dumps({"subject": subject, "purpose": "account_review"})
    application = json.dumps({"subject": subject, "purpose": "loan_origination", "consent_ref": DEMO_CONSENT,
                              "declared_monthly_income": 1_200_000})
    command, where = openbureau_command(), shell_path(data_dir)
    if serve:
        console.rule(f"[bold]Serving the demo bureau on {base}")
        console.print(f"API docs: {base}/docs   (Ctrl-C stops the server; `openbureau demo` rebuilds the bureau)",
                      highlight=False)
    else:
        console.print(f"Serve it with: OPENBUREAU_DATA_DIR={where} {command} serve --port {port}", soft_wrap=True,
                      highlight=False)
    console.print("Try (the last two: a loan application to LENDER_X with the borrower's consent, as a printable "
                  "page; and the borrower's own report at the bureau's counter):", highlight=False)
    for line in (f"curl -H 'X-API-Key: {key['SUPERAPP']}' {base}/submissions",
                 f"curl -H 'X-API-Key: {key['REGULATOR']}' {base}/stats/intake",
                 f"curl -X POST -H 'X-API-Key: {key['BANK_A']}' -H 'Content-Type: application/json' "
                 f"-d '{review}' {base}/inquiries",
                 f"curl -H 'X-API-Key: {key['BANK_A']}' '{base}/webhooks/deliveries?limit=5'",
                 f"curl -X POST -H 'X-API-Key: {key['LENDER_X']}' -H 'Content-Type: application/json' "
                 f"-d '{application}' '{base}/inquiries?format=html' -o report.html",
                 f"OPENBUREAU_DATA_DIR={where} {command} report --id-type CN_RESIDENT_ID --id-number {borrower}"):
        console.print(f"  {line}", soft_wrap=True, highlight=False)
    _print_signin(base, subject, where=where, command=command, serve=serve)
    demo_person.play(runtime, market, skip=borrower)
    if serve:
        dispatch_in_background(runtime)
        uvicorn.run(create_app(runtime, serving=True), host="127.0.0.1", port=port, log_level="warning",
                    **server_limits(runtime.settings))
    _release()


def _print_signin(base: str, subject: dict, *, where: str, command: str, serve: bool) -> None:
    """The borrower signing in for themselves (docs/rights.md): the code arrives as a file of the data
    directory (the file channel), dispatched by the serving demo every 2 s."""
    delivered = "dispatched every 2 s while the demo serves" if serve else "after the dispatch below"
    console.print(f"The borrower signs in for themselves (docs/rights.md); the code arrives as a file in "
                  f"{where}/notifications/, {delivered}; put the challenge, the code and the token in <...>:",
                  soft_wrap=True, highlight=False)
    lines = [f"curl -X POST -H 'Content-Type: application/json' -d '{json.dumps({'document': subject})}' "
             f"{base}/me/signin"]
    if not serve:
        lines.append(f"OPENBUREAU_DATA_DIR={where} {command} notifications dispatch")
    lines += [f"grep -h 'Your code' {where}/notifications/*.json",
              f"curl -X POST -H 'Content-Type: application/json' -d '{{\"challenge\": \"<challenge>\", "
              f"\"code\": \"<code>\"}}' {base}/me/signin/verify",
              f"curl -H 'Authorization: Bearer <token>' {base}/me/report"]
    for line in lines:
        console.print(f"  {line}", soft_wrap=True, highlight=False)
    console.print(f"Or in a browser: {base.removesuffix('/v1')}/signin with the document number "
                  f"{subject['id_number']} (the portal: docs/portal.md)", soft_wrap=True, highlight=False)
    _print_portal(base.removesuffix("/v1"), where=where, command=command)


def _enrol_web_factors(runtime: Runtime, issued) -> None:
    """A second factor for the web sign-in of BANK_A's and the regulator's keys, its secret printed (as
    `openbureau members second-factor PREFIX` prints it) to put into an authenticator app."""
    console.print("[bold]Second factors[/] of the web sign-in (a TOTP authenticator app; secrets shown only now):")
    for m in issued:
        if m.code in ("BANK_A", "REGULATOR"):
            with session_scope(runtime.engine, write=True) as session:
                enrolled = second_factor.enrol(session, vault=runtime.vault, principal=audit.terminal_operator(),
                                               prefix=m.api_key.split("_", 2)[1])
            console.print(f"  {m.code:<10} {enrolled.secret}  [dim]{enrolled.uri}[/]", soft_wrap=True,
                          highlight=False)


def _print_portal(root: str, *, where: str, command: str) -> None:
    """The portal's pages for each audience, and how each signs in (docs/portal.md)."""
    console.print(f"The portal, {root}/ :", highlight=False)
    for line in (f"a person:      {root}/signin (a one-time code, as above)",
                 f"a lender:      {root}/lender/signin (BANK_A's key and a code of its second factor above: "
                 f"uploads, submissions, quality, disputes; or {root}/lender to look a borrower up with a key alone)",
                 f"the regulator: {root}/regulator/signin (the REGULATOR key and a code of its second factor)",
                 f"the operator:  OPENBUREAU_DATA_DIR={where} {command} serve --operator-console, then "
                 f"{root}/operator/signin with a code from `{command} members console-code`"):
        console.print(f"  {line}", soft_wrap=True, highlight=False)


def demo_config(event_months: int) -> SimConfig:
    """The simulator's defaults, with the fraud patterns in the months of the event feed (when there is one),
    so that their applications reach the bureau as lending events (docs/fraud.md)."""
    if not event_months:
        return DEFAULT_CONFIG
    return replace(DEFAULT_CONFIG, fraud_patterns=replace(DEFAULT_CONFIG.fraud_patterns, months=event_months))


def _train_and_release(runtime: Runtime, *, months: int) -> None:
    """Train a scorecard on the bureau's own history and release it, so that inquiries carry a score."""
    if months < 13:
        console.print(f"[dim]No scoring model: {months} months of history leave no 12-month outcome to learn from "
                      "(`openbureau model train` needs 13 or more).[/]")
        return
    retention = runtime.policy.profile.negative_retention_years
    try:
        with err_console.status("training a scorecard on the bureau's own history"):
            card, data = scoring.train_on_bureau(runtime.engine, scale=SCALES["300-850"], prefix="demo",
                                                 actor_code=audit.operator_code(), release_it=True,
                                                 retention_years=retention)
        with err_console.status("validating it on a later month's files"):
            sets, checked = scoring.evaluate_on_bureau(runtime.engine, card, retention_years=retention)
    except BureauError as exc:
        console.print(f"[dim]No scoring model: {exc.message}[/]")
        return
    # The validation rows `model evaluate --model VERSION` scores by default and prints first as validation, to the
    # same digits: out-of-time (a later month's files) when the bureau is long enough, else the in-time hold-out.
    shown = next(s for s in sets if s.validation)
    v = shown.result
    rows = (f"{checked.observation_period}, {v['rows']:,} files none of which training saw" if shown.label == "out-of-time"
            else f"{shown.note.replace('rows', 'files')}")
    console.print(f"Scorecard [bold]{card.model_version}[/] trained on {len(data.rows):,} files observed at "
                  f"{data.observation_period} (bad rate {card.training['bad_rate']:.1%}) and released; validation, "
                  f"{shown.label} ({rows}): AUC {v['auc']:.4f}, KS {v['ks']:.4f}, Gini {v['gini']:.4f} (the same "
                  f"figures: `OPENBUREAU_DATA_DIR={shell_path(runtime.settings.data_dir)} {openbureau_command()} model "
                  f"evaluate --model {card.model_version} --html model.html`)", soft_wrap=True, highlight=False)


def _grades(runtime: Runtime, *, months: int) -> dict[str, str | None]:
    with session_scope(runtime.engine) as session:
        report = quality.scorecards(session, principal=audit.terminal_operator(), policy=runtime.policy, months=months)
    return {card.furnisher: card.grade for card in report.scorecards}


def _statistics(runtime: Runtime):
    with session_scope(runtime.engine) as session:
        return intake_statistics(session, principal=audit.terminal_operator())


def _built(runtime: Runtime) -> dict[str, int]:
    with session_scope(runtime.engine) as session:
        return bureau_totals(session)
