"""Personal identifiers at rest: AES-256-GCM encryption plus a keyed blind index for exact lookup.

The database never holds an identity number, name, phone or address in clear. Lookups by identity
number go through a blind index: a 16-byte keyed BLAKE2b MAC (RFC 7693 keyed mode, a PRF like
HMAC-SHA256 but about three times faster here) under a separate key, of the normalised value. Keys come from settings or, for the embedded default, a key file created in the data
directory with owner-only permissions.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from openbureau.kit.settings import Settings

_VERSION = b"\x01"
_NONCE = 12
INDEX_BYTES = 16


@dataclass(frozen=True, slots=True)
class PiiKeys:
    """The two keys that protect personal identifiers."""

    encryption: bytes
    index: bytes


class PiiVault:
    """Encrypts, decrypts and blind-indexes personal identifiers.

    Example:
        >>> vault = PiiVault(PiiKeys(os.urandom(32), os.urandom(32)))
        >>> vault.decrypt(vault.encrypt("张三")) == "张三"
        True
    """

    def __init__(self, keys: PiiKeys) -> None:
        self._aead = AESGCM(keys.encryption)
        self._index_key = keys.index

    def blind_index(self, value: str, *, domain: str) -> bytes:
        """A keyed, deterministic 16-byte token of ``value`` within ``domain`` (e.g. the id type)."""
        return self.blind_indexes([value], domain=domain)[0]

    def blind_indexes(self, values: Iterable[str], *, domain: str) -> list[bytes]:
        """Blind indexes of many values at once."""
        mac = hashlib.blake2b(key=self._index_key, digest_size=INDEX_BYTES, person=b"openbureau-bi-v1")
        mac.update(f"{domain}\x1f".encode())
        out = []
        for value in values:
            one = mac.copy()
            one.update(value.encode())
            out.append(one.digest())
        return out

    def encrypt(self, value: str) -> bytes:
        """Encrypt one value; every call uses a fresh random nonce."""
        nonce = os.urandom(_NONCE)
        return _VERSION + nonce + self._aead.encrypt(nonce, value.encode(), None)

    def encrypt_many(self, values: Sequence[str]) -> list[bytes]:
        """Encrypt many values, drawing all nonces from one call to the OS random source."""
        nonces = os.urandom(_NONCE * len(values))
        seal = self._aead.encrypt
        out = []
        for i, value in enumerate(values):
            nonce = nonces[i * _NONCE : (i + 1) * _NONCE]
            out.append(_VERSION + nonce + seal(nonce, value.encode(), None))
        return out

    def decrypt(self, token: bytes) -> str:
        """Decrypt a value sealed by :meth:`encrypt`; raises if it was altered."""
        if token[:1] != _VERSION:
            raise ValueError("unknown ciphertext version")
        nonce = token[1 : 1 + _NONCE]
        return self._aead.decrypt(nonce, token[1 + _NONCE :], None).decode()

    def encrypt_json(self, value: dict) -> bytes:
        """Encrypt a small JSON object (an identity variant)."""
        return self.encrypt(json.dumps(value, ensure_ascii=False, separators=(",", ":")))

    def decrypt_json(self, token: bytes) -> dict:
        """Decrypt a JSON object sealed by :meth:`encrypt_json`."""
        return json.loads(self.decrypt(token))


def load_keys(settings: Settings) -> PiiKeys:
    """Keys from settings, else from (or newly into) ``keys.json`` in the data directory."""
    if settings.pii_key is not None and settings.index_key is not None:
        return PiiKeys(
            base64.b64decode(settings.pii_key.get_secret_value()),
            base64.b64decode(settings.index_key.get_secret_value()),
        )
    path = Path(settings.data_dir) / "keys.json"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fresh = {"pii_key": base64.b64encode(os.urandom(32)).decode(),
                 "index_key": base64.b64encode(os.urandom(32)).decode()}
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(fresh, handle)
    stored = json.loads(path.read_text())
    pii = settings.pii_key.get_secret_value() if settings.pii_key else stored["pii_key"]
    index = settings.index_key.get_secret_value() if settings.index_key else stored["index_key"]
    return PiiKeys(base64.b64decode(pii), base64.b64decode(index))


def mask(value: str | None, *, keep_start: int = 3, keep_end: int = 2) -> str | None:
    """Mask the middle of a personal value for display: ``110***********12``."""
    if value is None:
        return None
    if len(value) <= keep_start + keep_end:
        return "*" * len(value)
    return value[:keep_start] + "*" * (len(value) - keep_start - keep_end) + value[-keep_end:]
