"""The signed-in shell around every page: the header's credit balance, and its JSON for scripts;
the banner of policy changes the account has yet to acknowledge.

`load_shell` runs before every browser route (a global dependency) and keeps the balance and
the pending policy notices on `request.state`, so the header shows them in the first byte of
HTML. `shell.js` keeps it current:
pages that spend or refund dispatch `beatbun:balance`, and a page restored from the
back/forward cache asks `GET /account/balance`.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel

from beatbun.accounts.models import Account
from beatbun.api.deps import API_PREFIX, CurrentAccount, RuntimeDep, runtime_of, visitor_of
from beatbun.billing.credits import Wallet, open_wallet
from beatbun.policies.acknowledgements import PendingNotice, pending_notices
from beatbun.runtime.base import Runtime
from beatbun.web.choices import language_of
from beatbun.web.money import format_count

router = APIRouter()
# Sec-Fetch-Dest of requests that render a page; audio, scripts and fetches never show a header.
PAGE_DESTINATIONS = frozenset({"document", ""})
# First path segment → the header's section, marked `aria-current` in the navigation.
SECTIONS = {
    "studio": "studio",
    "tracks": "library",
    "pricing": "plans",
    "billing": "billing",
    "account": "account",
    "privacy": "account",
    "help": "help",
}
# Pages a login or sign-up link should not return to: they would only start over.
NO_RETURN = frozenset(
    {"", "login", "signup", "logout", "verify-email", "forgot-password", "reset-password"}
)


class HeaderBalance(BaseModel):
    """The signed-in person's credits: the number, and as the header writes it."""

    balance: int
    text: str


async def load_shell(request: Request) -> None:
    """Read a signed-in visitor's balance and pending policy notices once per page request."""
    if request.url.path.startswith(API_PREFIX) or hasattr(request.state, "wallet"):
        return
    if request.headers.get("sec-fetch-dest", "") not in PAGE_DESTINATIONS:
        return
    account = (await visitor_of(request)).full_account
    if account is not None:
        runtime = runtime_of(request)
        request.state.wallet = await _open(runtime, account)
        # One indexed read for accounts older than the newest significant change (at launch,
        # all of them, on every page); none for accounts made after it.
        request.state.policy_notices = await pending_notices(runtime.db, account)


def shell_context(request: Request) -> dict[str, object]:
    """What `base.html` needs for the shell: the balance as written, and where to come back."""
    wallet: Wallet | None = getattr(request.state, "wallet", None)
    balance = None if wallet is None else wallet.balance
    notices: tuple[PendingNotice, ...] = getattr(request.state, "policy_notices", ())
    return {
        "policy_notices": notices,
        "balance": balance,
        "balance_text": format_count(balance, language_of(request)) if balance is not None else "",
        "came_from": _came_from(request),
        "section": _section(request.url.path),
    }


# A page's helper, read with the session cookie: not part of the public API, whose callers
# read the balance from `GET /api/v1/billing` with a key.
@router.get("/account/balance", include_in_schema=False)
async def read_balance(
    request: Request, runtime: RuntimeDep, account: CurrentAccount
) -> HeaderBalance:
    """The header's balance as JSON, for `shell.js` after the page was restored from cache."""
    balance = (await wallet_of(request, runtime, account)).balance
    return HeaderBalance(balance=balance, text=format_count(balance, language_of(request)))


async def wallet_of(request: Request, runtime: Runtime, account: Account) -> Wallet:
    """The account's wallet, opened once per request: the header's, when the page has one."""
    wallet: Wallet | None = getattr(request.state, "wallet", None)
    return wallet if wallet is not None else await _open(runtime, account)


async def _open(runtime: Runtime, account: Account) -> Wallet:
    # Opening the wallet gives the free plan its monthly grant, so the header never shows a
    # balance the next page contradicts.
    return await open_wallet(runtime.db, account.id, now=runtime.clock.now())


def _section(path: str) -> str:
    first = path.strip("/").split("/", 1)[0]
    if path == "/privacy":
        return ""
    return SECTIONS.get(first, "")


def _came_from(request: Request) -> str:
    """This page, for the header's "Log in" and "Sign up" links to return to (`next`)."""
    path = request.url.path
    if request.method != "GET" or path.strip("/").split("/", 1)[0] in NO_RETURN:
        return ""
    query = request.url.query
    return f"{path}?{query}" if query else path
