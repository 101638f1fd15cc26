"""The CLI in its own process: it serves, and keeps its state across a restart."""

from __future__ import annotations

import httpx
import stripe

from tests.stripe_sandbox.conftest import GOOD_CARD, SDK_POSTS_RAW_DATA
from tests.stripe_sandbox.server import RunningSandbox, close_http_client, stripe_client

pytestmark = SDK_POSTS_RAW_DATA


async def test_cli_keeps_customers_and_subscriptions_across_a_restart(
    stripe_sandbox: RunningSandbox,
) -> None:
    http_client = stripe.HTTPXClient()
    try:
        api = stripe_client(stripe_sandbox.url, http_client)
        customer = await api.v1.customers.create_async(params={"email": "ada@example.com"})
        session = await api.v1.checkout.sessions.create_async(
            params={
                "mode": "subscription",
                "customer": customer.id,
                "line_items": [{"price": "price_pro_monthly", "quantity": 1}],
                "success_url": "http://app.test/done",
            }
        )
        async with httpx.AsyncClient() as shopper:
            paid = await shopper.post(str(session.url), data=GOOD_CARD)
        assert paid.status_code == 303
    finally:
        stripe_sandbox.stop()
    # The same state file, on a new port, now without the pre-2025 fields.
    second = RunningSandbox(
        stripe_sandbox.state_path, stripe_sandbox.log_path, extra_args=("--no-legacy-fields",)
    )
    second.start()
    try:
        api = stripe_client(second.url, http_client)
        assert (await api.v1.customers.retrieve_async(customer.id)).email == "ada@example.com"
        [subscription] = (
            await api.v1.subscriptions.list_async(params={"customer": customer.id})
        ).data
        assert subscription.status == "active"
        invoice = await api.v1.invoices.retrieve_async(str(subscription.latest_invoice))
        assert "subscription" not in invoice
        assert invoice.parent is not None and invoice.parent.subscription_details is not None
        assert invoice.parent.subscription_details.subscription == subscription.id
        assert second.control("health") == {"ok": True}
    finally:
        second.stop()
        await close_http_client(http_client)
