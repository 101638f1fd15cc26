"""Plans and top-ups end to end against the Stripe sandbox, events delivered in chosen orders.

The app's own `stripe` client talks to the sandbox over HTTP; the test pays on the sandbox's
hosted pages as a person would, then takes the events the sandbox recorded (`GET /v1/events`)
and posts them to the webhook endpoint signed with the endpoint's secret, in the order a test
needs: as they happened, reversed, repeated.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from beatbun.accounts.models import Account
from beatbun.billing.checkout import open_portal, start_checkout
from beatbun.billing.credits import get_wallet, list_entries
from beatbun.billing.plans import GRACE_SECONDS, PACKS, PLANS
from beatbun.billing.store import list_payments, list_subscriptions
from beatbun.errors import Conflict, PermissionDenied
from beatbun.mail.drain import send_queued_mail
from beatbun.scheduled import run_scheduled
from beatbun.settings import Settings
from beatbun.tracks.store import list_tracks
from beatbun_local.runtime import LocalRuntime
from tests.factories import create_account, create_verified_account, spend
from tests.fakes import ManualClock
from tests.stripe_sandbox.server import API_KEY, WEBHOOK_SECRET, RunningSandbox, running_sandbox
from tests.tracks.conftest import make_tracks, stored_keys

pytestmark = pytest.mark.usefixtures("money_invariants")

GOOD_CARD = "4242 4242 4242 4242"
DECLINED_CARD = "4000 0000 0000 0002"


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[RunningSandbox]:
    # No webhook URL: the sandbox records events, and each test delivers them itself. Objects
    # are shaped as the API version the SDK pins (2026-10-28), without fields Stripe dropped.
    yield from running_sandbox(tmp_path, extra_args=("--no-legacy-fields",))


@pytest.fixture
def settings(sandbox: RunningSandbox) -> Settings:
    return Settings(
        environment="test",
        stripe_secret_key=API_KEY,
        stripe_webhook_secret=WEBHOOK_SECRET,
        stripe_api_base=sandbox.url,
    )


class Stripe:
    """What a person and Stripe do in a test: pay on hosted pages, and deliver events."""

    def __init__(self, sandbox: RunningSandbox, client: httpx.AsyncClient) -> None:
        self.sandbox = sandbox
        self.app = client
        self.delivered: set[str] = set()

    async def pay(self, url: str, card: str = GOOD_CARD) -> httpx.Response:
        form = {"cardNumber": card, "cardExpiry": "12 / 34", "cardCvc": "123", "billingName": "T"}
        async with httpx.AsyncClient() as browser:
            return await browser.post(url, data=form)

    async def new_events(self) -> list[dict[str, Any]]:
        """Every event not delivered yet, oldest first."""
        async with httpx.AsyncClient() as http:
            response = await http.get(
                f"{self.sandbox.url}/v1/events",
                params={"limit": 100},
                headers={"Authorization": f"Bearer {API_KEY}"},
            )
        events = [e for e in response.json()["data"] if e["id"] not in self.delivered]
        # Stripe lists newest first.
        return events[::-1]

    async def deliver(self, events: list[dict[str, Any]]) -> list[httpx.Response]:
        answers = []
        for event in events:
            payload = json.dumps(event).encode()
            at = int(time.time())
            digest = hmac.new(WEBHOOK_SECRET.encode(), f"{at}.".encode() + payload, hashlib.sha256)
            answer = await self.app.post(
                "/api/webhooks/stripe",
                content=payload,
                headers={"stripe-signature": f"t={at},v1={digest.hexdigest()}"},
            )
            assert answer.status_code == 200, answer.text
            self.delivered.add(event["id"])
            answers.append(answer)
        return answers

    async def deliver_new(self, *, reverse: bool = False) -> list[str]:
        events = await self.new_events()
        await self.deliver(events[::-1] if reverse else events)
        return [event["type"] for event in events]

    async def control(self, path: str) -> Any:
        async with httpx.AsyncClient() as http:
            response = await http.post(f"{self.sandbox.url}/_sandbox/{path}", json={})
        response.raise_for_status()
        return response.json()


@pytest.fixture
def stripe(sandbox: RunningSandbox, client: httpx.AsyncClient) -> Stripe:
    return Stripe(sandbox, client)


async def _subscribe(runtime: LocalRuntime, stripe: Stripe, account: Account, plan: str) -> None:
    redirect = await start_checkout(runtime, account=account, item=plan, language="en")
    paid = await stripe.pay(redirect.url)
    assert paid.status_code == 303
    assert paid.headers["location"].startswith(runtime.settings.public_url + "/billing/return")


async def _plan_and_balance(runtime: LocalRuntime, account_id: str) -> tuple[str, int]:
    wallet = await get_wallet(runtime.db, account_id)
    return wallet.plan, wallet.balance


@pytest.mark.parametrize("reverse", [False, True], ids=["in-order", "reversed"])
async def test_subscribing_grants_the_plan_and_keeps_every_track(
    runtime: LocalRuntime, stripe: Stripe, reverse: bool
) -> None:
    account = await create_verified_account(runtime)
    made = await make_tracks(runtime, account_id=account.id, count=2)
    assert all(track.expires_at is not None for track in made)
    await _subscribe(runtime, stripe, account, "creator")
    assert await _plan_and_balance(runtime, account.id) == (
        "free",
        PLANS["free"].monthly_credits - 2,
    )

    types = await stripe.deliver_new(reverse=reverse)

    assert {"customer.subscription.created", "invoice.paid", "checkout.session.completed"} <= set(
        types
    )
    assert await _plan_and_balance(runtime, account.id) == (
        "creator",
        PLANS["free"].monthly_credits - 2 + PLANS["creator"].monthly_credits,
    )
    kept = await list_tracks(runtime.db, account_id=account.id)
    assert [track.expires_at for track in kept] == [None, None]
    assert [track.licence for track in kept] == ["personal", "personal"]
    status = await runtime.db.prepare("SELECT status FROM checkout_sessions").first("status")
    assert status == "fulfilled"
    # The queue moves the kept audio out of the free tier's prefix.
    await runtime.user_queues.run_due_alarms()
    assert await stored_keys(runtime, prefix=f"tracks/free/{account.id}/") == set()
    moved = await list_tracks(runtime.db, account_id=account.id)
    assert {track.blob_key for track in moved} == await stored_keys(
        runtime, prefix=f"tracks/paid/{account.id}/"
    )


async def test_subscription_updated_before_created_ends_on_the_latest_plan(
    runtime: LocalRuntime, stripe: Stripe
) -> None:
    account = await create_verified_account(runtime)
    await _subscribe(runtime, stripe, account, "creator")
    created = [e for e in await stripe.new_events() if e["type"] == "customer.subscription.created"]
    # Before any of it reaches us, the person upgrades in the portal.
    portal = await open_portal(runtime, account_id=account.id, language="en")
    sub_id = created[0]["data"]["object"]["id"]
    async with httpx.AsyncClient() as browser:
        await browser.post(
            f"{portal.url}/subscriptions/{sub_id}/switch",
            data={"price": runtime.settings.stripe_price_pro},
        )
    events = await stripe.new_events()
    updated = [e for e in events if e["type"] == "customer.subscription.updated"]
    others = [e for e in events if e["type"] != "customer.subscription.updated"]
    assert updated and created
    await stripe.deliver(updated)
    await stripe.deliver(created)
    assert (await get_wallet(runtime.db, account.id)).plan == "pro"
    await stripe.deliver(others)
    assert (await get_wallet(runtime.db, account.id)).plan == "pro"
    [subscription] = await list_subscriptions(runtime.db, account.id)
    assert subscription.plan == "pro"


async def test_invoice_delivered_twice_grants_once(runtime: LocalRuntime, stripe: Stripe) -> None:
    account = await create_verified_account(runtime)
    await _subscribe(runtime, stripe, account, "pro")
    events = await stripe.new_events()
    await stripe.deliver(events)
    invoice_paid = [e for e in events if e["type"] == "invoice.paid"]
    answers = await stripe.deliver(invoice_paid * 3)
    assert [a.json()["applied"] for a in answers] == [False, False, False]
    grants = [e for e in await list_entries(runtime.db, account.id) if e.kind == "grant"]
    assert [e.amount for e in grants] == [PLANS["pro"].monthly_credits]


async def test_second_subscription_is_refused(runtime: LocalRuntime, stripe: Stripe) -> None:
    account = await create_verified_account(runtime)
    await _subscribe(runtime, stripe, account, "creator")
    await stripe.deliver_new()
    with pytest.raises(Conflict) as caught:
        await start_checkout(runtime, account=account, item="pro", language="en")
    assert caught.value.code == "already_subscribed"


async def test_cancel_in_portal_keeps_plan_until_period_end(
    runtime: LocalRuntime, stripe: Stripe
) -> None:
    account = await create_verified_account(runtime)
    await make_tracks(runtime, account_id=account.id, count=1)
    await _subscribe(runtime, stripe, account, "creator")
    await stripe.deliver_new()
    portal = await open_portal(runtime, account_id=account.id, language="en")
    [subscription] = await list_subscriptions(runtime.db, account.id)
    async with httpx.AsyncClient() as browser:
        canceled = await browser.post(f"{portal.url}/subscriptions/{subscription.id}/cancel")
    assert canceled.status_code == 303
    await stripe.deliver_new()
    [subscription] = await list_subscriptions(runtime.db, account.id)
    assert subscription.cancel_at_period_end
    assert (await get_wallet(runtime.db, account.id)).plan == "creator"

    # The period ends: Stripe deletes the subscription. `deleted` arrives before `updated`.
    await stripe.control(f"subscriptions/{subscription.id}/renew")
    types = await stripe.deliver_new(reverse=True)

    assert "customer.subscription.deleted" in types
    assert (await get_wallet(runtime.db, account.id)).plan == "free"
    # Tracks kept while subscribed stay kept.
    assert [t.expires_at for t in await list_tracks(runtime.db, account_id=account.id)] == [None]


async def test_failed_renewal_keeps_the_plan_through_the_grace_period(
    runtime: LocalRuntime, stripe: Stripe, clock: ManualClock
) -> None:
    account = await create_verified_account(runtime)
    await _subscribe(runtime, stripe, account, "creator")
    await stripe.deliver_new()
    [subscription] = await list_subscriptions(runtime.db, account.id)
    await stripe.control(f"subscriptions/{subscription.id}/fail_renewal")
    types = await stripe.deliver_new()

    assert "invoice.payment_failed" in types
    [subscription] = await list_subscriptions(runtime.db, account.id)
    assert (subscription.status, subscription.grace_until) == (
        "past_due",
        int(clock.now()) + GRACE_SECONDS,
    )
    assert (await get_wallet(runtime.db, account.id)).plan == "creator"
    failed = [p for p in await list_payments(runtime.db, account.id) if p.status == "failed"]
    assert len(failed) == 1
    # The plan's earlier notices took this second of the mail rate: the next one sends it.
    clock.advance(1)
    await send_queued_mail(runtime)
    [mail] = [m for m in runtime.mailer.messages() if "payment did not go through" in m.subject]
    assert mail.to == account.email
    assert "/billing" in mail.text
    grace_day = datetime.fromtimestamp(int(clock.now()) + GRACE_SECONDS, tz=UTC).date()
    assert grace_day.isoformat() in mail.text

    clock.advance(GRACE_SECONDS + 1)
    await run_scheduled(runtime, cron="0 * * * *", scheduled_time=clock.now())
    assert (await get_wallet(runtime.db, account.id)).plan == "free"


async def test_upgrade_in_portal_grants_the_difference(
    runtime: LocalRuntime, stripe: Stripe
) -> None:
    account = await create_verified_account(runtime)
    await _subscribe(runtime, stripe, account, "creator")
    await stripe.deliver_new()
    portal = await open_portal(runtime, account_id=account.id, language="en")
    [subscription] = await list_subscriptions(runtime.db, account.id)
    async with httpx.AsyncClient() as browser:
        switched = await browser.post(
            f"{portal.url}/subscriptions/{subscription.id}/switch",
            data={"price": runtime.settings.stripe_price_pro},
        )
    assert switched.status_code == 303
    await stripe.deliver_new()
    assert await _plan_and_balance(runtime, account.id) == ("pro", PLANS["pro"].monthly_credits)


async def test_switching_down_and_up_again_grants_the_upgrade_once_per_period(
    runtime: LocalRuntime, stripe: Stripe
) -> None:
    account = await create_verified_account(runtime)
    await _subscribe(runtime, stripe, account, "creator")
    await stripe.deliver_new()
    portal = await open_portal(runtime, account_id=account.id, language="en")
    [subscription] = await list_subscriptions(runtime.db, account.id)
    prices = runtime.settings
    async with httpx.AsyncClient() as browser:
        for price in (prices.stripe_price_pro, prices.stripe_price_creator) * 3:
            await browser.post(
                f"{portal.url}/subscriptions/{subscription.id}/switch", data={"price": price}
            )
            await stripe.deliver_new()
    grants = [e.amount for e in await list_entries(runtime.db, account.id) if e.kind == "grant"]
    # The first period's credits, then at most the difference once, however often it switches.
    assert grants[-1] == PLANS["creator"].monthly_credits
    assert len(grants) == 2
    assert 0 < grants[0] <= PLANS["pro"].monthly_credits - PLANS["creator"].monthly_credits


async def test_downgrade_in_portal_waits_for_the_end_of_the_paid_period(
    runtime: LocalRuntime, stripe: Stripe, clock: ManualClock
) -> None:
    clock.advance(time.time() - clock.now())  # the sandbox's periods run on real time
    account = await create_verified_account(runtime)
    await _subscribe(runtime, stripe, account, "pro")
    await stripe.deliver_new()
    portal = await open_portal(runtime, account_id=account.id, language="en")
    [subscription] = await list_subscriptions(runtime.db, account.id)
    async with httpx.AsyncClient() as browser:
        await browser.post(
            f"{portal.url}/subscriptions/{subscription.id}/switch",
            data={"price": runtime.settings.stripe_price_creator},
        )
    await stripe.deliver_new()

    [switched] = await list_subscriptions(runtime.db, account.id)
    assert (switched.plan, switched.held_plan) == ("creator", "pro")
    assert switched.held_until == subscription.current_period_end
    assert (await get_wallet(runtime.db, account.id)).plan == "pro"

    assert switched.held_until is not None
    clock.advance(switched.held_until - clock.now() + 1)
    await run_scheduled(runtime, cron="0 * * * *", scheduled_time=clock.now())
    assert (await get_wallet(runtime.db, account.id)).plan == "creator"


async def test_top_up_then_refund_takes_back_what_is_unspent(
    runtime: LocalRuntime, stripe: Stripe
) -> None:
    account = await create_verified_account(runtime)
    pack = PACKS["pack_small"]
    redirect = await start_checkout(runtime, account=account, item=pack.id, language="en")
    assert (await stripe.pay(redirect.url)).status_code == 303
    await stripe.deliver_new()
    assert (await get_wallet(runtime.db, account.id)).balance == pack.credits
    await make_tracks(runtime, account_id=account.id, count=1)  # spends 1 credit (plus the grant)

    [payment] = await list_payments(runtime.db, account.id)
    assert payment.url is not None
    assert payment.url.startswith(f"{stripe.sandbox.url}/r/ch_")  # Stripe's receipt page
    session = await _stripe_get(stripe, f"/v1/checkout/sessions/{payment.id}")
    await _stripe_post(stripe, "/v1/refunds", {"payment_intent": session["payment_intent"]})
    await stripe.deliver_new()

    wallet = await get_wallet(runtime.db, account.id)
    # The grant of the free month stays; of the pack, only the unspent credits went back.
    assert wallet.balance == PLANS["free"].monthly_credits - 1
    [payment] = await list_payments(runtime.db, account.id)
    assert payment.status == "refunded"


async def test_refunded_invoice_takes_back_the_plans_unspent_credits(
    runtime: LocalRuntime, stripe: Stripe
) -> None:
    account = await create_verified_account(runtime)
    await _subscribe(runtime, stripe, account, "creator")
    await stripe.deliver_new()
    await spend(runtime, account.id, amount=100)
    [invoice] = [p for p in await list_payments(runtime.db, account.id) if p.kind == "invoice"]
    paid = await _stripe_get(stripe, f"/v1/invoice_payments?invoice={invoice.id}")
    intent = paid["data"][0]["payment"]["payment_intent"]
    await _stripe_post(stripe, "/v1/refunds", {"payment_intent": intent})
    await stripe.deliver_new()
    assert (await get_wallet(runtime.db, account.id)).balance == 0
    [invoice] = [p for p in await list_payments(runtime.db, account.id) if p.kind == "invoice"]
    assert (invoice.status, invoice.amount_refunded) == ("refunded", invoice.amount)


async def test_expired_checkout_reads_as_nothing_charged(
    runtime: LocalRuntime, stripe: Stripe
) -> None:
    account = await create_verified_account(runtime)
    await start_checkout(runtime, account=account, item="pack_small", language="en")
    session_id = await runtime.db.prepare("SELECT id FROM checkout_sessions").first("id")
    await _stripe_post(stripe, f"/v1/checkout/sessions/{session_id}/expire", {})
    assert "checkout.session.expired" in await stripe.deliver_new()
    status = await runtime.db.prepare("SELECT status FROM checkout_sessions").first("status")
    assert status == "failed"
    assert (await get_wallet(runtime.db, account.id)).balance == 0


async def test_unverified_address_cannot_pay(runtime: LocalRuntime, stripe: Stripe) -> None:
    account = await create_account(runtime)
    with pytest.raises(PermissionDenied) as caught:
        await start_checkout(runtime, account=account, item="pack_small", language="en")
    assert caught.value.code == "email_unverified"
    assert await stripe.new_events() == []


async def test_declined_card_grants_nothing(runtime: LocalRuntime, stripe: Stripe) -> None:
    account = await create_verified_account(runtime)
    redirect = await start_checkout(runtime, account=account, item="pack_large", language="en")
    page = await stripe.pay(redirect.url, card=DECLINED_CARD)
    assert page.status_code in (200, 402)
    assert "Your card was declined." in page.text
    # Stripe sends nothing for a decline inside Checkout; only the new customer is news.
    assert await stripe.deliver_new() == ["customer.created"]
    assert (await get_wallet(runtime.db, account.id)).balance == 0
    status = await runtime.db.prepare("SELECT status FROM checkout_sessions").first("status")
    assert status == "open"


async def _stripe_get(stripe: Stripe, path: str) -> Any:
    async with httpx.AsyncClient() as http:
        response = await http.get(
            stripe.sandbox.url + path, headers={"Authorization": f"Bearer {API_KEY}"}
        )
    response.raise_for_status()
    return response.json()


async def _stripe_post(stripe: Stripe, path: str, data: dict[str, str]) -> Any:
    async with httpx.AsyncClient() as http:
        response = await http.post(
            stripe.sandbox.url + path, data=data, headers={"Authorization": f"Bearer {API_KEY}"}
        )
    response.raise_for_status()
    return response.json()
