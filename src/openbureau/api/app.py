"""The FastAPI application: routes under /v1, errors shaped ``{code, message, field}``."""

from __future__ import annotations

import asyncio
import gc
import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from openbureau import __version__
from openbureau.api import (
    accounts,
    authorities,
    batches,
    consents,
    disputes,
    docs,
    enterprises,
    events,
    fraud,
    funding,
    identity,
    inquiries,
    me,
    me_rights,
    members,
    monitoring,
    prescreens,
    quality,
    rights,
    stats,
    submissions,
)
from openbureau.api.deps import authenticate_person_request, authenticate_request
from openbureau.api.edge import BodyLimit, EdgeMiddleware, EdgePolicy
from openbureau.api.event_process import EventProcess
from openbureau.api.latency import InquiryLatency
from openbureau.api.load_process import LoadProcess
from openbureau.api.ratelimit import make_buckets
from openbureau.batches import worker as batch_worker
from openbureau.kit.errors import BureauError
from openbureau.kit.pacing import LatencyBoard
from openbureau.kit.settings import Settings, get_settings
from openbureau.members.service import RecentKeys
from openbureau.monitoring import delivery
from openbureau.runtime import Runtime, open_runtime

log = logging.getLogger(__name__)


# The serving process's garbage collector: what was loaded at start-up (modules, models, the app) is frozen
# out of every later collection, and the youngest generation is collected every 20,000 net allocations
# instead of 700, so that collections are fewer and each is short (requests allocate and free many small
# objects that reference counting reclaims anyway).
GC_THRESHOLDS = (20_000, 20, 20)


def tune_gc() -> None:
    """Freeze what is alive now and raise the collection threshold (see ``GC_THRESHOLDS``)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def webhooks_in_process(runtime: Runtime):
    """On the embedded default (no database URL), the serving process delivers the monitoring webhooks itself
    (OPENBUREAU_WEBHOOKS_IN_PROCESS); with PostgreSQL, ``openbureau webhooks run`` does."""
    if runtime.settings.database_url is not None or not runtime.settings.webhooks_in_process:
        return None
    return delivery.in_background(runtime.engine, vault=runtime.vault,
                                  config=delivery.WorkerSettings.from_settings(runtime.settings))


def batches_in_process(runtime: Runtime):
    """On the embedded default (no database URL), the serving process answers batch inquiries itself
    (OPENBUREAU_BATCHES_IN_PROCESS); with PostgreSQL, ``openbureau inquiries batch run`` does."""
    if runtime.settings.database_url is not None or not runtime.settings.batches_in_process:
        return None
    return batch_worker.in_background(runtime.engine, settings=runtime.settings, vault=runtime.vault,
                                      policy=runtime.policy)


def create_app(runtime: Runtime | None = None, *, settings: Settings | None = None, serving: bool = False,
               event_process: bool | None = None, load_process: bool | None = None) -> FastAPI:
    """The API app serving ``runtime`` (opened from settings at start-up when not given); ``serving`` tunes the
    process's garbage collector once the app has started (a server's own process, not a test's);
    ``event_process`` takes lending events in by a process of its own (default: when serving, unless
    OPENBUREAU_EVENT_INTAKE_PROCESS is false); ``load_process`` loads the files furnished through the API in a
    process of its own (default: when serving, unless OPENBUREAU_LOAD_PROCESS is false)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if getattr(app.state, "runtime", None) is None:
            app.state.runtime = open_runtime(settings)
        if serving:
            tune_gc()
        workers = [w for w in (webhooks_in_process(app.state.runtime), batches_in_process(app.state.runtime))
                   if w is not None] if serving else []
        chosen = app.state.runtime.settings
        for name, wanted, by_default, made in (
                ("event_process", event_process, chosen.event_intake_process, EventProcess),
                ("load_process", load_process, chosen.load_process, LoadProcess)):
            if wanted is None:
                wanted = serving and by_default
            if wanted:
                side = made(chosen)
                side.start()
                setattr(app.state, name, side)
        yield
        for side in (app.state.event_process, app.state.load_process):
            if side is not None:
                await asyncio.to_thread(side.close)
        for stop, _ in workers:
            stop.set()
        for _, thread in workers:
            thread.join(timeout=15)
        if app.state.inquiry_log is not None:
            await app.state.inquiry_log.stop()  # commits what is waiting
        latency.withdraw()
        await policy.members.aclose()
        await policy.failures.aclose()
        await policy.signins.aclose()
        await policy.published.aclose()

    app = FastAPI(
        title="OpenBureau API",
        version=__version__,
        description="Consumer credit reference: furnishing, reports, scores, consent and oversight.",
        lifespan=lifespan,
        docs_url=None,  # served by api.docs, with every script from the bureau itself
        openapi_url=docs.OPENAPI_URL,
        redoc_url=None,
    )
    app.state.runtime = runtime
    app.state.inquiry_log = None  # the group committer, made by the first inquiry (api.deps)
    app.state.event_process = None  # the lending events' intake process, if any (api.event_process)
    app.state.load_process = None  # the API's files' load process, if any (api.load_process)
    # Routes are matched in order: the inquiry, the bureau's most frequent call, first, then the lending
    # events (a routing pass over every route before it was about a twentieth of an inquiry's CPU).
    for module in (inquiries, events, members, submissions, accounts, consents, batches, stats, quality, identity,
                   me, me_rights, disputes, rights, authorities, monitoring, fraud, prescreens, funding, enterprises):
        app.include_router(module.router, prefix="/v1")
    app.include_router(docs.router)
    configured = runtime.settings if runtime is not None else (settings or get_settings())
    policy = edge_policy(configured)
    app.add_middleware(EdgeMiddleware, policy=policy)
    # Outside the edge, so that the time it takes is counted; every server publishes, whatever its own
    # settings, so that a job started with a latency target finds the figures (kit.pacing).
    latency = LatencyBoard(configured.serving_latency_dir)
    app.add_middleware(InquiryLatency, board=latency)
    app.state.edge = policy
    _install_error_handlers(app)

    @app.get("/v1/health", tags=["meta"], summary="Liveness check")
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    return app


