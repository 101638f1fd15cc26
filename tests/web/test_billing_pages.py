"""The pricing page, the checkout and portal hand-offs, and the links to them, in process.

Stripe itself is not called here (the lead's sandbox tests do the round trip): every case stops
before a request would leave, at the CSRF check, the item check, or the account's state.
"""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI
from markupsafe import escape

from beatbun.accounts.models import Account
from beatbun.accounts.sessions import create_session
from beatbun.billing.credits import open_wallet
from beatbun.billing.models import Subscription
from beatbun.billing.plans import CURRENCY, LICENCES, PACKS, PLANS
from beatbun.billing.store import upsert_subscription_statement
from beatbun.billing.subscriptions import apply_plan_statements
from beatbun.errors import InsufficientCredits
from beatbun.i18n import N_, translate
from beatbun.settings import Settings
from beatbun.web.money import format_count, format_money
from beatbun_local.runtime import LocalRuntime
from tests.factories import CLIENT, create_verified_account

CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
STRIPE_TEST_KEY = "sk_test_never_called"  # a placeholder: no test reaches Stripe


@pytest.fixture
def settings(request: pytest.FixtureRequest) -> Settings:
    """Payments available, unless a test asks for another key with indirect parametrization."""
    key = getattr(request, "param", STRIPE_TEST_KEY)
    return Settings(environment="test", stripe_secret_key=key)


async def member(
    runtime: LocalRuntime, email: str = "person@example.com"
) -> tuple[Account, dict[str, str]]:
    """A verified account and the headers of its logged-in browser."""
    account = await create_verified_account(runtime, email=email)
    _, token = await create_session(
        runtime.db, account_id=account.id, stage="full", client=CLIENT, now=runtime.clock.now()
    )
    # A browser sends its Origin with every form post; a session's post without one is refused.
    return account, {"Cookie": f"__Host-session={token}", "Origin": "http://testserver"}


async def csrf_of(
    client: httpx.AsyncClient, headers: dict[str, str], path: str = "/pricing"
) -> str:
    found = CSRF_INPUT.search((await client.get(path, headers=headers)).text)
    assert found
    return found.group(1)


async def subscribe(
    runtime: LocalRuntime,
    account: Account,
    *,
    plan: str = "creator",
    status: str = "active",
    cancel_at_period_end: bool = False,
    grace_until: int | None = None,
) -> Subscription:
    """Store a subscription as the webhook would, and put the account on its plan."""
    now = runtime.clock.now()
    subscription = Subscription(
        id=f"sub_{account.id[:8]}",
        account_id=account.id,
        plan=plan,  # type: ignore[arg-type]
        status=status,
        current_period_end=int(now) + 20 * 86400,
        cancel_at_period_end=cancel_at_period_end,
        grace_until=grace_until,
    )
    await runtime.db.batch(
        [
            upsert_subscription_statement(runtime.db, subscription, synced_at=now, now=now),
            *apply_plan_statements(runtime.db, account_id=account.id, now=now),
        ]
    )
    return subscription


def _forms_for(page: str, action: str) -> int:
    return page.count(f'action="{action}"')


@pytest.mark.parametrize("language", ["en", "de", "fr"])
async def test_pricing_shows_every_plan_and_pack_from_the_plan_rules(
    client: httpx.AsyncClient, language: str
) -> None:
    response = await client.get("/pricing", headers={"Accept-Language": language})
    assert response.status_code == 200
    page = response.text
    for plan in PLANS.values():
        assert str(escape(translate(language, plan.name))) in page
        assert format_count(plan.monthly_credits, language) in page
        if plan.is_paid:
            assert format_money(plan.monthly_price_cents, CURRENCY, language) in page
    for pack in PACKS.values():
        assert format_money(pack.price_cents, CURRENCY, language) in page
        credits = translate(language, N_("%(credits)s credits"))
        assert credits % {"credits": format_count(pack.credits, language)} in page
    for licence in LICENCES.values():
        assert str(escape(translate(language, licence.summary))) in page


@pytest.mark.parametrize(
    ("language", "price"),
    [("en", "€9.00"), ("de", "9,00\u00a0€"), ("fr", "9,00\u00a0€")],
)
async def test_pricing_writes_prices_the_readers_way(
    client: httpx.AsyncClient, language: str, price: str
) -> None:
    page = (await client.get("/pricing", headers={"Accept-Language": language})).text
    assert price in page


