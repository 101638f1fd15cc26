"""Buying: the pricing page, the hand-off to Stripe Checkout, and the return from it.

Nothing here grants credits or plans: Stripe's signed webhook does (`billing.webhooks`). The
checkout route starts a Checkout Session and answers 303 to Stripe; the return page shows what
the webhooks have recorded so far, and its script polls that until the checkout settles.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel

from beatbun.accounts.models import Account
from beatbun.api.deps import CurrentAccount, CurrentVisitor, RuntimeDep
from beatbun.billing.checkout import checkout_status, is_settled, start_checkout
from beatbun.billing.credits import get_wallet
from beatbun.billing.models import CheckoutRecord
from beatbun.billing.plans import (
    CURRENCY,
    FREE_RETENTION_SECONDS,
    GRACE_SECONDS,
    LICENCES,
    PACKS,
    PLANS,
    CreditPack,
    Licence,
    Plan,
)
from beatbun.billing.pricing import (
    FLAC_CREDITS,
    MIDI_CREDITS,
    SECONDS_PER_CREDIT,
    STEM_SECONDS_PER_CREDIT,
    price_in_credits,
)
from beatbun.billing.subscriptions import current_subscription
from beatbun.errors import (
    AppError,
    Conflict,
    InvalidInput,
    NotFound,
    PaymentProviderError,
    PermissionDenied,
)
from beatbun.i18n import N_, translate
from beatbun.runtime.base import Runtime
from beatbun.web.choices import language_of
from beatbun.web.forms import Text
from beatbun.web.i18n import error_text
from beatbun.web.money import format_count, format_money
from beatbun.web.security import allow_payment_forms
from beatbun.web.templates import templates

router = APIRouter()

# What "a track" means on the pricing page: a 30-second instrumental.
SAMPLE_TRACK_SECONDS = 30
DAY = 86400
PAYMENTS_UNAVAILABLE = N_(
    "Payments are not available yet. Prices are shown so you can plan ahead; you cannot buy a"
    " plan or credits right now, and nothing is charged."
)

PROVIDER_TROUBLE = N_(
    "Our payment provider could not be reached. Nothing was charged; please try again in a moment."
)

STILL_WAITING = N_(
    "This page updates by itself. You can also leave it: nothing is lost, and we add what you"
    " bought as soon as Stripe confirms the payment."
)

_PLAN_MESSAGES = {
    "open": N_("Payment received, activating your %(plan)s plan…"),
    "processing": N_(
        "Your payment is being processed by your bank; we will activate your %(plan)s plan"
        " when it clears."
    ),
    "fulfilled": N_("Done: your %(plan)s plan is active."),
    "failed": N_("The payment failed; nothing was charged."),
}

_PACK_MESSAGES = {
    "open": N_("Payment received, adding %(credits)s credits…"),
    "processing": N_(
        "Your payment is being processed by your bank; we will add your %(credits)s credits"
        " when it clears."
    ),
    "fulfilled": N_("Done: %(credits)s credits were added."),
    "failed": N_("The payment failed; nothing was charged."),
}

ReturnStatus = Literal["open", "processing", "fulfilled", "failed"]


class CheckoutProgress(BaseModel):
    """What the return page shows, for its script to update itself without a reload."""

    status: ReturnStatus
    settled: bool
    message: str
    detail: str
    balance: int | None
    plan: str


@dataclass(frozen=True)
class PlanCard:
    plan: Plan
    licence: Licence
    price: str
    credits: str
    tracks: str
    per_hundred: str | None
    retention_days: int | None
    head_start_minutes: int
    is_current: bool
    # What its button does: pay at Stripe, change in the portal, sign up first, or nothing.
    action: Literal["checkout", "portal", "signup", "none"]


@dataclass(frozen=True)
class PackCard:
    pack: CreditPack
    credits: str
    price: str
    per_hundred: str


@router.get("/pricing", response_class=HTMLResponse)
async def pricing(
    request: Request, runtime: RuntimeDep, visitor: CurrentVisitor, canceled: str = ""
) -> HTMLResponse:
    return await _pricing_page(request, runtime, visitor.full_account, canceled=bool(canceled))


@router.post("/billing/checkout", response_model=None)
async def checkout(
    request: Request, runtime: RuntimeDep, account: CurrentAccount, item: Text = ""
) -> Response:
    """Start a Stripe Checkout for a plan or a credit pack and send the browser there."""
    language = language_of(request)
    if not payments_available(runtime):
        return await _pricing_page(
            request, runtime, account, error=translate(language, PAYMENTS_UNAVAILABLE), status=503
        )
    try:
        redirect = await start_checkout(runtime, account=account, item=item, language=language)
    except (InvalidInput, PermissionDenied, Conflict, PaymentProviderError) as exc:
        return await _pricing_page(
            request, runtime, account, error=failure_text(exc, language), status=exc.status
        )
    return RedirectResponse(redirect.url, status_code=303)


@router.get("/billing/return", response_class=HTMLResponse)
async def billing_return(
    request: Request, runtime: RuntimeDep, account: CurrentAccount, session_id: str = ""
) -> HTMLResponse:
    """Where Stripe sends people after paying: the checkout as the webhooks have left it."""
    record = await _checkout_of(runtime, account, session_id)
    progress = await _progress(runtime, record, language_of(request))
    page: HTMLResponse = templates.TemplateResponse(
        request, "billing/return.html", {"record": record, "progress": progress}
    )
    return page


@router.get("/billing/return/status")
async def billing_return_status(
    request: Request, runtime: RuntimeDep, account: CurrentAccount, session_id: str = ""
) -> CheckoutProgress:
    """The return page's state as JSON, for its script to poll until the checkout settles."""
    record = await _checkout_of(runtime, account, session_id)
    return await _progress(runtime, record, language_of(request))


