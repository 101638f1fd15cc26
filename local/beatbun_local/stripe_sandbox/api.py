"""The `/v1` routes: the part of Stripe's API Beat Bun's billing code calls."""

from __future__ import annotations

import fnmatch
from typing import Any

from starlette.routing import Route
from stripe.params import (
    ChargeListParams,
    ChargeRetrieveParams,
    CustomerCreateParams,
    CustomerDeleteParams,
    CustomerListParams,
    CustomerRetrieveParams,
    CustomerUpdateParams,
    EventListParams,
    EventRetrieveParams,
    InvoiceListLinesParams,
    InvoiceListParams,
    InvoicePaymentListParams,
    InvoicePayParams,
    InvoiceRetrieveParams,
    PaymentIntentListParams,
    PaymentIntentRetrieveParams,
    PriceListParams,
    PriceRetrieveParams,
    ProductListParams,
    ProductRetrieveParams,
    RefundCreateParams,
    RefundListParams,
    RefundRetrieveParams,
    SubscriptionCancelParams,
    SubscriptionListParams,
    SubscriptionRetrieveParams,
    SubscriptionUpdateParams,
)
from stripe.params.billing_portal import SessionCreateParams as PortalSessionCreateParams
from stripe.params.checkout import (
    SessionCreateParams,
    SessionExpireParams,
    SessionListLineItemsParams,
    SessionListParams,
    SessionRetrieveParams,
)

from beatbun_local.stripe_sandbox import checkout, subscriptions
from beatbun_local.stripe_sandbox.endpoint import Handler, endpoint, paginate
from beatbun_local.stripe_sandbox.objects import new_customer, new_portal_session
from beatbun_local.stripe_sandbox.payments import create_refund
from beatbun_local.stripe_sandbox.sandbox import Sandbox
from beatbun_local.stripe_sandbox.types import Params, StripeObject
from beatbun_local.stripe_sandbox.wire import (
    StripeError,
    metadata,
    missing,
    optional_str,
    required_str,
)

CUSTOMER_FIELDS = ("email", "name", "description", "phone")
# Subscriptions that deleting their customer leaves alone.
ENDED = ("canceled", "incomplete_expired")
# The statuses `GET /v1/subscriptions` lists when not given one: all but canceled.
LISTED_BY_DEFAULT = (
    "active",
    "past_due",
    "unpaid",
    "trialing",
    "incomplete",
    "incomplete_expired",
    "paused",
)


def _retrieve(kind: str) -> Handler:
    def handler(sandbox: Sandbox, params: Params, path: dict[str, str]) -> StripeObject:
        found = sandbox.store.get(kind, path["id"])
        if kind == "checkout.session":
            checkout.expire_if_due(sandbox.store, found)
        return found

    return handler


def _list(kind: str, url: str, filters: tuple[str, ...]) -> Handler:
    """A list handler: newest first, filtered on each of `filters` given as a parameter."""

    def handler(sandbox: Sandbox, params: Params, path: dict[str, str]) -> StripeObject:
        items = list(reversed(sandbox.store.all(kind)))
        for name in filters:
            wanted = params.get(name)
            if wanted is not None:
                items = [item for item in items if _matches(item, name, wanted)]
        return paginate(items, params, url=url)

    return handler


def _matches(item: StripeObject, name: str, wanted: object) -> bool:
    if name == "active":
        return str(item["active"]).lower() == wanted
    if name == "lookup_keys":
        return isinstance(wanted, list) and item["lookup_key"] in wanted
    if name == "type" and item["object"] == "event":
        return fnmatch.fnmatchcase(item["type"], str(wanted))
    if name == "types":
        return isinstance(wanted, list) and item["type"] in wanted
    if name == "price":
        return any(entry["price"]["id"] == wanted for entry in item["items"]["data"])
    return bool(item.get(name) == wanted)


def create_customer(sandbox: Sandbox, params: Params, path: dict[str, str]) -> StripeObject:
    customer = new_customer(
        sandbox.store,
        email=optional_str(params, "email"),
        name=optional_str(params, "name"),
        metadata=metadata(params),
        extra={field: optional_str(params, field) for field in ("description", "phone")},
    )
    sandbox.store.record_event("customer.created", customer)
    return customer


