"""The scoring training set on Spark: each person's row (features as the bureau knew the file at the
observation period, the outcome after it) computed on the executors by the in-process code
(``training_set.observe_person``), the persons spread over Spark's partitions.

The point-in-time features are the inquiry's own code (``scoring.features``): written again in Spark SQL
they could drift from what an inquiry scores. So the files, read by the driver through the bureau's
repository as in process, go to Spark as Arrow, are grouped by person beside the person's hard inquiries
(a cogroup), and each group is turned into ``training_set.observe_person``'s answer. Rows come back in person
order, so the set (and its sample digest, its split and the model) is the same as in process
(tests/scoring/test_spark_training_set.py). Executors on a cluster need the ``openbureau`` package installed,
as any PySpark job's Python code does (docs/scaling.md).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from functools import partial

import pyarrow as pa

from openbureau.kit.spark import SparkOptions, spark_session
from openbureau.scoring.features import FEATURE_NAMES
from openbureau.scoring.training_set import Observation, observe_person

_SCHEMA = ("person_id long, left_out string, bad int, thin boolean, "
           + ", ".join(f"{name} double" for name in FEATURE_NAMES))
_ARROW_SCHEMA = pa.schema([("person_id", pa.int64()), ("left_out", pa.string()), ("bad", pa.int32()),
                           ("thin", pa.bool_()), *((name, pa.float64()) for name in FEATURE_NAMES)])


def _tables(files: Iterable[tuple[int, list]], inquiries: Mapping[int, Sequence[datetime]]) -> tuple[pa.Table, pa.Table]:
    """The files' states as one Arrow table (``person_id`` and the rows' own columns, their Python types kept:
    ISO text or dates as the database gave them) and the hard inquiries as (person_id, at)."""
    columns: dict[str, list] | None = None
    for person_id, rows in files:
        if columns is None:
            columns = {"person_id": [], **{name: [] for name in rows[0]._fields if name != "person_id"}}
        for row in rows:
            columns["person_id"].append(person_id)
            for name, value in zip(row._fields, row, strict=True):
                if name != "person_id":
                    columns[name].append(value)
    states = pa.table(columns or {"person_id": pa.array([], pa.int64())})
    people = [p for p, moments in inquiries.items() for _ in moments]
    moments = [m for ms in inquiries.values() for m in ms]
    return states, pa.table({"person_id": pa.array(people, pa.int64()), "at": pa.array(moments, pa.timestamp("us"))
                             if not moments or moments[0].tzinfo is None else pa.array(moments)})


def _observe_group(states: pa.Table, inquiries: pa.Table, *, observation: Observation) -> pa.Table:
    """One person's row, on an executor."""
    fields = [c for c in states.column_names if c != "person_id"]
    row_type = namedtuple("StateRow", fields)  # noqa: PYI024 (attribute access, as the database's rows give)
    values = [states.column(c).to_pylist() for c in fields]
    rows = [row_type(*v) for v in zip(*values, strict=True)]
    person_id = (states if states.num_rows else inquiries).column("person_id")[0].as_py()
    left_out, features, bad, thin = observe_person(rows, inquiries.column("at").to_pylist(), observation)
    out = {"person_id": [person_id], "left_out": [left_out], "bad": [bad], "thin": [thin]}
    out |= {name: [None if features is None or features[name] is None else float(features[name])]
            for name in FEATURE_NAMES}
    return pa.table(out, schema=_ARROW_SCHEMA)


def observe(files: Iterable[tuple[int, list]], inquiries: Mapping[int, Sequence[datetime]], observation: Observation,
            *, options: SparkOptions) -> Iterator[tuple[int, str | None, dict | None, int, bool]]:
    """(person_id, left out or None, features, bad, thin) of every person with a file, in person order."""
    states, moments = _tables(files, inquiries)
    if states.num_rows == 0:
        return iter(())
    with spark_session(options) as spark:
        left = spark.createDataFrame(states).groupBy("person_id")
        right = spark.createDataFrame(moments).groupBy("person_id")
        rows = (left.cogroup(right).applyInArrow(partial(_observe_group, observation=observation), _SCHEMA)
                .orderBy("person_id").toArrow())
    return _rows(rows, persons=set(states.column("person_id").to_pylist()))


def _rows(table: pa.Table, *, persons: set[int]) -> Iterator[tuple[int, str | None, dict | None, int, bool]]:
    for r in table.to_pylist():
        if r["person_id"] not in persons:  # inquiries about a person without a file: no row in process either
            continue
        features = None if r["left_out"] is not None else {name: r[name] for name in FEATURE_NAMES}
        yield r["person_id"], r["left_out"], features, r["bad"], r["thin"]
