"""Subscriptions: started by Checkout, renewed, failed, switched and canceled."""

from __future__ import annotations

import copy
from typing import Any

from beatbun_local.stripe_sandbox.cards import default_card
from beatbun_local.stripe_sandbox.invoices import (
    LineSpec,
    attempt_payment,
    draft_invoice,
    open_invoice,
    product_name,
    settle_invoice,
    subscription_line,
)
from beatbun_local.stripe_sandbox.objects import add_month, list_object, plan_of
from beatbun_local.stripe_sandbox.store import Store
from beatbun_local.stripe_sandbox.types import Params, StripeObject
from beatbun_local.stripe_sandbox.wire import (
    StripeError,
    choice,
    metadata,
    optional_bool,
    optional_str,
    required_str,
)

PRORATION_BEHAVIOURS = ("always_invoice", "create_prorations", "none")
# How a card's behaviour settles a charge made without the customer present (renewals).
OFF_SESSION_OUTCOMES = {
    "succeed": "succeeded",
    "async_succeed": "succeeded",
    "async_fail": "failed",
    "fail_later": "failed",
}


def subscribe(
    store: Store,
    *,
    customer: StripeObject,
    items: list[tuple[StripeObject, int]],
    extra_lines: list[LineSpec],
    metadata: dict[str, str],
    card: dict[str, Any],
    outcome: str,
) -> StripeObject:
    """Start a subscription and bill its first invoice; `outcome` `succeeded` or `processing`.

    A processing payment leaves the subscription `incomplete` and its invoice open, as a bank
    debit does on Stripe, until `settle_first_invoice`.
    """
    start = store.now()
    end = add_month(start, anchor=start)
    subscription_id = store.new_id("sub")
    item_objects: list[StripeObject] = [
        {
            "id": store.new_id("si", length=14),
            "object": "subscription_item",
            "billing_thresholds": None,
            "created": start,
            "current_period_end": end,
            "current_period_start": start,
            "discounts": [],
            "metadata": {},
            "plan": plan_of(price),
            "price": dict(price),
            "quantity": quantity,
            "subscription": subscription_id,
            "tax_rates": [],
        }
        for price, quantity in items
    ]
    subscription = store.add(
        {
            "id": subscription_id,
            "object": "subscription",
            "application": None,
            "application_fee_percent": None,
            "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
            "billing_cycle_anchor": start,
            "billing_cycle_anchor_config": None,
            "billing_mode": {"flexible": None, "type": "classic", "updated_at": None},
            "billing_thresholds": None,
            "cancel_at": None,
            "cancel_at_period_end": False,
            "canceled_at": None,
            "cancellation_details": {"comment": None, "feedback": None, "reason": None},
            "collection_method": "charge_automatically",
            "created": start,
            "currency": items[0][0]["currency"],
            "customer": customer["id"],
            "customer_account": None,
            "days_until_due": None,
            "default_payment_method": card["payment_method"],
            "default_source": None,
            "default_tax_rates": [],
            "description": None,
            "discounts": [],
            "ended_at": None,
            "invoice_settings": {"account_tax_ids": None, "issuer": {"type": "self"}},
            "items": {
                **list_object(
                    item_objects, url=f"/v1/subscription_items?subscription={subscription_id}"
                ),
                "total_count": len(item_objects),
            },
            "latest_invoice": None,
            "livemode": False,
            "metadata": metadata,
            "next_pending_invoice_item_invoice": None,
            "on_behalf_of": None,
            "pause_collection": None,
            "payment_settings": {
                "payment_method_options": None,
                "payment_method_types": None,
                "save_default_payment_method": "off",
            },
            "pending_invoice_item_interval": None,
            "pending_setup_intent": None,
            "pending_update": None,
            "schedule": None,
            "start_date": start,
            "status": "active" if outcome == "succeeded" else "incomplete",
            "test_clock": None,
            "transfer_data": None,
            "trial_end": None,
            "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}},
            "trial_start": None,
            # Legacy place (before 2025-03-31.basil); see objects.LEGACY_FIELDS.
            "current_period_end": end,
            "current_period_start": start,
        }
    )
    lines = [subscription_line(store, item, start=start, end=end) for item in item_objects]
    invoice = draft_invoice(
        store,
        customer=customer,
        subscription=subscription,
        lines=lines + extra_lines,
        billing_reason="subscription_create",
        period_start=start,
        period_end=start,
    )
    subscription["latest_invoice"] = invoice["id"]
    store.record_event("customer.subscription.created", subscription)
    open_invoice(store, invoice)
    attempt_payment(store, invoice, card=card, outcome=outcome)
    return subscription


def settle_first_invoice(store: Store, subscription: StripeObject, *, succeeded: bool) -> None:
    invoice = store.get("invoice", subscription["latest_invoice"])
    settle_invoice(store, invoice, succeeded=succeeded)
    if succeeded:
        _update(store, subscription, {"status": "active"})


