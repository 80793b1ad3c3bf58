"""Per-member rate limits: a token bucket per API key, refilled continuously; over the limit is a 429.

Buckets live in the serving process (one uvicorn worker serves the embedded default); with several
workers each enforces the limit on its share.
"""

from __future__ import annotations

import math
import threading
import time

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send


class TokenBuckets:
    """``per_minute`` calls per key per minute, with bursts up to the same number."""

    def __init__(self, per_minute: int, clock=time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Take one token; returns 0 when allowed, else the seconds until one is free."""
        with self._lock:
            now = self.clock()
            tokens, last = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self.rate


def _key_of(headers: Headers) -> str | None:
    key = headers.get("x-api-key")
    auth = headers.get("authorization", "")
    if key is None and auth.lower().startswith("bearer "):
        key = auth[7:].strip()
    parts = (key or "").split("_", 2)
    return parts[1] if len(parts) == 3 else None  # the key's public prefix names the member's key


class RateLimitMiddleware:
    """Refuse calls over a member's limit with 429 and Retry-After.

    Plain ASGI rather than Starlette's ``BaseHTTPMiddleware``, which runs every request through an extra
    task and a pair of memory streams: that cost as much as a whole cheap endpoint.
    """

    def __init__(self, app: ASGIApp, buckets: TokenBuckets) -> None:
        self.app = app
        self.buckets = buckets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            prefix = _key_of(Headers(scope=scope))
            wait = self.buckets.take(prefix) if prefix is not None else 0.0
            if wait > 0:
                response = JSONResponse(
                    status_code=429, headers={"Retry-After": str(math.ceil(wait))},
                    content={"code": "RATE_LIMITED", "field": None,
                             "message": f"over {int(self.buckets.capacity)} calls a minute; retry in "
                                        f"{math.ceil(wait)} s"})
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
