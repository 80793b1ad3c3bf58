"""Rate limits at the API edge: token buckets, refilled continuously, in the serving process or in Redis.

Two limits use them (``api.edge``): calls per authenticated member, and failed authentications per client
address. In-process buckets are the embedded default (each serving process counts alone); with
``OPENBUREAU_REDIS_URL`` every process and machine takes from the same buckets, through one atomic Lua
script per call. When Redis cannot be reached the limit falls back to the process's own buckets (never to no
limit), with a warning in the log, and Redis is tried again a few seconds later.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger(__name__)


class Buckets(Protocol):
    """Token buckets: ``capacity`` calls per minute per key, with bursts up to the same number."""

    capacity: int

    async def take(self, key: str) -> float:
        """Take one token; 0 when allowed, else the seconds until one is free."""

    async def aclose(self) -> None:
        """Release connections."""


class LocalBuckets:
    """Buckets in this process, at most ``max_keys`` of them: a bucket idle long enough to be full again is
    the same as none and is dropped; past ``max_keys`` the least recently used goes first."""

    def __init__(self, per_minute: int, *, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic):
        self.capacity = per_minute
        self.rate = per_minute / 60.0
        self.max_keys = max_keys
        self.clock = clock
        self.refill_seconds = 60.0  # from empty to full: after that an idle bucket holds nothing worth keeping
        # key -> (tokens, last use); ordered by last use, so the idlest are at the front. The event loop is the
        # only caller, so no lock.
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def take_now(self, key: str) -> float:
        """:meth:`take` without the coroutine (the Redis fallback calls it)."""
        now = self.clock()
        buckets = self._buckets
        found = buckets.pop(key, None)
        tokens = self.capacity if found is None else min(self.capacity, found[0] + (now - found[1]) * self.rate)
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / self.rate
        buckets[key] = (tokens, now)
        # Evict from the idle end: amortised one check per call.
        while buckets:
            oldest = next(iter(buckets.values()))
            if len(buckets) <= self.max_keys and now - oldest[1] < self.refill_seconds:
                break
            buckets.popitem(last=False)
        return wait

    async def take(self, key: str) -> float:
        """Take one token; 0 when allowed, else the seconds until one is free."""
        return self.take_now(key)

    async def aclose(self) -> None:
        """Nothing to release."""


# KEYS[1]: the bucket; ARGV: capacity, refill rate per millisecond. Returns the milliseconds to wait (0: taken).
# Redis's own clock, so that machines whose clocks differ still share one bucket; the key expires once the
# bucket would be full again, so idle buckets cost Redis nothing.
TOKEN_BUCKET_LUA = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local state = redis.call('HMGET', KEYS[1], 'n', 't')
local tokens = capacity
if state[1] then
  tokens = math.min(capacity, tonumber(state[1]) + math.max(0, now - tonumber(state[2])) * rate)
end
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = math.ceil((1 - tokens) / rate)
end
redis.call('HSET', KEYS[1], 'n', tostring(tokens), 't', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate))
return wait
"""

RETRY_REDIS_AFTER = 5.0  # seconds on the fallback before Redis is tried again


class RedisBuckets:
    """Buckets shared through Redis by every process given the same URL and prefix; this process's own
    buckets stand in (with a warning) while Redis cannot be reached."""

    def __init__(self, per_minute: int, *, url: str, prefix: str, fallback: LocalBuckets,
                 timeout: float = 0.5) -> None:
        self.capacity = per_minute
        self.rate_per_ms = per_minute / 60_000.0
        self.url = url
        self.prefix = prefix
        self.fallback = fallback
        self.timeout = timeout
        self._client = None
        self._script = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._down_until = 0.0

    def _connect(self):
        # Made on first use, on the loop that uses it (an asyncio client belongs to one loop).
        import redis.asyncio as redis

        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._client = redis.Redis.from_url(self.url, socket_timeout=self.timeout,
                                                socket_connect_timeout=self.timeout)
            self._script = self._client.register_script(TOKEN_BUCKET_LUA)
            self._loop = loop
        return self._script

    async def take(self, key: str) -> float:
        """Take one token from the shared bucket; 0 when allowed, else the seconds until one is free."""
        from redis.exceptions import RedisError

        now = time.monotonic()
        if now < self._down_until:
            return self.fallback.take_now(key)
        try:
            waited = await self._connect()(keys=[self.prefix + key], args=[self.capacity, self.rate_per_ms])
        except (RedisError, OSError, TimeoutError) as exc:
            if not self._down_until:
                log.warning("rate limits: Redis unreachable (%s); each process counts alone until it answers",
                            type(exc).__name__)
            self._down_until = now + RETRY_REDIS_AFTER
            return self.fallback.take_now(key)
        if self._down_until:
            log.warning("rate limits: Redis answers again; limits are shared")
            self._down_until = 0.0
        return int(waited) / 1000.0

    async def aclose(self) -> None:
        """Close the connection pool."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def make_buckets(per_minute: int, *, name: str, redis_url: str | None, prefix: str, max_keys: int) -> Buckets:
    """Buckets named ``name`` (a Redis key segment): shared when ``redis_url`` is given, else in-process."""
    local = LocalBuckets(per_minute, max_keys=max_keys)
    if redis_url is None:
        return local
    return RedisBuckets(per_minute, url=redis_url, prefix=f"{prefix}ratelimit:{name}:", fallback=local)
