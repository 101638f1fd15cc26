"""After Checkout: refunds, the customer portal, renewals, failures and cancellation."""

from __future__ import annotations

import re

import httpx
import pytest
import stripe

from tests.stripe_sandbox.conftest import (
    GOOD_CARD,
    SDK_POSTS_RAW_DATA,
    InProcessSandbox,
    open_checkout,
    pay,
)
from tests.stripe_sandbox.server import WebhookReceiver

pytestmark = SDK_POSTS_RAW_DATA


async def subscribe(
    stripe_api: stripe.StripeClient,
    shopper: httpx.AsyncClient,
    price: str = "price_creator_monthly",
) -> stripe.Subscription:
    customer, session = await open_checkout(stripe_api, price=price, mode="subscription")
    await pay(shopper, str(session.url))
    subscriptions = await stripe_api.v1.subscriptions.list_async(params={"customer": customer.id})
    return subscriptions.data[0]


async def open_portal(
    stripe_api: stripe.StripeClient, shopper: httpx.AsyncClient, customer: str
) -> tuple[str, str]:
    """The portal's URL and its page's HTML."""
    portal = await stripe_api.v1.billing_portal.sessions.create_async(
        params={"customer": customer, "return_url": "http://app.test/account"}
    )
    page = await shopper.get(portal.url)
    assert page.status_code == 200
    return portal.url, page.text


async def press(shopper: httpx.AsyncClient, html: str, button: str, base: str) -> httpx.Response:
    """Submit the portal form holding the button labelled `button`, as a browser would."""
    for form in re.findall(r"<form .*?</form>", html):
        if f">{button}</button>" in form:
            action = re.search(r'action="([^"]+)"', form)
            fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form))
            assert action is not None
            return await shopper.post(base.split("/p/")[0] + action.group(1), data=fields)
    raise AssertionError(f"No {button!r} button on the page")


async def test_refunds_partial_then_full_then_over_refund_refused(
    stripe_api: stripe.StripeClient, shopper: httpx.AsyncClient, receiver: WebhookReceiver
) -> None:
    _, session = await open_checkout(
        stripe_api,
        price="price_pack_large",
        mode="payment",
        payment_intent_data={"metadata": {"account_id": "acc_1"}},
    )
    await pay(shopper, str(session.url))
    done = await stripe_api.v1.checkout.sessions.retrieve_async(session.id)
    intent_id = str(done.payment_intent)

    partial = await stripe_api.v1.refunds.create_async(
        params={"payment_intent": intent_id, "amount": 1000}
    )
    charge = await stripe_api.v1.charges.retrieve_async(str(partial.charge))
    assert (partial.amount, partial.status) == (1000, "succeeded")
    assert (charge.amount_refunded, charge.refunded) == (1000, False)

    rest = await stripe_api.v1.refunds.create_async(params={"charge": charge.id})
    charge = await stripe_api.v1.charges.retrieve_async(charge.id)
    assert rest.amount == 2000
    assert (charge.amount_refunded, charge.refunded) == (3000, True)

    with pytest.raises(stripe.InvalidRequestError) as raised:
        await stripe_api.v1.refunds.create_async(params={"charge": charge.id, "amount": 1})
    assert raised.value.http_status == 400
    assert raised.value.code == "charge_already_refunded"
    events = await receiver.wait_for(8)
    refunded = [event for event in events if event.type == "charge.refunded"]
    assert [event.data.object["amount_refunded"] for event in refunded] == [1000, 3000]
    assert refunded[0].data.object["payment_intent"] == intent_id
    assert refunded[0].data.object["metadata"].to_dict() == {"account_id": "acc_1"}
    assert refunded[0].data.previous_attributes is not None
    assert refunded[0].data.previous_attributes["amount_refunded"] == 0
    assert receiver.types.count("refund.created") == 2


