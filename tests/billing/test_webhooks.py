"""The Stripe webhook endpoint with events signed as Stripe signs them.

These events need nothing from Stripe's API (top-ups, refunds, bad signatures); the ones that
read a subscription back from Stripe run against the Stripe sandbox in test_stripe_flows.py.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from typing import Any

import httpx
import pytest

from beatbun.billing.credits import get_wallet, list_entries
from beatbun.billing.models import CheckoutRecord
from beatbun.billing.plans import PACKS
from beatbun.billing.store import insert_checkout_statement, insert_customer_statement
from beatbun.settings import Settings
from beatbun_local.runtime import LocalRuntime
from tests.factories import create_verified_account, spend

pytestmark = pytest.mark.usefixtures("money_invariants")

SECRET = "whsec_test_secret"
PACK = PACKS["pack_medium"]


@pytest.fixture
def settings() -> Settings:
    # Nothing listens on port 9: the receipt look-up fails at once, as Stripe being down would.
    return Settings(
        environment="test",
        stripe_webhook_secret=SECRET,
        stripe_secret_key="sk_test_x",
        stripe_api_base="http://127.0.0.1:9",
    )


def sign(payload: bytes, *, secret: str = SECRET, at: int | None = None) -> str:
    """The `Stripe-Signature` header Stripe sends (stripe.com/docs/webhooks#verify-manually)."""
    timestamp = int(time.time()) if at is None else at
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def event(kind: str, obj: dict[str, Any], *, event_id: str = "evt_1") -> bytes:
    body = {
        "id": event_id,
        "object": "event",
        "api_version": "2026-10-28.endive",
        "created": int(time.time()),
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": kind,
    }
    return json.dumps(body).encode()


def paid_session(session_id: str = "cs_test_1", *, payment_status: str = "paid") -> dict[str, Any]:
    return {
        "id": session_id,
        "object": "checkout.session",
        "mode": "payment",
        "payment_status": payment_status,
        "status": "complete",
        "amount_total": PACK.price_cents,
        "currency": "eur",
        "created": int(time.time()),
        "payment_intent": "pi_1",
        "customer": "cus_1",
    }


def refunded_charge(amount_refunded: int) -> dict[str, Any]:
    return {
        "id": "ch_1",
        "object": "charge",
        "amount": PACK.price_cents,
        "amount_refunded": amount_refunded,
        "refunded": amount_refunded == PACK.price_cents,
        "payment_intent": "pi_1",
        "customer": "cus_1",
    }


async def _checkout(
    runtime: LocalRuntime, *, session_id: str = "cs_test_1", item: str = PACK.id
) -> str:
    account = await create_verified_account(runtime)
    await insert_customer_statement(
        runtime.db, account_id=account.id, customer_id="cus_1", now=runtime.clock.now()
    ).run()
    record = CheckoutRecord(
        id=session_id,
        account_id=account.id,
        mode="payment" if item in PACKS else "subscription",
        item=item,
        status="open",
        created_at=int(runtime.clock.now()),
    )
    await insert_checkout_statement(runtime.db, record, now=runtime.clock.now()).run()
    return account.id


async def _post(client: httpx.AsyncClient, payload: bytes, signature: str | None) -> httpx.Response:
    headers = {"content-type": "application/json"}
    if signature is not None:
        headers["stripe-signature"] = signature
    return await client.post("/api/webhooks/stripe", content=payload, headers=headers)


async def _state(runtime: LocalRuntime, account_id: str) -> tuple[int, int, int]:
    wallet = await get_wallet(runtime.db, account_id)
    events = await runtime.db.prepare("SELECT count(*) AS n FROM stripe_events").first("n")
    return wallet.balance, len(await list_entries(runtime.db, account_id)), int(events)


async def test_top_up_paid_adds_the_pack_once(
    client: httpx.AsyncClient, runtime: LocalRuntime
) -> None:
    account_id = await _checkout(runtime)
    payload = event("checkout.session.completed", paid_session())
    response = await _post(client, payload, sign(payload))
    assert response.status_code == 200
    assert response.json() == {"received": True, "event_id": "evt_1", "applied": True}
    again = await _post(client, payload, sign(payload))
    assert again.json()["applied"] is False
    assert await _state(runtime, account_id) == (PACK.credits, 1, 1)


async def test_top_up_delivered_ten_times_at_once_has_one_effect(
    client: httpx.AsyncClient, runtime: LocalRuntime
) -> None:
    account_id = await _checkout(runtime)
    payload = event("checkout.session.completed", paid_session())
    responses = await asyncio.gather(*(_post(client, payload, sign(payload)) for _ in range(10)))
    assert {r.status_code for r in responses} == {200}
    assert sum(r.json()["applied"] for r in responses) == 1
    assert await _state(runtime, account_id) == (PACK.credits, 1, 1)


async def test_top_up_completed_then_async_success_grants_once(
    client: httpx.AsyncClient, runtime: LocalRuntime
) -> None:
    account_id = await _checkout(runtime)
    first = event("checkout.session.completed", paid_session(), event_id="evt_a")
    second = event("checkout.session.async_payment_succeeded", paid_session(), event_id="evt_b")
    for payload in (first, second):
        assert (await _post(client, payload, sign(payload))).status_code == 200
    assert (await get_wallet(runtime.db, account_id)).balance == PACK.credits


async def test_top_up_unpaid_grants_nothing_until_it_clears(
    client: httpx.AsyncClient, runtime: LocalRuntime
) -> None:
    account_id = await _checkout(runtime)
    pending = event(
        "checkout.session.completed", paid_session(payment_status="unpaid"), event_id="evt_a"
    )
    await _post(client, pending, sign(pending))
    assert (await get_wallet(runtime.db, account_id)).balance == 0
    status = await runtime.db.prepare("SELECT status FROM checkout_sessions").first("status")
    assert status == "processing"
    cleared = event("checkout.session.async_payment_succeeded", paid_session(), event_id="evt_b")
    await _post(client, cleared, sign(cleared))
    assert (await get_wallet(runtime.db, account_id)).balance == PACK.credits


async def test_top_up_async_failure_grants_nothing(
    client: httpx.AsyncClient, runtime: LocalRuntime
) -> None:
    account_id = await _checkout(runtime)
    failed = event("checkout.session.async_payment_failed", paid_session(payment_status="unpaid"))
    await _post(client, failed, sign(failed))
    assert (await get_wallet(runtime.db, account_id)).balance == 0
    status = await runtime.db.prepare("SELECT status FROM checkout_sessions").first("status")
    payment = await runtime.db.prepare("SELECT status FROM payments").first("status")
    assert (status, payment) == ("failed", "failed")


@pytest.mark.parametrize(
    ("signature", "why"),
    [
        (None, "missing header"),
        ("t=1,v1=00", "garbage"),
        ("wrong-secret", "signed with another secret"),
        ("stale", "timestamp older than the 300 s tolerance"),
        ("tampered", "signature of another body"),
    ],
)
async def test_bad_signature_refused_with_no_effect(
    client: httpx.AsyncClient, runtime: LocalRuntime, signature: str | None, why: str
) -> None:
    account_id = await _checkout(runtime)
    payload = event("checkout.session.completed", paid_session())
    header = {
        "wrong-secret": sign(payload, secret="whsec_other"),
        "stale": sign(payload, at=int(time.time()) - 301),
        "tampered": sign(payload.replace(b"cs_test_1", b"cs_test_2")),
    }.get(signature or "", signature)
    response = await _post(client, payload, header)
    assert response.status_code == 400, why
    assert response.json()["error"] == "invalid_signature"
    assert await _state(runtime, account_id) == (0, 0, 0)


async def test_refund_takes_back_only_what_is_unspent(
    client: httpx.AsyncClient, runtime: LocalRuntime
) -> None:
    account_id = await _checkout(runtime)
    paid = event("checkout.session.completed", paid_session(), event_id="evt_paid")
    await _post(client, paid, sign(paid))
    await spend(runtime, account_id, amount=400)
    refund = event("charge.refunded", refunded_charge(PACK.price_cents), event_id="evt_refund")
    response = await _post(client, refund, sign(refund))
    assert response.json()["applied"] is True
    wallet = await get_wallet(runtime.db, account_id)
    assert wallet.balance == 0
    entries = await list_entries(runtime.db, account_id)
    assert (entries[0].kind, entries[0].amount) == ("adjustment", -(PACK.credits - 400))
    payment = await runtime.db.prepare("SELECT status, amount_refunded FROM payments").first()
    assert payment == {"status": "refunded", "amount_refunded": PACK.price_cents}


async def test_partial_refunds_take_back_their_share_in_any_order(
    client: httpx.AsyncClient, runtime: LocalRuntime
) -> None:
    account_id = await _checkout(runtime)
    paid = event("checkout.session.completed", paid_session(), event_id="evt_paid")
    await _post(client, paid, sign(paid))
    half, all_of_it = PACK.price_cents // 2, PACK.price_cents
    # The second refund's event (cumulative: all of it) arrives before the first (half).
    later = event("charge.refunded", refunded_charge(all_of_it), event_id="evt_r2")
    earlier = event("charge.refunded", refunded_charge(half), event_id="evt_r1")
    for payload in (later, earlier):
        assert (await _post(client, payload, sign(payload))).status_code == 200
    assert (await get_wallet(runtime.db, account_id)).balance == 0
    taken = [e.amount for e in await list_entries(runtime.db, account_id) if e.kind == "adjustment"]
    assert taken == [-PACK.credits]


async def test_event_we_do_not_use_is_acknowledged(
    client: httpx.AsyncClient, runtime: LocalRuntime
) -> None:
    payload = event("payment_intent.created", {"id": "pi_1", "object": "payment_intent"})
    response = await _post(client, payload, sign(payload))
    assert response.status_code == 200
    assert response.json()["applied"] is False


async def test_concurrent_partial_refunds_take_back_the_share_once(
    client: httpx.AsyncClient, runtime: LocalRuntime
) -> None:
    account_id = await _checkout(runtime)
    paid = event("checkout.session.completed", paid_session(), event_id="evt_paid")
    await _post(client, paid, sign(paid))
    half = event("charge.refunded", refunded_charge(PACK.price_cents // 2), event_id="evt_r1")
    whole = event("charge.refunded", refunded_charge(PACK.price_cents), event_id="evt_r2")
    answers = await asyncio.gather(*(_post(client, p, sign(p)) for p in (half, whole)))
    assert {a.status_code for a in answers} == {200}
    taken = [e.amount for e in await list_entries(runtime.db, account_id) if e.kind == "adjustment"]
    assert sum(taken) == -PACK.credits
    assert (await get_wallet(runtime.db, account_id)).balance == 0


async def test_late_unpaid_completion_leaves_a_paid_top_up_paid(
    client: httpx.AsyncClient, runtime: LocalRuntime
) -> None:
    await _checkout(runtime)
    cleared = event("checkout.session.async_payment_succeeded", paid_session(), event_id="evt_b")
    late = event(
        "checkout.session.completed", paid_session(payment_status="unpaid"), event_id="evt_a"
    )
    for payload in (cleared, late):
        assert (await _post(client, payload, sign(payload))).status_code == 200
    payment = await runtime.db.prepare("SELECT status FROM payments").first("status")
    checkout = await runtime.db.prepare("SELECT status FROM checkout_sessions").first("status")
    assert (payment, checkout) == ("paid", "fulfilled")


async def test_failed_delayed_payment_of_a_plan_reads_as_nothing_charged(
    client: httpx.AsyncClient, runtime: LocalRuntime
) -> None:
    account_id = await _checkout(runtime, item="creator")
    session = {**paid_session(payment_status="unpaid"), "mode": "subscription"}
    failed = event("checkout.session.async_payment_failed", session)
    response = await _post(client, failed, sign(failed))
    assert response.status_code == 200
    status = await runtime.db.prepare("SELECT status FROM checkout_sessions").first("status")
    assert status == "failed"
    assert (await get_wallet(runtime.db, account_id)).plan == "free"


async def test_refund_before_its_payment_is_recorded_is_retried(
    client: httpx.AsyncClient, runtime: LocalRuntime
) -> None:
    account_id = await _checkout(runtime)
    refund = event("charge.refunded", refunded_charge(PACK.price_cents), event_id="evt_refund")
    early = await _post(client, refund, sign(refund))
    assert early.status_code == 503  # Stripe delivers it again
    assert early.json()["error"] == "webhook_too_early"
    paid = event("checkout.session.completed", paid_session(), event_id="evt_paid")
    await _post(client, paid, sign(paid))
    again = await _post(client, refund, sign(refund))
    assert again.json()["applied"] is True
    assert (await get_wallet(runtime.db, account_id)).balance == 0
