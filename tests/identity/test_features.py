"""Comparison features of Chinese names, phones and addresses (no database)."""

from __future__ import annotations

import json

import polars as pl
import pytest

from openbureau.identity.resolution.features import features, pinyin
from openbureau.identity.resolution.linker import DuckDBLinker
from openbureau.identity.resolution.model import default_model, load_model, save_model


def _frame(rows: list[dict], first_id: int) -> pl.DataFrame:
    frame = pl.DataFrame(rows, schema={f: pl.String for f in ("full_name", "birth_date", "phone", "address")})
    return features(frame.with_columns(pl.int_range(first_id, first_id + pl.len(), dtype=pl.Int64).alias("rid"),
                                       pl.int_range(first_id, first_id + pl.len(), dtype=pl.Int64)
                                       .alias("person_id")))


def test_pinyin_is_toneless_and_ignores_spaces() -> None:
    assert pinyin("张 伟") == "zhang wei"
    assert pinyin("章玮") == pinyin("张伟")


def test_features_normalise_phone_formats_names_and_addresses() -> None:
    frame = _frame([{"full_name": "伟 张", "birth_date": "1990-03-07", "phone": "+86-138-1234-5678",
                     "address": "深圳市南山区科技路12号阳光花园3栋2单元1203室"},
                    {"full_name": "", "birth_date": None, "phone": "", "address": " "}], 1)
    first = frame.row(0, named=True)
    assert first["phone_n"] == "13812345678"
    assert first["name"] == "伟张" and first["name_key"] == "wei zhang"
    assert first["addr"] == "深圳南山区科技路12号阳光花园3-2-1203"
    assert frame.row(1, named=True)["name"] is None and frame.row(1, named=True)["phone_n"] is None


@pytest.mark.parametrize(("weak_name", "agreeing"), [("章伟", "name"), ("伟张", "name"), ("张 伟", "name")])
def test_engine_scores_variants_of_a_name_as_agreeing(weak_name: str, agreeing: str) -> None:
    weak = _frame([{"full_name": weak_name, "birth_date": "1990-03-07", "phone": "138 1234 5678",
                    "address": None}], 1)
    strong = _frame([{"full_name": "张伟", "birth_date": "1990-03-07", "phone": "13812345678", "address": "x"},
                     {"full_name": "李娜", "birth_date": "1985-01-01", "phone": "13900000000", "address": "y"}], 10)
    pairs = DuckDBLinker().predict(weak, strong, model=default_model(), prior=1e-4, threshold=0.5)
    assert pairs.height == 1
    row = pairs.row(0, named=True)
    assert (row["person_id_l"], row["person_id_r"]) == (1, 10)
    assert row[f"mw_{agreeing}"] > 0 and row["match_probability"] > 0.999


def test_model_round_trips_as_versioned_json(tmp_path) -> None:
    path = tmp_path / "model.json"
    save_model(default_model(), path)
    assert load_model(path) == default_model()
    path.write_text(json.dumps({"version": "other"}))
    with pytest.raises(ValueError, match="unsupported"):
        load_model(path)
