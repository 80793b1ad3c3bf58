"""The operator's console from the command line: a one-time code issued at the terminal opens it once; the
console is served on a loopback address only."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from openbureau.cli.main import app
from openbureau.web.app import create_app
from tests.web.factories import csrf

runner = CliRunner()


def test_a_code_from_the_terminal_opens_the_console_once(bureau_env) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    issued = runner.invoke(app, ["members", "console-code"])
    assert issued.exit_code == 0, issued.output
    code = re.search(r"obc_\S+", issued.output).group(0)
    with TestClient(create_app(operator_console=True), base_url="https://testserver") as client:
        form = {"csrf": csrf(client, "/operator/signin"), "code": code}
        assert client.post("/operator/signin", data=form, follow_redirects=False).headers["location"] == "/operator"
        assert "OPERATOR:" in client.get("/operator").text
        client.cookies.clear()
        again = client.post("/operator/signin", data={"csrf": csrf(client, "/operator/signin"), "code": code})
        assert again.status_code == 401


def test_the_console_is_not_served_on_a_public_address(bureau_env) -> None:
    refused = runner.invoke(app, ["serve", "--operator-console", "--host", "0.0.0.0", "--init"])
    assert refused.exit_code == 1 and "OPERATOR_CONSOLE_EXPOSED" in refused.output
