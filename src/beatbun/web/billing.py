"""The billing page: plan and status, the portal hand-off, payments, the credit history and its CSV.

Stripe's customer portal does the rest (card, invoices, plan changes, cancellation); this page
shows what the webhooks have recorded and links there.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from beatbun.accounts.models import Account
from beatbun.api.deps import CurrentAccount, RuntimeDep
from beatbun.billing.checkout import open_portal
from beatbun.billing.credits import LedgerEntry, Note, list_entries
from beatbun.billing.models import Payment, Subscription
from beatbun.billing.plans import PACKS, PLANS
from beatbun.billing.store import find_customer_id, list_payments
from beatbun.billing.subscriptions import current_subscription
from beatbun.errors import Conflict, PaymentProviderError
from beatbun.i18n import N_, translate
from beatbun.runtime.base import Runtime
from beatbun.web.choices import language_of
from beatbun.web.i18n import FAILURE_REASONS
from beatbun.web.money import format_count, format_money
from beatbun.web.pricing import PAYMENTS_UNAVAILABLE, day_of, failure_text, payments_available
from beatbun.web.security import allow_payment_forms
from beatbun.web.shell import wallet_of
from beatbun.web.templates import templates

router = APIRouter()

LEDGER_PAGE_SIZE = 50
# The billing page lists this many payments; Stripe's portal keeps every invoice.
PAYMENTS_SHOWN = 50
# The CSV reads the ledger in pages of this many rows (D1 answers are best kept small).
CSV_PAGE_SIZE = 500
PAYMENT_STATUSES = {
    "paid": N_("Paid"),
    "processing": N_("Processing"),
    "failed": N_("Failed"),
    "refunded": N_("Refunded"),
    "partially_refunded": N_("Partially refunded"),
}

LEDGER_KINDS = {
    "grant": N_("Grant"),
    "debit": N_("Debit"),
    "refund": N_("Refund"),
    "purchase": N_("Purchase"),
    "adjustment": N_("Adjustment"),
}


@dataclass(frozen=True)
class PaymentRow:
    payment: Payment
    date: str
    iso: str
    what: str
    amount: str
    refunded: str | None
    status: str
    link_label: str


@dataclass(frozen=True)
class LedgerRow:
    entry: LedgerEntry
    date: str
    iso: str
    kind: str
    amount: str
    balance_after: str
    note: str


@router.get("/billing", response_class=HTMLResponse)
async def billing(
    request: Request,
    runtime: RuntimeDep,
    account: CurrentAccount,
    before: int | None = Query(default=None, ge=1),
) -> HTMLResponse:
    return await _billing_page(request, runtime, account, before=before)


@router.post("/billing/portal", response_model=None)
async def portal(request: Request, runtime: RuntimeDep, account: CurrentAccount) -> Response:
    """Send the browser to Stripe's customer portal (card, invoices, plan changes)."""
    language = language_of(request)
    if not payments_available(runtime):
        return await _billing_page(
            request, runtime, account, error=translate(language, PAYMENTS_UNAVAILABLE), status=503
        )
    try:
        redirect = await open_portal(runtime, account_id=account.id, language=language)
    except (Conflict, PaymentProviderError) as exc:
        return await _billing_page(
            request, runtime, account, error=failure_text(exc, language), status=exc.status
        )
    return RedirectResponse(redirect.url, status_code=303)


@router.get("/billing/ledger.csv")
async def ledger_csv(runtime: RuntimeDep, account: CurrentAccount) -> Response:
    """Every ledger row, newest first, with ISO 8601 UTC times (the notes stay as recorded)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["id", "date", "kind", "amount", "balance_after", "job_id", "note"])
    before: int | None = None
    while True:
        entries = await list_entries(runtime.db, account.id, limit=CSV_PAGE_SIZE, before=before)
        for entry in entries:
            writer.writerow(
                [
                    entry.id,
                    _iso(entry.created_at),
                    entry.kind,
                    entry.amount,
                    entry.balance_after,
                    entry.job_id or "",
                    entry.note.text,
                ]
            )
        if len(entries) < CSV_PAGE_SIZE:
            break
        before = entries[-1].id
    day = datetime.fromtimestamp(runtime.clock.now(), UTC).strftime("%Y-%m-%d")
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="credits-{day}.csv"'},
    )


def ledger_note(note: Note, language: str) -> str:
    """A ledger note in `language`, its values shown as the reader's language writes them."""
    params = dict(note.params)
    if "plan" in params:
        params["plan"] = translate(language, str(params["plan"]))
    if "credits" in params:
        params["credits"] = format_count(int(params["credits"]), language)
    if "reason" in params:
        reason = FAILURE_REASONS.get(str(params["reason"]))
        params["reason"] = translate(language, reason) if reason else params["reason"]
    return translate(language, note.template, params or None)


