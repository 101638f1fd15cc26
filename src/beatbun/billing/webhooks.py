"""Stripe's webhooks: the only way money turns into credits and plans.

Each event is verified against the raw body with the `stripe` package's own verifier, then
applied in one D1 batch that also records its id, so a repeated or concurrent delivery finds
the id taken and changes nothing. Subscriptions are read back from Stripe rather than taken
from the event, and stored only if no later read is, so events may come in any order.

What each event does:
- `checkout.session.completed` / `async_payment_succeeded`: a paid credit pack's credits, once
  per checkout; a subscription checkout stores the subscription.
- `checkout.session.async_payment_failed`: the checkout and its payment are marked failed.
- `customer.subscription.created` / `updated` / `deleted`: the plan follows Stripe's state.
- `invoice.paid`: the plan's monthly credits, once per invoice (an upgrade's proration invoice
  gives the difference between the two plans' credits).
- `invoice.payment_failed`: the subscription goes past due; its plan stays in force for
  `GRACE_SECONDS` while Stripe retries, and the billing page says so.
- `charge.refunded`: the refunded share of the credits that payment bought is taken back, up to
  the balance: credits already spent are not, and the balance never goes below zero.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import stripe

from beatbun.accounts.store import find_account
from beatbun.billing.credits import credit_statements, take_back_statements
from beatbun.billing.gateway import item_of_price, stripe_client, verify_event
from beatbun.billing.mail import PAYMENT_FAILED
from beatbun.billing.models import CheckoutStatus, Payment
from beatbun.billing.plans import PACKS, PLANS, PlanId
from beatbun.billing.store import (
    find_account_of_customer,
    find_checkout,
    find_payment_paid_by,
    record_event_statement,
    set_checkout_status_statement,
    set_refunded_statement,
    upsert_payment_statement,
    upsert_subscription_statement,
)
from beatbun.billing.subscriptions import (
    apply_plan_statements,
    current_subscription,
    plan_change_of,
    subscription_from_stripe,
    tell_queue,
)
from beatbun.consent.preferences import find_account_preferences
from beatbun.errors import ConstraintViolation, PaymentProviderError, WebhookRejected
from beatbun.i18n import DEFAULT_LANGUAGE, N_, translate
from beatbun.runtime.base import MailError, Runtime, Statement

logger = logging.getLogger(__name__)
EVENT_ID_COLUMN = "stripe_events.id"


@dataclass(frozen=True)
class WebhookReceipt:
    event_id: str
    type: str
    # False for a repeated delivery, an event we do not act on, or one about nobody we know.
    applied: bool


@dataclass(frozen=True)
class _Effect:
    statements: list[Statement]
    # Whether the batch ends with `apply_plan_statements` (the queue is told of a change).
    changes_plan_of: str | None = None
    # The account to tell that its renewal failed, once the batch is applied.
    renewal_failed_for: str | None = None


Handler = Callable[[Runtime, dict[str, Any]], Awaitable[_Effect | None]]


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
    if effect.changes_plan_of is not None:
        before, after = plan_change_of(results)
        if before != after:
            await tell_queue(runtime, account_id=effect.changes_plan_of, plan=after)
    if effect.renewal_failed_for is not None:
        await _tell_renewal_failed(runtime, account_id=effect.renewal_failed_for)
    return WebhookReceipt(event_id=receipt.event_id, type=receipt.type, applied=True)


async def _checkout_completed(runtime: Runtime, session: dict[str, Any]) -> _Effect | None:
    checkout = await find_checkout(runtime.db, str(session["id"]))
    if checkout is None:
        return None
    if session["mode"] == "subscription":
        effect = await _sync_subscription(
            runtime, str(session["subscription"]), checkout.account_id
        )
        status: CheckoutStatus = (
            "fulfilled" if session["payment_status"] == "paid" else "processing"
        )
        return _Effect(
            [
                set_checkout_status_statement(
                    runtime.db, session_id=checkout.id, status=status, now=runtime.clock.now()
                ),
                *effect.statements,
            ],
            changes_plan_of=effect.changes_plan_of,
        )
    if session["payment_status"] == "paid":
        return await _pack_paid(
            runtime, session, account_id=checkout.account_id, item=checkout.item
        )
    return _Effect(
        [
            set_checkout_status_statement(
                runtime.db, session_id=checkout.id, status="processing", now=runtime.clock.now()
            ),
            _top_up_payment(
                runtime,
                session,
                account_id=checkout.account_id,
                item=checkout.item,
                status="processing",
            ),
        ]
    )


async def _async_payment_succeeded(runtime: Runtime, session: dict[str, Any]) -> _Effect | None:
    checkout = await find_checkout(runtime.db, str(session["id"]))
    if checkout is None or session["mode"] != "payment":
        return None
    return await _pack_paid(runtime, session, account_id=checkout.account_id, item=checkout.item)


async def _async_payment_failed(runtime: Runtime, session: dict[str, Any]) -> _Effect | None:
    checkout = await find_checkout(runtime.db, str(session["id"]))
    if checkout is None:
        return None
    now = runtime.clock.now()
    return _Effect(
        [
            set_checkout_status_statement(
                runtime.db, session_id=checkout.id, status="failed", now=now
            ),
            _top_up_payment(
                runtime,
                session,
                account_id=checkout.account_id,
                item=checkout.item,
                status="failed",
            ),
        ]
    )


async def _subscription_changed(runtime: Runtime, subscription: dict[str, Any]) -> _Effect | None:
    account_id = await find_account_of_customer(runtime.db, str(subscription["customer"]))
    if account_id is None:
        return None
    return await _sync_subscription(runtime, str(subscription["id"]), account_id)


async def _invoice_paid(runtime: Runtime, invoice: dict[str, Any]) -> _Effect | None:
    account_id = await find_account_of_customer(runtime.db, str(invoice["customer"]))
    if account_id is None:
        return None
    credits, plan = _credits_of_invoice(runtime, invoice)
    paid_by = await _payment_intent_of(runtime, str(invoice["id"]))
    now = runtime.clock.now()
    statements = [
        upsert_payment_statement(
            runtime.db,
            _invoice_payment(invoice, status="paid", credits=credits, plan=plan),
            account_id=account_id,
            paid_by=paid_by,
        )
    ]
    if credits > 0:
        statements += credit_statements(
            runtime.db,
            account_id=account_id,
            kind="grant",
            amount=credits,
            idempotency_key=f"stripe:{invoice['id']}",
            note=f"{PLANS[plan].name} plan, invoice {invoice['id']}",
            now=now,
        )
    return _Effect(statements)


async def _invoice_payment_failed(runtime: Runtime, invoice: dict[str, Any]) -> _Effect | None:
    account_id = await find_account_of_customer(runtime.db, str(invoice["customer"]))
    if account_id is None:
        return None
    _, plan = _credits_of_invoice(runtime, invoice)
    statements = [
        upsert_payment_statement(
            runtime.db,
            _invoice_payment(invoice, status="failed", credits=0, plan=plan),
            account_id=account_id,
            paid_by=None,
        )
    ]
    subscription_id = _subscription_of_invoice(invoice)
    if subscription_id is None:
        return _Effect(statements)
    effect = await _sync_subscription(runtime, subscription_id, account_id)
    return _Effect(
        statements + effect.statements,
        changes_plan_of=effect.changes_plan_of,
        renewal_failed_for=account_id,
    )


async def _charge_refunded(runtime: Runtime, charge: dict[str, Any]) -> _Effect | None:
    found = await find_payment_paid_by(
        runtime.db, charge_id=str(charge["id"]), payment_intent_id=charge.get("payment_intent")
    )
    if found is None:
        return None
    account_id, payment = found
    refunded = int(charge["amount_refunded"])
    # The refunded share of what the payment bought, less what earlier refunds took back.
    due = payment.credits * refunded // payment.amount if payment.amount else 0
    taken = payment.credits * payment.amount_refunded // payment.amount if payment.amount else 0
    statements = [
        set_refunded_statement(runtime.db, payment_id=payment.id, amount_refunded=refunded)
    ]
    if due > taken:
        statements += take_back_statements(
            runtime.db,
            account_id=account_id,
            amount=due - taken,
            idempotency_key=f"stripe:refund:{payment.id}:{refunded}",
            note=f"Refund of {payment.id}",
            now=runtime.clock.now(),
        )
    return _Effect(statements)


async def _tell_renewal_failed(runtime: Runtime, *, account_id: str) -> None:
    """Mail the owner that the renewal failed and until when the plan holds.

    The event is applied already: a mail that cannot go out is logged, not retried by Stripe.
    """
    now = runtime.clock.now()
    account = await find_account(runtime.db, account_id)
    subscription = await current_subscription(runtime.db, account_id, now=now)
    if account is None or subscription is None or subscription.grace_until is None:
        return
    preferences = await find_account_preferences(runtime.db, account_id)
    language = preferences.language if preferences else DEFAULT_LANGUAGE
    message = PAYMENT_FAILED.compose(
        to=account.email,
        language=language,
        site=runtime.settings.site_name,
        plan=translate(language, PLANS[subscription.plan].name),
        date=datetime.fromtimestamp(subscription.grace_until, tz=UTC).date().isoformat(),
        link=f"{runtime.settings.public_url}/billing",
    )
    try:
        await runtime.mailer.send(message)
    except MailError:
        logger.exception("Could not tell account %s that its renewal failed", account_id)


async def _sync_subscription(runtime: Runtime, subscription_id: str, account_id: str) -> _Effect:
    """Read the subscription from Stripe now and store it, with the plan that follows from it."""
    synced_at = runtime.clock.now()
    async with stripe_client(runtime.settings) as client:
        found = await client.v1.subscriptions.retrieve_async(subscription_id)
    subscription = subscription_from_stripe(
        found.to_dict(), account_id=account_id, settings=runtime.settings, now=synced_at
    )
    if subscription is None:
        return _Effect([])
    now = runtime.clock.now()
    return _Effect(
        [
            upsert_subscription_statement(runtime.db, subscription, synced_at=synced_at, now=now),
            *apply_plan_statements(runtime.db, account_id=account_id, now=now),
        ],
        changes_plan_of=account_id,
    )


async def _pack_paid(
    runtime: Runtime, session: dict[str, Any], *, account_id: str, item: str
) -> _Effect:
    pack = PACKS[item]  # type: ignore[index]
    receipt = await _receipt_of(runtime, session.get("payment_intent"))
    now = runtime.clock.now()
    return _Effect(
        [
            set_checkout_status_statement(
                runtime.db, session_id=str(session["id"]), status="fulfilled", now=now
            ),
            _top_up_payment(
                runtime, session, account_id=account_id, item=item, status="paid", url=receipt
            ),
            *credit_statements(
                runtime.db,
                account_id=account_id,
                kind="purchase",
                amount=pack.credits,
                idempotency_key=f"stripe:{session['id']}",
                note=f"{pack.credits} credits",
                now=now,
            ),
        ]
    )


async def _receipt_of(runtime: Runtime, payment_intent_id: str | None) -> str | None:
    """Stripe's receipt page for a one-off payment, for the billing history.

    The link is a convenience: when Stripe cannot say, the credits paid for are still added
    (and the history shows the payment without it) rather than held back until a retry.
    """
    if payment_intent_id is None:
        return None
    try:
        async with stripe_client(runtime.settings) as client:
            intent = await client.v1.payment_intents.retrieve_async(
                payment_intent_id, params={"expand": ["latest_charge"]}
            )
    except PaymentProviderError as exc:
        logger.warning("No receipt for %s: %s", payment_intent_id, exc.message)
        return None
    charge = intent.latest_charge
    return None if charge is None or isinstance(charge, str) else charge.receipt_url


def _top_up_payment(
    runtime: Runtime,
    session: dict[str, Any],
    *,
    account_id: str,
    item: str,
    status: str,
    url: str | None = None,
) -> Statement:
    pack = PACKS[item]  # type: ignore[index]
    payment = Payment(
        id=str(session["id"]),
        kind="top_up",
        item=item,
        amount=int(session.get("amount_total") or pack.price_cents),
        currency=str(session.get("currency") or "eur"),
        status=status,
        credits=pack.credits,
        amount_refunded=0,
        url=url,
        created_at=int(session.get("created") or runtime.clock.now()),
    )
    return upsert_payment_statement(
        runtime.db, payment, account_id=account_id, paid_by=session.get("payment_intent")
    )


def _credits_of_invoice(runtime: Runtime, invoice: dict[str, Any]) -> tuple[int, PlanId]:
    """The credits an invoice gives, and the plan it is for.

    A new period gives the plan's monthly credits; an upgrade's proration invoice (lines for the
    new plan and, negative, the old) gives the difference.
    """
    gained: list[PlanId] = []
    lost: list[PlanId] = []
    for line in invoice.get("lines", {}).get("data", []):
        item = item_of_price(runtime.settings, _price_of_line(line))
        if item in PLANS:
            (lost if int(line.get("amount", 0)) < 0 else gained).append(item)
    if not gained:
        return 0, "free"
    plan = gained[-1]
    credits = PLANS[plan].monthly_credits - sum(PLANS[old].monthly_credits for old in lost)
    return max(credits, 0), plan


def _price_of_line(line: dict[str, Any]) -> str:
    price = ((line.get("pricing") or {}).get("price_details") or {}).get("price") or ""
    return str(price["id"] if isinstance(price, dict) else price)


def _invoice_payment(
    invoice: dict[str, Any], *, status: str, credits: int, plan: PlanId
) -> Payment:
    return Payment(
        id=str(invoice["id"]),
        kind="invoice",
        item=plan,
        amount=int(invoice.get("amount_paid") or invoice.get("amount_due") or 0),
        currency=str(invoice.get("currency") or "eur"),
        status=status,
        credits=credits,
        amount_refunded=0,
        url=invoice.get("hosted_invoice_url"),
        created_at=int(invoice["created"]),
    )


async def _payment_intent_of(runtime: Runtime, invoice_id: str) -> str | None:
    """The PaymentIntent that paid the invoice, which a refund's charge names.

    Since API version 2025-03-31 an invoice no longer names its charge; its InvoicePayments do.
    """
    async with stripe_client(runtime.settings) as client:
        payments = await client.v1.invoice_payments.list_async(
            params={"invoice": invoice_id, "status": "paid", "limit": 1}
        )
    for payment in payments.data:
        if payment.payment.payment_intent is not None:
            found = payment.payment.payment_intent
            return found if isinstance(found, str) else found.id
    return None


def _subscription_of_invoice(invoice: dict[str, Any]) -> str | None:
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    found = details.get("subscription")
    return str(found) if found else None


HANDLERS: dict[str, Handler] = {
    "checkout.session.completed": _checkout_completed,
    "checkout.session.async_payment_succeeded": _async_payment_succeeded,
    "checkout.session.async_payment_failed": _async_payment_failed,
    "customer.subscription.created": _subscription_changed,
    "customer.subscription.updated": _subscription_changed,
    "customer.subscription.deleted": _subscription_changed,
    "invoice.paid": _invoice_paid,
    "invoice.payment_failed": _invoice_payment_failed,
    "charge.refunded": _charge_refunded,
}
