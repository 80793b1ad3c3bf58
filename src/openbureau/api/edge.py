"""The API edge: authentication before any body is read, rate limits, body size and time limits, and the
security headers of every response.

One plain ASGI middleware (Starlette's ``BaseHTTPMiddleware`` runs every request through an extra task and a
pair of memory streams, which cost as much as a whole cheap endpoint). FastAPI reads and parses a request's
body before it resolves any dependency, so a dependency cannot refuse an outsider before the body is read:
here the key is checked first (looked up at most once per request, and not at all when this process
authenticated it in the last seconds: ``members.service.RecentKeys``), the member put in the request's scope
for ``api.deps.get_member``, and the body handed on through a ``receive`` that counts bytes and time.
"""

from __future__ import annotations

import asyncio
import ipaddress
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from fastapi import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openbureau.api.ratelimit import Buckets
from openbureau.kit.errors import Unauthenticated
from openbureau.members.models import Member
from openbureau.members.service import RecentKeys
from openbureau.principals import Principal

MEMBER_SCOPE_KEY = "openbureau.member"  # where the authenticated member travels to the endpoint
PERSON_SCOPE_KEY = "openbureau.person"  # where a signed-in person's principal travels to the endpoint

# OWASP Secure Headers: JSON is never rendered, framed or sniffed; the report's HTML page has only its own
# inline style sheet; the portal's pages and the API docs load scripts and styles from the bureau itself only
# (no inline script anywhere).
JSON_POLICY = "default-src 'none'; frame-ancestors 'none'"
HTML_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; "
               "base-uri 'none'; form-action 'none'")
PAGE_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
               "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
# A response header by which a page says it is a self-contained document (the rendered report, with its inline
# style sheet): the edge answers it with HTML_POLICY and drops the header.
SELF_CONTAINED = "x-openbureau-self-contained"
BASE_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]
NO_STORE = (b"cache-control", b"no-store")


class BodyRejected(HTTPException):
    """A request body over its size or time limit: answered and the connection closed, the rest unread."""

    def __init__(self, status_code: int, code: str, message: str) -> None:
        super().__init__(status_code, message, headers={"Connection": "close"})
        self.code = code


@dataclass(frozen=True)
class BodyLimit:
    """How large a body may be and how long it may take to arrive."""

    max_bytes: int
    deadline: float  # seconds for the whole body
    idle: float  # seconds between two chunks


@dataclass
class EdgePolicy:
    """What the edge enforces; built once per app from settings (``api.app``)."""

    authenticate: Callable[[Scope, str | None], Member]
    members: Buckets
    failures: Buckets
    json_body: BodyLimit
    upload_body: BodyLimit
    upload_paths: frozenset[str]
    public_paths: frozenset[str]
    docs_paths: frozenset[str]
    docs_policy: str
    path_bodies: Mapping[str, BodyLimit] = field(default_factory=dict)  # routes with a limit of their own
    # The person's side (/v1/me): a session token instead of an API key; the sign-in routes are open to
    # anyone, rate limited per client address.
    authenticate_person: Callable[[Scope, str | None], Principal] | None = None
    person_prefix: str = "/v1/me/"
    signin_paths: frozenset[str] = frozenset()
    signins: Buckets | None = None
    # Published pages (the transparency report): open to anyone without a key, rate limited per client address.
    published_paths: frozenset[str] = frozenset()
    published: Buckets | None = None
    # API keys authenticated in the last seconds (members.service.RecentKeys): ``authenticate`` asks it first.
    keys: RecentKeys = field(default_factory=lambda: RecentKeys(0))
    # Paths under these prefixes are open to anyone (the docs' scripts and styles).
    public_prefixes: tuple[str, ...] = ()
    # Static assets (scripts, styles) under these prefixes keep the cache-control their route sets; every other
    # answer is ``no-store``.
    cacheable_prefixes: tuple[str, ...] = ()
    # Everything outside ``api_prefix`` is a page of the portal (``openbureau.web``): the page authenticates its
    # own session cookie, so the edge asks for no key; a form is bounded by ``page_body``; HTML answers carry
    # ``PAGE_POLICY``, except those marked ``SELF_CONTAINED`` (the report's own page: ``HTML_POLICY``).
    api_prefix: str = "/v1/"
    page_body: BodyLimit | None = None

    def is_page(self, path: str) -> bool:
        """Whether ``path`` is a portal page rather than an API route."""
        return not path.startswith(self.api_prefix) and path != self.api_prefix.rstrip("/")

    def body_limit(self, path: str) -> BodyLimit:
        """The limit of the route at ``path``: file uploads and batches of events have their own."""
        if path in self.path_bodies:
            return self.path_bodies[path]
        if self.page_body is not None and self.is_page(path):
            return self.page_body
        return self.upload_body if path in self.upload_paths else self.json_body


