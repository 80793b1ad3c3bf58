"""The scoring training set with its rows computed on Spark is the same set as in process, on SQLite and
PostgreSQL: the same persons in the same order, the same features, outcomes, segments and exclusions."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from openbureau.cli import model as model_cli
from openbureau.kit.db import session_scope
from openbureau.kit.spark import SparkOptions
from openbureau.scoring import service
from openbureau.scoring.training import sample_digest
from openbureau.scoring.training_set import default_periods, training_set
from tests.sim.replayed import ReplayedMarket


def test_the_training_set_is_the_same_on_spark(bureau: ReplayedMarket, spark) -> None:
    jobs = lambda: len(spark.sparkContext.statusTracker().getJobIdsForGroup())  # noqa: E731
    with session_scope(bureau.runtime.engine) as session:
        period = default_periods(session).training
        before = jobs()
        local = training_set(session, observation_period=period)
        assert jobs() == before  # in process: Spark untouched
        on_spark = training_set(session, observation_period=period, spark=SparkOptions())
        assert jobs() > before
    assert len(local.rows) > 1_000 and local.bad.sum() > 20 and local.thin.any() and sum(local.excluded.values()) > 0
    assert on_spark.person_ids == local.person_ids and on_spark.excluded == local.excluded
    assert on_spark.rows == local.rows  # every feature of every person (ints read back as equal floats)
    assert np.array_equal(on_spark.bad, local.bad) and np.array_equal(on_spark.thin, local.thin)
    assert sample_digest(on_spark.frame(), on_spark.bad) == sample_digest(local.frame(), local.bad)


@pytest.mark.parametrize("bureau", ["sqlite"], indirect=True)  # an adapter: its service runs on both engines above
def test_model_train_computes_the_training_set_on_spark(bureau: ReplayedMarket, monkeypatch, spark) -> None:
    monkeypatch.setattr(model_cli, "open_runtime", lambda: bureau.runtime)
    monkeypatch.setenv("COLUMNS", "200")
    jobs = lambda: len(spark.sparkContext.statusTracker().getJobIdsForGroup())  # noqa: E731
    before = jobs()
    result = CliRunner().invoke(model_cli.app, ["train", "--version", "spark-test", "--batch-engine", "spark"])
    assert result.exit_code == 0, result.output
    assert jobs() > before
    with session_scope(bureau.runtime.engine) as session:
        card = service.load(session, "spark-test")
        local = training_set(session, observation_period=card.training["observation_period"])
    assert card.training["sample_digest"] == sample_digest(local.frame(), local.bad)
    assert f"{len(local.rows):,} scorable persons" in result.output
    wrong = CliRunner().invoke(model_cli.app, ["train", "--batch-engine", "hadoop"])
    assert wrong.exit_code == 2 and "unknown batch engine 'hadoop'" in wrong.output
