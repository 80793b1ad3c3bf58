"""Personal-data crypto: encryption round trip, tamper detection, keyed blind index."""

from __future__ import annotations

import os

import pytest
from cryptography.exceptions import InvalidTag

from openbureau.kit.crypto import PiiKeys, PiiVault, load_keys, mask
from openbureau.kit.settings import Settings


def _vault() -> PiiVault:
    return PiiVault(PiiKeys(os.urandom(32), os.urandom(32)))


def test_encrypt_round_trips_and_never_repeats_ciphertext() -> None:
    vault = _vault()
    a, b = vault.encrypt("11010519491231002X"), vault.encrypt("11010519491231002X")
    assert a != b
    assert b"11010519491231002X" not in a
    assert vault.decrypt(a) == vault.decrypt(b) == "11010519491231002X"
    assert [vault.decrypt(t) for t in vault.encrypt_many(["张三", "李四", ""])] == ["张三", "李四", ""]


def test_altered_ciphertext_is_refused() -> None:
    vault = _vault()
    token = bytearray(vault.encrypt("张三"))
    token[-1] ^= 1
    with pytest.raises(InvalidTag):
        vault.decrypt(bytes(token))


def test_blind_index_is_deterministic_keyed_and_domain_separated() -> None:
    vault, other = _vault(), _vault()
    one = vault.blind_index("11010519491231002X", domain="CN_RESIDENT_ID")
    assert one == vault.blind_index("11010519491231002X", domain="CN_RESIDENT_ID")
    assert len(one) == 16
    assert one != other.blind_index("11010519491231002X", domain="CN_RESIDENT_ID")
    assert one != vault.blind_index("11010519491231002X", domain="PASSPORT")
    assert vault.blind_indexes(["a", "b"], domain="x") == [vault.blind_index("a", domain="x"),
                                                          vault.blind_index("b", domain="x")]


def test_key_file_is_created_once_and_private(tmp_path) -> None:
    settings = Settings(data_dir=tmp_path)
    first = load_keys(settings)
    assert load_keys(settings) == first
    assert (tmp_path / "keys.json").stat().st_mode & 0o077 == 0


def test_settings_refuse_a_short_key(tmp_path) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        Settings(data_dir=tmp_path, pii_key="c2hvcnQ=")


def test_default_database_is_a_sqlite_file_in_the_data_directory(tmp_path) -> None:
    assert Settings(data_dir=tmp_path).resolved_database_url == f"sqlite:///{tmp_path / 'bureau.db'}"


def test_mask_keeps_only_the_ends() -> None:
    assert mask("11010519491231002X") == "110*************2X"
    assert mask("ab") == "**"
    assert mask(None) is None
