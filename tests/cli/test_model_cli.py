"""``openbureau model``: train on a table and evaluate it with a validation report; refuse bad input clearly."""

from __future__ import annotations

import json

import scorecardpy
from typer.testing import CliRunner

from openbureau.cli.main import app

runner = CliRunner()


def test_train_on_a_table_then_evaluate_it_with_a_report(bureau_env) -> None:
    table = bureau_env / "german.csv"
    scorecardpy.germancredit().to_csv(table, index=False)
    model = bureau_env / "german.json"
    trained = runner.invoke(app, ["model", "train", "--table", str(table), "--target", "creditability",
                                  "--out", str(model), "--scale", "350-950"])
    assert trained.exit_code == 0, trained.output
    assert "Validation (300 rows held out)" in trained.output and "AUC 0." in trained.output
    artefact = json.loads(model.read_text())
    assert artefact["format"] == "openbureau-scorecard" and artefact["scale"]["name"] == "350-950"
    assert {f["name"] for f in artefact["feature_schema"]} >= {"purpose", "duration_in_month"}
    report = bureau_env / "validation.html"
    evaluated = runner.invoke(app, ["model", "evaluate", "--model", str(model), "--table", str(table),
                                    "--target", "creditability", "--html", str(report)])
    assert evaluated.exit_code == 0, evaluated.output
    # The training table itself: its 700 training rows are in-sample, never validation; the 300 held out are.
    out = " ".join(evaluated.output.split())
    assert "in-sample, not validation (the 700 rows the model was fitted on" in out
    assert f"validation, in-time hold-out (the 300 rows held out of training): 300 rows, bad rate 30.00%, AUC " \
           f"{artefact['validation']['auc']:.4f}" in out and "PSI 0.000" in out
    assert "Validation, in-time hold-out" in report.read_text()
    imported = runner.invoke(app, ["model", "import", str(model), "--release"])
    assert imported.exit_code == 1 and "MODEL_NOT_RELEASABLE" in imported.output  # a table model scores no inquiry
    assert runner.invoke(app, ["model", "import", str(model)]).exit_code == 0
    assert artefact["model_version"] in runner.invoke(app, ["model", "list"], env={"COLUMNS": "200"}).output
    page = report.read_text()
    assert "ROC curve" in page and "Calibration by score band" in page and "<svg" in page
    assert "<script" not in page and "src=" not in page and "<link" not in page  # nothing fetched


def test_bad_input_gets_one_clear_line(bureau_env) -> None:
    table = bureau_env / "t.csv"
    table.write_text("x,y\n1,maybe\n2,0\n")
    bad = runner.invoke(app, ["model", "train", "--table", str(table), "--target", "y", "--out",
                              str(bureau_env / "m.json")])
    assert bad.exit_code == 1 and "TABLE_INVALID" in bad.output and "maybe" in bad.output
    assert "needs --target and --out" in runner.invoke(app, ["model", "train", "--table", str(table)]).output
    empty = runner.invoke(app, ["model", "train"])
    assert empty.exit_code == 1 and "NO_TRAINING_DATA" in empty.output
    missing = runner.invoke(app, ["model", "release", "nope"])
    assert missing.exit_code == 1 and "MODEL_NOT_FOUND" in missing.output
    junk = bureau_env / "junk.json"
    junk.write_text('{"format": "pickle"}')
    refused = runner.invoke(app, ["model", "import", str(junk)])
    assert refused.exit_code == 1 and "MODEL_INVALID" in refused.output


def test_engine_auto_prints_both_cross_validated_aucs_and_keeps_the_better(bureau_env) -> None:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(8)
    x = rng.uniform(-3, 3, 1_200)
    bad = np.where(np.abs(x) > 2.2, rng.uniform(0, 1, x.size) < 0.7, rng.uniform(0, 1, x.size) < 0.08)
    table, model = bureau_env / "u.csv", bureau_env / "u.json"
    pd.DataFrame({"x": x, "channel": rng.choice(["a", "b"], x.size), "bad": bad.astype(int)}).to_csv(table, index=False)
    trained = runner.invoke(app, ["model", "train", "--table", str(table), "--target", "bad", "--out", str(model),
                                  "--engine", "auto"])
    assert trained.exit_code == 0, trained.output
    assert "cross-validated AUC (5 stratified folds" in trained.output and "chose additive" in trained.output
    artefact = json.loads(model.read_text())
    assert artefact["format"] == "openbureau-additive" and artefact["engine"] == "additive"
    assert artefact["training"]["engine_choice"]["mean_auc"]["additive"] > artefact["training"]["engine_choice"][
        "mean_auc"]["scorecard"]
    report = bureau_env / "u.html"
    evaluated = runner.invoke(app, ["model", "evaluate", "--model", str(model), "--table", str(table), "--target",
                                    "bad", "--html", str(report)])
    assert evaluated.exit_code == 0, evaluated.output
    assert "AUC" in evaluated.output and "[-inf," in report.read_text()  # the shapes' bins, with their points
    unknown = runner.invoke(app, ["model", "train", "--table", str(table), "--target", "bad", "--out", str(model),
                                  "--engine", "forest"])
    assert unknown.exit_code != 0 and "unknown engine" in unknown.output


def test_recalibrate_names_what_is_wrong(bureau_env) -> None:
    missing = runner.invoke(app, ["model", "recalibrate", "nope", "--observation-period", "2025-01"])
    assert missing.exit_code == 1 and "MODEL_NOT_FOUND" in missing.output
    bogus = runner.invoke(app, ["model", "recalibrate", "nope", "--observation-period", "2025-01", "--method", "magic"])
    assert bogus.exit_code != 0 and "unknown method 'magic'" in bogus.output
