"""Logged-in members for the purpose tests: a session, every cookie category allowed, a browser's
headers for the app, and the rows that prove a purpose ran or stopped."""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx

from beatbun.accounts.models import Account
from beatbun.accounts.sessions import create_session
from beatbun.accounts.store import get_account
from beatbun.consent.models import Choice
from beatbun.consent.registry import CONSENT_COOKIE, PERFORMANCE_COOKIE
from beatbun.consent.service import record_choice
from beatbun.runtime.base import Runtime
from tests.factories import CLIENT, create_verified_account

CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
ORIGIN = "http://testserver"


@dataclass(frozen=True)
class Member:
    account_id: str
    email: str
    headers: dict[str, str]


async def member(runtime: Runtime, email: str = "person@example.com") -> Member:
    """A verified account, logged in, whose browser allowed every cookie category."""
    account = await create_verified_account(runtime, email=email)
    _, token = await create_session(
        runtime.db, account_id=account.id, stage="full", client=CLIENT, now=runtime.clock.now()
    )
    device = f"device:{account.id}"
    await record_choice(
        runtime.db,
        subject=device,
        choice=Choice.everything(),
        source="banner",
        gpc=False,
        now=runtime.clock.now(),
    )
    cookies = {
        "__Host-session": token,
        CONSENT_COOKIE: device,
        PERFORMANCE_COOKIE: f"visitor-{account.id}",
    }
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()), "Origin": ORIGIN}
    return Member(account_id=account.id, email=email, headers=headers)


async def account_of(runtime: Runtime, who: Member) -> Account:
    """The member's account as it is now (the objection columns change under it)."""
    return await get_account(runtime.db, who.account_id)


async def csrf(client: httpx.AsyncClient, who: Member, page: str = "/studio") -> str:
    found = CSRF_INPUT.search((await client.get(page, headers=who.headers)).text)
    assert found, f"{page} carries a CSRF token"
    return found.group(1)


async def count(runtime: Runtime, sql: str, *params: str | int) -> int:
    value = await runtime.db.prepare(sql).bind(*params).first("n")
    return int(value or 0)