def renew(store: Store, subscription: StripeObject) -> StripeObject:
    """Roll into the next period and charge for it, or end the subscription if it was to end."""
    _refuse_if_canceled(subscription)
    if subscription["cancel_at_period_end"]:
        return _end(store, subscription, ended_at=subscription["current_period_end"])
    card = card_on_file(store, subscription["customer"])
    return _bill_next_period(store, subscription, outcome=OFF_SESSION_OUTCOMES[card["behaviour"]])


def fail_renewal(store: Store, subscription: StripeObject) -> StripeObject:
    """Roll into the next period with a declined charge: an open invoice and `past_due`."""
    _refuse_if_canceled(subscription)
    return _bill_next_period(store, subscription, outcome="failed")


def card_on_file(store: Store, customer_id: str) -> dict[str, Any]:
    """The card the customer last paid with or saved (a 4242 Visa if none ever was)."""
    card: dict[str, Any] | None = store.private.get(customer_id, {}).get("card")
    return card or default_card()


def _bill_next_period(store: Store, subscription: StripeObject, *, outcome: str) -> StripeObject:
    customer = store.get("customer", subscription["customer"])
    card = card_on_file(store, customer["id"])
    start = subscription["current_period_end"]
    end = add_month(start, anchor=subscription["billing_cycle_anchor"])
    items = copy.deepcopy(subscription["items"])
    for item in items["data"]:
        item.update(current_period_start=start, current_period_end=end)
    lines = [subscription_line(store, item, start=start, end=end) for item in items["data"]]
    invoice = draft_invoice(
        store,
        customer=customer,
        subscription=subscription,
        lines=lines,
        billing_reason="subscription_cycle",
        period_start=subscription["current_period_start"],
        period_end=start,
    )
    open_invoice(store, invoice)
    attempt_payment(store, invoice, card=card, outcome=outcome)
    return _update(
        store,
        subscription,
        {
            "items": items,
            "current_period_start": start,
            "current_period_end": end,
            "latest_invoice": invoice["id"],
            "status": "active" if outcome == "succeeded" else "past_due",
        },
    )


def set_cancel_at_period_end(
    store: Store, subscription: StripeObject, *, cancel: bool
) -> StripeObject:
    _refuse_if_canceled(subscription)
    return _update(store, subscription, _cancellation(store, subscription, cancel=cancel))


def _cancellation(store: Store, subscription: StripeObject, *, cancel: bool) -> dict[str, Any]:
    return {
        "cancel_at_period_end": cancel,
        "cancel_at": subscription["current_period_end"] if cancel else None,
        # Stripe dates the request, not the end, when the cancellation waits for the period end.
        "canceled_at": store.now() if cancel else None,
        "cancellation_details": {
            "comment": None,
            "feedback": None,
            "reason": "cancellation_requested" if cancel else None,
        },
    }


def change_price(
    store: Store,
    subscription: StripeObject,
    *,
    price: StripeObject,
    item_id: str | None = None,
    proration_behavior: str = "create_prorations",
) -> StripeObject:
    """Move one item (the first, unless `item_id`) to `price`.

    With `always_invoice` an upgrade is billed now for the rest of the period (credit for the
    old price's unused time, charge for the new one's); a downgrade's credit is not kept.
    """
    _refuse_if_canceled(subscription)
    changes = _price_change(
        store, subscription, price=price, item_id=item_id, proration_behavior=proration_behavior
    )
    return _update(store, subscription, changes)


def _price_change(
    store: Store,
    subscription: StripeObject,
    *,
    price: StripeObject,
    item_id: str | None,
    proration_behavior: str,
) -> dict[str, Any]:
    if price["recurring"] is None:
        raise StripeError(
            "The price specified is set to `type=one_time` but this field only accepts prices "
            "with `type=recurring`.",
            param="items[0][price]",
        )
    items = copy.deepcopy(subscription["items"])
    item = next((found for found in items["data"] if found["id"] == (item_id or found["id"])), None)
    if item is None:
        raise StripeError(
            f"Invalid subscription_item id: {item_id}",
            code="resource_missing",
            param="items[0][id]",
        )
    old_price = item["price"]
    item.update(price=dict(price), plan=plan_of(price))
    changes: dict[str, Any] = {"items": items}
    now = store.now()
    start, end = item["current_period_start"], item["current_period_end"]
    left = max(end - now, 0) / max(end - start, 1)
    credit = round(old_price["unit_amount"] * item["quantity"] * left)
    debit = round(price["unit_amount"] * item["quantity"] * left)
    if proration_behavior == "always_invoice" and debit > credit:
        invoice = draft_invoice(
            store,
            customer=store.get("customer", subscription["customer"]),
            subscription=subscription,
            lines=[
                _proration(store, old_price, item, -credit, "Unused time on", now, end),
                _proration(store, price, item, debit, "Remaining time on", now, end),
            ],
            billing_reason="subscription_update",
            period_start=now,
            period_end=now,
        )
        open_invoice(store, invoice)
        card = card_on_file(store, subscription["customer"])
        attempt_payment(store, invoice, card=card, outcome=OFF_SESSION_OUTCOMES[card["behaviour"]])
        changes["latest_invoice"] = invoice["id"]
        if invoice["status"] != "paid":
            changes["status"] = "past_due"
    return changes


