"""The Spark batch path of identity resolution gives the DuckDB path's links, on SQLite and PostgreSQL.

One Spark session (``local[2]``) serves every test of the process (tests/conftest.py).
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import polars as pl
import pytest
from bench.heldout_identity import generate
from bench.identity import store_into
from sqlalchemy import select
from typer.testing import CliRunner

from openbureau.audit.models import AuditEntry
from openbureau.cli.identity import app
from openbureau.identity.models import IdentityMerge, IdentityReview
from openbureau.identity.resolution import resolve
from openbureau.identity.resolution.decide import decide
from openbureau.identity.resolution.linker import DuckDBLinker, Linker, SparkLinker, linker_for
from openbureau.identity.resolution.model import default_model
from openbureau.kit.db import session_scope
from openbureau.kit.errors import Unprocessable
from openbureau.kit.settings import Settings
from openbureau.kit.spark import SparkOptions, _check_java, local_driver_memory
from openbureau.members.models import Member
from openbureau.principals import Principal
from tests.identity.factories import RESIDENT_ID, add_person, add_records

AT_TERMINAL = Principal.operator("OPERATOR:test")
runner = CliRunner()


class _BothEngines(Linker):
    """Scores every call on DuckDB and on Spark, keeps both answers and hands Spark's to the resolver."""

    name = "spark"

    def __init__(self, spark) -> None:
        self.spark = SparkLinker(spark)
        self.answers: list[tuple[pl.DataFrame, pl.DataFrame]] = []

    def predict(self, left, right, *, model, prior, threshold):
        duck = DuckDBLinker().predict(left, right, model=model, prior=prior, threshold=threshold)
        spark = self.spark.predict(left, right, model=model, prior=prior, threshold=threshold)
        self.answers.append((duck, spark))
        return spark


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort("rid_l", "rid_r")


def test_spark_scores_the_same_pairs_and_the_resolver_makes_the_same_links(runtime, spark) -> None:
    records, _, _ = generate(300, seed=11)  # namesakes, decoys, pinyin and traditional names, changed phones
    store_into(runtime, records)
    both = _BothEngines(spark)
    summary = resolve(runtime.engine, settings=runtime.settings, vault=runtime.vault, principal=AT_TERMINAL,
                      linkage=both)
    [(duck, on_spark)] = both.answers
    assert duck.height > 50 and on_spark.columns == duck.columns
    duck, on_spark = _sorted(duck), _sorted(on_spark)
    assert on_spark.select("rid_l", "rid_r", "person_id_l", "person_id_r").equals(
        duck.select("rid_l", "rid_r", "person_id_l", "person_id_r"))
    for column in duck.columns[4:]:  # weights and probabilities: the same to the last digits of a double
        assert (on_spark[column] - duck[column]).abs().max() < 1e-9, column

    # The links stored from Spark's pairs are those DuckDB's pairs decide: the same merges and reviews.
    merges, reviews = decide(duck, model=default_model(), blocked=set(), model_id=None)
    assert summary.batch_engine == "spark" and summary.merged == len(merges) > 10 and summary.queued == len(reviews) > 0
    with session_scope(runtime.engine) as session:
        stored = {(m.person_id, m.into_person_id) for m in session.scalars(select(IdentityMerge))}
        queued = {(r.person_id, r.candidate_person_id) for r in session.scalars(select(IdentityReview))}
        [audited] = session.scalars(select(AuditEntry.details).where(AuditEntry.action == "identity.resolve"))
    assert stored == {(d.person_id, d.candidate_person_id) for d in merges}
    assert queued == {(d.person_id, d.candidate_person_id) for d in reviews}
    assert json.loads(audited)["batch_engine"] == "spark"


def test_no_pairs_without_descriptions_on_either_side(spark) -> None:
    empty = pl.DataFrame(schema={"rid": pl.Int64, "person_id": pl.Int64})
    pairs = SparkLinker(spark).predict(empty, empty, model=default_model(), prior=0.5, threshold=0.9)
    assert pairs.height == 0 and pairs.columns == DuckDBLinker().predict(
        empty, empty, model=default_model(), prior=0.5, threshold=0.9).columns


