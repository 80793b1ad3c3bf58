"""Linkers: one small interface, DuckDB in memory today, Spark later.

A linker scores candidate pairs between two frames of descriptions (``rid``, ``person_id`` and the
feature columns) and returns those at or above a probability, with the comparison level of every field.
Plaintext lives only in the linker's memory: the DuckDB database is in memory and may not spill to disk.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import polars as pl

from openbureau.identity.resolution.model import FEATURE_COLUMNS, splink_settings

PAIR_SCHEMA = {"rid_l": pl.Int64, "rid_r": pl.Int64, "person_id_l": pl.Int64, "person_id_r": pl.Int64,
               "match_weight": pl.Float64, "match_probability": pl.Float64, "mw_name": pl.Float64,
               "mw_tf_adj_name": pl.Float64, "mw_birth_date": pl.Float64, "mw_phone": pl.Float64,
               "mw_address": pl.Float64}


class Linker(ABC):
    """Scores pairs of identity descriptions with a linkage model."""

    @abstractmethod
    def predict(self, left: pl.DataFrame, right: pl.DataFrame, *, model: dict[str, Any], prior: float,
                threshold: float) -> pl.DataFrame:
        """Pairs (left, right) with ``match_probability >= threshold``, columns as in ``PAIR_SCHEMA``."""


class DuckDBLinker(Linker):
    """Splink on an in-memory DuckDB database that never spills to disk.

    Example:
        >>> pairs = DuckDBLinker().predict(weak, strong, model=default_model(), prior=1e-4, threshold=0.9)
    """

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
