"""The hosted pages' HTML: plain forms, every value escaped, no JavaScript."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from html import escape
from typing import Any

from beatbun_local.stripe_sandbox.cards import BEHAVIOURS, DECLINES
from beatbun_local.stripe_sandbox.objects import BUSINESS_NAME
from beatbun_local.stripe_sandbox.types import StripeObject
from beatbun_local.stripe_sandbox.wire import format_amount

STYLE = """
body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f6f9fc;color:#1a1f36}
main{max-width:34rem;margin:2rem auto;padding:2rem;background:#fff;border-radius:8px}
label{display:block;margin-top:.75rem;font-weight:600}
input{box-sizing:border-box;width:100%;padding:.5rem;font:inherit}
button{margin-top:1rem;padding:.6rem 1.2rem;font:inherit;cursor:pointer}
table{width:100%;border-collapse:collapse}td,th{text-align:left;padding:.25rem 0}
.error{color:#c0123c;font-weight:600}.note{color:#697386;font-size:.875rem}
.sandbox{background:#fff3cd;padding:.25rem .5rem;border-radius:4px;font-size:.8rem}
"""


def _page(title: str, body: str, *, lang: str | None = None) -> str:
    language = escape(lang if lang and lang != "auto" else "en")
    return (
        f'<!doctype html>\n<html lang="{language}">\n<head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>\n"
        f'<body><main><p class="sandbox">Test mode: {escape(BUSINESS_NAME)} sandbox</p>\n'
        f"{body}\n</main></body></html>\n"
    )


def date_text(moment: int) -> str:
    when = datetime.fromtimestamp(moment, tz=UTC)
    return f"{when.day} {when:%B %Y}"


def card_fields(*, error: str | None, form: Mapping[str, Any], submit: str) -> str:
    """The card inputs Stripe's Checkout uses (ids `cardNumber`, `cardExpiry`, `cardCvc`)."""
    invalid = ' aria-invalid="true"' if error else ""
    fields = [
        ("cardNumber", "Card number", "1234 1234 1234 1234", "cc-number", "numeric"),
        ("cardExpiry", "Expiration (MM / YY)", "MM / YY", "cc-exp", "numeric"),
        ("cardCvc", "CVC", "CVC", "cc-csc", "numeric"),
        ("billingName", "Name on card", "", "cc-name", "text"),
    ]
    inputs = "".join(
        f'<label for="{name}">{label}</label><input id="{name}" name="{name}" '
        f'placeholder="{placeholder}" autocomplete="{autocomplete}" inputmode="{mode}" '
        f'value="{escape(str(form.get(name, "")))}" aria-describedby="card-errors"'
        f"{invalid if name != 'billingName' else ''}>"
        for name, label, placeholder, autocomplete, mode in fields
    )
    message = f'<p class="error">{escape(error)}</p>' if error else ""
    return (
        f'<div id="card-errors" role="alert">{message}</div>{inputs}'
        f'<button type="submit">{escape(submit)}</button>'
    )


def _test_cards() -> str:
    rows = "".join(
        f"<li><code>{number[:4]} {number[4:8]} {number[8:12]} {number[12:]}</code>: {what}</li>"
        for number, what in [
            *(
                (number, escape(behaviour.replace("_", " ")))
                for number, behaviour in BEHAVIOURS.items()
            ),
            *((number, escape(message)) for number, message in DECLINES.items()),
        ]
    )
    return f'<details class="note"><summary>Test cards</summary><ul>{rows}</ul></details>'


def checkout_page(
    session: StripeObject,
    items: list[StripeObject],
    *,
    error: str | None = None,
    form: Mapping[str, Any] | None = None,
    needs_email: bool = False,
) -> str:
    form = form or {}
    back = f'<a href="{escape(session["cancel_url"])}">← Back</a>' if session["cancel_url"] else ""
    rows = "".join(
        f"<tr><td>{escape(item['description'])} &times; {item['quantity']}</td>"
        f"<td>{_amount(item['amount_total'], item['currency'], item['price'])}</td></tr>"
        for item in items
    )
    email = (
        '<label for="email">Email</label><input id="email" name="email" type="email" '
        f'autocomplete="email" value="{escape(str(form.get("email", "")))}">'
        if needs_email
        else ""
    )
    total = format_amount(session["amount_total"], session["currency"])
    body = (
        f"{back}<h1>{escape(items[0]['description'])}</h1>"
        f'<section aria-labelledby="summary"><h2 id="summary">Order summary</h2>'
        f"<table>{rows}</table><p>Total due today: <strong>{total}</strong></p></section>"
        f'<section aria-labelledby="payment"><h2 id="payment">Pay with card</h2>'
        f'<form method="post" action="/c/pay/{escape(session["id"])}">{email}'
        f"{card_fields(error=error, form=form, submit='Pay')}</form>{_test_cards()}</section>"
    )
    return _page("Stripe sandbox checkout", body, lang=session["locale"])


def _amount(amount: int, currency: str, price: StripeObject) -> str:
    text = format_amount(amount, currency)
    recurring = price.get("recurring")
    return f"{text} per {recurring['interval']}" if recurring else text


def closed_checkout_page(session: StripeObject) -> str:
    if session["status"] == "complete":
        body = (
            "<h1>This payment is complete</h1>"
            f'<p><a href="{escape(session["success_url"])}">Return to {escape(BUSINESS_NAME)}</a></p>'
        )
    else:
        back = session["cancel_url"] or ""
        body = "<h1>This Checkout Session has expired</h1>" + (
            f'<p><a href="{escape(back)}">← Back</a></p>' if back else ""
        )
    return _page("Stripe sandbox checkout", body, lang=session["locale"])


def portal_page(
    portal: StripeObject,
    *,
    customer: StripeObject,
    subscriptions: list[StripeObject],
    invoices: list[StripeObject],
    card: dict[str, Any] | None,
    switches: list[StripeObject],
    products: Mapping[str, str],
    error: str | None = None,
    form: Mapping[str, Any] | None = None,
) -> str:
    base = f"/p/session/{escape(portal['id'])}"
    plans = (
        "".join(
            _subscription_section(base, subscription, switches=switches, products=products)
            for subscription in subscriptions
        )
        or "<p>No subscriptions.</p>"
    )
    card_text = (
        f"Visa •••• {escape(card['last4'])}, expires {card['exp_month']:02d}/{card['exp_year']}"
        if card
        else "No payment method on file."
    )
    invoice_rows = "".join(
        f"<tr><td>{date_text(invoice['created'])}</td>"
        f"<td>{format_amount(invoice['total'], invoice['currency'])}</td>"
        f"<td>{escape(invoice['status'].capitalize())}</td>"
        f'<td><a href="{escape(invoice["hosted_invoice_url"] or "")}">View</a></td></tr>'
        for invoice in invoices
    )
    back = (
        f'<p><a href="{escape(portal["return_url"])}">Return to {escape(BUSINESS_NAME)}</a></p>'
        if portal["return_url"]
        else ""
    )
    body = (
        f"{back}<h1>{escape(BUSINESS_NAME)}</h1><p>{escape(customer['email'] or '')}</p>"
        f'<section aria-labelledby="plans"><h2 id="plans">Current plan</h2>{plans}</section>'
        f'<section aria-labelledby="method"><h2 id="method">Payment method</h2><p>{card_text}</p>'
        f'<form method="post" action="{base}/payment_method">'
        f"{card_fields(error=error, form=form or {}, submit='Update payment method')}</form>"
        f"{_test_cards()}</section>"
        f'<section aria-labelledby="history"><h2 id="history">Invoice history</h2>'
        f"<table>{invoice_rows}</table></section>"
    )
    return _page("Stripe sandbox customer portal", body, lang=portal["locale"])


def _subscription_section(
    base: str,
    subscription: StripeObject,
    *,
    switches: list[StripeObject],
    products: Mapping[str, str],
) -> str:
    item = subscription["items"]["data"][0]
    price = item["price"]
    action = f"{base}/subscriptions/{escape(subscription['id'])}"
    status = subscription["status"]
    if status == "canceled":
        when = f"Ended {date_text(subscription['ended_at'])}"
    elif subscription["cancel_at_period_end"]:
        when = f"Cancels {date_text(item['current_period_end'])}"
    else:
        when = f"Renews {date_text(item['current_period_end'])}"
    buttons = ""
    if status != "canceled":
        verb = "renew" if subscription["cancel_at_period_end"] else "cancel"
        buttons += (
            f'<form method="post" action="{action}/{verb}"><button type="submit">'
            f"{verb.capitalize()} plan</button></form>"
        )
        buttons += "".join(
            f'<form method="post" action="{action}/switch"><input type="hidden" name="price" '
            f'value="{escape(other["id"])}"><button type="submit">Switch to '
            f"{escape(products[other['product']])}</button></form>"
            for other in switches
            if other["id"] != price["id"]
        )
    return (
        f"<article><h3>{escape(products[price['product']])}</h3>"
        f"<p>{_amount(price['unit_amount'] * item['quantity'], price['currency'], price)}</p>"
        f"<p>Status: {escape(status.replace('_', ' '))}. {when}.</p>{buttons}</article>"
    )


def invoice_page(
    invoice: StripeObject,
    *,
    receipt_url: str | None,
    error: str | None = None,
    form: Mapping[str, Any] | None = None,
) -> str:
    lines = "".join(
        f"<tr><td>{escape(line['description'] or '')}</td>"
        f"<td>{format_amount(line['amount'], line['currency'])}</td></tr>"
        for line in invoice["lines"]["data"]
    )
    links = f'<p><a href="{escape(invoice["invoice_pdf"] or "")}">Download invoice</a></p>'
    if receipt_url:
        links += f'<p><a href="{escape(receipt_url)}">Download receipt</a></p>'
    pay = ""
    if invoice["status"] == "open":
        pay = (
            f'<form method="post" action="/i/{escape(invoice["id"])}">'
            f"{card_fields(error=error, form=form or {}, submit='Pay')}</form>{_test_cards()}"
        )
    body = (
        f"<h1>Invoice {escape(invoice['number'] or invoice['id'])}</h1>"
        f"<p>{escape(BUSINESS_NAME)} · {date_text(invoice['created'])}</p>"
        f"<p>Status: {escape(invoice['status'].capitalize())}</p>"
        f"<table>{lines}</table>"
        f"<p>Total: <strong>{format_amount(invoice['total'], invoice['currency'])}</strong></p>"
        f"{links}{pay}"
    )
    return _page(f"Invoice {invoice['number'] or invoice['id']}", body)


def receipt_page(charge: StripeObject) -> str:
    card = charge["payment_method_details"]["card"]
    refunded = (
        f"<p>Refunded: {format_amount(charge['amount_refunded'], charge['currency'])}</p>"
        if charge["amount_refunded"]
        else ""
    )
    body = (
        f"<h1>Receipt from {escape(BUSINESS_NAME)}</h1>"
        f"<p>Amount paid: <strong>{format_amount(charge['amount'], charge['currency'])}</strong></p>"
        f"<p>Date paid: {date_text(charge['created'])}</p>"
        f"<p>Payment method: Visa &ndash; {escape(card['last4'])}</p>{refunded}"
    )
    return _page(f"Receipt from {BUSINESS_NAME}", body)


def not_found_page(what: str) -> str:
    return _page("Not found", f"<h1>{escape(what)} not found</h1>")


def invoice_pdf(invoice: StripeObject) -> bytes:
    """A one-page PDF of the invoice: text only, built by hand (PDF 1.4, Helvetica)."""
    lines = [
        f"{BUSINESS_NAME} - Invoice {invoice['number'] or invoice['id']}",
        f"Date: {date_text(invoice['created'])}    Status: {invoice['status']}",
        "",
        *(
            f"{line['description']}    {format_amount(line['amount'], line['currency'])}"
            for line in invoice["lines"]["data"]
        ),
        "",
        f"Total: {format_amount(invoice['total'], invoice['currency'])}",
    ]
    text = "".join(
        f"BT /F1 12 Tf 56 {780 - 18 * row} Td ({_pdf_text(line)}) Tj ET\n"
        for row, line in enumerate(lines)
    ).encode("latin-1", errors="replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(text) + text + b"endstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    output = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(output))
        output += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(output)
    output += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    output += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    output += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return output


def _pdf_text(line: str) -> str:
    # The euro sign is 0x80 in WinAnsiEncoding; latin-1 has no euro, so map it by hand.
    return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").replace("€", "\\200")