def client_key(scope: Scope) -> str:
    """The bucket of a client address: IPv4 as is, IPv6 by its /64 (one host usually holds a whole /64)."""
    client = scope.get("client")
    host = client[0] if client else "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _request_headers(scope: Scope) -> tuple[str | None, int | None, bool]:
    """(API key, Content-Length, whether a body follows) from the raw headers, in one pass."""
    key = bearer = None
    length: int | None = None
    chunked = False
    for name, value in scope["headers"]:
        if name == b"x-api-key":
            key = value.decode("latin-1")
        elif name == b"authorization" and value[:7].lower() == b"bearer ":
            bearer = value[7:].decode("latin-1").strip()
        elif name == b"content-length":
            length = int(value) if value.isdigit() else None  # the server refused malformed ones already
        elif name == b"transfer-encoding":
            chunked = True
    return (key if key is not None else bearer), length, chunked or bool(length)


def _refusal(status: int, code: str, message: str, *, close: bool, retry_after: float | None = None) -> JSONResponse:
    headers = {}
    if retry_after is not None:
        headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
    if close:  # the body was not read: closing is cheaper than reading it to reuse the connection
        headers["Connection"] = "close"
    return JSONResponse(status_code=status, headers=headers,
                        content={"code": code, "message": message, "field": None})


