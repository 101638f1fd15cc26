"""Invoices paid or failed, and refunds: the plan's monthly credits, and taking back refunds.

A new period gives the plan's monthly credits once per invoice. An upgrade's proration invoice
gives the difference between the plans' credits in proportion to what it charged, once per
subscription, period and plan, so switching down and up again buys nothing. A refund takes back
the refunded share of what the payment bought, up to the balance (credits already spent are
not, and the balance never goes below zero); the share is computed inside the batch, from the
refunds already recorded, so concurrent refunds of one charge add up right. The notice of a
period's credits rides in the batch that grants them (`billing.notify.grant_statements`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from beatbun.billing.credits import Note, credit_statements, take_back_statements
from beatbun.billing.effects import Effect
from beatbun.billing.gateway import item_of_price, stripe_client
from beatbun.billing.models import Payment
from beatbun.billing.notify import grant_statements
from beatbun.billing.plans import PLANS, PlanId
from beatbun.billing.store import (
    find_account_of_customer,
    find_payment_paid_by,
    refund_share_sql,
    set_refunded_statement,
    upsert_payment_statement,
)
from beatbun.billing.subscriptions import sync_subscription
from beatbun.errors import WebhookTooEarly
from beatbun.i18n import N_
from beatbun.runtime.base import Runtime


async def invoice_paid(runtime: Runtime, invoice: dict[str, Any]) -> Effect | None:
    account_id = await find_account_of_customer(runtime.db, str(invoice["customer"]))
    if account_id is None:
        return None
    grant = _grant_of_invoice(runtime, invoice)
    paid_by = await _payment_intent_of(runtime, str(invoice["id"]))
    now = runtime.clock.now()
    statements = [
        upsert_payment_statement(
            runtime.db,
            _invoice_payment(invoice, status="paid", credits=grant.credits, plan=grant.plan),
            account_id=account_id,
            paid_by=paid_by,
        )
    ]
    if grant.credits > 0:
        statements += credit_statements(
            runtime.db,
            account_id=account_id,
            kind="grant",
            amount=grant.credits,
            idempotency_key=grant.key,
            note=Note(
                N_("%(plan)s plan, invoice %(invoice)s"),
                {"plan": PLANS[grant.plan].name, "invoice": str(invoice["id"])},
            ),
            now=now,
        )
        if grant.is_monthly:
            statements += await grant_statements(
                runtime,
                account_id=account_id,
                invoice=invoice,
                plan=grant.plan,
                credits=grant.credits,
            )
    return Effect(statements)


async def invoice_payment_failed(runtime: Runtime, invoice: dict[str, Any]) -> Effect | None:
    account_id = await find_account_of_customer(runtime.db, str(invoice["customer"]))
    if account_id is None:
        return None
    plan = _grant_of_invoice(runtime, invoice).plan
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
        return Effect(statements)
    effect = await sync_subscription(runtime, subscription_id, account_id)
    return Effect(
        statements + effect.statements,
        changes_plan_of=effect.changes_plan_of,
        renewal_failed_for=account_id,
    )


async def charge_refunded(runtime: Runtime, charge: dict[str, Any]) -> Effect | None:
    found = await find_payment_paid_by(
        runtime.db, charge_id=str(charge["id"]), payment_intent_id=charge.get("payment_intent")
    )
    if found is None:
        if await find_account_of_customer(runtime.db, str(charge.get("customer"))) is None:
            return None  # not a customer of ours: nothing will ever match
        # Ours, but its payment is not recorded yet (its own event is still being retried).
        raise WebhookTooEarly(
            f"Charge {charge['id']} was refunded before its payment was recorded.",
            code="webhook_too_early",
        )
    account_id, payment = found
    refunded = int(charge["amount_refunded"])
    return Effect(
        [
            # First, while the payment still holds what earlier refunds recorded.
            *take_back_statements(
                runtime.db,
                account_id=account_id,
                amount=refund_share_sql(payment_id=payment.id, refunded=refunded),
                idempotency_key=f"stripe:refund:{payment.id}:{refunded}",
                note=Note(N_("Refund of payment %(payment)s"), {"payment": payment.id}),
                now=runtime.clock.now(),
            ),
            set_refunded_statement(runtime.db, payment_id=payment.id, amount_refunded=refunded),
        ]
    )


@dataclass(frozen=True)
class _Grant:
    credits: int
    plan: PlanId
    # Credits with the same key are granted once.
    key: str
    # A new period's credits, rather than an upgrade's share of the difference.
    is_monthly: bool = True


def _grant_of_invoice(runtime: Runtime, invoice: dict[str, Any]) -> _Grant:
    """The credits an invoice gives, the plan it is for, and the key that grants them once.

    A new period gives the plan's monthly credits, once per invoice. An upgrade's proration
    invoice (a line for the new plan and, negative, one for the old) gives the difference in
    credits scaled by what it charged of the difference in price, once per subscription,
    period and plan.
    """
    gained: list[tuple[PlanId, dict[str, Any]]] = []
    lost: list[PlanId] = []
    for line in invoice.get("lines", {}).get("data", []):
        item = item_of_price(runtime.settings, _price_of_line(line))
        if item in PLANS:
            if int(line.get("amount", 0)) < 0:
                lost.append(item)
            else:
                gained.append((item, line))
    once_per_invoice = f"stripe:{invoice['id']}"
    if not gained:
        return _Grant(credits=0, plan="free", key=once_per_invoice)
    plan, line = gained[-1]
    if not lost:
        return _Grant(credits=PLANS[plan].monthly_credits, plan=plan, key=once_per_invoice)
    new, old = PLANS[plan], PLANS[lost[-1]]
    credit_gap = new.monthly_credits - old.monthly_credits
    price_gap = new.monthly_price_cents - old.monthly_price_cents
    paid = int(invoice.get("amount_paid") or 0)
    credits = min(credit_gap, credit_gap * paid // price_gap) if price_gap > 0 else 0
    period_end = (line.get("period") or {}).get("end") or invoice["id"]
    subscription = _subscription_of_invoice(invoice) or invoice["customer"]
    key = f"stripe:upgrade:{subscription}:{period_end}:{plan}"
    return _Grant(credits=max(credits, 0), plan=plan, key=key, is_monthly=False)


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
    async with stripe_client(runtime.settings, runtime.fetcher) as client:
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
