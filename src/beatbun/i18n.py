"""Interface text: English source strings marked for translation, and the catalogs.

Text a person reads is written in English where it arises (a service's error, the cookie
registry, an email) and marked with `N_`, which `make catalogs` extracts. It is translated
where it is shown, into the reader's language; placeholders are `%(name)s`, filled after
translation so a catalog can move them. Catalogs are `locale/<lang>/LC_MESSAGES/messages.po`,
compiled to `.mo` by `make catalogs` (Babel, a development tool) and read at run time by the
standard library's `gettext`, so the Worker needs no extra package.
"""

from __future__ import annotations

import gettext
from collections.abc import Mapping
from functools import cache
from pathlib import Path

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
DEFAULT_LANGUAGE = "en"
# Each language here has a complete catalog; tests/web/test_i18n_catalogs.py holds them to it.
LANGUAGES: dict[str, str] = {"en": "English", "de": "Deutsch", "fr": "Français"}


def N_(message: str) -> str:
    """Mark `message` for the catalogs without translating it (the reader is not known here)."""
    return message


@cache
def translations_for(language: str) -> gettext.NullTranslations:
    """The catalog for `language`; English is the source text and needs none.

    Raises FileNotFoundError when a language in `LANGUAGES` has no compiled catalog.
    """
    if language == DEFAULT_LANGUAGE:
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=[language])


def translate(language: str, message: str, params: Mapping[str, object] | None = None) -> str:
    """`message` (an `N_` source string) in `language`, its placeholders filled from `params`."""
    text = translations_for(language).gettext(message)
    return text % params if params else text


def choose_language(*, chosen: str | None, account: str | None, accept_language: str) -> str:
    """The first supported of: the visitor's choice, the account's, the browser's preferences."""
    for candidate in (chosen, account):
        if candidate in LANGUAGES:
            return candidate
    for candidate in _accepted(accept_language):
        if candidate in LANGUAGES:
            return candidate
    return DEFAULT_LANGUAGE


def _accepted(header: str) -> list[str]:
    """Primary language subtags from `Accept-Language`, best first (RFC 9110 §12.5.4)."""
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            weighted.append((-quality, index, tag.split("-")[0].lower()))
    return [tag for _, _, tag in sorted(weighted)]
