"""Checkout Sessions: created by the API, paid (or not) on the hosted page."""

from __future__ import annotations

from typing import Any

from beatbun_local.stripe_sandbox.invoices import LineSpec, product_name
from beatbun_local.stripe_sandbox.objects import list_object, new_customer
from beatbun_local.stripe_sandbox.payments import charge_card, settle_charge
from beatbun_local.stripe_sandbox.store import Store
from beatbun_local.stripe_sandbox.subscriptions import settle_first_invoice, subscribe
from beatbun_local.stripe_sandbox.types import Params, StripeObject
from beatbun_local.stripe_sandbox.wire import (
    StripeError,
    choice,
    metadata,
    optional_int,
    optional_str,
    required_str,
)

MODES = ("payment", "setup", "subscription")
DEFAULT_LIFETIME = 24 * 3600
MIN_LIFETIME = 30 * 60
PLACEHOLDER = "{CHECKOUT_SESSION_ID}"


def create_session(store: Store, params: Params) -> StripeObject:
    """Validate as Stripe does, then store an `open` session whose `url` is the hosted page."""
    mode = optional_str(params, "mode")
    if mode is None:
        raise StripeError("Missing required param: mode.", code="parameter_missing", param="mode")
    mode = choice(params, "mode", MODES, default=mode)
    if mode == "setup":
        raise StripeError(
            "This sandbox supports `payment` and `subscription` mode only.", param="mode"
        )
    ui_mode = optional_str(params, "ui_mode") or "hosted_page"
    if ui_mode not in ("hosted", "hosted_page"):
        raise StripeError("This sandbox supports hosted Checkout pages only.", param="ui_mode")
    for other, own in (("subscription_data", "subscription"), ("payment_intent_data", "payment")):
        if other in params and mode != own:
            raise StripeError(f"You can not pass `{other}` in `{mode}` mode.", param=other)
    items = _line_items(store, params, mode=mode)
    success_url = required_str(params, "success_url")
    customer_id = optional_str(params, "customer")
    customer_email = optional_str(params, "customer_email")
    if customer_id and customer_email:
        raise StripeError(
            "You may only specify one of these parameters: customer, customer_email.",
            param="customer_email",
        )
    customer = (
        store.get("customer", customer_id, param="customer", status=400) if customer_id else None
    )
    now = store.now()
    expires_at = optional_int(params, "expires_at") or now + DEFAULT_LIFETIME
    if expires_at > now + DEFAULT_LIFETIME:
        raise StripeError(
            "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.",
            param="expires_at",
        )
    if expires_at < now + MIN_LIFETIME:
        raise StripeError(
            "The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation.",
            param="expires_at",
        )
    session_id = store.new_id("cs_test", length=58)
    total = sum(item["amount_total"] for item in items)
    session = store.add(
        {
            "id": session_id,
            "object": "checkout.session",
            "adaptive_pricing": {"enabled": False},
            "after_expiration": None,
            "allow_promotion_codes": None,
            "amount_subtotal": total,
            "amount_total": total,
            "automatic_tax": {
                "enabled": False,
                "liability": None,
                "provider": None,
                "status": None,
            },
            "billing_address_collection": None,
            "cancel_url": optional_str(params, "cancel_url"),
            "client_reference_id": optional_str(params, "client_reference_id"),
            "client_secret": None,
            "collected_information": None,
            "consent": None,
            "consent_collection": None,
            "created": now,
            "currency": items[0]["currency"],
            "currency_conversion": None,
            "custom_fields": [],
            "custom_text": {
                "after_submit": None,
                "shipping_address": None,
                "submit": None,
                "terms_of_service_acceptance": None,
            },
            "customer": customer["id"] if customer else None,
            "customer_account": None,
            "customer_creation": (optional_str(params, "customer_creation") or "if_required")
            if mode == "payment" and customer is None
            else None,
            "customer_details": _customer_details(
                customer["email"] if customer else customer_email
            ),
            "customer_email": customer_email,
            "discounts": [],
            "expires_at": expires_at,
            "invoice": None,
            "invoice_creation": {"enabled": False, "invoice_data": {}}
            if mode == "payment"
            else None,
            "livemode": False,
            "locale": optional_str(params, "locale"),
            "metadata": metadata(params),
            "mode": mode,
            "origin_context": None,
            "payment_intent": None,
            "payment_link": None,
            "payment_method_collection": "always" if mode == "subscription" else None,
            "payment_method_configuration_details": None,
            "payment_method_options": {"card": {"request_three_d_secure": "automatic"}},
            "payment_method_types": ["card"],
            "payment_status": "unpaid",
            "permissions": None,
            "phone_number_collection": {"enabled": False},
            "presentment_details": None,
            "recovered_from": None,
            "saved_payment_method_options": None,
            "setup_intent": None,
            "shipping_address_collection": None,
            "shipping_cost": None,
            "shipping_options": [],
            "status": "open",
            "submit_type": None,
            "subscription": None,
            "success_url": success_url,
            "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
            "ui_mode": ui_mode,
            "url": f"{store.public_url}/c/pay/{session_id}",
            "wallet_options": None,
        }
    )
    private = store.private_of(session_id)
    private["line_items"] = items
    private["subscription_metadata"] = metadata(params.get("subscription_data") or {})
    private["payment_metadata"] = metadata(params.get("payment_intent_data") or {})
    return session


