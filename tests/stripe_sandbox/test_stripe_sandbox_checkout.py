"""Checkout through the official SDK and the hosted page, as Beat Bun's billing code drives it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import stripe

from tests.stripe_sandbox.conftest import SDK_POSTS_RAW_DATA, InProcessSandbox, open_checkout, pay
from tests.stripe_sandbox.server import WebhookReceiver

pytestmark = SDK_POSTS_RAW_DATA

SUBSCRIPTION_EVENTS = [
    "customer.subscription.created",
    "invoice.created",
    "invoice.finalized",
    "invoice.paid",
    "invoice.payment_succeeded",
    "checkout.session.completed",
]
TOP_UP_EVENTS = ["charge.succeeded", "payment_intent.succeeded", "checkout.session.completed"]


async def test_subscription_checkout_with_good_card_activates_and_bills(
    stripe_api: stripe.StripeClient, shopper: httpx.AsyncClient, receiver: WebhookReceiver
) -> None:
    customer, session = await open_checkout(
        stripe_api,
        price="price_creator_monthly",
        mode="subscription",
        subscription_data={"metadata": {"account_id": "acc_1"}},
    )
    assert session.status == "open"
    assert session.payment_status == "unpaid"
    assert session.url and session.url.endswith(f"/c/pay/{session.id}")

    response = await pay(shopper, session.url)

    assert response.status_code == 303
    assert response.headers["location"] == f"http://app.test/billing/done?session_id={session.id}"
    done = await stripe_api.v1.checkout.sessions.retrieve_async(
        session.id, params={"expand": ["subscription", "line_items"]}
    )
    assert (done.status, done.payment_status) == ("complete", "paid")
    assert done.line_items is not None
    bought = done.line_items.data[0].price
    assert bought is not None and bought.id == "price_creator_monthly"
    subscription = done.subscription
    assert isinstance(subscription, stripe.Subscription)
    assert subscription.status == "active"
    assert subscription.customer == customer.id
    assert subscription.metadata.to_dict() == {"account_id": "acc_1"}
    assert subscription.cancel_at_period_end is False
    item = subscription["items"].data[0]
    assert item.price.id == "price_creator_monthly"
    assert item.current_period_end > item.current_period_start
    assert subscription["current_period_end"] == item.current_period_end
    invoice = await stripe_api.v1.invoices.retrieve_async(str(subscription.latest_invoice))
    assert invoice.status == "paid"
    assert (invoice.amount_paid, invoice.currency) == (900, "eur")
    assert invoice.billing_reason == "subscription_create"
    assert invoice.parent is not None and invoice.parent.subscription_details is not None
    assert invoice.parent.subscription_details.subscription == subscription.id
    assert invoice["subscription"] == subscription.id
    line = invoice.lines.data[0]
    assert line.pricing is not None and line.pricing.price_details is not None
    assert line.pricing.price_details.price == "price_creator_monthly"
    assert invoice.hosted_invoice_url and invoice.invoice_pdf
    events = await receiver.wait_for(1 + len(SUBSCRIPTION_EVENTS))
    assert receiver.types == ["customer.created", *SUBSCRIPTION_EVENTS]
    assert receiver.rejected == []
    assert events[-1].data.object["id"] == session.id
    assert {event.api_version for event in events} == {stripe.api_version}


async def test_hosted_invoice_pages_serve_html_and_pdf(
    stripe_api: stripe.StripeClient, shopper: httpx.AsyncClient
) -> None:
    _, session = await open_checkout(stripe_api, price="price_pro_monthly", mode="subscription")
    await pay(shopper, str(session.url))
    done = await stripe_api.v1.checkout.sessions.retrieve_async(session.id)
    invoice = await stripe_api.v1.invoices.retrieve_async(str(done.invoice))

    page = await shopper.get(str(invoice.hosted_invoice_url))
    pdf = await shopper.get(str(invoice.invoice_pdf))

    assert page.status_code == 200
    assert "€24.00" in page.text
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-1.4")


async def test_top_up_checkout_with_good_card_charges_once(
    stripe_api: stripe.StripeClient, shopper: httpx.AsyncClient, receiver: WebhookReceiver
) -> None:
    customer, session = await open_checkout(
        stripe_api,
        price="price_pack_medium",
        mode="payment",
        payment_intent_data={"metadata": {"account_id": "acc_1", "pack": "medium"}},
    )

    response = await pay(shopper, str(session.url))

    assert response.status_code == 303
    done = await stripe_api.v1.checkout.sessions.retrieve_async(session.id)
    assert (done.status, done.payment_status, done.amount_total) == ("complete", "paid", 1200)
    intent = await stripe_api.v1.payment_intents.retrieve_async(str(done.payment_intent))
    assert intent.status == "succeeded"
    charge = await stripe_api.v1.charges.retrieve_async(str(intent.latest_charge))
    assert (charge.amount, charge.amount_refunded, charge.refunded) == (1200, 0, False)
    assert charge.payment_intent == intent.id
    assert charge.customer == customer.id
    assert charge.metadata.to_dict() == {"account_id": "acc_1", "pack": "medium"}
    assert (await shopper.get(str(charge.receipt_url))).status_code == 200
    await receiver.wait_for(1 + len(TOP_UP_EVENTS))
    assert receiver.types == ["customer.created", *TOP_UP_EVENTS]


async def test_checkout_page_has_the_form_a_shopper_needs(
    stripe_api: stripe.StripeClient, shopper: httpx.AsyncClient
) -> None:
    _, session = await open_checkout(stripe_api, price="price_pro_monthly", mode="subscription")

    page = await shopper.get(str(session.url))

    assert page.status_code == 200
    assert "<title>Stripe sandbox checkout</title>" in page.text
    assert "Pro" in page.text and "€24.00" in page.text
    for field in ("cardNumber", "cardExpiry", "cardCvc"):
        assert f'<label for="{field}">' in page.text
    assert '<a href="http://app.test/billing">← Back</a>' in page.text
    assert '<button type="submit">Pay</button>' in page.text


@pytest.mark.parametrize(
    ("card_number", "message"),
    [
        ("4000 0000 0000 0002", "Your card was declined."),
        ("4000 0000 0000 9995", "Your card has insufficient funds."),
        # Saves as a payment method in Stripe, but its first charge (this one) is declined.
        ("4000 0000 0000 0341", "Your card was declined."),
        ("4111 1111 1111 1112", "Your card number is incorrect."),
    ],
)
async def test_refused_card_rerenders_the_page_and_creates_nothing(
    stripe_api: stripe.StripeClient,
    shopper: httpx.AsyncClient,
    sandbox: InProcessSandbox,
    card_number: str,
    message: str,
) -> None:
    _, session = await open_checkout(stripe_api, price="price_pack_small", mode="payment")

    response = await pay(shopper, str(session.url), card_number)

    assert response.status_code == 200
    assert message in response.text
    still = await stripe_api.v1.checkout.sessions.retrieve_async(session.id)
    assert (still.status, still.payment_status) == ("open", "unpaid")
    assert (await stripe_api.v1.charges.list_async()).data == []
    events = await stripe_api.v1.events.list_async()
    assert [event.type for event in events.data] == ["customer.created"]


async def test_async_payment_completes_unpaid_then_settles_paid(
    stripe_api: stripe.StripeClient, shopper: httpx.AsyncClient, receiver: WebhookReceiver
) -> None:
    _, session = await open_checkout(stripe_api, price="price_pack_large", mode="payment")

    response = await pay(shopper, str(session.url), "4000 0000 0000 0077")

    assert response.status_code == 303
    done = await stripe_api.v1.checkout.sessions.retrieve_async(session.id)
    assert (done.status, done.payment_status) == ("complete", "unpaid")
    events = await receiver.wait_for(7)
    assert receiver.types == [
        "customer.created",
        "charge.pending",
        "payment_intent.processing",
        "checkout.session.completed",
        "charge.succeeded",
        "payment_intent.succeeded",
        "checkout.session.async_payment_succeeded",
    ]
    assert events[3].data.object["payment_status"] == "unpaid"
    assert events[-1].data.object["payment_status"] == "paid"


async def test_async_payment_that_bounces_sends_async_payment_failed(
    stripe_api: stripe.StripeClient,
    shopper: httpx.AsyncClient,
    receiver: WebhookReceiver,
    sandbox: InProcessSandbox,
) -> None:
    _, session = await open_checkout(stripe_api, price="price_creator_monthly", mode="subscription")
    await pay(shopper, str(session.url), "4000 0000 0000 0085")

    settled = await sandbox.post(f"checkout/{session.id}/settle")

    assert (settled["status"], settled["payment_status"]) == ("complete", "unpaid")
    await receiver.wait_for(7)
    assert receiver.types[-2:] == [
        "invoice.payment_failed",
        "checkout.session.async_payment_failed",
    ]
    subscription = await stripe_api.v1.subscriptions.retrieve_async(str(settled["subscription"]))
    assert subscription.status == "incomplete"


@pytest.mark.parametrize(
    ("changes", "code", "param", "message"),
    [
        (
            {"line_items": [{"price": "price_nope", "quantity": 1}]},
            "resource_missing",
            "line_items[0][price]",
            "No such price: 'price_nope'",
        ),
        (
            {"success_url": None},
            "parameter_missing",
            "success_url",
            "Missing required param: success_url.",
        ),
        (
            {"mode": "payment"},
            None,
            "line_items[0][price]",
            "You specified `payment` mode but passed a recurring price.",
        ),
        # A one-time price alone cannot make a subscription.
        (
            {"line_items": [{"price": "price_pack_small", "quantity": 1}]},
            None,
            "line_items",
            "You must provide at least one recurring price in `subscription` mode",
        ),
        # A typo: Stripe refuses parameters it does not know, and so does the sandbox.
        (
            {"succes_url": "http://app.test"},
            "parameter_unknown",
            "succes_url",
            "Received unknown parameter",
        ),
        (
            {"customer": "cus_missing"},
            "resource_missing",
            "customer",
            "No such customer: 'cus_missing'",
        ),
    ],
)
async def test_invalid_checkout_session_raises_invalid_request_error(
    stripe_api: stripe.StripeClient,
    changes: dict[str, Any],
    code: str | None,
    param: str,
    message: str,
) -> None:
    params: dict[str, Any] = {
        "mode": "subscription",
        "line_items": [{"price": "price_creator_monthly", "quantity": 1}],
        "success_url": "http://app.test/done",
        **changes,
    }

    with pytest.raises(stripe.InvalidRequestError) as raised:
        await stripe_api.v1.checkout.sessions.create_async(params=params)  # type: ignore[arg-type]

    assert raised.value.http_status == 400
    assert raised.value.code == code
    assert raised.value.param == param
    assert message in str(raised.value.user_message)
    assert isinstance(raised.value.json_body, dict)
    assert raised.value.json_body["error"]["type"] == "invalid_request_error"


async def test_expire_closes_an_open_session(
    stripe_api: stripe.StripeClient, shopper: httpx.AsyncClient
) -> None:
    _, session = await open_checkout(stripe_api, price="price_pack_small", mode="payment")

    expired = await stripe_api.v1.checkout.sessions.expire_async(session.id)

    assert (expired.status, expired.url) == ("expired", None)
    page = await shopper.get(str(session.url))
    assert "expired" in page.text
    with pytest.raises(stripe.InvalidRequestError):
        await stripe_api.v1.checkout.sessions.expire_async(session.id)


async def test_api_refuses_a_live_key(sandbox: InProcessSandbox) -> None:
    async with httpx.AsyncClient(base_url=sandbox.url) as http:
        response = await http.get("/v1/prices", headers={"Authorization": "Bearer sk_live_abc123"})

    assert response.status_code == 401
    assert response.json()["error"]["type"] == "invalid_request_error"
