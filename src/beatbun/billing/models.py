"""What billing keeps about an account: its subscription, checkouts and payments."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from beatbun.billing.plans import PlanId

CheckoutMode = Literal["subscription", "payment"]
CheckoutStatus = Literal["open", "processing", "fulfilled", "failed"]
PaymentKind = Literal["invoice", "top_up"]

# Stripe subscription statuses under which the plan is in force (past_due only within its grace).
LIVE_STATUSES = frozenset({"active", "trialing", "past_due"})


@dataclass(frozen=True)
class Subscription:
    id: str
    account_id: str
    plan: PlanId
    status: str
    current_period_end: int | None
    cancel_at_period_end: bool
    grace_until: int | None
    # The larger plan paid for, kept until `held_until` after a switch to a smaller one.
    held_plan: PlanId | None = None
    held_until: int | None = None

    def plan_in_force(self, now: float) -> PlanId:
        """The plan this subscription gives now: a downgrade waits for the paid period's end."""
        if self.held_plan is not None and self.held_until is not None and now < self.held_until:
            return self.held_plan
        return self.plan

    def is_in_force(self, now: float) -> bool:
        if self.status == "past_due":
            return self.grace_until is None or now < self.grace_until
        return self.status in LIVE_STATUSES


@dataclass(frozen=True)
class CheckoutRecord:
    id: str
    account_id: str
    mode: CheckoutMode
    item: str
    status: CheckoutStatus
    created_at: int


@dataclass(frozen=True)
class Payment:
    id: str
    kind: PaymentKind
    item: str
    amount: int
    currency: str
    status: str
    credits: int
    amount_refunded: int
    url: str | None
    created_at: int
    # Where the payment stands in its account's history: the cursor for the next page.
    seq: int = 0
