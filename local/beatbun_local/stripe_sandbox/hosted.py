"""The pages Stripe hosts: Checkout, the customer portal, invoices and receipts.

Each form POSTs, then the page answers 303 to a GET, or re-renders with the card's error.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from beatbun_local.stripe_sandbox import checkout, pages, subscriptions
from beatbun_local.stripe_sandbox.cards import CardRejected, read_card
from beatbun_local.stripe_sandbox.sandbox import Sandbox, sandbox_of
from beatbun_local.stripe_sandbox.types import StripeObject
from beatbun_local.stripe_sandbox.wire import StripeError

PORTAL_ACTIONS = ("cancel", "renew", "switch")


async def show_checkout(request: Request) -> Response:
    sandbox = sandbox_of(request)
    session = sandbox.store.find("checkout.session", request.path_params["id"])
    if session is None:
        return HTMLResponse(pages.not_found_page("Checkout Session"), status_code=404)
    checkout.expire_if_due(sandbox.store, session)
    sandbox.persist()
    if session["status"] != "open":
        return HTMLResponse(pages.closed_checkout_page(session))
    return HTMLResponse(_checkout_html(sandbox, session))


async def pay_checkout(request: Request) -> Response:
    sandbox = sandbox_of(request)
    session = sandbox.store.find("checkout.session", request.path_params["id"])
    if session is None:
        return HTMLResponse(pages.not_found_page("Checkout Session"), status_code=404)
    checkout.expire_if_due(sandbox.store, session)
    if session["status"] != "open":
        sandbox.persist()
        return HTMLResponse(pages.closed_checkout_page(session))
    form = dict(await request.form())
    try:
        card = read_card(form, now=sandbox.store.now())
        if card["behaviour"] == "fail_later":
            # 0341 saves as a payment method, but its first charge, this one, is declined.
            raise CardRejected("Your card was declined.")
    except CardRejected as rejected:
        # Stripe sends no webhook for a card declined inside Checkout; nothing is created.
        return HTMLResponse(_checkout_html(sandbox, session, error=rejected.message, form=form))
    email = str(form.get("email", "")).strip() or _session_email(sandbox, session)
    checkout.complete(sandbox.store, session, card=card, email=email)
    if card["behaviour"] in ("async_succeed", "async_fail"):
        sandbox.schedule_settlement(session["id"])
    sandbox.persist()
    return RedirectResponse(checkout.success_url_for(session), status_code=303)


def _checkout_html(
    sandbox: Sandbox,
    session: StripeObject,
    *,
    error: str | None = None,
    form: dict[str, Any] | None = None,
) -> str:
    items = sandbox.store.private_of(session["id"])["line_items"]
    return pages.checkout_page(
        session,
        items,
        error=error,
        form=form,
        needs_email=_session_email(sandbox, session) is None,
    )


def _session_email(sandbox: Sandbox, session: StripeObject) -> str | None:
    if session["customer"]:
        email: str | None = sandbox.store.get("customer", session["customer"])["email"]
        return email
    given: str | None = session["customer_email"]
    return given


async def show_portal(request: Request) -> Response:
    sandbox = sandbox_of(request)
    portal = sandbox.store.find("billing_portal.session", request.path_params["id"])
    if portal is None:
        return HTMLResponse(pages.not_found_page("Portal session"), status_code=404)
    return HTMLResponse(_portal_html(sandbox, portal))


async def act_in_portal(request: Request) -> Response:
    """Cancel, renew or switch one of the portal customer's subscriptions."""
    sandbox = sandbox_of(request)
    portal = sandbox.store.find("billing_portal.session", request.path_params["id"])
    subscription = sandbox.store.find("subscription", request.path_params["subscription"])
    action = request.path_params["action"]
    if (
        portal is None
        or subscription is None
        or subscription["customer"] != portal["customer"]
        or action not in PORTAL_ACTIONS
    ):
        return HTMLResponse(pages.not_found_page("Subscription"), status_code=404)
    form = await request.form()
    store = sandbox.store
    try:
        if action in ("cancel", "renew"):
            subscriptions.set_cancel_at_period_end(store, subscription, cancel=action == "cancel")
        else:
            price = store.get("price", str(form.get("price", "")))
            current = subscription["items"]["data"][0]["price"]
            is_upgrade = price["unit_amount"] > current["unit_amount"]
            subscriptions.change_price(
                store,
                subscription,
                price=price,
                proration_behavior="always_invoice" if is_upgrade else "none",
            )
    except StripeError as exc:
        return HTMLResponse(_portal_html(sandbox, portal, error=exc.message), status_code=422)
    sandbox.persist()
    return RedirectResponse(f"/p/session/{portal['id']}", status_code=303)