async def test_pricing_logged_out_offers_sign_up_instead_of_checkout(
    client: httpx.AsyncClient,
) -> None:
    page = (await client.get("/pricing")).text
    assert _forms_for(page, "/billing/checkout") == 0
    assert "Sign up to choose Creator" in page and "Sign up to buy" in page
    # Signing up or logging in comes back here, to the plan the person was looking at.
    assert 'href="/signup"' not in page
    assert (
        page.count('href="/signup?next=/pricing"') >= 4
    )  # the line above the plans, and each offer
    assert 'href="/login?next=/pricing"' in page


async def test_pricing_logged_in_on_free_offers_checkout_for_paid_plans_and_packs(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    _, headers = await member(runtime)
    page = (await client.get("/pricing", headers=headers)).text
    paid = [plan.id for plan in PLANS.values() if plan.is_paid]
    for item in [*paid, *PACKS]:
        assert f'name="item" value="{item}"' in page
    assert 'name="item" value="free"' not in page
    assert "Your plan" in page and "Choose Creator" in page and "Buy 100 credits" in page
    assert _forms_for(page, "/billing/portal") == 0


async def test_pricing_for_a_subscriber_marks_the_plan_and_changes_go_to_the_portal(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    account, headers = await member(runtime)
    await subscribe(runtime, account, plan="creator")
    page = (await client.get("/pricing", headers=headers)).text
    current = page.split('id="plan-creator"', 1)[1].split("</li>", 1)[0]
    assert "Your plan" in current and "/billing/" not in current
    # Pro and Free: one portal button each; packs are still bought at Checkout.
    assert _forms_for(page, "/billing/portal") == 2
    assert 'name="item" value="pro"' not in page
    assert all(f'name="item" value="{pack}"' in page for pack in PACKS)


async def test_pricing_after_a_canceled_checkout_says_nothing_was_charged(
    client: httpx.AsyncClient,
) -> None:
    page = (await client.get("/pricing?canceled=1")).text
    assert "Checkout canceled. Nothing was charged." in page
    assert "Checkout canceled" not in (await client.get("/pricing")).text


@pytest.mark.parametrize("settings", [""], indirect=True)
async def test_pricing_without_payments_shows_prices_and_disables_buttons(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    _, headers = await member(runtime)
    page = (await client.get("/pricing", headers=headers)).text
    assert "Payments are not available yet." in page
    assert format_money(PLANS["creator"].monthly_price_cents, CURRENCY, "en") in page
    buttons = re.findall(r"<button class=\"button\" type=\"submit\"[^>]*>", page)
    checkout_buttons = [b for b in buttons if "payments-unavailable" in b]
    assert len(checkout_buttons) == _forms_for(page, "/billing/checkout") > 0
    assert all(" disabled" in button for button in checkout_buttons)


async def test_checkout_without_csrf_token_is_refused(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    _, headers = await member(runtime)
    response = await client.post("/billing/checkout", data={"item": "creator"}, headers=headers)
    assert response.status_code == 403
    assert "did not come from this site" in response.text


async def test_checkout_needs_a_login(client: httpx.AsyncClient) -> None:
    page = await client.get("/pricing")
    cookie = page.headers["set-cookie"].split(";", 1)[0]  # the anonymous CSRF cookie
    csrf = CSRF_INPUT.search(page.text)
    assert csrf and cookie.startswith("__Host-csrf=")
    response = await client.post(
        "/billing/checkout",
        data={"item": "creator", "csrf_token": csrf.group(1)},
        headers={"Cookie": cookie},
    )
    assert response.status_code == 401 and 'href="/login"' in response.text


async def test_checkout_of_an_unknown_item_shows_pricing_again_with_422(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    _, headers = await member(runtime)
    csrf = await csrf_of(client, headers)
    response = await client.post(
        "/billing/checkout", data={"item": "platinum", "csrf_token": csrf}, headers=headers
    )
    assert response.status_code == 422
    assert "There is no plan or credit pack called &#39;platinum&#39;." in response.text
    assert 'role="alert"' in response.text and 'id="plan-pro"' in response.text


async def test_checkout_of_a_second_plan_sends_a_subscriber_to_the_portal(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    account, headers = await member(runtime)
    await subscribe(runtime, account, plan="creator")
    csrf = await csrf_of(client, headers)
    response = await client.post(
        "/billing/checkout", data={"item": "pro", "csrf_token": csrf}, headers=headers
    )
    assert response.status_code == 409
    assert "Change it in the billing portal instead." in response.text


@pytest.mark.parametrize("settings", [""], indirect=True)
async def test_checkout_without_payments_says_so_and_charges_nothing(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    _, headers = await member(runtime)
    csrf = await csrf_of(client, headers)
    response = await client.post(
        "/billing/checkout", data={"item": "pack_small", "csrf_token": csrf}, headers=headers
    )
    assert response.status_code == 503
    assert "Payments are not available yet." in response.text
    assert "Nothing was bought" in response.text


async def test_portal_without_a_stripe_customer_explains_there_is_nothing_to_manage(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    _, headers = await member(runtime)
    csrf = await csrf_of(client, headers, "/billing")
    response = await client.post("/billing/portal", data={"csrf_token": csrf}, headers=headers)
    assert response.status_code == 409
    assert "There is nothing to manage yet" in response.text
    assert "<h1>Billing</h1>" in response.text


async def test_header_links_pricing_for_everyone_and_billing_once_logged_in(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    anonymous = (await client.get("/")).text
    assert 'href="/pricing"' in anonymous and 'href="/billing"' not in anonymous
    _, headers = await member(runtime)
    logged_in = (await client.get("/", headers=headers)).text
    assert 'href="/pricing"' in logged_in and 'href="/billing"' in logged_in
    account_nav = (await client.get("/account/sessions", headers=headers)).text
    assert account_nav.count('href="/billing"') == 2  # the header and the account menu


async def test_landing_page_links_to_pricing(client: httpx.AsyncClient) -> None:
    assert (
        '<a href="/pricing">See plans, credit packs and licences in full</a>'
        in (await client.get("/")).text
    )


async def test_not_enough_credits_page_links_to_pricing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    async def broke() -> None:
        raise InsufficientCredits(
            N_("This track costs %(cost)s credits and your balance is %(balance)s."),
            params={"cost": 6, "balance": 2},
        )

    app.add_api_route("/test/broke", broke)
    response = await client.get("/test/broke")
    assert response.status_code == 402
    assert 'href="/pricing"' in response.text and "Buy credits or choose a plan" in response.text


async def _empty_wallet(runtime: LocalRuntime, account: Account) -> None:
    await open_wallet(runtime.db, account.id, now=runtime.clock.now())
    await (
        runtime.db.prepare("UPDATE wallets SET balance = 0 WHERE account_id = ?")
        .bind(account.id)
        .run()
    )


async def _submit(
    client: httpx.AsyncClient, headers: dict[str, str], *, accept: str = "text/html"
) -> httpx.Response:
    page = (await client.get("/studio", headers=headers)).text
    token = re.search(r'name="request_token" value="([0-9a-f]+)"', page)
    csrf = CSRF_INPUT.search(page)
    assert token and csrf
    form = {
        "prompt": "sunny pop",
        "duration_seconds": "30",
        "request_token": token.group(1),
        "csrf_token": csrf.group(1),
    }
    return await client.post("/studio", data=form, headers={**headers, "Accept": accept})


async def test_studio_without_enough_credits_links_to_pricing(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    account, headers = await member(runtime)
    await _empty_wallet(runtime, account)
    response = await _submit(client, headers)
    assert response.status_code == 402
    summary = response.text.split("data-form-message", 1)[1].split("</div>", 1)[0]
    assert "your balance is 0" in summary and 'href="/pricing"' in summary


async def test_studio_script_gets_the_code_it_links_to_pricing_by(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    account, headers = await member(runtime)
    await _empty_wallet(runtime, account)
    response = await _submit(client, headers, accept="application/json")
    assert response.status_code == 402
    assert response.json()["error"] == "insufficient_credits"
    page = (await client.get("/studio", headers=headers)).text
    assert '"buy_credits": "Buy credits or choose a plan"' in page
