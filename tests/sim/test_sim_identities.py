"""Resident ID numbers, phones, names and addresses of simulated persons."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from openbureau.sim import regions
from openbureau.sim.identities import (
    PHONE_PREFIXES,
    IssuedNumbers,
    check_character,
    is_valid_resident_id,
    normalise_phone,
)
from openbureau.sim.names import PINYIN, TRADITIONAL

_CODES = {r.code: r for r in regions.REGIONS}


def test_check_character_follows_iso_7064_mod_11_2() -> None:
    # Worked example of GB 11643-1999.
    assert check_character("11010519491231002") == "X"
    assert is_valid_resident_id("11010519491231002X")
    assert not is_valid_resident_id("110105194912310021")
    assert not is_valid_resident_id("11010519491231002")


def test_region_table_has_real_looking_unique_codes() -> None:
    assert len(_CODES) == len(regions.REGIONS) >= 300
    assert {r.code[:2] for r in regions.REGIONS} >= {"11", "31", "44", "51", "65"}
    assert abs(sum(r.weight for r in regions.REGIONS) - 1.0) < 1e-9


def test_true_identities_are_valid_and_unique(persons: pl.DataFrame, market: Path) -> None:
    assert persons["id_number"].n_unique() == persons.height
    # A built synthetic identity gives an unrelated person's address, wherever its ID was registered.
    built = pl.read_parquet(market / "truth" / "fraud.parquet").filter(pl.col("pattern") == "built_identity")
    for id_number, birth, sex, region, address in persons.join(built, on="person_key", how="anti").select(
        "id_number", "birth_date", "sex", "region_code", "address"
    ).iter_rows():
        assert is_valid_resident_id(id_number), id_number
        assert id_number[6:14] == birth.strftime("%Y%m%d")
        assert int(id_number[16]) % 2 == (1 if sex == "M" else 0)
        region_row = _CODES[region]
        assert address.startswith(region_row.province + region_row.city + region_row.county)


def test_every_non_defective_resident_id_in_the_files_is_valid(records: pl.DataFrame, persons: pl.DataFrame) -> None:
    resident = records.filter((pl.col("id_type") == "CN_RESIDENT_ID") & pl.col("id_number").is_not_null()
                              & pl.col("defect_type").is_null())
    assert resident.height > 10_000
    joined = resident.join(persons.select("person_key", "sex", true_id="id_number"), on="person_key")
    assert joined.height == resident.height
    assert (joined["id_number"] == joined["true_id"]).all()
    assert all(is_valid_resident_id(v) for v in joined["id_number"].unique())
    births = joined.filter(pl.col("birth_date").is_not_null())
    assert (births["id_number"].str.slice(6, 8) == births["birth_date"].str.replace_all("-", "")).all()
    parity = joined["id_number"].str.slice(16, 1).cast(pl.Int64) % 2
    assert (parity == (joined["sex"] == "M").cast(pl.Int64)).all()


def test_phones_are_valid_mobile_numbers_in_several_formats(records: pl.DataFrame, persons: pl.DataFrame) -> None:
    phones = records["phone"].drop_nulls().unique().to_list()
    prefixes = {str(p) for p in PHONE_PREFIXES}
    for phone in phones:
        digits = normalise_phone(phone)
        assert len(digits) == 11 and digits[:3] in prefixes, phone
    formats = {"+86" in p for p in phones} | {"-" in p for p in phones} | {" " in p for p in phones}
    assert formats == {True, False}
    for phone in persons["phone"].to_list() + persons["phone_new"].drop_nulls().to_list():
        assert len(phone) == 11 and phone[:3] in prefixes
    # Unrelated persons never share a number; fraud ring members do.
    honest = persons.filter(~pl.col("synthetic"))
    assert honest["phone"].n_unique() == honest.height


def test_identity_noise_varies_names_and_documents_across_furnishers(market, records: pl.DataFrame,
                                                                     persons: pl.DataFrame) -> None:
    truth = pl.read_parquet(market / "truth" / "records.parquet")
    assert set(truth["name_variant"]) == {"exact", "typo", "swapped", "spaced", "latin", "latin_given_first",
                                          "traditional", "truncated"}
    assert set(truth["id_variant"]) == {"resident_id", "other", "passport"}
    clean = records.filter(pl.col("defect_type").is_null() & pl.col("full_name").is_not_null())
    names = clean.join(persons.select("person_key", "surname", "given_name", true_name="full_name"), on="person_key")
    shown_names = names.filter(pl.col("full_name") != pl.col("true_name"))
    assert shown_names.height > 0
    for shown, surname, given, true_name in shown_names.select("full_name", "surname", "given_name",
                                                               "true_name").iter_rows():
        latin_sur = PINYIN[surname]
        latin_given = "".join(PINYIN[c] for c in given)
        variants = {given + surname, f"{surname} {given}", surname + given[:1],
                    f"{latin_sur.upper()} {latin_given.upper()}", f"{latin_given.capitalize()} {latin_sur.capitalize()}",
                    TRADITIONAL[surname] + "".join(TRADITIONAL[c] for c in given)}
        one_char = len(shown) == len(true_name) and sum(a != b for a, b in zip(shown, true_name, strict=True)) == 1
        assert shown in variants or one_char, (shown, true_name)
    # A passport's holder is mostly written as the passport writes them (ICAO 9303: surname first, capitals).
    passports = clean.filter(pl.col("id_type") == "PASSPORT")
    assert passports["full_name"].str.contains(r"^[A-Z]+ [A-Z]+$").mean() > 0.3
    other = clean.filter(pl.col("id_type") == "OTHER")
    assert other.height > 0 and not other["id_number"].str.contains(r"^\d{17}[\dX]$").any()
    utility = clean.filter(pl.col("furnisher") == "UTILITY")
    assert 0.05 < (utility["id_type"] == "OTHER").mean() < 0.3  # type: ignore[operator]


def test_namesakes_share_name_and_birth_date_but_nothing_else(persons: pl.DataFrame) -> None:
    named = persons.filter(pl.col("namesake_of").is_not_null())
    assert 0.005 < named.height / persons.height < 0.02  # configured 1% of honest persons
    pairs = named.join(persons, left_on="namesake_of", right_on="person_key", suffix="_of")
    assert pairs.height == named.height
    assert (pairs["full_name"] == pairs["full_name_of"]).all() and (pairs["birth_date"] == pairs["birth_date_of"]).all()
    assert (pairs["phone"] != pairs["phone_of"]).all() and (pairs["id_number"] != pairs["id_number_of"]).all()
    assert (pairs["address"] != pairs["address_of"]).mean() > 0.99
    assert pairs["id_number"].str.slice(6, 8).to_list() == pairs["birth_date"].dt.strftime("%Y%m%d").to_list()


def test_birth_dates_transposed_only_off_resident_ids_and_addresses_abbreviated(records: pl.DataFrame,
                                                                                  persons: pl.DataFrame) -> None:
    clean = records.filter(pl.col("defect_type").is_null() & pl.col("birth_date").is_not_null())
    joined = clean.join(persons.select("person_key", true_birth="birth_date", true_address="address"), on="person_key")
    moved = joined.filter(pl.col("birth_date").cast(pl.String).str.to_date() != pl.col("true_birth"))
    assert moved.height > 0 and (moved["id_type"] != "CN_RESIDENT_ID").all()
    swapped = moved.select(pl.col("birth_date").cast(pl.String).str.to_date().alias("d"), "true_birth")
    assert (swapped["d"].dt.month() == swapped["true_birth"].dt.day()).all()
    assert (swapped["d"].dt.day() == swapped["true_birth"].dt.month()).all()
    abbreviated = joined.filter(pl.col("address").str.contains(r"\d+-\d+-\d+$"))
    assert abbreviated.height > 0
    # Street, number and compound are kept; the province is not.
    for shown, true in abbreviated.select("address", "true_address").head(200).iter_rows():
        assert shown.split("-")[0].rstrip("0123456789")[-8:] in true and "省" not in shown


def test_issued_numbers_are_never_given_twice_across_blocks_or_within_one() -> None:
    # A tiny number space forces clashes: with earlier blocks, and within the block itself.
    issued = IssuedNumbers()
    rng = np.random.default_rng(3)

    def redraw(r: np.random.Generator, k: int, _where: np.ndarray) -> np.ndarray:
        return r.integers(0, 2_000, size=k)

    blocks = [issued.unique("n", rng.integers(0, 2_000, size=300), redraw, rng) for _ in range(5)]
    every = np.concatenate(blocks)
    assert len(set(every.tolist())) == len(every) == 1_500
    assert issued.unique("other kind", blocks[0].copy(), redraw, rng).tolist() == blocks[0].tolist()
