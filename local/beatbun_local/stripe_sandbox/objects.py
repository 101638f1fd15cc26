"""Stripe-shaped objects, field for field as stripe-python 16's classes declare them.

Fields Stripe dropped in API version 2025-03-31.basil (an invoice's `subscription`, `charge`,
`payment_intent` and `paid`, a subscription's top-level period, a charge's `invoice`, an invoice
line's `price`/`plan`/`proration`) are kept for older readers unless the sandbox runs with
`legacy_fields=False`; `LEGACY_FIELDS` lists them so `strip_legacy` can take them out.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime
from typing import Any

from beatbun_local.stripe_sandbox.store import Store
from beatbun_local.stripe_sandbox.types import StripeObject

BUSINESS_NAME = "Beat Bun"
# The catalogue's fixed creation time (2025-01-01), so its objects are identical on every start.
CATALOGUE_CREATED = 1_735_689_600
# (price id, product id, product name, unit amount in cents, recurring monthly?)
CATALOGUE = (
    ("price_creator_monthly", "prod_creator", "Creator", 900, True),
    ("price_pro_monthly", "prod_pro", "Pro", 2400, True),
    ("price_pack_small", "prod_pack_small", "Small credit pack", 300, False),
    ("price_pack_medium", "prod_pack_medium", "Medium credit pack", 1200, False),
    ("price_pack_large", "prod_pack_large", "Large credit pack", 3000, False),
)
LEGACY_FIELDS = {
    "invoice": ("subscription", "charge", "payment_intent", "paid"),
    "subscription": ("current_period_start", "current_period_end"),
    "charge": ("invoice",),
    "line_item": ("price", "plan", "proration", "subscription_item"),
}


def seed_catalogue(store: Store) -> None:
    for price_id, product_id, name, amount, recurring in CATALOGUE:
        store.add(
            {
                "id": product_id,
                "object": "product",
                "active": True,
                "created": CATALOGUE_CREATED,
                "default_price": price_id,
                "description": None,
                "images": [],
                "livemode": False,
                "marketing_features": [],
                "metadata": {},
                "name": name,
                "package_dimensions": None,
                "shippable": None,
                "statement_descriptor": None,
                "tax_code": None,
                "type": "service",
                "unit_label": None,
                "updated": CATALOGUE_CREATED,
                "url": None,
            }
        )
        store.add(
            {
                "id": price_id,
                "object": "price",
                "active": True,
                "billing_scheme": "per_unit",
                "created": CATALOGUE_CREATED,
                "currency": "eur",
                "custom_unit_amount": None,
                "livemode": False,
                "lookup_key": price_id.removeprefix("price_"),
                "metadata": {},
                "nickname": None,
                "product": product_id,
                "recurring": {
                    "interval": "month",
                    "interval_count": 1,
                    "meter": None,
                    "trial_period_days": None,
                    "usage_type": "licensed",
                }
                if recurring
                else None,
                "tax_behavior": "unspecified",
                "tiers_mode": None,
                "transform_quantity": None,
                "type": "recurring" if recurring else "one_time",
                "unit_amount": amount,
                "unit_amount_decimal": str(amount),
            }
        )


def plan_of(price: StripeObject) -> StripeObject:
    """The legacy Plan view of a recurring price, which items and lines still carry."""
    return {
        "id": price["id"],
        "object": "plan",
        "active": price["active"],
        "amount": price["unit_amount"],
        "amount_decimal": price["unit_amount_decimal"],
        "billing_scheme": "per_unit",
        "created": price["created"],
        "currency": price["currency"],
        "interval": price["recurring"]["interval"],
        "interval_count": price["recurring"]["interval_count"],
        "livemode": False,
        "metadata": {},
        "meter": None,
        "nickname": None,
        "product": price["product"],
        "tiers_mode": None,
        "transform_usage": None,
        "trial_period_days": None,
        "usage_type": "licensed",
    }


def new_customer(
    store: Store,
    *,
    email: str | None,
    name: str | None,
    metadata: dict[str, str],
    extra: dict[str, Any],
) -> StripeObject:
    return store.add(
        {
            "id": store.new_id("cus", length=14),
            "object": "customer",
            "address": None,
            "balance": 0,
            "business_name": None,
            "created": store.now(),
            "currency": None,
            "customer_account": None,
            "default_source": None,
            "delinquent": False,
            "description": None,
            "discount": None,
            "email": email,
            "individual_name": None,
            "invoice_prefix": store.new_id("x", length=8)[2:].upper(),
            "invoice_settings": {
                "custom_fields": None,
                "default_payment_method": None,
                "footer": None,
                "rendering_options": None,
            },
            "livemode": False,
            "metadata": metadata,
            "name": name,
            "next_invoice_sequence": 1,
            "phone": None,
            "preferred_locales": [],
            "shipping": None,
            "tax_exempt": "none",
            "test_clock": None,
            **extra,
        }
    )


def new_payment_intent(
    store: Store,
    *,
    amount: int,
    currency: str,
    customer: str | None,
    metadata: dict[str, str],
    description: str | None,
    status: str,
) -> StripeObject:
    intent_id = store.new_id("pi")
    return store.add(
        {
            "id": intent_id,
            "object": "payment_intent",
            "amount": amount,
            "amount_capturable": 0,
            "amount_details": {"tip": {}},
            "amount_received": amount if status == "succeeded" else 0,
            "application": None,
            "application_fee_amount": None,
            "automatic_payment_methods": None,
            "canceled_at": None,
            "cancellation_reason": None,
            "capture_method": "automatic_async",
            "client_secret": f"{intent_id}_secret_{store.new_id('s')[2:]}",
            "confirmation_method": "automatic",
            "created": store.now(),
            "currency": currency,
            "customer": customer,
            "customer_account": None,
            "description": description,
            "last_payment_error": None,
            "latest_charge": None,
            "livemode": False,
            "metadata": metadata,
            "next_action": None,
            "on_behalf_of": None,
            "payment_method": None,
            "payment_method_configuration_details": None,
            "payment_method_options": {},
            "payment_method_types": ["card"],
            "processing": None,
            "receipt_email": None,
            "review": None,
            "setup_future_usage": None,
            "shipping": None,
            "source": None,
            "statement_descriptor": None,
            "statement_descriptor_suffix": None,
            "status": status,
            "transfer_data": None,
            "transfer_group": None,
        }
    )


def new_charge(
    store: Store,
    intent: StripeObject,
    *,
    card: dict[str, Any],
    status: str,
    invoice: str | None,
    billing_email: str | None,
) -> StripeObject:
    """A charge for `intent`, paid by `card` (`last4`, `exp_month`, `exp_year`, `payment_method`)."""
    charge_id = store.new_id("ch")
    succeeded = status == "succeeded"
    charge = store.add(
        {
            "id": charge_id,
            "object": "charge",
            "amount": intent["amount"],
            "amount_captured": intent["amount"] if succeeded else 0,
            "amount_refunded": 0,
            "application": None,
            "application_fee": None,
            "application_fee_amount": None,
            "balance_transaction": store.new_id("txn") if succeeded else None,
            "billing_details": {
                "address": None,
                "email": billing_email,
                "name": card.get("name"),
                "phone": None,
                "tax_id": None,
            },
            "calculated_statement_descriptor": BUSINESS_NAME.upper(),
            "captured": succeeded,
            "created": store.now(),
            "currency": intent["currency"],
            "customer": intent["customer"],
            "description": intent["description"],
            "disputed": False,
            "failure_balance_transaction": None,
            "failure_code": None,
            "failure_message": None,
            "fraud_details": {},
            "invoice": invoice,
            "livemode": False,
            "metadata": dict(intent["metadata"]),
            "on_behalf_of": None,
            "outcome": {
                "advice_code": None,
                "network_advice_code": None,
                "network_decline_code": None,
                "network_status": "approved_by_network",
                "reason": None,
                "risk_level": "normal",
                "risk_score": 20,
                "seller_message": "Payment complete.",
                "type": "authorized",
            },
            "paid": succeeded,
            "payment_intent": intent["id"],
            "payment_method": card["payment_method"],
            "payment_method_details": {
                "card": {
                    "amount_authorized": intent["amount"],
                    "brand": "visa",
                    "checks": {
                        "address_line1_check": None,
                        "address_postal_code_check": None,
                        "cvc_check": "pass",
                    },
                    "country": "US",
                    "exp_month": card["exp_month"],
                    "exp_year": card["exp_year"],
                    "fingerprint": f"sandbox{card['last4']}",
                    "funding": "credit",
                    "installments": None,
                    "last4": card["last4"],
                    "mandate": None,
                    "network": "visa",
                    "three_d_secure": None,
                    "wallet": None,
                },
                "type": "card",
            },
            "radar_options": {},
            "receipt_email": billing_email,
            "receipt_number": None,
            "receipt_url": f"{store.public_url}/r/{charge_id}",
            "refunded": False,
            "review": None,
            "shipping": None,
            "source": None,
            "source_transfer": None,
            "statement_descriptor": None,
            "statement_descriptor_suffix": None,
            "status": status,
            "transfer_data": None,
            "transfer_group": None,
        }
    )
    intent["latest_charge"] = charge_id
    intent["payment_method"] = card["payment_method"]
    return charge


def new_portal_session(
    store: Store, *, customer: str, return_url: str | None, locale: str | None
) -> StripeObject:
    session_id = store.new_id("bps")
    return store.add(
        {
            "id": session_id,
            "object": "billing_portal.session",
            "configuration": "bpc_sandbox_default",
            "created": store.now(),
            "customer": customer,
            "customer_account": None,
            "flow": None,
            "livemode": False,
            "locale": locale,
            "on_behalf_of": None,
            "return_url": return_url,
            "url": f"{store.public_url}/p/session/{session_id}",
        }
    )


def list_object(data: list[StripeObject], *, url: str, has_more: bool = False) -> StripeObject:
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


def add_month(moment: int, *, anchor: int) -> int:
    """One calendar month after `moment`, on the anchor's day where the month has it (Jan 31 → Feb 28)."""
    when = datetime.fromtimestamp(moment, tz=UTC)
    anchor_day = datetime.fromtimestamp(anchor, tz=UTC).day
    year, month = (when.year + 1, 1) if when.month == 12 else (when.year, when.month + 1)
    day = min(anchor_day, calendar.monthrange(year, month)[1])
    return int(when.replace(year=year, month=month, day=day).timestamp())


def strip_legacy(value: Any) -> Any:
    """A copy of `value` without the fields the current API version no longer has."""
    if isinstance(value, list):
        return [strip_legacy(item) for item in value]
    if not isinstance(value, dict):
        return value
    kind = value.get("object")
    if isinstance(kind, dict):
        # An event's `data`: its previous_attributes lose what its object loses.
        kind = kind.get("object")
    dropped = LEGACY_FIELDS.get(kind, ()) if isinstance(kind, str) else ()
    stripped = {key: strip_legacy(item) for key, item in value.items() if key not in dropped}
    if isinstance(stripped.get("previous_attributes"), dict):
        stripped["previous_attributes"] = {
            key: item for key, item in stripped["previous_attributes"].items() if key not in dropped
        }
    return stripped
