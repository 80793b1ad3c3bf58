"""The bureau's whole web application: the API under /v1 and the portal's pages beside it, behind one edge.

``create_app`` is ``api.app.create_app`` plus the portal: its routers, its static files, and what the edge must
know of it (the sign-in forms share the API's sign-in rate per address; the report's own page keeps its
inline styles). Errors on a page are answered as a page; under /v1 they stay the API's JSON.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from openbureau.api.app import create_app as create_api
from openbureau.kit.errors import BureauError
from openbureau.kit.settings import Settings, get_settings
from openbureau.runtime import Runtime
from openbureau.web import lender, operator, pages, person, regulator, statement, workspace
from openbureau.web.console import ConsoleSignInRequired
from openbureau.web.i18n import N_
from openbureau.web.render import page
from openbureau.web.session import SignInRequired, person_or_none

STATIC = "/static/"
NO_SUCH_PAGE = N_("There is no such page.")
SIGNIN_PAGES = frozenset({"/signin", "/signin/code", "/regulator/signin", "/lender/signin", "/operator/signin"})


def create_app(runtime: Runtime | None = None, *, settings: Settings | None = None, serving: bool = False,
               operator_console: bool | None = None) -> FastAPI:
    """The API and the portal serving ``runtime`` (see ``api.app.create_app``); the operator's pages only when
    ``operator_console`` (default: the settings' ``operator_console``, off)."""
    app = create_api(runtime, settings=settings, serving=serving)
    if operator_console is None:
        operator_console = (runtime.settings if runtime else settings or get_settings()).operator_console
    app.state.operator_console = operator_console
    app.include_router(pages.router)
    app.include_router(person.router)
    app.include_router(lender.router)
    app.include_router(workspace.router)
    app.include_router(statement.router)
    app.include_router(regulator.router)
    app.include_router(operator.router)
    app.mount(STATIC, StaticFiles(packages=[("openbureau.web", "static")]), name="static")
    edge = app.state.edge
    edge.signin_paths = edge.signin_paths | SIGNIN_PAGES
    edge.path_bodies = {**edge.path_bodies, workspace.UPLOAD_PATH: edge.upload_body}  # a file, not a form
    edge.cacheable_prefixes = (*edge.cacheable_prefixes, STATIC)
    _page_errors(app, edge.is_page)
    return app


def _page_errors(app: FastAPI, is_page) -> None:
    """Errors on the portal's pages as pages (the API's handlers answer everything under /v1)."""
    api_handlers = {kind: app.exception_handlers[kind]
                    for kind in (BureauError, RequestValidationError, StarletteHTTPException)}

    def error_page(request: Request, status: int, code: str, message: str) -> Response:
        person_or_none(request)
        return page(request, "error.html.j2", status_code=status, code=code, message=message)

    async def bureau_error(request: Request, exc: BureauError) -> Response:
        if not is_page(request.url.path):
            return await api_handlers[BureauError](request, exc)
        return error_page(request, exc.status_code, exc.code, exc.message)

    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        if not is_page(request.url.path):
            return await api_handlers[RequestValidationError](request, exc)
        return error_page(request, 404, "NOT_FOUND", NO_SUCH_PAGE)  # a malformed id in a URL

    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if not is_page(request.url.path):
            return await api_handlers[StarletteHTTPException](request, exc)
        code = getattr(exc, "code", None) or {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(exc.status_code,
                                                                                              "HTTP_ERROR")
        message = NO_SUCH_PAGE if exc.status_code == 404 else str(exc.detail)
        response = error_page(request, exc.status_code, code, message)
        response.headers.update(exc.headers or {})
        return response

    async def sign_in_required(request: Request, exc: SignInRequired) -> Response:
        return RedirectResponse("/signin", status_code=303)

    app.add_exception_handler(BureauError, bureau_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(StarletteHTTPException, http_error)
    async def console_sign_in_required(request: Request, exc: ConsoleSignInRequired) -> Response:
        return RedirectResponse(exc.location, status_code=303)

    app.add_exception_handler(SignInRequired, sign_in_required)
    app.add_exception_handler(ConsoleSignInRequired, console_sign_in_required)
