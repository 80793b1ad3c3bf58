"""Random bytes, random headers and random Parquet/JSON Lines structures: a clear refusal or findings, never
an unhandled exception, never a traceback or raw content in a message."""

from __future__ import annotations

import io
import json

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openbureau.api.app import create_app
from openbureau.intake import standard
from openbureau.intake.errors import FileRejected
from openbureau.intake.files import check_columns
from openbureau.intake.readers import ChunkReader, FileFormat
from openbureau.members.models import Role
from tests.intake.factories import record
from tests.members.factories import make_member


@pytest.fixture
def api_client(runtime):
    key = make_member(runtime, "BANK_A", Role.FURNISHER)
    with TestClient(create_app(runtime)) as client:
        yield client, key


FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _read_all(path, fmt: FileFormat) -> None:
    reader = ChunkReader(path, fmt, chunk_size=1_000)
    try:
        check_columns(reader.open())
        for chunk in reader.chunks():
            assert chunk.columns == ["_line", *standard.COLUMNS]
        for m in reader.malformed:
            assert m.value is None or len(m.value) <= 64
    except FileRejected as exc:
        assert "Traceback" not in exc.message and len(exc.message) < 2_000
        assert exc.code.isupper()


@FUZZ
@given(data=st.binary(max_size=4_000), fmt=st.sampled_from(list(FileFormat)))
def test_random_bytes(tmp_path, data, fmt) -> None:
    path = tmp_path / f"f.{fmt.value}"
    path.write_bytes(data)
    _read_all(path, fmt)


@FUZZ
@given(header=st.lists(st.text(max_size=12), max_size=40), body=st.binary(max_size=2_000))
def test_random_csv_headers(tmp_path, header, body) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(",".join(header).encode("utf-8", "surrogatepass") + b"\n" + body)
    _read_all(path, FileFormat.CSV)


_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                     max_leaves=10)


@FUZZ
@given(lines=st.lists(st.dictionaries(st.sampled_from([*standard.COLUMNS, "x", ""]), _JSON, max_size=30) | _JSON,
                      max_size=10))
def test_random_jsonl_structures(tmp_path, lines) -> None:
    path = tmp_path / "f.jsonl"
    path.write_text("".join(json.dumps(v, ensure_ascii=False) + "\n" for v in lines), "utf-8")
    _read_all(path, FileFormat.JSONL)


@FUZZ
@given(columns=st.dictionaries(st.sampled_from([*standard.COLUMNS, "x"]),
                               st.sampled_from(["str", "int", "list", "struct", "binary"]), min_size=1),
       rows=st.integers(0, 5), cut=st.integers(0, 200))
def test_random_parquet_structures(tmp_path, columns, rows, cut) -> None:
    arrays = {}
    for name, kind in columns.items():
        arrays[name] = {"str": pa.array([record().get(name) or "v"] * rows),
                        "int": pa.array(list(range(rows))),
                        "list": pa.array([[1, 2]] * rows),
                        "struct": pa.array([{"a": 1}] * rows),
                        "binary": pa.array([b"\xff\xfe"] * rows)}[kind]
    sink = io.BytesIO()
    pq.write_table(pa.table(arrays), sink)
    data = sink.getvalue()
    path = tmp_path / "f.parquet"
    path.write_bytes(data[:-cut] if cut else data)
    _read_all(path, FileFormat.PARQUET)


def test_normalised_frames_are_strings_even_from_typed_parquet(tmp_path) -> None:
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"balance": pa.array([1, 2]), "full_name": pa.array([b"a", b"\xff"])}), path)
    reader = ChunkReader(path, FileFormat.PARQUET)
    reader.open()
    frame = pl.concat(list(reader.chunks()))
    assert frame["balance"].to_list() == ["1"] and frame.schema["full_name"] == pl.String
    assert [m.code for m in reader.malformed] == ["MALFORMED_RECORD"]


_CELL = st.one_of(st.sampled_from(["", "2026-09", "CN_RESIDENT_ID", "11010519491231002X", "王小明", "??", "-1"]),
                  st.text(max_size=30), st.binary(max_size=30).map(lambda b: b.decode("latin-1")))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(columns=st.lists(st.sampled_from([*standard.COLUMNS, "x", "religion"]), min_size=1, max_size=30),
       rows=st.lists(st.lists(_CELL, min_size=0, max_size=32), max_size=8),
       garbage=st.binary(max_size=64), suffix=st.sampled_from([".csv", ".jsonl", ".parquet", ".txt"]))
def test_random_files_through_the_api_never_give_a_server_error(api_client, columns, rows, garbage, suffix) -> None:
    client, key = api_client
    if suffix == ".jsonl":
        body = "".join(json.dumps(dict(zip(columns, r, strict=False)), ensure_ascii=False) + "\n" for r in rows)
        data = body.encode() + garbage
    else:
        text = ",".join(columns) + "\n" + "".join(",".join(c.replace(",", " ") for c in r) + "\n" for r in rows)
        data = text.encode("utf-8", "surrogatepass") + garbage
    response = client.post("/v1/submissions", headers={"X-API-Key": key}, files={"file": (f"f{suffix}", data)})
    assert response.status_code in (200, 201, 400, 413, 422), response.text
    assert "Traceback" not in response.text and set(response.json()) >= ({"code", "message"} if
                                                                          response.status_code >= 400 else {"id"})
