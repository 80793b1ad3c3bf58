"""``openbureau enterprises report``: an enterprise's report for a member at the terminal, logged and audited."""

from __future__ import annotations

from typer.testing import CliRunner

from openbureau.audit import service as audit
from openbureau.cli.main import app
from openbureau.kit.db import session_scope
from openbureau.runtime import open_runtime
from tests.enterprises.factories import FIRM_NAME, FIRM_USCC, enterprise
from tests.intake.factories import write_file

runner = CliRunner()


def test_an_enterprise_report_at_the_terminal(bureau_env) -> None:
    runner.invoke(app, ["members", "add", "--code", "BANK_A", "--name", "Bank A", "--role", "furnisher"])
    runner.invoke(app, ["members", "add", "--code", "LENDER", "--name", "Lender", "--role", "subscriber"])
    vetted = runner.invoke(app, ["members", "vet", "LENDER", "--status", "approved"])
    permitted = runner.invoke(app, ["members", "permit", "LENDER", "--purpose", "*", "--product", "*"])
    assert vetted.exit_code == 0 and permitted.exit_code == 0, vetted.output + permitted.output
    loaded = runner.invoke(app, ["intake", "submit", str(write_file(bureau_env / "f.csv", [enterprise("E-1")])),
                                 "--furnisher", "BANK_A", "--json"])
    assert '"records_accepted": 1' in loaded.stdout, loaded.output
    shown = runner.invoke(app, ["enterprises", "report", FIRM_USCC, "--member", "LENDER"], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert FIRM_NAME in shown.output and "Lender 1" in shown.output and "E-1" not in shown.output
    as_json = runner.invoke(app, ["enterprises", "report", FIRM_USCC, "--member", "LENDER", "--json",
                                  "--purpose", "account_review"])
    assert '"found": true' in as_json.output
    refused = runner.invoke(app, ["enterprises", "report", "91350100M000100Y44", "--member", "LENDER"])
    assert refused.exit_code != 0 and "USCC_CHECK_CHARACTER" in refused.output
    runtime = open_runtime()
    with session_scope(runtime.engine) as session:
        assert len(audit.list_entries(session, action="enterprise.report_read")) == 2
