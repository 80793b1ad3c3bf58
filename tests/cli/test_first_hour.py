"""A new user's first hour: start-up, errors on the command line, ``serve`` and ``demo`` refusing to harm a
running bureau, and the CJK font check."""

from __future__ import annotations

import fcntl
import io
import json
import os
import socket
import stat
import subprocess
import sys

import pytest
import uvicorn
from typer.testing import CliRunner

from openbureau.cli import demo as demo_cli
from openbureau.cli.main import LAZY_COMMANDS, app
from openbureau.present import fonts
from tests.intake.factories import PEOPLE

runner = CliRunner()
HEAVY = ("polars", "splink", "weasyprint", "fastapi", "duckdb", "pandas", "uvicorn", "pyspark")


def test_importing_the_command_line_loads_no_heavy_library() -> None:
    code = ("import sys, json; import openbureau.cli.main; "
            f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == []


def test_help_lists_every_command_and_each_one_loads_when_asked() -> None:
    listing = runner.invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert listing.exit_code == 0
    for name, (_, _, line) in LAZY_COMMANDS.items():
        assert line in listing.output, name
        shown = runner.invoke(app, [name, "--help"], env={"COLUMNS": "200"})
        assert shown.exit_code == 0 and "Usage: " in shown.output and name in shown.output, shown.output


def test_a_bad_id_type_is_one_line_listing_the_valid_types(bureau_env) -> None:
    result = runner.invoke(app, ["report", "--id-type", "RESIDENT", "--id-number", PEOPLE[0][0]])
    assert result.exit_code == 1 and "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error")]
    assert len(errors) == 1 and all(t in errors[0] for t in ("CN_RESIDENT_ID", "PASSPORT", "OTHER", "id_type"))
    assert not (bureau_env / "data").exists()  # refused before any bureau was made


def test_a_wrong_check_digit_says_the_id_number_is_invalid(bureau_env) -> None:
    number = PEOPLE[0][0]
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    for command in (["report"], ["disputes", "file", "--kind", "account", "--detail", "not mine"]):
        result = runner.invoke(app, [*command, "--id-type", "CN_RESIDENT_ID", "--id-number", wrong])
        assert result.exit_code in (1, 2) and "Traceback" not in result.output, result.output
        if command == ["report"]:
            assert "ID_CHECK_DIGIT: the ID number is invalid" in result.output
            assert "PERSON_NOT_FOUND" not in result.output


def test_serve_names_its_data_directory_and_refuses_an_empty_bureau_without_init(bureau_env, monkeypatch) -> None:
    started: list[dict] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: started.append(options))
    refused = runner.invoke(app, ["serve"])
    assert refused.exit_code == 1 and "EMPTY_BUREAU" in refused.output and "--init" in refused.output
    assert str(bureau_env / "data") in refused.output.replace("\n", "") and not started
    assert not (bureau_env / "data").exists()
    served = runner.invoke(app, ["serve", "--init"])
    assert served.exit_code == 0 and len(started) == 1 and str(bureau_env / "data") in served.output.replace("\n", "")
    # Once the bureau has a member it is served without --init.
    assert runner.invoke(app, ["members", "add", "--code", "BANK_A", "--name", "Bank A", "--role",
                               "furnisher"]).exit_code == 0
    assert runner.invoke(app, ["serve"]).exit_code == 0 and len(started) == 2


def _earlier_demo(path) -> None:
    path.mkdir()
    (path / demo_cli.MARKER).write_text("earlier demo")
    (path / "bureau.db").write_text("the running bureau")


def test_a_second_demo_checks_the_port_before_touching_the_running_one(tmp_path) -> None:
    data_dir = tmp_path / "demo"
    _earlier_demo(data_dir)
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        result = runner.invoke(app, ["demo", "--persons", "100", "--data-dir", str(data_dir), "--port", str(port)])
    assert result.exit_code == 1 and f"PORT_IN_USE: port {port} is in use" in result.output and "nothing was changed" in result.output
    assert (data_dir / "bureau.db").read_text() == "the running bureau"


def test_a_second_demo_refuses_a_directory_another_demo_holds(tmp_path) -> None:
    data_dir = tmp_path / "demo"
    _earlier_demo(data_dir)
    with (data_dir / demo_cli.LOCK).open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # as the serving demo holds it
        result = runner.invoke(app, ["demo", "--persons", "100", "--data-dir", str(data_dir), "--no-serve"])
    assert result.exit_code == 1 and "DIRECTORY_IN_USE" in result.output
    assert "in use by another `openbureau demo`" in result.output.replace("\n", " ")
    assert (data_dir / "bureau.db").read_text() == "the running bureau"


def _fake_fc_list(folder, output: str) -> None:
    script = folder / "fc-list"
    script.write_text(f"#!/bin/sh\nprintf '{output}'\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)


@pytest.mark.parametrize(("families", "warned"), [("", True), ("Noto Sans CJK SC\\n", False), (None, True)])
def test_the_cjk_font_check_says_how_to_install_one(tmp_path, monkeypatch, families, warned) -> None:
    if families is not None:
        _fake_fc_list(tmp_path, families)
    monkeypatch.setenv("PATH", str(tmp_path))
    fonts.cjk_font_warning.cache_clear()
    try:
        warning = fonts.cjk_font_warning()
    finally:
        fonts.cjk_font_warning.cache_clear()
    assert (warning is not None) is warned
    if warned:
        assert "fonts-noto-cjk" in warning and "fonts-wqy-microhei" in warning


def test_the_demo_prints_progress_lines_and_examples_that_work_in_a_new_shell(tmp_path) -> None:
    data_dir = tmp_path / "demo"
    result = runner.invoke(app, ["demo", "--persons", "150", "--months", "2", "--data-dir", str(data_dir),
                                 "--no-serve"])
    assert result.exit_code == 0, result.output
    # Standard error is not a terminal here: progress comes as plain lines while the files are replayed.
    assert sum(line.startswith("records: ") for line in result.output.splitlines()) >= 3
    example = next(line.strip() for line in result.output.splitlines() if " report --id-type " in line)
    assert example.startswith(f"OPENBUREAU_DATA_DIR={data_dir} {os.path.dirname(sys.executable)}/openbureau ")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    pasted = subprocess.run(["bash", "-c", example], cwd=elsewhere, capture_output=True, text=True, timeout=120,
                            env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert pasted.returncode == 0, pasted.stderr
    assert "Credit report" in pasted.stdout and "Repayment records" in pasted.stdout
    assert not (elsewhere / "bureau-data").exists()


def test_a_table_too_wide_for_80_columns_folds_its_cells_instead_of_cutting_them() -> None:
    from rich.console import Console
    from rich.table import Table

    from openbureau.cli.console import print_table

    out = Console(width=80, record=True, file=io.StringIO())
    table = Table("id", "file", "status", "received", "accepted", "warnings", "rejected", "quarantined", "findings")
    table.add_row("3", "2025-10-a-long-file-name.csv", "loaded", "1,234,567", "1,234,000", "0", "567", "18", "1")
    print_table(table, out)
    text = out.export_text()
    assert "…" not in text and all(len(line) <= 80 for line in text.splitlines())
    assert "1,234,567" in text and "1,234,000" in text  # short values stay whole; long text and headers fold
