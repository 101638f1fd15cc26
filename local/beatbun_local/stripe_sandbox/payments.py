"""PaymentIntents, Charges and Refunds: money moving, and money going back."""

from __future__ import annotations

from typing import Any

from beatbun_local.stripe_sandbox.objects import new_charge, new_payment_intent
from beatbun_local.stripe_sandbox.store import Store
from beatbun_local.stripe_sandbox.types import Params, StripeObject
from beatbun_local.stripe_sandbox.wire import (
    StripeError,
    choice,
    format_amount,
    metadata,
    optional_int,
    optional_str,
)

DECLINE = {
    "code": "card_declined",
    "decline_code": "generic_decline",
    "message": "Your card was declined.",
}
REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")


def charge_card(
    store: Store,
    *,
    amount: int,
    currency: str,
    customer: str | None,
    card: dict[str, Any],
    outcome: str,
    description: str | None = None,
    metadata: dict[str, str] | None = None,
    invoice: str | None = None,
    email: str | None = None,
) -> tuple[StripeObject, StripeObject]:
    """A PaymentIntent and its Charge; `outcome` is `succeeded`, `processing` or `failed`."""
    intent = new_payment_intent(
        store,
        amount=amount,
        currency=currency,
        customer=customer,
        metadata=dict(metadata or {}),
        description=description,
        status="succeeded" if outcome == "succeeded" else "processing",
    )
    charge_status = {"succeeded": "succeeded", "processing": "pending", "failed": "failed"}[outcome]
    charge = new_charge(
        store, intent, card=card, status=charge_status, invoice=invoice, billing_email=email
    )
    if outcome == "failed":
        _fail(intent, charge)
    return intent, charge


def settle_charge(intent: StripeObject, charge: StripeObject, *, succeeded: bool) -> None:
    """Finish a `processing` payment (a bank debit clearing, or bouncing)."""
    if succeeded:
        intent.update(status="succeeded", amount_received=intent["amount"])
        charge.update(
            status="succeeded", paid=True, captured=True, amount_captured=charge["amount"]
        )
    else:
        _fail(intent, charge)


def _fail(intent: StripeObject, charge: StripeObject) -> None:
    charge.update(
        status="failed",
        paid=False,
        captured=False,
        amount_captured=0,
        balance_transaction=None,
        failure_code=DECLINE["code"],
        failure_message=DECLINE["message"],
        outcome={
            **charge["outcome"],
            "network_status": "declined_by_network",
            "reason": DECLINE["decline_code"],
            "risk_level": "normal",
            "seller_message": "The bank did not return any further details with this decline.",
            "type": "issuer_declined",
        },
    )
    intent.update(
        status="requires_payment_method",
        amount_received=0,
        last_payment_error={
            **DECLINE,
            "type": "card_error",
            "charge": charge["id"],
            "doc_url": "https://stripe.com/docs/error-codes/card-declined",
            "payment_method": {"id": charge["payment_method"], "object": "payment_method"},
        },
    )


def create_refund(store: Store, params: Params) -> StripeObject:
    """Refund all that remains of a charge, or `amount` of it; emits `charge.refunded`, `refund.created`."""
    charge = _charge_to_refund(store, params)
    remaining = charge["amount"] - charge["amount_refunded"]
    if charge["refunded"] or remaining == 0:
        raise StripeError(
            f"Charge {charge['id']} has already been refunded.",
            code="charge_already_refunded",
            param="charge",
        )
    amount = optional_int(params, "amount")
    if amount is None:
        amount = remaining
    if amount <= 0:
        raise StripeError(
            "Invalid positive integer", code="parameter_invalid_integer", param="amount"
        )
    if amount > remaining:
        raise StripeError(
            f"Refund amount ({format_amount(amount, charge['currency'])}) is greater than "
            f"unrefunded amount on charge ({format_amount(remaining, charge['currency'])})",
            code="amount_too_large",
            param="amount",
        )
    reason = optional_str(params, "reason")
    if reason is not None:
        choice(params, "reason", REFUND_REASONS, default=reason)
    refund = store.add(
        {
            "id": store.new_id("re"),
            "object": "refund",
            "amount": amount,
            "balance_transaction": store.new_id("txn"),
            "charge": charge["id"],
            "created": store.now(),
            "currency": charge["currency"],
            "customer": charge["customer"],
            "customer_account": None,
            "description": None,
            "destination_details": {
                "card": {
                    "reference": None,
                    "reference_status": "pending",
                    "reference_type": "acquirer_reference_number",
                    "type": "refund",
                },
                "type": "card",
            },
            "metadata": metadata(params),
            "payment_intent": charge["payment_intent"],
            "reason": reason,
            "receipt_number": None,
            "source_transfer_reversal": None,
            "status": "succeeded",
            "transfer_reversal": None,
        }
    )
    previous = {"amount_refunded": charge["amount_refunded"], "refunded": charge["refunded"]}
    charge["amount_refunded"] += amount
    charge["refunded"] = charge["amount_refunded"] == charge["amount"]
    if not charge["refunded"]:
        del previous["refunded"]
    store.record_event("charge.refunded", charge, previous_attributes=previous)
    store.record_event("refund.created", refund)
    return refund


def _charge_to_refund(store: Store, params: Params) -> StripeObject:
    charge_id = optional_str(params, "charge")
    intent_id = optional_str(params, "payment_intent")
    if charge_id and intent_id:
        raise StripeError(
            "You may only specify one of these parameters: charge, payment_intent.", param="charge"
        )
    if charge_id:
        return store.get("charge", charge_id, param="charge", status=400)
    if not intent_id:
        raise StripeError(
            "One of the following params should be provided for this request: payment_intent or charge.",
            code="parameter_missing",
        )
    intent = store.get("payment_intent", intent_id, param="payment_intent", status=400)
    latest = intent["latest_charge"]
    if intent["status"] != "succeeded" or latest is None:
        raise StripeError(
            f"This PaymentIntent ({intent_id}) does not have a successful charge to refund.",
            param="payment_intent",
        )
    return store.get("charge", latest)
