"""The visitor's choices on every page: consent in force, theme and language, and their cookies.

`load_choices` runs before every browser route (a global dependency) and keeps the result on
`request.state`; templates read it through `choices_context`, so the first byte of HTML already
has the right theme and language. `ChoiceCookies` is the only writer of the consent, preference
and performance cookies: it sets what the choices call for and expires, on the same response,
every declared cookie whose category is not allowed.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from http.cookies import Morsel
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from starlette.datastructures import MutableHeaders
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from beatbun.api.deps import API_PREFIX, runtime_of, visitor_of
from beatbun.consent.models import ConsentState
from beatbun.consent.preferences import (
    DisplayPreferences,
    find_account_preferences,
    format_preferences,
    parse_preferences,
)
from beatbun.consent.registry import (
    CONSENT_COOKIE,
    CONSENT_MAX_AGE,
    PERFORMANCE_COOKIE,
    PERFORMANCE_MAX_AGE,
    PREFS_COOKIE,
    PREFS_MAX_AGE,
    PREFS_SESSION_COOKIE,
    find_item,
    storage_items,
)
from beatbun.consent.service import resolve_consent
from beatbun.i18n import LANGUAGES, N_, choose_language, translate
from beatbun.privacy.purposes import may_market, may_measure
from beatbun.web.i18n import template_callables

ANALYTICS_SCRIPT = "/static/js/analytics.js"
# Pages whose path is a secret (the parent's permanent link, a track's share link): no measuring
# or third-party script runs there, whatever the consent, so none can report or read the address.
UNMEASURED_PREFIXES = ("/parent/", "/s/")


@dataclass(frozen=True)
class Choices:
    consent: ConsentState
    display: DisplayPreferences
    # False for a logged-in account that objects to analytics or marketing, or restricted
    # processing, and on the parent's pages: they then leave that script out, whatever the
    # browser's consent.
    may_measure: bool = True
    may_market: bool = True


async def load_choices(request: Request) -> None:
    """Resolve consent and display preferences once per browser request."""
    if request.url.path.startswith(API_PREFIX):
        return
    runtime = runtime_of(request)
    visitor = await visitor_of(request)
    account = visitor.full_account
    consent = await resolve_consent(
        runtime.db,
        device=request.cookies.get(CONSENT_COOKIE) or None,
        account_id=account.id if account else None,
        gpc=has_gpc_signal(request),
        now=runtime.clock.now(),
    )
    chosen = _chosen_display(request)
    # The account's theme and language matter only when this browser has chosen none.
    saved = None
    if account is not None and (chosen is None or chosen.language not in LANGUAGES):
        saved = await find_account_preferences(runtime.db, account.id)
    measured = not request.url.path.startswith(UNMEASURED_PREFIXES)
    choices = Choices(
        consent=consent,
        display=_display(request, chosen, saved),
        may_measure=measured and may_measure(account),
        may_market=measured and may_market(account),
    )
    request.state.choices = choices
    tag_url = runtime.settings.marketing_tag_url
    if tag_url and consent.allows("marketing") and choices.may_market:
        # The tag reports to its own host; the CSP lets it, once it may run at all.
        parts = urlsplit(tag_url)
        request.state.csp_extra_origins = (f"{parts.scheme}://{parts.netloc}",)


def choices_of(request: Request) -> Choices:
    """The loaded choices; pages rendered before routing (a 404) get the cookie's alone."""
    loaded: Choices | None = getattr(request.state, "choices", None)
    if loaded is not None:
        return loaded
    display = _display(request, _chosen_display(request), None)
    return Choices(consent=ConsentState(record=None, gpc=False), display=display)


def language_of(request: Request) -> str:
    """The interface language of this request's pages and messages."""
    return choices_of(request).display.language


def has_gpc_signal(request: Request) -> bool:
    """Global Privacy Control (https://privacycg.github.io/gpc-spec/): `Sec-GPC: 1`."""
    return request.headers.get("sec-gpc", "").strip() == "1"


