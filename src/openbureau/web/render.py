"""The portal's templates: one Jinja2 environment per language, autoescaped, and the page response."""

from __future__ import annotations

import functools
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from openbureau.present.money import money
from openbureau.web import i18n


@functools.lru_cache(maxsize=len(i18n.LANGUAGES))
def environment(language: str = i18n.DEFAULT) -> Environment:
    """The templates under ``web/templates`` in ``language``, autoescaped (a person's own words are shown as text,
    never markup). ``_()`` and ``{% trans %}`` translate the templates' own messages; ``translate()`` a message
    made in the code (an error, a notice), whose result is escaped like any value."""
    env = Environment(loader=PackageLoader("openbureau.web", "templates"),
                      autoescape=select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True,
                      extensions=["jinja2.ext.i18n"])
    env.policies["ext.i18n.trimmed"] = True  # a message's line breaks and indents are not part of it
    translations = i18n.translations(language)
    env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(money=money, translate=lambda message: translations.gettext(message) if message else message)
    env.filters["purpose"] = lambda value: translations.gettext(i18n.PURPOSE_NAMES.get(value, value.replace("_", " ")))
    env.filters["when"] = lambda moment: "" if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")
    env.filters["day"] = lambda moment: "" if moment is None else moment.strftime("%Y-%m-%d")
    return env


def _here(request: Request, status_code: int) -> str:
    """Where the header's language link leads: back to this page when it is one (a GET answered without an
    error), else home; never an address that is not the bureau's own (``//host`` is another site)."""
    path = request.url.path
    if request.method != "GET" or status_code >= 400 or not path.startswith("/") or path.startswith("//"):
        return "/"
    return "/" if "\\" in path else path


def page(request: Request, template: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page rendered from ``template`` in the request's language; the request's CSRF token and signed-in state
    go with every page, and the way to switch language in the header (back to this page when it was a GET)."""
    state = request.state
    language = i18n.language_of(request)
    body = environment(language).get_template(template).render(
        csrf=getattr(state, "csrf", ""), signed_in=getattr(state, "person", None) is not None, path=request.url.path,
        console_signed_in=getattr(state, "console", None) is not None,
        language=language, html_lang=i18n.tag(language),
        switch_to=_here(request, status_code),
        **context)
    return i18n.remember(request, HTMLResponse(body, status_code=status_code))
