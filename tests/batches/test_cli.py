"""``openbureau inquiries batch``: a lender's file submitted, answered with a progress bar, its status and its
results written; the worker's ``run --once``."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from openbureau.cli.main import app
from tests.adapters import embedded_runtime  # noqa: F401
from tests.batches.factories import logged, subject, write_batch
from tests.security.factories import cli_env as bureau_env

runner = CliRunner()


@pytest.fixture
def cli_env(market, monkeypatch):
    runtime, _ = market
    with bureau_env(runtime, monkeypatch):
        yield runtime


def test_submit_wait_status_and_results(cli_env, tmp_path) -> None:
    runtime = cli_env
    path = write_batch(tmp_path / "s.jsonl", [subject(0, "R-1", consent_ref="L-1"), subject(2, "R-2")])
    submitted = runner.invoke(app, ["inquiries", "batch", "submit", str(path), "--member", "LENDER", "--wait",
                                    "--json"])
    assert submitted.exit_code == 0, submitted.output
    job = json.loads(submitted.stdout[submitted.stdout.index("{"):])
    assert (job["status"], job["rows_answered"], job["rows_refused"]) == ("done", 1, 1)
    status = runner.invoke(app, ["inquiries", "batch", "status", "--member", "LENDER"])
    assert status.exit_code == 0 and "done" in status.output
    out = tmp_path / "answers.csv"
    written = runner.invoke(app, ["inquiries", "batch", "results", str(job["id"]), "--member", "LENDER", "--out",
                                  str(out), "--format", "csv"])
    assert written.exit_code == 0, written.output
    assert [line.split(",")[1:3] for line in out.read_text().splitlines()[1:]] == [["R-1", "answered"],
                                                                               ["R-2", "refused"]]
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    stranger = runner.invoke(app, ["inquiries", "batch", "status", str(job["id"]), "--member", "BANK_A"])
    assert stranger.exit_code == 1 and "BATCH_NOT_FOUND" in stranger.output
    refused = runner.invoke(app, ["inquiries", "batch", "submit", str(path), "--member", "OPS"])
    assert refused.exit_code == 1 and "ROLE_REQUIRED" in refused.output
    queued = runner.invoke(app, ["inquiries", "batch", "submit", str(path), "--member", "LENDER"])
    assert queued.exit_code == 0 and "queued" in queued.output
    ran = runner.invoke(app, ["inquiries", "batch", "run", "--once"])
    assert ran.exit_code == 0 and "2 rows answered" in ran.output
    assert len(logged(runtime)[0]) == 2
