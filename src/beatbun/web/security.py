"""Security headers on every response, and CSRF protection for every browser state change.

`SecurityHeaders` is ASGI middleware: a fresh CSP nonce per response (templates read it from
`request.state.csp_nonce`), the baseline headers, and the anonymous CSRF cookie when a page
handed out a token. `guard_browser_request` runs before every route (a global dependency): it
loads the visitor's session and refuses unsafe requests from another site or without the token.
A response that hands out a token (a page that called `csrf_token`) or carries credentials is
never stored by a cache: the token is bound to one browser.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from urllib.parse import urlsplit

from fastapi import Request, Response
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from beatbun.api.deps import (
    API_PREFIX,
    SESSION_COOKIE,
    refuse_locked_account,
    runtime_of,
    visitor_of,
)
from beatbun.consent.registry import AGE_REFUSED_COOKIE, CONSENT_COOKIE
from beatbun.errors import PermissionDenied
from beatbun.i18n import N_
from beatbun.mail.marketingrules import is_unsubscribe_path

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
# Logout clears the site's cache and storage (the studio draft) in this browser. Cookies are
# expired one by one instead of with "cookies", which would also erase the device's consent
# choice that the cookie policy says the device keeps (w3c.github.io/webappsec-clear-site-data).
LOGOUT_CLEAR_SITE_DATA = '"cache", "storage"'
# RFC 6265 §4.1.1: a cookie name is an RFC 2616 token; anything else is not echoed back.
COOKIE_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# A page to return to: printable ASCII only, so no space, tab, newline or other control
# character that a browser strips before parsing (WHATWG URL: "/\t/evil" becomes "//evil").
LOCAL_PATH = re.compile(r"/[\x21-\x7e]*")
MAX_LOCAL_PATH = 2000


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
                if credentialed or "set-cookie" in headers or state.get("csrf_token_issued"):
                    headers["cache-control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def guard_browser_request(request: Request) -> None:
    """Load the visitor, then refuse a cross-site or token-less unsafe browser request.

    API routes are skipped: cookies never authenticate them, so there is nothing to forge;
    so are unsubscribe links, which carry their own authority. An account awaiting its
    erasure gets AccountLocked outside the pages still open to it.
    """
    if request.url.path.startswith(API_PREFIX):
        return
    visitor = await visitor_of(request)
    if is_unsubscribe_path(request.url.path):
        # RFC 8058 one-click unsubscribe: mail providers POST without cookies from anywhere;
        # the account's token in the path is the authority, and the POST only unsubscribes
        # (a locked account too).
        return
    refuse_locked_account(visitor.full_account, request.url.path)
    if request.method in SAFE_METHODS:
        return
    _refuse_cross_site(request)
    sent = request.headers.get(CSRF_HEADER) or await _form_token(request)
    if not sent or not hmac.compare_digest(sent, _expected_token(request)):
        raise CsrfTokenMissing(
            N_(
                "This form has expired or did not come from this site."
                " Reload the page and try again."
            )
        )


def csrf_token(request: Request) -> str:
    """The token forms must send: bound to the session, or to the anonymous CSRF cookie.

    The response that hands it out is marked `Cache-Control: no-store`.
    """
    request.state.csrf_token_issued = True
    return _expected_token(request)


def _expected_token(request: Request) -> str:
    visitor = getattr(request.state, "visitor", None)
    if visitor is not None and visitor.session is not None:
        binding = f"session:{visitor.session.id}"
    else:
        binding = f"anonymous:{_anonymous_secret(request)}"
    secret = runtime_of(request).settings.app_secret.encode()
    return hmac.new(secret, binding.encode(), hashlib.sha256).hexdigest()


def set_session_cookie(response: Response, token: str, *, max_age: int) -> None:
    response.headers.append("set-cookie", _cookie(SESSION_COOKIE, token, max_age=max_age))


def set_browser_cookie(response: Response, name: str, value: str, *, max_age: int) -> None:
    """One of our `__Host-` cookies (Secure, HttpOnly, SameSite=Lax) on `response`."""
    response.headers.append("set-cookie", _cookie(name, value, max_age=max_age))


def forget_browser(request: Request, response: Response) -> None:
    """At logout: expire every cookie this browser sent but the consent choice and a refused
    sign-up's day-long block, and clear the rest.

    The session cookie is always expired. A cookie another script set with a `Domain` or a
    narrower `Path` cannot be matched from here and is left to its own expiry.
    """
    names = (set(request.cookies) | {SESSION_COOKIE}) - {CONSENT_COOKIE, AGE_REFUSED_COOKIE}
    for name in sorted(names):
        if COOKIE_NAME.fullmatch(name):
            response.headers.append("set-cookie", _cookie(name, "", max_age=0))
    response.headers["clear-site-data"] = LOGOUT_CLEAR_SITE_DATA


def local_path(target: str) -> str | None:
    """`target` when it is a path on this site, else None: the only safe `next` to redirect to.

    Refused: anything not starting with one `/` (a scheme, a host, `//host`), any backslash
    (browsers read `/\\host` as `//host`), any character outside printable ASCII, and paths
    longer than `MAX_LOCAL_PATH`.
    """
    if (
        len(target) > MAX_LOCAL_PATH
        or not LOCAL_PATH.fullmatch(target)
        or target.startswith("//")
        or "\\" in target
    ):
        return None
    return target


def _anonymous_secret(request: Request) -> str:
    existing = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf_cookie", None)
    if existing:
        return str(existing)
    fresh = secrets.token_urlsafe(32)
    request.state.new_csrf_cookie = fresh
    return fresh


def _refuse_cross_site(request: Request) -> None:
    """Refuse unless the browser's own headers place the request on this site.

    Sec-Fetch-Site first, then Origin, then Referer (OWASP CSRF cheat sheet, "Verifying origin
    with standard headers"). A request with none of them is refused when it carries the session
    cookie; without one it has no authority to abuse, and the token still binds it to the
    anonymous CSRF cookie (an `HttpOnly` `__Host-` cookie no other site can read or plant).
    """
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        raise CrossSiteRequest(FROM_ANOTHER_SITE)
    own = f"{request.url.scheme}://{request.url.netloc}"
    origin = request.headers.get("origin")
    # Under `Referrer-Policy: no-referrer` (our token pages) browsers send `Origin: null`;
    # that is accepted only when Sec-Fetch-Site vouches for the same origin.
    if origin == "null" and fetch_site == "same-origin":
        return
    if origin is not None:
        if origin != own:
            raise CrossSiteRequest(FROM_ANOTHER_SITE)
        return
    referer = request.headers.get("referer")
    if referer is not None:
        if _origin_of(referer) != own:
            raise CrossSiteRequest(FROM_ANOTHER_SITE)
        return
    # Sec-Fetch-Site cannot be set by a page, so a browser that sent it has vouched already.
    if fetch_site is None and SESSION_COOKIE in request.cookies:
        raise CrossSiteRequest(FROM_ANOTHER_SITE)


def _origin_of(url: str) -> str | None:
    """The origin of a Referer, or None when it cannot be read (which never matches ours)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return f"{parts.scheme}://{parts.netloc}"


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
    forms may also post to `form_origins` (`allow_payment_forms`). A response that set its
    own policy and framing rule keeps them (a stricter one: the local outbox's mail HTML)."""
    extra = "".join(f" {origin}" for origin in extra_origins)
    forms = "".join(f" {origin}" for origin in form_origins)
    headers.setdefault(
        "content-security-policy",
        f"default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic'; style-src 'self';"
        f" img-src 'self' data:{extra}; connect-src 'self'{extra}; object-src 'none';"
        f" base-uri 'none'; frame-ancestors 'none'; form-action 'self' {STRIPE_FORM_ACTIONS}{forms}",
    )
    headers["strict-transport-security"] = "max-age=63072000; includeSubDomains"
    headers["x-content-type-options"] = "nosniff"
    headers["cross-origin-opener-policy"] = "same-origin"
    headers["permissions-policy"] = PERMISSIONS_POLICY
    headers.setdefault("x-frame-options", "DENY")
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
