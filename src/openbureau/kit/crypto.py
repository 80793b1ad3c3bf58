"""Personal identifiers at rest: AES-256-GCM encryption plus a keyed blind index for exact lookup.

The database never holds an identity number, name, phone or address in clear. Lookups by identity
number go through a blind index: a 16-byte keyed BLAKE2b MAC (RFC 7693 keyed mode, a PRF like
HMAC-SHA256 but about three times faster here) under a separate key, of the normalised value. Keys come
from settings or, for the embedded default, a key file created in the data directory with owner-only
permissions.

Encryption keys rotate: every ciphertext names the key that sealed it (a version byte and a key id), the
keyring keeps retired keys so old ciphertexts keep decrypting, and ``openbureau keys rotate`` re-encrypts
stored ones under the current key (``kit.keyrotation``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from openbureau.kit.keyfile import ensure_entries, read_key_file, update_key_file
from openbureau.kit.settings import Settings

# Ciphertext layouts. Version 1 (the first years): 0x01, nonce, AES-GCM output; always the original key
# (key id 1). Version 2: 0x02, the key id (2 bytes, big-endian), nonce, AES-GCM output.
_V1 = b"\x01"
_V2 = b"\x02"
_KEY_ID_BYTES = 2
_HEAD = 1 + _KEY_ID_BYTES
_NONCE = 12
INDEX_BYTES = 16
ORIGINAL_KEY_ID = 1
MAX_KEY_ID = 2 ** (8 * _KEY_ID_BYTES) - 1

# Column ``info`` marks of personal data at rest: key rotation finds every ciphertext column by its mark.
CIPHERTEXT = {"pii": "ciphertext"}
BLIND_INDEX = {"pii": "blind_index"}


def blind_index_of(source: str, domain: str) -> dict[str, str]:
    """Column info of a blind index: it indexes the value sealed in column ``source`` within the domain held
    in column ``domain`` (so that a rotation can recompute it: ``kit.keyrotation.reindex``)."""
    return {**BLIND_INDEX, "source": source, "domain": domain}


@dataclass(frozen=True, slots=True)
class PiiKeys:
    """The keys that protect personal identifiers.

    ``encryption`` and ``index`` are the current keys; ``key_id`` names ``encryption`` in the ciphertexts
    it seals; ``keyring`` maps every encryption key id still readable (current and retired) to its key.
    """

    encryption: bytes
    index: bytes
    key_id: int = ORIGINAL_KEY_ID
    keyring: Mapping[int, bytes] = field(default_factory=dict)
    # During a blind-index key rotation: the index key being retired (rows not yet re-indexed carry it).
    retiring_index: bytes | None = None

    def encryption_key(self, key_id: int) -> bytes:
        """The encryption key with id ``key_id`` (current or retired); KeyError when this keyring lacks it."""
        if key_id == self.key_id:
            return self.encryption
        return self.keyring[key_id]


def ciphertext_key_id(token: bytes) -> int:
    """The id of the key that sealed ``token`` (version 1 ciphertexts: the original key, 1)."""
    if token[:1] == _V2:
        return int.from_bytes(token[1 : 1 + _KEY_ID_BYTES], "big")
    if token[:1] == _V1:
        return ORIGINAL_KEY_ID
    raise ValueError("unknown ciphertext version")


def ciphertext_prefix(key_id: int) -> bytes:
    """The first bytes of every ciphertext sealed under key ``key_id`` (its version byte and key id)."""
    return _V2 + key_id.to_bytes(_KEY_ID_BYTES, "big")


class PiiVault:
    """Encrypts, decrypts and blind-indexes personal identifiers.

    Example:
        >>> vault = PiiVault(PiiKeys(os.urandom(32), os.urandom(32)))
        >>> vault.decrypt(vault.encrypt("张三")) == "张三"
        True

    Args:
        keys: The current keys and the keyring.
        reload: Reads the keys again; called when a ciphertext names a key id this vault does not know
            (another process rotated the key while this one was running).
        watch: The key file: looked at (a ``stat``) at most once a second, and the index keys read again when
            it changed, so that a serving process follows a blind-index rotation started by another.
    """

    def __init__(self, keys: PiiKeys, *, reload: Callable[[], PiiKeys] | None = None,
                 watch: Path | None = None) -> None:
        self._keys = keys
        self._aead = AESGCM(keys.encryption)
        self._prefix = ciphertext_prefix(keys.key_id)
        self._aeads = {key_id: AESGCM(key) for key_id, key in keys.keyring.items()}
        self._aeads[keys.key_id] = self._aead
        self._by_head = {ciphertext_prefix(key_id): aead for key_id, aead in self._aeads.items()}
        self._index_key = keys.index
        self._reload = reload
        self._watch, self._watched, self._checked = watch, _mtime(watch), time.monotonic()
        self._set_index_keys(keys)

    def _set_index_keys(self, keys: PiiKeys) -> None:
        self._index_key = keys.index
        self._index_keys = (keys.index,) if keys.retiring_index is None else (keys.index, keys.retiring_index)

    def _follow_rotation(self) -> None:
        """Read the index keys again when the key file changed (at most one ``stat`` a second)."""
        if self._watch is None or self._reload is None or time.monotonic() - self._checked < 1.0:
            return
        self._checked = time.monotonic()
        seen = _mtime(self._watch)
        if seen != self._watched:
            self._watched = seen
            self._set_index_keys(self._reload())

    @property
    def index_rotating(self) -> bool:
        """Whether a blind-index key rotation is under way (rows may carry the current or the retiring key)."""
        self._follow_rotation()
        return len(self._index_keys) > 1

    def index_candidates(self, value: str, *, domain: str) -> tuple[bytes, ...]:
        """Every blind index a stored row of ``value`` may carry: under the current index key and, during a
        rotation, the retiring one (current first). Lookups try each, so they work throughout a rotation."""
        self._follow_rotation()
        return tuple(_blind_indexes(key, [value], domain)[0] for key in self._index_keys)

    @property
    def key_id(self) -> int:
        """The id of the key new ciphertexts are sealed under."""
        return self._keys.key_id

    def blind_index(self, value: str, *, domain: str) -> bytes:
        """A keyed, deterministic 16-byte token of ``value`` within ``domain`` (e.g. the id type)."""
        return self.blind_indexes([value], domain=domain)[0]

    def blind_indexes(self, values: Iterable[str], *, domain: str) -> list[bytes]:
        """Blind indexes of many values at once, under the current index key."""
        self._follow_rotation()
        return _blind_indexes(self._index_key, values, domain)

    def retiring_indexes(self, values: Iterable[str], *, domain: str) -> list[bytes] | None:
        """Blind indexes under the retiring index key during a rotation; None when none is under way."""
        return _blind_indexes(self._index_keys[1], values, domain) if self.index_rotating else None

    def encrypt(self, value: str) -> bytes:
        """Encrypt one value under the current key; every call uses a fresh random nonce."""
        nonce = os.urandom(_NONCE)
        return self._prefix + nonce + self._aead.encrypt(nonce, value.encode(), None)

    def encrypt_many(self, values: Sequence[str]) -> list[bytes]:
        """Encrypt many values, drawing all nonces from one call to the OS random source."""
        nonces = os.urandom(_NONCE * len(values))
        seal = self._aead.encrypt
        prefix = self._prefix
        out = []
        for i, value in enumerate(values):
            nonce = nonces[i * _NONCE : (i + 1) * _NONCE]
            out.append(prefix + nonce + seal(nonce, value.encode(), None))
        return out

    def decrypt(self, token: bytes) -> str:
        """Decrypt a value sealed by :meth:`encrypt` under any key of the keyring; raises if it was altered."""
        aead = self._by_head.get(token[:_HEAD])  # on the inquiry path: one slice and one dict look-up
        if aead is None:
            return self._decrypt_other(token)
        return aead.decrypt(token[_HEAD : _HEAD + _NONCE], token[_HEAD + _NONCE :], None).decode()

    def decrypt_many_bytes(self, tokens: Sequence[bytes]) -> list[bytes]:
        """Decrypt many values sealed by :meth:`encrypt` to their UTF-8 bytes (the caller decodes, e.g. as a
        Polars column): the bulk path of batch jobs reading a million descriptions, one call per value."""
        by_head, head, nonce_end = self._by_head, _HEAD, _HEAD + _NONCE
        out = []
        append = out.append
        for token in tokens:
            aead = by_head.get(token[:head])
            if aead is None:
                append(self._decrypt_other(bytes(token)).encode())
            else:
                append(aead.decrypt(token[head:nonce_end], token[nonce_end:], None))
        return out

    def _decrypt_other(self, token: bytes) -> str:
        """Version 1 ciphertexts, and keys this vault has not loaded yet."""
        version = token[:1]
        if version == _V2:
            key_id = int.from_bytes(token[1:_HEAD], "big")
            aead, start = self._aeads.get(key_id) or self._aead_after_reload(key_id), _HEAD
        elif version == _V1:
            aead, start = self._aeads.get(ORIGINAL_KEY_ID) or self._aead_after_reload(ORIGINAL_KEY_ID), 1
        else:
            raise ValueError("unknown ciphertext version")
        return aead.decrypt(token[start : start + _NONCE], token[start + _NONCE :], None).decode()

    def _aead_after_reload(self, key_id: int) -> AESGCM:
        if self._reload is not None:
            keys = self._reload()
            for known, key in (*keys.keyring.items(), (keys.key_id, keys.encryption)):
                if known not in self._aeads:
                    self._aeads[known] = AESGCM(key)
                    self._by_head[ciphertext_prefix(known)] = self._aeads[known]
        if key_id not in self._aeads:
            raise ValueError(f"no encryption key with id {key_id} in the keyring")
        return self._aeads[key_id]

    def encrypt_json(self, value: dict) -> bytes:
        """Encrypt a small JSON object (an identity variant)."""
        return self.encrypt(json.dumps(value, ensure_ascii=False, separators=(",", ":")))

    def decrypt_json(self, token: bytes) -> dict:
        """Decrypt a JSON object sealed by :meth:`encrypt_json`."""
        return json.loads(self.decrypt(token))


def _mtime(path: Path | None) -> int | None:
    try:
        return None if path is None else path.stat().st_mtime_ns
    except FileNotFoundError:
        return None


def _blind_indexes(key: bytes, values: Iterable[str], domain: str) -> list[bytes]:
    mac = hashlib.blake2b(key=key, digest_size=INDEX_BYTES, person=b"openbureau-bi-v1")
    mac.update(f"{domain}\x1f".encode())
    out = []
    for value in values:
        one = mac.copy()
        one.update(value.encode())
        out.append(one.digest())
    return out


def load_keys(settings: Settings) -> PiiKeys:
    """The current keys and the keyring, from settings and the key file (made on first use).

    Key id 1 is the original encryption key (``OPENBUREAU_PII_KEY`` or the key file's ``pii_key``); keys
    added by :func:`rotate_encryption_key` live in the key file under ``pii_keys`` and the file's
    ``pii_key_current`` names the current one.
    """
    if settings.pii_key is not None and settings.index_key is not None:
        stored = read_key_file(settings.data_dir)
    else:
        stored = ensure_entries(settings.data_dir, ("pii_key", "index_key"))
    pii = settings.pii_key.get_secret_value() if settings.pii_key else stored["pii_key"]
    index = settings.index_key.get_secret_value() if settings.index_key else stored["index_key"]
    keyring = {ORIGINAL_KEY_ID: base64.b64decode(pii)}
    keyring.update({int(key_id): base64.b64decode(key) for key_id, key in stored.get("pii_keys", {}).items()})
    current = int(stored.get("pii_key_current", ORIGINAL_KEY_ID))
    # Index keys added by rotate_index_key live under ``index_keys``; id 1 is the original one.
    index_ring = {ORIGINAL_KEY_ID: base64.b64decode(index)}
    index_ring.update({int(k): base64.b64decode(v) for k, v in stored.get("index_keys", {}).items()})
    index_current = int(stored.get("index_key_current", ORIGINAL_KEY_ID))
    retiring = stored.get("index_key_retiring")
    return PiiKeys(keyring[current], index_ring[index_current], current, keyring,
                   retiring_index=None if retiring is None else index_ring[int(retiring)])


def load_signin_key(settings: Settings) -> bytes:
    """The key of the sign-in codes' and documents' keyed hashes (``people``): ``OPENBUREAU_SIGNIN_KEY``, else
    ``signin_key`` in the key file, made on first use. Apart from the blind-index key, so that an index
    rotation never voids a sign-in or a lock-out."""
    if settings.signin_key is not None:
        return base64.b64decode(settings.signin_key.get_secret_value())
    return base64.b64decode(ensure_entries(settings.data_dir, ("signin_key",))["signin_key"])


def encryption_key(settings: Settings, key_id: int) -> bytes:
    """The encryption key with id ``key_id``, current or retired (to open what was sealed before a rotation)."""
    try:
        return load_keys(settings).encryption_key(key_id)
    except KeyError:
        raise ValueError(f"no encryption key with id {key_id} in the keyring") from None


def rotate_encryption_key(settings: Settings) -> int:
    """Add a fresh encryption key to the key file's keyring and make it current; its id.

    The earlier keys stay in the keyring, so everything sealed under them keeps decrypting.
    """
    load_keys(settings)  # the original key exists before the first rotation
    new_id = 0

    def add(keys: dict) -> bool:
        nonlocal new_id
        ring = keys.setdefault("pii_keys", {})
        new_id = max([ORIGINAL_KEY_ID, *(int(k) for k in ring)]) + 1
        if new_id > MAX_KEY_ID:
            raise ValueError(f"the keyring is full ({MAX_KEY_ID} keys)")
        ring[str(new_id)] = base64.b64encode(os.urandom(32)).decode()
        keys["pii_key_current"] = new_id
        return True

    update_key_file(settings.data_dir, add)
    return new_id


def rotate_index_key(settings: Settings) -> int:
    """Start a blind-index key rotation: a fresh index key becomes current and the current one retiring; its
    id. Lookups try both until :func:`finish_index_rotation` (after every row was re-indexed)."""
    load_keys(settings)
    new_id = 0

    def add(keys: dict) -> bool:
        nonlocal new_id
        if keys.get("index_key_retiring") is not None:
            raise ValueError("a blind-index rotation is under way: finish it first")
        ring = keys.setdefault("index_keys", {})
        new_id = max([ORIGINAL_KEY_ID, *(int(k) for k in ring)]) + 1
        ring[str(new_id)] = base64.b64encode(os.urandom(32)).decode()
        keys["index_key_retiring"] = int(keys.get("index_key_current", ORIGINAL_KEY_ID))
        keys["index_key_current"] = new_id
        return True

    update_key_file(settings.data_dir, add)
    return new_id


def finish_index_rotation(settings: Settings) -> None:
    """End a blind-index rotation: the retiring key is no longer used for lookups (nor kept)."""

    def drop(keys: dict) -> bool:
        retiring = keys.pop("index_key_retiring", None)
        if retiring is not None and int(retiring) != ORIGINAL_KEY_ID:
            keys.get("index_keys", {}).pop(str(retiring), None)
        return retiring is not None

    update_key_file(settings.data_dir, drop)


def mask(value: str | None, *, keep_start: int = 3, keep_end: int = 2) -> str | None:
    """Mask the middle of a personal value for display: ``110***********12``."""
    if value is None:
        return None
    if len(value) <= keep_start + keep_end:
        return "*" * len(value)
    return value[:keep_start] + "*" * (len(value) - keep_start - keep_end) + value[-keep_end:]
