"""Files at rest: streamed, segmented AES-256-GCM with a seekable decrypting reader.

The layout follows the STREAM construction of Hoang, Reyhanitabar, Rogaway and Vizár ("Online
Authenticated-Encryption and its Nonce-Reuse Misuse-Resistance", CRYPTO 2015), as Tink's
AES-GCM-HKDF streaming AEAD does:

    header   = MAGIC (6) | version (1) | key id length (1) | key id (ASCII) | salt (16) | prefix (7)
               | segment size (4, big-endian)
    segments = AES-256-GCM(file key, nonce, segment plaintext, aad) for each segment, tag appended

- the file key is HKDF-SHA256 of the bureau's key with the file's random salt, so no two files share a
  key and nonces cannot collide across files;
- the nonce of segment ``i`` is ``prefix | i (4, big-endian) | last (1)``, and the associated data is
  the header, ``i`` and the last-segment flag: a segment moved, dropped, or a file cut at a segment
  boundary fails authentication;
- every segment but the last holds exactly ``segment size`` plaintext bytes, so a reader maps any
  plaintext offset to its segment and decrypts only that one (Parquet readers seek to the footer).

The key id in the header names the key that sealed the file, so keys can be rotated: a reader is given
the keys it may need by id.

Example:
    >>> import io, os
    >>> key = os.urandom(32)
    >>> sink = io.BytesIO()
    >>> with SealingWriter(sink, key=key, key_id="k1", segment_size=16) as w:
    ...     _ = w.write(b"hello, sealed world")
    >>> SealedReader(io.BytesIO(sink.getvalue()), keys={"k1": key}).read()
    b'hello, sealed world'
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"OBSEAL"
VERSION = 1
SEGMENT_SIZE = 1 << 20
_TAG = 16
_SALT = 16
_PREFIX = 7
_MAX_KEY_ID = 64
_INFO = b"openbureau sealed file v1"


class SealedFileError(ValueError):
    """A sealed file is not one, was sealed under an unknown key, or was altered."""


def key_id_of(key: bytes) -> str:
    """A public identifier of a key (16 hex digits of a domain-separated SHA-256), for headers."""
    return hashlib.sha256(b"openbureau-key-id\x00" + key).hexdigest()[:16]


def _file_aead(key: bytes, salt: bytes) -> AESGCM:
    if len(key) != 32:
        raise SealedFileError("the key must be 32 bytes (AES-256)")
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=_INFO).derive(key)
    return AESGCM(derived)


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    return prefix + struct.pack(">IB", index, 1 if last else 0)


def _aad(header: bytes, index: int, last: bool) -> bytes:
    return header + struct.pack(">IB", index, 1 if last else 0)


class SealingWriter(io.RawIOBase):
    """Encrypts what is written to it into ``sink``, one segment at a time (memory: one segment).

    ``plaintext_sha256`` and ``plaintext_size`` describe what was written, once closed.
    """

    def __init__(self, sink: BinaryIO, *, key: bytes, key_id: str, segment_size: int = SEGMENT_SIZE) -> None:
        super().__init__()
        encoded = key_id.encode("ascii")
        if not 0 < len(encoded) <= _MAX_KEY_ID:
            raise SealedFileError("a key id is 1 to 64 ASCII characters")
        if segment_size < 1:
            raise SealedFileError("the segment size must be positive")
        self._sink = sink
        self._segment_size = segment_size
        salt, self._prefix = os.urandom(_SALT), os.urandom(_PREFIX)
        self._header = (MAGIC + bytes([VERSION, len(encoded)]) + encoded + salt + self._prefix
                        + struct.pack(">I", segment_size))
        self._aead = _file_aead(key, salt)
        self._buffer = bytearray()
        self._index = 0
        self._digest = hashlib.sha256()
        self.plaintext_size = 0
        self.plaintext_sha256 = ""
        sink.write(self._header)

    def writable(self) -> bool:
        """Always: this is a writer."""
        return True

    def write(self, data) -> int:  # type: ignore[override]
        """Buffer ``data`` and seal every segment known not to be the last."""
        view = memoryview(data).cast("B")
        self._digest.update(view)
        self.plaintext_size += len(view)
        self._buffer += view
        # A full segment is sealed only once more data follows it: the last one carries the flag.
        while len(self._buffer) > self._segment_size:
            self._seal(bytes(self._buffer[: self._segment_size]), last=False)
            del self._buffer[: self._segment_size]
        return len(view)

    def _seal(self, plain: bytes, *, last: bool) -> None:
        nonce = _nonce(self._prefix, self._index, last)
        self._sink.write(self._aead.encrypt(nonce, plain, _aad(self._header, self._index, last)))
        self._index += 1

    def abort(self) -> None:
        """Close without sealing the last segment: the file is being thrown away."""
        self._buffer.clear()
        super().close()

    def close(self) -> None:
        """Seal the last segment (possibly empty); the sink stays open for its owner."""
        if not self.closed:
            self._seal(bytes(self._buffer), last=True)
            self._buffer.clear()
            self.plaintext_sha256 = self._digest.hexdigest()
            self._sink.flush()
        super().close()


class SealedReader(io.RawIOBase):
    """A seekable, read-only file object over a sealed file's plaintext; decrypts one segment at a time.

    Every byte returned has been authenticated; an altered, reordered or cut file raises
    :class:`SealedFileError` when the damaged segment is read.
    """

    def __init__(self, source: BinaryIO, *, keys: Mapping[str, bytes]) -> None:
        super().__init__()
        self._source = source
        fixed = source.read(len(MAGIC) + 2)
        if len(fixed) < len(MAGIC) + 2 or fixed[: len(MAGIC)] != MAGIC:
            raise SealedFileError("not a sealed file")
        if fixed[len(MAGIC)] != VERSION:
            raise SealedFileError(f"unknown sealed file version {fixed[len(MAGIC)]}")
        rest = source.read(fixed[-1] + _SALT + _PREFIX + 4)
        if len(rest) != fixed[-1] + _SALT + _PREFIX + 4:
            raise SealedFileError("the sealed file's header is cut short")
        self.key_id = rest[: fixed[-1]].decode("ascii", errors="replace")
        if self.key_id not in keys:
            raise SealedFileError(f"the file was sealed under key {self.key_id!r}, which is not available")
        salt = rest[fixed[-1] : fixed[-1] + _SALT]
        self._prefix = rest[fixed[-1] + _SALT : fixed[-1] + _SALT + _PREFIX]
        (self._segment_size,) = struct.unpack(">I", rest[-4:])
        if self._segment_size < 1:
            raise SealedFileError("the sealed file's segment size is invalid")
        self._header = fixed + rest
        self._aead = _file_aead(keys[self.key_id], salt)
        body = source.seek(0, io.SEEK_END) - len(self._header)
        stride = self._segment_size + _TAG
        self._segments = max(-(-body // stride), 1)
        if body - (self._segments - 1) * stride < _TAG:
            raise SealedFileError("the sealed file is cut short")
        self.size = body - self._segments * _TAG
        self._pos = 0
        self._cached: tuple[int, bytes] | None = None

    def readable(self) -> bool:
        """Always: this is a reader."""
        return True

    def seekable(self) -> bool:
        """Always: any plaintext offset maps to one segment."""
        return True

    def tell(self) -> int:
        """The plaintext position."""
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Move within the plaintext."""
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        if base + offset < 0:
            raise OSError("negative seek position")
        self._pos = base + offset
        return self._pos

    def _segment(self, index: int) -> bytes:
        if self._cached is not None and self._cached[0] == index:
            return self._cached[1]
        stride = self._segment_size + _TAG
        self._source.seek(len(self._header) + index * stride)
        sealed = self._source.read(stride)
        last = index == self._segments - 1
        try:
            plain = self._aead.decrypt(_nonce(self._prefix, index, last), sealed,
                                       _aad(self._header, index, last))
        except InvalidTag as exc:
            raise SealedFileError(f"segment {index} of the sealed file fails authentication") from exc
        self._cached = (index, plain)
        return plain

    def readinto(self, buffer) -> int:  # type: ignore[override]
        """Fill ``buffer`` from the current position; 0 at the end."""
        out = memoryview(buffer).cast("B")
        done = 0
        while done < len(out) and self._pos < self.size:
            index, start = divmod(self._pos, self._segment_size)
            plain = self._segment(index)
            piece = plain[start : start + len(out) - done]
            out[done : done + len(piece)] = piece
            done += len(piece)
            self._pos += len(piece)
        return done

    def close(self) -> None:
        """Close this reader and its source."""
        if not self.closed:
            self._source.close()
            self._cached = None
        super().close()


def open_sealed(path: Path, *, keys: Mapping[str, bytes], buffer_size: int = SEGMENT_SIZE) -> io.BufferedReader:
    """A buffered, seekable plaintext view of the sealed file at ``path``."""
    source = path.open("rb")
    try:
        return io.BufferedReader(SealedReader(source, keys=keys), buffer_size=buffer_size)
    except BaseException:
        source.close()
        raise


def create_private(path: Path) -> BinaryIO:
    """A new file only its owner may read or write (0600), opened for binary writing; never an existing one."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    return os.fdopen(fd, "wb")
