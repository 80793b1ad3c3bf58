"""The portal's templates: one Jinja2 environment, autoescaped, and the page response."""

from __future__ import annotations

import functools
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from openbureau.present.money import money


@functools.lru_cache(maxsize=1)
def environment() -> Environment:
    """The templates under ``web/templates``, autoescaped (a person's own words are shown as text, never markup)."""
    env = Environment(loader=PackageLoader("openbureau.web", "templates"),
                      autoescape=select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True)
    env.globals.update(money=money)
    env.filters["when"] = lambda moment: "" if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")
    env.filters["day"] = lambda moment: "" if moment is None else moment.strftime("%Y-%m-%d")
    return env


def page(request: Request, template: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page rendered from ``template``; the request's CSRF token and signed-in state go with every page."""
    state = request.state
    body = environment().get_template(template).render(
        csrf=getattr(state, "csrf", ""), signed_in=getattr(state, "person", None) is not None, path=request.url.path,
        console_signed_in=getattr(state, "console", None) is not None,
        **context)
    return HTMLResponse(body, status_code=status_code)