def test_identity_resolve_runs_on_spark_from_the_command_line(tmp_path, monkeypatch, spark) -> None:
    from openbureau.kit.settings import get_settings
    from openbureau.runtime import open_runtime
    from tests.members.factories import make_member

    monkeypatch.setenv("OPENBUREAU_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("OPENBUREAU_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    runtime = open_runtime()
    try:
        make_member(runtime, "BANK_A")
        make_member(runtime, "UTILITY")
        with session_scope(runtime.engine) as session:
            ids = {m.code: m.id for m in session.scalars(select(Member))}
        add_person(runtime, 1, "CN_RESIDENT_ID", RESIDENT_ID)
        add_records(runtime, 1, furnisher_id=ids["BANK_A"], account="A1")
        add_person(runtime, 2, "OTHER", "UT0000001")
        add_records(runtime, 2, furnisher_id=ids["UTILITY"], account="U1", full_name="张 伟")
        result = runner.invoke(app, ["resolve", "--engine", "spark", "--json"])
        assert result.exit_code == 0, result.output
        summary = json.loads(result.output)
        assert (summary["batch_engine"], summary["merged"]) == ("spark", 1)
        wrong = runner.invoke(app, ["resolve", "--engine", "hadoop"])
        assert wrong.exit_code == 2 and "hadoop" in wrong.output
    finally:
        runtime.engine.dispose()
        get_settings.cache_clear()


def test_the_batch_engine_is_a_setting_and_an_unknown_one_is_refused(tmp_path) -> None:
    settings = Settings(data_dir=tmp_path, batch_engine="spark", spark_master="spark://10.0.0.5:7077",
                        spark_shuffle_partitions=64)
    linker = linker_for(settings.batch_engine, options=settings.spark_options())
    assert isinstance(linker, SparkLinker)
    assert (linker.options.master, linker.options.shuffle_partitions) == ("spark://10.0.0.5:7077", 64)
    assert isinstance(linker_for("duckdb"), DuckDBLinker)
    with pytest.raises(ValueError, match="batch_engine"):
        Settings(data_dir=tmp_path, batch_engine="hadoop")
    with pytest.raises(ValueError, match="unknown batch engine"):
        linker_for("hadoop")


def test_spark_keeps_its_scratch_files_private_and_encrypted(spark) -> None:
    conf = spark.sparkContext.getConf()
    scratch = Path(conf.get("spark.local.dir"))
    assert scratch.name.startswith("openbureau-spark-") and scratch.is_dir()
    assert stat.S_IMODE(scratch.stat().st_mode) == 0o700
    assert conf.get("spark.io.encryption.enabled") == "true" and conf.get("spark.ui.enabled") == "false"


def test_a_local_driver_gets_half_the_machine_s_memory_not_spark_s_one_gigabyte(spark) -> None:
    # Spark's 1g ran out of heap resolving 170,000 records; in local mode the driver is the whole of Spark.
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert local_driver_memory() == f"{max(1, total // 2**31)}g"
    assert spark.sparkContext.getConf().get("spark.driver.memory") == local_driver_memory()
    assert spark.sparkContext.getConf().get("spark.driver.memory") != "1g" or total < 4 * 2**30


def test_without_java_the_spark_path_says_what_to_install(monkeypatch) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", os.devnull)
    with pytest.raises(Unprocessable, match="default-jre-headless") as err:
        _check_java()
    assert err.value.code == "SPARK_UNAVAILABLE"
    assert SparkOptions().master == "local[2]"


def test_a_session_already_running_is_used_and_left_running_from_any_thread(spark) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from openbureau.kit.spark import spark_session

    def application() -> str:
        with spark_session(SparkOptions(master="local[1]")) as session:
            return session.sparkContext.applicationId

    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(application).result() == application() == spark.sparkContext.applicationId
    assert spark.range(3).count() == 3  # still running
