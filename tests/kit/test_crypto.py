"""Personal-data crypto: encryption round trip, tamper detection, keyed blind index."""

from __future__ import annotations

import os

import pytest
from cryptography.exceptions import InvalidTag

from openbureau.kit.crypto import PiiKeys, PiiVault, load_keys, mask, rotate_encryption_key
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


def test_bulk_decryption_gives_the_utf8_of_each_value_and_refuses_an_altered_one() -> None:
    vault = _vault()
    values = ["张三", "", "Zhang San", "11010519491231002X"]
    assert vault.decrypt_many_bytes(vault.encrypt_many(values)) == [v.encode() for v in values]
    altered = bytearray(vault.encrypt("李四"))
    altered[-1] ^= 1
    with pytest.raises(InvalidTag):
        vault.decrypt_many_bytes([vault.encrypt("张三"), bytes(altered)])
    with pytest.raises(ValueError, match="unknown ciphertext version"):
        vault.decrypt_many_bytes([b"\x09" + vault.encrypt("王五")[1:]])


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


def test_rotations_add_keys_to_the_ring_and_keep_the_file_private(tmp_path) -> None:
    settings = Settings(data_dir=tmp_path)
    original = load_keys(settings)
    assert (original.key_id, dict(original.keyring)) == (1, {1: original.encryption})
    sealed = PiiVault(original).encrypt("王小明")
    assert [rotate_encryption_key(settings), rotate_encryption_key(settings)] == [2, 3]
    ring = load_keys(settings)
    assert ring.key_id == 3 and sorted(ring.keyring) == [1, 2, 3] and ring.index == original.index
    assert ring.encryption_key(1) == original.encryption and PiiVault(ring).decrypt(sealed) == "王小明"
    assert (tmp_path / "keys.json").stat().st_mode & 0o077 == 0
    assert not list(tmp_path.glob(".keys.json.*"))  # no temporary file left behind


def test_a_ciphertext_naming_an_unknown_key_is_refused_clearly() -> None:
    vault = _vault()
    token = vault.encrypt("李娜")
    forged = b"\x02\x00\x07" + token[3:]
    with pytest.raises(ValueError, match="no encryption key with id 7"):
        vault.decrypt(forged)
    with pytest.raises(ValueError, match="unknown ciphertext version"):
        vault.decrypt(b"\x09" + token[1:])
