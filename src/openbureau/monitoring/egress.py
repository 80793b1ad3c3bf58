"""Where a webhook delivery may connect: a public address, checked when each connection is made.

An endpoint's URL is checked when it is registered (:func:`openbureau.monitoring.webhooks.check_url`), but a
host name is only a name: its owner can make it resolve to a private address later (``10.0.0.5``, the cloud's
metadata service at ``169.254.169.254``, the bureau's own database on ``127.0.0.1``), or answer a public address
to the check and a private one to the connection (DNS rebinding). So the worker's HTTP client resolves each host
itself when it opens a connection, refuses it if *any* address the name has is not public, and connects to the
address it checked (the TLS handshake still names and verifies the host). The one exception is an endpoint
registered on the loopback address itself (``localhost``, ``127.0.0.1``, ``::1``: accepted only where the
bureau allows it, for tests and development), which may reach the loopback address and nothing else.

The worker records a refused connection as a failed attempt naming the cause, and retries it like any other.

The same backend bounds an attempt as a whole: httpx's timeout bounds each network step (connect, each write,
each read), so a receiver that drips its answer a byte at a time, each within the timeout, could hold a
delivery slot for ever. Within :func:`deadline` every step's timeout is cut to what is left of the attempt's
total, and a step that would start after it fails as a timeout.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
import typing
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpcore
import httpx

REFUSED = "refused: the endpoint's host"  # how a refused connection's error starts (the delivery log shows it)
OVERDUE = "no complete answer within the attempt's deadline"  # how an attempt past its deadline's error starts
LOOPBACK_NAMES = frozenset({"localhost"})

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def is_public(address: Address) -> bool:
    """Whether a delivery may go to ``address``: not private, loopback, link-local, reserved, multicast or
    unspecified (an IPv4 address mapped into IPv6 is judged as itself)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not (address.is_private or address.is_loopback or address.is_link_local or address.is_reserved
                or address.is_multicast or address.is_unspecified)


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` names the loopback address itself (a name or a literal), not a name that may resolve to it."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host.lower() in LOOPBACK_NAMES


_attempt = threading.local()  # the deadline of the attempt this thread is making (httpcore's I/O runs in it)


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Bound every network step this thread makes inside the block by ``seconds`` in all."""
    _attempt.at = time.monotonic() + seconds
    try:
        yield
    finally:
        _attempt.at = None


def _capped(timeout: float | None) -> float | None:
    """``timeout`` cut to what is left of this thread's attempt (unchanged outside :func:`deadline`)."""
    at = getattr(_attempt, "at", None)
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise httpcore.ReadTimeout(OVERDUE)
    return left if timeout is None else min(timeout, left)


class _Bounded(httpcore.NetworkStream):
    """A connection whose every step is bounded by the attempt's deadline as well as by its own timeout."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self.stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            return self.stream.read(max_bytes, timeout=_capped(timeout))
        except httpcore.ReadTimeout:
            _overdue()
            raise

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.stream.write(buffer, timeout=_capped(timeout))

    def close(self) -> None:
        self.stream.close()

    def start_tls(self, ssl_context, server_hostname: str | None = None, timeout: float | None = None
                  ) -> httpcore.NetworkStream:
        return _Bounded(self.stream.start_tls(ssl_context, server_hostname=server_hostname, timeout=_capped(timeout)))

    def get_extra_info(self, info: str) -> typing.Any:
        return self.stream.get_extra_info(info)


def _overdue() -> None:
    """Name the deadline when a read timed out because the attempt's total ran out (not the step's own)."""
    at = getattr(_attempt, "at", None)
    if at is not None and time.monotonic() >= at - 0.01:
        raise httpcore.ReadTimeout(OVERDUE) from None


class Refused(httpcore.ConnectError):
    """A connection to a host whose addresses are not all public."""


class PublicOnly(httpcore.SyncBackend):
    """httpcore's network backend, connecting only to the checked address of a host, each step within the
    attempt's :func:`deadline` (see the module)."""

    def __init__(self, resolve: Callable[..., list] = socket.getaddrinfo) -> None:
        self.resolve = resolve

    def address_of(self, host: str, port: int) -> str:
        """The address to connect to for ``host``: its first, when every address it resolves to may be reached."""
        try:
            found = self.resolve(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise httpcore.ConnectError(f"the endpoint's host {host} could not be resolved ({exc})") from None
        addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0].split("%")[0]) for info in found))
        if not addresses:
            raise httpcore.ConnectError(f"the endpoint's host {host} has no address")
        allowed = (lambda a: a.is_loopback) if is_loopback_host(host) else is_public
        refused = [a for a in addresses if not allowed(a)]
        if refused:
            raise Refused(f"{REFUSED} {host} resolves to {refused[0]}, which is not a public address")
        return str(addresses[0])

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: typing.Iterable | None = None) -> httpcore.NetworkStream:
        return _Bounded(super().connect_tcp(self.address_of(host, port), port, timeout=_capped(timeout),
                                            local_address=local_address, socket_options=socket_options))


def transport(*, limits: httpx.Limits, backend: PublicOnly | None = None) -> httpx.HTTPTransport:
    """An httpx transport whose connections go through :class:`PublicOnly` (TLS verified as usual)."""
    guarded = httpx.HTTPTransport(limits=limits)
    # httpx builds its connection pool without a way to name the network backend: build the same pool with ours.
    guarded._pool = httpcore.ConnectionPool(  # noqa: SLF001
        ssl_context=httpx.create_ssl_context(), max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections, keepalive_expiry=limits.keepalive_expiry,
        network_backend=backend or PublicOnly())
    return guarded
