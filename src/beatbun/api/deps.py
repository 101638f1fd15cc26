"""FastAPI dependencies shared by `api` and `web`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, ClassVar

from fastapi import Depends, Request

from beatbun.accounts.apikeys import KEY_PREFIX, authenticate_api_key
from beatbun.accounts.models import Account, ApiKey, Session
from beatbun.accounts.sessions import find_session_and_account
from beatbun.accounts.store import get_account
from beatbun.errors import (
    AccountInactive,
    AccountLocked,
    InvalidInput,
    PermissionDenied,
    Unauthenticated,
)
from beatbun.i18n import N_
from beatbun.privacy.notices import PRIVACY_PAGE
from beatbun.runtime.base import Runtime


def runtime_of(request: Request) -> Runtime:
    """The runtime for this request, built once and kept on `request.state`.

    On Workers the ASGI bridge puts the bindings in `scope["env"]` and the runtime is built from
    them per request; locally the app holds one runtime for its whole life.
    """
    cached: Runtime | None = getattr(request.state, "runtime", None)
    if cached is not None:
        return cached
    env = request.scope.get("env")
    runtime: Runtime = (
        request.app.state.runtime_factory(env) if env is not None else request.app.state.runtime
    )
    request.state.runtime = runtime
    return runtime


async def get_runtime(request: Request) -> Runtime:
    return runtime_of(request)


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


API_PREFIX = "/api/"
SESSION_COOKIE = "__Host-session"
# Query parameter names that would put a credential in a URL (logs, history, Referer).
CREDENTIAL_PARAMS = frozenset({"api_key", "apikey", "key", "token", "access_token"})
LOG_IN_TO_SEE = N_("Log in to see this page.")
# While its erasure is scheduled an account may open only these pages (and what they lead to);
# every other page sends it to the first (beatbun.privacy.erasure).
LOCKED_ACCOUNT_PATHS = frozenset(
    {
        PRIVACY_PAGE,
        "/account/confirm-password",
        "/logout",
        # The policies it is pointed to, and its cookie, theme and language choices.
        "/privacy",
        "/cookies",
        "/privacy/choices",
        "/consent",
        "/consent/gpc",
        "/preferences/display",
        "/terms",
        "/policies/acknowledge",
        # Support stays reachable: a person leaving may still have a question or a request.
        "/help",
        "/help/tickets",
    }
)
# Paths under these prefixes are open to it too: its privacy requests and its support tickets.
LOCKED_ACCOUNT_PREFIXES = (f"{PRIVACY_PAGE}/", "/help/tickets/")
ACCOUNT_LOCKED = N_(
    "This account is scheduled for deletion. Until then only its Privacy & data page is"
    " open, where the deletion can be cancelled."
)


@dataclass(frozen=True)
class Visitor:
    """Whoever sent a browser request: the session cookie's token, session and account."""

    token: str | None
    session: Session | None
    account: Account | None

    @property
    def full_account(self) -> Account | None:
        """The account, once logged in with every factor it needs; None before that."""
        return self.account if self.session is not None and self.session.is_full else None


async def visitor_of(request: Request) -> Visitor:
    """Resolve the session cookie once per request (kept on `request.state.visitor`).

    Session and account come from one query; session and account are both set or both None.
    """
    cached: Visitor | None = getattr(request.state, "visitor", None)
    if cached is not None:
        return cached
    runtime = runtime_of(request)
    token = request.cookies.get(SESSION_COOKIE) or None
    found = (
        await find_session_and_account(runtime.db, token, now=runtime.clock.now())
        if token
        else None
    )
    session, account = found if found else (None, None)
    visitor = Visitor(token=token, session=session, account=account)
    request.state.visitor = visitor
    return visitor


async def get_visitor(request: Request) -> Visitor:
    return await visitor_of(request)