def choices_context(request: Request) -> dict[str, Any]:
    """What `base.html` needs to render the first byte right: language, theme, banner, scripts."""
    choices = choices_of(request)
    # API calls, and pages rendered before routing (a 404), have no choices loaded.
    in_scope = getattr(request.state, "choices", None) is not None
    settings = runtime_of(request).settings
    gated: list[dict[str, str]] = []
    if choices.may_measure:
        gated.append({"category": "performance", "src": ANALYTICS_SCRIPT})
    if settings.marketing_tag_url and choices.may_market:
        gated.append({"category": "marketing", "src": settings.marketing_tag_url})
    return {
        **template_callables(choices.display.language),
        "lang": choices.display.language,
        "theme": choices.display.theme,
        "languages": LANGUAGES,
        "consent": choices.consent,
        "consent_in_scope": in_scope,
        "show_consent_banner": in_scope
        and choices.consent.needs_prompt
        and request.url.path != "/privacy/choices",
        "gated_scripts": gated,
        "consent_client": {
            "allowed": list(choices.consent.allowed),
            "storage": [
                {"name": item.name, "category": item.category, "prefix": item.prefix}
                for item in storage_items()
            ],
            "messages": {
                "draftRestored": translate(
                    choices.display.language, N_("We kept your unfinished prompt from last time.")
                )
            },
        },
    }


def set_choices(
    request: Request,
    *,
    consent: ConsentState | None = None,
    display: DisplayPreferences | None = None,
    new_device: str | None = None,
) -> None:
    """Make a route's change take effect on this very response (cookies and rendering)."""
    current = choices_of(request)
    request.state.choices = replace(
        current, consent=consent or current.consent, display=display or current.display
    )
    if display is not None:
        request.state.display_changed = True
    if new_device is not None:
        request.state.new_consent_device = new_device


def _chosen_display(request: Request) -> DisplayPreferences | None:
    return parse_preferences(
        request.cookies.get(PREFS_COOKIE) or request.cookies.get(PREFS_SESSION_COOKIE)
    )


def _display(
    request: Request, chosen: DisplayPreferences | None, saved: DisplayPreferences | None
) -> DisplayPreferences:
    language = choose_language(
        chosen=chosen.language if chosen else None,
        account=saved.language if saved else None,
        accept_language=request.headers.get("accept-language", ""),
    )
    theme = chosen.theme if chosen else saved.theme if saved else "system"
    return DisplayPreferences(theme=theme, language=language)


class ChoiceCookies:
    """ASGI middleware writing the cookies `load_choices` and the routes decided on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_cookies(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for header in _cookie_headers(scope).values():
                    headers.append("set-cookie", header)
            await send(message)

        await self.app(scope, receive, send_with_cookies)


def _cookie_headers(scope: Scope) -> dict[str, str]:
    state = scope.get("state", {})
    choices: Choices | None = state.get("choices")
    if choices is None:
        return {}
    sent = _request_cookies(scope)
    keep = choices.consent.allows("functionality")
    out: dict[str, str] = {}
    for name in sent:
        # Only the marketing partner's tag sets what the registry does not list.
        item = find_item(name, kind="cookie")
        if not choices.consent.allows(item.category if item else "marketing"):
            out[name] = _cookie(name, "", max_age=0)
    device = state.get("new_consent_device")
    if device:
        out[CONSENT_COOKIE] = _cookie(CONSENT_COOKIE, device, max_age=CONSENT_MAX_AGE)
    if choices.consent.allows("performance") and PERFORMANCE_COOKIE not in sent:
        token = secrets.token_urlsafe(18)
        out[PERFORMANCE_COOKIE] = _cookie(PERFORMANCE_COOKIE, token, max_age=PERFORMANCE_MAX_AGE)
    # Theme and language outlive the browser session only with functionality consent.
    chosen = sent.get(PREFS_COOKIE) or sent.get(PREFS_SESSION_COOKIE)
    value = format_preferences(choices.display) if state.get("display_changed") else chosen
    stored_in = PREFS_COOKIE if keep else PREFS_SESSION_COOKIE
    other = PREFS_SESSION_COOKIE if keep else PREFS_COOKIE
    if value and (state.get("display_changed") or stored_in not in sent):
        max_age = PREFS_MAX_AGE if keep else None
        out[stored_in] = _cookie(stored_in, value, max_age=max_age)
        if other in sent:
            out[other] = _cookie(other, "", max_age=0)
    return out


def _request_cookies(scope: Scope) -> dict[str, str]:
    raw = b"; ".join(value for name, value in scope["headers"] if name == b"cookie")
    return cookie_parser(raw.decode("latin-1"))


def _cookie(name: str, value: str, *, max_age: int | None) -> str:
    # __Host-: Secure, Path=/ and no Domain. HttpOnly: the page never needs to read them,
    # and they are set here rather than by script, which Safari would cap at seven days.
    morsel: Morsel[str] = Morsel()
    morsel.set(name, value, value)
    morsel.update({"path": "/", "secure": "yes", "httponly": "yes", "samesite": "Lax"})
    if max_age is not None:
        morsel["max-age"] = str(max_age)
    return morsel.OutputString()
