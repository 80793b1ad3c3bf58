"""The API's documentation pages, Swagger UI at /v1/docs and ReDoc at /v1/redoc, with every script and style
served by the bureau itself.

FastAPI's own pages load Swagger UI and ReDoc from a CDN, so on a machine without the Internet they are blank,
and every reader of the docs tells the CDN so. The files come from the ``fastapi-standalone-docs`` package
(Swagger UI 5 and ReDoc 2, as published on npm; it is used for its files only) and are served under
``/v1/docs/assets/``; the one script of ours, which starts Swagger UI, is package data of this module. The
pages run no inline script, so their content security policy allows scripts from the bureau only.
"""

from __future__ import annotations

import functools
from importlib import resources

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse, Response

OPENAPI_URL = "/v1/openapi.json"
DOCS_URL = "/v1/docs"
REDOC_URL = "/v1/redoc"
ASSETS = "/v1/docs/assets/"
# Scripts from the bureau only; ReDoc's styles are made at run time (style elements), and its search runs in
# a worker made from a blob.
DOCS_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
               "font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; frame-ancestors 'none'; "
               "base-uri 'none'; form-action 'none'")
# name -> (package, path inside it, media type)
_FILES = {
    "swagger-ui-bundle.js": ("fastapi_standalone_docs", "static/swagger/swagger-ui-bundle.js", "text/javascript"),
    "swagger-ui.css": ("fastapi_standalone_docs", "static/swagger/swagger-ui.css", "text/css"),
    "redoc.standalone.js": ("fastapi_standalone_docs", "static/redoc/redoc.standalone.js", "text/javascript"),
    "swagger-init.js": ("openbureau.api", "assets/swagger-init.js", "text/javascript"),
    "logo-mini.svg": ("fastapi_standalone_docs", "static/redoc/logo-mini.svg", "image/svg+xml"),
}
REDOC_LOGO = REDOC_URL + "/logo-mini.svg"  # where the packaged ReDoc looks for its logo

SWAGGER_PAGE = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>OpenBureau API - docs</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="{ASSETS}swagger-ui.css"></head>
<body><div id="swagger-ui" data-openapi="{OPENAPI_URL}"></div>
<script src="{ASSETS}swagger-ui-bundle.js"></script><script src="{ASSETS}swagger-init.js"></script>
</body></html>"""

REDOC_PAGE = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>OpenBureau API - reference</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><redoc spec-url="{OPENAPI_URL}"></redoc><script src="{ASSETS}redoc.standalone.js"></script></body></html>"""

router = APIRouter(include_in_schema=False)


@functools.cache
def _asset(name: str) -> tuple[bytes, str]:
    package, path, media_type = _FILES[name]
    return resources.files(package).joinpath(path).read_bytes(), media_type


@router.get(DOCS_URL)
async def swagger_ui() -> HTMLResponse:
    """Swagger UI: try the API from the browser."""
    return HTMLResponse(SWAGGER_PAGE)


@router.get(REDOC_URL)
async def redoc() -> HTMLResponse:
    """ReDoc: the API's reference on one page."""
    return HTMLResponse(REDOC_PAGE)


@router.get(REDOC_LOGO)
async def redoc_logo() -> Response:
    """ReDoc's logo, at the address the packaged ReDoc asks for it."""
    return await asset("logo-mini.svg")


@router.get(ASSETS + "{name}")
async def asset(name: str) -> Response:
    """One of the docs' scripts or styles (a fixed list: nothing else is read from disk)."""
    if name not in _FILES:
        raise HTTPException(404, "no such file")
    body, media_type = _asset(name)
    return Response(body, media_type=media_type, headers={"Cache-Control": "public, max-age=86400"})