# Paths that files are uploaded to: they take large bodies (OPENBUREAU_MAX_UPLOAD_BYTES); every other route
# takes a small JSON body at most.
UPLOAD_PATHS = frozenset({"/v1/submissions", "/v1/events/files", "/v1/consents/import"})
EVENT_BATCH_PATHS = frozenset({"/v1/events"})
BATCH_PATH = "/v1/inquiries/batches"  # a batch inquiry's file (OPENBUREAU_BATCH_MAX_BYTES)
SIGNIN_PATHS = frozenset({"/v1/me/signin", "/v1/me/signin/verify"})  # open to anyone, rate limited
PUBLISHED_PATHS = frozenset({"/v1/transparency/authority-requests"})  # open to anyone, rate limited


def server_limits(settings: Settings) -> dict[str, int]:
    """uvicorn's own limits for a serving process: idle connections closed after the keep-alive time, and
    past ``max_concurrency`` connections and requests at once new requests answered 503."""
    return {"timeout_keep_alive": settings.keep_alive_seconds, "limit_concurrency": settings.max_concurrency,
            "h11_max_incomplete_event_size": 16 * 1024}  # request line and headers: 16 KiB at most


def edge_policy(settings: Settings) -> EdgePolicy:
    """What the edge enforces for a bureau with ``settings`` (docs/security.md, The API edge)."""
    redis_url = settings.redis_url.get_secret_value() if settings.redis_url is not None else None
    shared = {"redis_url": redis_url, "prefix": settings.redis_key_prefix, "max_keys": settings.rate_limit_table_size}
    return EdgePolicy(
        authenticate=authenticate_request,
        keys=RecentKeys(settings.api_key_cache_seconds),
        members=make_buckets(settings.rate_limit_per_minute, name="member", **shared),
        failures=make_buckets(settings.auth_failures_per_minute, name="auth-failure", **shared),
        json_body=BodyLimit(settings.max_json_bytes, settings.body_timeout_seconds, settings.body_idle_timeout_seconds),
        upload_body=BodyLimit(settings.max_upload_bytes, settings.upload_timeout_seconds,
                              settings.body_idle_timeout_seconds),
        upload_paths=UPLOAD_PATHS,
        path_bodies={**{path: BodyLimit(settings.max_event_batch_bytes, settings.body_timeout_seconds,
                                        settings.body_idle_timeout_seconds) for path in EVENT_BATCH_PATHS},
                     # the file and the multipart envelope around it
                     BATCH_PATH: BodyLimit(settings.batch_max_bytes + 2**16, settings.upload_timeout_seconds,
                                           settings.body_idle_timeout_seconds)},
        public_paths=frozenset({"/v1/health", docs.DOCS_URL, docs.REDOC_URL, docs.REDOC_LOGO,
                                docs.OPENAPI_URL}),
        public_prefixes=(docs.ASSETS,),
        cacheable_prefixes=(docs.ASSETS, docs.REDOC_LOGO),
        page_body=BodyLimit(settings.max_form_bytes, settings.body_timeout_seconds, settings.body_idle_timeout_seconds),
        authenticate_person=authenticate_person_request,
        signin_paths=SIGNIN_PATHS,
        signins=make_buckets(settings.signins_per_minute, name="signin", **shared),
        published_paths=PUBLISHED_PATHS,
        published=make_buckets(settings.published_per_minute, name="published", **shared),
        docs_paths=frozenset({docs.DOCS_URL, docs.REDOC_URL}),
        docs_policy=docs.DOCS_POLICY,
    )


def _error(status: int, code: str, message: str, field: str | None = None, details=None) -> JSONResponse:
    body = {"code": code, "message": message, "field": field}
    if details is not None:
        body["details"] = details
    return JSONResponse(status_code=status, content=body)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(BureauError)
    async def bureau_error(_: Request, exc: BureauError) -> JSONResponse:
        return JSONResponse(status_code=exc.status_code, content=exc.to_dict())

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
        field = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path", "header"))
        details = [{"field": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg")} for e in errors]
        return _error(422, "INVALID_REQUEST", f"{field or 'request'}: {first.get('msg')}", field or None, details)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = getattr(exc, "code", None) or {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(exc.status_code,
                                                                                              "HTTP_ERROR")
        response = _error(exc.status_code, code, str(exc.detail))
        response.headers.update(exc.headers or {})
        return response

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return _error(500, "INTERNAL_ERROR", "the bureau could not complete the request")
