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
"""

from __future__ import annotations

import ipaddress
import socket
import typing
from collections.abc import Callable

import httpcore
import httpx

REFUSED = "refused: the endpoint's host"  # how a refused connection's error starts (the delivery log shows it)
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


class Refused(httpcore.ConnectError):
    """A connection to a host whose addresses are not all public."""


class PublicOnly(httpcore.SyncBackend):
    """httpcore's network backend, connecting only to the checked address of a host (see the module)."""

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
        return super().connect_tcp(self.address_of(host, port), port, timeout=timeout, local_address=local_address,
                                   socket_options=socket_options)


def transport(*, limits: httpx.Limits, backend: PublicOnly | None = None) -> httpx.HTTPTransport:
    """An httpx transport whose connections go through :class:`PublicOnly` (TLS verified as usual)."""
    guarded = httpx.HTTPTransport(limits=limits)
    # httpx builds its connection pool without a way to name the network backend: build the same pool with ours.
    guarded._pool = httpcore.ConnectionPool(  # noqa: SLF001
        ssl_context=httpx.create_ssl_context(), max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections, keepalive_expiry=limits.keepalive_expiry,
        network_backend=backend or PublicOnly())
    return guarded
