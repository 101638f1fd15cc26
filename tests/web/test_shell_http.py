"""The shell around every page: navigation, the live balance, error pages that know the visitor."""

from __future__ import annotations

import re

import httpx
import pytest

from beatbun.accounts.sessions import create_session
from beatbun.billing.plans import FREE_PLAN
from beatbun_local.runtime import LocalRuntime
from tests.factories import CLIENT, create_verified_account, spend

BALANCE = re.compile(r"<span data-balance>([^<]*)</span>")
MAIN_NAV = re.compile(r'<nav class="site-nav" aria-label="Main">(.*?)</nav>', re.S)


async def _signed_in(runtime: LocalRuntime) -> dict[str, str]:
    account = await create_verified_account(runtime)
    _, token = await create_session(
        runtime.db, account_id=account.id, stage="full", client=CLIENT, now=runtime.clock.now()
    )
    return {"Cookie": f"__Host-session={token}"}


def _nav_links(page: httpx.Response) -> list[str]:
    found = MAIN_NAV.search(page.text)
    assert found, page.text
    return re.findall(r'href="([^"]+)"', found.group(1))


async def test_signed_in_header_links_every_section_and_the_logo_goes_to_the_studio(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    page = await client.get("/account", headers=await _signed_in(runtime))
    assert page.status_code == 200
    assert _nav_links(page) == [
        "/studio",
        "/tracks",
        "/pricing",
        "/billing",
        "/account",
        "/help",
    ]
    assert '<a class="brand" href="/studio">' in page.text
    assert '<a href="/account" aria-current="page">Account</a>' in page.text


async def test_logged_out_header_offers_log_in_back_to_this_page(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/pricing?canceled=1")
    assert '<a class="brand" href="/">' in page.text
    assert 'href="/login?next=/pricing%3Fcanceled%3D1"' in page.text
    assert 'href="/signup?next=/pricing%3Fcanceled%3D1"' in page.text


async def test_header_shows_the_balance_as_the_wallet_holds_it(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    headers = await _signed_in(runtime)
    first = await client.get("/account", headers=headers)
    assert BALANCE.findall(first.text) == [f"{FREE_PLAN.monthly_credits:,}"]
    account_id = (await create_verified_account(runtime, email="other@example.com")).id
    await spend(runtime, account_id, amount=1)  # someone else's spending changes nothing here
    owner = await client.get("/billing", headers=headers)
    assert BALANCE.findall(owner.text) == [f"{FREE_PLAN.monthly_credits:,}"]
    assert 'src="/static/js/shell.js"' in owner.text


async def test_balance_endpoint_answers_the_number_and_its_text(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    headers = await _signed_in(runtime)
    answer = await client.get("/account/balance", headers={**headers, "Accept": "application/json"})
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    credits = FREE_PLAN.monthly_credits
    assert answer.json() == {"balance": credits, "text": f"{credits:,}"}


async def test_balance_endpoint_needs_a_login(client: httpx.AsyncClient) -> None:
    answer = await client.get("/account/balance", headers={"Accept": "application/json"})
    assert answer.status_code == 401
    assert answer.json()["error"] == "login_required"


async def test_audio_and_script_requests_skip_the_balance(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    headers = {**await _signed_in(runtime), "Sec-Fetch-Dest": "empty"}
    page = await client.get("/account", headers=headers)
    assert page.status_code == 200
    assert "data-balance" not in page.text


async def test_not_found_page_shows_the_signed_in_shell(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    page = await client.get("/no/such/page", headers=await _signed_in(runtime))
    assert page.status_code == 404
    assert _nav_links(page)[0] == "/studio"
    assert BALANCE.search(page.text)
    assert 'href="/studio">Back to the studio</a>' in page.text


async def test_not_found_page_logged_out_offers_the_start_page(client: httpx.AsyncClient) -> None:
    page = await client.get("/no/such/page")
    assert page.status_code == 404
    assert "Log out" not in page.text
    assert 'href="/">Back to the start page</a>' in page.text


async def test_unauthenticated_page_offers_a_login_back_to_it(client: httpx.AsyncClient) -> None:
    page = await client.get("/account/sessions")
    assert page.status_code == 401
    assert 'class="button" href="/login?next=/account/sessions"' in page.text


@pytest.mark.parametrize(
    ("path", "current"),
    [
        ("/account", "Profile"),
        ("/account/two-step", "Two-step verification"),
        ("/account/sessions", "Sessions"),
        ("/account/security-log", "Security log"),
        ("/account/api-keys", "API keys"),
        ("/privacy/choices", "Privacy & cookies"),
    ],
)
async def test_account_pages_share_the_sidebar_with_the_page_marked(
    runtime: LocalRuntime, client: httpx.AsyncClient, path: str, current: str
) -> None:
    page = await client.get(path, headers=await _signed_in(runtime))
    assert page.status_code == 200
    assert '<nav class="account-nav"' in page.text
    assert f'aria-current="page">{current}</a>' in page.text


async def test_preference_center_stays_reachable_logged_out(client: httpx.AsyncClient) -> None:
    page = await client.get("/privacy/choices")
    assert page.status_code == 200
    assert "account-nav" not in page.text
    assert '<h1 id="choices-title">Cookie preferences</h1>' in page.text
