"""Signatures of webhook deliveries: HMAC-SHA256 over ``timestamp.body``, as the best providers sign.

The header ``OpenBureau-Signature: t=1733234567,v1=5257a8...`` carries the Unix time of the attempt and one
``v1`` signature per secret in force (two during a rotation's grace period). A receiver recomputes
``HMAC-SHA256(secret, f"{t}.{body}")`` over the raw body, compares it in constant time with each ``v1``,
and refuses a timestamp older than a few minutes (a replayed request). docs/monitoring.md shows it.

Example:
    >>> header = signature_header([b"whsec_test"], timestamp=1700000000, body=b'{"a":1}')
    >>> verify(header, b'{"a":1}', b"whsec_test", now=1700000100)
    True
    >>> verify(header, b'{"a":2}', b"whsec_test", now=1700000100)
    False
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence

HEADER = "OpenBureau-Signature"
DELIVERY_HEADER = "OpenBureau-Delivery-Id"
EVENT_HEADER = "OpenBureau-Event"
TOLERANCE = 300  # seconds a receiver should accept a signature's timestamp for


def new_secret() -> str:
    """A fresh signing secret: ``whsec_`` and 32 random bytes, URL-safe base64."""
    return "whsec_" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def sign(secret: bytes, *, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``timestamp.body`` under ``secret``."""
    return hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def signature_header(secrets_in_force: Sequence[bytes], *, timestamp: int, body: bytes) -> str:
    """``t=<timestamp>,v1=<sig>[,v1=<sig>]``: one signature per secret in force, the newest first."""
    return ",".join([f"t={timestamp}", *(f"v1={sign(s, timestamp=timestamp, body=body)}" for s in secrets_in_force)])


def verify(header: str, body: bytes, secret: bytes, *, now: int, tolerance: int = TOLERANCE) -> bool:
    """Whether ``header`` signs ``body`` with ``secret`` at a time within ``tolerance`` seconds of ``now``."""
    parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
    stamps = [v for k, v in parts if k == "t"]
    if len(stamps) != 1 or not stamps[0].isdigit() or abs(now - int(stamps[0])) > tolerance:
        return False
    expected = sign(secret, timestamp=int(stamps[0]), body=body)
    return any(hmac.compare_digest(expected, v) for k, v in parts if k == "v1")
