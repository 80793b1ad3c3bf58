"""``openbureau metro2``: read and write Metro 2 files (docs/metro2.md)."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from openbureau.cli.console import console, reports_errors
from openbureau.metro2 import service
from openbureau.metro2.errors import Metro2Error
from openbureau.metro2.mapping import period_end

app = typer.Typer(help="Metro 2 files (CRRG character format): read with every error, write.",
                  no_args_is_help=True)


@app.command("read")
@reports_errors
def read(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The Metro 2 file.")],
    as_json: Annotated[bool, typer.Option("--json", help="Every error as a JSON line, then the summary.")] = False,
    limit: Annotated[int, typer.Option(help="Errors shown in the table.")] = 50,
) -> None:
    """Summarise a file and list every error with its record, segment, field, byte offset and code."""
    shown: list[Metro2Error] = []

    def on_error(error: Metro2Error) -> None:
        if as_json:
            sys.stdout.write(json.dumps(error.as_dict()) + "\n")
        elif len(shown) < limit:
            shown.append(error)

    summary = service.summarize(file, on_error=on_error)
    if as_json:
        sys.stdout.write(json.dumps({"summary": {
            "records": summary.records, "bytes": summary.bytes, "kinds": dict(summary.kinds),
            "segments": dict(summary.segments), "records_with_errors": summary.records_with_errors,
            "errors_by_code": dict(summary.codes)}}) + "\n")
        raise typer.Exit(1 if summary.codes else 0)
    console.print(f"{summary.records:,} records ({', '.join(f'{n:,} {k}' for k, n in summary.kinds.items())}), "
                  f"{summary.bytes:,} bytes; appended segments: "
                  f"{', '.join(f'{k} {n:,}' for k, n in sorted(summary.segments.items())) or 'none'}")
    if not summary.codes:
        console.print("[green]No errors.[/green]")
        return
    console.print(f"[red]{sum(summary.codes.values()):,} errors in {summary.records_with_errors:,} records[/red]: "
                  + ", ".join(f"{code} {n:,}" for code, n in summary.codes.most_common()))
    table = Table("record", "segment", "field", "offset", "code", "value")
    for e in shown:
        table.add_row(str(e.record_number), e.segment, e.field or "", str(e.offset), e.code, repr(e.value))
    console.print(table)
    raise typer.Exit(1)


@app.command("write")
@reports_errors
def write(
    out: Annotated[Path, typer.Option(help="The Metro 2 file to write.")],
    source: Annotated[Path | None, typer.Option(
        "--from", exists=True, dir_okay=False,
        help="Records in the furnishing standard's columns (.csv or .parquet); without it, --furnisher and "
             "--period write from the bureau's store.")] = None,
    furnisher: Annotated[str, typer.Option(
        help="With --from: the identification number of the base segments; with --period: the furnisher's "
             "member code.")] = "",
    period: Annotated[str | None, typer.Option(help="The reporting period (YYYY-MM) to write from the store.")
                      ] = None,
    reporter_name: Annotated[str | None, typer.Option(
        help="Reporter name in the header (default: OPENBUREAU FURNISHER, or the member's name).")] = None,
) -> None:
    """Write a Metro 2 file (header, base records, trailer with totals) from a standard-columns file, or a
    furnisher's accounts of one period from the bureau's store (audited: it reads personal data)."""
    if source is None:
        _write_from_store(out, furnisher=furnisher, period=period, reporter_name=reporter_name)
        return
    import polars as pl

    frame = (pl.read_parquet(source) if source.suffix == ".parquet"
             else pl.read_csv(source, infer_schema=False))
    periods = frame.get_column("reporting_period").drop_nulls() if "reporting_period" in frame.columns else None
    last = max(periods) if periods is not None and len(periods) else date.today().strftime("%Y-%m")
    written = service.write_standard(frame.iter_rows(named=True), out, furnisher=furnisher,
                                     reporter_name=reporter_name or "OPENBUREAU FURNISHER",
                                     activity_date=period_end(str(last)))
    console.print(f"{written:,} records written to {out}")


def _write_from_store(out: Path, *, furnisher: str, period: str | None, reporter_name: str | None) -> None:
    if not furnisher or not period:
        raise typer.BadParameter("give --from FILE, or --furnisher CODE and --period YYYY-MM")
    from openbureau.audit import service as audit
    from openbureau.intake.metro2_out import write_period
    from openbureau.runtime import open_runtime

    runtime = open_runtime()
    written = write_period(runtime.engine, vault=runtime.vault, principal=audit.terminal_operator(),
                           furnisher_code=furnisher, period=period, out=out, reporter_name=reporter_name)
    console.print(f"{written.records:,} accounts of {furnisher} for {period} written to {out}, with "
                  f"{written.parties:,} co-borrowers and guarantors (J1)")
    if written.held or written.unwritable or written.parties_unwritable:
        console.print(f"Not written: {written.held:,} held back from the files (no consent to furnish yet), "
                      f"{written.unwritable:,} whose person and {written.parties_unwritable:,} related persons "
                      "who have no nine-digit identity number (Metro 2 carries a social security number).",
                      soft_wrap=True, highlight=False)