def _proration(
    store: Store,
    price: StripeObject,
    item: StripeObject,
    amount: int,
    wording: str,
    start: int,
    end: int,
) -> LineSpec:
    return LineSpec(
        price=price,
        quantity=item["quantity"],
        amount=amount,
        description=f"{wording} {product_name(store, price)}",
        period_start=start,
        period_end=end,
        subscription_item=item["id"],
        proration=True,
    )


def cancel_now(store: Store, subscription: StripeObject) -> StripeObject:
    _refuse_if_canceled(subscription)
    now = store.now()
    subscription["cancellation_details"] = {
        "comment": None,
        "feedback": None,
        "reason": "cancellation_requested",
    }
    subscription["canceled_at"] = now
    return _end(store, subscription, ended_at=now)


def _end(store: Store, subscription: StripeObject, *, ended_at: int) -> StripeObject:
    subscription.update(
        status="canceled",
        ended_at=ended_at,
        canceled_at=subscription["canceled_at"] or ended_at,
    )
    store.record_event("customer.subscription.deleted", subscription)
    return subscription


def update_subscription(store: Store, subscription: StripeObject, params: Params) -> StripeObject:
    """`POST /v1/subscriptions/{id}`: `cancel_at_period_end`, `items[0][price]`, `metadata`.

    Everything is checked before anything changes; the changes make one
    `customer.subscription.updated`, as in Stripe.
    """
    if subscription["status"] == "canceled" and set(params) - {"metadata", "expand"}:
        _refuse_if_canceled(subscription)
    changes: dict[str, Any] = {}
    if "metadata" in params:
        changes["metadata"] = metadata(params, current=subscription["metadata"])
    cancel = optional_bool(params, "cancel_at_period_end")
    behaviour = choice(
        params, "proration_behavior", PRORATION_BEHAVIOURS, default="create_prorations"
    )
    new_price, item_id = _price_param(store, params)
    if cancel is not None:
        changes.update(_cancellation(store, subscription, cancel=cancel))
    if new_price is not None:
        changes.update(
            _price_change(
                store, subscription, price=new_price, item_id=item_id, proration_behavior=behaviour
            )
        )
    return _update(store, subscription, changes)


def _price_param(store: Store, params: Params) -> tuple[StripeObject | None, str | None]:
    items = params.get("items")
    if items is None:
        return None, None
    if not isinstance(items, list) or len(items) != 1 or not isinstance(items[0], dict):
        raise StripeError("This sandbox changes one subscription item at a time.", param="items")
    price_id = required_str(items[0], "price", path="items[0][price]")
    price = store.get("price", price_id, param="items[0][price]", status=400)
    return price, optional_str(items[0], "id")


def pay_open_invoices(store: Store, customer_id: str, *, card: dict[str, Any]) -> None:
    """Retry each of the customer's open invoices with `card` (a new payment method's first use)."""
    for invoice in store.all("invoice"):
        if invoice["customer"] == customer_id and invoice["status"] == "open":
            pay_invoice(store, invoice, card=card, outcome=OFF_SESSION_OUTCOMES[card["behaviour"]])


def pay_invoice(store: Store, invoice: StripeObject, *, card: dict[str, Any], outcome: str) -> bool:
    """Attempt an open invoice; once paid, a `past_due` or `incomplete` subscription is active again."""
    attempt_payment(store, invoice, card=card, outcome=outcome)
    subscription = store.find("subscription", invoice["subscription"] or "")
    if invoice["status"] != "paid":
        return False
    if subscription and subscription["status"] in ("past_due", "incomplete"):
        _update(store, subscription, {"status": "active"})
    return True


def _update(store: Store, subscription: StripeObject, changes: dict[str, Any]) -> StripeObject:
    """Apply `changes`, then emit `customer.subscription.updated` with what they replaced."""
    previous = {
        key: copy.deepcopy(subscription.get(key))
        for key, value in changes.items()
        if subscription.get(key) != value
    }
    if not previous:
        return subscription
    subscription.update(changes)
    store.record_event("customer.subscription.updated", subscription, previous_attributes=previous)
    return subscription


def _refuse_if_canceled(subscription: StripeObject) -> None:
    if subscription["status"] == "canceled":
        raise StripeError(
            "A canceled subscription can only update its cancellation_details and metadata."
        )