async def current_session(request: Request) -> Session:
    """The fully logged-in session; raises Unauthenticated otherwise."""
    visitor = await visitor_of(request)
    if visitor.session is None or not visitor.session.is_full:
        raise Unauthenticated(LOG_IN_TO_SEE, code="login_required")
    return visitor.session


async def current_account(request: Request) -> Account:
    """The fully logged-in account; raises Unauthenticated otherwise."""
    account = (await visitor_of(request)).full_account
    if account is None:
        raise Unauthenticated(LOG_IN_TO_SEE, code="login_required")
    return account


async def pending_login(request: Request) -> Session:
    """A session waiting for its second factor; raises Unauthenticated otherwise."""
    session, _ = await _pending(request)
    return session


async def pending_login_account(request: Request) -> Account:
    """The account of the session waiting for its second factor; raises like pending_login."""
    _, account = await _pending(request)
    return account


async def _pending(request: Request) -> tuple[Session, Account]:
    visitor = await visitor_of(request)
    if visitor.session is None or visitor.account is None or visitor.session.is_full:
        raise Unauthenticated(N_("Start again from the login page."), code="login_required")
    return visitor.session, visitor.account


class ApiKeyRequired(Unauthenticated):
    """An API route was called without a valid `Authorization: Bearer` key."""

    default_code = "api_key_required"
    headers: ClassVar[dict[str, str]] = {"WWW-Authenticate": 'Bearer realm="api"'}


class CredentialInUrl(InvalidInput):
    """An API key arrived in the URL, where logs and proxies would keep it."""

    status = 400
    default_code = "api_key_in_url"


@dataclass(frozen=True)
class ApiCaller:
    key: ApiKey
    account: Account

    def require(self, scope: str) -> None:
        """Raise PermissionDenied unless the key has `scope`; spending is the service's rule."""
        if scope not in self.key.scopes:
            raise PermissionDenied(
                N_("This API key lacks the '%(scope)s' scope."),
                code="insufficient_scope",
                params={"scope": scope},
            )


async def api_caller(request: Request) -> ApiCaller:
    """Authenticate an API request by its Bearer key; cookies are never looked at."""
    for name, value in request.query_params.multi_items():
        if name.lower() in CREDENTIAL_PARAMS or value.startswith(KEY_PREFIX):
            raise CredentialInUrl(
                N_("API keys are refused in URLs; send the key in the Authorization header.")
            )
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise ApiKeyRequired(N_("Send your API key as 'Authorization: Bearer <key>'."))
    runtime = runtime_of(request)
    try:
        key = await authenticate_api_key(runtime.db, secret.strip(), now=runtime.clock.now())
    except Unauthenticated as exc:
        raise ApiKeyRequired(exc.template, code=exc.code, params=exc.params) from exc
    account = await get_account(runtime.db, key.account_id)
    if not account.is_active:
        raise AccountInactive(
            N_("This account opens once a parent or guardian agrees; its API keys wait too.")
        )
    if account.is_erasure_scheduled:
        raise AccountLocked(ACCOUNT_LOCKED)
    return ApiCaller(key=key, account=account)


def refuse_locked_account(account: Account | None, path: str) -> None:
    """Raise AccountLocked when `account` awaits its erasure and `path` is not open to it."""
    if account is None or not account.is_erasure_scheduled:
        return
    if path in LOCKED_ACCOUNT_PATHS or path.startswith(LOCKED_ACCOUNT_PREFIXES):
        return
    raise AccountLocked(ACCOUNT_LOCKED)


CurrentVisitor = Annotated[Visitor, Depends(get_visitor)]
CurrentSession = Annotated[Session, Depends(current_session)]
CurrentAccount = Annotated[Account, Depends(current_account)]
PendingLogin = Annotated[Session, Depends(pending_login)]
PendingLoginAccount = Annotated[Account, Depends(pending_login_account)]
CurrentApiCaller = Annotated[ApiCaller, Depends(api_caller)]
