"""Security headers on every response, and CSRF protection for every browser state change.

`SecurityHeaders` is ASGI middleware: a fresh CSP nonce per response (templates read it from
`request.state.csp_nonce`), the baseline headers, and the anonymous CSRF cookie when a page
handed out a token. `guard_browser_request` runs before every route (a global dependency): it
loads the visitor's session and refuses unsafe requests from another site or without the token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from urllib.parse import urlsplit

from fastapi import Request, Response
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from beatbun.api.deps import API_PREFIX, SESSION_COOKIE, runtime_of, visitor_of
from beatbun.errors import PermissionDenied
from beatbun.i18n import N_

CSRF_COOKIE = "__Host-csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Stripe Checkout and the billing portal are reached by form posts and redirects.
STRIPE_FORM_ACTIONS = "https://checkout.stripe.com https://billing.stripe.com"
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), usb=(), payment=(), interest-cohort=()"
)
FROM_ANOTHER_SITE = N_("Requests from other sites cannot change anything here.")


class CrossSiteRequest(PermissionDenied):
    """An unsafe request came from another site (Origin or Sec-Fetch-Site say so)."""

    default_code = "cross_site_request"


class CsrfTokenMissing(PermissionDenied):
    """An unsafe browser request did not carry this session's CSRF token."""

    default_code = "csrf_failed"


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        nonce = secrets.token_urlsafe(16)
        state["csp_nonce"] = nonce
        credentialed = _carries_credentials(scope)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                _add_baseline(
                    headers,
                    nonce=nonce,
                    extra_origins=state.get("csp_extra_origins", ()),
                    form_origins=state.get("csp_form_origins", ()),
                )
                new_cookie = state.get("new_csrf_cookie")
                if new_cookie:
                    headers.append("set-cookie", _cookie(CSRF_COOKIE, new_cookie, max_age=None))
                if credentialed or "set-cookie" in headers:
                    headers["cache-control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def guard_browser_request(request: Request) -> None:
    """Load the visitor, then refuse a cross-site or token-less unsafe browser request.

    API routes are skipped: cookies never authenticate them, so there is nothing to forge.
    """
    if request.url.path.startswith(API_PREFIX):
        return
    await visitor_of(request)
    if request.method in SAFE_METHODS:
        return
    _refuse_cross_site(request)
    sent = request.headers.get(CSRF_HEADER) or await _form_token(request)
    if not sent or not hmac.compare_digest(sent, csrf_token(request)):
        raise CsrfTokenMissing(
            N_(
                "This form has expired or did not come from this site."
                " Reload the page and try again."
            )
        )


def csrf_token(request: Request) -> str:
    """The token forms must send: bound to the session, or to the anonymous CSRF cookie."""
    visitor = getattr(request.state, "visitor", None)
    if visitor is not None and visitor.session is not None:
        binding = f"session:{visitor.session.id}"
    else:
        binding = f"anonymous:{_anonymous_secret(request)}"
    secret = runtime_of(request).settings.app_secret.encode()
    return hmac.new(secret, binding.encode(), hashlib.sha256).hexdigest()


def set_session_cookie(response: Response, token: str, *, max_age: int) -> None:
    response.headers.append("set-cookie", _cookie(SESSION_COOKIE, token, max_age=max_age))


def clear_session_cookie(response: Response) -> None:
    response.headers.append("set-cookie", _cookie(SESSION_COOKIE, "", max_age=0))


def _anonymous_secret(request: Request) -> str:
    existing = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf_cookie", None)
    if existing:
        return str(existing)
    fresh = secrets.token_urlsafe(32)
    request.state.new_csrf_cookie = fresh
    return fresh


def _refuse_cross_site(request: Request) -> None:
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        raise CrossSiteRequest(FROM_ANOTHER_SITE)
    origin = request.headers.get("origin")
    # Under `Referrer-Policy: no-referrer` (our token pages) browsers send `Origin: null`;
    # that is accepted only when Sec-Fetch-Site vouches for the same origin.
    if origin == "null" and fetch_site == "same-origin":
        return
    if origin is not None and origin != f"{request.url.scheme}://{request.url.netloc}":
        raise CrossSiteRequest(FROM_ANOTHER_SITE)


async def _form_token(request: Request) -> str | None:
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return None
    value = (await request.form()).get(CSRF_FIELD)
    return value if isinstance(value, str) else None


def _carries_credentials(scope: Scope) -> bool:
    headers = dict(scope["headers"])
    return b"authorization" in headers or SESSION_COOKIE.encode() in headers.get(b"cookie", b"")


def allow_payment_forms(request: Request) -> None:
    """Let this page's forms lead to Stripe's hosted pages, wherever `STRIPE_API_BASE` puts them.

    Stripe's own hosts are always allowed; locally the Stripe sandbox serves those pages.
    """
    api_base = runtime_of(request).settings.stripe_api_base
    if api_base:
        parts = urlsplit(api_base)
        request.state.csp_form_origins = (f"{parts.scheme}://{parts.netloc}",)


def _add_baseline(
    headers: MutableHeaders,
    *,
    nonce: str,
    extra_origins: Sequence[str],
    form_origins: Sequence[str],
) -> None:
    """`extra_origins` may receive beacons and serve images (an allowed marketing tag's host);
    forms may also post to `form_origins` (`allow_payment_forms`)."""
    extra = "".join(f" {origin}" for origin in extra_origins)
    forms = "".join(f" {origin}" for origin in form_origins)
    headers["content-security-policy"] = (
        f"default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic'; style-src 'self';"
        f" img-src 'self' data:{extra}; connect-src 'self'{extra}; object-src 'none';"
        f" base-uri 'none'; frame-ancestors 'none'; form-action 'self' {STRIPE_FORM_ACTIONS}{forms}"
    )
    headers["strict-transport-security"] = "max-age=63072000; includeSubDomains"
    headers["x-content-type-options"] = "nosniff"
    headers["cross-origin-opener-policy"] = "same-origin"
    headers["permissions-policy"] = PERMISSIONS_POLICY
    headers["x-frame-options"] = "DENY"
    # Pages that carry tokens in their URL set `no-referrer` themselves.
    headers.setdefault("referrer-policy", "strict-origin-when-cross-origin")
    for leaky in ("server", "x-powered-by"):
        if leaky in headers:
            del headers[leaky]


def _cookie(name: str, value: str, *, max_age: int | None) -> str:
    # __Host-: Secure, Path=/ and no Domain, so no subdomain can plant or read it.
    parts = [f"{name}={value}", "Path=/", "Secure", "HttpOnly", "SameSite=Lax"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    return "; ".join(parts)
