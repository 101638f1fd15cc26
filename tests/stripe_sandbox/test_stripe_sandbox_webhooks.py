"""Events and webhook delivery: signed as Stripe signs, retried, logged, and orderable."""

from __future__ import annotations

import asyncio
import json
import re

import pytest
import stripe

from tests.stripe_sandbox.conftest import SDK_POSTS_RAW_DATA, InProcessSandbox
from tests.stripe_sandbox.server import WEBHOOK_SECRET, WebhookReceiver

pytestmark = SDK_POSTS_RAW_DATA


async def create_customer(
    stripe_api: stripe.StripeClient, email: str = "ada@example.com"
) -> stripe.Customer:
    return await stripe_api.v1.customers.create_async(params={"email": email})


async def test_deliveries_are_signed_as_stripe_signs_them(
    stripe_api: stripe.StripeClient, receiver: WebhookReceiver
) -> None:
    customer = await create_customer(stripe_api)

    [event] = await receiver.wait_for(1)

    headers = receiver.headers[0]
    assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", headers["stripe-signature"])
    assert headers["content-type"] == "application/json; charset=utf-8"
    assert headers["user-agent"] == "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
    assert (event.type, event.data.object["id"]) == ("customer.created", customer.id)
    assert event.livemode is False
    body = json.dumps(receiver.bodies[0], indent=2)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, headers["stripe-signature"], "whsec_someone_else")


async def test_refused_deliveries_are_retried_until_accepted(
    stripe_api: stripe.StripeClient, receiver: WebhookReceiver, sandbox: InProcessSandbox
) -> None:
    receiver.fail_next(2)

    await create_customer(stripe_api)

    await receiver.wait_for(1)
    assert receiver.refusals == 2
    [delivery] = (await sandbox.get("deliveries"))["data"]
    assert (delivery["state"], delivery["attempts"], delivery["last_status"]) == (
        "delivered",
        3,
        200,
    )


async def test_delivery_gives_up_after_the_last_attempt(
    stripe_api: stripe.StripeClient, receiver: WebhookReceiver, sandbox: InProcessSandbox
) -> None:
    sandbox.state.dispatcher.max_attempts = 2
    receiver.fail_next(5)

    await create_customer(stripe_api)
    await asyncio.sleep(0.3)

    [delivery] = (await sandbox.get("deliveries"))["data"]
    assert (delivery["state"], delivery["attempts"], delivery["last_status"]) == ("failed", 2, 500)
    assert receiver.events == []


async def test_events_about_one_object_wait_behind_its_retries(
    stripe_api: stripe.StripeClient, receiver: WebhookReceiver, sandbox: InProcessSandbox
) -> None:
    # Long enough for the next two requests to land while the first event waits to retry.
    sandbox.state.dispatcher.retry_base_seconds = 0.5
    receiver.fail_next(1)
    customer = await create_customer(stripe_api)
    await stripe_api.v1.customers.update_async(customer.id, params={"name": "Ada"})
    other = await create_customer(stripe_api, "grace@example.com")

    await receiver.wait_for(3)

    assert [(event.type, event.data.object["id"]) for event in receiver.events] == [
        ("customer.created", other.id),
        ("customer.created", customer.id),
        ("customer.updated", customer.id),
    ]


async def test_paused_deliveries_go_out_in_the_order_a_test_chooses(
    stripe_api: stripe.StripeClient, receiver: WebhookReceiver, sandbox: InProcessSandbox
) -> None:
    await sandbox.post("pause_deliveries")
    first = await create_customer(stripe_api)
    second = await create_customer(stripe_api, "grace@example.com")
    await asyncio.sleep(0.1)
    assert receiver.events == []
    events = await stripe_api.v1.events.list_async(params={"type": "customer.created"})

    for event in events.data:  # newest first: the reverse of creation order
        resent = await sandbox.post(f"events/{event.id}/resend")
        assert resent["state"] == "delivered"
    await sandbox.post("resume_deliveries")
    await sandbox.post("deliveries/drain", {"timeout": 2})

    assert [event.data.object["id"] for event in receiver.events] == [second.id, first.id]


async def test_events_record_the_request_and_the_change(stripe_api: stripe.StripeClient) -> None:
    customer = await create_customer(stripe_api)
    await stripe_api.v1.customers.update_async(
        customer.id, params={"email": "ada@new.example"}, options={"idempotency_key": "change-1"}
    )

    events = await stripe_api.v1.events.list_async(params={"type": "customer.*", "limit": 1})
    [updated] = events.data
    fetched = await stripe_api.v1.events.retrieve_async(updated.id)

    assert events.has_more is True
    assert fetched.type == "customer.updated"
    assert fetched.request is not None and fetched.request.idempotency_key == "change-1"
    assert str(fetched.request.id).startswith("req_")
    assert fetched.data.previous_attributes is not None
    assert fetched.data.previous_attributes["email"] == "ada@example.com"
    assert fetched.data.object["email"] == "ada@new.example"


async def test_pinned_clock_dates_new_objects_and_events(
    stripe_api: stripe.StripeClient, sandbox: InProcessSandbox
) -> None:
    await sandbox.post("clock", {"now": 1_900_000_000})

    customer = await create_customer(stripe_api)

    assert customer.created == 1_900_000_000
    [event] = (await stripe_api.v1.events.list_async()).data
    assert event.created == 1_900_000_000


async def test_repeated_idempotency_key_replays_the_first_answer(
    stripe_api: stripe.StripeClient,
) -> None:
    first = await stripe_api.v1.customers.create_async(
        params={"email": "ada@example.com"}, options={"idempotency_key": "signup-1"}
    )
    again = await stripe_api.v1.customers.create_async(
        params={"email": "ada@example.com"}, options={"idempotency_key": "signup-1"}
    )

    assert again.id == first.id
    with pytest.raises(stripe.IdempotencyError):
        await stripe_api.v1.customers.create_async(
            params={"email": "grace@example.com"}, options={"idempotency_key": "signup-1"}
        )


async def test_webhook_target_can_change_at_run_time(
    stripe_api: stripe.StripeClient, receiver: WebhookReceiver, sandbox: InProcessSandbox
) -> None:
    await sandbox.post("webhook", {"url": "", "secret": WEBHOOK_SECRET})
    await create_customer(stripe_api)
    await sandbox.post("webhook", {"url": receiver.url, "secret": WEBHOOK_SECRET})

    await create_customer(stripe_api, "grace@example.com")

    [event] = await receiver.wait_for(1)
    assert event.data.object["email"] == "grace@example.com"
