"""Waking webhook workers of other processes through Redis (``OPENBUREAU_REDIS_URL``).

A process that commits triggers publishes a wake on the channel ``<prefix>webhooks:wake``; every
``openbureau webhooks run`` process of the bureau subscribes to it and looks for due deliveries at once. A wake
carries nothing: the deliveries are rows written with their triggers, and the database's delivery log stays the
record of truth, so a wake lost (Redis down or restarting, a worker starting or killed) costs only the wait
until a worker's next look (``--poll``), and a wake twice costs one empty look. Nothing is lost or duplicated
across a restart of Redis or of a worker: a worker's first look, when it starts, takes whatever is due.

Why no job queue library (rq, dramatiq, huey, arq, saq) here: they keep the jobs themselves (their payload,
retries, acknowledgements and dead letters), where the deliveries, their order per registration, their
leases, backoff and dead-letter list are already rows written in the transaction of their cause. A job per
delivery would be a second record to keep in step with the first (a job enqueued for a transaction rolled
back, or lost for one committed), and their workers run jobs one by one in their own loop, where ours keeps a
pool of posts in flight with at most a few per endpoint. What the database lacks is only a prompt signal to
other processes, which Redis publish/subscribe gives with the client the bureau has already (``redis``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from openbureau.monitoring import wakeup

log = logging.getLogger(__name__)
RETRY_AFTER = 5.0  # seconds a sender waits after Redis failed before trying again
_senders: dict[tuple[str, str], RedisWake] = {}
_lock = threading.Lock()


def channel(prefix: str) -> str:
    """The bureau's wake channel."""
    return f"{prefix}webhooks:wake"


class RedisWake:
    """Publishes wakes on the bureau's channel; never raises (a wake is only a hint)."""

    def __init__(self, url: str, prefix: str, *, timeout: float = 0.5) -> None:
        import redis

        self.channel = channel(prefix)
        self.client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        self._down_until = 0.0
        self.stop: Callable[[], None] = lambda: None

    def send(self) -> None:
        """Publish one wake (skipped for a few seconds after Redis failed)."""
        from redis.exceptions import RedisError

        now = time.monotonic()
        if now < self._down_until:
            return
        try:
            self.client.publish(self.channel, b"1")
        except (RedisError, OSError) as exc:
            if not self._down_until:
                log.warning("webhooks: Redis unreachable (%s); workers of other processes find new deliveries "
                            "at their next look", type(exc).__name__)
            self._down_until = now + RETRY_AFTER
            return
        self._down_until = 0.0


def send_through(url: str, prefix: str) -> Callable[[], None]:
    """Wake the workers of other processes through Redis whenever this process commits triggers (once per URL
    and prefix, however often it is asked); the function that stops it."""
    with _lock:
        sender = _senders.get((url, prefix))
        if sender is None:
            sender = _senders[(url, prefix)] = RedisWake(url, prefix)
            sender.stop = wakeup.send_with(sender.send)

    def stop() -> None:
        with _lock:
            if _senders.pop((url, prefix), None) is not None:
                sender.stop()
    return stop


def listen(url: str, prefix: str, woken: threading.Event, stop: threading.Event, *,
           subscribed: threading.Event | None = None) -> threading.Thread:
    """Set ``woken`` on every wake published for the bureau, in a daemon thread, until ``stop`` is set;
    reconnects when Redis goes away (``subscribed`` is set once listening)."""
    import redis
    from redis.exceptions import RedisError

    def run() -> None:
        warned = False
        while not stop.is_set():
            try:
                client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2,
                                              health_check_interval=30)
                with client.pubsub(ignore_subscribe_messages=True) as pubsub:
                    pubsub.subscribe(channel(prefix))
                    if subscribed is not None:
                        subscribed.set()
                    woken.set()  # wakes sent while not listening were lost: look once
                    warned = False
                    while not stop.is_set():
                        if pubsub.get_message(timeout=0.5) is not None:
                            woken.set()
            except (RedisError, OSError) as exc:
                if not warned:
                    log.warning("webhooks: Redis unreachable (%s); looking every poll until it answers",
                                type(exc).__name__)
                    warned = True
                stop.wait(RETRY_AFTER)

    thread = threading.Thread(target=run, name="webhooks-wake", daemon=True)
    thread.start()
    return thread