class EdgeMiddleware:
    """Authenticate, limit, bound the body, and add the security headers (see the module's docstring)."""

    def __init__(self, app: ASGIApp, policy: EdgePolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = self.policy
        path = scope["path"]
        send = self._secure(send, path)
        key, length, has_body = _request_headers(scope)
        if path in policy.signin_paths:
            refusal = await self._admit_open(scope, has_body, policy.signins, "SIGNIN_RATE_LIMITED", "sign-in")
        elif path in policy.published_paths:
            refusal = await self._admit_open(scope, has_body, policy.published, "RATE_LIMITED", "published page")
        elif path.startswith(policy.person_prefix) and policy.authenticate_person is not None:
            refusal = await self._admit_person(scope, key, has_body)
        elif not (path in policy.public_paths or path.startswith(policy.public_prefixes) or policy.is_page(path)):
            refusal = await self._admit(scope, key, has_body)
        else:
            refusal = None
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        if not has_body:
            await self.app(scope, receive, send)
            return
        limit = policy.body_limit(path)
        if length is not None and length > limit.max_bytes:
            await _refusal(413, "BODY_TOO_LARGE", _too_large(limit), close=True)(scope, receive, send)
            return
        body = BoundedBody(receive, limit)
        started = False

        async def body_aware_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if not body.done:  # answered before the body was read (404, 405, 403): do not drain it
                    message = {**message, "headers": [*message.get("headers", ()), (b"connection", b"close")]}
            await send(message)

        try:
            await self.app(scope, body.receive, body_aware_send)
        except BodyRejected as exc:  # raised where no handler rendered it
            if started:
                raise
            await _refusal(exc.status_code, exc.code, exc.detail, close=True)(scope, receive, send)

    async def _admit(self, scope: Scope, key: str | None, has_body: bool) -> JSONResponse | None:
        """Authenticate and take from the rate limits: None to go on (the member put in the scope), else
        the refusal to send."""
        policy = self.policy
        try:
            member = policy.authenticate(scope, key)
        except Unauthenticated as exc:
            wait = await policy.failures.take(client_key(scope))
            if wait:
                return _refusal(429, "AUTH_RATE_LIMITED", f"over {policy.failures.capacity} failed "
                                f"authentications a minute from this address; retry in {math.ceil(wait)} s",
                                close=has_body, retry_after=wait)
            return _refusal(401, exc.code, exc.message, close=has_body)
        wait = await policy.members.take(str(member.id))
        if wait:
            return _refusal(429, "RATE_LIMITED", f"over {policy.members.capacity} calls a minute; retry in "
                            f"{math.ceil(wait)} s", close=has_body, retry_after=wait)
        scope[MEMBER_SCOPE_KEY] = member
        return None

    async def _admit_open(self, scope: Scope, has_body: bool, buckets: Buckets | None, code: str, what: str
                          ) -> JSONResponse | None:
        """Routes open to anyone (sign-in, published pages): within the rate of their client address."""
        wait = await buckets.take(client_key(scope)) if buckets is not None else 0
        if wait:
            return _refusal(429, code, f"over {buckets.capacity} {what} requests a minute from this address; "
                            f"retry in {math.ceil(wait)} s", close=has_body, retry_after=wait)
        return None

    async def _admit_person(self, scope: Scope, token: str | None, has_body: bool) -> JSONResponse | None:
        """The person's routes: a valid session token (never a member's API key), then the person's rate."""
        policy = self.policy
        try:
            principal = policy.authenticate_person(scope, token)
        except Unauthenticated as exc:
            wait = await policy.failures.take(client_key(scope))
            if wait:
                return _refusal(429, "AUTH_RATE_LIMITED", f"over {policy.failures.capacity} failed "
                                f"authentications a minute from this address; retry in {math.ceil(wait)} s",
                                close=has_body, retry_after=wait)
            return _refusal(401, exc.code, exc.message, close=has_body)
        wait = await policy.members.take(f"person:{principal.person_id}")
        if wait:
            return _refusal(429, "RATE_LIMITED", f"over {policy.members.capacity} calls a minute; retry in "
                            f"{math.ceil(wait)} s", close=has_body, retry_after=wait)
        scope[PERSON_SCOPE_KEY] = principal
        return None

    def _secure(self, send: Send, path: str) -> Send:
        policy = self.policy
        docs = path in policy.docs_paths
        page = policy.is_page(path)
        cacheable = path.startswith(policy.cacheable_prefixes)

        async def secure_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                dropped = (b"content-security-policy", SELF_CONTAINED.encode())
                if not cacheable:
                    dropped += (b"cache-control",)
                given = message.get("headers", ())
                self_contained = any(k.lower() == SELF_CONTAINED.encode() for k, _ in given)
                headers = [(k, v) for k, v in given if k.lower() not in dropped]
                if docs:
                    csp = policy.docs_policy
                else:
                    content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                    if not content_type.startswith(b"text/html"):
                        csp = JSON_POLICY
                    else:
                        csp = PAGE_POLICY if page and not self_contained else HTML_POLICY
                headers += BASE_HEADERS
                if not cacheable:  # reports, findings, consents: nothing personal lingers in a cache
                    headers.append(NO_STORE)
                headers.append((b"content-security-policy", csp.encode()))
                message = {**message, "headers": headers}
            await send(message)

        return secure_send


def _too_large(limit: BodyLimit) -> str:
    return f"the request body is over {limit.max_bytes:,} bytes, the most this route accepts"


class BoundedBody:
    """A request's ``receive`` that refuses a body past its limit (413) or too slow (408), without
    buffering it, and knows whether the body was read to its end."""

    def __init__(self, receive: Receive, limit: BodyLimit) -> None:
        self._receive = receive
        self.limit = limit
        self.loop = asyncio.get_running_loop()
        self.deadline = self.loop.time() + limit.deadline
        self.received = 0
        self.done = False

    async def receive(self) -> Message:
        """The next message from the client, within the limits."""
        if self.done:  # the body is in; what follows (a disconnect) may take as long as the response does
            return await self._receive()
        limit = self.limit
        timeout = min(limit.idle, self.deadline - self.loop.time())
        try:
            if timeout <= 0:
                raise TimeoutError
            async with asyncio.timeout(timeout):
                message = await self._receive()
        except TimeoutError:
            raise BodyRejected(408, "REQUEST_TIMEOUT", "the request body did not arrive in time (at most "
                               f"{limit.deadline:g} s in all, {limit.idle:g} s between chunks)") from None
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > limit.max_bytes:
                raise BodyRejected(413, "BODY_TOO_LARGE", _too_large(limit))
            self.done = not message.get("more_body", False)
        else:
            self.done = True
        return message
