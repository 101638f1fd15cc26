"""`/api/v1/billing` and `/api/v1/plans`: plan, payments and credit ledger, read-only.

Buying happens on the website (Stripe Checkout); the API only reads. Times are Unix seconds
(UTC) and amounts of money are in the currency's minor unit (cents), as Stripe gives them.
"""

from __future__ import annotations

from fastapi import APIRouter, Query
from pydantic import BaseModel

from beatbun.api.deps import CurrentApiCaller, RuntimeDep
from beatbun.billing.credits import LedgerKind, list_entries, open_wallet
from beatbun.billing.plans import (
    CURRENCY,
    FREE_RETENTION_SECONDS,
    GRACE_SECONDS,
    LICENCES,
    PACKS,
    PLANS,
    LicenceId,
    PackId,
    PlanId,
)
from beatbun.billing.pricing import FORMULA
from beatbun.billing.store import list_payments
from beatbun.billing.subscriptions import current_subscription
from beatbun.i18n import N_

router = APIRouter(prefix="/api/v1")

DEFAULT_PAGE = 50
MAX_PAGE = 200


class PlanRef(BaseModel):
    id: PlanId
    name: str


class BillingSummary(BaseModel):
    plan: PlanRef
    # "free" without a subscription; otherwise Stripe's status ("active", "past_due", ...).
    status: str
    # End of the paid period: the next renewal, or when a canceled plan ends.
    current_period_end: int | None
    cancel_at_period_end: bool
    # Set while a failed renewal is retried: the plan stays in force until then.
    grace_until: int | None
    balance: int
    currency: str


class PaymentItem(BaseModel):
    id: str
    kind: str
    # A plan id for invoices, a credit pack id for one-off payments.
    item: str
    amount: int
    amount_refunded: int
    currency: str
    status: str
    credits: int
    url: str | None
    created_at: int


class PaymentPage(BaseModel):
    items: list[PaymentItem]
    # Send as `before` for the next page; null on the last page.
    next_before: int | None


class LedgerItem(BaseModel):
    id: int
    kind: LedgerKind
    amount: int
    balance_after: int
    # The generation job the entry paid for or refunded, or for a track export the export's
    # id (`/api/v1/tracks/{id}/exports`); the note says which.
    job_id: str | None
    note: str
    created_at: int


class LedgerPage(BaseModel):
    items: list[LedgerItem]
    next_before: int | None


class LicenceInfo(BaseModel):
    id: LicenceId
    name: str
    summary: str


class PlanInfo(BaseModel):
    id: PlanId
    name: str
    monthly_price: int
    monthly_credits: int
    # Tracks of one account made at once.
    concurrency: int
    # Seconds a job is moved ahead in the shared render line.
    head_start_seconds: int
    # How long a new track is kept; null when it is kept as long as the account exists.
    retention_seconds: int | None
    licence: LicenceInfo


class PackInfo(BaseModel):
    id: PackId
    credits: int
    price: int


class BillingRules(BaseModel):
    credits_expire: bool
    # Downgrades and cancellations take effect at the end of the paid period.
    changes_take_effect: str
    # After a failed renewal, the plan stays in force this long while the card is retried.
    grace_seconds: int
    free_retention_seconds: int
    track_price_formula: str


class PlanCatalog(BaseModel):
    currency: str
    plans: list[PlanInfo]
    packs: list[PackInfo]
    rules: BillingRules


@router.get(
    "/billing",
    summary=N_("Your plan and balance"),
    description=N_(
        "Your plan, its status (free, active or past_due), the end of the paid period, whether "
        "it ends then, the grace date after a failed renewal, and your credit balance. Needs "
        "the read scope."
    ),
)
async def read_billing(caller: CurrentApiCaller, runtime: RuntimeDep) -> BillingSummary:
    caller.require("read")
    now = runtime.clock.now()
    wallet = await open_wallet(runtime.db, caller.account.id, now=now)
    subscription = await current_subscription(runtime.db, caller.account.id, now=now)
    plan = PLANS[wallet.plan]
    return BillingSummary(
        plan=PlanRef(id=plan.id, name=plan.name),
        status=subscription.status if subscription else "free",
        current_period_end=subscription.current_period_end if subscription else None,
        cancel_at_period_end=subscription.cancel_at_period_end if subscription else False,
        grace_until=subscription.grace_until if subscription else None,
        balance=wallet.balance,
        currency=CURRENCY,
    )


@router.get(
    "/billing/payments",
    summary=N_("List payments"),
    description=N_(
        "Your invoices and credit pack payments, newest first, with amounts in cents. For the "
        "next page, send before: the next_before of this one. Needs the read scope."
    ),
)
async def read_payments(
    caller: CurrentApiCaller,
    runtime: RuntimeDep,
    limit: int = Query(default=DEFAULT_PAGE, ge=1, le=MAX_PAGE),
    before: int | None = Query(default=None, ge=1, description="next_before of the last page"),
) -> PaymentPage:
    caller.require("read")
    payments = await list_payments(runtime.db, caller.account.id, limit=limit + 1, before=before)
    page = payments[:limit]
    return PaymentPage(
        items=[PaymentItem(**vars(payment)) for payment in page],
        next_before=page[-1].seq if len(payments) > limit else None,
    )


@router.get(
    "/billing/ledger",
    summary=N_("List credit movements"),
    description=N_(
        "Every grant, charge, refund, purchase and adjustment of your credits, newest first, "
        "with the balance after each. For the next page, send before: the next_before of this "
        "one. Needs the read scope."
    ),
)
async def read_ledger(
    caller: CurrentApiCaller,
    runtime: RuntimeDep,
    limit: int = Query(default=DEFAULT_PAGE, ge=1, le=MAX_PAGE),
    before: int | None = Query(default=None, ge=1, description="next_before of the last page"),
) -> LedgerPage:
    caller.require("read")
    entries = await list_entries(runtime.db, caller.account.id, limit=limit + 1, before=before)
    page = entries[:limit]
    return LedgerPage(
        items=[LedgerItem(**{**vars(entry), "note": entry.note.text}) for entry in page],
        next_before=page[-1].id if len(entries) > limit else None,
    )


@router.get(
    "/plans",
    summary=N_("Plans and credit packs"),
    description=N_(
        "Every plan and credit pack with its price in cents, and the rules that come with "
        "them: monthly credits, tracks made at once, priority, how long tracks are kept, the "
        "licence. Needs no API key."
    ),
)
async def read_plans() -> PlanCatalog:
    return PlanCatalog(
        currency=CURRENCY,
        plans=[
            PlanInfo(
                id=plan.id,
                name=plan.name,
                monthly_price=plan.monthly_price_cents,
                monthly_credits=plan.monthly_credits,
                concurrency=plan.concurrency,
                head_start_seconds=plan.head_start_seconds,
                retention_seconds=plan.retention_seconds,
                licence=LicenceInfo(**vars(LICENCES[plan.licence])),
            )
            for plan in PLANS.values()
        ],
        packs=[
            PackInfo(id=pack.id, credits=pack.credits, price=pack.price_cents)
            for pack in PACKS.values()
        ],
        rules=BillingRules(
            credits_expire=False,
            changes_take_effect="period_end",
            grace_seconds=GRACE_SECONDS,
            free_retention_seconds=FREE_RETENTION_SECONDS,
            track_price_formula=FORMULA,
        ),
    )
