"""Starting a payment: Stripe Checkout for plans and credit packs, the portal for the rest.

Nothing is granted here or on the way back from Stripe: credits and plans change only when
Stripe's signed webhook says the money arrived (`billing.webhooks`). The return page reads the
checkout's status, which the webhook moves forward.
"""

from __future__ import annotations

from dataclasses import dataclass

import stripe
from stripe.params.checkout import SessionCreateParams

from beatbun.accounts.models import Account
from beatbun.billing.gateway import Item, price_id_of, stripe_client
from beatbun.billing.models import CheckoutMode, CheckoutRecord, CheckoutStatus
from beatbun.billing.plans import PACKS, PLANS
from beatbun.billing.store import (
    find_customer_id,
    get_checkout,
    insert_checkout_statement,
    insert_customer_statement,
)
from beatbun.billing.subscriptions import current_subscription
from beatbun.errors import Conflict, InvalidInput, PermissionDenied
from beatbun.i18n import N_
from beatbun.runtime.base import Runtime

# Where Stripe sends people back; {CHECKOUT_SESSION_ID} is filled in by Stripe.
RETURN_PATH = "/billing/return?session_id={CHECKOUT_SESSION_ID}"
CANCEL_PATH = "/pricing?canceled=1"
PORTAL_RETURN_PATH = "/billing"
# The languages of ours that Stripe's hosted pages speak too.
STRIPE_LOCALES = {"en": "en", "de": "de", "fr": "fr"}


@dataclass(frozen=True)
class Redirect:
    """Where to send the person next: a Stripe-hosted page."""

    url: str


async def start_checkout(
    runtime: Runtime, *, account: Account, item: str, language: str
) -> Redirect:
    """A Checkout Session for a plan (subscription) or a credit pack (one payment).

    Raises InvalidInput for an unknown item, PermissionDenied for an unverified address (Stripe
    sends receipts there), Conflict when the account already has a plan (it changes plans in
    the portal, so it never pays twice), PaymentProviderError when Stripe fails.
    """
    chosen = _item(item)
    if not account.is_verified:
        raise PermissionDenied(
            N_("Verify your email address before paying: your receipts go there."),
            code="email_unverified",
        )
    account_id = account.id
    mode: CheckoutMode = "payment" if chosen in PACKS else "subscription"
    now = runtime.clock.now()
    if mode == "subscription" and await current_subscription(runtime.db, account_id, now=now):
        raise Conflict(
            N_("You already have a plan. Change it in the billing portal instead."),
            code="already_subscribed",
        )
    base = runtime.settings.public_url
    metadata = {"account_id": account_id, "item": chosen}
    async with stripe_client(runtime.settings, runtime.fetcher) as client:
        customer_id = await _customer_of(
            runtime, client, account_id=account_id, email=account.email
        )
        params: SessionCreateParams = {
            "mode": mode,
            "customer": customer_id,
            "client_reference_id": account_id,
            "metadata": metadata,
            "line_items": [{"price": price_id_of(runtime.settings, chosen), "quantity": 1}],
            "success_url": base + RETURN_PATH,
            "cancel_url": base + CANCEL_PATH,
            "locale": STRIPE_LOCALES.get(language, "auto"),
        }
        if mode == "subscription":
            params["subscription_data"] = {"metadata": metadata}
        else:
            params["payment_intent_data"] = {"metadata": metadata}
        session = await client.v1.checkout.sessions.create_async(params=params)
    record = CheckoutRecord(
        id=session.id,
        account_id=account_id,
        mode=mode,
        item=chosen,
        status="open",
        created_at=int(now),
    )
    await insert_checkout_statement(runtime.db, record, now=now).run()
    if session.url is None:
        raise RuntimeError("Stripe returned a Checkout Session without a URL.")
    return Redirect(url=session.url)


async def open_portal(runtime: Runtime, *, account_id: str, language: str) -> Redirect:
    """Stripe's customer portal: payment method, invoices, plan change and cancellation.

    Raises Conflict when the account has never paid (there is nothing to manage yet).
    """
    customer_id = await find_customer_id(runtime.db, account_id)
    if customer_id is None:
        raise Conflict(
            N_("There is nothing to manage yet: choose a plan or a credit pack first."),
            code="no_billing_account",
        )
    async with stripe_client(runtime.settings, runtime.fetcher) as client:
        session = await client.v1.billing_portal.sessions.create_async(
            params={
                "customer": customer_id,
                "return_url": runtime.settings.public_url + PORTAL_RETURN_PATH,
                "locale": STRIPE_LOCALES.get(language, "auto"),
            }
        )
    return Redirect(url=session.url)


async def checkout_status(runtime: Runtime, *, account_id: str, session_id: str) -> CheckoutRecord:
    """The account's checkout as the webhooks have left it; another account's is NotFound."""
    return await get_checkout(runtime.db, account_id=account_id, session_id=session_id)


def is_settled(status: CheckoutStatus) -> bool:
    return status in ("fulfilled", "failed")


async def _customer_of(
    runtime: Runtime, client: stripe.StripeClient, *, account_id: str, email: str
) -> str:
    """The account's Stripe customer, created on its first checkout.

    Two first checkouts at once may both create one; the first stored wins and the other
    stays unused at Stripe, holding nothing.
    """
    known = await find_customer_id(runtime.db, account_id)
    if known is not None:
        return known
    customer = await client.v1.customers.create_async(
        params={"email": email, "metadata": {"account_id": account_id}}
    )
    results = await runtime.db.batch(
        [
            insert_customer_statement(
                runtime.db, account_id=account_id, customer_id=customer.id, now=runtime.clock.now()
            ),
            runtime.db.prepare(
                "SELECT customer_id FROM billing_customers WHERE account_id = ?"
            ).bind(account_id),
        ]
    )
    return str(results[-1].results[0]["customer_id"])


def _item(item: str) -> Item:
    if item in PACKS or (item in PLANS and PLANS[item].is_paid):
        return item
    raise InvalidInput(
        N_("There is no plan or credit pack called '%(item)s'."),
        code="unknown_item",
        field="item",
        params={"item": item},
    )