def update_customer(sandbox: Sandbox, params: Params, path: dict[str, str]) -> StripeObject:
    customer = sandbox.store.get("customer", path["id"])
    # An empty string unsets a field, as in Stripe.
    changes: dict[str, Any] = {
        field: optional_str(params, field) or None for field in CUSTOMER_FIELDS if field in params
    }
    if "metadata" in params:
        changes["metadata"] = metadata(params, current=customer["metadata"])
    previous = {key: customer[key] for key, value in changes.items() if customer[key] != value}
    if previous:
        customer.update(changes)
        sandbox.store.record_event("customer.updated", customer, previous_attributes=previous)
    return customer


def delete_customer(sandbox: Sandbox, params: Params, path: dict[str, str]) -> StripeObject:
    """As Stripe: the customer's live subscriptions end at once, then only a stub stays."""
    customer = sandbox.store.get("customer", path["id"])
    if customer.get("deleted"):
        raise missing("customer", path["id"])
    for subscription in sandbox.store.all("subscription"):
        if subscription["customer"] == customer["id"] and subscription["status"] not in ENDED:
            subscriptions.cancel_now(sandbox.store, subscription)
    sandbox.store.record_event("customer.deleted", customer)
    return sandbox.store.add({"id": customer["id"], "object": "customer", "deleted": True})


def create_session(sandbox: Sandbox, params: Params, path: dict[str, str]) -> StripeObject:
    return checkout.create_session(sandbox.store, params)


def list_line_items(sandbox: Sandbox, params: Params, path: dict[str, str]) -> StripeObject:
    session = sandbox.store.get("checkout.session", path["id"])
    items = checkout.line_items_of(sandbox.store, session)["data"]
    return paginate(items, params, url=f"/v1/checkout/sessions/{session['id']}/line_items")


def expire_session(sandbox: Sandbox, params: Params, path: dict[str, str]) -> StripeObject:
    return checkout.expire(sandbox.store, sandbox.store.get("checkout.session", path["id"]))


def create_portal_session(sandbox: Sandbox, params: Params, path: dict[str, str]) -> StripeObject:
    customer_id = required_str(params, "customer")
    sandbox.store.get("customer", customer_id, param="customer", status=400)
    session = new_portal_session(
        sandbox.store,
        customer=customer_id,
        return_url=optional_str(params, "return_url"),
        locale=optional_str(params, "locale"),
    )
    sandbox.store.record_event("billing_portal.session.created", session)
    return session


def list_subscriptions(sandbox: Sandbox, params: Params, path: dict[str, str]) -> StripeObject:
    status = optional_str(params, "status")
    listed = {
        None: LISTED_BY_DEFAULT,
        "all": None,
        "ended": ("canceled", "incomplete_expired"),
    }.get(status, (status,))
    items = [
        subscription
        for subscription in reversed(sandbox.store.all("subscription"))
        if listed is None or subscription["status"] in listed
    ]
    for name in ("customer", "price"):
        if name in params:
            items = [item for item in items if _matches(item, name, params[name])]
    return paginate(items, params, url="/v1/subscriptions")


def update_subscription(sandbox: Sandbox, params: Params, path: dict[str, str]) -> StripeObject:
    subscription = sandbox.store.get("subscription", path["id"])
    return subscriptions.update_subscription(sandbox.store, subscription, params)


def cancel_subscription(sandbox: Sandbox, params: Params, path: dict[str, str]) -> StripeObject:
    return subscriptions.cancel_now(sandbox.store, sandbox.store.get("subscription", path["id"]))


def pay_invoice(sandbox: Sandbox, params: Params, path: dict[str, str]) -> StripeObject:
    invoice = sandbox.store.get("invoice", path["id"])
    if invoice["status"] != "open":
        raise StripeError(f"Invoice is already {invoice['status']}")
    card = subscriptions.card_on_file(sandbox.store, invoice["customer"])
    outcome = subscriptions.OFF_SESSION_OUTCOMES[card["behaviour"]]
    if not subscriptions.pay_invoice(sandbox.store, invoice, card=card, outcome=outcome):
        raise StripeError(
            "Your card was declined.", status=402, code="card_declined", error_type="card_error"
        )
    return invoice


def list_invoice_lines(sandbox: Sandbox, params: Params, path: dict[str, str]) -> StripeObject:
    invoice = sandbox.store.get("invoice", path["id"])
    return paginate(invoice["lines"]["data"], params, url=f"/v1/invoices/{invoice['id']}/lines")


