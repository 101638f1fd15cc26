"""Stripe, through the official `stripe` package used asynchronously over the fetch port.

Card data never reaches us: people pay on Stripe's Checkout and manage their plan on Stripe's
customer portal; we only create those sessions and read back what Stripe tells us. Locally the
same client talks to the Stripe sandbox (`STRIPE_API_BASE`).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import stripe

from beatbun.billing.plans import PackId, PlanId
from beatbun.billing.stripe_http import FetcherHTTPClient
from beatbun.errors import PaymentProviderError
from beatbun.i18n import N_
from beatbun.runtime.base import Fetcher
from beatbun.settings import Settings

# A whole call to Stripe; Checkout and the portal answer in well under a second.
TIMEOUT_SECONDS = 20
# Webhook signatures older than this are refused (Stripe's own default tolerance).
SIGNATURE_TOLERANCE_SECONDS = 300

Item = PlanId | PackId


@contextlib.asynccontextmanager
async def stripe_client(settings: Settings, fetcher: Fetcher) -> AsyncIterator[stripe.StripeClient]:
    """A Stripe client for one request; raises PaymentProviderError for any Stripe failure in it.

    Retries are off: the SDK's retries sleep with jitter, and every call we make is safe for the
    person to try again.
    """
    if not settings.stripe_secret_key:
        raise PaymentProviderError(
            N_("Payments are not available right now. Please try again later."),
            code="payments_unavailable",
        )
    http_client = FetcherHTTPClient(fetcher, timeout_seconds=TIMEOUT_SECONDS)
    client = stripe.StripeClient(
        settings.stripe_secret_key,
        base_addresses={"api": settings.stripe_api_base} if settings.stripe_api_base else None,
        http_client=http_client,
        max_network_retries=0,
    )
    try:
        yield client
    except stripe.StripeError as exc:
        raise PaymentProviderError(
            f"Stripe refused or failed a request: {exc.user_message or exc}",
            code="payment_provider_error",
        ) from exc


async def delete_customer(settings: Settings, fetcher: Fetcher, customer_id: str) -> None:
    """Delete the customer at Stripe, which ends its subscriptions at once; one gone is fine.

    Raises PaymentProviderError when Stripe cannot be reached or refuses.
    """
    async with stripe_client(settings, fetcher) as client:
        try:
            await client.v1.customers.delete_async(customer_id)
        except stripe.InvalidRequestError as exc:
            if exc.code != "resource_missing":
                raise


def verify_event(payload: bytes, signature: str | None, settings: Settings) -> stripe.Event:
    """The event if `signature` is Stripe's for `payload` within the tolerance.

    Raises stripe.SignatureVerificationError or ValueError otherwise; the webhook turns either
    into WebhookRejected.
    """
    event: stripe.Event = stripe.Webhook.construct_event(
        payload, signature, settings.stripe_webhook_secret, tolerance=SIGNATURE_TOLERANCE_SECONDS
    )
    return event


def price_id_of(settings: Settings, item: Item) -> str:
    return settings.stripe_prices[item]


def item_of_price(settings: Settings, price_id: str) -> Item | None:
    """The plan or pack sold under `price_id`, or None for a price we do not sell."""
    for item, known in settings.stripe_prices.items():
        if known == price_id:
            return item  # type: ignore[return-value]
    return None
