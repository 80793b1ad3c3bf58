"""``openbureau report``, ``retention run`` and ``disputes``: the operator's view of a person's file, audited."""

from __future__ import annotations

import io
import json

from pypdf import PdfReader
from typer.testing import CliRunner

from openbureau.audit import service as audit
from openbureau.cli.main import app
from openbureau.kit.db import session_scope
from openbureau.runtime import open_runtime
from tests.intake.factories import PEOPLE, write_file
from tests.reports.factories import history

runner = CliRunner()
ID = PEOPLE[0][0]
WHO = ["--id-type", "CN_RESIDENT_ID", "--id-number", ID]


def _bureau(folder) -> None:
    runner.invoke(app, ["members", "add", "--code", "BANK_A", "--name", "Bank A", "--role", "furnisher"])
    consents = folder / "consents.csv"
    consents.write_text(f"consent_ref,id_type,id_number,purpose,granted_at,channel,evidence_hash\n"
                        f"C0,CN_RESIDENT_ID,{ID},furnish,2015-01-01T00:00:00Z,app,{'ab' * 32}\n")
    assert runner.invoke(app, ["consent", "import", str(consents), "--member", "BANK_A"]).exit_code == 0
    records = history(0, "OLD", "2019-01", "N2NN") + history(0, "A-1", "2026-05", "NN1NN")
    loaded = runner.invoke(app, ["intake", "submit", str(write_file(folder / "f.csv", records)),
                                 "--furnisher", "BANK_A", "--json"])
    assert '"records_accepted": 9' in loaded.stdout, loaded.output


