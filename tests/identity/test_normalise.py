"""Real-world name, date, phone and address variation meets the right comparison level (no database)."""

from __future__ import annotations

import polars as pl
import pytest

from openbureau.identity.resolution.decide import label, level_table
from openbureau.identity.resolution.features import features
from openbureau.identity.resolution.linker import DuckDBLinker
from openbureau.identity.resolution.model import default_model
from openbureau.identity.resolution.normalise import chinese_name_parts, latin_name_parts, to_simplified

FIELDS = ("full_name", "birth_date", "phone", "address")
BUREAU = {"full_name": "张伟明", "birth_date": "1990-03-07", "phone": "13812345678",
          "address": "广东省深圳市福田区中山路12号幸福家园3栋2单元1203室"}


def _frame(rows: list[dict], first_id: int) -> pl.DataFrame:
    frame = pl.DataFrame(rows, schema=dict.fromkeys(FIELDS, pl.String))
    ids = pl.int_range(first_id, first_id + pl.len(), dtype=pl.Int64)
    return features(frame.with_columns(ids.alias("rid"), ids.alias("person_id")))


def _levels(weak: dict) -> dict[str, str]:
    """The comparison level of each field when ``weak`` is scored against the bureau's description."""
    pairs = DuckDBLinker().predict(_frame([{**dict.fromkeys(FIELDS), **weak}], 1), _frame([BUREAU], 10),
                                   model=default_model(), prior=0.5, threshold=0.0)
    assert pairs.height == 1, "the blocking rules must make this pair a candidate"
    table = level_table(default_model())
    row = pairs.row(0, named=True)
    return {f: label(table[f], row[f"mw_{f}"]) for f in ("name", "birth_date", "phone", "address")}


def test_traditional_characters_are_read_as_simplified() -> None:
    assert to_simplified("張偉明") == "张伟明"
    assert _levels({"full_name": "張偉明", "birth_date": "1990-03-07"})["name"] == "same name"


@pytest.mark.parametrize("written", ["ZHANG WEIMING", "Weiming Zhang", "Zhang, Wei-Ming", "WEIMING ZHANG",
                                     "zhang weiming", "Weiming ZHANG"])
def test_latin_names_in_either_order_meet_the_characters(written: str) -> None:
    assert _levels({"full_name": written, "birth_date": "1990-03-07"})["name"] == "same pinyin in any order or script"


def test_latin_name_parts_find_the_surname() -> None:
    known = frozenset({"zhang", "li"})
    assert latin_name_parts("Weiming ZHANG", known) == ("zhang", "weiming")  # capitals mark the surname
    assert latin_name_parts("Zhang, Weiming", frozenset()) == ("zhang", "weiming")
    assert latin_name_parts("Weiming Zhang", known) == ("zhang", "weiming")  # the known surname
    assert latin_name_parts("LYU Na", frozenset()) == ("lv", "na")  # ü as passports write it since 2012
    assert latin_name_parts("", known) == ("", "")


def test_surnames_read_as_names_not_as_words() -> None:
    assert chinese_name_parts("曾伟") == ("zeng", "wei")  # not ceng
    assert chinese_name_parts("欧阳娜娜") == ("ouyang", "nana")
    zeng = _frame([{"full_name": "ZENG Wei", "birth_date": "1990-03-07"}], 1)
    assert zeng["name_key"].to_list() == _frame([{"full_name": "曾伟", "birth_date": None}], 5)["name_key"].to_list()


@pytest.mark.parametrize("written", ["张伟", "Zhang Wei", "张伟明华", "WEI ZHANG"])
def test_truncated_or_extended_given_names(written: str) -> None:
    assert _levels({"full_name": written, "birth_date": "1990-03-07"})["name"] == "given name truncated or extended"


def test_a_different_given_name_is_different() -> None:
    assert _levels({"full_name": "张丽", "birth_date": "1990-03-07"})["name"] == "different"


def test_transposed_day_and_month() -> None:
    assert _levels({"full_name": "张伟明", "birth_date": "1990-07-03"})["birth_date"] == "day and month transposed"
    assert _levels({"full_name": "张伟明", "birth_date": "1990-07-04", "phone": "13812345678"}
                   )["birth_date"] == "different"
    frame = _frame([{"full_name": "x", "birth_date": "1990-03-25"}, {"full_name": "y", "birth_date": "1990-05-05"}], 1)
    assert frame["dob_t"].to_list() == [None, None]  # day 25 cannot be a month; 5/5 swaps to itself


@pytest.mark.parametrize("written", ["+86 138 1234 5678", "0086 13812345678", "(138) 1234-5678", "138.1234.5678",
                                     "+86-138-1234-5678", "8613812345678"])
def test_phone_formats(written: str) -> None:
    assert _levels({"full_name": "张伟明", "phone": written})["phone"] == "same number"


@pytest.mark.parametrize("written", ["深圳福田区中山路12号幸福家园3-2-1203", "深圳市福田区中山路12号幸福家园3幢2单元1203",
                                     "廣東省深圳市福田區中山路12號幸福家園3棟2單元1203室",
                                     "广东省 深圳市 福田区 中山路12号 幸福家园3号楼2单元1203室"])
def test_address_abbreviations_and_scripts(written: str) -> None:
    assert _levels({"full_name": "张伟明", "address": written, "birth_date": "1990-03-07"})["address"] == "same address"


def test_another_room_is_another_address() -> None:
    found = _levels({"full_name": "张伟明", "birth_date": "1990-03-07",
                     "address": "广东省深圳市福田区中山路12号幸福家园3栋2单元1204室"})
    assert found["address"] == "different"


@pytest.mark.parametrize("written", ["伟明张", "伟明 张"])
def test_a_three_character_name_written_given_name_first(written: str) -> None:
    assert _levels({"full_name": written, "birth_date": "1990-03-07"})["name"] == "same syllables in another order"


def test_wade_giles_and_hong_kong_spellings_are_read_back_to_the_chinese_name_they_spell() -> None:
    from openbureau.identity.resolution.normalise import name_frame

    names = pl.Series(["陳大文", "张志明", "黄伟", "王伟", "CHAN Tai Man", "Chih-ming Chang", "CHANG Chih-Ming",
                       "Wong Wai", "ZHANG Zhiming", "Tai Man Chan", "LIU Dehua"])
    frame = {r["full_name"]: (r["sur_py"], r["given_py"], r["name_key"]) for r in name_frame(names).to_dicts()}
    assert frame["CHAN Tai Man"] == frame["Tai Man Chan"] == ("chen", "dawen", "chen dawen")  # Hong Kong
    assert frame["Chih-ming Chang"] == frame["CHANG Chih-Ming"] == ("zhang", "zhiming", "zhang zhiming")  # Taiwan
    assert frame["ZHANG Zhiming"][:2] == ("zhang", "zhiming")  # pinyin as before
    # 黃 and 王 are both Wong in Hong Kong: an ambiguous spelling picks nobody.
    assert frame["Wong Wai"][:2] == ("wong", "wai")
    assert frame["LIU Dehua"][:2] == ("liu", "dehua")  # no Chinese name of the run: left as written
