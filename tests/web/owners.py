"""A signed-in account talking to the app in-process, as its browser would."""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx

from beatbun.accounts import sessions
from beatbun.accounts.models import Account
from beatbun.accounts.store import get_account
from beatbun_local.runtime import LocalRuntime
from tests.factories import CLIENT, PASSWORD, create_verified_account

CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Owner:
    """A signed-in browser, as far as the app can tell: its session cookie and same-site Origin.

    `home` is the page it opens by default and takes its CSRF tokens from.
    """

    account: Account
    client: httpx.AsyncClient
    headers: dict[str, str]
    home: str = "/account"

    async def page(self, path: str | None = None) -> httpx.Response:
        return await self.client.get(path or self.home, headers=self.headers)

    async def post(self, path: str, data: dict[str, str] | None = None) -> httpx.Response:
        csrf = CSRF_INPUT.search((await self.page()).text)
        assert csrf
        form = {**(data or {}), "csrf_token": csrf.group(1)}
        return await self.client.post(path, data=form, headers=self.headers)

    async def confirm_password(self) -> None:
        """The confirmation page, as other pages use it: the password counts for a while."""
        confirmed = await self.post("/account/confirm-password", {"current_password": PASSWORD})
        assert confirmed.status_code == 303

    async def stored(self, runtime: LocalRuntime) -> Account:
        return await get_account(runtime.db, self.account.id)


async def signed_in_owner(
    runtime: LocalRuntime,
    client: httpx.AsyncClient,
    *,
    home: str,
    email: str = "person@example.com",
) -> Owner:
    """A verified adult account with a full session, opening `home` by default."""
    account = await create_verified_account(runtime, email=email)
    _, token = await sessions.create_session(
        runtime.db, account_id=account.id, stage="full", client=CLIENT, now=runtime.clock.now()
    )
    headers = {"Cookie": f"__Host-session={token}", "Origin": "http://testserver"}
    return Owner(account, client, headers, home)
