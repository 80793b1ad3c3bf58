"""The portal's languages: English (the source language of every message) and Simplified Chinese.

The messages live in ``web/locale`` as gettext catalogues kept in the repository as text (``messages.pot`` and
``zh_Hans/LC_MESSAGES/messages.po``); a catalogue is compiled in memory the first time a page needs it
(``babel.messages.pofile.read_po`` then ``mofile.write_mo``), so there is no build step. The language of a page:
a valid ``?lang=`` of the address (kept in the ``__Host-lang`` cookie), else that cookie, else the bureau's
jurisdiction profile (CN: Chinese; any other: English).
"""

from __future__ import annotations

import functools
import gettext
import io
from importlib import resources

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from fastapi import Request
from fastapi.responses import Response

LANG_COOKIE = "__Host-lang"
LANG_PARAM = "lang"
LANG_SECONDS = 365 * 24 * 3600
# The short name in an address or a cookie -> (the catalogue's locale, the BCP 47 tag of <html lang>)
LANGUAGES = {"en": (None, "en"), "zh": ("zh_Hans", "zh-Hans")}
PROFILE_LANGUAGE = {"CN": "zh"}  # any other profile: English
DEFAULT = "en"


def N_(message: str) -> str:  # noqa: N802 (the name gettext's tools look for)
    """Mark a message for the catalogue where it is written; it is translated where it is shown."""
    return message


def chosen(value: str | None) -> str | None:
    """``value`` when it names a language of the portal exactly, else None (anything else is ignored)."""
    return value if value in LANGUAGES else None


def language_of(request: Request) -> str:
    """The language of the page answering ``request`` (see the module's note); kept on the request."""
    known = getattr(request.state, "language", None)
    if known is not None:
        return known
    language = (chosen(request.query_params.get(LANG_PARAM)) or chosen(request.cookies.get(LANG_COOKIE))
                or PROFILE_LANGUAGE.get(request.app.state.runtime.policy.profile.code, DEFAULT))
    request.state.language = language
    return language


def remember(request: Request, response: Response) -> Response:
    """Keep a language asked for in the address in the visitor's cookie (a switch in the header sticks)."""
    asked = chosen(request.query_params.get(LANG_PARAM))
    if asked is not None and asked != request.cookies.get(LANG_COOKIE):
        response.set_cookie(LANG_COOKIE, asked, max_age=LANG_SECONDS, path="/", secure=True, httponly=True,
                            samesite="lax")
    return response


def tag(language: str) -> str:
    """The BCP 47 tag of ``language`` (``<html lang>``)."""
    return LANGUAGES[language][1]


@functools.lru_cache(maxsize=len(LANGUAGES))
def translations(language: str) -> gettext.NullTranslations:
    """The compiled catalogue of ``language`` (English is the messages themselves)."""
    locale = LANGUAGES[language][0]
    if locale is None:
        return gettext.NullTranslations()
    source = resources.files("openbureau.web") / "locale" / locale / "LC_MESSAGES" / "messages.po"
    with source.open("rb") as po:
        catalog = read_po(po, locale=locale)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def gettext_for(request: Request):
    """The ``gettext`` of the request's language, for messages made in the code."""
    return translations(language_of(request)).gettext


CHECK_FIELDS = N_("Check these fields: %(fields)s.")


def check_fields(request: Request, fields: list[str]) -> str:
    """A form's fields that need another look, by name (never echoing what was typed), in the page's language."""
    return gettext_for(request)(CHECK_FIELDS) % {"fields": ", ".join(fields)}


# The purposes of a consent or an inquiry (``consent.profiles.Purpose``) as the pages name them.
PURPOSE_NAMES = {"furnish": N_("furnish"), "loan_origination": N_("loan origination"),
                 "account_review": N_("account review"), "collections": N_("collections"),
                 "self_inquiry": N_("self inquiry"), "dispute_handling": N_("dispute handling")}