def refund(sandbox: Sandbox, params: Params, path: dict[str, str]) -> StripeObject:
    return create_refund(sandbox.store, params)


def _route(path: str, method: str, handler: Handler, schema: type) -> Route:
    return Route(path, endpoint(handler, schema=schema), methods=[method])


ROUTES = [
    _route(
        "/v1/prices",
        "GET",
        _list("price", "/v1/prices", ("active", "type", "product", "currency", "lookup_keys")),
        PriceListParams,
    ),
    _route("/v1/prices/{id}", "GET", _retrieve("price"), PriceRetrieveParams),
    _route("/v1/products", "GET", _list("product", "/v1/products", ("active",)), ProductListParams),
    _route("/v1/products/{id}", "GET", _retrieve("product"), ProductRetrieveParams),
    _route("/v1/customers", "POST", create_customer, CustomerCreateParams),
    _route(
        "/v1/customers", "GET", _list("customer", "/v1/customers", ("email",)), CustomerListParams
    ),
    _route("/v1/customers/{id}", "GET", _retrieve("customer"), CustomerRetrieveParams),
    _route("/v1/customers/{id}", "POST", update_customer, CustomerUpdateParams),
    _route("/v1/customers/{id}", "DELETE", delete_customer, CustomerDeleteParams),
    _route("/v1/checkout/sessions", "POST", create_session, SessionCreateParams),
    _route(
        "/v1/checkout/sessions",
        "GET",
        _list(
            "checkout.session",
            "/v1/checkout/sessions",
            ("customer", "payment_intent", "subscription", "status"),
        ),
        SessionListParams,
    ),
    _route(
        "/v1/checkout/sessions/{id}", "GET", _retrieve("checkout.session"), SessionRetrieveParams
    ),
    _route(
        "/v1/checkout/sessions/{id}/line_items", "GET", list_line_items, SessionListLineItemsParams
    ),
    _route("/v1/checkout/sessions/{id}/expire", "POST", expire_session, SessionExpireParams),
    _route("/v1/billing_portal/sessions", "POST", create_portal_session, PortalSessionCreateParams),
    _route("/v1/subscriptions", "GET", list_subscriptions, SubscriptionListParams),
    _route("/v1/subscriptions/{id}", "GET", _retrieve("subscription"), SubscriptionRetrieveParams),
    _route("/v1/subscriptions/{id}", "POST", update_subscription, SubscriptionUpdateParams),
    _route("/v1/subscriptions/{id}", "DELETE", cancel_subscription, SubscriptionCancelParams),
    _route(
        "/v1/invoices",
        "GET",
        _list("invoice", "/v1/invoices", ("customer", "subscription", "status")),
        InvoiceListParams,
    ),
    _route("/v1/invoices/{id}", "GET", _retrieve("invoice"), InvoiceRetrieveParams),
    _route("/v1/invoices/{id}/pay", "POST", pay_invoice, InvoicePayParams),
    _route("/v1/invoices/{id}/lines", "GET", list_invoice_lines, InvoiceListLinesParams),
    _route(
        "/v1/invoice_payments",
        "GET",
        _list("invoice_payment", "/v1/invoice_payments", ("invoice",)),
        InvoicePaymentListParams,
    ),
    _route(
        "/v1/charges",
        "GET",
        _list("charge", "/v1/charges", ("customer", "payment_intent")),
        ChargeListParams,
    ),
    _route("/v1/charges/{id}", "GET", _retrieve("charge"), ChargeRetrieveParams),
    _route(
        "/v1/payment_intents",
        "GET",
        _list("payment_intent", "/v1/payment_intents", ("customer",)),
        PaymentIntentListParams,
    ),
    _route(
        "/v1/payment_intents/{id}", "GET", _retrieve("payment_intent"), PaymentIntentRetrieveParams
    ),
    _route("/v1/refunds", "POST", refund, RefundCreateParams),
    _route(
        "/v1/refunds",
        "GET",
        _list("refund", "/v1/refunds", ("charge", "payment_intent")),
        RefundListParams,
    ),
    _route("/v1/refunds/{id}", "GET", _retrieve("refund"), RefundRetrieveParams),
    _route("/v1/events", "GET", _list("event", "/v1/events", ("type", "types")), EventListParams),
    _route("/v1/events/{id}", "GET", _retrieve("event"), EventRetrieveParams),
]
