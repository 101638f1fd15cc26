"""Checkout Sessions as Stripe reports them: credit packs paid, processing or failed.

A subscription's checkout only stores the subscription; its credits come with its invoice
(`billing.payments`).
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from beatbun.billing.credits import Note, credit_statements
from beatbun.billing.effects import Effect
from beatbun.billing.gateway import stripe_client
from beatbun.billing.models import CheckoutRecord, CheckoutStatus, Payment
from beatbun.billing.plans import PACKS
from beatbun.billing.store import (
    find_checkout,
    set_checkout_status_statement,
    upsert_payment_statement,
)
from beatbun.billing.subscriptions import sync_subscription
from beatbun.errors import PaymentProviderError
from beatbun.i18n import N_
from beatbun.runtime.base import Runtime, Statement

logger = logging.getLogger(__name__)


async def checkout_completed(runtime: Runtime, session: dict[str, Any]) -> Effect | None:
    checkout = await find_checkout(runtime.db, str(session["id"]))
    if checkout is None:
        return None
    if session["mode"] == "subscription":
        effect = await sync_subscription(runtime, str(session["subscription"]), checkout.account_id)
        status: CheckoutStatus = (
            "fulfilled" if session["payment_status"] == "paid" else "processing"
        )
        return Effect(
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
    return _top_up_unpaid(runtime, session, checkout, status="processing")


async def async_payment_succeeded(runtime: Runtime, session: dict[str, Any]) -> Effect | None:
    """A delayed payment cleared: as a completed, paid checkout of either mode."""
    return await checkout_completed(runtime, session)


async def async_payment_failed(runtime: Runtime, session: dict[str, Any]) -> Effect | None:
    checkout = await find_checkout(runtime.db, str(session["id"]))
    if checkout is None:
        return None
    if checkout.mode == "subscription":
        return _nothing_charged(runtime, checkout)
    return _top_up_unpaid(runtime, session, checkout, status="failed")


async def checkout_expired(runtime: Runtime, session: dict[str, Any]) -> Effect | None:
    """Nobody paid within the session's 24 hours: the return page says nothing was charged."""
    checkout = await find_checkout(runtime.db, str(session["id"]))
    return None if checkout is None else _nothing_charged(runtime, checkout)


def _nothing_charged(runtime: Runtime, checkout: CheckoutRecord) -> Effect:
    return Effect(
        [
            set_checkout_status_statement(
                runtime.db, session_id=checkout.id, status="failed", now=runtime.clock.now()
            )
        ]
    )


def _top_up_unpaid(
    runtime: Runtime,
    session: dict[str, Any],
    checkout: CheckoutRecord,
    *,
    status: Literal["processing", "failed"],
) -> Effect:
    """A checkout whose money has not arrived (yet, or ever): its status, and no credits."""
    return Effect(
        [
            set_checkout_status_statement(
                runtime.db, session_id=checkout.id, status=status, now=runtime.clock.now()
            ),
            _top_up_payment(
                runtime, session, account_id=checkout.account_id, item=checkout.item, status=status
            ),
        ]
    )


async def _pack_paid(
    runtime: Runtime, session: dict[str, Any], *, account_id: str, item: str
) -> Effect:
    pack = PACKS[item]  # type: ignore[index]
    receipt = await _receipt_of(runtime, session.get("payment_intent"))
    now = runtime.clock.now()
    return Effect(
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
                note=Note(N_("%(credits)s credits"), {"credits": pack.credits}),
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
        async with stripe_client(runtime.settings, runtime.fetcher) as client:
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
