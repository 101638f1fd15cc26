"""Subscription invoices: drafted, finalized, then paid, failed or left processing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from beatbun_local.stripe_sandbox.objects import BUSINESS_NAME, list_object, plan_of
from beatbun_local.stripe_sandbox.payments import charge_card, settle_charge
from beatbun_local.stripe_sandbox.store import Store
from beatbun_local.stripe_sandbox.types import StripeObject
from beatbun_local.stripe_sandbox.wire import StripeError, format_amount

# What Stripe writes on the PaymentIntent that pays a subscription invoice.
INTENT_DESCRIPTIONS = {
    "subscription_create": "Subscription creation",
    "subscription_cycle": "Subscription update",
    "subscription_update": "Subscription update",
}
RETRY_AFTER_SECONDS = 3 * 24 * 3600


@dataclass(frozen=True)
class LineSpec:
    price: StripeObject
    quantity: int
    amount: int
    description: str
    period_start: int
    period_end: int
    subscription_item: str | None = None
    proration: bool = False


def subscription_line(store: Store, item: StripeObject, *, start: int, end: int) -> LineSpec:
    """The invoice line for one subscription item over [start, end), worded as Stripe words it."""
    price = item["price"]
    unit = format_amount(price["unit_amount"], price["currency"])
    return LineSpec(
        price=price,
        quantity=item["quantity"],
        amount=price["unit_amount"] * item["quantity"],
        description=f"{item['quantity']} \N{MULTIPLICATION SIGN} {product_name(store, price)} "
        f"(at {unit} / {price['recurring']['interval']})",
        period_start=start,
        period_end=end,
        subscription_item=item["id"],
    )


def product_name(store: Store, price: StripeObject) -> str:
    product: str = store.get("product", price["product"])["name"]
    return product


def draft_invoice(
    store: Store,
    *,
    customer: StripeObject,
    subscription: StripeObject | None,
    lines: list[LineSpec],
    billing_reason: str,
    period_start: int,
    period_end: int,
) -> StripeObject:
    invoice_id = store.new_id("in")
    line_objects = [_line(store, invoice_id, spec, subscription) for spec in lines]
    total = sum(spec.amount for spec in lines)
    now = store.now()
    subscription_id = subscription["id"] if subscription else None
    return store.add(
        {
            "id": invoice_id,
            "object": "invoice",
            "account_country": "DE",
            "account_name": BUSINESS_NAME,
            "account_tax_ids": None,
            "amount_due": total,
            "amount_overpaid": 0,
            "amount_paid": 0,
            "amount_remaining": total,
            "amount_shipping": 0,
            "application": None,
            "attempt_count": 0,
            "attempted": False,
            "auto_advance": True,
            "automatic_tax": {
                "disabled_reason": None,
                "enabled": False,
                "liability": None,
                "provider": None,
                "status": None,
            },
            "automatically_finalizes_at": None,
            "billing_reason": billing_reason,
            "collection_method": "charge_automatically",
            "confirmation_secret": None,
            "created": now,
            "currency": "eur",
            "custom_fields": None,
            "customer": customer["id"],
            "customer_account": None,
            "customer_address": None,
            "customer_email": customer["email"],
            "customer_name": customer["name"],
            "customer_phone": None,
            "customer_shipping": None,
            "customer_tax_exempt": "none",
            "customer_tax_ids": [],
            "default_payment_method": None,
            "default_source": None,
            "default_tax_rates": [],
            "description": None,
            "discounts": [],
            "due_date": None,
            "effective_at": None,
            "ending_balance": None,
            "footer": None,
            "from_invoice": None,
            "hosted_invoice_url": None,
            "invoice_pdf": None,
            "issuer": {"type": "self"},
            "last_finalization_error": None,
            "latest_revision": None,
            "lines": {
                **list_object(line_objects, url=f"/v1/invoices/{invoice_id}/lines"),
                "total_count": len(line_objects),
            },
            "livemode": False,
            "metadata": {},
            "next_payment_attempt": None,
            "number": None,
            "on_behalf_of": None,
            "parent": {
                "quote_details": None,
                "subscription_details": {
                    "metadata": dict(subscription["metadata"]),
                    "subscription": subscription_id,
                },
                "type": "subscription_details",
            }
            if subscription
            else None,
            "payment_settings": {
                "default_mandate": None,
                "payment_method_options": None,
                "payment_method_types": None,
            },
            "period_end": period_end,
            "period_start": period_start,
            "post_payment_credit_notes_amount": 0,
            "pre_payment_credit_notes_amount": 0,
            "receipt_number": None,
            "rendering": None,
            "shipping_cost": None,
            "shipping_details": None,
            "starting_balance": 0,
            "statement_descriptor": None,
            "status": "draft",
            "status_transitions": {
                "finalized_at": None,
                "marked_uncollectible_at": None,
                "paid_at": None,
                "voided_at": None,
            },
            "subtotal": total,
            "subtotal_excluding_tax": total,
            "test_clock": None,
            "total": total,
            "total_discount_amounts": [],
            "total_excluding_tax": total,
            "total_pretax_credit_amounts": [],
            "total_taxes": [],
            "webhooks_delivered_at": now,
            # Legacy places (before 2025-03-31.basil); see objects.LEGACY_FIELDS.
            "subscription": subscription_id,
            "charge": None,
            "payment_intent": None,
            "paid": False,
        }
    )


def _line(
    store: Store, invoice_id: str, spec: LineSpec, subscription: StripeObject | None
) -> StripeObject:
    price = spec.price
    subscription_id = subscription["id"] if subscription else None
    return {
        "id": store.new_id("il"),
        "object": "line_item",
        "amount": spec.amount,
        "currency": price["currency"],
        "description": spec.description,
        "discount_amounts": [],
        "discountable": not spec.proration,
        "discounts": [],
        "invoice": invoice_id,
        "livemode": False,
        "metadata": {},
        "parent": _line_parent(store, spec, subscription_id),
        "period": {"end": spec.period_end, "start": spec.period_start},
        "pretax_credit_amounts": [],
        "pricing": {
            "price_details": {"price": price["id"], "product": price["product"]},
            "type": "price_details",
            "unit_amount_decimal": price["unit_amount_decimal"],
        },
        "quantity": spec.quantity,
        "subscription": subscription_id,
        "subtotal": spec.amount,
        "taxes": [],
        # Legacy places (before 2025-03-31.basil).
        "price": dict(price),
        "plan": plan_of(price) if price["recurring"] else None,
        "proration": spec.proration,
        "subscription_item": spec.subscription_item,
    }


def _line_parent(store: Store, spec: LineSpec, subscription_id: str | None) -> StripeObject:
    """Where a line comes from: a subscription item, or a one-off invoice item beside it."""
    details = {
        "proration": spec.proration,
        "proration_details": {"credited_items": None},
        "subscription": subscription_id,
    }
    if spec.subscription_item is None:
        return {
            "invoice_item_details": {"invoice_item": store.new_id("ii"), **details},
            "subscription_item_details": None,
            "type": "invoice_item_details",
        }
    return {
        "invoice_item_details": None,
        "subscription_item_details": {
            "invoice_item": None,
            **details,
            "subscription_item": spec.subscription_item,
        },
        "type": "subscription_item_details",
    }


def open_invoice(store: Store, invoice: StripeObject) -> None:
    """Emit `invoice.created`, finalize (number, hosted URLs), emit `invoice.finalized`."""
    store.record_event("invoice.created", invoice)
    customer = store.get("customer", invoice["customer"])
    now = store.now()
    invoice.update(
        status="open",
        number=f"{customer['invoice_prefix']}-{customer['next_invoice_sequence']:04d}",
        effective_at=now,
        ending_balance=0,
        hosted_invoice_url=f"{store.public_url}/i/{invoice['id']}",
        invoice_pdf=f"{store.public_url}/i/{invoice['id']}/pdf",
        next_payment_attempt=now,
        status_transitions={**invoice["status_transitions"], "finalized_at": now},
    )
    customer["next_invoice_sequence"] += 1
    store.record_event("invoice.finalized", invoice)


def attempt_payment(
    store: Store, invoice: StripeObject, *, card: dict[str, Any], outcome: str
) -> StripeObject:
    """Charge `card` for an open invoice; `outcome` as in `charge_card`. Returns the charge.

    `succeeded` marks the invoice paid (`invoice.paid`, `invoice.payment_succeeded`); `failed`
    leaves it open (`invoice.payment_failed`); `processing` leaves it open, silent, until
    `settle_invoice`.
    """
    if invoice["status"] != "open":
        raise StripeError(f"Invoice is already {invoice['status']}.", code="invoice_not_open")
    customer = store.get("customer", invoice["customer"])
    intent, charge = charge_card(
        store,
        amount=invoice["amount_remaining"],
        currency=invoice["currency"],
        customer=invoice["customer"],
        card=card,
        outcome=outcome,
        description=INTENT_DESCRIPTIONS.get(invoice["billing_reason"]),
        invoice=invoice["id"],
        email=customer["email"],
    )
    invoice.update(
        attempted=True,
        attempt_count=invoice["attempt_count"] + 1,
        charge=charge["id"],
        payment_intent=intent["id"],
    )
    store.add(
        {
            "id": store.new_id("inpay"),
            "object": "invoice_payment",
            "amount_paid": None,
            "amount_requested": invoice["amount_remaining"],
            "created": store.now(),
            "currency": invoice["currency"],
            "invoice": invoice["id"],
            "is_default": True,
            "livemode": False,
            "payment": {"payment_intent": intent["id"], "type": "payment_intent"},
            "status": "open",
            "status_transitions": {"canceled_at": None, "paid_at": None},
        }
    )
    if outcome != "processing":
        settle_invoice(store, invoice, succeeded=outcome == "succeeded")
    return charge


def settle_invoice(store: Store, invoice: StripeObject, *, succeeded: bool) -> None:
    intent = store.get("payment_intent", invoice["payment_intent"])
    charge = store.get("charge", intent["latest_charge"])
    if intent["status"] == "processing":
        settle_charge(intent, charge, succeeded=succeeded)
    payment = next(
        found
        for found in reversed(store.all("invoice_payment"))
        if found["payment"]["payment_intent"] == intent["id"]
    )
    if not succeeded:
        payment["status"] = "canceled"
        invoice["next_payment_attempt"] = store.now() + RETRY_AFTER_SECONDS
        store.record_event("invoice.payment_failed", invoice)
        return
    now = store.now()
    payment.update(
        status="paid",
        amount_paid=payment["amount_requested"],
        status_transitions={"canceled_at": None, "paid_at": now},
    )
    invoice.update(
        status="paid",
        paid=True,
        amount_paid=invoice["amount_paid"] + invoice["amount_remaining"],
        amount_remaining=0,
        auto_advance=False,
        next_payment_attempt=None,
        status_transitions={**invoice["status_transitions"], "paid_at": now},
    )
    store.record_event("invoice.paid", invoice)
    store.record_event("invoice.payment_succeeded", invoice)