async def test_refund_larger_than_what_remains_raises_stripes_error(
    stripe_api: stripe.StripeClient, shopper: httpx.AsyncClient
) -> None:
    _, session = await open_checkout(stripe_api, price="price_pack_small", mode="payment")
    await pay(shopper, str(session.url))
    done = await stripe_api.v1.checkout.sessions.retrieve_async(session.id)

    with pytest.raises(stripe.InvalidRequestError) as raised:
        await stripe_api.v1.refunds.create_async(
            params={"payment_intent": str(done.payment_intent), "amount": 301}
        )

    assert raised.value.http_status == 400
    assert raised.value.code == "amount_too_large"
    assert raised.value.param == "amount"
    assert raised.value.user_message == (
        "Refund amount (€3.01) is greater than unrefunded amount on charge (€3.00)"
    )


async def test_portal_cancel_at_period_end_then_renewal_ends_the_subscription(
    stripe_api: stripe.StripeClient,
    shopper: httpx.AsyncClient,
    sandbox: InProcessSandbox,
    receiver: WebhookReceiver,
) -> None:
    subscription = await subscribe(stripe_api, shopper)
    url, html = await open_portal(stripe_api, shopper, str(subscription.customer))
    assert "Renews" in html
    assert '<a href="http://app.test/account">Return to Beat Bun</a>' in html

    response = await press(shopper, html, "Cancel plan", url)

    assert response.status_code == 303
    canceling = await stripe_api.v1.subscriptions.retrieve_async(subscription.id)
    assert (canceling.status, canceling.cancel_at_period_end) == ("active", True)
    updated = (await receiver.wait_for(9))[-1]
    assert updated.type == "customer.subscription.updated"
    assert updated.data.previous_attributes is not None
    assert updated.data.previous_attributes["cancel_at_period_end"] is False

    ended = await sandbox.post(f"subscriptions/{subscription.id}/renew")

    assert ended["status"] == "canceled"
    assert ended["ended_at"] == canceling["current_period_end"]
    await receiver.wait_for(10)
    assert receiver.types[-1] == "customer.subscription.deleted"
    still_there = await stripe_api.v1.subscriptions.retrieve_async(subscription.id)
    assert still_there.status == "canceled"
    assert still_there.canceled_at is not None


async def test_portal_renew_plan_undoes_a_cancellation(
    stripe_api: stripe.StripeClient, shopper: httpx.AsyncClient
) -> None:
    subscription = await subscribe(stripe_api, shopper)
    url, html = await open_portal(stripe_api, shopper, str(subscription.customer))
    await press(shopper, html, "Cancel plan", url)

    await press(shopper, (await shopper.get(url)).text, "Renew plan", url)

    renewed = await stripe_api.v1.subscriptions.retrieve_async(subscription.id)
    assert (renewed.cancel_at_period_end, renewed.cancel_at, renewed.canceled_at) == (
        False,
        None,
        None,
    )


async def test_portal_upgrade_switches_price_and_bills_the_difference(
    stripe_api: stripe.StripeClient, shopper: httpx.AsyncClient, receiver: WebhookReceiver
) -> None:
    subscription = await subscribe(stripe_api, shopper)
    url, html = await open_portal(stripe_api, shopper, str(subscription.customer))

    await press(shopper, html, "Switch to Pro", url)

    switched = await stripe_api.v1.subscriptions.retrieve_async(subscription.id)
    assert switched["items"].data[0].price.id == "price_pro_monthly"
    proration = await stripe_api.v1.invoices.retrieve_async(str(switched.latest_invoice))
    assert (proration.billing_reason, proration.status) == ("subscription_update", "paid")
    # Switched at once, so nearly all of the month's €24.00 - €9.00 is due.
    assert 1490 <= proration.amount_paid <= 1500
    await receiver.wait_for(13)
    assert receiver.types[-5:] == [
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
        "customer.subscription.updated",
    ]


