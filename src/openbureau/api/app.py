"""The FastAPI application: routes under /v1, errors shaped ``{code, message, field}``."""

from __future__ import annotations

import gc
import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from openbureau import __version__
from openbureau.api import accounts, consents, identity, inquiries, members, quality, stats, submissions
from openbureau.api.ratelimit import RateLimitMiddleware, TokenBuckets
from openbureau.kit.errors import BureauError
from openbureau.kit.settings import Settings, get_settings
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


def create_app(runtime: Runtime | None = None, *, settings: Settings | None = None, serving: bool = False) -> FastAPI:
    """The API app serving ``runtime`` (opened from settings at start-up when not given); ``serving`` tunes the
    process's garbage collector once the app has started (a server's own process, not a test's)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if getattr(app.state, "runtime", None) is None:
            app.state.runtime = open_runtime(settings)
        if serving:
            tune_gc()
        yield
        if app.state.inquiry_log is not None:
            await app.state.inquiry_log.stop()  # commits what is waiting

    app = FastAPI(
        title="OpenBureau API",
        version=__version__,
        description="Consumer credit reference: furnishing, reports, scores, consent and oversight.",
        lifespan=lifespan,
        docs_url="/v1/docs",
        openapi_url="/v1/openapi.json",
        redoc_url=None,
    )
    app.state.runtime = runtime
    app.state.inquiry_log = None  # the group committer, made by the first inquiry (api.deps)
    for module in (members, submissions, accounts, consents, inquiries, stats, quality, identity):
        app.include_router(module.router, prefix="/v1")
    limit = (runtime.settings if runtime is not None else (settings or get_settings())).rate_limit_per_minute
    app.add_middleware(RateLimitMiddleware, buckets=TokenBuckets(limit))
    _install_error_handlers(app)

    @app.get("/v1/health", tags=["meta"], summary="Liveness check")
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    return app


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
        code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(exc.status_code, "HTTP_ERROR")
        return _error(exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return _error(500, "INTERNAL_ERROR", "the bureau could not complete the request")