def _line_items(store: Store, params: Params, *, mode: str) -> list[StripeObject]:
    given = params.get("line_items")
    if not given:
        raise StripeError(
            "Missing required param: line_items.", code="parameter_missing", param="line_items"
        )
    if not isinstance(given, list) or not all(isinstance(item, dict) for item in given):
        raise StripeError("Invalid array", param="line_items")
    items: list[StripeObject] = []
    for index, item in enumerate(given):
        path = f"line_items[{index}]"
        if "price_data" in item:
            raise StripeError(
                "This sandbox sells catalogue prices only.", param=f"{path}[price_data]"
            )
        price_id = required_str(item, "price", path=f"{path}[price]")
        price = store.get("price", price_id, param=f"{path}[price]", status=400)
        quantity = optional_int(item, "quantity", path=f"{path}[quantity]")
        if quantity is None:
            raise StripeError(
                f"Missing required param: {path}[quantity].",
                code="parameter_missing",
                param=f"{path}[quantity]",
            )
        if quantity < 1:
            raise StripeError("Invalid positive integer", param=f"{path}[quantity]")
        if mode == "payment" and price["recurring"] is not None:
            raise StripeError(
                "You specified `payment` mode but passed a recurring price. Either switch to "
                "`subscription` mode or use only one-time prices.",
                param=f"{path}[price]",
            )
        amount = price["unit_amount"] * quantity
        items.append(
            {
                "id": store.new_id("li"),
                "object": "item",
                "adjustable_quantity": None,
                "amount_discount": 0,
                "amount_subtotal": amount,
                "amount_tax": 0,
                "amount_total": amount,
                "currency": price["currency"],
                "description": product_name(store, price),
                "discounts": [],
                "metadata": {},
                "price": dict(price),
                "quantity": quantity,
                "taxes": [],
            }
        )
    if mode == "subscription" and not any(item["price"]["recurring"] for item in items):
        raise StripeError(
            "You must provide at least one recurring price in `subscription` mode when using prices.",
            param="line_items",
        )
    return items


def _customer_details(email: str | None) -> StripeObject | None:
    if email is None:
        return None
    return {
        "address": None,
        "business_name": None,
        "email": email,
        "individual_name": None,
        "name": None,
        "phone": None,
        "tax_exempt": "none",
        "tax_ids": [],
    }


def line_items_of(store: Store, session: StripeObject) -> StripeObject:
    items: list[StripeObject] = store.private_of(session["id"])["line_items"]
    return list_object(items, url=f"/v1/checkout/sessions/{session['id']}/line_items")


def expire_if_due(store: Store, session: StripeObject) -> None:
    if session["status"] == "open" and store.now() >= session["expires_at"]:
        expire(store, session)


def expire(store: Store, session: StripeObject) -> StripeObject:
    if session["status"] != "open":
        raise StripeError(
            f'Only Checkout Sessions with a status in ["open"] can be expired. This session has '
            f'status "{session["status"]}".'
        )
    session.update(status="expired", url=None)
    store.record_event("checkout.session.expired", session)
    return session