async def _billing_page(
    request: Request,
    runtime: Runtime,
    account: Account,
    *,
    before: int | None = None,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    language = language_of(request)
    allow_payment_forms(request)
    now = runtime.clock.now()
    wallet = await wallet_of(request, runtime, account)
    subscription = await current_subscription(runtime.db, account.id, now=now)
    entries = await list_entries(runtime.db, account.id, limit=LEDGER_PAGE_SIZE + 1, before=before)
    payments = await list_payments(runtime.db, account.id, limit=PAYMENTS_SHOWN)
    page: HTMLResponse = templates.TemplateResponse(
        request,
        "billing/billing.html",
        {
            "plan": PLANS[wallet.plan],
            "balance": format_count(wallet.balance, language),
            "subscription": subscription,
            "state": _subscription_state(subscription),
            "period_end": day_of(subscription.current_period_end) if subscription else "",
            "grace_until": day_of(subscription.grace_until) if subscription else "",
            "has_customer": await find_customer_id(runtime.db, account.id) is not None,
            "payments_available": payments_available(runtime),
            "payments": [_payment_row(payment, language) for payment in payments],
            "more_payments": len(payments) == PAYMENTS_SHOWN,
            "ledger": [_ledger_row(entry, language) for entry in entries[:LEDGER_PAGE_SIZE]],
            "older": entries[LEDGER_PAGE_SIZE - 1].id if len(entries) > LEDGER_PAGE_SIZE else None,
            "paged": before is not None,
            "error": error,
        },
        status_code=status,
    )
    return page


def _subscription_state(
    subscription: Subscription | None,
) -> Literal["free", "active", "canceling", "past_due"]:
    if subscription is None:
        return "free"
    if subscription.status == "past_due":
        return "past_due"
    return "canceling" if subscription.cancel_at_period_end else "active"


def _payment_row(payment: Payment, language: str) -> PaymentRow:
    if payment.item in PLANS:
        plan_name = translate(language, PLANS[payment.item].name)
        what = translate(language, N_("%(plan)s plan"), {"plan": plan_name})
    else:
        pack = PACKS.get(payment.item)  # type: ignore[call-overload]
        credits = pack.credits if pack is not None else payment.credits
        what = translate(
            language, N_("%(credits)s credits"), {"credits": format_count(credits, language)}
        )
    refunded = None
    if payment.amount_refunded and payment.status == "partially_refunded":
        refunded = format_money(payment.amount_refunded, payment.currency, language)
    status = PAYMENT_STATUSES.get(payment.status)
    return PaymentRow(
        payment=payment,
        date=_minute(payment.created_at),
        iso=_iso(payment.created_at),
        what=what,
        amount=format_money(payment.amount, payment.currency, language),
        refunded=refunded,
        status=translate(language, status) if status else payment.status,
        link_label=translate(
            language, N_("Invoice") if payment.kind == "invoice" else N_("Receipt")
        ),
    )


def _ledger_row(entry: LedgerEntry, language: str) -> LedgerRow:
    sign = "+" if entry.amount > 0 else "\u2212" if entry.amount < 0 else ""
    return LedgerRow(
        entry=entry,
        date=_minute(entry.created_at),
        iso=_iso(entry.created_at),
        kind=translate(language, LEDGER_KINDS.get(entry.kind, entry.kind)),
        amount=sign + format_count(abs(entry.amount), language),
        balance_after=format_count(entry.balance_after, language),
        note=ledger_note(entry.note, language),
    )


def _minute(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M")


def _iso(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