def payments_available(runtime: Runtime) -> bool:
    """Without a Stripe key nobody can pay; the pages say so instead of failing at the click."""
    return bool(runtime.settings.stripe_secret_key)


def failure_text(error: AppError, language: str) -> str:
    """What a page says when buying failed; a provider failure is named as such."""
    if isinstance(error, PaymentProviderError):
        return translate(language, PROVIDER_TROUBLE)
    return error_text(error, language)


def day_of(timestamp: int | None) -> str:
    """A day as ISO 8601 (UTC), readable in every language we speak."""
    if timestamp is None:
        return ""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")


async def _pricing_page(
    request: Request,
    runtime: Runtime,
    account: Account | None,
    *,
    canceled: bool = False,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    language = language_of(request)
    allow_payment_forms(request)
    current_plan, subscription = None, None
    if account is not None:
        now = runtime.clock.now()
        current_plan = (await get_wallet(runtime.db, account.id)).plan
        subscription = await current_subscription(runtime.db, account.id, now=now)
    cards = [
        _plan_card(plan, language, current=current_plan, subscribed=subscription is not None)
        for plan in PLANS.values()
    ]
    page: HTMLResponse = templates.TemplateResponse(
        request,
        "billing/pricing.html",
        {
            "plans": cards,
            "seconds_per_credit": SECONDS_PER_CREDIT,
            "packs": [_pack_card(pack, language) for pack in PACKS.values()],
            "logged_in": account is not None,
            "subscription": subscription,
            "ends_on": day_of(subscription.current_period_end) if subscription else "",
            "payments_available": payments_available(runtime),
            "canceled": canceled,
            "error": error,
            "free_days": FREE_RETENTION_SECONDS // DAY,
            "grace_days": GRACE_SECONDS // DAY,
            "sample_seconds": SAMPLE_TRACK_SECONDS,
            "export_prices": {
                "flac": FLAC_CREDITS,
                "midi": MIDI_CREDITS,
                "stem_seconds": STEM_SECONDS_PER_CREDIT,
            },
        },
        status_code=status,
    )
    return page


def _plan_card(plan: Plan, language: str, *, current: str | None, subscribed: bool) -> PlanCard:
    sample = price_in_credits(duration_seconds=SAMPLE_TRACK_SECONDS, has_lyrics=False)
    is_current = plan.id == current
    if current is None:
        action: Literal["checkout", "portal", "signup", "none"] = "signup"
    elif is_current:
        action = "none"
    elif subscribed:
        # Changing or ending a plan happens in Stripe's portal, so nobody pays twice.
        action = "portal"
    else:
        action = "checkout" if plan.is_paid else "none"
    retention = plan.retention_seconds
    return PlanCard(
        plan=plan,
        licence=LICENCES[plan.licence],
        price=format_money(plan.monthly_price_cents, CURRENCY, language),
        credits=format_count(plan.monthly_credits, language),
        tracks=format_count(plan.monthly_credits // sample, language),
        per_hundred=(
            _per_hundred(plan.monthly_price_cents, plan.monthly_credits, language)
            if plan.is_paid
            else None
        ),
        retention_days=None if retention is None else retention // DAY,
        head_start_minutes=plan.head_start_seconds // 60,
        is_current=is_current,
        action=action,
    )


def _pack_card(pack: CreditPack, language: str) -> PackCard:
    return PackCard(
        pack=pack,
        credits=format_count(pack.credits, language),
        price=format_money(pack.price_cents, CURRENCY, language),
        per_hundred=_per_hundred(pack.price_cents, pack.credits, language),
    )


def _per_hundred(cents: int, credits: int, language: str) -> str:
    # Rounded half up to the cent: 1,200 cents for 500 credits is 240 cents per hundred.
    return format_money((cents * 100 * 2 + credits) // (credits * 2), CURRENCY, language)


async def _checkout_of(runtime: Runtime, account: Account, session_id: str) -> CheckoutRecord:
    if not session_id:
        raise NotFound(
            N_("Checkout '%(id)s' not found."), code="checkout_not_found", params={"id": session_id}
        )
    return await checkout_status(runtime, account_id=account.id, session_id=session_id)


async def _progress(runtime: Runtime, record: CheckoutRecord, language: str) -> CheckoutProgress:
    """What to tell the person about a checkout; never grants anything."""
    is_plan = record.mode == "subscription"
    params: dict[str, object] = {}
    if is_plan and record.item in PLANS:
        params["plan"] = translate(language, PLANS[record.item].name)
    elif record.item in PACKS:
        params["credits"] = format_count(PACKS[record.item].credits, language)
    messages = _PLAN_MESSAGES if "plan" in params else _PACK_MESSAGES
    balance: int | None = None
    detail = ""
    if record.status == "fulfilled":
        wallet = await get_wallet(runtime.db, record.account_id)
        balance = wallet.balance
        detail = translate(
            language,
            N_("Your balance is now %(balance)s credits."),
            {"balance": format_count(balance, language)},
        )
    elif not is_settled(record.status):
        detail = translate(language, STILL_WAITING)
    return CheckoutProgress(
        status=record.status,
        settled=is_settled(record.status),
        message=translate(language, messages[record.status], params or None),
        detail=detail,
        balance=balance,
        plan=record.item if "plan" in params else "",
    )
