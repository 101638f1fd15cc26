"""Where a browser sends no Sec-Fetch-Site, Origin and then Referer say where a form came from.

Each case posts a valid CSRF token, so only the origin check decides. A request with neither
Origin nor Referer is refused when it carries the session cookie; a logged-out one (carrying
only the anonymous CSRF cookie) is left to its token, which no other site can read.
"""

from __future__ import annotations

import re

import httpx
import pytest

from beatbun.accounts.sessions import create_session
from beatbun_local.runtime import LocalRuntime
from tests.factories import CLIENT, create_verified_account

CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
OWN = "http://testserver"
FOREIGN = "https://evil.example"


async def _session_cookie(runtime: LocalRuntime) -> str:
    account = await create_verified_account(runtime)
    _, token = await create_session(
        runtime.db, account_id=account.id, stage="full", client=CLIENT, now=runtime.clock.now()
    )
    return f"__Host-session={token}"


async def _anonymous_cookie(client: httpx.AsyncClient) -> str:
    page = await client.get("/login")
    return f"__Host-csrf={page.cookies['__Host-csrf']}"


async def _post_display(
    client: httpx.AsyncClient, cookie: str, headers: dict[str, str], *, token: bool = True
) -> httpx.Response:
    """Choose the dark theme, as the footer's form does, with only `headers` saying where from."""
    page = await client.get("/", headers={"Cookie": cookie})
    found = CSRF_INPUT.search(page.text)
    assert found
    data = {"theme": "dark", "language": "en", "next": "/"}
    if token:
        data["csrf_token"] = found.group(1)
    return await client.post(
        "/preferences/display",
        data=data,
        headers={"Cookie": cookie, "Accept": "application/json", **headers},
    )


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": OWN},
        {"Referer": f"{OWN}/account"},
        # A browser that sends Sec-Fetch-Site sends Origin too; no page can forge either.
        {"Sec-Fetch-Site": "same-origin"},
    ],
)
async def test_session_post_from_this_site_is_accepted(
    runtime: LocalRuntime, client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await _post_display(client, await _session_cookie(runtime), headers)
    assert response.status_code == 303, response.text


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Referer": f"{FOREIGN}/page"},
        # Same host, another scheme: another origin.
        {"Referer": "https://testserver/account"},
        {"Referer": "http://[::1/broken"},
        {"Referer": "not a url"},
        {"Origin": "null"},
        {"Origin": FOREIGN, "Referer": f"{OWN}/account"},
        {"Sec-Fetch-Site": "cross-site", "Referer": f"{OWN}/account"},
    ],
)
async def test_session_post_from_elsewhere_or_nowhere_is_refused(
    runtime: LocalRuntime, client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await _post_display(client, await _session_cookie(runtime), headers)
    assert response.status_code == 403
    assert response.json()["error"] == "cross_site_request"


async def test_session_post_from_this_site_still_needs_the_token(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    cookie = await _session_cookie(runtime)
    response = await _post_display(client, cookie, {"Referer": f"{OWN}/"}, token=False)
    assert response.status_code == 403
    assert response.json()["error"] == "csrf_failed"


async def test_logged_out_post_without_origin_or_referer_is_left_to_its_token(
    client: httpx.AsyncClient,
) -> None:
    response = await _post_display(client, await _anonymous_cookie(client), {})
    assert response.status_code == 303, response.text


async def test_logged_out_post_without_origin_or_referer_or_token_is_refused(
    client: httpx.AsyncClient,
) -> None:
    response = await _post_display(client, await _anonymous_cookie(client), {}, token=False)
    assert response.status_code == 403
    assert response.json()["error"] == "csrf_failed"


@pytest.mark.parametrize("referer", [f"{FOREIGN}/login", "https://testserver/login"])
async def test_logged_out_post_with_a_foreign_referer_is_refused(
    client: httpx.AsyncClient, referer: str
) -> None:
    response = await _post_display(client, await _anonymous_cookie(client), {"Referer": referer})
    assert response.status_code == 403
    assert response.json()["error"] == "cross_site_request"


async def test_api_routes_are_not_judged_by_origin(client: httpx.AsyncClient) -> None:
    """The API and Stripe's webhook live under /api/, where no cookie authenticates anything."""
    response = await client.post(
        "/api/webhooks/stripe", content=b"{}", headers={"Referer": f"{FOREIGN}/"}
    )
    assert response.json().get("error") != "cross_site_request"