async def test_renewal_bills_a_new_period(
    stripe_api: stripe.StripeClient, shopper: httpx.AsyncClient, sandbox: InProcessSandbox
) -> None:
    subscription = await subscribe(stripe_api, shopper)
    first_end = subscription["current_period_end"]

    await sandbox.post(f"subscriptions/{subscription.id}/renew")

    renewed = await stripe_api.v1.subscriptions.retrieve_async(subscription.id)
    assert renewed["items"].data[0].current_period_start == first_end
    invoices = await stripe_api.v1.invoices.list_async(
        params={"customer": str(subscription.customer)}
    )
    assert [invoice.billing_reason for invoice in invoices.data] == [
        "subscription_cycle",
        "subscription_create",
    ]
    assert all(invoice.status == "paid" for invoice in invoices.data)


async def test_failed_renewal_goes_past_due_until_a_new_card_pays(
    stripe_api: stripe.StripeClient,
    shopper: httpx.AsyncClient,
    sandbox: InProcessSandbox,
    receiver: WebhookReceiver,
) -> None:
    subscription = await subscribe(stripe_api, shopper)

    past_due = await sandbox.post(f"subscriptions/{subscription.id}/fail_renewal")

    assert past_due["status"] == "past_due"
    invoice = await stripe_api.v1.invoices.retrieve_async(past_due["latest_invoice"])
    assert (invoice.status, invoice.attempt_count) == ("open", 1)
    await receiver.wait_for(11)
    assert receiver.types[-2:] == ["invoice.payment_failed", "customer.subscription.updated"]
    url, _ = await open_portal(stripe_api, shopper, str(subscription.customer))

    await shopper.post(f"{url}/payment_method", data=GOOD_CARD)

    assert (await stripe_api.v1.subscriptions.retrieve_async(subscription.id)).status == "active"
    assert (await stripe_api.v1.invoices.retrieve_async(invoice.id)).status == "paid"


async def test_cancel_now_keeps_the_subscription_retrievable(
    stripe_api: stripe.StripeClient, shopper: httpx.AsyncClient, receiver: WebhookReceiver
) -> None:
    subscription = await subscribe(stripe_api, shopper)

    canceled = await stripe_api.v1.subscriptions.cancel_async(subscription.id)

    assert canceled.status == "canceled"
    assert canceled.ended_at is not None and canceled.canceled_at is not None
    listed = await stripe_api.v1.subscriptions.list_async(
        params={"customer": str(subscription.customer), "status": "all"}
    )
    assert [found.id for found in listed.data] == [subscription.id]
    default_listing = await stripe_api.v1.subscriptions.list_async(
        params={"customer": str(subscription.customer)}
    )
    assert default_listing.data == []
    await receiver.wait_for(8)
    assert receiver.types[-1] == "customer.subscription.deleted"


async def test_update_through_the_api_sets_cancel_at_period_end_and_metadata(
    stripe_api: stripe.StripeClient, shopper: httpx.AsyncClient
) -> None:
    subscription = await subscribe(stripe_api, shopper)

    updated = await stripe_api.v1.subscriptions.update_async(
        subscription.id, params={"cancel_at_period_end": True, "metadata": {"reason": "moving"}}
    )

    assert updated.cancel_at_period_end is True
    assert updated.metadata.to_dict() == {"reason": "moving"}


async def test_invoices_list_pages_with_starting_after(
    stripe_api: stripe.StripeClient, shopper: httpx.AsyncClient, sandbox: InProcessSandbox
) -> None:
    subscription = await subscribe(stripe_api, shopper)
    for _ in range(2):
        await sandbox.post(f"subscriptions/{subscription.id}/renew")
    customer = str(subscription.customer)

    first = await stripe_api.v1.invoices.list_async(params={"customer": customer, "limit": 2})
    rest = await stripe_api.v1.invoices.list_async(
        params={"customer": customer, "limit": 2, "starting_after": first.data[-1].id}
    )

    assert (len(first.data), first.has_more) == (2, True)
    assert (len(rest.data), rest.has_more) == (1, False)
    assert rest.data[0].billing_reason == "subscription_create"
    assert first.url == "/v1/invoices"
