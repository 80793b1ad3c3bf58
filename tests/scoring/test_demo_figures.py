"""The demo's printed AUC is the figure ``model evaluate`` prints by default: the same rows (the in-time hold-out
of the newest period with a whole outcome, the training period), labelled the same way, to the same digits."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from openbureau.cli import demo
from openbureau.cli.main import app
from openbureau.kit.settings import get_settings


@pytest.fixture
def bureau_env(bureau, monkeypatch):
    """The environment names the test market's bureau, as a user's shell would (the settings read afresh)."""
    settings = bureau.runtime.settings
    monkeypatch.setenv("OPENBUREAU_DATA_DIR", str(settings.data_dir))
    if settings.database_url:
        monkeypatch.setenv("OPENBUREAU_DATABASE_URL", settings.database_url)
    else:
        monkeypatch.delenv("OPENBUREAU_DATABASE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "400")
    get_settings.cache_clear()
    yield bureau
    get_settings.cache_clear()


def test_the_demo_prints_the_validation_auc_that_model_evaluate_prints(bureau_env) -> None:
    bureau = bureau_env
    with demo.console.capture() as captured:
        demo._train_and_release(bureau.runtime, months=18)
    printed = " ".join(captured.get().split())
    version = re.search(r"Scorecard (\S+) trained", printed).group(1)
    shown = re.search(r"validation, in-time hold-out \(the ([\d,]+) files held out of training\): AUC (0\.\d{4}), KS "
                      r"(0\.\d{4})", printed)
    assert shown is not None, printed

    evaluated = CliRunner().invoke(app, ["model", "evaluate", "--model", version, "--no-fairness"])
    assert evaluated.exit_code == 0, evaluated.output
    lines = " ".join(evaluated.output.split())
    held_out = re.search(r"validation, in-time hold-out \(the ([\d,]+) rows held out of training\): ([\d,]+) rows, "
                         r"bad rate [\d.]+%, AUC (0\.\d{4}), KS (0\.\d{4})", lines)
    assert held_out is not None, lines
    assert (held_out.group(1), held_out.group(3), held_out.group(4)) == shown.groups()
    assert "in-sample, not validation" in lines  # the training rows are printed too, and never called validation