async def update_payment_method(request: Request) -> Response:
    sandbox = sandbox_of(request)
    portal = sandbox.store.find("billing_portal.session", request.path_params["id"])
    if portal is None:
        return HTMLResponse(pages.not_found_page("Portal session"), status_code=404)
    form = dict(await request.form())
    try:
        card = read_card(form, now=sandbox.store.now())
    except CardRejected as rejected:
        return HTMLResponse(_portal_html(sandbox, portal, error=rejected.message, form=form))
    store = sandbox.store
    customer = store.get("customer", portal["customer"])
    card["payment_method"] = store.new_id("pm")
    store.private_of(customer["id"])["card"] = card
    previous = {"invoice_settings": dict(customer["invoice_settings"])}
    customer["invoice_settings"] = {
        **customer["invoice_settings"],
        "default_payment_method": card["payment_method"],
    }
    store.record_event("customer.updated", customer, previous_attributes=previous)
    # As in Stripe's portal, a new payment method is tried at once on invoices left unpaid.
    subscriptions.pay_open_invoices(store, customer["id"], card=card)
    sandbox.persist()
    return RedirectResponse(f"/p/session/{portal['id']}", status_code=303)


def _portal_html(
    sandbox: Sandbox,
    portal: StripeObject,
    *,
    error: str | None = None,
    form: dict[str, Any] | None = None,
) -> str:
    store = sandbox.store
    customer = store.get("customer", portal["customer"])
    mine = [s for s in reversed(store.all("subscription")) if s["customer"] == customer["id"]]
    return pages.portal_page(
        portal,
        customer=customer,
        subscriptions=mine,
        invoices=[
            invoice
            for invoice in reversed(store.all("invoice"))
            if invoice["customer"] == customer["id"] and invoice["status"] != "draft"
        ],
        card=store.private.get(customer["id"], {}).get("card"),
        switches=[price for price in store.all("price") if price["recurring"]],
        products={product["id"]: product["name"] for product in store.all("product")},
        error=error,
        form=form,
    )


async def show_invoice(request: Request) -> Response:
    sandbox = sandbox_of(request)
    invoice = sandbox.store.find("invoice", request.path_params["id"])
    if invoice is None or invoice["status"] == "draft":
        return HTMLResponse(pages.not_found_page("Invoice"), status_code=404)
    return HTMLResponse(pages.invoice_page(invoice, receipt_url=_receipt_url(sandbox, invoice)))


async def pay_invoice(request: Request) -> Response:
    sandbox = sandbox_of(request)
    invoice = sandbox.store.find("invoice", request.path_params["id"])
    if invoice is None or invoice["status"] != "open":
        return RedirectResponse(f"/i/{request.path_params['id']}", status_code=303)
    form = dict(await request.form())
    try:
        card = read_card(form, now=sandbox.store.now())
    except CardRejected as rejected:
        html = pages.invoice_page(invoice, receipt_url=None, error=rejected.message, form=form)
        return HTMLResponse(html)
    card["payment_method"] = sandbox.store.new_id("pm")
    outcome = subscriptions.OFF_SESSION_OUTCOMES[card["behaviour"]]
    subscriptions.pay_invoice(sandbox.store, invoice, card=card, outcome=outcome)
    sandbox.persist()
    return RedirectResponse(f"/i/{invoice['id']}", status_code=303)


async def invoice_pdf(request: Request) -> Response:
    invoice = sandbox_of(request).store.find("invoice", request.path_params["id"])
    if invoice is None or invoice["status"] == "draft":
        return HTMLResponse(pages.not_found_page("Invoice"), status_code=404)
    return Response(pages.invoice_pdf(invoice), media_type="application/pdf")


def _receipt_url(sandbox: Sandbox, invoice: StripeObject) -> str | None:
    if invoice["status"] != "paid" or not invoice["charge"]:
        return None
    charge = sandbox.store.get("charge", invoice["charge"])
    url: str = charge["receipt_url"]
    return url


async def show_receipt(request: Request) -> Response:
    charge = sandbox_of(request).store.find("charge", request.path_params["id"])
    if charge is None or charge["status"] != "succeeded":
        return HTMLResponse(pages.not_found_page("Receipt"), status_code=404)
    return HTMLResponse(pages.receipt_page(charge))


ROUTES = [
    Route("/c/pay/{id}", show_checkout, methods=["GET"]),
    Route("/c/pay/{id}", pay_checkout, methods=["POST"]),
    Route("/p/session/{id}", show_portal, methods=["GET"]),
    Route("/p/session/{id}/subscriptions/{subscription}/{action}", act_in_portal, methods=["POST"]),
    Route("/p/session/{id}/payment_method", update_payment_method, methods=["POST"]),
    Route("/i/{id}", show_invoice, methods=["GET"]),
    Route("/i/{id}", pay_invoice, methods=["POST"]),
    Route("/i/{id}/pdf", invoice_pdf, methods=["GET"]),
    Route("/r/{id}", show_receipt, methods=["GET"]),
]
