"""What the logout response asks of the browser: every cookie expired but the consent choice."""

from __future__ import annotations

import re

import httpx

from beatbun.accounts.sessions import create_session
from beatbun_local.runtime import LocalRuntime
from tests.factories import CLIENT, create_verified_account

CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


async def _log_out(
    runtime: LocalRuntime, client: httpx.AsyncClient, cookies: str
) -> httpx.Response:
    account = await create_verified_account(runtime)
    _, token = await create_session(
        runtime.db, account_id=account.id, stage="full", client=CLIENT, now=runtime.clock.now()
    )
    cookie = f"__Host-session={token}; {cookies}"
    page = await client.get("/account", headers={"Cookie": cookie})
    found = CSRF_INPUT.search(page.text)
    assert found
    return await client.post(
        "/logout",
        data={"csrf_token": found.group(1)},
        headers={"Cookie": cookie, "Origin": "http://testserver"},
    )


def _expired(response: httpx.Response) -> set[str]:
    return {
        header.split("=", 1)[0]
        for header in response.headers.get_list("set-cookie")
        if "Max-Age=0" in header
    }


async def test_logout_expires_every_cookie_but_the_consent_choice(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    sent = "__Host-consent=device:abc; __Host-prefs-session=theme=dark; __Host-csrf=x; _ga=GA1"
    response = await _log_out(runtime, client, sent)
    assert response.status_code == 303
    expired = _expired(response)
    assert {"__Host-session", "__Host-prefs-session", "__Host-csrf", "_ga"} <= expired
    assert "__Host-consent" not in expired
    assert not any(
        header.startswith("__Host-consent=") for header in response.headers.get_list("set-cookie")
    )


async def test_logout_clears_cache_and_storage_but_not_cookies_wholesale(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    response = await _log_out(runtime, client, "__Host-consent=device:abc")
    # "cookies" would delete the consent cookie too; they are expired one by one instead.
    assert response.headers["clear-site-data"] == '"cache", "storage"'
    assert response.headers["cache-control"] == "no-store"


async def test_logout_does_not_echo_a_cookie_name_that_is_not_a_token(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    response = await _log_out(runtime, client, "bad(name)=1")
    assert not any("bad(name)" in header for header in response.headers.get_list("set-cookie"))
