"""The plan rules: what each plan costs and gives, and the credit packs sold one at a time.

Every other domain reads a plan's numbers from here (the monthly grant, the queue's concurrency
and head start, how long tracks are kept, the licence a track gets); nothing else knows them.
Prices are in euro cents. Stripe holds the same prices under ids that come from configuration
(`Settings.stripe_prices`); the local Stripe sandbox seeds exactly these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from beatbun.i18n import N_

PlanId = Literal["free", "creator", "pro"]
PackId = Literal["pack_small", "pack_medium", "pack_large"]
# Where a track's audio lives in R2 (`tracks/<retention>/...`); the bucket's lifecycle rule
# deletes `tracks/free/` after 14 days and keeps `tracks/paid/`.
Retention = Literal["free", "paid"]
LicenceId = Literal["personal", "commercial"]

CURRENCY = "eur"
FREE_RETENTION_SECONDS = 14 * 24 * 3600
# After a renewal fails, the plan stays in force this long while Stripe retries the card.
GRACE_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class Plan:
    id: PlanId
    name: str
    monthly_price_cents: int
    monthly_credits: int
    # Tracks of one account rendering at once.
    concurrency: int
    # Seconds a job of this plan is moved ahead in the global render line.
    head_start_seconds: int
    retention: Retention
    licence: LicenceId

    @property
    def is_paid(self) -> bool:
        return self.monthly_price_cents > 0

    @property
    def retention_seconds(self) -> int | None:
        """How long a new track is kept; None when it is kept for as long as the account lives."""
        return FREE_RETENTION_SECONDS if self.retention == "free" else None


@dataclass(frozen=True)
class CreditPack:
    id: PackId
    credits: int
    price_cents: int


@dataclass(frozen=True)
class Licence:
    id: LicenceId
    name: str
    summary: str


PLANS: dict[PlanId, Plan] = {
    "free": Plan(
        id="free",
        name=N_("Free"),
        monthly_price_cents=0,
        monthly_credits=60,
        concurrency=1,
        head_start_seconds=0,
        retention="free",
        licence="personal",
    ),
    "creator": Plan(
        id="creator",
        name=N_("Creator"),
        monthly_price_cents=900,
        monthly_credits=600,
        concurrency=2,
        head_start_seconds=60,
        retention="paid",
        licence="commercial",
    ),
    "pro": Plan(
        id="pro",
        name=N_("Pro"),
        monthly_price_cents=2400,
        monthly_credits=2000,
        concurrency=3,
        head_start_seconds=120,
        retention="paid",
        licence="commercial",
    ),
}
FREE_PLAN = PLANS["free"]
# Upgrades and downgrades compare plans by this order.
PLAN_ORDER: tuple[PlanId, ...] = ("free", "creator", "pro")

PACKS: dict[PackId, CreditPack] = {
    "pack_small": CreditPack(id="pack_small", credits=100, price_cents=300),
    "pack_medium": CreditPack(id="pack_medium", credits=500, price_cents=1200),
    "pack_large": CreditPack(id="pack_large", credits=1500, price_cents=3000),
}

LICENCES: dict[LicenceId, Licence] = {
    "personal": Licence(
        id="personal",
        name=N_("Personal licence"),
        summary=N_(
            "Listen, share and use the track in non-commercial projects. No sale, "
            "advertising, monetised videos or streams, or client work."
        ),
    ),
    "commercial": Licence(
        id="commercial",
        name=N_("Commercial licence"),
        summary=N_(
            "Use the track in commercial work worldwide, for ever: monetised videos and "
            "streams, advertising, games, apps, podcasts and client work. Reselling or "
            "distributing the track on its own, as music, is not allowed."
        ),
    ),
}


def plan_of(plan_id: str) -> Plan:
    """The rules of `plan_id`; raises ValueError for an id no plan has (a bug, not user input)."""
    if plan_id not in PLANS:
        raise ValueError(f"Plan {plan_id!r} does not exist. Expected one of {list(PLANS)}.")
    return PLANS[plan_id]


def rank_of(plan_id: PlanId) -> int:
    return PLAN_ORDER.index(plan_id)
