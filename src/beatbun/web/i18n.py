"""Interface language: gettext catalogs, the Jinja2 callables, and which language a request gets.

Catalogs are `locale/<lang>/LC_MESSAGES/messages.po`, compiled to `.mo` by `make catalogs`
(Babel, a development tool) and read at run time by the standard library's `gettext`, so the
Worker needs no extra package. The order of choice is cookie > account > Accept-Language.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
DEFAULT_LANGUAGE = "en"
# Each language here has a complete catalog; tests/web/test_i18n_catalogs.py holds them to it.
LANGUAGES: dict[str, str] = {"en": "English", "de": "Deutsch", "fr": "Français"}


@cache
def translations_for(language: str) -> gettext.NullTranslations:
    """The catalog for `language`; English is the source text and needs none.

    Raises FileNotFoundError when a language in `LANGUAGES` has no compiled catalog.
    """
    if language == DEFAULT_LANGUAGE:
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=[language])


def choose_language(*, chosen: str | None, account: str | None, accept_language: str) -> str:
    """The first supported of: the visitor's choice, the account's, the browser's preferences."""
    for candidate in (chosen, account):
        if candidate in LANGUAGES:
            return candidate
    for candidate in _accepted(accept_language):
        if candidate in LANGUAGES:
            return candidate
    return DEFAULT_LANGUAGE


def template_callables(language: str) -> dict[str, Callable[..., str]]:
    """`gettext`, `ngettext` and `_` for one render, newstyle like `install_gettext_callables`.

    Newstyle means `{% trans %}` and `_()` take keyword variables and escape them under
    autoescape, so a translation can never smuggle markup in through a variable.
    """
    translations = translations_for(language)

    @pass_context
    def gettext_(context: Context, message: str, **variables: Any) -> str:
        return _format(context, translations.gettext(message), variables)

    @pass_context
    def ngettext_(context: Context, singular: str, plural: str, num: int, **variables: Any) -> str:
        variables.setdefault("num", num)
        return _format(context, translations.ngettext(singular, plural, num), variables)

    return {"gettext": gettext_, "ngettext": ngettext_, "_": gettext_}


def _format(context: Context, text: str, variables: dict[str, Any]) -> str:
    if context.eval_ctx.autoescape:
        # Catalog text is ours (reviewed .po files); variables are still escaped by `%`.
        text = Markup(text)  # noqa: S704
    return text % variables


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
