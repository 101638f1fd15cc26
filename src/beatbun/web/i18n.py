"""Pages in the reader's language: the Jinja2 gettext callables and the text of errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from beatbun.errors import AppError, RuntimeFailure
from beatbun.generation.lifecycle import DEADLINE_EXCEEDED
from beatbun.i18n import N_, translate, translations_for

# A platform failure's own message names D1, R2 or a provider; it goes to the logs and the API.
SERVICE_TROUBLE = N_("Something went wrong on our side. Try again in a moment.")
# Titles of the error page, by status; any other status falls back to its class.
ERROR_TITLES = {
    400: N_("Bad request"),
    401: N_("Log in needed"),
    402: N_("Not enough credits"),
    403: N_("Not allowed"),
    404: N_("Not found"),
    405: N_("Not allowed"),
    409: N_("Conflict"),
    413: N_("Too large"),
    416: N_("Range not satisfiable"),
    422: N_("Please check your input"),
    429: N_("Too many attempts"),
}
CLIENT_ERROR = N_("Request not accepted")
SERVER_ERROR = N_("Service unavailable")
# Why a track failed, by the job's error code, for the person who asked for it. The stored
# message is the API's: it may name the provider, its limits, or settings only we can change.
PROVIDER_BUSY = N_("The music service is busy or unavailable right now. Please try again.")
TOO_SLOW = N_("Making the track took too long.")
FAILURE_REASONS = {
    "prompt_refused": N_(
        "The music service refused this prompt: it names a copyrighted work or artist."
    ),
    "provider_busy": PROVIDER_BUSY,
    "provider_overloaded": PROVIDER_BUSY,
    "provider_unavailable": PROVIDER_BUSY,
    "provider_unreachable": PROVIDER_BUSY,
    "queue_unavailable": PROVIDER_BUSY,
    "provider_timeout": TOO_SLOW,
    DEADLINE_EXCEEDED: TOO_SLOW,
    "interrupted": N_("Making the track was interrupted."),
}
UNKNOWN_FAILURE = N_("The track could not be made.")


def error_text(error: AppError, language: str) -> str:
    """What a page says about `error`, in `language`."""
    if isinstance(error, RuntimeFailure):
        return translate(language, SERVICE_TROUBLE)
    return translate(language, error.template, error.params)


def failure_reason(code: str | None, language: str) -> str:
    """Why a job failed, by its error code, in `language`."""
    return translate(language, FAILURE_REASONS.get(code or "", UNKNOWN_FAILURE))


def error_title(status: int, language: str) -> str:
    fallback = CLIENT_ERROR if status < 500 else SERVER_ERROR
    return translate(language, ERROR_TITLES.get(status, fallback))


def template_callables(language: str) -> dict[str, Callable[..., str]]:
    """`gettext`, `ngettext`, `pgettext` and `_` for one render, newstyle like Jinja2's own.

    Newstyle means `{% trans %}` and `_()` take keyword variables and escape them under
    autoescape, so a translation can never smuggle markup in through a variable. `pgettext`
    tells apart words spelled alike in English ("Key" of a song, "Key" of the API).
    """
    translations = translations_for(language)

    @pass_context
    def gettext_(context: Context, message: str, **variables: Any) -> str:
        return _format(context, translations.gettext(message), variables)

    @pass_context
    def ngettext_(context: Context, singular: str, plural: str, num: int, **variables: Any) -> str:
        variables.setdefault("num", num)
        return _format(context, translations.ngettext(singular, plural, num), variables)

    @pass_context
    def pgettext_(context: Context, message_context: str, message: str, **variables: Any) -> str:
        return _format(context, translations.pgettext(message_context, message), variables)

    return {"gettext": gettext_, "ngettext": ngettext_, "pgettext": pgettext_, "_": gettext_}


def _format(context: Context, text: str, variables: dict[str, Any]) -> str:
    if context.eval_ctx.autoescape:
        # Catalog text is ours (reviewed .po files); variables are still escaped by `%`.
        text = Markup(text)  # noqa: S704
    return text % variables