def test_the_report_prints_writes_json_html_and_pdf_and_every_look_is_audited(bureau_env) -> None:
    _bureau(bureau_env)
    shown = runner.invoke(app, ["report", *WHO], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert ID in shown.output and "NN1NN" in shown.output and "Recent late payment" in shown.output
    narrow = runner.invoke(app, ["report", *WHO], env={"COLUMNS": "80"})
    tables = [line for line in narrow.output.splitlines() if any(c in line for c in "┃│┏└")]
    assert narrow.exit_code == 0 and tables and all(len(line) <= 80 for line in tables), narrow.output
    assert "NN1NN" in narrow.output and "Repayment records" in narrow.output and "* nothing due" in narrow.output
    as_json = json.loads(runner.invoke(app, ["report", *WHO, "--json"]).stdout)
    assert as_json["view"] == "consumer" and [a["account_number"] for a in as_json["accounts"]] == ["A-1", "OLD"]
    assert runner.invoke(app, ["report", *WHO, "--html", str(bureau_env / "r.html"),
                               "--pdf", str(bureau_env / "r.pdf")]).exit_code == 0
    assert "Your own report" in (bureau_env / "r.html").read_text()
    assert PEOPLE[0][2] in PdfReader(io.BytesIO((bureau_env / "r.pdf").read_bytes())).pages[0].extract_text()
    with session_scope(open_runtime().engine) as session:
        looks = audit.list_entries(session, action="report.self_view")
    assert len(looks) == 4 and all(e.actor_code.startswith("OPERATOR:") for e in looks)
    unknown = runner.invoke(app, ["report", "--id-type", "CN_RESIDENT_ID", "--id-number", PEOPLE[2][0]])
    assert unknown.exit_code == 1 and "PERSON_NOT_FOUND" in unknown.output


def test_retention_run_counts_then_purges_old_negative_months(bureau_env) -> None:
    _bureau(bureau_env)
    dry = runner.invoke(app, ["retention", "run", "--dry-run", "--as-of", "2026-11-20"])
    assert dry.exit_code == 0 and "would delete 1 expired months" in dry.output and "BANK_A: 1 months" in dry.output
    done = runner.invoke(app, ["retention", "run", "--as-of", "2026-11-20"])
    assert "deleted 1 expired months (1 stored versions)" in done.output
    assert "deleted 0 expired months" in runner.invoke(app, ["retention", "run", "--as-of", "2026-11-20"]).output
    bad = runner.invoke(app, ["retention", "run", "--as-of", "20-11-2026"])
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output


def test_disputes_are_filed_listed_and_resolved(bureau_env) -> None:
    _bureau(bureau_env)
    filed = runner.invoke(app, ["disputes", "file", *WHO, "--lender", "BANK_A", "--account", "A-1",
                                "--period", "2026-07", "--statement", "I paid on time"])
    assert filed.exit_code == 0 and "the answer is due by" in filed.output, filed.output
    listed = runner.invoke(app, ["disputes", "list"], env={"COLUMNS": "200"})
    assert "A-1" in listed.output and "2026-07" in listed.output
    wrong = runner.invoke(app, ["disputes", "file", *WHO, "--lender", "BANK_A", "--account", "NOPE",
                                "--statement", "x"])
    assert wrong.exit_code == 1 and "ACCOUNT_NOT_FOUND" in wrong.output
    assert "resolved: verified" in runner.invoke(app, ["disputes", "resolve", "1", "--outcome", "verified"]).output
    assert "A-1" not in runner.invoke(app, ["disputes", "list"], env={"COLUMNS": "200"}).output


def test_db_cluster_rewrites_account_states_in_person_order_and_reports_are_unchanged(bureau_env) -> None:
    _bureau(bureau_env)
    before = json.loads(runner.invoke(app, ["report", *WHO, "--json"]).stdout)
    done = runner.invoke(app, ["db", "cluster"])
    assert done.exit_code == 0 and "9 account states rewritten in person order" in done.output, done.output
    after = json.loads(runner.invoke(app, ["report", *WHO, "--json"]).stdout)
    assert after["accounts"] == before["accounts"] and after["summary"] == before["summary"]
    with session_scope(open_runtime().engine) as session:
        assert [e.actor_code.startswith("OPERATOR:") for e in audit.list_entries(session, action="tradelines.cluster")] \
            == [True]


def test_protections_at_the_terminal(bureau_env) -> None:
    _bureau(bureau_env)
    placed = runner.invoke(app, ["protections", "alert", *WHO])
    assert placed.exit_code == 0 and "Fraud alert 1 (initial) in force until" in placed.output, placed.output
    extended = runner.invoke(app, ["protections", "alert", *WHO, "--kind", "extended"])
    assert extended.exit_code == 1 and "IDENTITY_THEFT_REPORT_REQUIRED" in extended.output
    assert "Freeze 1 in force" in runner.invoke(app, ["protections", "freeze", *WHO]).output
    window = runner.invoke(app, ["protections", "lift", "1", *WHO, "--starts", "2030-01-01T00:00:00",
                                 "--ends", "2030-01-08T00:00:00"])
    assert window.exit_code == 0 and "lifted until 2030-01-08" in window.output, window.output
    blocked = runner.invoke(app, ["protections", "theft-report", *WHO, "--reference", "PSB-7",
                                  "--account", "BANK_A:OLD"])
    assert blocked.exit_code == 0 and "1 account(s) blocked" in blocked.output, blocked.output
    bad = runner.invoke(app, ["protections", "theft-report", *WHO, "--reference", "PSB-8", "--account", "OLD"])
    assert bad.exit_code == 2
    shown = runner.invoke(app, ["protections", "show", *WHO], env={"COLUMNS": "200"})
    assert "frozen for new credit: yes" in shown.output and "PSB-7" in shown.output and "lifted" in shown.output
    filed = runner.invoke(app, ["disputes", "file", *WHO, "--lender", "BANK_A", "--account", "A-1", "--statement", "x"])
    assert filed.exit_code == 0
    said = runner.invoke(app, ["disputes", "statement", "1", *WHO, "--text", "paid on time"])
    assert said.exit_code == 0 and "Statement added" in said.output
    report = runner.invoke(app, ["report", *WHO], env={"COLUMNS": "200"}).output
    assert "fraud alert" in report and "security freeze" in report and "paid on time" in report
    with session_scope(open_runtime().engine) as session:
        assert [e.action for e in audit.list_entries(session, action="freeze.lift")] == ["freeze.lift"]
