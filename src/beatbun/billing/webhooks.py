"""Stripe's webhooks: the only way money turns into credits and plans.

Each event is verified against the raw body with the `stripe` package's own verifier, then
applied in one D1 batch that also records its id, so a repeated or concurrent delivery finds
the id taken and changes nothing. Subscriptions are read back from Stripe rather than taken
from the event, and stored only if no later read is, so events may come in any order.

What each event does (`HANDLERS`):
- `checkout.session.completed` / `async_payment_succeeded` / `_failed` / `expired`
  (`billing.topups`): a paid credit pack's credits, once per checkout; a subscription checkout
  stores the subscription; an expired one is marked failed (nothing was charged).
- `customer.subscription.created` / `updated` / `deleted`: the plan follows Stripe's state.
- `invoice.paid` (`billing.payments`): the plan's monthly credits, once per invoice (an
  upgrade's proration invoice gives the difference between the two plans' credits).
- `invoice.payment_failed`: the subscription goes past due; its plan stays in force for
  `GRACE_SECONDS` while Stripe retries, and the owner is told by email and on the billing page.
- `charge.refunded`: the refunded share of the credits that payment bought is taken back, up to
  the balance.

Once the batch is applied, the owner is told what it changed by email (`billing.notify`).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import stripe

from beatbun.billing.effects import Effect
from beatbun.billing.gateway import verify_event
from beatbun.billing.notify import tell_owner
from beatbun.billing.payments import charge_refunded, invoice_paid, invoice_payment_failed
from beatbun.billing.store import find_account_of_customer, record_event_statement
from beatbun.billing.subscriptions import plan_change_of, sync_subscription, tell_queue
from beatbun.billing.topups import (
    async_payment_failed,
    async_payment_succeeded,
    checkout_completed,
    checkout_expired,
)
from beatbun.errors import ConstraintViolation, WebhookRejected
from beatbun.i18n import N_
from beatbun.runtime.base import Runtime

EVENT_ID_COLUMN = "stripe_events.id"


@dataclass(frozen=True)
class WebhookReceipt:
    event_id: str
    type: str
    # False for a repeated delivery, an event we do not act on, or one about nobody we know.
    applied: bool


Handler = Callable[[Runtime, dict[str, Any]], Awaitable[Effect | None]]


async def handle_webhook(
    runtime: Runtime, *, payload: bytes, signature: str | None
) -> WebhookReceipt:
    """Verify and apply one delivery.

    Raises WebhookRejected (bad, missing or stale signature: answer 400, nothing changes) or
    PaymentProviderError / StorageError (answer 5xx so that Stripe delivers it again).
    """
    try:
        verify_event(payload, signature, runtime.settings)
    except (ValueError, stripe.SignatureVerificationError) as exc:
        raise WebhookRejected(
            N_("The webhook's signature is missing, wrong or too old."), code="invalid_signature"
        ) from exc
    event = json.loads(payload)
    receipt = WebhookReceipt(event_id=str(event["id"]), type=str(event["type"]), applied=False)
    handler = HANDLERS.get(receipt.type)
    if handler is None:
        return receipt
    effect = await handler(runtime, event["data"]["object"])
    if effect is None:
        return receipt
    db = runtime.db
    now = runtime.clock.now()
    record = record_event_statement(
        db, event_id=receipt.event_id, kind=receipt.type, created=int(event["created"]), now=now
    )
    try:
        results = await db.batch([record, *effect.statements])
    except ConstraintViolation as exc:
        if exc.target == EVENT_ID_COLUMN:
            return receipt
        raise
    change = None
    if effect.changes_plan_of is not None:
        change = plan_change_of(results)
        if change[0] != change[1]:
            await tell_queue(runtime, account_id=effect.changes_plan_of, plan=change[1])
    await tell_owner(runtime, event=event, effect=effect, change=change)
    return WebhookReceipt(event_id=receipt.event_id, type=receipt.type, applied=True)


async def _subscription_changed(runtime: Runtime, subscription: dict[str, Any]) -> Effect | None:
    account_id = await find_account_of_customer(runtime.db, str(subscription["customer"]))
    if account_id is None:
        return None
    return await sync_subscription(runtime, str(subscription["id"]), account_id)


HANDLERS: dict[str, Handler] = {
    "checkout.session.completed": checkout_completed,
    "checkout.session.async_payment_succeeded": async_payment_succeeded,
    "checkout.session.async_payment_failed": async_payment_failed,
    "checkout.session.expired": checkout_expired,
    "customer.subscription.created": _subscription_changed,
    "customer.subscription.updated": _subscription_changed,
    "customer.subscription.deleted": _subscription_changed,
    "invoice.paid": invoice_paid,
    "invoice.payment_failed": invoice_payment_failed,
    "charge.refunded": charge_refunded,
}
