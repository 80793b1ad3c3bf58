"""Linkers: one small interface, on DuckDB in memory (one machine) or on Spark (a cluster, or ``local[2]``).

A linker scores candidate pairs between two frames of descriptions (``rid``, ``person_id`` and the
feature columns) and returns those at or above a probability, with the comparison level of every field.
Both linkers run the same Splink model and return the same pairs (tests/identity/test_spark.py).
Plaintext lives only in the linker's memory: the DuckDB database is in memory and may not spill to disk;
Spark's shuffle files and spills are encrypted and kept in a private folder removed after the run
(``kit/spark.py``, docs/scaling.md).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

import polars as pl

from openbureau.identity.resolution.model import FEATURE_COLUMNS, splink_settings
from openbureau.kit.spark import BATCH_ENGINES, SparkOptions, spark_session

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

LINKERS = BATCH_ENGINES  # a resolution runs on either batch engine (``--engine``, OPENBUREAU_BATCH_ENGINE)

PAIR_SCHEMA = {"rid_l": pl.Int64, "rid_r": pl.Int64, "person_id_l": pl.Int64, "person_id_r": pl.Int64,
               "match_weight": pl.Float64, "match_probability": pl.Float64, "mw_name": pl.Float64,
               "mw_tf_adj_name": pl.Float64, "mw_birth_date": pl.Float64, "mw_phone": pl.Float64,
               "mw_address": pl.Float64}


class Linker(ABC):
    """Scores pairs of identity descriptions with a linkage model."""

    name: str  # the batch engine it runs on, as ``--engine`` names it

    @abstractmethod
    def predict(self, left: pl.DataFrame, right: pl.DataFrame, *, model: dict[str, Any], prior: float,
                threshold: float) -> pl.DataFrame:
        """Pairs (left, right) with ``match_probability >= threshold``, columns as in ``PAIR_SCHEMA``."""


class DuckDBLinker(Linker):
    """Splink on an in-memory DuckDB database that never spills to disk.

    Example:
        >>> pairs = DuckDBLinker().predict(weak, strong, model=default_model(), prior=1e-4, threshold=0.9)
    """

    name = "duckdb"

    def __init__(self, *, threads: int | None = None, memory_limit: str | None = None) -> None:
        self.threads = threads
        self.memory_limit = memory_limit

    def predict(self, left: pl.DataFrame, right: pl.DataFrame, *, model: dict[str, Any], prior: float,
                threshold: float) -> pl.DataFrame:
        """See :meth:`Linker.predict`."""
        if left.height == 0 or right.height == 0:
            return pl.DataFrame(schema=PAIR_SCHEMA)
        import duckdb
        from splink import DuckDBAPI, Linker

        con = duckdb.connect(":memory:")
        con.execute("SET temp_directory = ''")  # no spilling: plaintext never reaches a disk
        if self.threads:
            con.execute(f"SET threads = {int(self.threads)}")
        if self.memory_limit:
            con.execute("SET memory_limit = ?", [self.memory_limit])
        try:
            columns = ["rid", "person_id", *FEATURE_COLUMNS]
            db_api = DuckDBAPI(con)
            tables = [db_api.register(frame.select(columns).to_arrow(), table_name=name)
                      for frame, name in ((left, "weak"), (right, "strong"))]
            linker = Linker(tables, splink_settings(model, prior=prior), log_level=None)
            result = linker.inference.predict(threshold_match_probability=threshold)
            frame = result.as_duckdbpyrelation().pl()
        finally:
            con.close()
        return _normalise(frame)


class SparkLinker(Linker):
    """Splink on Spark: the model's SQL (written for DuckDB) is translated to Spark SQL, the frames go to
    Spark as Arrow from this process, and the pairs come back as Arrow.

    Args:
        spark: A running session (kept running); by default each prediction opens one with ``options``
            (``Settings.spark_options()``) and stops it after.

    Example:
        >>> pairs = SparkLinker(options=settings.spark_options()).predict(weak, strong, model=model, prior=1e-4,
        ...                                                               threshold=0.9)
    """

    name = "spark"

    def __init__(self, spark: SparkSession | None = None, *, options: SparkOptions | None = None) -> None:
        self.spark = spark
        self.options = options or SparkOptions()

    def predict(self, left: pl.DataFrame, right: pl.DataFrame, *, model: dict[str, Any], prior: float,
                threshold: float) -> pl.DataFrame:
        """See :meth:`Linker.predict`."""
        if left.height == 0 or right.height == 0:
            return pl.DataFrame(schema=PAIR_SCHEMA)
        if self.spark is not None:
            return self._predict(self.spark, left, right, model=model, prior=prior, threshold=threshold)
        with spark_session(self.options) as spark:
            return self._predict(spark, left, right, model=model, prior=prior, threshold=threshold)

    @staticmethod
    def _predict(spark: SparkSession, left: pl.DataFrame, right: pl.DataFrame, *, model: dict[str, Any],
                 prior: float, threshold: float) -> pl.DataFrame:
        from splink import Linker, SparkAPI

        # persist: intermediate tables stay in the executors' block stores (encrypted when they spill), not
        # in the plaintext Parquet checkpoints Splink writes by default.
        db_api = SparkAPI(spark_session=spark, break_lineage_method="persist", register_udfs_automatically=False,
                          num_partitions_on_repartition=int(spark.conf.get("spark.sql.shuffle.partitions")))
        columns = ["rid", "person_id", *FEATURE_COLUMNS]
        try:
            tables = [db_api.register(spark.createDataFrame(frame.select(columns).to_arrow()), table_name=name)
                      for frame, name in ((left, "weak"), (right, "strong"))]
            linker = Linker(tables, splink_settings(spark_model(model), prior=prior), log_level=None)
            result = linker.inference.predict(threshold_match_probability=threshold)
            frame = pl.from_arrow(result.as_spark_dataframe().toArrow())
        finally:  # the session may serve other jobs: leave it none of this run's tables nor cached blocks
            db_api.delete_tables_created_by_splink_from_db()
            for name in ("weak", "strong"):
                spark.catalog.dropTempView(name)
            spark.catalog.clearCache()
        return _normalise(frame)


def spark_model(model: dict[str, Any]) -> dict[str, Any]:
    """The model with its SQL (comparison levels and blocking rules, written for DuckDB) in Spark SQL."""
    import sqlglot

    def spark_sql(sql: str) -> str:
        return sql if sql.strip().upper() == "ELSE" else sqlglot.transpile(sql, read="duckdb", write="spark")[0]

    comparisons = [{**c, "comparison_levels": [{**level, "sql_condition": spark_sql(level["sql_condition"])}
                                               for level in c["comparison_levels"]]}
                   for c in model["comparisons"]]
    return {**model, "comparisons": comparisons, "blocking_rules": [spark_sql(r) for r in model["blocking_rules"]]}


def linker_for(engine: str, *, options: SparkOptions | None = None) -> Linker:
    """The linker of a batch engine: ``duckdb`` or ``spark``."""
    if engine == "duckdb":
        return DuckDBLinker()
    if engine == "spark":
        return SparkLinker(options=options)
    raise ValueError(f"unknown batch engine {engine!r}: choose one of {', '.join(LINKERS)}")


def _normalise(frame: pl.DataFrame) -> pl.DataFrame:
    """Orient every pair weak → strong (Splink puts the lower source name on the left)."""
    if frame.height == 0:
        return pl.DataFrame(schema=PAIR_SCHEMA)
    swapped = frame["source_dataset_l"] != "weak"
    if "mw_tf_adj_name" not in frame.columns:  # a model without term-frequency adjustment
        frame = frame.with_columns(pl.lit(0.0).alias("mw_tf_adj_name"))
    out = {}
    for name in PAIR_SCHEMA:
        if name.endswith("_l") or name.endswith("_r"):
            base, side = name[:-2], name[-1]
            other = "r" if side == "l" else "l"
            out[name] = pl.when(pl.lit(swapped)).then(pl.col(f"{base}_{other}")).otherwise(pl.col(name))
        else:
            out[name] = pl.col(name)
    return frame.select(**out).cast(PAIR_SCHEMA)
