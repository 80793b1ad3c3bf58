"""The command line: members, intake submit / status / errors, on the embedded default."""

from __future__ import annotations

import csv
import json
import re

from typer.testing import CliRunner

from openbureau.cli.main import app
from openbureau.kit.pacing import LatencyBoard
from openbureau.kit.settings import Settings
from tests.intake.factories import PEOPLE, person, write_file

runner = CliRunner()


def test_members_add_prints_a_working_key_once(bureau_env) -> None:
    result = runner.invoke(app, ["members", "add", "--code", "BANK_A", "--name", "Bank A",
                                 "--role", "furnisher", "--role", "subscriber"])
    assert result.exit_code == 0, result.output
    key = re.search(r"ob_\w+_\S+", result.output).group(0)
    listed = runner.invoke(app, ["members", "list"])
    assert "BANK_A" in listed.output and "furnisher, subscriber" in listed.output and key not in listed.output
    dup = runner.invoke(app, ["members", "add", "--code", "BANK_A", "--name", "x", "--role", "furnisher"])
    assert dup.exit_code == 1 and "MEMBER_EXISTS" in dup.output


def test_intake_submit_json_and_errors_export(bureau_env) -> None:
    runner.invoke(app, ["members", "add", "--code", "BANK_A", "--name", "Bank A", "--role", "furnisher"])
    path = write_file(bureau_env / "sep.csv", [person(0), person(1, furnisher_account_id="A2", currency="cny1")])
    result = runner.invoke(app, ["intake", "submit", str(path), "--furnisher", "BANK_A", "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout[result.stdout.index("{"):])
    assert (body["records_received"], body["records_accepted"], body["records_rejected"]) == (2, 1, 1)
    out = bureau_env / "errors.csv"
    exported = runner.invoke(app, ["intake", "errors", str(body["id"]), "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    rows = list(csv.DictReader(out.open()))
    assert rows and {r["line"] for r in rows} == {"3"} and "currency" in {r["field"] for r in rows}
    status = runner.invoke(app, ["intake", "status", str(body["id"])])
    assert "loaded" in status.output


def test_unknown_furnisher_is_a_clear_error(bureau_env) -> None:
    path = write_file(bureau_env / "sep.csv", [person(0)])
    result = runner.invoke(app, ["intake", "submit", str(path), "--furnisher", "NOPE"])
    assert result.exit_code == 1 and "MEMBER_NOT_FOUND" in result.output


def test_a_load_slowed_down_for_the_inquiries_says_so_on_its_progress_line(bureau_env) -> None:
    runner.invoke(app, ["members", "add", "--code", "BANK_A", "--name", "Bank A", "--role", "furnisher"])
    path = write_file(bureau_env / "sep.csv", [person(i % len(PEOPLE), furnisher_account_id=f"A{i}") for i in range(3_000)])
    server = LatencyBoard(Settings().serving_latency_dir, window=0.0)  # a server of this bureau ...
    server.record(0.9)
    server.record(0.9)  # ... answering its inquiries in 900 ms, far above the 50 ms target
    try:
        result = runner.invoke(app, ["intake", "submit", str(path), "--furnisher", "BANK_A"])
    finally:
        server.withdraw()
    assert result.exit_code == 0, result.output
    assert re.search(r"busy \d+% of the time: inquiries first", result.output)
    assert "3,000" in result.output  # and it loaded every record