def complete(
    store: Store, session: StripeObject, *, card: dict[str, Any], email: str | None
) -> None:
    """Pay an open session with an accepted card (see `cards.read_card`) and emit its events.

    An asynchronous card completes the session `unpaid`; `settle` later decides its fate.
    """
    private = store.private_of(session["id"])
    customer = _customer_for(store, session, email=email)
    card = {**card, "payment_method": store.new_id("pm")}
    is_async = card["behaviour"] in ("async_succeed", "async_fail")
    outcome = "processing" if is_async else "succeeded"
    if customer is not None:
        store.private_of(customer["id"])["card"] = card
    items: list[StripeObject] = private["line_items"]
    if session["mode"] == "subscription":
        if customer is None:
            raise RuntimeError("_customer_for always makes a customer for a subscription.")
        subscription = subscribe(
            store,
            customer=customer,
            items=[
                (item["price"], item["quantity"]) for item in items if item["price"]["recurring"]
            ],
            extra_lines=[
                LineSpec(
                    price=item["price"],
                    quantity=item["quantity"],
                    amount=item["amount_total"],
                    description=item["description"],
                    period_start=store.now(),
                    period_end=store.now(),
                )
                for item in items
                if not item["price"]["recurring"]
            ],
            metadata=private["subscription_metadata"],
            card=card,
            outcome=outcome,
        )
        session.update(subscription=subscription["id"], invoice=subscription["latest_invoice"])
    else:
        intent, charge = charge_card(
            store,
            amount=session["amount_total"],
            currency=session["currency"],
            customer=customer["id"] if customer else None,
            card=card,
            outcome=outcome,
            metadata=private["payment_metadata"],
            email=email,
        )
        store.record_event("charge.pending" if is_async else "charge.succeeded", charge)
        store.record_event(
            "payment_intent.processing" if is_async else "payment_intent.succeeded", intent
        )
        session["payment_intent"] = intent["id"]
    if is_async:
        private["settle"] = card["behaviour"] == "async_succeed"
    session.update(
        status="complete",
        payment_status="unpaid" if is_async else "paid",
        customer=customer["id"] if customer else None,
        customer_details=_customer_details(email) or session["customer_details"],
        url=None,
    )
    store.record_event("checkout.session.completed", session)


def _customer_for(store: Store, session: StripeObject, *, email: str | None) -> StripeObject | None:
    if session["customer"]:
        return store.get("customer", session["customer"])
    if session["mode"] == "payment" and session["customer_creation"] != "always":
        return None
    customer = new_customer(store, email=email, name=None, metadata={}, extra={})
    store.record_event("customer.created", customer)
    return customer


def settle(store: Store, session: StripeObject) -> StripeObject:
    """Clear (or bounce) a session's asynchronous payment now; a no-op once settled."""
    private = store.private_of(session["id"])
    succeeded = private.pop("settle", None)
    if succeeded is None:
        return session
    if session["mode"] == "subscription":
        subscription = store.get("subscription", session["subscription"])
        settle_first_invoice(store, subscription, succeeded=succeeded)
    else:
        intent = store.get("payment_intent", session["payment_intent"])
        charge = store.get("charge", intent["latest_charge"])
        settle_charge(intent, charge, succeeded=succeeded)
        store.record_event("charge.succeeded" if succeeded else "charge.failed", charge)
        store.record_event(
            "payment_intent.succeeded" if succeeded else "payment_intent.payment_failed", intent
        )
    if succeeded:
        session["payment_status"] = "paid"
    store.record_event(
        "checkout.session.async_payment_succeeded"
        if succeeded
        else "checkout.session.async_payment_failed",
        session,
    )
    return session


def success_url_for(session: StripeObject) -> str:
    url: str = session["success_url"]
    return url.replace(PLACEHOLDER, session["id"])


def pending_settlements(store: Store) -> list[str]:
    """Sessions whose asynchronous payment has not yet settled (to reschedule after a restart)."""
    return [object_id for object_id, private in store.private.items() if "settle" in private]
