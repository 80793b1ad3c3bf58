"""``openbureau members funded-accounts``: the operator reviews the accounts a named member funds."""

from __future__ import annotations

from typer.testing import CliRunner

from openbureau.cli.main import app
from openbureau.members.models import Role
from openbureau.runtime import open_runtime
from tests.consent.factories import grant
from tests.intake.factories import PEOPLE
from tests.members.factories import make_member
from tests.reports.factories import furnish, history

runner = CliRunner()


def test_the_operator_lists_a_funders_accounts_and_an_unknown_member_is_refused(bureau_env) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    runtime = open_runtime()
    for code, roles in (("PLATFORM", (Role.FURNISHER,)), ("BANK", (Role.SUBSCRIBER,))):
        make_member(runtime, code, *roles)
    grant(runtime, "PLATFORM", PEOPLE[0][0])
    folder = bureau_env / "files"
    folder.mkdir()
    furnish(runtime, "PLATFORM", history(0, "P-1", "2026-09", "NN", product="installment", balance="1000000",
                                         funder_1_code="BANK", funder_1_share="2500", funder_2_code="PLATFORM",
                                         funder_2_share="7500"), folder)
    shown = runner.invoke(app, ["members", "funded-accounts", "BANK"])
    assert shown.exit_code == 0, shown.output
    assert "P-1" in shown.output and "25.00%" in shown.output and "250,000" in shown.output
    assert PEOPLE[0][0] not in shown.output and PEOPLE[0][2] not in shown.output
    unknown = runner.invoke(app, ["members", "funded-accounts", "NOBODY"])
    assert unknown.exit_code != 0 and "FUNDER_NOT_FOUND" in unknown.output
